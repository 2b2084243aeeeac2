import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OUTCOME, outcomeHolds, unexplained, type PeerOutcomeRow } from '../../src/cli/truthcheck.js';
import { ALL_MISBEHAVIOURS } from '../../src/sim/types.js';

const row = (o: Partial<PeerOutcomeRow>): PeerOutcomeRow => ({ close_reason: 'local-close', misbehaviour: '{}', ready_at: 1, by_command: '{}', ...o });

test('the check knows the expected outcome of every one of the simulator\'s misbehaviour modes', () => {
  assert.is(ALL_MISBEHAVIOURS.length, 16);
  for (const m of ALL_MISBEHAVIOURS) assert.type(OUTCOME[m], 'function', m);
});

/** For each mode: a peers row that shows its outcome, and one that does not. */
const CASES: Record<string, [PeerOutcomeRow, PeerOutcomeRow]> = {
  'bad-magic': [row({ close_reason: 'bad-magic' }), row({})],
  garbage: [row({ close_reason: 'bad-magic' }), row({ close_reason: 'oversize' })],
  oversize: [row({ close_reason: 'oversize' }), row({ close_reason: 'bad-magic' })],
  truncated: [row({ close_reason: 'remote-closed' }), row({})],
  'bad-checksum': [row({ misbehaviour: '{"ERR_WIRE_CHECKSUM":3}' }), row({})],
  'inv-flood': [row({ misbehaviour: '{"ERR_WIRE_TOO_MANY_ITEMS":3}' }), row({})],
  'tiny-flood': [row({ misbehaviour: '{"ERR_WIRE_UNKNOWN_COMMAND":4096}' }), row({})],
  'slow-drip': [row({ ready_at: null, close_reason: 'no-version' }), row({})],
  'no-handshake': [row({ ready_at: null, close_reason: 'no-version' }), row({})],
  'no-verack': [row({ ready_at: null, close_reason: 'handshake-timeout' }), row({ ready_at: null, close_reason: 'no-version' })],
  'checksum-flood': [row({ misbehaviour: '{"ERR_WIRE_CHECKSUM":20000}' }), row({ misbehaviour: '{"ERR_WIRE_CHECKSUM":20000}', close_reason: 'bad-magic' })],
  'inv-storm': [row({ close_reason: 'inv-flood' }), row({})],
  'addr-flood': [row({ by_command: '{"addr":{"msgsIn":1000}}' }), row({ by_command: '{"addr":{"msgsIn":1000}}', close_reason: 'oversize' })],
  'ping-flood': [row({ by_command: '{"ping":{"msgsIn":5},"pong":{"msgsOut":5}}' }), row({ by_command: '{"ping":{"msgsIn":5},"pong":{"msgsOut":4}}' })],
  'command-flood': [row({ misbehaviour: '{"ERR_WIRE_UNKNOWN_COMMAND":5000}' }), row({})],
  'never-reads': [row({ close_reason: 'send-stalled' }), row({})],
};

for (const m of ALL_MISBEHAVIOURS) {
  test(`a ${m} node counts only with its expected outcome`, () => {
    const [good, bad] = CASES[m]!;
    assert.ok(outcomeHolds(m, [good]), 'expected outcome');
    assert.not.ok(outcomeHolds(m, [bad]), 'another outcome');
    assert.not.ok(outcomeHolds(m, []), 'no session at all');
  });
}

test('a node that never completes a handshake must show it in every session', () => {
  assert.not.ok(outcomeHolds('no-handshake', [row({ ready_at: null }), row({ ready_at: 5 })]));
  assert.ok(outcomeHolds('bad-magic', [row({}), row({ close_reason: 'bad-magic' })]), 'one session with the outcome suffices');
});

const truth = {
  nodes: [
    { index: 0, host: '127.1.0.1', port: 9 },
    { index: 1, host: '127.1.0.2', port: 9 },
  ],
  items: [{ id: 7, hash: 'aa', wtxid: 'bb' }],
  announces: [{ node: 0, item: 7 }],
};

test('observations the truth explains pass; others are counted as not in the truth or as duplicates', () => {
  assert.equal(unexplained([['127.1.0.1:9', 'bb', 1, 1n]], truth), { notInTruth: 0, duplicates: 0 });
  assert.equal(unexplained([['127.1.0.1:9', 'bb', 1, 2n]], truth), { notInTruth: 0, duplicates: 1 }, 'recorded twice');
  assert.equal(unexplained([['127.1.0.2:9', 'aa', 1, 1n]], truth), { notInTruth: 1, duplicates: 0 }, 'a node that never announced it');
  assert.equal(unexplained([['127.1.0.1:9', 'cc', 1, 1n]], truth), { notInTruth: 1, duplicates: 0 }, 'an item the truth does not have');
});

test.run();

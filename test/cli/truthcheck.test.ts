/**
 * The demo's truth check (src/cli/truthcheck.ts) on small synthetic inputs: the expected outcome
 * of every misbehaviour mode, the observations the truth does not explain, and the whole verdict
 * (judgeRun) failing for each reason on its own. Test code, main thread.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OUTCOME, outcomeHolds, unexplained, judgeRun, type PeerOutcomeRow, type PeerRow } from '../../src/cli/truthcheck.js';
import { emptyTruth, type Truth } from '../../src/sim/truth.js';
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

// ---------------------------------------------------------------------------------------------
// judgeRun: two honest nodes and one bad-magic node announce one tx to the observer.

function smallRun(): Truth {
  const t = emptyTruth();
  const node = (index: number, misbehaviour: string | null) =>
    ({ e: 'node', index, host: `127.1.0.${index + 1}`, port: 9, userAgent: '/x/', services: '1', startHeight: 0, protocolVersion: 70016, misbehaviour }) as const;
  t.nodes.push(node(0, null), node(1, null), node(2, 'bad-magic'));
  t.items.push({ e: 'item', id: 7, kind: 'tx', hash: 'aa', wtxid: 'bb', origin: 0, t: 90, size: 200 });
  t.announces.push(
    { e: 'announce', node: 0, item: 7, observer: 'o', t: 100, how: 'inv' },
    { e: 'announce', node: 1, item: 7, observer: 'o', t: 110, how: 'inv' },
  );
  return t;
}
const goodObs = (): unknown[][] => [
  ['127.1.0.1:9', 'bb', 101, 1n],
  ['127.1.0.2:9', 'bb', 112, 1n],
];
const goodPeers = (): PeerRow[] => [
  { address: '127.1.0.1:9', ...row({}) },
  { address: '127.1.0.2:9', ...row({}) },
  { address: '127.1.0.3:9', ...row({ close_reason: 'bad-magic' }) },
];

test('judgeRun: a run that matches its truth passes, with its delays', () => {
  const c = judgeRun(smallRun(), goodObs(), goodPeers(), 1000);
  assert.ok(c.ok);
  assert.equal([c.expected, c.observed, c.missing, c.notInTruth, c.duplicates, c.negativeDelays], [2, 2, 0, 0, 0, 0]);
  assert.is(c.sendToReceiveMs.max, 2);
  assert.equal(c.misbehaving, { 'bad-magic': { nodes: 1, counted: 1 } });
});

test('judgeRun fails on a missing announcement', () => {
  const c = judgeRun(smallRun(), goodObs().slice(0, 1), goodPeers(), 1000);
  assert.is(c.missing, 1);
  assert.not.ok(c.ok);
});

test('judgeRun fails on an observation the truth does not have', () => {
  const c = judgeRun(smallRun(), [...goodObs(), ['127.1.0.1:9', 'cc', 150, 1n]], goodPeers(), 1000);
  assert.is(c.notInTruth, 1);
  assert.not.ok(c.ok);
});

test('judgeRun fails on an announcement recorded twice', () => {
  const obs = goodObs();
  obs[0]![3] = 2n;
  const c = judgeRun(smallRun(), obs, goodPeers(), 1000);
  assert.is(c.duplicates, 1);
  assert.not.ok(c.ok);
});

test('judgeRun fails on an announcement received before it was sent (beyond 1 ms of rounding)', () => {
  const obs = goodObs();
  obs[1]![2] = 108;
  const c = judgeRun(smallRun(), obs, goodPeers(), 1000);
  assert.is(c.negativeDelays, 1);
  assert.not.ok(c.ok);
  obs[1]![2] = 109.5;
  assert.ok(judgeRun(smallRun(), obs, goodPeers(), 1000).ok, 'half a millisecond early is clock rounding');
});

test('judgeRun fails when a misbehaving node does not show its outcome, or its mode is unknown', () => {
  const peers = goodPeers();
  peers[2] = { address: '127.1.0.3:9', ...row({}) };
  const c = judgeRun(smallRun(), goodObs(), peers, 1000);
  assert.equal(c.misbehaving, { 'bad-magic': { nodes: 1, counted: 0 } });
  assert.not.ok(c.ok);
  const t = smallRun();
  t.nodes[2] = { ...t.nodes[2]!, misbehaviour: 'a-newer-mode' };
  assert.not.ok(judgeRun(t, goodObs(), goodPeers(), 1000).ok);
});

test('judgeRun: announcements after the stop (less the margin) are not expected', () => {
  const c = judgeRun(smallRun(), goodObs().slice(0, 1), goodPeers(), 105);
  assert.equal([c.expected, c.missing], [1, 0]);
  assert.ok(c.ok);
});

test.run();

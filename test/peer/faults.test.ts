/**
 * The close-reason and fault table (src/peer/faults.ts) against the disconnect-or-count tables of
 * src/transport/README.md, parsed from the markdown: the two cannot disagree.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { CLOSE_POLICY, CloseReason, closePolicy, faultClose, FAULTS, type FaultPolicy } from '../../src/peer/faults.js';
import { Status, statusCode } from '../../src/protocol/errors.js';

/** The repository's src/transport/README.md (from dist/test/peer or test/peer alike). */
const README = new URL(import.meta.url.includes('/dist/') ? '../../../src/transport/README.md' : '../../src/transport/README.md', import.meta.url);

interface Row {
  line: string;
  outcome: string;
  codes: string[];
}

/** Rows of every markdown table whose header has an `outcome` and a `status / code` column. */
function readmeRows(md: string): Row[] {
  const rows: Row[] = [];
  let outcomeAt = -1;
  let codeAt = -1;
  for (const line of md.split('\n')) {
    if (!line.startsWith('|')) {
      outcomeAt = codeAt = -1;
      continue;
    }
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (cells.includes('status / code')) {
      outcomeAt = cells.indexOf('outcome');
      codeAt = cells.indexOf('status / code');
      continue;
    }
    if (codeAt < 0 || outcomeAt < 0 || /^-+$/.test(cells[0] ?? '')) continue;
    const names = [...cells[codeAt]!.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!);
    const codes = new Set(names.map((n) => (n.startsWith('ERR_') ? n : statusCode((Status as Record<string, number>)[n] ?? -1))));
    if (codes.size > 0) rows.push({ line, outcome: cells[outcomeAt]!, codes: [...codes] });
  }
  return rows;
}

/** The policy a README outcome cell states. */
function statedPolicy(outcome: string): FaultPolicy {
  if (/disconnect only during the handshake/.test(outcome)) return 'count, disconnect in handshake';
  if (/fatal|disconnect/.test(outcome)) return 'disconnect';
  return 'count';
}

const rows = readmeRows(readFileSync(README, 'utf8'));

test('the transport README states each wire fault with the policy of the faults table', () => {
  assert.ok(rows.length >= 10, `found ${rows.length} rows`);
  for (const r of rows) {
    for (const code of r.codes) {
      const row = (FAULTS as Record<string, { policy: FaultPolicy } | undefined>)[code];
      assert.ok(row, `${code} (README: ${r.line}) is not in src/peer/faults.ts FAULTS`);
      assert.is(row!.policy, statedPolicy(r.outcome), `${code}: README says "${r.outcome}"`);
    }
  }
});

test('every wire fault of the table is in the transport README', () => {
  const inReadme = new Set(rows.flatMap((r) => r.codes));
  for (const code of Object.keys(FAULTS).filter((c) => c.startsWith('ERR_WIRE_') || c.startsWith('ERR_V2_'))) {
    assert.ok(inReadme.has(code), `${code} is missing from src/transport/README.md`);
  }
});

test('every code statusCode can return for a peer fault is in the table', () => {
  for (const v of Object.values(Status)) if (v !== Status.OK) assert.ok(statusCode(v) in FAULTS, statusCode(v));
});

test('a disconnecting fault names a close reason, a counted one none', () => {
  for (const [code, row] of Object.entries(FAULTS) as [string, { policy: FaultPolicy; close?: string }][]) {
    if (row.policy === 'disconnect') assert.ok(row.close && row.close in CLOSE_POLICY, code);
    else assert.is(row.close, undefined, code);
  }
  assert.is(faultClose('ERR_WIRE_BAD_MAGIC'), 'bad-magic');
  assert.is(faultClose('ERR_V2_AUTH'), 'v2-auth');
});

test('close reasons are kebab-case and each has a policy', () => {
  for (const r of Object.values(CloseReason)) {
    assert.match(r, /^[a-z0-9]+(-[a-z0-9]+)*$/);
    assert.ok(r in CLOSE_POLICY, r);
  }
  assert.is(Object.keys(CLOSE_POLICY).length, Object.values(CloseReason).length);
});

test('faults after the handshake back off; a dead shard or a stop retries at once; anything else retries', () => {
  for (const r of ['bad-magic', 'bad-command', 'oversize', 'inv-flood', 'handshake-out-of-order', 'malformed-handshake', 'send-stalled']) assert.is(closePolicy(r), 'back-off', r);
  assert.is(closePolicy(CloseReason.SHARD_DIED), 'retry-now');
  assert.is(closePolicy(CloseReason.STOP), 'retry-now');
  assert.is(closePolicy(CloseReason.REMOTE_CLOSED), 'retry');
  assert.is(closePolicy('a reason of the user'), 'retry');
});

test.run();

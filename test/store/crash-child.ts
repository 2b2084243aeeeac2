/**
 * Test helper run as a child process by store.test.ts: opens a Store in the directory given as
 * argv[2], appends argv[3] observations, commits them (flush), stages argv[4] more without a
 * commit (run.json names the vantage and run id, as observe's does), prints "ready" and kills itself with SIGKILL: a crash with an open part.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../src/store/index.js';

const dir = process.argv[2]!;
const committed = Number(process.argv[3]);
const uncommitted = Number(process.argv[4]);
const store = await Store.open({ dir, vantage: 'crash', runId: 'R1', flushMs: 3_600_000, flushRows: 1 << 30 });
writeFileSync(join(dir, 'run.json'), JSON.stringify({ vantage: 'crash', runId: 'R1', network: 'main' }));
const hash = (i: number): string => i.toString(16).padStart(64, '0');
for (let i = 0; i < committed; i++) store.appendObservation(1_700_000_000_000 + i, i % 7, `127.0.0.${(i % 7) + 1}:8333`, 'inv', 5, hash(i), 0);
store.appendPeer({
  peer: 1, address: '127.0.0.2:8333', network: 'ipv4', port: 8333, inbound: false, transport: 'v1', user_agent: '/x/', version: 70016, services: '9',
  start_height: 1, connected_at: 1, ready_at: 2, closed_at: 3, close_reason: 'bad-magic', close_detail: null, ping_rtt_ms_min: null,
  ping_rtt_ms_median: null, ping_rtt_ms_max: null, bytes_in: 10, bytes_out: 20, msgs_in: 1, msgs_out: 2, by_command: '{}', misbehaviour: '{"ERR_WIRE_BAD_MAGIC":1}',
});
await store.flush();
for (let i = 0; i < uncommitted; i++) store.appendObservation(1_800_000_000_000 + i, 1, '127.0.0.2:8333', 'inv', 1, hash(i), 1);
process.stdout.write('ready\n');
process.kill(process.pid, 'SIGKILL');

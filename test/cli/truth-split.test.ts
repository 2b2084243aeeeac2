/**
 * The ground truth split per run when several observers share a simulation: a run's connections
 * come from its log's ready lines, keyed with the node's address (one local port can serve two
 * nodes, for two different observers), and each run's truth keeps every record but the
 * announcements to the other runs' connections.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionsOf, splitTruth } from '../../src/cli/truth-split.js';
import { readyLine } from '../../src/cli/observe/log.js';

test('each run gets the announcements to its own connections, the same local port told apart by the node', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'invscope-split-'));
  const runs = ['a', 'b'].map((v) => join(dir, v));
  for (const r of runs) mkdirSync(join(r, 'log'), { recursive: true });
  const line = (msg: string): string => `2026-12-04T21:00:00.000Z DEBUG ${msg}\n`;
  // Run a reached node 0 from local port 5000; run b reached node 1 from that same port, and node 0 from 5001.
  writeFileSync(join(runs[0]!, 'log', 'observe-R-0000.log'), line('started') + line(readyLine(1, '127.1.0.1:18444', '127.0.0.1:5000', '/Satoshi:27.1.0/', 70016)));
  writeFileSync(join(runs[1]!, 'log', 'observe-R-0000.log'), line(readyLine(1, '127.1.0.2:18444', '127.0.0.1:5000', '/Satoshi:27.1.0/', 70016)) + line(readyLine(2, '127.1.0.1:18444', '127.0.0.1:5001', '/x (y): z/', 70016)));
  assert.equal([...connectionsOf(runs[1]!)].sort(), ['127.1.0.1:18444|127.0.0.1:5001', '127.1.0.2:18444|127.0.0.1:5000']);
  const truth = [
    '{"e":"meta","version":1}',
    '{"e":"node","index":0,"host":"127.1.0.1","port":18444,"misbehaviour":null}',
    '{"e":"node","index":1,"host":"127.1.0.2","port":18444,"misbehaviour":null}',
    '{"e":"item","id":0,"kind":"tx","hash":"aa","wtxid":"bb","t":1}',
    '{"e":"announce","node":0,"item":0,"observer":"127.0.0.1:5000","t":2,"how":"inv"}',
    '{"e":"announce","node":1,"item":0,"observer":"127.0.0.1:5000","t":3,"how":"inv"}',
    '{"e":"announce","node":0,"item":0,"observer":"127.0.0.1:5001","t":4,"how":"inv"}',
    '{"e":"announce","node":1,"item":0,"observer":"127.0.0.1:6000","t":5,"how":"inv"}',
  ];
  writeFileSync(join(dir, 'truth.jsonl'), truth.join('\n') + '\n');
  const r = await splitTruth(join(dir, 'truth.jsonl'), runs.map((d) => ({ path: join(d, 'truth.jsonl'), connections: connectionsOf(d) })));
  assert.equal(r, { announces: [1, 2], unattributed: 1 });
  const a = readFileSync(join(runs[0]!, 'truth.jsonl'), 'utf8').trim().split('\n');
  const b = readFileSync(join(runs[1]!, 'truth.jsonl'), 'utf8').trim().split('\n');
  assert.equal(a, [...truth.slice(0, 4), truth[4]]);
  assert.equal(b, [...truth.slice(0, 4), truth[5], truth[6]]);
  rmSync(dir, { recursive: true, force: true });
});

test.run();

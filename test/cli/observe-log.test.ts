import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObserveLog } from '../../src/cli/observe/log.js';
import { BIN, startSimulate } from './children.js';

/** Every test's files, removed whatever the outcome. */
const root = mkdtempSync(join(tmpdir(), 'invscope-log-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

test('ObserveLog: each rotation closes the period\'s file and opens the next number; levels below the minimum are not written', () => {
  const dir = mkdtempSync(join(root, 't-'));
  const log = new ObserveLog(join(dir, 'log'), 'RUN', 'info');
  log.write('info', 'zero');
  log.write('debug', 'not written');
  log.rotate();
  log.write('warn', 'one');
  log.rotate();
  log.close();
  const files = readdirSync(join(dir, 'log')).sort();
  assert.equal(files, ['observe-RUN-0000.log', 'observe-RUN-0001.log', 'observe-RUN-0002.log']);
  assert.match(readFileSync(join(dir, 'log', files[0]!), 'utf8'), /^\S+Z INFO {2}zero\n$/);
  assert.match(readFileSync(join(dir, 'log', files[1]!), 'utf8'), /^\S+Z WARN {2}one\n$/);
  assert.is(readFileSync(join(dir, 'log', files[2]!), 'utf8'), '');
  assert.is(log.failures, 0);
});

test('observe: the log turns with the parts: log NNNN for every part NNNN, in order, the last one ending with the stop', async () => {
  const dir = mkdtempSync(join(root, 't-'));
  const sim = await startSimulate(dir, 20, 5, '127.11.0.0');
  const exited = new Promise<void>((r) => sim.on('exit', () => r()));
  const r = spawnSync(process.execPath, [BIN, 'observe', '--network', 'regtest', '--peers', join(dir, 'nodes.txt'), '--out', join(dir, 'run'), '--duration', '3.5', '--rotate', '1s', '--shards', '1', '--quiet', '--log-level', 'debug'], { encoding: 'utf8', timeout: 60_000 });
  sim.kill('SIGTERM');
  await exited;
  assert.is(r.status, 0, r.stderr);
  const run = JSON.parse(readFileSync(join(dir, 'run', 'run.json'), 'utf8'));
  assert.ok(run.parts.length >= 3, `${run.parts}`);
  const logs = readdirSync(join(dir, 'run', 'log')).sort();
  assert.equal(
    logs,
    run.parts.map((p: string) => p.replace(/^part-(.*)-(\d{4})$/, 'observe-$1-$2.log')),
    'one log per part, the same numbers',
  );
  // Lines in time order across the files: each file holds the lines of its own period.
  let prev = 0;
  for (const f of logs) {
    for (const line of readFileSync(join(dir, 'run', 'log', f), 'utf8').split('\n')) {
      if (line === '') continue;
      const t = Date.parse(line.slice(0, 24));
      assert.ok(t >= prev, `${f}: ${line}`);
      prev = t;
    }
  }
  assert.match(readFileSync(join(dir, 'run', 'log', logs[logs.length - 1]!), 'utf8'), /INFO {2}stopped \(duration\): .*\n$/);
});

test.run();

/**
 * `invscope observe --vantage NAME` (src/cli/observe/options.ts): the default is this host's name
 * with every character other than a letter, digit, '.', '_' or '-' made '-', cut to 64; a name
 * outside 1-64 of those characters is a usage error naming it (exit 2, nothing written). The
 * option parser directly, then the CLI in child processes: one run without --vantage against a
 * small `invscope simulate`, and the bad names. Test process, cold path.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseObserveArgs, type ObserveSettings } from '../../src/cli/observe/options.js';
import { UsageError } from '../../src/cli/decode.js';
import { BIN, startSimulate } from './children.js';

/** The documented default: the host name, other characters as '-', at most 64 characters. */
const DEFAULT_VANTAGE = hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
const BAD = ['', 'eu/1', 'vantage=eu', 'x'.repeat(65), 'eu 1', 'é', '../up', 'a\nb'];

const dir = mkdtempSync(join(tmpdir(), 'invscope-vantage-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const parse = (...args: string[]): ObserveSettings => parseObserveArgs(['--peer', '127.0.0.1:1', '--out', join(dir, 'never'), ...args]) as ObserveSettings;

test('without --vantage: this host\'s name made safe for a partition folder', () => {
  assert.is(parse().vantage, DEFAULT_VANTAGE);
  assert.match(DEFAULT_VANTAGE, /^[A-Za-z0-9._-]{1,64}$/);
  if (/^[A-Za-z0-9._-]{1,64}$/.test(hostname())) assert.is(DEFAULT_VANTAGE, hostname(), 'a safe host name is kept as is');
});

test('--vantage: 1 to 64 letters, digits, . _ - kept as given', () => {
  for (const name of ['eu-1', 'a', 'x'.repeat(64), 'host.example_1', '...']) assert.is(parse('--vantage', name).vantage, name);
});

test('a bad --vantage is a UsageError naming the value', () => {
  for (const bad of BAD) {
    try {
      parse('--vantage', bad);
      assert.unreachable(`${JSON.stringify(bad)} accepted`);
    } catch (e) {
      assert.instance(e, UsageError, JSON.stringify(bad));
      assert.is((e as Error).message, `--vantage takes 1-64 letters, digits, '.', '_' or '-', not ${JSON.stringify(bad)}`);
    }
  }
});

test('the CLI: a bad --vantage exits 2 with the message and writes nothing', () => {
  for (const bad of BAD) {
    const out = join(dir, 'bad');
    const r = spawnSync(process.execPath, [BIN, 'observe', '--peer', '127.0.0.1:1', '--out', out, `--vantage=${bad}`], { encoding: 'utf8', timeout: 20_000 });
    assert.is(r.status, 2, `${JSON.stringify(bad)}: ${r.stderr}`);
    assert.ok(r.stderr.includes(`--vantage takes 1-64 letters, digits, '.', '_' or '-', not ${JSON.stringify(bad)}`), r.stderr);
    assert.not.ok(existsSync(out), `${JSON.stringify(bad)} created nothing`);
  }
});

test('the CLI without --vantage: run.json and the peers and timeline partition folders name the host', async () => {
  const sim = await startSimulate(dir, 3, 7, '127.6.0.0');
  const out = join(dir, 'run');
  const r = spawnSync(process.execPath, [BIN, 'observe', '--network', 'regtest', '--peers', join(dir, 'nodes.txt'), '--out', out, '--duration', '2', '--shards', '1', '--quiet'], { encoding: 'utf8', timeout: 60_000 });
  sim.kill('SIGTERM');
  assert.is(r.status, 0, r.stderr + r.stdout);
  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.is(run.vantage, DEFAULT_VANTAGE);
  assert.is(run.host, hostname());
  for (const table of ['peers', 'timeline']) assert.equal(readdirSync(join(out, table)), [`vantage=${DEFAULT_VANTAGE}`], table);
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';
import { parseArgsMessage, selfDescription } from '../../src/cli/usage.js';
import { parseSimulateArgs } from '../../src/cli/simulate.js';

const BIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const COMMANDS = ['decode', 'connect', 'simulate', 'observe', 'report', 'demo'];

function run(args: string[], input = '') {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

for (const cmd of COMMANDS) {
  test(`invscope ${cmd} --help and -h print the command's own usage with its defaults and exit 0`, () => {
    for (const flag of ['--help', '-h']) {
      const r = run([cmd, flag]);
      assert.is(r.code, 0, `${cmd} ${flag}: ${r.err}`);
      assert.match(r.out, new RegExp(`invscope ${cmd}`), `${cmd} ${flag} names the command`);
      assert.match(r.out, /default|\[[^\]]+\]/, `${cmd} ${flag} states defaults`);
      assert.not.match(r.err, /Unknown option/);
    }
  });

  test(`invscope ${cmd} with an unknown option says which, points at its --help, exit 2`, () => {
    const r = run([cmd, '--frobnicate']);
    assert.is(r.code, 2, r.err);
    assert.is(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err, new RegExp(`^invscope ${cmd}: unknown option --frobnicate \\(see invscope ${cmd} --help\\)$`, 'm'));
  });

  test(`invscope ${cmd} --version prints the package version`, () => {
    const r = run([cmd, '--version']);
    assert.is(r.code, 0, r.err);
    assert.is(r.out.trim(), `invscope ${VERSION}`);
  });
}

test('invscope --version and -V print the version from package.json', () => {
  for (const flag of ['--version', '-V']) {
    const r = run([flag]);
    assert.is(r.code, 0, r.err);
    assert.is(r.out.trim(), `invscope ${VERSION}`);
  }
});

test('an option value that looks like --help after -- is not taken as a request for help', () => {
  assert.is(selfDescription(['--out', 'x', '--', '--help']), null);
  assert.is(selfDescription(['-V']), 'version');
});

test('a missing option value is one line naming the option', () => {
  const m = parseArgsMessage('observe', { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE', message: "Option '--out <value>' argument missing" });
  assert.is(m, 'invscope observe: option --out needs a value (see invscope observe --help)');
  assert.is(parseArgsMessage('observe', { code: 'ERR_OTHER', message: 'x' }), null);
});

test('decode DIR is one line and exit 2, not a stack trace', () => {
  const r = run(['decode', tmpdir()]);
  assert.is(r.code, 2, r.err);
  assert.is(r.err.trim().split('\n').length, 1, r.err);
  assert.match(r.err, /is a directory/);
  assert.not.match(r.err, /internal error|at /);
});

test('decode of an unreadable file is one line and exit 2', () => {
  if (process.getuid?.() === 0) {
    // root reads any file whatever its mode: run the child as nobody, as the observe test does.
    const dir = mkdtempSync(join(tmpdir(), 'invscope-unreadable-'));
    const f = join(dir, 'frames.bin');
    writeFileSync(f, 'f9beb4d9');
    chmodSync(f, 0o000);
    chmodSync(dir, 0o755);
    const r = spawnSync(process.execPath, [BIN, 'decode', f], { encoding: 'utf8', timeout: 30_000, uid: 65534, gid: 65534 });
    rmSync(dir, { recursive: true, force: true });
    assert.is(r.status, 2, r.stderr);
    assert.match(r.stderr, /cannot read .*frames\.bin: EACCES/);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'invscope-unreadable-'));
  const f = join(dir, 'frames.bin');
  writeFileSync(f, 'f9beb4d9');
  chmodSync(f, 0o000);
  const r = run(['decode', f]);
  rmSync(dir, { recursive: true, force: true });
  assert.is(r.code, 2, r.err);
  assert.match(r.err, /cannot read .*frames\.bin: EACCES/);
});

const VERACK = 'f9beb4d976657261636b000000000000000000005df6e0e2';

test('decode takes hex with a 0x prefix', () => {
  const r = run(['decode', '0x' + VERACK]);
  assert.is(r.code, 0, r.err);
  assert.is(JSON.parse(r.out.trim()).command, 'verack');
});

test('decode --command tx decodes a bare payload as RPC getrawtransaction returns it', () => {
  // A one-input one-output tx (version 1): the payload of a tx frame, without the 24-byte header.
  const payload = '010000000107000000000000000000000000000000000000000000000000000000000000000000000000feffffff01e803000000000000015100000000';
  const r = run(['decode', '--command', 'tx', payload]);
  assert.is(r.code, 0, r.err);
  const o = JSON.parse(r.out.trim());
  assert.is(o.command, 'tx');
  assert.is(o.vin, 1);
  assert.is(o.outputs[0].value, '1000');
  const bad = run(['decode', '--command', 'tx', payload.slice(0, 40)]);
  assert.is(bad.code, 1);
  assert.match(JSON.parse(bad.out.trim()).error, /^ERR_WIRE_/);
  const unknown = run(['decode', '--command', 'frob', payload]);
  assert.is(unknown.code, 2);
  assert.match(unknown.err, /--command takes a message command/);
});

test('decode with no input on a terminal prints its usage instead of waiting', () => {
  // script(1) gives the child a terminal; its stdin is at end of file, so a wait would be a hang.
  const r = spawnSync('script', ['-qc', `${process.execPath} ${BIN} decode`, '/dev/null'], { encoding: 'utf8', timeout: 30_000, input: '' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('script(1) from util-linux is needed for this test');
  assert.match(r.stdout, /usage: invscope decode/);
});

test("decode says which network a frame's magic belongs to", () => {
  const regtestVerack = 'fabfb5da' + VERACK.slice(8);
  const r = run(['decode', regtestVerack]);
  assert.is(r.code, 1);
  assert.match(r.err, /the frame has regtest's magic \(fabfb5da\): use --network regtest/);
  assert.is(JSON.parse(r.out.trim()).hint, "the frame has regtest's magic (fabfb5da): use --network regtest");
  const ok = run(['decode', '--network', 'regtest', regtestVerack]);
  assert.is(ok.code, 0, ok.err);
});

test('simulate --time-scale errors state the real range: above 0, at most 10000', () => {
  for (const v of ['0', '-1', '10001']) {
    assert.throws(() => parseSimulateArgs([`--time-scale=${v}`]), (e: Error) => /--time-scale takes a number above 0 and at most 10000, not/.test(e.message));
  }
  assert.is(parseSimulateArgs(["--time-scale", "10000"]).sim.timeScale, 10000);
});

test.run();

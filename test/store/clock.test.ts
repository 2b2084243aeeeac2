/**
 * The host clock's sync state (src/store/clock.ts): each source's output parsed from fixture text
 * (test/fixtures/clock/), and sampleClock's order chrony, timesyncd, adjtimex, else unknown,
 * with stand-in tools on PATH that print those fixtures or fail. Test process, cold path.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAdjtimex, parseChrony, parseTimesyncd, sampleClock } from '../../src/store/clock.js';
import { fixturePath as fixture } from '../helpers.js';

const text = (name: string): string => readFileSync(fixture(join('clock', name)), 'utf8');
const CAT = existsSync('/bin/cat') ? '/bin/cat' : '/usr/bin/cat';

test('chronyc tracking: the system time fast or slow, root delay / 2 + dispersion, the reference, the leap status', () => {
  const s = parseChrony(text('chronyc-tracking.txt'), 7)!;
  assert.equal({ ...s, offsetMs: +s.offsetMs!.toFixed(9), errorMs: +s.errorMs!.toFixed(9) }, {
    time: 7,
    source: 'chrony',
    state: 'synced',
    offsetMs: -0.006523, // 0.000006523 seconds slow
    errorMs: 7.920248, // 0.013639022 / 2 + 0.001100737 seconds
    reference: 'CB00710F (ntp1.example.net)',
  });
  const u = parseChrony(text('chronyc-tracking-unsynced.txt'), 7)!;
  assert.equal([u.state, u.offsetMs, u.reference], ['unsynced', 0, '00000000 ()']);
  assert.is(parseChrony('506 Cannot talk to daemon\n', 7), null, 'no chronyd: not chrony output');
});

test('timedatectl show / show-timesync: NTPSynchronized and the server name; no offset', () => {
  assert.equal(parseTimesyncd(text('timedatectl-show.txt'), text('timedatectl-show-timesync.txt'), 3), {
    time: 3,
    source: 'timesyncd',
    state: 'synced',
    offsetMs: null,
    errorMs: null,
    reference: '0.debian.pool.ntp.org',
  });
  const no = parseTimesyncd(text('timedatectl-show.txt').replace('NTPSynchronized=yes', 'NTPSynchronized=no'), null, 3)!;
  assert.equal([no.state, no.reference], ['unsynced', null]);
  assert.is(parseTimesyncd(text('timedatectl-show-timesync.txt'), null, 3), null, 'no NTPSynchronized: not show output');
});

test('adjtimex --print: STA_UNSYNC, esterror in us, offset in us or in ns under STA_NANO', () => {
  assert.equal(parseAdjtimex(text('adjtimex-print-unsynced.txt'), 1), { time: 1, source: 'adjtimex', state: 'unsynced', offsetMs: 0, errorMs: 16_000, reference: null });
  assert.equal(parseAdjtimex(text('adjtimex-print-nano.txt'), 1), { time: 1, source: 'adjtimex', state: 'synced', offsetMs: -0.123456, errorMs: 1.5, reference: null });
  const micro = text('adjtimex-print-nano.txt').replace('status: 8193', 'status: 1');
  assert.is(parseAdjtimex(micro, 1)!.offsetMs, -123.456, 'without STA_NANO the offset is microseconds');
  assert.is(parseAdjtimex('adjtimex: adjtimex: Operation not permitted\n', 1), null);
  assert.is(parseAdjtimex('status: ok\n', 1), null, 'a status that is not a number is not adjtimex output');
});

/** A PATH of stand-in tools: each prints a fixture and exits 0, or prints a line and exits 1. */
function toolsDir(tools: Record<string, { prints: string } | 'fails'>): string {
  const dir = mkdtempSync(join(tmpdir(), 'invscope-clocktools-'));
  for (const [name, t] of Object.entries(tools)) {
    const body = t === 'fails' ? `echo "cannot talk to the daemon" >&2\nexit 1\n` : `exec ${CAT} '${fixture(join('clock', t.prints))}'\n`;
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}`);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

/** sampleClock with PATH `dir` alone (the tools are looked up on the PATH of the env given). */
async function sampleWith(dir: string): Promise<Awaited<ReturnType<typeof sampleClock>>> {
  try {
    return await sampleClock(() => 42, { ...process.env, PATH: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('sampleClock takes the first source that answers: chrony, then timesyncd, then adjtimex, else unknown', async () => {
  const timedatectl = { prints: 'timedatectl-show.txt' };
  const adjtimex = { prints: 'adjtimex-print-unsynced.txt' };
  const all = await sampleWith(toolsDir({ chronyc: { prints: 'chronyc-tracking.txt' }, timedatectl, adjtimex }));
  assert.equal([all.source, all.state, all.time], ['chrony', 'synced', 42]);
  const noChrony = await sampleWith(toolsDir({ chronyc: 'fails', timedatectl, adjtimex }));
  assert.equal([noChrony.source, noChrony.state], ['timesyncd', 'synced']);
  // timedatectl without systemd (this project's VM) fails: the kernel's state via adjtimex.
  const kernel = await sampleWith(toolsDir({ chronyc: 'fails', timedatectl: 'fails', adjtimex }));
  assert.equal([kernel.source, kernel.state, kernel.errorMs], ['adjtimex', 'unsynced', 16_000]);
  // A tool printing something else is no answer either.
  const odd = await sampleWith(toolsDir({ chronyc: { prints: 'timedatectl-show.txt' }, adjtimex }));
  assert.is(odd.source, 'adjtimex');
  assert.equal(await sampleWith(toolsDir({})), { time: 42, source: 'unknown', state: 'unknown', offsetMs: null, errorMs: null, reference: null });
  assert.equal(await sampleWith(toolsDir({ chronyc: 'fails', timedatectl: 'fails', adjtimex: 'fails' })), { time: 42, source: 'unknown', state: 'unknown', offsetMs: null, errorMs: null, reference: null });
});

test.run();

/**
 * run.json of an observation run: the invscope version, the command and its settings, the host
 * and clock at the start; the stop, counters and parts added at the end. Written atomically.
 * Main thread; cold (twice per run).
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { POOL_DEFAULTS } from '../../pool/index.js';
import { SCHEMA_VERSION, type ClockSample } from '../../store/index.js';
import { OBSERVE_DEFAULTS, type ObserveSettings } from './options.js';

export const VERSION: string = (() => {
  try {
    return JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')).version as string;
  } catch {
    return 'unknown';
  }
})();

/** The settings as run.json and the log record them. */
export function recordedSettings(s: ObserveSettings): Record<string, unknown> {
  return {
    network: s.network.name,
    magic: s.network.magicHex,
    peers: s.peers.length,
    peersFile: s.peersFile,
    dns: s.dns,
    crawl: s.crawl,
    maxPeers: s.maxPeers,
    shards: s.shards,
    listen: s.listen,
    proxy: s.proxy,
    // The mode the pool runs with: the option, else the pool's default.
    transport: s.transport ?? POOL_DEFAULTS.transport,
    durationMs: s.durationMs,
    rotateMs: s.rotateMs,
    itemWindowMs: s.itemWindowMs,
    ringCapacity: OBSERVE_DEFAULTS.ringCapacity,
    testClockShiftMs: s.testClockShiftMs,
  };
}

/** run.json at the start of a run (stopped and counters null until the stop). */
export function startRunInfo(s: ObserveSettings, argv: string[], settings: Record<string, unknown>, run: { started: number; runId: string; clockSync: { atStart: ClockSample; samples: ClockSample[] } }): Record<string, unknown> {
  const { started, runId, clockSync } = run;
  return {
    invscope: VERSION,
    schemaVersion: SCHEMA_VERSION,
    vantage: s.vantage,
    runId,
    command: ['invscope', 'observe', ...argv],
    settings,
    network: s.network.name,
    started,
    stopped: null,
    clock: { source: 'performance.timeOrigin+performance.now', timeOrigin: performance.timeOrigin },
    host: hostname(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    clockSync,
    parts: [],
    counters: null,
  };
}

/** Writes run.json atomically (tmp + rename) so a crash never leaves half a file. */
export function writeRunJson(dir: string, o: unknown): void {
  const f = join(dir, 'run.json');
  try {
    writeFileSync(f + '.tmp', JSON.stringify(o, null, 2) + '\n');
    renameSync(f + '.tmp', f);
  } catch (e) {
    rmSync(f + '.tmp', { force: true });
    throw e;
  }
}

/**
 * CPU cost of the simulator's model alone (no sockets): N nodes at mainnet-like tx rate, with and
 * without the ground truth written to a file. Two modes: `real` runs start() on the real clock
 * for a while (timers and all, as `invscope simulate` runs it); `fast` drives runUntil() on a
 * manual clock as fast as it goes and reports CPU per second of real time the same load would
 * take. Prints figures, asserts nothing.
 *
 *   node dist/bench/sim-model.js [--nodes=10000] [--scale=1] [--seconds=30] [--warmup=20] [--mode=real|fast] [--truth]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimModel } from '../src/sim/model.js';
import { TruthWriter } from '../src/sim/truth.js';

function arg(name: string, def: string): string {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  if (a) return a.slice(name.length + 3);
  return process.argv.includes(`--${name}`) ? 'true' : def;
}

const nodes = Number(arg('nodes', '10000'));
const scale = Number(arg('scale', '1'));
const seconds = Number(arg('seconds', '30'));
const warmup = Number(arg('warmup', '20'));
const mode = arg('mode', 'real');
const withTruth = arg('truth', 'false') === 'true';

const dir = mkdtempSync(join(tmpdir(), 'invscope-sim-bench-'));
const truth = withTruth ? new TruthWriter(join(dir, 'truth.jsonl')) : undefined;

const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const t0 = performance.now();
let clockT = 1.7e12;
const model = new SimModel(
  { nodes, timeScale: scale, ...(mode === 'fast' ? { clock: () => clockT } : {}) },
  truth,
);
const buildMs = performance.now() - t0;
let learns = 0;
model.on('learn', () => {
  learns++;
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  console.log(`model: ${nodes} nodes, timeScale ${scale}, mode ${mode}, truth ${withTruth ? 'file' : 'off'}; built in ${buildMs.toFixed(0)} ms`);
  let c0: number, e0: number, l0: number, w0: number;
  if (mode === 'fast') {
    // Warm-up, then `seconds` of real time worth of model time, as fast as the CPU goes.
    model.runUntil((clockT += warmup * 1000));
    c0 = cpu();
    e0 = model.stats.events;
    l0 = learns;
    w0 = performance.now();
    const step = 100;
    for (let t = 0; t < seconds * 1000; t += step) model.runUntil((clockT += step));
  } else {
    model.start();
    await sleep(warmup * 1000);
    c0 = cpu();
    e0 = model.stats.events;
    l0 = learns;
    w0 = performance.now();
    await sleep(seconds * 1000);
    model.stop();
  }
  const wall = performance.now() - w0;
  const used = cpu() - c0;
  const ev = model.stats.events - e0;
  const ln = learns - l0;
  truth?.flush();
  const mem = process.memoryUsage();
  const st = model.stats;
  console.log(
    JSON.stringify({
      nodes,
      timeScale: scale,
      mode,
      truth: withTruth,
      simulatedRealSeconds: seconds,
      wallMs: Math.round(wall),
      cpuMs: Math.round(used),
      cpuPerRealSecond: +(used / seconds / 1000).toFixed(4),
      eventsPerRealSecond: Math.round(ev / seconds),
      learnsPerRealSecond: Math.round(ln / seconds),
      eventsPerCpuSecond: Math.round(ev / (used / 1000)),
      items: st.items,
      queued: st.queued,
      maxLagMs: +st.maxLagMs.toFixed(1),
      truthMB: truth ? +(truth.bytesWritten / 1e6).toFixed(1) : 0,
      rssMB: Math.round(mem.rss / 1e6),
      heapMB: Math.round(mem.heapUsed / 1e6),
      arrayBuffersMB: Math.round(mem.arrayBuffers / 1e6),
    }),
  );
  await truth?.close();
  rmSync(dir, { recursive: true, force: true });
}

void main();

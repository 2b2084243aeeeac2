/**
 * The simulator as a child process for the hostile tests (`node dist/src/cli/main.js simulate`):
 * the pool under test then has the main thread to itself (its event-loop delay is its own), and
 * the simulator can be killed under it. Test helper; loopback only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT, sleep } from '../helpers.js';
import { readTruth, type Truth } from '../../src/sim/truth.js';

export interface SimChild {
  child: ChildProcess;
  port: number;
  dir: string;
  /** host:port of every node, by index. */
  addresses: string[];
  /** Each node's misbehaviour label (null: honest). */
  modes: (string | null)[];
  /** host:port -> node index. */
  nodeOf: Map<string, number>;
  exited: Promise<number | null>;
  /** SIGTERM, wait for the exit (the truth is flushed), then read the truth. */
  stop(): Promise<Truth>;
  /** Removes the output directory. */
  clean(): void;
}

export async function spawnSim(args: string[]): Promise<SimChild> {
  const dir = mkdtempSync(join(tmpdir(), 'invscope-hostile-'));
  const argv = [join(ROOT, 'dist', 'src', 'cli', 'main.js'), 'simulate', '--port', '0', '--out', dir, '--quiet', ...args];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  let listening: { port: number } | null = null;
  createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      const o = JSON.parse(l);
      if (o.event === 'listening') listening = o;
    } catch {
      /* not ours */
    }
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (c, sig) => r(c ?? (sig ? -1 : null))));
  const t0 = Date.now();
  while (listening === null) {
    if (child.exitCode !== null) throw new Error(`simulate exited with ${child.exitCode}`);
    if (Date.now() - t0 > 30_000) throw new Error('simulate did not start');
    await sleep(10);
  }
  const addresses = readFileSync(join(dir, 'nodes.txt'), 'utf8').trim().split('\n');
  const modes = (JSON.parse(readFileSync(join(dir, 'nodes.json'), 'utf8')) as { misbehaviour: string | null }[]).map((n) => n.misbehaviour);
  const nodeOf = new Map(addresses.map((a, i) => [a, i] as const));
  return {
    child,
    port: (listening as { port: number }).port,
    dir,
    addresses,
    modes,
    nodeOf,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      return readTruth(join(dir, 'truth.jsonl'));
    },
    clean() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `invscope simulate` as a child process for the benchmarks (bench:sim, bench:pool, soak): spawns
 * it with the given arguments, collects its JSON status lines and resolves once it is listening.
 * Bench processes only (loopback); not imported by src/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

export interface SimProcess {
  child: ChildProcess;
  /** Its JSON lines ('listening', 'status', 'stopped'), as parsed. */
  lines: any[];
  /** The 'listening' line: port, nodes, first/last address, pid. */
  listening: any;
  /** Resolves with the exit code once it has exited. */
  exited: Promise<number | null>;
}

/** Starts `invscope simulate ARGS`; rejects if it exits or is not listening within two minutes. */
export async function spawnSimulate(args: readonly string[], keepLines = Infinity): Promise<SimProcess> {
  const child = spawn(process.execPath, [BIN, 'simulate', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: any[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l));
      // A long run keeps its first line ('listening') and the most recent ones.
      if (lines.length > keepLines) lines.splice(1, lines.length - Math.ceil(keepLines / 2));
    } catch {
      /* not ours */
    }
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const t0 = Date.now();
  let listening: any;
  while (!(listening = lines.find((l) => l.event === 'listening'))) {
    if (child.exitCode !== null) throw new Error(`simulate exited with ${child.exitCode}`);
    if (Date.now() - t0 > 120_000) throw new Error('simulate did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, lines, listening, exited };
}

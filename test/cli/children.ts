/**
 * The CLI in child processes, as a person runs it: a `connect` session through pipes, and a small
 * `invscope simulate` writing its nodes.txt and truth into a directory. Shared by the CLI tests.
 */
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from '../helpers.js';

export const BIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');

/** `invscope connect ARGS` through pipes: lines out parsed as JSON (and kept raw), stderr kept. */
export class Session {
  readonly lines: any[] = [];
  readonly raw: string[] = [];
  err = '';
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | null>;
  constructor(args: string[], guardMs = 20_000) {
    this.child = spawn(process.execPath, [BIN, 'connect', ...args], { stdio: 'pipe' });
    createInterface({ input: this.child.stdout }).on('line', (l) => {
      this.raw.push(l);
      this.lines.push(JSON.parse(l));
    });
    this.child.stderr.on('data', (d) => (this.err += d));
    this.exited = new Promise((r) => this.child.on('exit', (code) => r(code)));
    setTimeout(() => this.child.kill('SIGKILL'), guardMs).unref();
  }
  type(line: string): void {
    this.child.stdin.write(line + '\n');
  }
  has(pred: (l: any) => boolean): boolean {
    return this.lines.some(pred);
  }
}

/** `invscope simulate` with `nodes` honest nodes (time scale 20) writing into `dir`, listening when resolved. */
export async function startSimulate(dir: string, nodes: number, seed: number, addressBase: string): Promise<ChildProcess> {
  const sim = spawn(process.execPath, [BIN, 'simulate', '--nodes', String(nodes), '--port', '0', '--time-scale', '20', '--misbehaving', '0', '--seed', String(seed), '--address-base', addressBase, '--out', dir, '--quiet'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: sim.stdout! }).on('line', (l) => l.includes('"listening"') && resolve());
    sim.on('exit', () => reject(new Error('simulate exited')));
  });
  return sim;
}

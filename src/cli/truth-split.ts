/**
 * Several observers on one simulation: the simulator's ground truth (truth.jsonl, src/sim/README.md)
 * split into one truth per run, holding every record but the `announce` ones, and of those only
 * the announcements to that run's own connections. A run's connections are read from its log's
 * debug ready lines (our host:port as each node saw us, which is how the truth names an observer
 * connection; keyed with the node's address, as one local port can serve two remote addresses).
 * Then `invscope report` and truthcheck judge each run on what was sent to it. Used by
 * `invscope demo`. Main thread, cold path (streams the file once).
 */
import { closeSync, createReadStream, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { READY_LINE_RE } from './observe/log.js';

/** A run's connections as `node host:port|our host:port`, from the debug ready lines of DIR/log/. */
export function connectionsOf(dir: string): Set<string> {
  const out = new Set<string>();
  const logs = join(dir, 'log');
  for (const f of readdirSync(logs)) {
    for (const line of readFileSync(join(logs, f), 'utf8').split('\n')) {
      const m = READY_LINE_RE.exec(line);
      if (m) out.add(`${m[1]}|${m[2]}`);
    }
  }
  return out;
}

/** Buffered appends to one file (writeSync per MiB). */
class Out {
  private buf = '';
  private readonly fd: number;
  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }
  line(s: string): void {
    this.buf += s + '\n';
    if (this.buf.length >= 1 << 20) this.flush();
  }
  flush(): void {
    if (this.buf.length > 0) writeSync(this.fd, this.buf);
    this.buf = '';
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/**
 * Writes each run's truth to its path. Returns how many announcements went to each run and how
 * many to a connection no run's log names (none expected: every connection a node announces on
 * completed its handshake, and each ready line is logged).
 */
export async function splitTruth(truthPath: string, runs: readonly { path: string; connections: ReadonlySet<string> }[]): Promise<{ announces: number[]; unattributed: number }> {
  const outs = runs.map((r) => new Out(r.path));
  const address = new Map<number, string>();
  const counts = runs.map(() => 0);
  let unattributed = 0;
  try {
    for await (const line of createInterface({ input: createReadStream(truthPath), crlfDelay: Infinity })) {
      if (line.length === 0) continue;
      if (!line.startsWith('{"e":"announce"')) {
        if (line.startsWith('{"e":"node"')) {
          const n = JSON.parse(line) as { index: number; host: string; port: number };
          address.set(n.index, `${n.host}:${n.port}`);
        }
        for (const o of outs) o.line(line);
        continue;
      }
      const a = JSON.parse(line) as { node: number; observer: string };
      const key = `${address.get(a.node)}|${a.observer}`;
      const i = runs.findIndex((r) => r.connections.has(key));
      if (i < 0) unattributed++;
      else {
        outs[i]!.line(line);
        counts[i]!++;
      }
    }
  } finally {
    for (const o of outs) o.close();
  }
  return { announces: counts, unattributed };
}

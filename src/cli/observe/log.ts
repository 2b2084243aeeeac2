/**
 * DIR/log/observe-<runid>-NNNN.log for `invscope observe`: one line per event, ISO time, level,
 * message; a new file every rotation period (`rotate()`, by a timer armed with the store's own
 * rotation timer in run.ts, so that log NNNN covers part NNNN). Never throws (a failed write is
 * counted and reported in run.json). Main thread; cold.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirs } from '../../store/dirs.js';
import { LEVELS, type LogLevel } from './options.js';

/**
 * The debug line of a peer that completed its handshake: its address and ours as it saw us (its
 * version's addrRecv). A simulator's ground truth names our connections by the latter, so this
 * line is what tells which connections were a run's when several observers share one simulation.
 */
export function readyLine(peer: number, address: string, us: string, userAgent: string, version: number): string {
  return `peer ${peer} ${address} ready, sees us as ${us}: ${userAgent} ${version}`;
}

/** Matches readyLine in a log file; group 1 is the peer's address, group 2 ours as it saw us. */
export const READY_LINE_RE = /peer \d+ (\S+) ready, sees us as (\S+): /;

export class ObserveLog {
  private fd: number | null = null;
  private index = 0;
  private readonly min: number;
  failures = 0;

  constructor(
    private readonly dir: string,
    private readonly runId: string,
    level: LogLevel,
  ) {
    this.min = LEVELS.indexOf(level);
    this.open();
  }

  private open(): void {
    try {
      makeDirs(this.dir);
      this.fd = openSync(join(this.dir, `observe-${this.runId}-${String(this.index).padStart(4, '0')}.log`), 'a');
    } catch {
      this.failures++;
    }
  }

  /** Closes this period's file and opens the next one. */
  rotate(): void {
    this.close();
    this.index++;
    this.open();
  }

  write(level: LogLevel, msg: string): void {
    if (LEVELS.indexOf(level) < this.min || this.fd === null) return;
    try {
      writeSync(this.fd, `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}\n`);
    } catch {
      this.failures++;
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

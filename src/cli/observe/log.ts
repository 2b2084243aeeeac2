/**
 * DIR/log/observe-<runid>-NNNN.log for `invscope observe`: one line per event, ISO time, level,
 * message; a new file every rotation period (`rotate()`, on the parts' --rotate period). Never
 * throws (a failed write is counted and reported in run.json). Main thread; cold.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirs } from '../../store/dirs.js';
import { LEVELS, type LogLevel } from './options.js';

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

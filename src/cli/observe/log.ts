/**
 * DIR/observe.log for `invscope observe`: one line per event, ISO time, level, message. Never
 * throws (a failed write is counted and reported in run.json). Main thread; cold.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { LEVELS, type LogLevel } from './options.js';

export class ObserveLog {
  private fd: number | null = null;
  private readonly min: number;
  failures = 0;

  constructor(file: string, level: LogLevel) {
    this.min = LEVELS.indexOf(level);
    try {
      this.fd = openSync(file, 'a');
    } catch {
      this.failures++;
    }
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

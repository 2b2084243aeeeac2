/**
 * `invscope observe`: a propagation measurement from one vantage point. Keeps the sharded pool
 * (src/pool) at its target, stores every announcement, peer session, finalized item and a
 * per-second timeline in DIR (src/store; the file contract in src/store/README.md), shows a live
 * status, and stops cleanly at --duration or on SIGINT/SIGTERM (a second signal forces the exit).
 * The entry point; the parts live in observe/ (options, run, status, stop). Main thread; cold.
 */
import { resolve } from 'node:path';
import { jsonLine } from './decode.js';
import { recoverDir } from '../store/index.js';
import { OBSERVE_HELP, parseObserveArgs } from './observe/options.js';
import { runObserve } from './observe/run.js';

export { OBSERVE_DEFAULTS, OBSERVE_HELP, OBSERVE_OPTIONS, parseDurationMs, parseObserveArgs, readPeersFile, type ObserveSettings } from './observe/options.js';
export { VERSION } from './observe/run-info.js';
export { runObserve } from './observe/run.js';

export async function observeCommand(args: string[]): Promise<number> {
  const parsed = parseObserveArgs(args);
  if ('help' in parsed) {
    process.stdout.write(OBSERVE_HELP);
    return 0;
  }
  if ('recover' in parsed) {
    try {
      const done = await recoverDir(resolve(parsed.recover));
      process.stdout.write(jsonLine({ event: 'recovered', dir: resolve(parsed.recover), parts: done }) + '\n');
      return 0;
    } catch (e) {
      process.stderr.write(`invscope observe: cannot recover ${parsed.recover}: ${(e as Error).message}\n`);
      return 1;
    }
  }
  return runObserve(parsed, args);
}

/**
 * The coordinator's taps: user callbacks per command for decoded messages the shards forward
 * ('addr' and 'addrv2' always come; other commands only once tapped). A throwing tap is reported
 * as a process warning and never stops the others. Main thread, cold (low-volume messages).
 */

export type Tap = (peer: number, msg: any) => void;

export class Taps {
  private readonly byCommand = new Map<string, Tap[]>();

  /** Adds a tap; true if the command is new (the shards must be told to forward it). */
  add(command: string, fn: Tap): boolean {
    const list = this.byCommand.get(command);
    if (list) list.push(fn);
    else this.byCommand.set(command, [fn]);
    return list === undefined;
  }

  /** Commands the shards forward for these taps ('addr' and 'addrv2' always come). */
  forwarded(): string[] {
    return [...this.byCommand.keys()].filter((c) => c !== 'addr' && c !== 'addrv2');
  }

  /** Calls every tap of a command. */
  call(command: string, peer: number, msg: unknown): void {
    const list = this.byCommand.get(command);
    if (!list) return;
    for (const fn of list) {
      try {
        fn(peer, msg);
      } catch (e) {
        process.emitWarning(`invscope pool: tap for ${command} threw: ${(e as Error)?.message ?? e}`);
      }
    }
  }
}

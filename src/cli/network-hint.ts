/**
 * Telling a person that the peers speak another network. A v1 peer of another network either
 * answers with its own magic (named in the close detail by the peer: "fabfb5da regtest"), sends
 * bytes that are not a frame of ours (a BIP324 v2 responder takes our foreign version for a v2
 * key and answers with its own), or closes without a word (Bitcoin Core, on a bad magic). A run
 * in which no peer ever completed a handshake is told so, with the networks that were named.
 * Main thread, cold path.
 */
import type { NetworkParams } from '../protocol/constants.js';

/** Counts, over a run, the sessions that ended before a version and what they showed. */
export class NetworkEvidence {
  /** Sessions closed for bad magic whose magic was a known network's, by that network. */
  readonly named: Record<string, number> = {};
  /** Sessions closed before a version: bad magic of no known network, or the remote closing. */
  silentOrGarbled = 0;

  /** One ended session: its close reason and detail, and whether it completed a handshake. */
  gone(reason: string, detail: string, wasReady: boolean): void {
    if (wasReady) return;
    const net = reason === 'bad-magic' ? /^[0-9a-f]{8} (\w+)$/.exec(detail)?.[1] : undefined;
    if (net !== undefined) this.named[net] = (this.named[net] ?? 0) + 1;
    else if (reason === 'bad-magic' || reason === 'remote-closed' || reason === 'socket-error') this.silentOrGarbled++;
  }

  /** The sentence for a run (or, `one`, a single session) that never spoke `network`; null when there is nothing to say. */
  hint(network: NetworkParams, one = false): string | null {
    const named = Object.entries(this.named).sort((a, b) => b[1] - a[1]);
    if (named.length > 0) {
      const [name, n] = named[0]!;
      return `peers speak ${name} (${n} ${n === 1 ? 'session' : 'sessions'} answered with its magic), not ${network.name}: use --network ${name}`;
    }
    if (this.silentOrGarbled > 0 && one) {
      return `the peer closed or sent unreadable bytes before its version, as a node of another network than ${network.name} does: check --network (invscope simulate runs regtest)`;
    }
    if (this.silentOrGarbled > 0) {
      return (
        `no peer completed a ${network.name} handshake (magic ${network.magicHex}); ${this.silentOrGarbled} ${this.silentOrGarbled === 1 ? 'session' : 'sessions'} ` +
        `closed or sent unreadable bytes before a version, as a node of another network does: check --network (invscope simulate runs regtest)`
      );
    }
    return null;
  }
}

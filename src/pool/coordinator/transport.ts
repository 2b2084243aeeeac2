/**
 * The outbound transport policy (BIP324): 'v1', 'v2' or 'auto'. In 'auto' an address is dialled
 * in v2 when it is known to advertise NODE_P2P_V2 (from addr/addrv2 or its own version), and a v2
 * attempt dropped before any byte came back is retried at once in v1 (Bitcoin Core
 * net.cpp ShouldReconnectV1). Main thread (the coordinator), cold: once per connection.
 */
import { Services } from '../../protocol/constants.js';
import type { AddressRecord } from './addressbook.js';

/** BIP324 v2 transport service bit (11). */
const NODE_P2P_V2 = Services.NODE_P2P_V2;

/** True if a decimal services string has NODE_P2P_V2. */
function advertisesV2(services: string | undefined): boolean {
  return services !== undefined && /^\d+$/.test(services) && (BigInt(services) & NODE_P2P_V2) !== 0n;
}

export class TransportPolicy {
  /** Handshakes completed per transport, and v2 attempts retried with v1. */
  readonly stats = { v1: 0, v2: 0, v1Retries: 0 };
  /** Addresses whose v2 attempt was dropped early: v1 from now on ('auto'). */
  private readonly v1Only = new WeakSet<AddressRecord>();
  /** Addresses that advertised NODE_P2P_V2 in their own version ('auto'). */
  private readonly v2Capable = new WeakSet<AddressRecord>();

  constructor(private readonly mode: 'v1' | 'v2' | 'auto') {}

  /** The transport to dial an address with. */
  choose(rec: AddressRecord): 'v1' | 'v2' {
    if (this.mode !== 'auto') return this.mode;
    if (this.v1Only.has(rec)) return 'v1';
    if (this.v2Capable.has(rec)) return 'v2';
    return advertisesV2(rec.services) ? 'v2' : 'v1';
  }

  /** A handshake completed: counted; an address whose version advertises v2 is dialled in v2 next time. */
  ready(rec: AddressRecord | null, transport: 'v1' | 'v2', services: string): void {
    this.stats[transport]++;
    if (rec && advertisesV2(services)) this.v2Capable.add(rec);
  }

  /**
   * A connection closed; `reconnectV1` when the shard saw a v2 attempt dropped before any byte came
   * back. In 'auto' the address becomes v1-only and due at once; true if so.
   */
  closed(rec: AddressRecord | null, reconnectV1: boolean, now: number): boolean {
    if (!reconnectV1 || !rec || this.mode !== 'auto') return false;
    this.v1Only.add(rec);
    rec.nextAttemptAt = now;
    this.stats.v1Retries++;
    return true;
  }
}

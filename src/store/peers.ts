/**
 * Peer sessions from the pool's peer events: one row per session (connect attempt), written when
 * it ends, with what the peer told us in its version, the lifecycle times, ping RTTs, traffic per
 * command and the bad-input faults counted for it (src/transport/README.md). Main thread, cold path.
 */
import type { PeerEvent } from '../pool/index.js';
import { netAddrNetwork, parseNetAddr } from '../protocol/messages/address.js';
import { parseHostPort, isHostPort } from '../pool/coordinator/hostport.js';
import type { PeerRow } from './rows.js';

interface Session {
  peer: number;
  address: string;
  inbound: boolean;
  connectedAt: number | null;
  readyAt: number | null;
  remote: { version: number; services: string; userAgent: string; startHeight: number } | null;
}

/** The network of a host:port (ipv4, ipv6, torv3, i2p, cjdns, name, unknown). */
export function networkOf(address: string): { network: string; port: number } {
  const hp = parseHostPort(address);
  if (!isHostPort(hp)) return { network: 'unknown', port: 0 };
  const net = parseNetAddr(hp.host);
  return { network: net ? netAddrNetwork(net) : /^[a-z0-9.-]+$/i.test(hp.host) ? 'name' : 'unknown', port: hp.port };
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const time = (v: unknown): number | null => (typeof v === 'number' && v > 0 ? v : null);
const sum = (o: unknown): number => (o && typeof o === 'object' ? Object.values(o as Record<string, number>).reduce((a, b) => a + num(b), 0) : 0);

export class PeerSessions {
  private readonly live = new Map<number, Session>();
  connected = 0;
  ready = 0;
  handshakes = 0;
  sessions = 0;
  readonly reasons: Record<string, number> = {};
  /** Faults counted over every finished session, by code. */
  readonly faults: Record<string, number> = {};

  constructor(private readonly onRow: (r: PeerRow) => void) {}

  event(e: PeerEvent, t: number): void {
    switch (e.type) {
      case 'connected':
        this.live.set(e.peer, { peer: e.peer, address: e.address, inbound: e.inbound === true, connectedAt: t, readyAt: null, remote: null });
        this.connected++;
        return;
      case 'ready': {
        const s = this.live.get(e.peer);
        if (!s) return;
        s.readyAt = t;
        s.remote = e.remote;
        this.ready++;
        this.handshakes++;
        return;
      }
      case 'gone': {
        const s = this.live.get(e.peer);
        this.live.delete(e.peer);
        if (s) {
          this.connected--;
          if (s.readyAt !== null) this.ready--;
        }
        this.reasons[e.reason] = (this.reasons[e.reason] ?? 0) + 1;
        this.sessions++;
        this.onRow(this.row(e, s ?? null, t));
        return;
      }
    }
  }

  private row(e: Extract<PeerEvent, { type: 'gone' }>, s: Session | null, t: number): PeerRow {
    const st = (e.stats ?? {}) as Record<string, any>;
    const { network, port } = networkOf(e.address);
    const rtts: number[] = Array.isArray(st.rttsMs) ? [...(st.rttsMs as number[])].sort((a, b) => a - b) : [];
    const byCommand: Record<string, { msgsIn?: number; bytesIn?: number; msgsOut?: number; bytesOut?: number }> = {};
    const put = (src: unknown, field: 'msgsIn' | 'bytesIn' | 'msgsOut' | 'bytesOut'): void => {
      if (!src || typeof src !== 'object') return;
      for (const [cmd, n] of Object.entries(src as Record<string, number>)) (byCommand[cmd] ??= {})[field] = n;
    };
    put(st.msgsIn, 'msgsIn');
    put(st.bytesInByCommand, 'bytesIn');
    put(st.msgsOut, 'msgsOut');
    put(st.bytesOutByCommand, 'bytesOut');
    const faults: Record<string, number> = { ...((st.faults as Record<string, number>) ?? {}) };
    for (const [code, n] of Object.entries(faults)) this.faults[code] = (this.faults[code] ?? 0) + num(n);
    const unknown = st.unknownIn as Record<string, number> | undefined;
    const misbehaviour = unknown && Object.keys(unknown).length ? { ...faults, unknownCommands: unknown } : faults;
    const r = s?.remote ?? null;
    return {
      peer: e.peer,
      address: e.address,
      network,
      port,
      inbound: s?.inbound ?? false,
      transport: e.transport ?? (typeof st.transport === 'string' ? st.transport : 'v1'),
      user_agent: r ? r.userAgent : null,
      version: r ? r.version : null,
      services: r ? r.services : null,
      start_height: r ? r.startHeight : null,
      connected_at: time(st.connectedAt) ?? s?.connectedAt ?? null,
      ready_at: time(st.handshakeAt) ?? s?.readyAt ?? null,
      closed_at: time(st.closedAt) ?? t,
      close_reason: e.reason,
      close_detail: e.detail || null,
      ping_rtt_ms_min: rtts.length ? rtts[0]! : null,
      ping_rtt_ms_median: rtts.length ? rtts[(rtts.length - 1) >> 1]! : null,
      ping_rtt_ms_max: rtts.length ? rtts[rtts.length - 1]! : null,
      bytes_in: num(st.bytesIn),
      bytes_out: num(st.bytesOut),
      msgs_in: sum(st.msgsIn),
      msgs_out: sum(st.msgsOut),
      by_command: JSON.stringify(byCommand),
      misbehaviour: JSON.stringify(misbehaviour),
    };
  }

  /** Sessions still open (normally none once the pool has stopped: it reports every peer gone). */
  get open(): number {
    return this.live.size;
  }
}

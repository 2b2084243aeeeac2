import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ItemAggregator, PeerSessions, networkOf, type ItemRow, type PeerRow } from '../../src/store/index.js';

test('time to 50/90/99 % counts distinct peers against the ready peers at first sight', () => {
  const rows: ItemRow[] = [];
  const agg = new ItemAggregator({ windowMs: 1000, onItem: (r) => rows.push(r) });
  // 10 ready peers; peers 0..9 announce at 100 + 10*i, delivered out of order, peer 3 twice.
  const order = [2, 0, 1, 3, 3, 4, 5, 6, 7, 8, 9];
  for (const p of order) agg.add(100 + 10 * p, p, 'aa', 'wtxid', 10);
  assert.is(agg.duplicates, 1);
  agg.evict(1099);
  assert.is(rows.length, 0, 'still inside its window');
  agg.evict(1101);
  assert.equal(rows, [{ hash: 'aa', item_kind: 'tx', id_type: 'wtxid', first_seen: 100, first_peer: 0, announcing_peers: 10, peers_at_first_seen: 10, t50: 40, t90: 80, t99: 90 }]);
  agg.add(2000, 11, 'aa', 'wtxid', 10);
  assert.is(agg.late, 1, 'an announcement after the window is late, not a new item');
  assert.is(rows.length, 1);
});

test('fractions never reached are null; finish() finalizes every open item; maxOpenItems forces the oldest out', () => {
  const rows: ItemRow[] = [];
  const agg = new ItemAggregator({ windowMs: 60_000, maxOpenItems: 2, onItem: (r) => rows.push(r) });
  agg.add(1, 1, 'a', 'block', 4);
  agg.add(2, 2, 'a', 'block', 4);
  agg.add(3, 1, 'b', 'wtxid', 4);
  agg.add(4, 1, 'c', 'wtxid', 4);
  assert.is(agg.forced, 1);
  assert.equal(rows.map((r) => [r.hash, r.t50, r.t90]), [['a', 1, null]]);
  agg.finish();
  assert.equal(rows.map((r) => r.hash), ['a', 'b', 'c']);
  assert.is(agg.openItems, 0);
});

test('peer sessions: one row per session, with its version, times, traffic per command and faults', () => {
  const rows: PeerRow[] = [];
  const s = new PeerSessions((r) => rows.push(r));
  s.event({ type: 'connected', peer: 4, address: '127.0.0.4:18444', shard: 0 }, 10);
  s.event({ type: 'ready', peer: 4, address: '127.0.0.4:18444', shard: 0, remote: { version: 70016, services: '1033', userAgent: '/Satoshi:27.0.0/', startHeight: 5, relay: true, addrRecv: '', wtxidRelay: true, sendAddrV2: true } }, 12);
  assert.equal([s.connected, s.ready, s.handshakes], [1, 1, 1]);
  s.event({
    type: 'gone', peer: 4, address: '127.0.0.4:18444', shard: 0, reason: 'bad-magic', detail: '', wasReady: true,
    stats: { bytesIn: 500, bytesOut: 60, msgsIn: { inv: 3, ping: 1 }, bytesInByCommand: { inv: 400 }, msgsOut: { pong: 1 }, bytesOutByCommand: { pong: 32 }, faults: { ERR_WIRE_BAD_MAGIC: 1 }, unknownIn: {}, rttsMs: [3, 1, 2], connectedAt: 9.5, handshakeAt: 11.5, closedAt: 20 },
  }, 21);
  s.event({ type: 'gone', peer: 5, address: '[2001:db8::1]:8333', shard: 1, reason: 'connect-failed', detail: 'ECONNREFUSED', wasReady: false }, 30);
  assert.equal([s.connected, s.ready, s.sessions], [0, 0, 2]);
  assert.equal(s.reasons, { 'bad-magic': 1, 'connect-failed': 1 });
  assert.equal(s.faults, { ERR_WIRE_BAD_MAGIC: 1 });
  const [a, b] = rows;
  assert.equal([a!.user_agent, a!.version, a!.services, a!.start_height], ['/Satoshi:27.0.0/', 70016, '1033', 5]);
  assert.equal([a!.connected_at, a!.ready_at, a!.closed_at], [9.5, 11.5, 20]);
  assert.equal([a!.ping_rtt_ms_min, a!.ping_rtt_ms_median, a!.ping_rtt_ms_max], [1, 2, 3]);
  assert.equal([a!.msgs_in, a!.msgs_out, a!.bytes_in], [4, 1, 500]);
  assert.equal(JSON.parse(a!.by_command), { inv: { msgsIn: 3, bytesIn: 400 }, ping: { msgsIn: 1 }, pong: { msgsOut: 1, bytesOut: 32 } });
  assert.equal(JSON.parse(a!.misbehaviour), { ERR_WIRE_BAD_MAGIC: 1 });
  assert.equal([b!.network, b!.port, b!.connected_at, b!.ready_at, b!.close_detail, b!.closed_at], ['ipv6', 8333, null, null, 'ECONNREFUSED', 30]);
});

test('networkOf names the network of an address', () => {
  assert.equal(networkOf('127.0.0.1:8333'), { network: 'ipv4', port: 8333 });
  assert.equal(networkOf('seed.example.org:8333'), { network: 'name', port: 8333 });
  assert.equal(networkOf('nonsense'), { network: 'unknown', port: 0 });
});

test.run();

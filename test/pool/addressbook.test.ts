import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AddressBook } from '../../src/pool/coordinator/addressbook.js';
import { parseHostPort } from '../../src/pool/coordinator/hostport.js';

test('parses host:port, [v6]:port and a bare host with the default port', () => {
  assert.equal(parseHostPort('127.0.0.1:18444'), { host: '127.0.0.1', port: 18444 });
  assert.equal(parseHostPort('[::1]:8333'), { host: '::1', port: 8333 });
  assert.equal(parseHostPort('seed.example.org', 8333), { host: 'seed.example.org', port: 8333 });
  assert.equal(parseHostPort('2001:db8::1', 8333), { host: '2001:db8::1', port: 8333 });
  assert.equal(parseHostPort('127.0.0.1:0'), { error: 'bad port "0" in "127.0.0.1:0"' });
  assert.equal(parseHostPort('127.0.0.1:0', undefined, { allowPortZero: true }), { host: '127.0.0.1', port: 0 });
  assert.equal(parseHostPort('127.0.0.1:99999'), { error: 'bad port "99999" in "127.0.0.1:99999"' });
  assert.equal(parseHostPort('127.0.0.1'), { error: 'no port in "127.0.0.1"' });
  assert.equal(parseHostPort('[::1'), { error: 'no closing ] in "[::1"' });
});

test('a Coordinator used wrongly throws a PoolError with a stable code', async () => {
  const { Coordinator, PoolError } = await import('../../src/pool/index.js');
  const code = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      assert.instance(e, PoolError);
      return (e as InstanceType<typeof PoolError>).code;
    }
    return 'no error';
  };
  assert.is(code(() => new Coordinator({ network: 'moon' as never })), 'ERR_POOL_NETWORK');
  assert.is(code(() => new Coordinator({ network: 'regtest', proxy: 'nohost' })), 'ERR_POOL_ADDRESS');
  assert.is(code(() => new Coordinator({ network: 'regtest', listen: '127.0.0.1:99999' })), 'ERR_POOL_ADDRESS');
  assert.is(code(() => new Coordinator({ network: 'regtest', listen: '127.0.0.1:0' })), 'no error', 'port 0: any free port');
  const pool = new Coordinator({ network: 'regtest', shards: 1, peers: 1, addresses: [] });
  await pool.start();
  await pool.start().then(
    () => assert.unreachable('a second start'),
    (e: unknown) => assert.is((e as InstanceType<typeof PoolError>).code, 'ERR_POOL_STATE'),
  );
  await pool.stop();
});

test('keeps one record per address, with its network and source', () => {
  const b = new AddressBook();
  const a = b.add('127.0.0.1:1', 'list')!;
  assert.is(b.add('127.0.0.1:1', 'addr'), a);
  assert.is(a.network, 'ipv4');
  assert.is(a.source, 'list');
  assert.is(b.add('[::1]:2')!.address, '[::1]:2');
  assert.is(b.add('[::1]:2')!.network, 'ipv6');
  assert.is(b.add('not an address'), null);
  assert.is(b.size, 2);
});

test('hands out idle addresses round robin and skips pending and connected ones', () => {
  const b = new AddressBook();
  const [x, y, z] = ['10.0.0.1:1', '10.0.0.2:1', '10.0.0.3:1'].map((s) => b.add(s)!);
  assert.is(b.next(0), x);
  b.markPending(x!, 0);
  assert.is(b.next(0), y);
  b.markPending(y!, 0);
  b.markConnected(y!, 0);
  assert.is(b.next(0), z);
  b.markPending(z!, 0);
  assert.is(b.next(0), undefined);
});

test('backs off exponentially with jitter after failures and forgives them after a handshake', () => {
  const b = new AddressBook({ backoffBaseMs: 100, backoffMaxMs: 1_000, random: () => 0 });
  const r = b.add('10.0.0.1:1')!;
  const delays: number[] = [];
  for (let i = 0; i < 6; i++) {
    b.markPending(r, 0);
    b.markFailed(r, 'ECONNREFUSED', 0);
    delays.push(r.nextAttemptAt);
  }
  assert.equal(delays, [100, 200, 400, 800, 1_000, 1_000]);
  assert.is(r.lastOutcome, 'ECONNREFUSED');
  assert.is(r.attempts, 6);
  assert.is(b.next(999), undefined);
  assert.is(b.next(1_000), r);
  b.markPending(r, 1_000);
  b.markConnected(r, 1_000);
  b.markReady(r, 1_001);
  assert.is(r.failures, 0);
  b.markDropped(r, 'remote-closed', 2_000, 50);
  assert.is(r.nextAttemptAt, 2_050);
  assert.is(r.state, 'idle');
  const j = new AddressBook({ backoffBaseMs: 100, random: () => 0.999 });
  const d = j.backoff(1);
  assert.ok(d > 50 && d <= 100, `jittered down by at most half: ${d}`);
});

test('never dials Tor, I2P or CJDNS addresses directly', () => {
  const b = new AddressBook();
  const onion = b.add('pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion:8333', 'addr');
  assert.ok(onion);
  assert.is(onion!.network, 'torv3');
  assert.is(AddressBook.connectable(onion!), false);
  assert.is(b.next(0), undefined);
});

test('learned addresses are bounded; the addrv2 network overrides the text (CJDNS)', () => {
  const b = new AddressBook({ maxLearned: 2 });
  assert.ok(b.add('10.0.0.1:1', 'list'));
  assert.ok(b.add('10.0.0.2:1', 'addr'));
  const cj = b.add('[fc00::1]:8333', 'addr', undefined, 'cjdns')!;
  assert.is(cj.network, 'cjdns');
  assert.is(b.add('10.0.0.3:1', 'addr'), null);
  assert.is(b.learnedDropped, 1);
  assert.is(b.learnedCount, 2);
  // A known address is returned, not counted, even past the bound.
  assert.ok(b.add('10.0.0.2:1', 'addr'));
  assert.is(b.learnedDropped, 1);
  assert.is(b.add('10.0.0.4:1', 'dns')!.source, 'dns');
});

test('proxied networks are handed out only when the book is told they are reachable', () => {
  const onionHost = 'pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion';
  const plain = new AddressBook();
  const viaProxy = new AddressBook({ reachable: ['ipv4', 'ipv6', 'name', 'torv3', 'i2p', 'cjdns'] });
  const r1 = plain.add(`${onionHost}:8333`);
  const r2 = viaProxy.add(`${onionHost}:8333`);
  assert.is(r1?.network, 'torv3');
  assert.is(plain.next(0), undefined);
  assert.is(viaProxy.next(0), r2);
  assert.ok(viaProxy.isReachable(r2!));
  assert.is(plain.isReachable(r1!), false);
});

test.run();

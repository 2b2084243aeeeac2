/** The one host:port parser (src/protocol/hostport.ts): a result with the parts or the reason. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseHostPort, readHostPort } from '../../src/protocol/hostport.js';

test('splits host:port, [v6]:port, and takes the default port for a bare host or IPv6 address', () => {
  assert.equal(readHostPort(' 127.0.0.1:18444 '), { ok: true, host: '127.0.0.1', port: 18444 });
  assert.equal(readHostPort('[::1]:8333'), { ok: true, host: '::1', port: 8333 });
  assert.equal(readHostPort('[::1]', 8333), { ok: true, host: '::1', port: 8333 });
  assert.equal(readHostPort('2001:db8::1', 8333), { ok: true, host: '2001:db8::1', port: 8333 });
});

test('says why a string is not a host:port', () => {
  assert.equal(readHostPort('h'), { ok: false, error: 'no port in "h"' });
  assert.equal(readHostPort(':8333'), { ok: false, error: 'no host in ":8333"' });
  assert.equal(readHostPort('h:99999'), { ok: false, error: 'bad port "99999" in "h:99999"' });
  assert.equal(readHostPort('[::1'), { ok: false, error: 'no closing ] in "[::1"' });
  assert.equal(readHostPort('[::1]x'), { ok: false, error: 'junk after ] in "[::1]x"' });
});

test('refuses port 0 unless asked to allow it (a listen address)', () => {
  assert.is(parseHostPort('127.0.0.1:0'), null);
  assert.equal(parseHostPort('127.0.0.1:0', undefined, true), { host: '127.0.0.1', port: 0 });
});

test.run();

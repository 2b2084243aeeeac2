import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { createCipheriv } from 'node:crypto';
import { ellswiftDecode, xswiftecInv, xswiftec, bytesToBig, bigToBytes, ellswiftEcdhX, v2Ecdh, pubX, ellswiftCreate } from '../../src/transport/v2/ellswift.js';
import { Bip324Cipher, FSChaCha20Poly1305, AEAD_NATIVE_MIN } from '../../src/transport/v2/aead.js';
import { fromHex, toHex } from '../../src/protocol/hex.js';
import { fixturePath, prng, randomBytes } from '../helpers.js';

/** Rows of a BIP324 vector CSV as objects keyed by the header (no field holds a comma). */
function csv(name: string): Record<string, string>[] {
  const lines = readFileSync(fixturePath(`bip324/${name}`), 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  const head = lines[0]!.split(',');
  return lines.slice(1).map((l) => {
    const cells = l.split(',');
    return Object.fromEntries(head.map((h, i) => [h, cells[i] ?? '']));
  });
}

const MAINNET_MAGIC = fromHex('f9beb4d9');

test('ellswift_decode_test_vectors.csv: every row decodes to its x', () => {
  const rows = csv('ellswift_decode_test_vectors.csv');
  assert.is(rows.length, 76);
  let passed = 0;
  for (const r of rows) {
    const x = ellswiftDecode(fromHex(r.ellswift!));
    assert.is(toHex(bigToBytes(x)), r.x, r.comment);
    passed++;
  }
  assert.is(passed, rows.length);
});

test('xswiftec_inv_test_vectors.csv: every case of every row gives its t, or none', () => {
  const rows = csv('xswiftec_inv_test_vectors.csv');
  assert.is(rows.length, 32);
  let cases = 0;
  for (const r of rows) {
    const u = bytesToBig(fromHex(r.u!));
    const x = bytesToBig(fromHex(r.x!));
    for (let c = 0; c < 8; c++) {
      const want = r[`case${c}_t`]!;
      const t = xswiftecInv(x, u, c);
      if (want === '') assert.is(t, -1n, `${r.comment} case ${c}`);
      else {
        assert.is(toHex(bigToBytes(t)), want, `${r.comment} case ${c}`);
        assert.is(xswiftec(u, t), x, 'and it decodes back');
      }
      cases++;
    }
  }
  assert.is(cases, 256);
});

test('packet_encoding_test_vectors.csv: keys, shared secret, terminators, session id and ciphertext of every row', () => {
  const rows = csv('packet_encoding_test_vectors.csv');
  assert.is(rows.length, 7);
  for (const r of rows) {
    const priv = bytesToBig(fromHex(r.in_priv_ours!));
    const ours = fromHex(r.in_ellswift_ours!);
    const theirs = fromHex(r.in_ellswift_theirs!);
    const initiating = r.in_initiating === '1';
    assert.is(toHex(bigToBytes(pubX(priv))), r.mid_x_ours);
    assert.is(toHex(bigToBytes(ellswiftDecode(ours))), r.mid_x_ours);
    assert.is(toHex(bigToBytes(ellswiftDecode(theirs))), r.mid_x_theirs);
    assert.is(toHex(ellswiftEcdhX(theirs, priv)), r.mid_x_shared);
    const secret = v2Ecdh(priv, theirs, ours, initiating);
    assert.is(toHex(secret), r.mid_shared_secret);
    const c = new Bip324Cipher(secret, initiating, MAINNET_MAGIC);
    assert.is(toHex(c.keys.initiatorL), r.mid_initiator_l);
    assert.is(toHex(c.keys.initiatorP), r.mid_initiator_p);
    assert.is(toHex(c.keys.responderL), r.mid_responder_l);
    assert.is(toHex(c.keys.responderP), r.mid_responder_p);
    assert.is(toHex(c.sendTerminator), r.mid_send_garbage_terminator);
    assert.is(toHex(c.recvTerminator), r.mid_recv_garbage_terminator);
    assert.is(toHex(c.sessionId), r.out_session_id);
    const idx = Number(r.in_idx);
    for (let i = 0; i < idx; i++) c.encryptPacket(new Uint8Array(0));
    const one = fromHex(r.in_contents!);
    const mult = Number(r.in_multiply);
    const contents = new Uint8Array(one.length * mult);
    for (let i = 0; i < mult; i++) contents.set(one, i * one.length);
    const ct = c.encryptPacket(contents, r.in_ignore === '1', fromHex(r.in_aad!));
    if (r.out_ciphertext) assert.is(toHex(ct), r.out_ciphertext, `row idx ${idx}`);
    else assert.is(toHex(ct.subarray(ct.length - 128)), r.out_ciphertext_endswith, `row idx ${idx}`);

    // The other side of the same session decrypts it, after the same number of packets.
    const peer = new Bip324Cipher(secret, !initiating, MAINNET_MAGIC);
    const scratch = new Uint8Array(3);
    const mirror = new Bip324Cipher(secret, initiating, MAINNET_MAGIC);
    for (let i = 0; i < idx; i++) {
      const p = mirror.encryptPacket(new Uint8Array(0));
      assert.is(peer.decryptLength(p, 0, scratch), 0);
      assert.ok(peer.recvP.decrypt(new Uint8Array(0), p, 3, 1, new Uint8Array(1), 0));
    }
    assert.is(peer.decryptLength(ct, 0, scratch), contents.length);
    const out = new Uint8Array(contents.length + 1);
    assert.ok(peer.recvP.decrypt(fromHex(r.in_aad!), ct, 3, contents.length + 1, out, 0));
    assert.is(out[0], r.in_ignore === '1' ? 0x80 : 0);
    assert.ok(Buffer.from(out.buffer, out.byteOffset + 1, contents.length).equals(contents), 'contents round-trip');
  }
});

test('the WebAssembly ChaCha20-Poly1305 agrees with OpenSSL on every length 0..300 and AAD 0..40, and rejects any flipped bit', () => {
  const rnd = prng(7);
  for (let len = 0; len <= 300; len += len < 70 ? 1 : 13) {
    for (const aadLen of [0, 1, 15, 16, 17, 40]) {
      const key = randomBytes(rnd, 32);
      const aad = randomBytes(rnd, aadLen);
      const pt = randomBytes(rnd, len);
      const a = new FSChaCha20Poly1305(key);
      const buf = new Uint8Array(len + 16);
      buf.set(pt);
      a.encrypt(aad, buf, 0, len);
      const c = createCipheriv('chacha20-poly1305', key, new Uint8Array(12), { authTagLength: 16 });
      if (aadLen) c.setAAD(aad, { plaintextLength: len });
      const want = Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
      assert.is(toHex(buf), toHex(want), `len ${len} aad ${aadLen}`);
      const b = new FSChaCha20Poly1305(key);
      const out = new Uint8Array(len);
      assert.ok(b.decrypt(aad, buf, 0, len, out, 0));
      assert.is(toHex(out), toHex(pt));
      const bit = Math.floor(rnd() * (len + 16) * 8);
      buf[bit >> 3]! ^= 1 << (bit & 7);
      assert.not.ok(new FSChaCha20Poly1305(key).decrypt(aad, buf, 0, len, out, 0), 'a flipped bit fails authentication');
    }
  }
});

test('large contents take the OpenSSL path and still round-trip across a rekey, rejecting a bad tag', () => {
  const key = randomBytes(prng(3), 32);
  const enc = new FSChaCha20Poly1305(key);
  const dec = new FSChaCha20Poly1305(key);
  for (let i = 0; i < 230; i++) {
    const len = i % 3 === 0 ? AEAD_NATIVE_MIN + i : 10 + i;
    const pt = randomBytes(prng(i), len);
    const buf = new Uint8Array(len + 16);
    buf.set(pt);
    enc.encrypt(new Uint8Array(0), buf, 0, len);
    const out = new Uint8Array(len);
    if (i === 229) {
      buf[len + 3]! ^= 4;
      assert.not.ok(dec.decrypt(new Uint8Array(0), buf, 0, len, out, 0));
    } else {
      assert.ok(dec.decrypt(new Uint8Array(0), buf, 0, len, out, 0), `packet ${i}`);
      assert.is(toHex(out), toHex(pt));
    }
  }
});

test('ellswiftCreate encodes the public key: decoding gives priv*G and both sides agree on the secret', () => {
  const a = ellswiftCreate();
  const b = ellswiftCreate();
  assert.is(ellswiftDecode(a.pub), pubX(a.priv));
  assert.is(toHex(v2Ecdh(a.priv, b.pub, a.pub, true)), toHex(v2Ecdh(b.priv, a.pub, b.pub, false)));
});

test.run();

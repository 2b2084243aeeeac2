/**
 * ElligatorSwift encoding of secp256k1 x coordinates (BIP324 "ElligatorSwift encoding of curve
 * X coordinates"; Bitcoin Core's libsecp256k1 ellswift module) and the x-only ECDH of BIP324.
 * Field arithmetic is bigint through @noble/curves' secp256k1 field; point multiplication is
 * noble's. Only what noble lacks is written here: xswiftec, its inverse, and key creation.
 * Cold path (once per connection handshake); any thread. Never throws on peer bytes: every
 * 64-byte encoding decodes to a valid x (that is the point of the encoding).
 */
import { randomBytes, createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';

const Point = secp256k1.Point;
const Fp = Point.Fp;
const P = Fp.ORDER;
const N = Point.Fn.ORDER;
const SQRT_EXP = (P + 1n) / 4n;

/** Square root in GF(p) (p = 3 mod 4: a^((p+1)/4)), or -1n when `a` is not a square. */
function sqrt(a: bigint): bigint {
  const r = Fp.pow(a, SQRT_EXP);
  return Fp.sqr(r) === a ? r : -1n;
}

/** BIP324 `GE.is_valid_x`: x^3 + 7 is a square. */
function isValidX(x: bigint): boolean {
  return sqrt(Fp.add(Fp.mul(Fp.sqr(x), x), 7n)) >= 0n;
}

/** sqrt(-3) as the BIP's reference computes it (the principal root a^((p+1)/4)). */
const MINUS_3_SQRT = sqrt(Fp.neg(3n));

/** `xswiftec(u, t)`: the curve x coordinate that field elements (u, t) encode (BIP324). */
export function xswiftec(u: bigint, t: bigint): bigint {
  u = Fp.create(u);
  t = Fp.create(t);
  if (u === 0n) u = 1n;
  if (t === 0n) t = 1n;
  const u3p7 = Fp.add(Fp.mul(Fp.sqr(u), u), 7n);
  if (Fp.add(u3p7, Fp.sqr(t)) === 0n) t = Fp.add(t, t);
  const X = Fp.div(Fp.sub(u3p7, Fp.sqr(t)), Fp.add(t, t));
  const Y = Fp.div(Fp.add(X, t), Fp.mul(MINUS_3_SQRT, u));
  const x3 = Fp.add(u, Fp.mul(4n, Fp.sqr(Y)));
  if (isValidX(x3)) return x3;
  const XdY = Fp.div(X, Y);
  const x2 = Fp.div(Fp.sub(Fp.neg(XdY), u), 2n);
  if (isValidX(x2)) return x2;
  // One of the three is always valid (the BIP's argument); x1 is the last.
  return Fp.div(Fp.sub(XdY, u), 2n);
}

/**
 * `xswiftec_inv(x, u, case)`: a t with xswiftec(u, t) = x, or -1n when this case (0..7) has none.
 * The eight cases select among the up to eight preimages (BIP324 reference).
 */
export function xswiftecInv(x: bigint, u: bigint, c: number): bigint {
  x = Fp.create(x);
  u = Fp.create(u);
  let v: bigint;
  let s: bigint;
  const u3p7 = Fp.add(Fp.mul(Fp.sqr(u), u), 7n);
  if ((c & 2) === 0) {
    const mxu = Fp.sub(Fp.neg(x), u);
    if (isValidX(mxu)) return -1n;
    v = (c & 1) === 0 ? x : mxu;
    const den = Fp.add(Fp.add(Fp.sqr(u), Fp.mul(u, v)), Fp.sqr(v));
    s = Fp.div(Fp.neg(u3p7), den);
  } else {
    s = Fp.sub(x, u);
    if (s === 0n) return -1n;
    let r = sqrt(Fp.mul(Fp.neg(s), Fp.add(Fp.mul(4n, u3p7), Fp.mul(Fp.mul(3n, s), Fp.sqr(u)))));
    if (r < 0n) return -1n;
    if (c & 1) {
      if (r === 0n) return -1n;
      r = Fp.neg(r);
    }
    v = Fp.div(Fp.add(Fp.neg(u), Fp.div(r, s)), 2n);
  }
  let w = sqrt(s);
  if (w < 0n) return -1n;
  if (c & 4) w = Fp.neg(w);
  return Fp.mul(w, Fp.sub(Fp.div(Fp.mul(u, Fp.sub(MINUS_3_SQRT, 1n)), 2n), v));
}

export function bytesToBig(b: Uint8Array, off = 0, len = 32): bigint {
  let h = '';
  for (let i = 0; i < len; i++) h += b[off + i]!.toString(16).padStart(2, '0');
  return len === 0 ? 0n : BigInt('0x' + h);
}

export function bigToBytes(n: bigint, out: Uint8Array = new Uint8Array(32), off = 0): Uint8Array {
  const h = n.toString(16).padStart(64, '0');
  for (let i = 0; i < 32; i++) out[off + i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The x coordinate a 64-byte ElligatorSwift encoding stands for (u and t are taken mod p). */
export function ellswiftDecode(enc: Uint8Array, off = 0): bigint {
  return xswiftec(bytesToBig(enc, off, 32), bytesToBig(enc, off + 32, 32));
}

/** A uniformly random field element u in [1, p), from the given random source. */
function randomFieldElement(rand: (n: number) => Uint8Array): bigint {
  for (;;) {
    const u = bytesToBig(rand(32));
    if (u !== 0n && u < P) return u;
  }
}

/** A private key (1 <= d < n) and its 64-byte ElligatorSwift public key. */
export interface EllswiftKey {
  priv: bigint;
  /** u (32 bytes big-endian) then t (32 bytes). */
  pub: Uint8Array;
}

/** A random scalar in [1, n). */
export function randomScalar(rand: (n: number) => Uint8Array = randomBytes): bigint {
  for (;;) {
    const d = bytesToBig(rand(32));
    if (d !== 0n && d < N) return d;
  }
}

/**
 * Encodes the public key of `priv`: random u and case until xswiftec_inv finds a t (the BIP's
 * `xelligatorswift`; about four tries on average). `rand` is injectable for tests.
 */
export function ellswiftCreate(priv: bigint = randomScalar(), rand: (n: number) => Uint8Array = randomBytes): EllswiftKey {
  const x = Point.BASE.multiply(priv).toAffine().x;
  for (;;) {
    const u = randomFieldElement(rand);
    const c = rand(1)[0]! & 7;
    const t = xswiftecInv(x, u, c);
    if (t < 0n) continue;
    const pub = new Uint8Array(64);
    bigToBytes(u, pub, 0);
    bigToBytes(t, pub, 32);
    return { priv, pub };
  }
}

/** The x coordinate (32 bytes) of priv times the point whose x the encoding `theirs` gives. */
export function ellswiftEcdhX(theirs: Uint8Array, priv: bigint): Uint8Array {
  const x = ellswiftDecode(theirs);
  // lift_x: the even or odd y does not matter for an x-only result.
  const y = sqrt(Fp.add(Fp.mul(Fp.sqr(x), x), 7n));
  const q = Point.fromAffine({ x, y }).multiply(priv);
  return bigToBytes(q.toAffine().x);
}

const ECDH_TAG = createHash('sha256').update('bip324_ellswift_xonly_ecdh').digest();

/**
 * The BIP324 shared secret: TaggedHash("bip324_ellswift_xonly_ecdh", ell_initiator ||
 * ell_responder || x), the initiator's encoding always first.
 */
export function v2Ecdh(priv: bigint, theirs: Uint8Array, ours: Uint8Array, initiating: boolean): Uint8Array {
  const x = ellswiftEcdhX(theirs, priv);
  const h = createHash('sha256').update(ECDH_TAG).update(ECDH_TAG);
  if (initiating) h.update(ours).update(theirs);
  else h.update(theirs).update(ours);
  return h.update(x).digest();
}

/** The x coordinate of priv * G (tests). */
export function pubX(priv: bigint): bigint {
  return Point.BASE.multiply(priv).toAffine().x;
}

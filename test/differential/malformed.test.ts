/**
 * Malformed-input differential against bcoin 1.0.2 (in-process, no network). Valid messages of
 * every command both decoders know (the generators of cases.ts) are mutated with a fixed seed:
 * truncated, extended, bytes flipped, a count or length rewritten in a non-canonical CompactSize,
 * a count raised far above what follows. Each mutant goes to invscope's `decodeMessage` and to
 * bcoin's `packets.fromRaw`; where one accepts and the other rejects, the pair must match a row of
 * EXPECTED (a known difference with its reason, also in README.md). Test code, main thread.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { prng } from '../helpers.js';
import { decodeMessage, encodeMessage } from '../../src/protocol/registry.js';
import { Command, type CommandName } from '../../src/protocol/constants.js';
import { WireError } from '../../src/protocol/errors.js';
import { packets, buf, cases } from './cases.js';

/** Valid messages mutated per command (blocks: fewer, each is up to 20 transactions). */
const SEEDS = 80;
const SEED = 0xbad5eed;

// ---------------------------------------------------------------------------------------------
// Where the first CompactSize count or length of each payload sits (Bitcoin Core's layouts).

function firstVarintAt(command: string, p: Uint8Array): number {
  switch (command) {
    case 'addr': case 'inv': case 'getdata': case 'notfound': case 'headers':
    case 'reject': case 'filterload': case 'filteradd':
      return 0;
    case 'getblocks': case 'getheaders':
      return 4; // protocol version
    case 'tx':
      return p[4] === 0 && p[5] === 1 ? 6 : 4; // version, then the segwit marker and flag if any
    case 'version':
      return 80; // version, services, timestamp, two 26-byte addresses, nonce: the user agent length
    case 'block':
      return 80; // header
    case 'merkleblock':
      return 84; // header, total transactions: the hash count
    case 'cmpctblock':
      return 88; // header, nonce: the short id count
    case 'getblocktxn': case 'blocktxn':
      return 32; // block hash
    default:
      return -1; // fixed-size payloads (ping, pong, feefilter, sendcmpct, the empty ones)
  }
}

/** Length and value of the canonical-or-not CompactSize at `at`, or null if it does not fit. */
function readVarint(p: Uint8Array, at: number): { len: number; value: bigint } | null {
  if (at < 0 || at >= p.length) return null;
  const first = p[at]!;
  const len = first < 0xfd ? 1 : first === 0xfd ? 3 : first === 0xfe ? 5 : 9;
  if (at + len > p.length) return null;
  if (len === 1) return { len, value: BigInt(first) };
  let value = 0n;
  for (let i = len - 1; i >= 1; i--) value = (value << 8n) | BigInt(p[at + i]!);
  return { len, value };
}

/** `value` as a CompactSize of the given width (1, 3, 5 or 9 bytes), canonical or not. */
function varintBytes(value: bigint, width: number): Uint8Array {
  const out = new Uint8Array(width);
  out[0] = width === 1 ? Number(value) : width === 3 ? 0xfd : width === 5 ? 0xfe : 0xff;
  for (let i = 1; i < width; i++) out[i] = Number((value >> BigInt(8 * (i - 1))) & 0xffn);
  return out;
}

const splice = (p: Uint8Array, at: number, len: number, put: Uint8Array): Uint8Array => {
  const out = new Uint8Array(p.length - len + put.length);
  out.set(p.subarray(0, at), 0);
  out.set(put, at);
  out.set(p.subarray(at + len), at + put.length);
  return out;
};

// ---------------------------------------------------------------------------------------------
// Mutations. Each returns the mutant or null when it does not apply to this payload.

type Mutation = (p: Uint8Array, rand: () => number, command: string) => Uint8Array | null;

const MUTATIONS: Record<string, Mutation> = {
  'truncated': (p, rand) => (p.length === 0 ? null : p.slice(0, (rand() * p.length) | 0)),
  'last byte cut': (p) => (p.length === 0 ? null : p.slice(0, p.length - 1)),
  'extended': (p, rand) => {
    const out = new Uint8Array(p.length + 1 + ((rand() * 8) | 0));
    out.set(p, 0);
    for (let i = p.length; i < out.length; i++) out[i] = (rand() * 256) | 0;
    return out;
  },
  'byte flipped': (p, rand) => {
    if (p.length === 0) return null;
    const out = p.slice();
    out[(rand() * p.length) | 0]! ^= 1 + ((rand() * 255) | 0);
    return out;
  },
  'three bytes flipped': (p, rand) => {
    if (p.length === 0) return null;
    const out = p.slice();
    for (let k = 0; k < 3; k++) out[(rand() * p.length) | 0]! ^= 1 + ((rand() * 255) | 0);
    return out;
  },
  'count non-canonical': (p, rand, command) => {
    const at = firstVarintAt(command, p);
    const v = readVarint(p, at);
    if (!v) return null;
    const wider = [3, 5, 9].filter((w) => w > v.len);
    return splice(p, at, v.len, varintBytes(v.value, wider[(rand() * wider.length) | 0]!));
  },
  'count oversize': (p, rand, command) => {
    const at = firstVarintAt(command, p);
    const v = readVarint(p, at);
    if (!v) return null;
    // Over Core's item limits, just over MAX_SIZE (0x02000000), 2^32, and the largest u64.
    const big = [50_001n, 0x02000001n, 1n << 32n, (1n << 64n) - 1n][(rand() * 4) | 0]!;
    const width = big < 0x10000n ? 3 : big < 0x100000000n ? 5 : 9;
    return splice(p, at, v.len, varintBytes(big, width));
  },
  'count plus one': (p, _rand, command) => {
    const at = firstVarintAt(command, p);
    const v = readVarint(p, at);
    if (!v || v.len !== 1 || v.value >= 0xfcn) return null;
    return splice(p, at, 1, varintBytes(v.value + 1n, 1));
  },
};

// ---------------------------------------------------------------------------------------------
// Outcomes.

/** invscope's verdict: 'accept' or the WireError code. Anything else thrown is a bug. */
function invscope(command: string, p: Uint8Array): string {
  try {
    decodeMessage(command as CommandName, p);
    return 'accept';
  } catch (e) {
    if (e instanceof WireError) return e.code;
    throw e;
  }
}

/**
 * bcoin's verdict: 'accept' or its error message. A block packet is a lazy `MemBlock` (the header
 * only); its full parse (`toBlock`) is what bcoin's chain does on receipt, so it counts here.
 */
function bcoin(command: string, p: Uint8Array): string {
  try {
    const packet = packets.fromRaw(command, buf(p));
    if (command === 'block') packet.block.toBlock();
    return 'accept';
  } catch (e) {
    return `${(e as Error).message}` || (e as Error).name;
  }
}

// ---------------------------------------------------------------------------------------------
// The known differences. `invscope` and `bcoin` describe the two verdicts ('accept', an invscope
// error code, a pattern on bcoin's message); `commands` limits a row to some commands. README.md
// gives the same table with Bitcoin Core's behaviour beside it.

interface Difference {
  id: string;
  commands?: string[];
  invscope: string;
  bcoin: 'accept' | RegExp;
  why: string;
}

const BEYOND_2_53 = /exceeds 2\^53-1/;

export const EXPECTED: Difference[] = [
  {
    id: 'trailing bytes',
    invscope: 'ERR_WIRE_TRAILING_BYTES',
    bcoin: 'accept',
    why: 'invscope decodes strictly: bytes after the end of a message are malformed. bcoin (and Core) ignore them.',
  },
  {
    id: 'version without its optional tail',
    commands: ['version'],
    invscope: 'ERR_WIRE_TRUNCATED',
    bcoin: 'accept',
    why: 'bcoin (as Core) reads addrFrom+nonce, the user agent and the start height only while bytes remain; invscope requires everything up to startHeight (only relay is optional): such short versions come from pre-106 peers, which the minimum version 31800 drops anyway.',
  },
  {
    id: 'version: 64-bit value above 2^53',
    commands: ['version'],
    invscope: 'accept',
    bcoin: BEYOND_2_53,
    why: 'bcoin reads the int64 timestamp as a JS number and throws above 2^53; Core and invscope read any int64.',
  },
  {
    id: 'version: negative version or timestamp',
    commands: ['version'],
    invscope: 'accept',
    bcoin: /is negative/,
    why: 'bcoin throws; Core deserialises both (a version below 31800 is then a disconnect in peer logic, as in invscope\'s peer).',
  },
  {
    id: 'tx output value above 2^53',
    commands: ['tx', 'block', 'blocktxn', 'cmpctblock'],
    invscope: 'accept',
    bcoin: BEYOND_2_53,
    why: 'bcoin reads int64 values as JS numbers; Core deserialises any int64 (MoneyRange is a consensus check, not a decoding one).',
  },
  {
    id: 'feefilter or sendcmpct above 2^53',
    commands: ['feefilter', 'sendcmpct'],
    invscope: 'accept',
    bcoin: BEYOND_2_53,
    why: 'bcoin reads the 64-bit fee rate and compact-block version as JS numbers; Core and invscope read any 64-bit value.',
  },
  {
    id: 'ping shorter than its nonce',
    commands: ['ping'],
    invscope: 'ERR_WIRE_TRUNCATED',
    bcoin: 'accept',
    why: 'bcoin takes a ping with fewer than 8 bytes as a pre-BIP31 ping without nonce; Core (peers >= 60001) reads the nonce and drops the message when it is missing, as invscope does.',
  },
  {
    id: 'headers entry with a non-zero tx count',
    commands: ['headers'],
    invscope: 'ERR_WIRE_BAD_VALUE',
    bcoin: 'accept',
    why: 'invscope refuses a non-zero transaction count after a header (src/protocol/messages/headers.ts); bcoin and Core read and ignore it.',
  },
  {
    id: 'reject of a tx or block without a full hash',
    commands: ['reject'],
    invscope: 'accept',
    bcoin: /Out of bounds read/,
    why: 'BIP61 appends a 32-byte hash to tx and block rejects; bcoin (as Core before 0.20) reads it and throws when it is short, invscope keeps whatever follows the reason as raw data, so the payload re-encodes exactly.',
  },
  {
    id: 'filterload with more than 50 hash functions',
    commands: ['filterload'],
    invscope: 'ERR_WIRE_BAD_VALUE',
    bcoin: 'accept',
    why: 'invscope refuses nHashFuncs above MAX_HASH_FUNCS (50) when decoding; bcoin and Core decode it and ban the peer afterwards (IsWithinSizeConstraints / isWithinConstraints): refused by all three, at different layers.',
  },
  {
    id: 'filterload with update flags above 2',
    commands: ['filterload'],
    invscope: 'accept',
    bcoin: /Unknown update flag/,
    why: 'bcoin throws on flags it does not know; Core stores the byte and uses only the BLOOM_UPDATE_MASK bits, as invscope keeps it.',
  },
  {
    id: 'sendcmpct mode other than 0 or 1',
    commands: ['sendcmpct'],
    invscope: 'ERR_WIRE_BAD_VALUE',
    bcoin: 'accept',
    why: 'BIP152: the announce flag MUST be 0 or 1, and invscope refuses anything else; bcoin reads a byte, Core a bool (any non-zero is true).',
  },
];

function explain(command: string, inv: string, bc: string): Difference | undefined {
  return EXPECTED.find(
    (d) =>
      (!d.commands || d.commands.includes(command)) &&
      d.invscope === inv &&
      (d.bcoin === 'accept' ? bc === 'accept' : bc !== 'accept' && d.bcoin.test(bc)),
  );
}

// ---------------------------------------------------------------------------------------------

interface Tally {
  mutants: number;
  bothAccept: number;
  bothReject: number;
  seen: Map<string, number>;
  /** Each unexplained kind of difference with its first mutant. */
  unexplained: Map<string, string>;
}

function runCommand(c: (typeof cases)[number], t: Tally): void {
  const rand = prng(SEED + Command[c.command as CommandName]);
  const seeds = Math.min(SEEDS, c.count ?? SEEDS);
  for (let i = 0; i < (c.command === 'block' ? SEEDS / 4 : seeds); i++) {
    const valid = encodeMessage(c.command, c.gen(rand));
    assert.is(invscope(c.command, valid), 'accept');
    assert.is(bcoin(c.command, valid), 'accept');
    for (const [name, mutate] of Object.entries(MUTATIONS)) {
      const m = mutate(valid, rand, c.command);
      if (!m) continue;
      t.mutants++;
      const inv = invscope(c.command, m);
      const bc = bcoin(c.command, m);
      if ((inv === 'accept') === (bc === 'accept')) {
        if (inv === 'accept') t.bothAccept++;
        else t.bothReject++;
        continue;
      }
      const d = explain(c.command, inv, bc);
      if (d) t.seen.set(d.id, (t.seen.get(d.id) ?? 0) + 1);
      else {
        // One line per kind of difference (bcoin's offsets and numbers vary), with a first example.
        const kind = `${c.command}: invscope ${inv}, bcoin ${bc.replace(/\d+/g, 'N')}`;
        if (!t.unexplained.has(kind)) t.unexplained.set(kind, `${name} #${i}: ${Buffer.from(m).toString('hex').slice(0, 120)}`);
      }
    }
  }
}

const tally: Tally = { mutants: 0, bothAccept: 0, bothReject: 0, seen: new Map(), unexplained: new Map() };

test('every mutant of every command: invscope and bcoin agree on accept/reject, or the difference is a known one', () => {
  for (const c of cases) runCommand(c, tally);
  assert.ok(tally.mutants > 10_000, `${tally.mutants} mutants`);
  assert.equal([...tally.unexplained.keys()], [], [...tally.unexplained].map(([k, v]) => `${k} (${v})`).join('\n'));
});

test('every known difference still occurs (a row nothing triggers is stale)', () => {
  const stale = EXPECTED.filter((d) => !tally.seen.has(d.id)).map((d) => d.id);
  assert.equal(stale, []);
});

test('the mutants exercise both sides: some accepted by both, most rejected by both', () => {
  assert.ok(tally.bothAccept > 100, `${tally.bothAccept} accepted by both`);
  assert.ok(tally.bothReject > tally.mutants / 2, `${tally.bothReject} of ${tally.mutants} rejected by both`);
});

test.run();

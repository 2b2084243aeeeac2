/**
 * Protocol constants: networks, wire command strings and their numeric ids, inventory types,
 * service bits and every limit, each with its source. Wire strings live here and nowhere else;
 * hot code switches on the numeric ids.
 * Pure module, any thread.
 */

// ---------------------------------------------------------------------------------------------
// Protocol versions (Bitcoin Core src/node/protocol_version.h)

/** Our protocol version: 70016 is WTXID_RELAY_VERSION, the newest feature version. */
export const PROTOCOL_VERSION = 70016;
/** Peers below this are dropped (Bitcoin Core MIN_PEER_PROTO_VERSION). */
export const MIN_PEER_PROTO_VERSION = 31800;
/** version messages carry the relay flag from this version on (BIP37, 70001). */
export const RELAY_FLAG_VERSION = 70001;

// ---------------------------------------------------------------------------------------------
// Limits

/** Bitcoin Core net.h MAX_PROTOCOL_MESSAGE_LENGTH: the largest v1 payload accepted. */
export const MAX_PROTOCOL_MESSAGE_LENGTH = 4_000_000;
/** Bitcoin Core net_processing.cpp MAX_INV_SZ: inv, getdata and notfound entries. */
export const MAX_INV_SZ = 50_000;
/** Bitcoin Core net_processing.cpp MAX_ADDR_TO_SEND: addr and addrv2 entries. */
export const MAX_ADDR_TO_SEND = 1_000;
/** Bitcoin Core net_processing.cpp MAX_HEADERS_RESULTS: headers per message. */
export const MAX_HEADERS_RESULTS = 2_000;
/** Bitcoin Core net_processing.cpp MAX_LOCATOR_SZ: getheaders/getblocks locator hashes. */
export const MAX_LOCATOR_SZ = 101;
/** Bitcoin Core net.h MAX_SUBVERSION_LENGTH: the version message's user agent. */
export const MAX_SUBVERSION_LENGTH = 256;
/** Bitcoin Core netaddress.h MAX_ADDRV2_SIZE: an addrv2 address's length. */
export const MAX_ADDRV2_SIZE = 512;
/** Bitcoin Core net_processing.cpp MAX_REJECT_MESSAGE_LENGTH (BIP61, removed in Core 0.20). */
export const MAX_REJECT_MESSAGE_LENGTH = 111;
/** Bitcoin Core bloom.h MAX_BLOOM_FILTER_SIZE (BIP37): filterload data bytes. */
export const MAX_BLOOM_FILTER_SIZE = 36_000;
/** Bitcoin Core bloom.h MAX_HASH_FUNCS (BIP37). */
export const MAX_HASH_FUNCS = 50;
/** Bitcoin Core script.h MAX_SCRIPT_ELEMENT_SIZE: filteradd data bytes (BIP37). */
export const MAX_SCRIPT_ELEMENT_SIZE = 520;
/** Bitcoin Core blockfilter.h / net_processing.cpp MAX_GETCFILTERS_SIZE (BIP157). */
export const MAX_GETCFILTERS_SIZE = 1_000;
/** Bitcoin Core net_processing.cpp MAX_GETCFHEADERS_SIZE (BIP157). */
export const MAX_GETCFHEADERS_SIZE = 2_000;
/** Bitcoin Core consensus.h MAX_BLOCK_WEIGHT / WITNESS_SCALE_FACTOR bounds a block's tx count: a tx is >= 60 bytes (stripped). */
export const MAX_BLOCK_WEIGHT = 4_000_000;
/**
 * Bitcoin Core blockencodings.h: BIP152 transaction indexes are uint16_t (CompactSize read with a
 * uint16 limit, DifferenceFormatter "differential value overflow", "indexes overflowed 16 bits").
 */
export const MAX_BIP152_INDEX = 0xffff;

// ---------------------------------------------------------------------------------------------
// Networks (Bitcoin Core src/kernel/chainparams.cpp pchMessageStart, nDefaultPort; BIP94 testnet4)

export interface NetworkParams {
  readonly name: NetworkName;
  /** The magic as a little-endian uint32 of its four wire bytes (what a DataView reads). */
  readonly magic: number;
  readonly magicHex: string;
  readonly defaultPort: number;
  /** DNS seeds (Bitcoin Core chainparams.cpp vSeeds). */
  readonly dnsSeeds: readonly string[];
  readonly genesisHash: string;
}

export type NetworkName = 'mainnet' | 'testnet3' | 'testnet4' | 'signet' | 'regtest';

export const NETWORKS: Readonly<Record<NetworkName, NetworkParams>> = {
  mainnet: {
    name: 'mainnet',
    magic: 0xd9b4bef9,
    magicHex: 'f9beb4d9',
    defaultPort: 8333,
    dnsSeeds: [
      'seed.bitcoin.sipa.be',
      'dnsseed.bluematt.me',
      'dnsseed.bitcoin.dashjr-list-of-p2p-nodes.us',
      'seed.bitcoinstats.com',
      'seed.bitcoin.jonasschnelli.ch',
      'seed.btc.petertodd.net',
      'seed.bitcoin.sprovoost.nl',
      'dnsseed.emzy.de',
      'seed.bitcoin.wiz.biz',
      'seed.mainnet.achownodes.xyz',
    ],
    genesisHash: '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f',
  },
  testnet3: {
    name: 'testnet3',
    magic: 0x0709110b,
    magicHex: '0b110907',
    defaultPort: 18333,
    dnsSeeds: [
      'testnet-seed.bitcoin.jonasschnelli.ch',
      'seed.tbtc.petertodd.net',
      'seed.testnet.bitcoin.sprovoost.nl',
      'testnet-seed.bluematt.me',
      'seed.testnet.achownodes.xyz',
    ],
    genesisHash: '000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943',
  },
  testnet4: {
    name: 'testnet4',
    magic: 0x283f161c,
    magicHex: '1c163f28',
    defaultPort: 48333,
    dnsSeeds: ['seed.testnet4.bitcoin.sprovoost.nl', 'seed.testnet4.wiz.biz'],
    genesisHash: '00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043',
  },
  signet: {
    name: 'signet',
    magic: 0x40cf030a,
    magicHex: '0a03cf40',
    defaultPort: 38333,
    dnsSeeds: ['seed.signet.bitcoin.sprovoost.nl', 'seed.signet.achownodes.xyz'],
    genesisHash: '00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6',
  },
  regtest: {
    name: 'regtest',
    magic: 0xdab5bffa,
    magicHex: 'fabfb5da',
    defaultPort: 18444,
    dnsSeeds: [],
    genesisHash: '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206',
  },
};

/** The default signet challenge (Bitcoin Core chainparams.cpp SigNetParams). */
export const DEFAULT_SIGNET_CHALLENGE =
  '512103ad5e0edad18cb1f0fc0d28a3d4f1f3e445640337489abb10404f2d1e086be430210359ef5021964fe22d6f8e05b2463c9540ce96883fe3b278760f048f5189f2e6c452ae';

// ---------------------------------------------------------------------------------------------
// Commands. Ids are dense small integers so that hot code can switch on them and index arrays.

export const Command = {
  unknown: 0,
  version: 1,
  verack: 2,
  ping: 3,
  pong: 4,
  addr: 5,
  addrv2: 6,
  sendaddrv2: 7,
  getaddr: 8,
  inv: 9,
  getdata: 10,
  notfound: 11,
  tx: 12,
  block: 13,
  headers: 14,
  getheaders: 15,
  getblocks: 16,
  sendheaders: 17,
  feefilter: 18,
  sendcmpct: 19,
  cmpctblock: 20,
  getblocktxn: 21,
  blocktxn: 22,
  wtxidrelay: 23,
  mempool: 24,
  merkleblock: 25,
  filterload: 26,
  filteradd: 27,
  filterclear: 28,
  getcfilters: 29,
  cfilter: 30,
  getcfheaders: 31,
  cfheaders: 32,
  getcfcheckpt: 33,
  cfcheckpt: 34,
  reject: 35,
  sendtxrcncl: 36,
} as const;

export type CommandName = Exclude<keyof typeof Command, 'unknown'>;
export type CommandId = (typeof Command)[keyof typeof Command];
/** Number of command ids, for arrays indexed by id (per-command stats). */
export const COMMAND_COUNT = 37;

/** Command names by id; index 0 is the placeholder for unknown commands. */
export const COMMAND_NAMES: readonly string[] = (() => {
  const names: string[] = new Array(COMMAND_COUNT).fill('');
  for (const [name, id] of Object.entries(Command)) names[id] = name;
  names[0] = '<unknown>';
  return names;
})();

// ---------------------------------------------------------------------------------------------
// Inventory types (Bitcoin Core protocol.h GetDataMsg)

export const MSG_WITNESS_FLAG = 1 << 30;

export const InvType = {
  ERROR: 0,
  MSG_TX: 1,
  MSG_BLOCK: 2,
  /** BIP37 */
  MSG_FILTERED_BLOCK: 3,
  /** BIP152 */
  MSG_CMPCT_BLOCK: 4,
  /** BIP339: inv/getdata by wtxid */
  MSG_WTX: 5,
  MSG_WITNESS_TX: 1 | MSG_WITNESS_FLAG,
  MSG_WITNESS_BLOCK: 2 | MSG_WITNESS_FLAG,
  MSG_FILTERED_WITNESS_BLOCK: 3 | MSG_WITNESS_FLAG,
} as const;

/** The name of an inventory type, or its number as a string when unknown. */
export function invTypeName(type: number): string {
  for (const [name, v] of Object.entries(InvType)) if (v === type) return name;
  return String(type >>> 0);
}

// ---------------------------------------------------------------------------------------------
// Service bits (Bitcoin Core protocol.h ServiceFlags)

export const Services = {
  NODE_NETWORK: 1n << 0n,
  NODE_BLOOM: 1n << 2n,
  NODE_WITNESS: 1n << 3n,
  NODE_COMPACT_FILTERS: 1n << 6n,
  NODE_NETWORK_LIMITED: 1n << 10n,
  /** BIP324 v2 transport */
  NODE_P2P_V2: 1n << 11n,
} as const;

/** Names of the service bits set in `services`; unknown bits appear as `BIT_n`. */
export function serviceNames(services: bigint): string[] {
  const out: string[] = [];
  for (let bit = 0n; bit < 64n; bit++) {
    if ((services >> bit) & 1n) {
      const name = Object.entries(Services).find(([, v]) => v === 1n << bit)?.[0];
      out.push(name ?? `BIT_${bit}`);
    }
  }
  return out;
}

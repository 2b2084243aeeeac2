/**
 * The pool's public surface: the coordinator (main thread), its address book and the port
 * protocol types. Importing it starts no thread; the shard code itself is loaded by the workers.
 */
export { Coordinator, type CoordinatorOptions, type Observation, type ObservationKind, type PeerEvent, type PoolStats, type SeedResolver, type SeedResult, type AddressInfo, type HandlerEvent, type HandlerErrorEvent } from './coordinator/coordinator.js';
export { PoolError, PoolErrorCode } from './coordinator/errors.js';
export { POOL_DEFAULTS, resolveOptions, type ResolvedOptions } from './coordinator/options.js';
export { RecordBatch } from '../observe/batch.js';
export { HashIndex } from '../observe/hashindex.js';
export type { HandlerContext, HandlerSetup, MessageHandler, RawHandler } from './shard/handlers.js';
export { parseHostPort, isHostPort, type HostPort } from './coordinator/hostport.js';
export { AddressBook, PROXIED_NETWORKS, type AddressBookOptions, type AddressRecord, type AddressState } from './coordinator/addressbook.js';
export type { ShardOptions, ShardPeerOptions, ShardTask, ToShard, FromShard, RemoteVersion, LearnedAddress, ShardCounters } from './messages.js';
export { SHARD_DIED, CONNECT_FAILED, INBOUND_PEER_BASE } from './messages.js';

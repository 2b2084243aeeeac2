/**
 * invscope as a library: the codec (`invscope/protocol`), the transports (`invscope/transport`)
 * and the peer (`invscope/peer`), re-exported here for one-line imports. Any thread.
 */
export * from './protocol/index.js';
export * from './transport/index.js';
export * from './peer/index.js';
export { now } from './observe/clock.js';

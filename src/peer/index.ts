/**
 * The peer module's public surface: the sans-I/O Peer, its socket glue and the shared timer.
 * Any thread.
 */
export { Peer, PeerStats, CloseReason, type PeerOptions, type PeerIO, type PeerEvents, type RemoteInfo, type VersionOptions } from './peer.js';
export { connectPeer, listenPeers, attachStream, ConnectError, type ConnectOptions, type ListenOptions } from './net.js';
export { CoarseTimer, sharedTimer, type Tickable } from './timers.js';
export { V1Transport, transportFactory, type PeerTransport, type FrameSink, type TransportKind } from '../transport/seam.js';

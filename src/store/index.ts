/**
 * The store's public surface: the run-directory writer, the first-seen aggregation and the peer
 * session rows. Importing it opens nothing.
 */
export { Store, recoverDir, stagedParts, STAGING_DIR, type StoreOptions, type StoreCounters, type PeerRow, type ItemRow, type TimelineRow } from './store.js';
export { ItemAggregator, type AggregatorOptions } from './items.js';
export { PeerSessions, networkOf } from './peers.js';
export { StoreError } from './errors.js';
export { sampleClock, UNKNOWN_CLOCK, type ClockSample } from './clock.js';
export { makeRunId, VANTAGE_RE } from './runid.js';
export { TABLES, SCHEMA_VERSION, PARQUET_SCHEMA, idTypeOf, type IdType, itemKindOf, invTypeShortName, INV_TYPE_SHORT_NAMES, type TableName } from './schema.js';

/**
 * BIP324 short message type ids (1..28, the BIP's table; Bitcoin Core net.cpp V2_MESSAGE_IDS):
 * a message with one is sent with a 1-byte type, any other with 0x00 and its 12-byte command.
 * Tables indexed by invscope command id and by short id; pure module, any thread.
 */
import { Command, COMMAND_COUNT, type CommandName } from '../../protocol/constants.js';

/** Short id -> command name, index 0 unused ('' = long encoding follows). */
export const V2_SHORT_IDS: readonly ('' | CommandName)[] = [
  '', 'addr', 'block', 'blocktxn', 'cmpctblock', 'feefilter', 'filteradd', 'filterclear',
  'filterload', 'getblocks', 'getblocktxn', 'getdata', 'getheaders', 'headers', 'inv',
  'mempool', 'merkleblock', 'notfound', 'ping', 'pong', 'sendcmpct', 'tx', 'getcfilters',
  'cfilter', 'getcfheaders', 'cfheaders', 'getcfcheckpt', 'cfcheckpt', 'addrv2',
];

/** Largest assigned short id: 29 and up are dropped and counted, as Core does. */
export const V2_MAX_SHORT_ID = V2_SHORT_IDS.length - 1;

/** Short id -> invscope command id. */
export const SHORT_TO_COMMAND: Uint8Array = new Uint8Array(V2_SHORT_IDS.length);
/** invscope command id -> short id, 0 when the command goes long. */
export const COMMAND_TO_SHORT: Uint8Array = new Uint8Array(COMMAND_COUNT);

for (let sid = 1; sid < V2_SHORT_IDS.length; sid++) {
  const id = Command[V2_SHORT_IDS[sid] as CommandName];
  SHORT_TO_COMMAND[sid] = id;
  COMMAND_TO_SHORT[id] = sid;
}

/**
 * The 12-byte command field of a v1 header: lookup to a numeric id without making a string,
 * validation (Bitcoin Core protocol.cpp CMessageHeader::IsMessageTypeValid), and encoding.
 * The lookup reads the field as three little-endian uint32 and probes a small open-addressing
 * table, so the hot path compares three integers instead of decoding a string per frame.
 * Pure module, any thread, hot path.
 */
import { Command, COMMAND_NAMES, type CommandName } from './constants.js';

export const COMMAND_SIZE = 12;

const SLOTS = 128; // power of two, > 2 x the 36 known commands
const keyA = new Uint32Array(SLOTS);
const keyB = new Uint32Array(SLOTS);
const keyC = new Uint32Array(SLOTS);
const ids = new Uint8Array(SLOTS); // 0 = empty slot

function slotOf(a: number, b: number, c: number): number {
  return Math.imul(a ^ Math.imul(b, 0x9e3779b1) ^ Math.imul(c, 0x85ebca77), 0x27d4eb2f) >>> 25;
}

/** The 12 NUL-padded wire bytes of a command string (latin1). Throws on more than 12 bytes. */
export function commandBytes(name: string): Uint8Array {
  if (name.length > COMMAND_SIZE) throw new RangeError(`command longer than 12 bytes: ${JSON.stringify(name)}`);
  const out = new Uint8Array(COMMAND_SIZE);
  for (let i = 0; i < name.length; i++) out[i] = name.charCodeAt(i) & 0xff;
  return out;
}

/** Wire bytes of every known command, indexed by id (index 0 is empty). */
export const COMMAND_BYTES: readonly Uint8Array[] = COMMAND_NAMES.map((n, id) =>
  id === 0 ? new Uint8Array(COMMAND_SIZE) : commandBytes(n),
);

for (let id = 1; id < COMMAND_BYTES.length; id++) {
  const b = COMMAND_BYTES[id]!;
  const dv = new DataView(b.buffer);
  const a = dv.getUint32(0, true);
  const bb = dv.getUint32(4, true);
  const c = dv.getUint32(8, true);
  let s = slotOf(a, bb, c);
  while (ids[s] !== 0) s = (s + 1) & (SLOTS - 1);
  keyA[s] = a;
  keyB[s] = bb;
  keyC[s] = c;
  ids[s] = id;
}

/**
 * The id of the command field at `off` in `view`: a known command's id (> 0), 0 for a valid but
 * unknown command, -1 for malformed bytes (a byte outside 0x20..0x7e before the first NUL, or a
 * non-NUL byte after it).
 */
export function lookupCommand(view: DataView, off: number): number {
  const a = view.getUint32(off, true);
  const b = view.getUint32(off + 4, true);
  const c = view.getUint32(off + 8, true);
  let s = slotOf(a, b, c);
  for (;;) {
    const id = ids[s]!;
    if (id === 0) break;
    if (keyA[s] === a && keyB[s] === b && keyC[s] === c) return id;
    s = (s + 1) & (SLOTS - 1);
  }
  return isCommandValid(view, off) ? 0 : -1;
}

/** Bitcoin Core CMessageHeader::IsMessageTypeValid: printable ASCII, then only NUL padding. */
export function isCommandValid(view: DataView, off: number): boolean {
  let i = 0;
  for (; i < COMMAND_SIZE; i++) {
    const ch = view.getUint8(off + i);
    if (ch === 0) break;
    if (ch < 0x20 || ch > 0x7e) return false;
  }
  for (; i < COMMAND_SIZE; i++) if (view.getUint8(off + i) !== 0) return false;
  return true;
}

/** The command string in the field at `off` (up to the first NUL). Cold path. */
export function commandString(buf: Uint8Array, off: number): string {
  let s = '';
  for (let i = 0; i < COMMAND_SIZE; i++) {
    const ch = buf[off + i]!;
    if (ch === 0) break;
    s += String.fromCharCode(ch);
  }
  return s;
}

/** The id of a command name, 0 when it is not one invscope decodes. */
export function commandId(name: string): number {
  return Object.hasOwn(Command, name) ? (Command as Record<string, number>)[name]! : 0;
}

export function isKnownCommand(name: string): name is CommandName {
  return commandId(name) !== 0 && name !== 'unknown';
}

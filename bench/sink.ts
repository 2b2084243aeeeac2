/**
 * The receive-path work of a `npm run bench` suite (bench/parse.ts): the sink every frame goes
 * to (checksum, inv, addr, headers and tx payloads, block txids), one pass over a stream in 64 KiB
 * chunks, and the checked pass that refuses a corpus with a bad frame or a wrong count.
 * Bench process, single thread; the sink and the pass are the measured hot path.
 */
import { V1Decoder, type V1FrameSink } from '../src/transport/v1.js';
import { Command } from '../src/protocol/constants.js';
import { Reader } from '../src/protocol/reader.js';
import { scanInv, invEntryOffset, invEntryType } from '../src/protocol/messages/inventory.js';
import { decodeAddr } from '../src/protocol/messages/address.js';
import { scanHeaders } from '../src/protocol/messages/headers.js';
import { blockTxidsInto } from '../src/protocol/messages/block.js';
import { scanTx } from '../src/protocol/messages/tx.js';
import { verifySink } from './verify.js';

export const CHUNK = 64 * 1024;

/** The receive-path work every suite does per frame, counting what it saw. */
export class Sink implements V1FrameSink {
  frames = 0;
  bad = 0;
  invEntries = 0;
  invTypes = 0;
  addrEntries = 0;
  headers = 0;
  blockTxs = 0;
  /** tx payloads walked (scanTx: every field's bounds, as a peer's parser must before using one). */
  txs = 0;
  txidsWanted: boolean;
  private readonly r = new Reader();
  private txids = new Uint8Array(32 * 8192);

  constructor(txids: boolean) {
    this.txidsWanted = txids;
  }

  onFrame(cmd: number, buf: Uint8Array, off: number, len: number, ok: boolean): void {
    this.frames++;
    if (!ok) {
      this.bad++;
      return;
    }
    switch (cmd) {
      case Command.inv: {
        const n = scanInv(buf, off, len);
        if (n < 0) {
          this.bad++;
          return;
        }
        this.invEntries += n;
        // Touch every entry as the observation path does (type + hash offset).
        for (let i = 0; i < n; i++) this.invTypes += invEntryType(buf, invEntryOffset(off, n, i));
        return;
      }
      case Command.addr: {
        const r = this.r.reset(buf, off, len);
        const m = decodeAddr(r);
        if (!r.finish()) this.bad++;
        else this.addrEntries += m.addrs.length;
        return;
      }
      case Command.headers: {
        const n = scanHeaders(buf, off, len);
        if (n < 0) this.bad++;
        else this.headers += n;
        return;
      }
      case Command.tx: {
        if (scanTx(buf, off, off + len) !== off + len) this.bad++;
        else this.txs++;
        return;
      }
      case Command.block: {
        if (!this.txidsWanted) return;
        const n = blockTxidsInto(buf, off, off + len, this.txids);
        if (n > this.txids.length / 32) {
          this.txids = new Uint8Array(32 * n);
          blockTxidsInto(buf, off, off + len, this.txids);
        }
        if (n < 0) this.bad++;
        else this.blockTxs += n;
        return;
      }
    }
  }
}

export function chunksOf(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < data.length; o += CHUNK) out.push(data.subarray(o, Math.min(o + CHUNK, data.length)));
  return out;
}

export function pass(chunks: Uint8Array[], magic: number, sink: Sink): number {
  const dec = new V1Decoder(magic, sink);
  for (const c of chunks) if (dec.push(c) !== 0) return dec.fatal;
  return 0;
}

/**
 * One pass over `data` with a fresh sink, refused (thrown, "refusing to report: ...") when the
 * stream has a fatal framing fault, a bad frame, or not the frames and tx payloads `expected`.
 */
export function checkedPass(
  name: string,
  data: Uint8Array,
  withTxids: boolean,
  expected: { frames: number; txs: number } | null,
): { magic: number; chunks: Uint8Array[]; check: Sink } {
  const magic = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
  const chunks = chunksOf(data);
  const check = new Sink(withTxids);
  const fatal = pass(chunks, magic, check);
  if (fatal !== 0) throw new Error(`${name}: the stream has a fatal framing fault (status ${fatal})`);
  const wrong = verifySink(name, check, expected);
  if (wrong !== null) throw new Error(`refusing to report: ${wrong}`);
  return { magic, chunks, check };
}

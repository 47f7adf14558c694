// Recording: runs a machine while writing its events, inputs, periodic state hashes and checkpoints
// into a trace. Replay (replay.ts) runs the same machine from the trace alone and checks the hashes.

import { brotliCompressSync, brotliDecompressSync, constants as zc } from 'node:zlib';
import type { Machine, MachineSnapshot, StopReason } from '../core/machine/machine.js';
import type { MachineEvent } from '../core/machine/events.js';
import { hex64 } from '../core/util/bits.js';
import { pack, unpack, type EventRow, type TraceWriter } from './trace.js';

export interface RecordOptions {
  /** A state hash every this many instructions. */
  hashEvery: number;
  /** A checkpoint every this many instructions. */
  checkpointEvery: number;
  maxInsns?: number;
  /** Called with every event after it is recorded (the CLI prints serial output). */
  onEvent?: (e: MachineEvent) => void;
  /** Called with the instruction count now and then (a progress display). */
  onProgress?: (icount: number) => void;
}

// A state hash reads all of RAM, so it is kept well apart (an incremental page hash is future work).
export const DEFAULT_RECORD: RecordOptions = { hashEvery: 10_000_000, checkpointEvery: 50_000_000 };

/** The indexed columns of an event row (the views in traces/FORMAT.md read these). */
export function eventRow(e: MachineEvent): EventRow {
  const row: EventRow = { icount: e.icount, vp: e.vp, vtl: 'vtl' in e ? (e as { vtl: number }).vtl : null, kind: e.kind, payload: pack(e) };
  switch (e.kind) {
    case 'vtl-switch': row.vtl = e.from; row.from_vtl = e.from; row.to_vtl = e.to; row.reason = e.reason; row.rip = hex64(e.ripAfterLo, e.ripAfterHi); break;
    case 'intercept': row.code = e.type; row.gpa = e.gpa; row.access = e.access; row.register = e.register; row.rip = hex64(e.ripLo, e.ripHi); break;
    case 'hypercall': row.code = e.code; row.status = e.status; break;
    case 'hypercall-start': row.code = e.code; break;
    case 'protection': row.gpa = e.gpn; row.code = e.mask; break;
    case 'serial': row.code = e.byte; break;
    case 'exception': row.code = e.vector; row.rip = hex64(e.ripLo, e.ripHi); break;
    case 'interrupt': case 'ipi': row.code = e.vector; break;
    case 'timer': row.code = e.timer; break;
    case 'message': row.code = e.type; break;
    case 'event-signal': row.code = e.flag; break;
    case 'debug-exit': row.code = e.value; break;
    case 'vp-start': row.rip = hex64(e.ripLo, e.ripHi); break;
    case 'unimplemented': case 'unhandled-hypercall': row.rip = hex64(e.ripLo, e.ripHi); break;
  }
  return row;
}

/**
 * Checkpoint encoding "msgpack+brotli/delta-v1": the machine snapshot with RAM replaced by the pages
 * written since the previous checkpoint (`base`); the first checkpoint carries every non-zero page.
 */
export function encodeCheckpoint(m: Machine, first: boolean): Uint8Array {
  const snap = m.save({ ram: false }) as Partial<MachineSnapshot> & { pages?: [number, Uint8Array][] };
  const ram = m.mem.ram;
  delete snap.ram;
  const dirty = m.mem.takeDirtyPages();
  const pages: [number, Uint8Array][] = [];
  const list = first ? Array.from({ length: ram.length / 4096 }, (_, k) => k) : dirty;
  const words = new Int32Array(ram.buffer, ram.byteOffset, ram.length >>> 2);
  for (const p of list) {
    if (first && zeroPage(words, p)) continue;
    pages.push([p, ram.slice(p * 4096, p * 4096 + 4096)]);
  }
  snap.pages = pages;
  return brotliCompressSync(pack(snap), { params: { [zc.BROTLI_PARAM_QUALITY]: 1 } });
}

function zeroPage(words: Int32Array, p: number): boolean {
  for (let k = p * 1024, end = k + 1024; k < end; k++) if (words[k] !== 0) return false;
  return true;
}

export function decodeCheckpoint(data: Uint8Array): MachineSnapshot & { pages: [number, Uint8Array][] } {
  return unpack(brotliDecompressSync(data)) as MachineSnapshot & { pages: [number, Uint8Array][] };
}

/** Run `m` to its end (or maxInsns), recording into `w`. */
export function recordRun(m: Machine, w: TraceWriter, o: RecordOptions): StopReason {
  m.observer = { event: (e) => { w.event(eventRow(e)); o.onEvent?.(e); } };
  // The boot processor's start happened while the machine was built, before anyone observed it.
  if (m.icount() === 0) {
    const st = m.vps[0].cpu.st;
    w.event(eventRow({ kind: 'vp-start', icount: 0, vp: 0, ripLo: st.ripLo, ripHi: st.ripHi, reason: 'boot' }));
  }
  m.mem.takeDirtyPages();
  w.checkpoint(0, null, 'msgpack+brotli/delta-v1', encodeCheckpoint(m, true));
  let lastCheckpoint = 0;
  w.hash(0, m.stateHash());
  const limit = o.maxInsns ?? Infinity;
  for (;;) {
    const now = m.icount();
    const nextHash = (Math.floor(now / o.hashEvery) + 1) * o.hashEvery;
    const stop = m.run(Math.min(nextHash, limit));
    const at = m.icount();
    o.onProgress?.(at);
    if (stop.kind === 'max-insns' && at < limit) {
      w.hash(at, m.stateHash());
      if (at - lastCheckpoint >= o.checkpointEvery) {
        w.checkpoint(at, lastCheckpoint, 'msgpack+brotli/delta-v1', encodeCheckpoint(m, false));
        lastCheckpoint = at;
      }
      continue;
    }
    w.hash(at, m.stateHash());
    return stop;
  }
}

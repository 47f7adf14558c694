// Debugger writes as inputs. A write made at the live edge of a recording changes the machine's
// future, so it is part of history: the trace keeps it with the instruction count at which it was
// applied, and replay (and every re-execution after a seek) applies it again at that count.

import type { Machine } from '../core/machine/machine.js';
import { REGISTERS, REGISTER_INDEX } from './registers.js';
import { regContext } from './regcontext.js';
import { pack, unpack } from './trace.js';

export type DebuggerWrite =
  | { kind: 'mem-write'; gpa: number; bytes: Uint8Array }
  | { kind: 'reg-write'; vp: number; vtl: number; reg: string; value: bigint };

/** Apply a debugger write to the machine (the same code for the live write and for every replay). */
export function applyWrite(m: Machine, w: DebuggerWrite): void {
  if (w.kind === 'mem-write') {
    if (w.gpa < 0 || w.gpa + w.bytes.length > m.mem.size) throw new Error(`write outside RAM at GPA 0x${w.gpa.toString(16)}`);
    for (let k = 0; k < w.bytes.length; k++) {
      const pa = w.gpa + k;
      // Through the access port's physical write: decoded code on the page is dropped, dirty tracking sees it.
      m.vps[0].vtls[0]!.cpu.mmu.physWrite(pa, 1, w.bytes[k]);
    }
    return;
  }
  const idx = REGISTER_INDEX.get(w.reg);
  const def = idx === undefined ? undefined : REGISTERS[idx];
  if (!def?.set) throw new Error(`register ${w.reg} cannot be written`);
  def.set(regContext(m, w.vp, w.vtl), w.value);
}

/** Trace encoding of a write (inputs table: kind, data). */
export function encodeWrite(w: DebuggerWrite): Uint8Array {
  return w.kind === 'mem-write' ? pack({ gpa: w.gpa, bytes: w.bytes }) : pack({ vp: w.vp, vtl: w.vtl, reg: w.reg, value: w.value.toString(16) });
}

export function decodeWrite(kind: string, data: Uint8Array): DebuggerWrite {
  const o = unpack(data) as Record<string, unknown>;
  if (kind === 'mem-write' && typeof o.gpa === 'number' && o.bytes instanceof Uint8Array) return { kind, gpa: o.gpa, bytes: o.bytes };
  if (kind === 'reg-write' && typeof o.vp === 'number' && typeof o.vtl === 'number' && typeof o.reg === 'string' && typeof o.value === 'string' && /^[0-9a-f]+$/.test(o.value)) {
    return { kind, vp: o.vp, vtl: o.vtl, reg: o.reg, value: BigInt('0x' + o.value) };
  }
  throw new Error(`malformed '${kind}' input`);
}

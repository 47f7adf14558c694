// x87: the control and status instructions that start-up code uses (FNINIT, FNCLEX, FLDCW, FNSTCW,
// FNSTSW). x87 arithmetic is not implemented: those encodings raise #UD and are reported.

import type { Cpu } from '../cpu.js';
import { Fault } from '../cpu.js';
import type { Insn } from '../decode/insn.js';
import { CR0, EXC } from '../defs/arch.js';

export function execX87(c: Cpu, i: Insn): boolean {
  const st = c.st;
  if (st.cr0 & (CR0.EM | CR0.TS)) throw new Fault(st.cr0 & CR0.EM ? EXC.NM : EXC.NM);
  const esc = i.sub; // 0..7 for D8..DF
  if (i.mod === 3) {
    const modrm = 0xc0 | ((i.reg & 7) << 3) | (i.rm & 7);
    if (esc === 3 && modrm === 0xe3) { st.fcw = 0x37f; st.fsw = 0; st.ftw = 0; return true; } // FNINIT
    if (esc === 3 && modrm === 0xe2) { st.fsw &= 0x7f00; return true; } // FNCLEX
    if (esc === 7 && modrm === 0xe0) { st.lo[0] = (st.lo[0] & ~0xffff) | st.fsw; return true; } // FNSTSW AX
    return false;
  }
  const r = i.reg & 7;
  if (esc === 1 && r === 5) { c.ea(i); st.fcw = c.readMem(2); return true; } // FLDCW
  if (esc === 1 && r === 7) { c.ea(i); c.writeMem(2, st.fcw, 0); return true; } // FNSTCW
  if (esc === 5 && r === 7) { c.ea(i); c.writeMem(2, st.fsw, 0); return true; } // FNSTSW m16
  return false;
}

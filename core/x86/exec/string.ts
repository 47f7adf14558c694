// String instructions with REP/REPE/REPNE. A REP instruction runs at most CHUNK iterations per
// execution and then leaves RIP on itself, so interrupts and the instruction budget stay responsive;
// each chunk counts as one retired instruction (deterministic either way).

import type { Cpu } from '../cpu.js';
import type { Insn } from '../decode/insn.js';
import { PFX } from '../decode/insn.js';
import { ALU } from '../decode/ops.js';
import { FLAG, SEG } from '../defs/arch.js';
import { aluOp } from './alu.js';

const CHUNK = 4096;

function addrReg(c: Cpu, r: number, asz: number): [number, number] {
  const st = c.st;
  return asz === 8 ? [st.lo[r], st.hi[r]] : asz === 4 ? [st.lo[r], 0] : [st.lo[r] & 0xffff, 0];
}

function advance(c: Cpu, r: number, asz: number, delta: number): void {
  const st = c.st;
  if (asz === 8) {
    const s = (st.lo[r] >>> 0) + delta;
    st.hi[r] = (st.hi[r] + (s > 0xffffffff ? 1 : s < 0 ? -1 : 0)) | 0; st.lo[r] = s | 0;
  } else if (asz === 4) { st.lo[r] = (st.lo[r] + delta) | 0; if (c.long) st.hi[r] = 0; }
  else st.lo[r] = (st.lo[r] & ~0xffff) | ((st.lo[r] + delta) & 0xffff);
}

function countZero(c: Cpu, asz: number): boolean {
  const st = c.st;
  return asz === 8 ? (st.lo[1] | st.hi[1]) === 0 : asz === 4 ? st.lo[1] === 0 : (st.lo[1] & 0xffff) === 0;
}

type Kind = 'movs' | 'cmps' | 'stos' | 'lods' | 'scas' | 'ins' | 'outs';

export function execString(c: Cpu, i: Insn, kind: Kind): void {
  const st = c.st;
  const size = i.osz;
  const asz = i.asz;
  const rep = (i.pfx & (PFX.REP | PFX.REPNE)) !== 0;
  const delta = st.flags & FLAG.DF ? -size : size;
  const compares = kind === 'cmps' || kind === 'scas';
  const repne = (i.pfx & PFX.REPNE) !== 0;
  let n = 0;
  for (;;) {
    if (rep && countZero(c, asz)) return;
    switch (kind) {
      case 'movs': {
        const [slo, shi] = addrReg(c, 6, asz);
        c.linear(i.seg, slo, shi);
        const v = c.readMem(size); const vh = c.vhi;
        const [dlo, dhi] = addrReg(c, 7, asz);
        c.linear(SEG.ES, dlo, dhi);
        c.writeMem(size, v, vh);
        advance(c, 6, asz, delta); advance(c, 7, asz, delta);
        break;
      }
      case 'stos': {
        const [dlo, dhi] = addrReg(c, 7, asz);
        c.linear(SEG.ES, dlo, dhi);
        c.writeMem(size, c.getReg(size, 0), c.vhi);
        advance(c, 7, asz, delta);
        break;
      }
      case 'lods': {
        const [slo, shi] = addrReg(c, 6, asz);
        c.linear(i.seg, slo, shi);
        const v = c.readMem(size);
        c.setReg(size, 0, v, c.vhi);
        advance(c, 6, asz, delta);
        break;
      }
      case 'cmps': {
        const [slo, shi] = addrReg(c, 6, asz);
        c.linear(i.seg, slo, shi);
        const a = c.readMem(size); const ah = c.vhi;
        const [dlo, dhi] = addrReg(c, 7, asz);
        c.linear(SEG.ES, dlo, dhi);
        const b = c.readMem(size); const bh = c.vhi;
        aluOp(c, ALU.CMP, size, a, size === 8 ? ah : 0, b, size === 8 ? bh : 0);
        advance(c, 6, asz, delta); advance(c, 7, asz, delta);
        break;
      }
      case 'scas': {
        const [dlo, dhi] = addrReg(c, 7, asz);
        c.linear(SEG.ES, dlo, dhi);
        const b = c.readMem(size); const bh = c.vhi;
        const a = c.getReg(size, 0); const ah = c.vhi;
        aluOp(c, ALU.CMP, size, a, size === 8 ? ah : 0, b, size === 8 ? bh : 0);
        advance(c, 7, asz, delta);
        break;
      }
      case 'ins': {
        const [dlo, dhi] = addrReg(c, 7, asz);
        c.linear(SEG.ES, dlo, dhi);
        c.mmu.probe(c.eaLo, c.eaHi, size, 1);
        const v = c.host.ioRead(st.lo[2] & 0xffff, size as 1 | 2 | 4);
        c.writeMem(size, v, 0);
        advance(c, 7, asz, delta);
        break;
      }
      case 'outs': {
        const [slo, shi] = addrReg(c, 6, asz);
        c.linear(i.seg, slo, shi);
        const v = c.readMem(size);
        c.host.ioWrite(st.lo[2] & 0xffff, size as 1 | 2 | 4, size === 4 ? v >>> 0 : v);
        advance(c, 6, asz, delta);
        break;
      }
    }
    if (!rep) return;
    advance(c, 1, asz, -1);
    if (compares && (repne ? c.zf() : !c.zf())) return;
    if (++n >= CHUNK && !countZero(c, asz)) {
      // Not finished: execute this instruction again (RIP back to its start).
      st.ripLo = c.startLo; st.ripHi = c.startHi;
      return;
    }
  }
}

// SSE/SSE2 data movement and integer operations, MXCSR, FXSAVE/FXRSTOR. XMM registers are four
// int32 lanes each in CpuState.xmm. Floating-point SSE arithmetic is not implemented (#UD, reported).

import type { Cpu } from '../cpu.js';
import { Fault } from '../cpu.js';
import type { Insn } from '../decode/insn.js';
import { FORM, PFX } from '../decode/insn.js';
import { OP } from '../decode/ops.js';
import { CR0, CR4, EXC } from '../defs/arch.js';

/** #UD/#NM checks common to every SSE instruction. */
export function sseAvailable(c: Cpu): void {
  const st = c.st;
  if (st.cr0 & CR0.EM || !(st.cr4 & CR4.OSFXSR)) throw new Fault(EXC.UD);
  if (st.cr0 & CR0.TS) throw new Fault(EXC.NM);
}

/**
 * Scratch vectors of the SSE handlers, one set per CPU (Cpu.sse): core/ keeps no module-level mutable
 * state. a and b are the operands and r the result, 16 bytes each seen through several typed views.
 */
export class SseScratch {
  readonly tmp = new Int32Array(4);
  readonly a8 = new Uint8Array(16);
  readonly b8 = new Uint8Array(16);
  readonly r8 = new Uint8Array(16);
  readonly a16 = new Int16Array(this.a8.buffer);
  readonly b16 = new Int16Array(this.b8.buffer);
  readonly r16 = new Int16Array(this.r8.buffer);
  readonly a32 = new Int32Array(this.a8.buffer);
  readonly b32 = new Int32Array(this.b8.buffer);
  readonly r32 = new Int32Array(this.r8.buffer);
  readonly as8 = new Int8Array(this.a8.buffer);
  readonly bs8 = new Int8Array(this.b8.buffer);
  readonly au16 = new Uint16Array(this.a8.buffer);
  readonly bu16 = new Uint16Array(this.b8.buffer);
}

/** Load the r/m XMM operand (register or 16 bytes of memory) into dst. */
function loadW(c: Cpu, i: Insn, dst: Int32Array, aligned: boolean): void {
  if (i.mod === 3) { const b = i.rm * 4; for (let k = 0; k < 4; k++) dst[k] = c.st.xmm[b + k]; return; }
  c.ea(i);
  if (aligned && (c.eaLo & 15)) throw new Fault(EXC.GP, 0);
  const lo = c.eaLo, hi = c.eaHi;
  // Probe the whole operand first so a fault in the second half leaves nothing half-read.
  c.mmu.probe(lo, hi, 16, 0);
  dst[0] = c.readMem(8); dst[1] = c.vhi;
  c.eaLo = (lo + 8) | 0; c.eaHi = (lo >>> 0) + 8 > 0xffffffff ? (hi + 1) | 0 : hi;
  dst[2] = c.readMem(8); dst[3] = c.vhi;
  c.eaLo = lo; c.eaHi = hi;
}

function storeW(c: Cpu, i: Insn, src: Int32Array | number[], aligned: boolean): void {
  if (i.mod === 3) { const b = i.rm * 4; for (let k = 0; k < 4; k++) c.st.xmm[b + k] = src[k]; return; }
  c.ea(i);
  if (aligned && (c.eaLo & 15)) throw new Fault(EXC.GP, 0);
  const lo = c.eaLo, hi = c.eaHi;
  c.mmu.probe(lo, hi, 16, 1);
  c.writeMem(8, src[0], src[1]);
  c.eaLo = (lo + 8) | 0; c.eaHi = (lo >>> 0) + 8 > 0xffffffff ? (hi + 1) | 0 : hi;
  c.writeMem(8, src[2], src[3]);
}

export function execSseMove(c: Cpu, i: Insn): void {
  sseAvailable(c);
  const x = c.st.xmm;
  const g = i.reg * 4;
  const aligned = i.sub === 1;
  switch (i.op) {
    case OP.MOVUPS: {
      const tmp = c.sse.tmp;
      if (i.form === FORM.GE) { loadW(c, i, tmp, aligned); for (let k = 0; k < 4; k++) x[g + k] = tmp[k]; }
      else { for (let k = 0; k < 4; k++) tmp[k] = x[g + k]; storeW(c, i, tmp, aligned); }
      return;
    }
    case OP.MOVSS: case OP.MOVSD: {
      const n = i.op === OP.MOVSS ? 1 : 2;
      if (i.form === FORM.GE) {
        if (i.mod === 3) { for (let k = 0; k < n; k++) x[g + k] = x[i.rm * 4 + k]; }
        else {
          c.ea(i);
          const v = c.readMem(n * 4); const vh = c.vhi;
          x[g] = v; x[g + 1] = n === 2 ? vh : 0; x[g + 2] = 0; x[g + 3] = 0;
        }
      } else if (i.mod === 3) { for (let k = 0; k < n; k++) x[i.rm * 4 + k] = x[g + k]; }
      else { c.ea(i); c.writeMem(n * 4, x[g], x[g + 1]); }
      return;
    }
    case OP.MOVLPS: case OP.MOVHPS: {
      const off = i.op === OP.MOVLPS ? 0 : 2;
      if (i.form === FORM.GE) {
        if (i.mod === 3) {
          // MOVHLPS / MOVLHPS register forms.
          const s = i.rm * 4;
          if (off === 0) { x[g] = x[s + 2]; x[g + 1] = x[s + 3]; } else { x[g + 2] = x[s]; x[g + 3] = x[s + 1]; }
        } else { c.ea(i); const v = c.readMem(8); x[g + off] = v; x[g + off + 1] = c.vhi; }
      } else { c.ea(i); c.writeMem(8, x[g + off], x[g + off + 1]); }
      return;
    }
    case OP.MOVD: {
      const wide = (i.pfx & PFX.REXW) !== 0;
      if (i.form === FORM.GE) {
        const v = c.readE(i, wide ? 8 : 4);
        x[g] = v; x[g + 1] = wide ? c.vhi : 0; x[g + 2] = 0; x[g + 3] = 0;
      } else {
        if (i.mod !== 3) c.ea(i);
        c.writeE(i, wide ? 8 : 4, x[g], x[g + 1]);
      }
      return;
    }
    case OP.MOVQ: {
      if (i.form === FORM.GE) {
        let lo: number, hi: number;
        if (i.mod === 3) { lo = x[i.rm * 4]; hi = x[i.rm * 4 + 1]; }
        else { c.ea(i); lo = c.readMem(8); hi = c.vhi; }
        x[g] = lo; x[g + 1] = hi; x[g + 2] = 0; x[g + 3] = 0;
      } else if (i.mod === 3) {
        const d = i.rm * 4;
        x[d] = x[g]; x[d + 1] = x[g + 1]; x[d + 2] = 0; x[d + 3] = 0;
      } else { c.ea(i); c.writeMem(8, x[g], x[g + 1]); }
      return;
    }
  }
}

const sat8 = (v: number) => (v > 127 ? 127 : v < -128 ? -128 : v);
const sat16 = (v: number) => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);
const usat8 = (v: number) => (v > 255 ? 255 : v < 0 ? 0 : v);
const usat16 = (v: number) => (v > 65535 ? 65535 : v < 0 ? 0 : v);

/** Shift count from the low 64 bits of an XMM operand (saturating to 'too large'). */
function countOf(b: Int32Array): number {
  return b[1] !== 0 || (b[0] >>> 0) > 255 ? 255 : b[0] >>> 0;
}

/** A lane shift: lane width (16, 32, 64) times 4, plus 0 logical right, 1 arithmetic right, 2 left. */
type ShiftKind = number;
/** The ShiftKind of a PSRL / PSRA / PSLL name of W, D or Q lanes (computed once per name, not per use). */
function shiftKind(op: string): ShiftKind {
  const bits = op.endsWith('W') ? 16 : op.endsWith('D') ? 32 : 64;
  return bits * 4 + (op.startsWith('PSLL') ? 2 : op.startsWith('PSRA') ? 1 : 0);
}

/** Shift the lanes of s.a into s.r. */
function shiftLanes(s: SseScratch, kind: ShiftKind, count: number): void {
  const bits = kind >> 2;
  const left = (kind & 3) === 2, arith = (kind & 3) === 1;
  const { a16, r16, a32, r32 } = s;
  if (bits === 64) {
    // Two 64-bit lanes as int32 halves (logical shifts only: there is no PSRAQ).
    for (let k = 0; k < 4; k += 2) {
      const lo = a32[k], hi = a32[k + 1];
      if (count > 63) { r32[k] = 0; r32[k + 1] = 0; }
      else if (count === 0) { r32[k] = lo; r32[k + 1] = hi; }
      else if (left) {
        r32[k] = count < 32 ? lo << count : 0;
        r32[k + 1] = count < 32 ? (hi << count) | (lo >>> (32 - count)) : lo << (count - 32);
      } else {
        r32[k] = count < 32 ? (lo >>> count) | (hi << (32 - count)) : hi >>> (count - 32);
        r32[k + 1] = count < 32 ? hi >>> count : 0;
      }
    }
    return;
  }
  const n = 128 / bits;
  for (let k = 0; k < n; k++) {
    if (bits === 16) {
      const v = a16[k];
      r16[k] = arith ? v >> Math.min(count, 15) : count > 15 ? 0 : left ? v << count : (v & 0xffff) >>> count;
    } else {
      const v = a32[k];
      r32[k] = arith ? v >> Math.min(count, 31) : count > 31 ? 0 : left ? v << count : v >>> count;
    }
  }
}

/** Unsigned 32 × 32 → 64-bit product of s.a32[k] and s.b32[k] into s.r32[k], s.r32[k + 1] (16-bit limbs stay exact). */
function mulLane(s: SseScratch, k: number): void {
  const x = s.a32[k] >>> 0, y = s.b32[k] >>> 0;
  const x0 = x & 0xffff, x1 = x >>> 16, y0 = y & 0xffff, y1 = y >>> 16;
  const p00 = x0 * y0, p01 = x0 * y1, p10 = x1 * y0, p11 = x1 * y1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  s.r32[k] = ((mid & 0xffff) << 16) | (p00 & 0xffff);
  s.r32[k + 1] = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
}

/** 64-bit lane add (sub) of s.a and s.b into s.r, on int32 halves. */
function addLanes64(s: SseScratch, sub: boolean): void {
  const { a32, b32, r32 } = s;
  for (let k = 0; k < 4; k += 2) {
    const a = a32[k], b = b32[k];
    const lo = sub ? (a - b) | 0 : (a + b) | 0;
    const carry = sub ? ((a >>> 0) < (b >>> 0) ? 1 : 0) : ((lo >>> 0) < (a >>> 0) ? 1 : 0);
    r32[k] = lo;
    r32[k + 1] = sub ? a32[k + 1] - b32[k + 1] - carry : a32[k + 1] + b32[k + 1] + carry;
  }
}

import { SSEINT_NAMES, SSESHIFTI_NAMES, PSHUF_NAMES } from '../decode/ops.js';

const SHIFT_PSRLW = shiftKind('PSRLW'), SHIFT_PSRLD = shiftKind('PSRLD'), SHIFT_PSRLQ = shiftKind('PSRLQ');
const SHIFT_PSRAW = shiftKind('PSRAW'), SHIFT_PSRAD = shiftKind('PSRAD');
const SHIFT_PSLLW = shiftKind('PSLLW'), SHIFT_PSLLD = shiftKind('PSLLD'), SHIFT_PSLLQ = shiftKind('PSLLQ');
/** ShiftKind of each immediate-count shift by sub (PSRLDQ / PSLLDQ are byte shifts and unused here). */
const SHIFTI_KIND: readonly ShiftKind[] = SSESHIFTI_NAMES.map(shiftKind);

/** An SSE integer operation: s.a and s.b in, s.r out. */
type Lanes = (s: SseScratch) => void;

/** The SSE integer operations by name (a Record, so the compiler checks that every name has one). */
const SSEINT_OPS: Record<(typeof SSEINT_NAMES)[number], Lanes> = {
  PAND: ({ r32, a32, b32 }) => { for (let k = 0; k < 4; k++) r32[k] = a32[k] & b32[k]; },
  PANDN: ({ r32, a32, b32 }) => { for (let k = 0; k < 4; k++) r32[k] = ~a32[k] & b32[k]; },
  POR: ({ r32, a32, b32 }) => { for (let k = 0; k < 4; k++) r32[k] = a32[k] | b32[k]; },
  PXOR: ({ r32, a32, b32 }) => { for (let k = 0; k < 4; k++) r32[k] = a32[k] ^ b32[k]; },
  PUNPCKLBW: ({ r8, a8, b8 }) => { for (let k = 0; k < 8; k++) { r8[2 * k] = a8[k]; r8[2 * k + 1] = b8[k]; } },
  PUNPCKHBW: ({ r8, a8, b8 }) => { for (let k = 0; k < 8; k++) { r8[2 * k] = a8[k + 8]; r8[2 * k + 1] = b8[k + 8]; } },
  PUNPCKLWD: ({ r16, a16, b16 }) => { for (let k = 0; k < 4; k++) { r16[2 * k] = a16[k]; r16[2 * k + 1] = b16[k]; } },
  PUNPCKHWD: ({ r16, a16, b16 }) => { for (let k = 0; k < 4; k++) { r16[2 * k] = a16[k + 4]; r16[2 * k + 1] = b16[k + 4]; } },
  PUNPCKLDQ: ({ r32, a32, b32 }) => { r32[0] = a32[0]; r32[1] = b32[0]; r32[2] = a32[1]; r32[3] = b32[1]; },
  PUNPCKHDQ: ({ r32, a32, b32 }) => { r32[0] = a32[2]; r32[1] = b32[2]; r32[2] = a32[3]; r32[3] = b32[3]; },
  PUNPCKLQDQ: ({ r32, a32, b32 }) => { r32[0] = a32[0]; r32[1] = a32[1]; r32[2] = b32[0]; r32[3] = b32[1]; },
  PUNPCKHQDQ: ({ r32, a32, b32 }) => { r32[0] = a32[2]; r32[1] = a32[3]; r32[2] = b32[2]; r32[3] = b32[3]; },
  PACKSSWB: ({ r8, a16, b16 }) => { for (let k = 0; k < 8; k++) { r8[k] = sat8(a16[k]) & 0xff; r8[k + 8] = sat8(b16[k]) & 0xff; } },
  PACKUSWB: ({ r8, a16, b16 }) => { for (let k = 0; k < 8; k++) { r8[k] = usat8(a16[k]); r8[k + 8] = usat8(b16[k]); } },
  PACKSSDW: ({ r16, a32, b32 }) => { for (let k = 0; k < 4; k++) { r16[k] = sat16(a32[k]); r16[k + 4] = sat16(b32[k]); } },
  PCMPGTB: ({ r8, as8, bs8 }) => { for (let k = 0; k < 16; k++) r8[k] = as8[k] > bs8[k] ? 0xff : 0; },
  PCMPGTW: ({ r16, a16, b16 }) => { for (let k = 0; k < 8; k++) r16[k] = a16[k] > b16[k] ? -1 : 0; },
  PCMPGTD: ({ r32, a32, b32 }) => { for (let k = 0; k < 4; k++) r32[k] = a32[k] > b32[k] ? -1 : 0; },
  PCMPEQB: ({ r8, a8, b8 }) => { for (let k = 0; k < 16; k++) r8[k] = a8[k] === b8[k] ? 0xff : 0; },
  PCMPEQW: ({ r16, a16, b16 }) => { for (let k = 0; k < 8; k++) r16[k] = a16[k] === b16[k] ? -1 : 0; },
  PCMPEQD: ({ r32, a32, b32 }) => { for (let k = 0; k < 4; k++) r32[k] = a32[k] === b32[k] ? -1 : 0; },
  PSRLW: (s) => shiftLanes(s, SHIFT_PSRLW, countOf(s.b32)),
  PSRLD: (s) => shiftLanes(s, SHIFT_PSRLD, countOf(s.b32)),
  PSRLQ: (s) => shiftLanes(s, SHIFT_PSRLQ, countOf(s.b32)),
  PSRAW: (s) => shiftLanes(s, SHIFT_PSRAW, countOf(s.b32)),
  PSRAD: (s) => shiftLanes(s, SHIFT_PSRAD, countOf(s.b32)),
  PSLLW: (s) => shiftLanes(s, SHIFT_PSLLW, countOf(s.b32)),
  PSLLD: (s) => shiftLanes(s, SHIFT_PSLLD, countOf(s.b32)),
  PSLLQ: (s) => shiftLanes(s, SHIFT_PSLLQ, countOf(s.b32)),
  PADDB: ({ r8, a8, b8 }) => { for (let k = 0; k < 16; k++) r8[k] = a8[k] + b8[k]; },
  PADDW: ({ r16, a16, b16 }) => { for (let k = 0; k < 8; k++) r16[k] = a16[k] + b16[k]; },
  PADDD: ({ r32, a32, b32 }) => { for (let k = 0; k < 4; k++) r32[k] = a32[k] + b32[k]; },
  PADDQ: (s) => { addLanes64(s, false); },
  PSUBB: ({ r8, a8, b8 }) => { for (let k = 0; k < 16; k++) r8[k] = a8[k] - b8[k]; },
  PSUBW: ({ r16, a16, b16 }) => { for (let k = 0; k < 8; k++) r16[k] = a16[k] - b16[k]; },
  PSUBD: ({ r32, a32, b32 }) => { for (let k = 0; k < 4; k++) r32[k] = a32[k] - b32[k]; },
  PSUBQ: (s) => { addLanes64(s, true); },
  PADDSB: ({ r8, as8, bs8 }) => { for (let k = 0; k < 16; k++) r8[k] = sat8(as8[k] + bs8[k]) & 0xff; },
  PADDSW: ({ r16, a16, b16 }) => { for (let k = 0; k < 8; k++) r16[k] = sat16(a16[k] + b16[k]); },
  PADDUSB: ({ r8, a8, b8 }) => { for (let k = 0; k < 16; k++) r8[k] = usat8(a8[k] + b8[k]); },
  PADDUSW: ({ r16, au16, bu16 }) => { for (let k = 0; k < 8; k++) r16[k] = usat16(au16[k] + bu16[k]); },
  PSUBSB: ({ r8, as8, bs8 }) => { for (let k = 0; k < 16; k++) r8[k] = sat8(as8[k] - bs8[k]) & 0xff; },
  PSUBSW: ({ r16, a16, b16 }) => { for (let k = 0; k < 8; k++) r16[k] = sat16(a16[k] - b16[k]); },
  PSUBUSB: ({ r8, a8, b8 }) => { for (let k = 0; k < 16; k++) r8[k] = usat8(a8[k] - b8[k]); },
  PSUBUSW: ({ r16, au16, bu16 }) => { for (let k = 0; k < 8; k++) r16[k] = usat16(au16[k] - bu16[k]); },
  PMULLW: ({ r16, a16, b16 }) => { for (let k = 0; k < 8; k++) r16[k] = Math.imul(a16[k], b16[k]); },
  PMULHW: ({ r16, a16, b16 }) => { for (let k = 0; k < 8; k++) r16[k] = (a16[k] * b16[k]) >> 16; },
  PMULHUW: ({ r16, au16, bu16 }) => { for (let k = 0; k < 8; k++) r16[k] = (au16[k] * bu16[k]) >>> 16; },
  PMULUDQ: (s) => { mulLane(s, 0); mulLane(s, 2); },
  PMADDWD: ({ r32, a16, b16 }) => { for (let k = 0; k < 4; k++) r32[k] = (a16[2 * k] * b16[2 * k] + a16[2 * k + 1] * b16[2 * k + 1]) | 0; },
  PSADBW: (s) => {
    for (let h = 0; h < 2; h++) {
      let t = 0;
      for (let k = 0; k < 8; k++) t += Math.abs(s.a8[h * 8 + k] - s.b8[h * 8 + k]);
      s.r32[h * 2] = t; s.r32[h * 2 + 1] = 0;
    }
  },
  PMINUB: ({ r8, a8, b8 }) => { for (let k = 0; k < 16; k++) r8[k] = Math.min(a8[k], b8[k]); },
  PMAXUB: ({ r8, a8, b8 }) => { for (let k = 0; k < 16; k++) r8[k] = Math.max(a8[k], b8[k]); },
  PMINSW: ({ r16, a16, b16 }) => { for (let k = 0; k < 8; k++) r16[k] = Math.min(a16[k], b16[k]); },
  PMAXSW: ({ r16, a16, b16 }) => { for (let k = 0; k < 8; k++) r16[k] = Math.max(a16[k], b16[k]); },
  PAVGB: ({ r8, a8, b8 }) => { for (let k = 0; k < 16; k++) r8[k] = (a8[k] + b8[k] + 1) >> 1; },
  PAVGW: ({ r16, au16, bu16 }) => { for (let k = 0; k < 8; k++) r16[k] = (au16[k] + bu16[k] + 1) >> 1; },
};
/** The same by SSEINT sub (built once from constant data and never mutated): an indexed call. */
const SSEINT_BY_SUB: readonly Lanes[] = SSEINT_NAMES.map((n) => SSEINT_OPS[n]);

export function execSseInt(c: Cpu, i: Insn): void {
  sseAvailable(c);
  const s = c.sse;
  const x = c.st.xmm;
  const g = i.reg * 4;
  for (let k = 0; k < 4; k++) s.a32[k] = x[g + k];
  loadW(c, i, s.b32, true);
  SSEINT_BY_SUB[i.sub](s);
  for (let k = 0; k < 4; k++) x[g + k] = s.r32[k];
}

export function execSseShiftImm(c: Cpu, i: Insn): void {
  sseAvailable(c);
  const s = c.sse;
  const { a8, r8, a32, r32 } = s;
  const x = c.st.xmm;
  const d = i.rm * 4;
  for (let k = 0; k < 4; k++) a32[k] = x[d + k];
  const op = SSESHIFTI_NAMES[i.sub];
  const count = i.imm & 0xff;
  if (op === 'PSRLDQ' || op === 'PSLLDQ') {
    const n = Math.min(count, 16);
    for (let k = 0; k < 16; k++) {
      const from = op === 'PSRLDQ' ? k + n : k - n;
      r8[k] = from >= 0 && from < 16 ? a8[from] : 0;
    }
  } else shiftLanes(s, SHIFTI_KIND[i.sub], count);
  for (let k = 0; k < 4; k++) x[d + k] = r32[k];
}

export function execPshuf(c: Cpu, i: Insn): void {
  sseAvailable(c);
  const { b16, r16, b32, r32 } = c.sse;
  const x = c.st.xmm;
  loadW(c, i, b32, true);
  const imm = i.imm & 0xff;
  const op = PSHUF_NAMES[i.sub];
  if (op === 'PSHUFD') {
    // Straight into the destination (b is a copy of the source, so they may be the same register).
    const g = i.reg * 4;
    x[g] = b32[imm & 3]; x[g + 1] = b32[(imm >> 2) & 3]; x[g + 2] = b32[(imm >> 4) & 3]; x[g + 3] = b32[(imm >> 6) & 3];
    return;
  }
  for (let k = 0; k < 4; k++) r32[k] = b32[k];
  const base = op === 'PSHUFHW' ? 4 : 0;
  for (let k = 0; k < 4; k++) r16[base + k] = b16[base + ((imm >> (2 * k)) & 3)];
  const g = i.reg * 4;
  for (let k = 0; k < 4; k++) x[g + k] = r32[k];
}

export function execPmovmskb(c: Cpu, i: Insn): void {
  sseAvailable(c);
  const { a8, a32 } = c.sse;
  const x = c.st.xmm;
  for (let k = 0; k < 4; k++) a32[k] = x[i.rm * 4 + k];
  let m = 0;
  for (let k = 0; k < 16; k++) if (a8[k] & 0x80) m |= 1 << k;
  c.setReg(i.osz === 8 ? 8 : 4, i.reg, m, 0);
}

export function execUnpckps(c: Cpu, i: Insn, high: boolean): void {
  sseAvailable(c);
  const { a32, b32 } = c.sse;
  const x = c.st.xmm;
  const g = i.reg * 4;
  for (let k = 0; k < 4; k++) a32[k] = x[g + k];
  loadW(c, i, b32, true);
  const o = high ? 2 : 0;
  x[g] = a32[o]; x[g + 1] = b32[o]; x[g + 2] = a32[o + 1]; x[g + 3] = b32[o + 1];
}

export function execMxcsr(c: Cpu, i: Insn, load: boolean): void {
  sseAvailable(c);
  c.ea(i);
  if (load) {
    const v = c.readMem(4);
    if (v & ~0xffff) throw new Fault(EXC.GP, 0);
    c.st.mxcsr = v;
  } else c.writeMem(4, c.st.mxcsr, 0);
}

/** FXSAVE / FXRSTOR: the 512-byte legacy layout (SDM Table 10-2), 64-bit format in long mode. */
export function execFxsave(c: Cpu, i: Insn, restore: boolean): void {
  const st = c.st;
  if (st.cr0 & CR0.EM) throw new Fault(EXC.UD);
  if (st.cr0 & CR0.TS) throw new Fault(EXC.NM);
  c.ea(i);
  if (c.eaLo & 15) throw new Fault(EXC.GP, 0);
  const lo = c.eaLo, hi = c.eaHi;
  c.mmu.probe(lo, hi, 512, restore ? 0 : 1);
  const at = (off: number) => { c.eaLo = (lo + off) | 0; c.eaHi = hi; };
  if (!restore) {
    at(0); c.writeMem(2, st.fcw, 0);
    at(2); c.writeMem(2, st.fsw, 0);
    at(4); c.writeMem(1, st.ftw, 0);
    at(24); c.writeMem(4, st.mxcsr, 0);
    at(28); c.writeMem(4, 0xffff, 0); // MXCSR_MASK
    for (let k = 0; k < 128; k++) { at(32 + k); c.writeMem(1, st.fpregs[k], 0); }
    for (let k = 0, n = c.long ? 64 : 32; k < n; k++) { at(160 + k * 4); c.writeMem(4, st.xmm[k], 0); }
  } else {
    at(24);
    const mx = c.readMem(4);
    if (mx & ~0xffff) throw new Fault(EXC.GP, 0);
    at(0); st.fcw = c.readMem(2);
    at(2); st.fsw = c.readMem(2);
    at(4); st.ftw = c.readMem(1);
    st.mxcsr = mx;
    for (let k = 0; k < 128; k++) { at(32 + k); st.fpregs[k] = c.readMem(1); }
    const n = c.long ? 64 : 32; // XMM8-15 exist only in 64-bit mode
    for (let k = 0; k < n; k++) { at(160 + k * 4); st.xmm[k] = c.readMem(4); }
  }
}

/**
 * XSAVE / XSAVEOPT / XRSTOR (standard form) for the two state components the CPU has: x87 (bit 0)
 * and SSE (bit 1). The legacy area is the FXSAVE layout; the XSAVE header follows at offset 512.
 */
export function execXsave(c: Cpu, i: Insn, restore: boolean): void {
  const st = c.st;
  if (!(st.cr4 & CR4.OSXSAVE)) throw new Fault(EXC.UD);
  if (st.cr0 & CR0.TS) throw new Fault(EXC.NM);
  c.ea(i);
  if (c.eaLo & 63) throw new Fault(EXC.GP, 0);
  const lo = c.eaLo, hi = c.eaHi;
  const rfbm = st.xcr0Lo & st.lo[0] & 3;
  const at = (off: number) => { c.eaLo = (lo + off) | 0; c.eaHi = hi; };
  c.mmu.probe(lo, hi, 576, restore ? 0 : 1);
  if (!restore) {
    if (rfbm & 1) {
      at(0); c.writeMem(2, st.fcw, 0);
      at(2); c.writeMem(2, st.fsw, 0);
      at(4); c.writeMem(1, st.ftw, 0);
      for (let k = 0; k < 128; k++) { at(32 + k); c.writeMem(1, st.fpregs[k], 0); }
    }
    if (rfbm & 2) {
      at(24); c.writeMem(4, st.mxcsr, 0);
      at(28); c.writeMem(4, 0xffff, 0);
      for (let k = 0, n = c.long ? 64 : 32; k < n; k++) { at(160 + k * 4); c.writeMem(4, st.xmm[k], 0); }
    }
    at(512);
    const bv = c.readMem(4);
    at(512); c.writeMem(4, (bv & ~rfbm) | rfbm, 0);
    return;
  }
  at(512); const bv = c.readMem(4); const bvHi = (at(516), c.readMem(4));
  at(520); const comp = c.readMem(4) | (at(524), c.readMem(4));
  if (comp !== 0 || bvHi !== 0 || (bv & ~st.xcr0Lo)) throw new Fault(EXC.GP, 0);
  for (let off = 528; off < 576; off += 4) { at(off); if (c.readMem(4) !== 0) throw new Fault(EXC.GP, 0); }
  if (rfbm & 2) {
    at(24);
    const mx = c.readMem(4);
    if (mx & ~0xffff) throw new Fault(EXC.GP, 0);
    st.mxcsr = mx;
  }
  if (rfbm & 1) {
    if (bv & 1) {
      at(0); st.fcw = c.readMem(2);
      at(2); st.fsw = c.readMem(2);
      at(4); st.ftw = c.readMem(1);
      for (let k = 0; k < 128; k++) { at(32 + k); st.fpregs[k] = c.readMem(1); }
    } else { st.fcw = 0x37f; st.fsw = 0; st.ftw = 0; st.fpregs.fill(0); }
  }
  if (rfbm & 2) {
    const n = c.long ? 64 : 32;
    if (bv & 2) for (let k = 0; k < n; k++) { at(160 + k * 4); st.xmm[k] = c.readMem(4); }
    else st.xmm.fill(0, 0, n);
  }
}

/** PINSRW xmm, r32/m16, imm8: insert a word at lane imm & 7. */
export function execPinsrw(c: Cpu, i: Insn): void {
  sseAvailable(c);
  const v = i.mod === 3 ? c.st.lo[i.rm] & 0xffff : c.readE(i, 2);
  const lane = i.imm & 7;
  const w = i.reg * 4 + (lane >> 1);
  const x = c.st.xmm;
  x[w] = lane & 1 ? (x[w] & 0xffff) | (v << 16) : (x[w] & ~0xffff) | v;
}

/** PEXTRW r32, xmm, imm8: extract the word at lane imm & 7, zero-extended. */
export function execPextrw(c: Cpu, i: Insn): void {
  sseAvailable(c);
  const lane = i.imm & 7;
  const w = c.st.xmm[i.rm * 4 + (lane >> 1)];
  c.setReg(i.osz === 8 ? 8 : 4, i.reg, lane & 1 ? w >>> 16 : w & 0xffff, 0);
}

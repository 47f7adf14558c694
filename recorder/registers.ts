// The one register table. It produces the GDB target description (names, sizes, types, features),
// the `g`/`p` register numbering, and the register views of the DAP adapter, so the three can never
// disagree. The first 66 entries are QEMU's x86-64 core layout byte for byte (spec/interfaces.md
// A.4.2), so tools written for QEMU's stub read the same numbers here; the project feature follows.
//
// Which VTL context a register comes from follows the state banking of spec/vsm.md 5.1: private
// registers (RSP, RIP, RFLAGS, segments, CR0/CR3/CR4, EFER, the MSRs) from the VTL's own context,
// shared ones (the other GPRs, CR2, x87/SSE state) from the VP's active context, where they live.

import type { Cpu } from '../core/x86/cpu.js';
import { SEG } from '../core/x86/defs/arch.js';

/** What a register accessor sees: the VTL's own context and the context holding the shared state. */
export interface RegContext {
  /** The VTL's context (private registers). */
  priv: Cpu;
  /** The VP's active context (shared registers). */
  shared: Cpu;
  vtl: number;
  /** TPR of the VTL's local APIC (CR8), bits 3:0. */
  cr8(): number;
  setCr8(v: number): void;
  /** Global instruction count now. */
  icount: number;
}

export const CORE_FEATURE = 'org.gnu.gdb.i386.core';
export const VSM_FEATURE = 'org.vsmrr.vsm';

export interface RegisterDef {
  /** gdb's name. */
  name: string;
  bits: number;
  /** gdb target-description type. */
  type: string;
  group: 'general' | 'float' | 'vector' | 'system';
  feature: typeof CORE_FEATURE | typeof VSM_FEATURE;
  get(c: RegContext): bigint;
  /** Absent for read-only registers. */
  set?(c: RegContext, v: bigint): void;
}

const M32 = 0xffffffffn;
const u64 = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
const lo32 = (v: bigint): number => Number(v & M32) | 0;
const hi32 = (v: bigint): number => Number((v >> 32n) & M32) | 0;

/** QEMU's GPR order: rax rbx rcx rdx rsi rdi rbp rsp r8..r15, as indices of the CPU's register file. */
const GPR_ORDER: readonly [string, number][] = [
  ['rax', 0], ['rbx', 3], ['rcx', 1], ['rdx', 2], ['rsi', 6], ['rdi', 7], ['rbp', 5], ['rsp', 4],
  ...Array.from({ length: 8 }, (_, k) => [`r${k + 8}`, k + 8] as [string, number]),
];

function gpr(name: string, idx: number): RegisterDef {
  // RSP is private to each VTL; the other GPRs are shared.
  const cpu = (c: RegContext) => (idx === 4 ? c.priv : c.shared);
  return {
    name, bits: 64, type: idx === 4 || idx === 5 ? 'data_ptr' : 'int64', group: 'general', feature: CORE_FEATURE,
    get: (c) => u64(cpu(c).st.lo[idx], cpu(c).st.hi[idx]),
    set: (c, v) => { cpu(c).st.lo[idx] = lo32(v); cpu(c).st.hi[idx] = hi32(v); },
  };
}

function seg(name: string, s: number): RegisterDef {
  return {
    name, bits: 32, type: 'int32', group: 'general', feature: CORE_FEATURE,
    get: (c) => BigInt(c.priv.st.seg[s].selector),
    // A debugger write changes the selector only (as QEMU's stub does outside real mode).
    set: (c, v) => { c.priv.st.seg[s].selector = Number(v & 0xffffn); },
  };
}

/** A register whose write changes the paging mode or the translation: the CPU re-derives both. */
function modeChange(c: RegContext): void {
  c.priv.updateMode();
  c.priv.mmu.flushAll();
}

function sys64(name: string, get: (p: Cpu) => bigint, set: ((p: Cpu, v: bigint) => void) | undefined, type = 'int64'): RegisterDef {
  return {
    name, bits: 64, type, group: 'system', feature: CORE_FEATURE,
    get: (c) => get(c.priv),
    set: set && ((c, v) => { set(c.priv, v); modeChange(c); }),
  };
}

/** ST(i) as gdb's i387_ext: 64-bit significand then sign and exponent, from the FXSAVE image (ST order). */
function st(i: number): RegisterDef {
  return {
    name: `st${i}`, bits: 80, type: 'i387_ext', group: 'float', feature: CORE_FEATURE,
    get: (c) => {
      let v = 0n;
      for (let b = 9; b >= 0; b--) v = (v << 8n) | BigInt(c.shared.st.fpregs[i * 16 + b]);
      return v;
    },
    set: (c, v) => { for (let b = 0; b < 10; b++) c.shared.st.fpregs[i * 16 + b] = Number((v >> BigInt(8 * b)) & 0xffn); },
  };
}

function x87(name: string, get: (p: Cpu) => number, set?: (p: Cpu, v: number) => void): RegisterDef {
  return {
    name, bits: 32, type: 'int', group: 'float', feature: CORE_FEATURE,
    get: (c) => BigInt(get(c.shared) >>> 0),
    set: set && ((c, v) => set(c.shared, Number(v & M32))),
  };
}

function xmm(i: number): RegisterDef {
  return {
    name: `xmm${i}`, bits: 128, type: 'vec128', group: 'vector', feature: CORE_FEATURE,
    get: (c) => {
      const x = c.shared.st.xmm;
      return (u64(x[i * 4 + 2], x[i * 4 + 3]) << 64n) | u64(x[i * 4], x[i * 4 + 1]);
    },
    set: (c, v) => {
      const x = c.shared.st.xmm;
      for (let k = 0; k < 4; k++) x[i * 4 + k] = Number((v >> BigInt(32 * k)) & M32) | 0;
    },
  };
}

/** Full x87 tag word from the abridged one kept by FXSAVE: 00 valid for a used register, 11 empty. */
function fullTag(abridged: number): number {
  let t = 0;
  for (let k = 0; k < 8; k++) if (!(abridged & (1 << k))) t |= 3 << (2 * k);
  return t;
}

export const REGISTERS: readonly RegisterDef[] = [
  ...GPR_ORDER.map(([n, i]) => gpr(n, i)),
  {
    name: 'rip', bits: 64, type: 'code_ptr', group: 'general', feature: CORE_FEATURE,
    get: (c) => u64(c.priv.st.ripLo, c.priv.st.ripHi),
    set: (c, v) => { c.priv.st.ripLo = lo32(v); c.priv.st.ripHi = hi32(v); },
  },
  {
    name: 'eflags', bits: 32, type: 'i386_eflags', group: 'general', feature: CORE_FEATURE,
    get: (c) => BigInt(c.priv.getFlags() >>> 0),
    set: (c, v) => c.priv.setFlags(Number(v & M32)),
  },
  seg('cs', SEG.CS), seg('ss', SEG.SS), seg('ds', SEG.DS), seg('es', SEG.ES), seg('fs', SEG.FS), seg('gs', SEG.GS),
  sys64('fs_base', (p) => u64(p.st.seg[SEG.FS].baseLo, p.st.seg[SEG.FS].baseHi), (p, v) => { p.st.seg[SEG.FS].baseLo = lo32(v); p.st.seg[SEG.FS].baseHi = hi32(v); }),
  sys64('gs_base', (p) => u64(p.st.seg[SEG.GS].baseLo, p.st.seg[SEG.GS].baseHi), (p, v) => { p.st.seg[SEG.GS].baseLo = lo32(v); p.st.seg[SEG.GS].baseHi = hi32(v); }),
  sys64('k_gs_base', (p) => u64(p.st.kernelGsBaseLo, p.st.kernelGsBaseHi), (p, v) => { p.st.kernelGsBaseLo = lo32(v); p.st.kernelGsBaseHi = hi32(v); }),
  sys64('cr0', (p) => BigInt(p.st.cr0 >>> 0), (p, v) => { p.st.cr0 = Number(v & M32) | 0; }),
  {
    // CR2 is shared between VTLs (spec/vsm.md 5.1).
    name: 'cr2', bits: 64, type: 'int64', group: 'system', feature: CORE_FEATURE,
    get: (c) => u64(c.shared.st.cr2Lo, c.shared.st.cr2Hi),
    set: (c, v) => { c.shared.st.cr2Lo = lo32(v); c.shared.st.cr2Hi = hi32(v); },
  },
  sys64('cr3', (p) => u64(p.st.cr3Lo, p.st.cr3Hi), (p, v) => { p.st.cr3Lo = lo32(v); p.st.cr3Hi = hi32(v); }),
  sys64('cr4', (p) => BigInt(p.st.cr4 >>> 0), (p, v) => { p.st.cr4 = Number(v & M32) | 0; }),
  {
    name: 'cr8', bits: 64, type: 'int64', group: 'system', feature: CORE_FEATURE,
    get: (c) => BigInt(c.cr8()),
    set: (c, v) => c.setCr8(Number(v & 0xfn)),
  },
  sys64('efer', (p) => BigInt(p.st.eferLo >>> 0), (p, v) => { p.st.eferLo = Number(v & M32) | 0; }),
  ...Array.from({ length: 8 }, (_, i) => st(i)),
  x87('fctrl', (p) => p.st.fcw, (p, v) => { p.st.fcw = v & 0xffff; }),
  x87('fstat', (p) => p.st.fsw, (p, v) => { p.st.fsw = v & 0xffff; }),
  x87('ftag', (p) => fullTag(p.st.ftw)),
  x87('fiseg', () => 0), x87('fioff', () => 0), x87('foseg', () => 0), x87('fooff', () => 0), x87('fop', () => 0),
  ...Array.from({ length: 16 }, (_, i) => xmm(i)),
  {
    name: 'mxcsr', bits: 32, type: 'i386_mxcsr', group: 'vector', feature: CORE_FEATURE,
    get: (c) => BigInt(c.shared.st.mxcsr >>> 0),
    set: (c, v) => { c.shared.st.mxcsr = Number(v & 0xffffn); },
  },
  // The project feature: which VTL this context is, and where in time the machine is.
  { name: 'vtl', bits: 8, type: 'uint8', group: 'system', feature: VSM_FEATURE, get: (c) => BigInt(c.vtl) },
  { name: 'icount', bits: 64, type: 'uint64', group: 'system', feature: VSM_FEATURE, get: (c) => BigInt(c.icount) },
];

/** Register number by name. */
export const REGISTER_INDEX: ReadonlyMap<string, number> = new Map(REGISTERS.map((r, i) => [r.name, i]));

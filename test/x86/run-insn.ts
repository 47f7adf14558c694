// Run a few instructions in the emulator with no machine around the CPU: 16 MiB of RAM, a stub
// CpuHost, and the processor put straight into 64-bit long mode (identity-mapped 2 MiB pages) or
// 32-bit flat protected mode. Used by the instruction-semantics tests (test/x86/semantics*.test.ts).
//
// Layout (physical = linear): page tables at 0x1000..0x3fff, code at CODE_BASE, data at DATA_BASE,
// stack below STACK_TOP. Exceptions are not delivered through an IDT: the first fault of a run is
// recorded in `fault` and ends the run with RIP on the faulting instruction.

import { Cpu } from '../../core/x86/cpu.js';
import { CR0, CR4, EFER, SEG } from '../../core/x86/defs/arch.js';
import type { CpuHost } from '../../core/x86/host.js';
import { EXIT, type ExitCode } from '../../core/x86/host.js';
import { PhysMem } from '../../core/memory/phys.js';

export const RAM_SIZE = 16 << 20;
export const CODE_BASE = 0x100000;
export const DATA_BASE = 0x200000;
export const STACK_TOP = 0x3ff000;
const PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000;

export type RunMode = 64 | 32;

const M64 = (1n << 64n) - 1n;

/** A CpuHost that answers everything with zeros and records unimplemented opcodes. */
export class StubHost implements CpuHost {
  readonly unimpl: { ripLo: number; ripHi: number; bytes: Uint8Array }[] = [];
  ioRead(): number { return 0xffffffff; }
  ioWrite(): void { /* nothing */ }
  rdmsr(): boolean { return false; }
  wrmsr(): boolean { return false; }
  cpuid(_leaf: number, _sub: number, out: Uint32Array): void { out.fill(0); }
  tsc(out: { lo: number; hi: number }): void { out.lo = 0; out.hi = 0; }
  getCr8(): number { return 0; }
  setCr8(): void { /* nothing */ }
  unimplemented(ripLo: number, ripHi: number, bytes: Uint8Array): void { this.unimpl.push({ ripLo, ripHi, bytes }); }
}

export interface RunResult {
  exit: ExitCode;
  /** Exception vector raised (the instruction did not complete), or -1. */
  fault: number;
  errorCode: number;
  /** Instructions retired (a REP chunk counts as one). */
  retired: number;
}

export class InsnRunner {
  readonly mem = new PhysMem(RAM_SIZE);
  readonly host = new StubHost();
  readonly cpu: Cpu;
  /** First exception raised during the last run, -1 when none. */
  fault = -1;
  faultError = -1;

  constructor(readonly mode: RunMode = 64) {
    this.cpu = new Cpu(this.mem, this.host);
    // Record exceptions instead of delivering them; returning false ends run() (the run loop puts
    // RIP back on the faulting instruction).
    this.cpu.exception = (vector: number, err: number): boolean => {
      if (this.fault < 0) { this.fault = vector; this.faultError = err; }
      return false;
    };
    this.reset();
  }

  /** Put the CPU into the runner's mode with flat segments; clears GPRs, XMM and flags. */
  reset(): void {
    const cpu = this.cpu, st = cpu.st;
    cpu.resetState();
    const flat = (i: number, attr: number, sel: number) => {
      const s = st.seg[i];
      s.selector = sel; s.baseLo = 0; s.baseHi = 0; s.limit = 0xffffffff; s.attr = attr;
    };
    if (this.mode === 64) {
      const dv = this.mem.dv;
      dv.setUint32(PML4, PDPT | 3, true); dv.setUint32(PML4 + 4, 0, true);
      dv.setUint32(PDPT, PD | 3, true); dv.setUint32(PDPT + 4, 0, true);
      for (let k = 0; k < RAM_SIZE >> 21; k++) {
        dv.setUint32(PD + k * 8, (k << 21) | 0x83, true); // P | RW | PS (2 MiB)
        dv.setUint32(PD + k * 8 + 4, 0, true);
      }
      st.cr0 = CR0.PE | CR0.MP | CR0.ET | CR0.NE | CR0.WP | CR0.PG;
      st.cr4 = CR4.PAE | CR4.OSFXSR | CR4.OSXMMEXCPT;
      st.eferLo = EFER.LME | EFER.LMA | EFER.NXE | EFER.SCE;
      st.cr3Lo = PML4; st.cr3Hi = 0;
      flat(SEG.CS, 0xa09b, 0x08);
    } else {
      st.cr0 = CR0.PE | CR0.MP | CR0.ET | CR0.NE;
      st.cr4 = CR4.OSFXSR | CR4.OSXMMEXCPT;
      st.eferLo = 0;
      flat(SEG.CS, 0xc09b, 0x08);
    }
    for (const i of [SEG.SS, SEG.DS, SEG.ES, SEG.FS, SEG.GS]) flat(i, 0xc093, 0x10);
    st.cpl = 0;
    cpu.updateMode();
    cpu.mmu.flushAll();
    this.setGpr(4, BigInt(STACK_TOP));
    this.setRip(CODE_BASE);
  }

  // ---- Registers -------------------------------------------------------------------------------

  /** GPR as an unsigned 64-bit value (in 32-bit mode the high half reads as stored, normally 0). */
  gpr(r: number): bigint {
    const st = this.cpu.st;
    return (BigInt(st.hi[r] >>> 0) << 32n) | BigInt(st.lo[r] >>> 0);
  }

  setGpr(r: number, v: bigint): void {
    const st = this.cpu.st;
    v &= M64;
    st.lo[r] = Number(v & 0xffffffffn) | 0;
    st.hi[r] = this.mode === 64 ? Number(v >> 32n) | 0 : 0;
  }

  setGprHalves(r: number, lo: number, hi: number): void {
    this.cpu.st.lo[r] = lo | 0;
    this.cpu.st.hi[r] = this.mode === 64 ? hi | 0 : 0;
  }

  rip(): number {
    const st = this.cpu.st;
    return (st.ripHi >>> 0) * 4294967296 + (st.ripLo >>> 0);
  }

  setRip(addr: number): void {
    const st = this.cpu.st;
    st.ripLo = addr | 0;
    st.ripHi = Math.floor(addr / 4294967296) | 0;
  }

  /** RFLAGS with the lazily evaluated arithmetic flags. */
  flags(): number { return this.cpu.getFlags(); }

  setFlags(v: number): void { this.cpu.setFlags(v); }

  /** XMM register as 16 little-endian bytes. */
  xmm(r: number): Uint8Array {
    const x = this.cpu.st.xmm;
    return new Uint8Array(x.buffer, x.byteOffset + r * 16, 16).slice();
  }

  setXmm(r: number, bytes: Uint8Array): void {
    const x = this.cpu.st.xmm;
    new Uint8Array(x.buffer, x.byteOffset + r * 16, 16).set(bytes.subarray(0, 16));
  }

  // ---- Memory ----------------------------------------------------------------------------------

  write(addr: number, bytes: Uint8Array): void { this.mem.writeBytes(addr, bytes); }

  read(addr: number, len: number): Uint8Array { return this.mem.ram.slice(addr, addr + len); }

  /** Place code at addr (drops any decoded copy of that page). */
  placeCode(addr: number, bytes: Uint8Array): void { this.mem.writeBytes(addr, bytes); }

  // ---- Execution -------------------------------------------------------------------------------

  /**
   * Execute from `start` until RIP reaches `end` (or, when end is null, `count` instructions),
   * stopping at the first exception or after `maxInsns` instructions.
   */
  run(start: number, end: number | null, maxInsns = 64, count = 1): RunResult {
    this.fault = -1; this.faultError = -1;
    this.setRip(start);
    const cpu = this.cpu;
    const before = cpu.retired;
    let exit: ExitCode = EXIT.BUDGET;
    for (let n = 0; n < maxInsns; n++) {
      if (end !== null && this.rip() === end) break;
      if (end === null && cpu.retired - before >= count) break;
      exit = cpu.run(1);
      if (this.fault >= 0 || exit !== EXIT.BUDGET) break;
    }
    return { exit, fault: this.fault, errorCode: this.faultError, retired: cpu.retired - before };
  }

  /** Convenience: place `bytes` at CODE_BASE and run them to their end. */
  runBytes(bytes: Uint8Array, maxInsns = 64): RunResult {
    this.placeCode(CODE_BASE, bytes);
    return this.run(CODE_BASE, CODE_BASE + bytes.length, maxInsns);
  }
}

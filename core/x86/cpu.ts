// One logical processor: the fetch/decode/execute loop, operand plumbing, lazy flags, exception and
// interrupt delivery. Instruction semantics live in exec/ by family; memory goes through the Mmu
// (the access port); everything else through CpuHost. The CPU never imports hv/ or devices.

import { CR0, EFER, EXC, EXC_HAS_ERROR, EXC_NAMES, FLAG as FLAG_DEF, SEG as SEG_DEF } from './defs/arch.js';
import { decode, NEED_MORE_BYTES } from './decode/decoder.js';
import { Insn, MODE, type Mode } from './decode/insn.js';
import { OP } from './decode/ops.js';
import { CpuState, LF as LF_DEF } from './state.js';
import { EXIT, type CpuHost, type ExitCode } from './host.js';
import { Mmu, NonCanonical, PageFault } from '../mmu/mmu.js';
import { PAGE_SIZE, type PhysMem } from '../memory/phys.js';
import { PARITY } from '../util/bits.js';
import { execute as dispatchExecute } from './exec/dispatch.js';
import { deliverEvent } from './exec/interrupts.js';
import { SseScratch } from './exec/sse.js';
import { SseFloatState } from './exec/ssefloat.js';

// V8 reads an import through a cell on every use (a load and a check; for an object, a map check and a
// field load as well), but folds a module-level constant and the properties of a constant object. So
// what the hot paths use goes through module-level aliases.
const FLAG = FLAG_DEF, SEG = SEG_DEF, LF = LF_DEF, execute = dispatchExecute;

/** A guest exception raised inside an instruction; caught at the instruction boundary. */
export class Fault {
  constructor(readonly vector: number, readonly errorCode: number = -1) {}
}

/**
 * Why the hypervisor stopped an instruction (EXIT.INTERCEPT): a stage-2 violation thrown by the
 * access port, or an intercepted register write.
 */
export interface InterceptInfo {
  readonly vtlViolation?: true;
  readonly kind: 'memory' | 'cr' | 'msr';
  /** Memory: GPA and access (0 read, 1 write, 2 execute); register: index and value written. */
  readonly gpa: number;
  readonly access: number;
  readonly index: number;
  readonly lo: number;
  readonly hi: number;
}

/** Thrown by handlers that end the run loop (HLT, VMCALL...): not a guest event. */
export class LoopExit {
  constructor(readonly code: ExitCode) {}
}

/** Where interrupts come from (the local APIC, through the machine). */
export interface InterruptSource {
  /** Highest deliverable vector, or -1. */
  pending(): number;
  /** The CPU is delivering this vector now (IRR → ISR). */
  acknowledge(vector: number): void;
  /** An NMI is pending (consumes it). */
  takeNmi(): boolean;
}

const NO_INTERRUPTS: InterruptSource = { pending: () => -1, acknowledge: () => {}, takeNmi: () => false };

export class Cpu {
  readonly st = new CpuState();
  readonly mmu: Mmu;
  intr: InterruptSource = NO_INTERRUPTS;
  /** Instructions retired by this CPU. */
  retired = 0;
  /** Current code mode (derived from CR0.PE, EFER.LMA, CS.L/D). */
  mode: Mode = MODE.M32;
  /** High half of the last 64-bit operand read. */
  vhi = 0;
  /** Effective linear address of the memory operand of the current instruction. */
  eaLo = 0;
  eaHi = 0;
  /** RIP of the instruction being executed (for faults and RIP-relative addressing). */
  startLo = 0;
  startHi = 0;
  /** Something (interrupt, NMI, STI window) needs a look at the next instruction boundary. */
  eventPending = false;
  /** Set by handlers that want the run loop to return after the current instruction. */
  exitCode: ExitCode | -1 = -1;
  /** Linear addresses where the loop stops before executing (debugger breakpoints): hi as a signed int32 × 2^32 + lo, exact for canonical addresses. */
  breakpoints: Set<number> | null = null;
  /** Scratch for CPUID and MSR reads. */
  readonly out4 = new Uint32Array(4);
  /** Scratch vectors of the SSE handlers. */
  readonly sse = new SseScratch();
  /** MXCSR-derived state and scratch of the SSE floating-point handlers. */
  readonly fpu = new SseFloatState();
  readonly msrOut = { lo: 0, hi: 0 };
  /** Exception being delivered (for double/triple fault classification), -1 when none. */
  delivering = -1;
  /** Last triple-fault description. */
  shutdownReason = '';
  /** Why the last EXIT.INTERCEPT happened. */
  intercept: InterceptInfo | null = null;
  /** Length of the last instruction that completed (reported by execute intercepts after a branch). */
  lastLen = 0;

  // Fetch cache: the exec translation and decode slots of the current code page.
  private fLinLo = -1;
  private fLinHi = 0;
  private fPhys = 0;
  private fSlots: (Insn | undefined)[] | null = null;
  private readonly scratch = new Uint8Array(16);

  constructor(readonly mem: PhysMem, public host: CpuHost) {
    this.mmu = new Mmu(this.st, mem);
    this.mmu.onFlush = () => { this.fLinLo = -1; };
    mem.registerWriteHolder({ flushWrites: () => {}, codeChanged: () => { this.fLinLo = -1; } });
    this.resetState();
  }

  /** Power-on / INIT state (SDM 9.1.1), except the reset vector: the machine sets RIP. */
  resetState(): void {
    const st = this.st;
    st.lo.fill(0); st.hi.fill(0);
    st.flags = 0x2; st.lf = LF.EAGER;
    st.cr0 = 0x60000010; st.cr4 = 0; st.eferLo = 0; st.cr3Lo = 0; st.cr3Hi = 0; st.cr2Lo = 0; st.cr2Hi = 0;
    for (const s of st.seg) { s.selector = 0; s.baseLo = 0; s.baseHi = 0; s.limit = 0xffff; s.attr = 0x93; }
    st.seg[SEG.CS].attr = 0x9b;
    st.seg[SEG.LDTR].attr = 0x82;
    st.seg[SEG.TR].attr = 0x8b;
    st.gdtr.baseLo = 0; st.gdtr.limit = 0xffff; st.idtr.baseLo = 0; st.idtr.limit = 0xffff;
    st.dr.fill(0); st.dr[6] = 0xffff0ff0; st.dr[7] = 0x400;
    st.xmm.fill(0); st.mxcsr = 0x1f80;
    st.cpl = 0; st.halted = false; st.intShadow = false; st.nmiBlocked = false;
    this.updateMode();
    this.mmu.flushAll();
  }

  // ---- Mode and caches ---------------------------------------------------------------------------

  updateMode(): void {
    const st = this.st;
    if (!(st.cr0 & CR0.PE)) this.mode = MODE.M16;
    else if (st.eferLo & EFER.LMA && st.seg[SEG.CS].attr & 0x2000) this.mode = MODE.M64;
    else this.mode = st.seg[SEG.CS].attr & 0x4000 ? MODE.M32 : MODE.M16;
    this.fLinLo = -1;
  }

  invalidateFetch(): void { this.fLinLo = -1; }

  get long(): boolean { return this.mode === MODE.M64; }

  /** Stack address size in bytes. */
  stackSize(): number {
    if (this.mode === MODE.M64) return 8;
    return this.st.seg[SEG.SS].attr & 0x4000 ? 4 : 2;
  }

  // ---- Run loop ----------------------------------------------------------------------------------

  /** Execute up to `budget` instructions. Returns why it stopped; `retired` counts progress. */
  run(budget: number): ExitCode {
    const end = this.retired + budget;
    this.exitCode = -1;
    for (;;) {
      try {
        return this.runUntil(end);
      } catch (e) {
        // A guest exception inside an instruction: it did not retire; RIP goes back to its start.
        this.st.ripLo = this.startLo; this.st.ripHi = this.startHi;
        if (e instanceof LoopExit) return e.code;
        if (e !== null && typeof e === 'object' && 'kind' in e && ('vtlViolation' in e || (e as InterceptInfo).kind !== 'memory')) {
          this.intercept = e as InterceptInfo;
          return EXIT.INTERCEPT;
        }
        if (!this.raiseFromThrow(e)) return EXIT.TRIPLE_FAULT;
        if (this.exitCode !== -1) { const c = this.exitCode as ExitCode; this.exitCode = -1; return c; }
      }
    }
  }

  /** The hot loop. Guest faults propagate out of it as exceptions (see run). */
  private runUntil(end: number): ExitCode {
    const st = this.st;
    // Per-instruction costs matter here. Module-level constants are loads with checks on every use in
    // V8, so the loop keeps them in locals; `| 0` marks values as int32 so that V8 adds them as
    // integers; booleans are compared with true (a plain truthiness test is a full ToBoolean).
    const TF = FLAG.TF;
    while (this.retired < end) {
      if (this.eventPending === true && this.checkEvents()) continue;
      if (st.halted === true) return EXIT.HALT;
      const lo = st.ripLo | 0, hi = st.ripHi | 0;
      if (this.breakpoints !== null && this.breakpoints.has((hi | 0) * 4294967296 + (lo >>> 0))) {
        if (!this.skipBreakpointOnce) return EXIT.STOP;
        this.skipBreakpointOnce = false;
      }
      this.startLo = lo; this.startHi = hi;
      const insn = this.fetch(lo, hi);
      const len = insn.len | 0;
      const nlo = (lo + len) | 0;
      st.ripLo = nlo;
      if (this.mode === MODE.M64) { if ((nlo >>> 0) < (lo >>> 0)) st.ripHi = (hi + 1) | 0; }
      else if (this.mode === MODE.M16) st.ripLo &= 0xffff;
      const tf = st.flags & TF;
      execute(this, insn);
      this.retired++;
      this.lastLen = len;
      if (tf !== 0) this.singleStepTrap(insn);
      if (this.exitCode !== -1) {
        const c = this.exitCode as ExitCode;
        this.exitCode = -1;
        return c;
      }
    }
    return EXIT.BUDGET;
  }

  /** TF was set when the instruction began: a #DB trap follows it (SDM 17.3.1.4), with DR6.BS. */
  private singleStepTrap(insn: Insn): void {
    // Software interrupts clear TF on delivery and do not trap here (the handler runs first).
    if (insn.op === OP.INT || insn.op === OP.INT3 || insn.op === OP.INTO || insn.op === OP.INT1) return;
    this.st.dr[6] = (this.st.dr[6] | 0x4000) >>> 0;
    this.startLo = this.st.ripLo; this.startHi = this.st.ripHi;
    if (!this.exception(EXC.DB, -1)) this.exitCode = EXIT.TRIPLE_FAULT;
  }

  /**
   * When set, the RIP page (hi × 2^20 + lo >>> 12) of every instruction fetched from a page other than
   * the previous one is added here (a debugger's record of the code a stretch of time executed).
   */
  execPages: Set<number> | null = null;

  /** Forget the cached fetch page, so that the next fetch reports its page to execPages again. */
  forgetFetchPage(): void { this.fLinLo = -1; }

  /** One-shot: let the next run() execute past a breakpoint at the current RIP. */
  skipBreakpointOnce = false;

  /** Convert a thrown guest event into exception delivery. Returns false on triple fault. */
  private raiseFromThrow(e: unknown): boolean {
    let vector: number, err = -1;
    if (e instanceof Fault) { vector = e.vector; err = e.errorCode; }
    else if (e instanceof PageFault) {
      vector = EXC.PF; err = e.errorCode;
      this.st.cr2Lo = e.addrLo; this.st.cr2Hi = e.addrHi;
    } else if (e instanceof NonCanonical) { vector = this.lastSeg === SEG.SS ? EXC.SS : EXC.GP; err = 0; }
    else if (e !== null && typeof e === 'object' && 'vtlViolation' in e) {
      // A stage-2 violation: the machine converts it (secure intercept). Rethrow to the loop owner.
      throw e;
    } else throw e;
    // Faults count as retired events for instruction counting? No: the faulting instruction did not
    // retire. The delivery itself is an event at this boundary.
    return this.exception(vector, err);
  }

  /**
   * Deliver an exception with double/triple fault escalation (SDM Table 6-5). Returns false when the
   * processor shuts down (triple fault).
   */
  exception(vector: number, err: number): boolean {
    const first = this.delivering;
    const contributory = (v: number) => v === 0 || (v >= 10 && v <= 13);
    if (first === EXC.DF) {
      this.shutdownReason = `triple fault: ${EXC_NAMES[vector] ?? `vector ${vector}`} while delivering #DF`;
      return false;
    }
    if (first >= 0 && ((contributory(first) && contributory(vector)) ||
        (first === EXC.PF && (vector === EXC.PF || contributory(vector))))) {
      vector = EXC.DF; err = 0;
    }
    this.delivering = vector;
    if (this.host.exception) this.host.exception(vector, EXC_HAS_ERROR(vector) ? (err < 0 ? 0 : err) : -1, this.startLo, this.startHi);
    try {
      deliverEvent(this, vector, EXC_HAS_ERROR(vector) ? (err < 0 ? 0 : err) : -1, false);
      this.delivering = -1;
      return true;
    } catch (e) {
      if (e instanceof LoopExit) throw e;
      // A fault while delivering: escalate.
      let v2: number, e2 = -1;
      if (e instanceof Fault) { v2 = e.vector; e2 = e.errorCode; }
      else if (e instanceof PageFault) { v2 = EXC.PF; e2 = e.errorCode; this.st.cr2Lo = e.addrLo; this.st.cr2Hi = e.addrHi; }
      else if (e instanceof NonCanonical) { v2 = this.lastSeg === SEG.SS ? EXC.SS : EXC.GP; e2 = 0; }
      else throw e;
      const ok = this.exception(v2, e2);
      this.delivering = -1;
      return ok;
    }
  }

  private checkEvents(): boolean {
    const st = this.st;
    if (st.intShadow) { st.intShadow = false; return false; }
    if (!st.nmiBlocked && this.intr.takeNmi()) {
      st.halted = false;
      st.nmiBlocked = true;
      this.deliverExternal(EXC.NMI);
      return true;
    }
    if (st.flags & FLAG.IF) {
      const v = this.intr.pending();
      if (v >= 0) {
        st.halted = false;
        this.intr.acknowledge(v);
        this.deliverExternal(v);
        return true;
      }
    }
    this.eventPending = false;
    return false;
  }

  private deliverExternal(vector: number): void {
    this.startLo = this.st.ripLo; this.startHi = this.st.ripHi;
    try {
      deliverEvent(this, vector, -1, false);
    } catch (e) {
      if (!this.raiseFromThrow(e)) this.exitCode = EXIT.TRIPLE_FAULT;
    }
  }

  /** Whether an interrupt could be taken now (used to wake a halted VP). */
  canTakeInterrupt(): boolean {
    return (this.st.flags & FLAG.IF) !== 0 && this.intr.pending() >= 0;
  }

  // ---- Fetch -------------------------------------------------------------------------------------

  private fetch(lo: number, hi: number): Insn {
    // The common case, kept small so that V8 inlines it into the run loop: 64-bit code (linear = RIP)
    // on the page of the previous fetch, already decoded. Everything else is fetchPage.
    if (this.mode === MODE.M64 && (lo & ~0xfff) === this.fLinLo && hi === this.fLinHi) {
      const cached = this.fSlots![lo & 0xfff];
      if (cached !== undefined) return cached;
    }
    return this.fetchPage(lo, hi);
  }

  private fetchPage(lo: number, hi: number): Insn {
    const st = this.st;
    let linLo = lo, linHi = hi;
    if (this.mode !== MODE.M64) {
      const cs = st.seg[SEG.CS];
      if ((lo >>> 0) > cs.limit) throw new Fault(EXC.GP, 0);
      linLo = (cs.baseLo + lo) | 0; linHi = 0;
    }
    const page = linLo & ~0xfff;
    // fLinLo is reset by every event that could change the result: mode/CPL changes (updateMode),
    // TLB flushes and dropped code (codeChanged).
    // fLinLo is a page address whenever fSlots is set, and -1 (never a page address) otherwise.
    if (page === this.fLinLo && linHi === this.fLinHi) {
      const off = linLo & 0xfff;
      const cached = this.fSlots![off];
      if (cached !== undefined) return cached;
      return this.decodeAt(this.fPhys + off, linLo, linHi, this.fSlots!);
    }
    if (this.execPages !== null) this.execPages.add((hi | 0) * 1048576 + (lo >>> 12));
    const pa = this.mmu.fetchAddr(linLo, linHi);
    if (pa + 1 > this.mem.size) {
      // Executing from MMIO or unbacked memory: decode byte by byte, never cached.
      return this.decodeSlow(linLo, linHi);
    }
    const slots = this.mem.codeSlots(Math.floor(pa / PAGE_SIZE), this.mode);
    this.fLinLo = page; this.fLinHi = linHi; this.fPhys = pa - (pa & 0xfff); this.fSlots = slots;
    const cached = slots[linLo & 0xfff];
    if (cached !== undefined) return cached;
    return this.decodeAt(pa, linLo, linHi, slots);
  }

  private decodeAt(pa: number, linLo: number, linHi: number, slots: (Insn | undefined)[]): Insn {
    const pageEnd = pa - (pa & 0xfff) + PAGE_SIZE;
    const insn = decode(this.mem.ram, pa, pageEnd, this.mode);
    if (insn === NEED_MORE_BYTES) return this.decodeSlow(linLo, linHi);
    slots[pa & 0xfff] = insn;
    if (insn.op === OP.UD) this.reportUd(insn, pa);
    return insn;
  }

  /** Decode an instruction that crosses a page (or sits outside RAM): fetch byte by byte. */
  private decodeSlow(linLo: number, linHi: number): Insn {
    const buf = this.scratch;
    let n = 0;
    for (;;) {
      const blo = (linLo + n) | 0;
      const bhi = (linLo >>> 0) + n > 0xffffffff ? (linHi + 1) | 0 : linHi;
      buf[n] = this.mmu.physRead(this.mmu.fetchAddr(blo, bhi), 1);
      n++;
      const insn = decode(buf, 0, n, this.mode);
      if (insn !== NEED_MORE_BYTES) {
        if (insn.op === OP.UD) this.reportUdBytes(insn, buf.slice(0, Math.max(insn.len, 1)));
        return insn;
      }
      if (n >= 15) return decode(buf, 0, 15, this.mode);
    }
  }

  private reportUd(insn: Insn, pa: number): void {
    this.reportUdBytes(insn, this.mem.ram.slice(pa, Math.min(pa + Math.max(insn.len, 1) + 2, this.mem.size)));
  }

  /** Report the current instruction as unimplemented (once per address, the machine decides). */
  reportUnimplemented(): void {
    const bytes: number[] = [];
    try {
      for (let k = 0; k < 15; k++) {
        const lo = (this.startLo + k) | 0;
        const pa = this.mmu.fetchAddr(this.mode === MODE.M64 ? lo : (this.st.seg[SEG.CS].baseLo + lo) | 0, this.mode === MODE.M64 ? this.startHi : 0);
        bytes.push(this.mmu.physRead(pa, 1));
      }
    } catch { /* a short read is fine for a report */ }
    this.host.unimplemented(this.startLo, this.startHi, Uint8Array.from(bytes));
  }

  private reportUdBytes(insn: Insn, bytes: Uint8Array): void {
    // UD2 and friends are deliberate; only report encodings we do not implement.
    if (insn.op === OP.UD) this.host.unimplemented(this.startLo, this.startHi, bytes);
  }

  // ---- Registers ---------------------------------------------------------------------------------

  /** Read a register of `size` bytes; 8-byte reads leave the high half in vhi. */
  getReg(size: number, r: number): number {
    const st = this.st;
    switch (size) {
      case 1: return r < 16 ? st.lo[r] & 0xff : (st.lo[r - 16] >> 8) & 0xff;
      case 2: return st.lo[r] & 0xffff;
      case 4: return st.lo[r];
      default: this.vhi = st.hi[r]; return st.lo[r];
    }
  }

  setReg(size: number, r: number, lo: number, hi: number): void {
    const st = this.st;
    switch (size) {
      case 1:
        if (r < 16) st.lo[r] = (st.lo[r] & ~0xff) | (lo & 0xff);
        else st.lo[r - 16] = (st.lo[r - 16] & ~0xff00) | ((lo & 0xff) << 8);
        return;
      case 2: st.lo[r] = (st.lo[r] & ~0xffff) | (lo & 0xffff); return;
      case 4: st.lo[r] = lo; st.hi[r] = 0; return;
      default: st.lo[r] = lo; st.hi[r] = hi; return;
    }
  }

  // ---- Effective addresses -----------------------------------------------------------------------

  /** Compute the linear address of the instruction's memory operand into eaLo/eaHi. */
  ea(i: Insn): void {
    // Fast path: a flat 64-bit address (most memory operands of compiled 64-bit code).
    if (i.flat === true) { this.ea64(i); return; }
    const st = this.st;
    let lo = i.disp, hi = i.disp < 0 ? -1 : 0;
    const base = i.base;
    if (base >= 0) {
      let blo: number, bhi: number;
      if (base < 16) { blo = st.lo[base]; bhi = st.hi[base]; }
      else if (base === 16) { blo = st.ripLo; bhi = st.ripHi; }
      else { blo = i.imm; bhi = i.immHi; lo = 0; hi = 0; }
      const s = (lo >>> 0) + (blo >>> 0);
      hi = (hi + bhi + (s > 0xffffffff ? 1 : 0)) | 0;
      lo = s | 0;
    }
    if (i.index >= 0) {
      const sc = i.scale;
      let xlo = st.lo[i.index], xhi = st.hi[i.index];
      if (sc) { xhi = (xhi << sc) | (xlo >>> (32 - sc)); xlo <<= sc; }
      const s = (lo >>> 0) + (xlo >>> 0);
      hi = (hi + xhi + (s > 0xffffffff ? 1 : 0)) | 0;
      lo = s | 0;
    }
    const asz = i.asz;
    if (asz !== 8) { hi = 0; if (asz === 2) lo &= 0xffff; }
    this.linear(i.seg, lo, hi);
  }

  /** ea() for a flat memory operand (Insn.flat): no segmentation, no limits. */
  ea64(i: Insn): void {
    this.lastSeg = i.seg;
    this.addr64(i);
  }

  /** The 64-bit address of a memory operand (64-bit addressing) → eaLo/eaHi; also LEA's result. */
  addr64(i: Insn): void {
    const st = this.st;
    const b = i.base, x = i.index, d = i.disp | 0;
    let lo = 0, hi = 0;
    if (b >= 0) {
      if (b < 16) { lo = st.lo[b]; hi = st.hi[b]; } else { lo = st.ripLo | 0; hi = st.ripHi | 0; }
    }
    // 64-bit sums in int32 halves (integer operations only): the carry out of a low half is an
    // unsigned wrap-around of the sum below one of its terms.
    let r = (lo + d) | 0;
    hi = (hi + (d >> 31) + ((r >>> 0) < (lo >>> 0) ? 1 : 0)) | 0;
    if (x >= 0) {
      const sc = i.scale;
      let xlo = st.lo[x], xhi = st.hi[x];
      if (sc !== 0) { xhi = (xhi << sc) | (xlo >>> (32 - sc)); xlo <<= sc; }
      const t = (r + xlo) | 0;
      hi = (hi + xhi + ((t >>> 0) < (r >>> 0) ? 1 : 0)) | 0;
      r = t;
    }
    this.eaLo = r; this.eaHi = hi;
  }

  /** Apply segmentation to an offset (segment base; limits outside long mode) → eaLo/eaHi. */
  linear(seg: number, lo: number, hi: number): void {
    this.lastSeg = seg;
    if (this.mode === MODE.M64) {
      if (seg >= SEG.FS) {
        const s = this.st.seg[seg];
        const sum = (lo >>> 0) + (s.baseLo >>> 0);
        hi = (hi + s.baseHi + (sum > 0xffffffff ? 1 : 0)) | 0;
        lo = sum | 0;
      }
      this.eaLo = lo; this.eaHi = hi;
      return;
    }
    const s = this.st.seg[seg];
    this.eaLo = (s.baseLo + lo) | 0;
    this.eaHi = 0;
    this.segOffset = lo >>> 0;
    this.segIndex = seg;
  }

  /** Segment of the last memory operand (a non-canonical stack access is #SS, not #GP). */
  lastSeg = 0;
  /** Offset and segment of the last non-long-mode linear() call (for limit checks). */
  segOffset = 0;
  segIndex = 0;

  /** Limit check for an access of `size` bytes at the last linear() result (protected/real mode). */
  checkLimit(size: number): void {
    if (this.mode === MODE.M64) return;
    const s = this.st.seg[this.segIndex];
    if (this.segOffset + size - 1 > s.limit) {
      throw new Fault(this.segIndex === SEG.SS ? EXC.SS : EXC.GP, 0);
    }
  }

  // ---- Operands ----------------------------------------------------------------------------------

  readMem(size: number): number {
    const lo = this.eaLo, hi = this.eaHi;
    if (this.mode !== MODE.M64) this.checkLimit(size);
    switch (size) {
      case 1: return this.mmu.read8(lo, hi);
      case 2: return this.mmu.read16(lo, hi);
      case 4: return this.mmu.read32(lo, hi);
      default: { const l = this.mmu.read64(lo, hi); this.vhi = this.mmu.hi; return l; }
    }
  }

  writeMem(size: number, v: number, vhi: number): void {
    const lo = this.eaLo, hi = this.eaHi;
    if (this.mode !== MODE.M64) this.checkLimit(size);
    switch (size) {
      case 1: this.mmu.write8(lo, hi, v); return;
      case 2: this.mmu.write16(lo, hi, v); return;
      case 4: this.mmu.write32(lo, hi, v); return;
      default: this.mmu.write64(lo, hi, v, vhi); return;
    }
  }

  /**
   * Read the r/m operand of a read-modify-write instruction. For memory it also checks that the write
   * will succeed, so a fault (or a VTL protection intercept) leaves flags and registers untouched.
   */
  readRmw(i: Insn, size: number): number {
    if (i.mod === 3) return this.getReg(size, i.rm);
    this.ea(i);
    const v = this.readMem(size);
    const h = this.vhi;
    this.mmu.probe(this.eaLo, this.eaHi, size, 1);
    this.vhi = h;
    return v;
  }

  /** Ask the run loop to return after the current instruction. */
  requestExit(): void {
    if (this.exitCode === -1) this.exitCode = EXIT.YIELD;
  }

  /** Read the r/m operand (computes the effective address for memory operands). */
  readE(i: Insn, size: number): number {
    if (i.mod === 3) return this.getReg(size, i.rm);
    this.ea(i);
    return this.readMem(size);
  }

  /** Write the r/m operand; for memory, uses the address computed by the preceding readE/ea. */
  writeE(i: Insn, size: number, lo: number, hi: number): void {
    if (i.mod === 3) this.setReg(size, i.rm, lo, hi);
    else this.writeMem(size, lo, hi);
  }

  // ---- Flags -------------------------------------------------------------------------------------

  /** Record an arithmetic result for lazy flag evaluation. */
  setLazy(kind: number, size: number, res: number, resHi: number, a: number, aHi: number, b: number, bHi: number): void {
    const st = this.st;
    st.lf = kind; st.lfSize = size;
    st.lfResLo = res; st.lfResHi = resHi; st.lfALo = a; st.lfAHi = aHi; st.lfBLo = b; st.lfBHi = bHi;
  }

  /** Full RFLAGS with the arithmetic bits evaluated. */
  getFlags(): number {
    const st = this.st;
    if (st.lf === LF.EAGER) return st.flags;
    return (st.flags & ~(FLAG.CF | FLAG.PF | FLAG.AF | FLAG.ZF | FLAG.SF | FLAG.OF)) |
      (this.cf() ? FLAG.CF : 0) | (this.pf() ? FLAG.PF : 0) | (this.af() ? FLAG.AF : 0) |
      (this.zf() ? FLAG.ZF : 0) | (this.sf() ? FLAG.SF : 0) | (this.of() ? FLAG.OF : 0);
  }

  /** Make the arithmetic flags eager (before an instruction that updates only some of them). */
  materialize(): void {
    const st = this.st;
    if (st.lf !== LF.EAGER) { st.flags = this.getFlags(); st.lf = LF.EAGER; }
  }

  /** Set RFLAGS wholesale (bit 1 forced on). */
  setFlags(v: number): void {
    const st = this.st;
    const wasIf = st.flags & FLAG.IF;
    st.flags = (v | FLAG.FIXED1) & ~0x8028 & 0x3f7fd7;
    st.lf = LF.EAGER;
    if (!wasIf && st.flags & FLAG.IF) this.eventPending = true;
  }

  private msb(lo: number, hi: number, size: number): number {
    switch (size) {
      case 1: return (lo >> 7) & 1;
      case 2: return (lo >> 15) & 1;
      case 4: return lo >>> 31;
      default: return hi >>> 31;
    }
  }

  cf(): boolean {
    const st = this.st;
    const size = st.lfSize;
    switch (st.lf) {
      case LF.EAGER: return (st.flags & FLAG.CF) !== 0;
      case LF.LOGIC: return false;
      case LF.INC: case LF.DEC: return st.lfCarry !== 0;
      case LF.ADD: return ucmp(st.lfResLo, st.lfResHi, st.lfALo, st.lfAHi, size) < 0;
      case LF.ADC: return st.lfCarry ? ucmp(st.lfResLo, st.lfResHi, st.lfALo, st.lfAHi, size) <= 0
        : ucmp(st.lfResLo, st.lfResHi, st.lfALo, st.lfAHi, size) < 0;
      case LF.SUB: return ucmp(st.lfALo, st.lfAHi, st.lfBLo, st.lfBHi, size) < 0;
      case LF.SBB: return st.lfCarry ? ucmp(st.lfALo, st.lfAHi, st.lfBLo, st.lfBHi, size) <= 0
        : ucmp(st.lfALo, st.lfAHi, st.lfBLo, st.lfBHi, size) < 0;
    }
    return false;
  }

  zf(): boolean {
    const st = this.st;
    if (st.lf === LF.EAGER) return (st.flags & FLAG.ZF) !== 0;
    const size = st.lfSize;
    if (size === 8) return (st.lfResLo | st.lfResHi) === 0;
    return (st.lfResLo & sizeMask(size)) === 0;
  }

  sf(): boolean {
    const st = this.st;
    if (st.lf === LF.EAGER) return (st.flags & FLAG.SF) !== 0;
    return this.msb(st.lfResLo, st.lfResHi, st.lfSize) !== 0;
  }

  pf(): boolean {
    const st = this.st;
    if (st.lf === LF.EAGER) return (st.flags & FLAG.PF) !== 0;
    return PARITY[st.lfResLo & 0xff] === 1;
  }

  af(): boolean {
    const st = this.st;
    if (st.lf === LF.EAGER) return (st.flags & FLAG.AF) !== 0;
    if (st.lf === LF.LOGIC) return false;
    return ((st.lfALo ^ st.lfBLo ^ st.lfResLo) & 0x10) !== 0;
  }

  of(): boolean {
    const st = this.st;
    const size = st.lfSize;
    switch (st.lf) {
      case LF.EAGER: return (st.flags & FLAG.OF) !== 0;
      case LF.LOGIC: return false;
      case LF.ADD: case LF.ADC: case LF.INC:
        return this.msb((st.lfALo ^ st.lfResLo) & (st.lfBLo ^ st.lfResLo), (st.lfAHi ^ st.lfResHi) & (st.lfBHi ^ st.lfResHi), size) !== 0;
      default:
        return this.msb((st.lfALo ^ st.lfBLo) & (st.lfALo ^ st.lfResLo), (st.lfAHi ^ st.lfBHi) & (st.lfAHi ^ st.lfResHi), size) !== 0;
    }
  }

  /** Evaluate condition code cc (0..15, Jcc order). */
  cond(cc: number): boolean {
    // Small, so that V8 inlines it into Jcc: the common cases (after a 32/64-bit CMP/SUB or logic op)
    // are computed from the record in condSub / condLogic, the rest flag by flag.
    const st = this.st;
    if (st.lfSize >= 4) {
      if (st.lf === LF.SUB) return this.condSub(cc);
      if (st.lf === LF.LOGIC) return this.condLogic(cc);
    }
    return this.condSlow(cc);
  }

  /** cond() after a 32/64-bit SUB or CMP, from its operands. */
  private condSub(cc: number): boolean {
    const st = this.st;
    let r: boolean;
    if (st.lfSize === 8) {
      // Unsigned (B, BE) and signed (L, LE) 64-bit compares: the high halves decide unless equal.
      const ah = st.lfAHi | 0, bh = st.lfBHi | 0, a = st.lfALo >>> 0, b = st.lfBLo >>> 0;
      switch (cc >> 1) {
        case 1: r = ah !== bh ? (ah >>> 0) < (bh >>> 0) : a < b; break;
        case 2: r = (st.lfResLo | st.lfResHi) === 0; break;
        case 3: r = ah !== bh ? (ah >>> 0) < (bh >>> 0) : a <= b; break;
        case 6: r = ah !== bh ? ah < bh : a < b; break;
        case 7: r = ah !== bh ? ah < bh : a <= b; break;
        default: return this.condSlow(cc);
      }
    } else {
      switch (cc >> 1) {
        case 1: r = (st.lfALo >>> 0) < (st.lfBLo >>> 0); break;
        case 2: r = st.lfResLo === 0; break;
        case 3: r = (st.lfALo >>> 0) <= (st.lfBLo >>> 0); break;
        case 6: r = st.lfALo < st.lfBLo; break;
        case 7: r = st.lfALo <= st.lfBLo; break;
        default: return this.condSlow(cc);
      }
    }
    return (cc & 1) !== 0 ? !r : r;
  }

  /** cond() after a 32/64-bit logic op: CF = OF = 0, so B/BE reduce to false/ZF, L/LE to SF/(SF|ZF). */
  private condLogic(cc: number): boolean {
    const st = this.st;
    const wide = st.lfSize === 8;
    const zero = wide ? (st.lfResLo | st.lfResHi) === 0 : st.lfResLo === 0;
    const neg = wide ? st.lfResHi < 0 : st.lfResLo < 0;
    let r: boolean;
    switch (cc >> 1) {
      case 0: case 1: r = false; break;
      case 2: case 3: r = zero; break;
      case 4: case 6: r = neg; break;
      case 7: r = zero || neg; break;
      default: return this.condSlow(cc);
    }
    return (cc & 1) !== 0 ? !r : r;
  }

  private condSlow(cc: number): boolean {
    let r: boolean;
    switch (cc >> 1) {
      case 0: r = this.of(); break;
      case 1: r = this.cf(); break;
      case 2: r = this.zf(); break;
      case 3: r = this.cf() || this.zf(); break;
      case 4: r = this.sf(); break;
      case 5: r = this.pf(); break;
      case 6: r = this.sf() !== this.of(); break;
      default: r = this.zf() || this.sf() !== this.of(); break;
    }
    return (cc & 1) ? !r : r;
  }

  // ---- Stack -------------------------------------------------------------------------------------

  /** Push `size` bytes (2, 4 or 8). Writes memory first, then updates RSP (precise faults). */
  push(size: number, lo: number, hi: number): void {
    const st = this.st;
    const ss = this.stackSize();
    let splo = st.lo[4], sphi = st.hi[4];
    if (ss === 8) {
      const s = (splo >>> 0) - size;
      sphi = s < 0 ? (sphi - 1) | 0 : sphi;
      splo = s | 0;
    } else if (ss === 4) { splo = (splo - size) | 0; sphi = 0; }
    else { splo = (splo & ~0xffff) | ((splo - size) & 0xffff); }
    this.linear(SEG.SS, ss === 2 ? splo & 0xffff : splo, ss === 8 ? sphi : 0);
    this.writeMem(size, lo, hi);
    if (ss === 8) { st.lo[4] = splo; st.hi[4] = sphi; }
    else if (ss === 4) { st.lo[4] = splo; st.hi[4] = this.long ? 0 : st.hi[4]; }
    else st.lo[4] = splo;
  }

  /** Read the value at the top of the stack at byte offset `off` without popping. */
  peek(size: number, off: number): number {
    const st = this.st;
    const ss = this.stackSize();
    let lo = st.lo[4], hi = ss === 8 ? st.hi[4] : 0;
    if (off) {
      const s = (lo >>> 0) + off;
      if (ss === 8) hi = (hi + (s > 0xffffffff ? 1 : 0)) | 0;
      lo = s | 0;
    }
    if (ss === 2) lo &= 0xffff;
    this.linear(SEG.SS, lo, hi);
    return this.readMem(size);
  }

  /** Adjust RSP by `n` bytes (after a successful pop). */
  addSp(n: number): void {
    const st = this.st;
    const ss = this.stackSize();
    if (ss === 8) {
      const s = (st.lo[4] >>> 0) + n;
      st.hi[4] = (st.hi[4] + (s > 0xffffffff ? 1 : s < 0 ? -1 : 0)) | 0;
      st.lo[4] = s | 0;
    } else if (ss === 4) st.lo[4] = (st.lo[4] + n) | 0;
    else st.lo[4] = (st.lo[4] & ~0xffff) | ((st.lo[4] + n) & 0xffff);
  }

  pop(size: number): number {
    const v = this.peek(size, 0);
    const h = this.vhi;
    this.addSp(size);
    this.vhi = h;
    return v;
  }

  /** Set RIP to a branch target (masking for 16/32-bit operand sizes). */
  jumpTo(lo: number, hi: number, osz: number): void {
    const st = this.st;
    if (osz === 8) { st.ripLo = lo; st.ripHi = hi; }
    else if (osz === 4) { st.ripLo = lo; st.ripHi = 0; }
    else { st.ripLo = lo & 0xffff; st.ripHi = 0; }
    if (this.mode === MODE.M64) {
      const top = st.ripHi >> 15;
      if (top !== 0 && top !== -1) { st.ripLo = this.startLo; st.ripHi = this.startHi; throw new Fault(EXC.GP, 0); }
    } else if ((st.ripLo >>> 0) > st.seg[SEG.CS].limit) throw new Fault(EXC.GP, 0);
  }

  /** Relative branch by a signed displacement from the next instruction. */
  jumpRel(disp: number, osz: number): void {
    const st = this.st;
    const s = (st.ripLo >>> 0) + disp;
    const hi = (st.ripHi + (s > 0xffffffff ? 1 : s < 0 ? -1 : 0)) | 0;
    this.jumpTo(s | 0, hi, osz);
  }
}

export function sizeMask(size: number): number {
  return size === 1 ? 0xff : size === 2 ? 0xffff : -1;
}

/** Signed compare of two 64-bit values. */
export function scmp64(alo: number, ahi: number, blo: number, bhi: number): number {
  if ((ahi | 0) !== (bhi | 0)) return (ahi | 0) < (bhi | 0) ? -1 : 1;
  const a = alo >>> 0, b = blo >>> 0;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Unsigned compare of two values of `size` bytes: -1, 0, 1. */
export function ucmp(alo: number, ahi: number, blo: number, bhi: number, size: number): number {
  if (size === 8) {
    const ah = ahi >>> 0, bh = bhi >>> 0;
    if (ah !== bh) return ah < bh ? -1 : 1;
  }
  const m = size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  const a = (alo & m) >>> 0, b = (blo & m) >>> 0;
  return a < b ? -1 : a > b ? 1 : 0;
}

// Local APIC (xAPIC MMIO + x2APIC MSRs), one instance per virtual processor (and later per VP per
// VTL). An instance holds only its own registers: routing between APICs is the machine's job,
// through the IpiRouter it supplies (routeIpi(), re-exported here, implements the SDM matching rules).
//
// Time: the APIC bus clock and the TSC both run at 1 GHz, i.e. one tick per virtual ns before the
// divider, and TSC == virtual ns. Timers never count down in software: the current count is
// computed from the clock, and a timer expires when the machine calls tick(now) at or after
// nextDeadlineNs(). Before any write that changes timer configuration the APIC first catches up
// to the current time under the old configuration, so nothing depends on how late tick() ran.

import type { Clock, IoSize, MmioDevice, Msr64, SavedSection, Saveable } from './types.js';
import {
  APIC_DEFAULT_BASE, APIC_VERSION, ApicBaseBits, ApicMsr, ApicReg, DeliveryMode, Esr, ICR_WRITABLE, type Ipi,
  LVT_WRITABLE, LvtBits, LvtIndex, SVR_ENABLE, Shorthand, TWO_32,
} from './apicdefs.js';
import { ApicTimer, type ApicTimerSaved } from './apictimer.js';

export * from './apicdefs.js';
export { routeIpi } from './apicroute.js';

export interface IpiRouter {
  deliver(src: LocalApic, ipi: Ipi): void;
  /** Whether acknowledging `vector` ends it at once (a SynIC SINT with auto-EOI, spec/vsm.md 7). */
  autoEoi?(apic: LocalApic, vector: number): boolean;
  /** `vector` was ended (by EOI or auto-EOI): the SynIC retries queued messages (spec/vsm.md 7). */
  eoi?(apic: LocalApic, vector: number): void;
}

export interface LocalApicOptions {
  apicId: number;
  clock: Clock;
  router: IpiRouter;
  /** Something the VP run loop must look at happened (deliverable interrupt, INIT, SIPI, NMI, timer re-armed). */
  onSignal: () => void;
  /** IA32_APIC_BASE.BSP at reset; default: apicId === 0. */
  bsp?: boolean;
  /** CPUID MAXPHYADDR: APIC base bits at or above it are reserved (#GP). Default 40 (core/machine/cpuid.ts). */
  physAddrBits?: number;
}

function highestBit(regs: Uint32Array): number {
  for (let i = 7; i >= 0; i--) {
    const w = regs[i] as number;
    if (w !== 0) return i * 32 + 31 - Math.clz32(w);
  }
  return -1;
}

function testBit(regs: Uint32Array, v: number): boolean {
  return (((regs[v >>> 5] as number) >>> (v & 31)) & 1) !== 0;
}

function setBit(regs: Uint32Array, v: number, on: boolean): void {
  const i = v >>> 5;
  const m = 1 << (v & 31);
  regs[i] = on ? (regs[i] as number) | m : (regs[i] as number) & ~m;
}

export class LocalApic implements MmioDevice, Saveable {
  readonly apicId: number;
  private readonly clock: Clock;
  private readonly router: IpiRouter;
  private readonly onSignal: () => void;
  private readonly bspAtReset: boolean;
  private readonly physAddrBits: number;

  private baseLo = 0; // IA32_APIC_BASE low half (address bits 31:12 + flags)
  private baseHi = 0; // IA32_APIC_BASE high half (address bits above 31)
  private xapicId = 0; // xAPIC ID register bits 31:24 (writable in xAPIC mode)
  private tpr = 0;
  private ldr = 0;
  private dfr = 0xffffffff;
  private svr = 0xff;
  private esrPending = 0; // errors collected since the last ESR write
  private esrVisible = 0; // what ESR reads: latched by the last ESR write
  private icrLo = 0;
  private icrHi = 0;
  private readonly irr = new Uint32Array(8);
  private readonly isr = new Uint32Array(8);
  private readonly tmr = new Uint32Array(8);
  /** LVT entries other than the timer's (index 0 unused; the timer owns its entry). */
  private readonly lvt = new Uint32Array(6);
  private readonly timer: ApicTimer;
  private initPending = false;
  private sipiVector = -1;
  private nmiPending = false;

  constructor(options: LocalApicOptions) {
    this.apicId = options.apicId >>> 0;
    this.clock = options.clock;
    this.router = options.router;
    this.onSignal = options.onSignal;
    this.bspAtReset = options.bsp ?? this.apicId === 0;
    this.physAddrBits = options.physAddrBits ?? 40;
    this.timer = new ApicTimer(this.clock, (vector) => this.injectVector(vector, false));
    this.reset();
  }

  /** Power-up / RESET# state: enabled xAPIC at 0xFEE00000. */
  reset(): void {
    this.baseLo = (APIC_DEFAULT_BASE | ApicBaseBits.EN | (this.bspAtReset ? ApicBaseBits.BSP : 0)) >>> 0;
    this.baseHi = 0;
    this.xapicId = this.apicId & 0xff;
    this.resetRegisters();
    this.initPending = false;
    this.sipiVector = -1;
    this.nmiPending = false;
  }

  /** SDM 10.4.7.1 register state, shared by reset, INIT and hardware disable. ID and base MSR are kept. */
  private resetRegisters(): void {
    this.tpr = 0;
    this.ldr = 0;
    this.dfr = 0xffffffff;
    this.svr = 0xff;
    this.esrPending = 0;
    this.esrVisible = 0;
    this.icrLo = 0;
    this.icrHi = 0;
    this.irr.fill(0);
    this.isr.fill(0);
    this.tmr.fill(0);
    this.lvt.fill(LvtBits.MASKED);
    this.timer.reset();
  }

  // ---------------------------------------------------------------- state queries

  /** IA32_APIC_BASE[11]: hardware enabled. */
  isEnabled(): boolean {
    return (this.baseLo & ApicBaseBits.EN) !== 0;
  }

  isX2apic(): boolean {
    return (this.baseLo & (ApicBaseBits.EN | ApicBaseBits.EXTD)) === (ApicBaseBits.EN | ApicBaseBits.EXTD);
  }

  /** SVR[8]: software enabled. */
  isSoftwareEnabled(): boolean {
    return (this.svr & SVR_ENABLE) !== 0;
  }

  /** Guest-physical base of the xAPIC window (IA32_APIC_BASE bits MAXPHYADDR-1:12). */
  mmioBase(): number {
    return this.baseHi * TWO_32 + ((this.baseLo & 0xfffff000) >>> 0);
  }

  /** Whether the MMIO window decodes: only in xAPIC mode (x2APIC and disabled APICs have none). */
  mmioEnabled(): boolean {
    return this.isEnabled() && !this.isX2apic();
  }

  /** PPR per SDM 10.8.3.1: TPR if its class is at least the highest in-service class, else that class. */
  ppr(): number {
    const isrv = highestBit(this.isr);
    const isrClass = isrv < 0 ? 0 : isrv & 0xf0;
    return (this.tpr & 0xf0) >= isrClass ? this.tpr : isrClass;
  }

  /** CR8 is TPR[7:4] (64-bit mode). */
  readCr8(): number {
    return this.tpr >>> 4;
  }

  writeCr8(value: number): void {
    this.setTpr((value & 0xf) << 4);
  }

  // ---------------------------------------------------------------- VP interface

  /** Highest IRR vector whose priority class is above PPR's, or -1. */
  pendingVector(): number {
    if (!this.isEnabled()) return -1;
    const v = highestBit(this.irr);
    if (v < 0 || (v & 0xf0) <= (this.ppr() & 0xf0)) return -1;
    return v;
  }

  /** The CPU is delivering `vector`: move it from IRR to ISR. */
  acknowledge(vector: number): void {
    if (!testBit(this.irr, vector)) return;
    setBit(this.irr, vector, false);
    if (this.router.autoEoi?.(this, vector)) { this.router.eoi?.(this, vector); return; }
    setBit(this.isr, vector, true);
  }

  /**
   * Consume a pending INIT. Taking it resets the APIC registers (SDM 10.4.7.3: all but the ID and
   * IA32_APIC_BASE, mode included) and drops a pending NMI; a SIPI that arrived after the INIT
   * stays pending for takeSipi().
   */
  takeInit(): boolean {
    if (!this.initPending) return false;
    this.initPending = false;
    this.nmiPending = false;
    this.resetRegisters();
    return true;
  }

  /** Consume a pending STARTUP IPI: its vector, or -1. The VP ignores it unless waiting for SIPI. */
  takeSipi(): number {
    const v = this.sipiVector;
    this.sipiVector = -1;
    return v;
  }

  takeNmi(): boolean {
    const v = this.nmiPending;
    this.nmiPending = false;
    return v;
  }

  /** An interrupt message arrived for this APIC (from the machine's router). */
  acceptInterrupt(deliveryMode: number, vector: number, trigger: 'edge' | 'level'): void {
    if (!this.isEnabled()) return; // a hardware-disabled APIC is absent from the bus
    switch (deliveryMode) {
      case DeliveryMode.FIXED:
      case DeliveryMode.LOWEST:
        // SDM 10.4.7.2: a software-disabled APIC still takes NMI/INIT/SIPI, but not fixed ones.
        if (!this.isSoftwareEnabled()) return;
        this.injectVector(vector & 0xff, trigger === 'level');
        return;
      case DeliveryMode.NMI:
        this.nmiPending = true;
        this.onSignal();
        return;
      case DeliveryMode.INIT:
        // A SIPI that was waiting belongs to a previous INIT/SIPI round: discard it.
        this.initPending = true;
        this.sipiVector = -1;
        this.onSignal();
        return;
      case DeliveryMode.STARTUP:
        this.sipiVector = vector & 0xff;
        this.onSignal();
        return;
      default:
        return; // SMI (no SMM) and ExtINT (no 8259 routing) are not modelled
    }
  }

  /** Edge on the LINT0/LINT1 pin, delivered per its LVT entry. */
  raiseLint(pin: 0 | 1): void {
    if (!this.isEnabled()) return;
    const e = this.lvt[LvtIndex.LINT0 + pin] as number;
    if ((e & LvtBits.MASKED) !== 0) return;
    const mode = (e >>> 8) & 7;
    if (mode === DeliveryMode.FIXED) this.injectVector(e & 0xff, (e & LvtBits.LEVEL) !== 0);
    else if (mode === DeliveryMode.NMI || mode === DeliveryMode.INIT) this.acceptInterrupt(mode, 0, 'edge');
  }

  // ---------------------------------------------------------------- timers

  /** Earliest time at which tick() has work to do; Infinity when no unmasked timer is armed. */
  nextDeadlineNs(): number {
    return this.timer.nextDeadlineNs();
  }

  /** Fire every timer that has expired by `nowNs` (the machine calls it at or after nextDeadlineNs()). */
  tick(nowNs: number): void {
    this.timer.tick(nowNs);
  }

  // ---------------------------------------------------------------- interrupt state

  /** A locally generated or received fixed interrupt. Vectors 0-15 are illegal (SDM 10.5.3). */
  private injectVector(vector: number, level: boolean): void {
    if (vector < 16) {
      this.raiseError(Esr.RECV_ILLEGAL_VECTOR);
      return;
    }
    setBit(this.irr, vector, true);
    setBit(this.tmr, vector, level);
    this.signalIfDeliverable();
  }

  private raiseError(bits: number): void {
    this.esrPending |= bits;
    const e = this.lvt[LvtIndex.ERROR] as number;
    if ((e & LvtBits.MASKED) !== 0) return;
    const v = e & 0xff;
    // An illegal error vector is itself an error; record it without recursing.
    if (v < 16) this.esrPending |= Esr.RECV_ILLEGAL_VECTOR;
    else this.injectVector(v, false);
  }

  private signalIfDeliverable(): void {
    if (this.pendingVector() >= 0) this.onSignal();
  }

  private setTpr(v: number): void {
    this.tpr = v & 0xff;
    this.signalIfDeliverable();
  }

  private eoi(): void {
    const v = highestBit(this.isr);
    if (v < 0) return;
    setBit(this.isr, v, false);
    // Level-triggered EOI broadcast to I/O APICs is not needed: there are none.
    this.router.eoi?.(this, v);
    this.signalIfDeliverable();
  }

  private x2Ldr(): number {
    return (((this.apicId >>> 4) << 16) | (1 << (this.apicId & 0xf))) >>> 0;
  }

  private sendIpi(): void {
    const lo = this.icrLo;
    const x2 = this.isX2apic();
    const deliveryMode = (lo >>> 8) & 7;
    const vector = lo & 0xff;
    if ((deliveryMode === DeliveryMode.FIXED || deliveryMode === DeliveryMode.LOWEST) && vector < 16) {
      this.raiseError(Esr.SEND_ILLEGAL_VECTOR);
    }
    this.router.deliver(this, {
      deliveryMode,
      vector,
      destMode: (lo & 0x800) !== 0 ? 'logical' : 'physical',
      dest: x2 ? this.icrHi >>> 0 : this.icrHi >>> 24,
      shorthand: ((lo >>> 18) & 3) as 0 | 1 | 2 | 3,
      level: (lo & 0x4000) !== 0,
      trigger: (lo & 0x8000) !== 0 ? 'level' : 'edge',
      x2apic: x2,
    });
  }

  // ---------------------------------------------------------------- destination matching (for routeIpi)

  /** Physical destination match; the broadcast value depends on the sender's mode. */
  matchesPhysical(dest: number, senderX2apic: boolean): boolean {
    if (senderX2apic ? dest >>> 0 === 0xffffffff : dest === 0xff) return true;
    return this.isX2apic() ? dest >>> 0 === this.apicId : dest === this.xapicId;
  }

  /** Logical destination match: x2APIC cluster, or xAPIC flat/cluster per this APIC's DFR. */
  matchesLogical(dest: number, senderX2apic: boolean): boolean {
    if (senderX2apic ? dest >>> 0 === 0xffffffff : dest === 0xff) return true;
    if (this.isX2apic()) {
      const l = this.x2Ldr();
      return dest >>> 16 === l >>> 16 && (dest & l & 0xffff) !== 0;
    }
    const d = dest & 0xff;
    const l = this.ldr >>> 24;
    if (this.dfr >>> 28 === 0xf) return (d & l) !== 0; // flat model: 8-bit mask
    // Cluster model: high nibble cluster (0xF = all clusters), low nibble member mask.
    return (d >>> 4 === 0xf || d >>> 4 === l >>> 4) && (d & l & 0xf) !== 0;
  }

  // ---------------------------------------------------------------- register file

  /** Read a register by xAPIC offset; undefined = not readable (x2APIC: #GP; xAPIC: reads 0). */
  private readReg(off: number, x2: boolean): number | undefined {
    if (off >= ApicReg.ISR && off < ApicReg.ESR) {
      const bank = off < ApicReg.TMR ? this.isr : off < ApicReg.IRR ? this.tmr : this.irr;
      return bank[(off >>> 4) & 7] as number;
    }
    if (off === ApicReg.LVT_TIMER) return this.timer.lvt;
    if (off > ApicReg.LVT_TIMER && off <= ApicReg.LVT_ERROR) return this.lvt[(off - ApicReg.LVT_TIMER) >>> 4] as number;
    switch (off) {
      case ApicReg.ID:
        return x2 ? this.apicId : (this.xapicId << 24) >>> 0;
      case ApicReg.VERSION:
        return APIC_VERSION;
      case ApicReg.TPR:
        return this.tpr;
      case ApicReg.PPR:
        return this.ppr();
      case ApicReg.APR: // arbitration priority: meaningless here; xAPIC-only
      case ApicReg.EOI: // write-only
      case ApicReg.RRD: // remote read: xAPIC-only, never valid
        return x2 ? undefined : 0;
      case ApicReg.LDR:
        return x2 ? this.x2Ldr() : this.ldr;
      case ApicReg.DFR:
        return x2 ? undefined : this.dfr;
      case ApicReg.SVR:
        return this.svr;
      case ApicReg.ESR:
        return this.esrVisible;
      case ApicReg.ICR_LO:
        return this.icrLo;
      case ApicReg.ICR_HI:
        return x2 ? undefined : this.icrHi;
      case ApicReg.TIMER_INITIAL:
        return this.timer.initialCount();
      case ApicReg.TIMER_CURRENT:
        return this.timer.currentCount();
      case ApicReg.TIMER_DIVIDE:
        return this.timer.divideConfig();
      default:
        return x2 ? undefined : 0; // includes SELF_IPI (write-only, x2APIC-only)
    }
  }

  /** Write a register by xAPIC offset; false = #GP (only ever in x2APIC mode; xAPIC ignores bad writes). */
  private writeReg(off: number, v: number, x2: boolean): boolean {
    if (off >= ApicReg.LVT_TIMER && off <= ApicReg.LVT_ERROR) {
      const i = (off - ApicReg.LVT_TIMER) >>> 4;
      // While software-disabled, LVT mask bits are stuck at 1 (SDM 10.4.7.2).
      let nv = v & (LVT_WRITABLE[i] as number);
      if (!this.isSoftwareEnabled()) nv |= LvtBits.MASKED;
      if (i === LvtIndex.TIMER) {
        this.timer.writeLvt(nv);
        this.onSignal(); // the timer deadline may have changed
      } else {
        this.lvt[i] = nv;
      }
      return true;
    }
    switch (off) {
      case ApicReg.ID:
        if (x2) return false; // read-only in x2APIC mode
        this.xapicId = v >>> 24;
        return true;
      case ApicReg.TPR:
        this.setTpr(v);
        return true;
      case ApicReg.EOI:
        if (x2 && v !== 0) return false;
        this.eoi();
        return true;
      case ApicReg.LDR:
        if (x2) return false;
        this.ldr = (v & 0xff000000) >>> 0;
        return true;
      case ApicReg.DFR:
        if (x2) return false;
        this.dfr = (v | 0x0fffffff) >>> 0;
        return true;
      case ApicReg.SVR:
        this.svr = v & 0x3ff; // vector, enable, focus-check; bit 12 (EOI suppression) unsupported
        if (!this.isSoftwareEnabled()) {
          this.timer.mask();
          for (let i = 1; i < 6; i++) this.lvt[i] = (this.lvt[i] as number) | LvtBits.MASKED;
        }
        return true;
      case ApicReg.ESR:
        if (x2 && v !== 0) return false;
        // A write latches the errors seen so far into the readable register (SDM 10.5.3).
        this.esrVisible = this.esrPending;
        this.esrPending = 0;
        return true;
      case ApicReg.ICR_LO:
        this.icrLo = v & ICR_WRITABLE;
        this.sendIpi();
        return true;
      case ApicReg.ICR_HI:
        if (x2) return false;
        this.icrHi = (v & 0xff000000) >>> 0;
        return true;
      case ApicReg.TIMER_INITIAL:
        this.timer.writeInitialCount(v);
        this.onSignal();
        return true;
      case ApicReg.TIMER_DIVIDE:
        this.timer.writeDivide(v);
        this.onSignal();
        return true;
      case ApicReg.SELF_IPI:
        if (!x2) return true; // no such register in xAPIC mode
        this.router.deliver(this, {
          deliveryMode: DeliveryMode.FIXED, vector: v & 0xff, destMode: 'physical', dest: 0,
          shorthand: Shorthand.SELF, level: true, trigger: 'edge', x2apic: true,
        });
        return true;
      default:
        return !x2; // read-only or reserved: #GP in x2APIC mode, ignored in xAPIC mode
    }
  }

  // ---------------------------------------------------------------- xAPIC MMIO

  mmioRead(offset: number, size: IoSize | 8): number {
    const mask = size >= 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    if (!this.mmioEnabled()) return mask;
    const sub = offset & 0xf;
    // Registers are 32 bits at 16-byte strides; sub-dword reads within the first dword are fine
    // (KVM allows them), anything straddling it reads 0.
    if (sub + Math.min(size, 4) > 4) return 0;
    const v = this.readReg(offset & 0xff0, false) ?? 0;
    return ((v >>> (sub * 8)) & mask) >>> 0;
  }

  mmioWrite(offset: number, size: IoSize | 8, value: number): void {
    // SDM 10.4.1: registers must be written with aligned 32-bit stores; others are dropped (as KVM).
    if (!this.mmioEnabled() || size !== 4 || (offset & 0xf) !== 0) return;
    this.writeReg(offset & 0xff0, value >>> 0, false);
  }

  // ---------------------------------------------------------------- MSRs

  /** RDMSR for IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC range; false = #GP. */
  rdmsr(index: number, out: Msr64): boolean {
    if (index === ApicMsr.APIC_BASE) {
      out.lo = this.baseLo;
      out.hi = this.baseHi;
      return true;
    }
    if (index === ApicMsr.TSC_DEADLINE) {
      const d = this.timer.readDeadline();
      out.lo = d.lo;
      out.hi = d.hi;
      return true;
    }
    if (index < ApicMsr.X2APIC_FIRST || index > ApicMsr.X2APIC_LAST || !this.isX2apic()) return false;
    const off = (index - ApicMsr.X2APIC_FIRST) << 4;
    if (off === ApicReg.ICR_LO) {
      out.lo = this.icrLo;
      out.hi = this.icrHi;
      return true;
    }
    const v = this.readReg(off, true);
    if (v === undefined) return false;
    out.lo = v >>> 0;
    out.hi = 0;
    return true;
  }

  /** WRMSR for IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC range; false = #GP. */
  wrmsr(index: number, lo: number, hi: number): boolean {
    lo >>>= 0;
    hi >>>= 0;
    if (index === ApicMsr.APIC_BASE) return this.writeApicBase(lo, hi);
    if (index === ApicMsr.TSC_DEADLINE) {
      this.timer.writeDeadline(lo, hi);
      this.onSignal();
      return true;
    }
    if (index < ApicMsr.X2APIC_FIRST || index > ApicMsr.X2APIC_LAST || !this.isX2apic()) return false;
    const off = (index - ApicMsr.X2APIC_FIRST) << 4;
    if (off === ApicReg.ICR_LO) {
      // x2APIC ICR is one 64-bit register; writing it sends.
      this.icrHi = hi;
      this.icrLo = lo & ICR_WRITABLE;
      this.sendIpi();
      return true;
    }
    if (hi !== 0) return false; // bits 63:32 are reserved in every other x2APIC register
    return this.writeReg(off, lo, true);
  }

  /** IA32_APIC_BASE write with the SDM 10.12.5 mode-transition rules (as KVM enforces them). */
  private writeApicBase(lo: number, hi: number): boolean {
    const hiBits = this.physAddrBits - 32;
    if ((lo & 0x2ff) !== 0 || (hiBits < 32 && hi >>> hiBits !== 0)) return false; // reserved bits
    const newEn = (lo & ApicBaseBits.EN) !== 0;
    const newX2 = (lo & ApicBaseBits.EXTD) !== 0;
    const wasEn = this.isEnabled();
    const wasX2 = this.isX2apic();
    if (newX2 && !newEn) return false; // EXTD without EN is an invalid state
    if (wasX2 && newEn && !newX2) return false; // x2APIC -> xAPIC must go through disabled
    if (!wasEn && newX2) return false; // disabled -> x2APIC must go through xAPIC
    this.baseLo = lo;
    this.baseHi = hi;
    if (wasEn && !newEn) {
      // Disabling loses all APIC state; re-enabling starts from the power-up state (SDM 10.4.3).
      this.resetRegisters();
      this.xapicId = this.apicId & 0xff;
      this.initPending = false;
      this.sipiVector = -1;
      this.nmiPending = false;
    }
    this.onSignal();
    return true;
  }

  // ---------------------------------------------------------------- snapshot

  save(): SavedSection {
    return {
      version: 1,
      apicId: this.apicId,
      baseLo: this.baseLo,
      baseHi: this.baseHi,
      xapicId: this.xapicId,
      tpr: this.tpr,
      ldr: this.ldr,
      dfr: this.dfr,
      svr: this.svr,
      esrPending: this.esrPending,
      esrVisible: this.esrVisible,
      icrLo: this.icrLo,
      icrHi: this.icrHi,
      irr: Array.from(this.irr),
      isr: Array.from(this.isr),
      tmr: Array.from(this.tmr),
      lvt: Array.from(this.lvt),
      timer: this.timer.save(),
      initPending: this.initPending,
      sipiVector: this.sipiVector,
      nmiPending: this.nmiPending,
    };
  }

  restore(s: SavedSection): void {
    if (s.version !== 1) throw new Error(`LocalApic: unsupported snapshot version ${String(s.version)}`);
    if (s.apicId !== this.apicId) throw new Error(`LocalApic: snapshot is for APIC ${String(s.apicId)}, not ${this.apicId}`);
    this.baseLo = s.baseLo as number;
    this.baseHi = s.baseHi as number;
    this.xapicId = s.xapicId as number;
    this.tpr = s.tpr as number;
    this.ldr = s.ldr as number;
    this.dfr = s.dfr as number;
    this.svr = s.svr as number;
    this.esrPending = s.esrPending as number;
    this.esrVisible = s.esrVisible as number;
    this.icrLo = s.icrLo as number;
    this.icrHi = s.icrHi as number;
    this.irr.set(s.irr as number[]);
    this.isr.set(s.isr as number[]);
    this.tmr.set(s.tmr as number[]);
    this.lvt.set(s.lvt as number[]);
    this.timer.restore(s.timer as ApicTimerSaved);
    this.initPending = s.initPending as boolean;
    this.sipiVector = s.sipiVector as number;
    this.nmiPending = s.nmiPending as boolean;
  }
}

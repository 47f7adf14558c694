// The local APIC timer: LVT timer entry, initial/current count, divide configuration and
// IA32_TSC_DEADLINE, in one-shot, periodic and TSC-deadline modes (SDM 10.5.4).
//
// Nothing counts down in software. The APIC bus clock and the TSC both run at 1 GHz (one tick per
// virtual ns), so the state is just "when does the current cycle end" (nextNs) and the current
// count is derived from the clock. Periodic expiries sit on an exact grid nextNs + k * period,
// so there is no drift however late tick() is called. Before any configuration change the
// timer first catches up with the clock under the old configuration, so results never depend
// on when the machine happened to call tick().

import type { Clock } from './types.js';
import { LvtBits, TimerMode, TWO_32 } from './apicdefs.js';

export interface ApicTimerSaved {
  lvt: number;
  initial: number;
  dcr: number;
  /** -1 = not counting (JSON-safe stand-in for Infinity). */
  nextNs: number;
  deadlineLo: number;
  deadlineHi: number;
}

export class ApicTimer {
  /** LVT timer register (vector, mask, mode), already filtered to its writable bits. */
  lvt = LvtBits.MASKED as number;
  private initial = 0;
  private dcr = 0;
  /** End of the current one-shot/periodic cycle in ns; Infinity when not counting. */
  private nextNs = Infinity;
  private deadlineLo = 0; // IA32_TSC_DEADLINE; 0 = disarmed
  private deadlineHi = 0;

  /** `fire(vector)` injects the timer interrupt; it is only called while the LVT is unmasked. */
  constructor(
    private readonly clock: Clock,
    private readonly fire: (vector: number) => void,
  ) {}

  reset(): void {
    this.lvt = LvtBits.MASKED;
    this.initial = 0;
    this.dcr = 0;
    this.nextNs = Infinity;
    this.deadlineLo = 0;
    this.deadlineHi = 0;
  }

  mode(): number {
    const m = (this.lvt >>> LvtBits.TIMER_MODE_SHIFT) & 3;
    return m === 3 ? TimerMode.ONE_SHOT : m; // 3 is reserved; behaves as one-shot
  }

  private masked(): boolean {
    return (this.lvt & LvtBits.MASKED) !== 0;
  }

  /** Divide configuration (bits 3,1:0) -> 2, 4, ..., 128, or 1 for 0b111. */
  private divisor(): number {
    const v = (this.dcr & 3) | ((this.dcr & 8) >>> 1);
    return v === 7 ? 1 : 2 << v;
  }

  private deadlineArmed(): boolean {
    return (this.deadlineLo | this.deadlineHi) !== 0;
  }

  private deadlineNs(): number {
    return this.deadlineHi * TWO_32 + this.deadlineLo;
  }

  /**
   * Earliest time tick() has work to do; Infinity when nothing unmasked is armed. A masked timer
   * keeps its cycle, but its expiries have no visible effect until the next configuration
   * change, whose catch-up accounts for them.
   */
  nextDeadlineNs(): number {
    if (this.masked()) return Infinity;
    if (this.mode() === TimerMode.TSC_DEADLINE) return this.deadlineArmed() ? this.deadlineNs() : Infinity;
    return this.nextNs;
  }

  tick(nowNs: number): void {
    const masked = this.masked();
    if (this.nextNs <= nowNs) {
      if (this.mode() === TimerMode.PERIODIC) {
        // Re-arm on the exact period grid; periods missed entirely collapse into one IRR bit.
        const period = this.initial * this.divisor();
        this.nextNs += (Math.floor((nowNs - this.nextNs) / period) + 1) * period;
      } else {
        this.nextNs = Infinity;
      }
      if (!masked) this.fire(this.lvt & 0xff);
    }
    if (this.mode() === TimerMode.TSC_DEADLINE && this.deadlineArmed() && this.deadlineNs() <= nowNs) {
      // SDM 10.5.4.1: the timer disarms itself and clears IA32_TSC_DEADLINE when it fires.
      this.deadlineLo = 0;
      this.deadlineHi = 0;
      if (!masked) this.fire(this.lvt & 0xff);
    }
  }

  catchUp(): void {
    this.tick(this.clock.nowNs());
  }

  initialCount(): number {
    return this.initial;
  }

  divideConfig(): number {
    return this.dcr;
  }

  /** Current count register, derived from the clock. */
  currentCount(): number {
    if (this.initial === 0 || this.nextNs === Infinity) return 0;
    const div = this.divisor();
    const period = this.initial * div;
    const cycleStart = this.nextNs - period;
    const elapsed = this.clock.nowNs() - cycleStart;
    if (this.mode() === TimerMode.PERIODIC) {
      const e = ((elapsed % period) + period) % period; // tick() may not have run yet this cycle
      return this.initial - Math.floor(e / div);
    }
    return elapsed >= period ? 0 : this.initial - Math.floor(elapsed / div);
  }

  writeLvt(v: number): void {
    this.catchUp();
    const wasDeadline = this.mode() === TimerMode.TSC_DEADLINE;
    this.lvt = v >>> 0;
    if (wasDeadline !== (this.mode() === TimerMode.TSC_DEADLINE)) {
      // Switching to or from TSC-deadline mode disarms the timer (SDM 10.5.4.1; KVM does the same).
      this.initial = 0;
      this.nextNs = Infinity;
      this.deadlineLo = 0;
      this.deadlineHi = 0;
    }
  }

  /** Software disable sets every LVT mask bit; timers keep their cycle. */
  mask(): void {
    this.catchUp();
    this.lvt = (this.lvt | LvtBits.MASKED) >>> 0;
  }

  writeInitialCount(v: number): void {
    this.catchUp();
    if (this.mode() === TimerMode.TSC_DEADLINE) return; // ignored in TSC-deadline mode
    this.initial = v >>> 0;
    // A write (re)starts the count from the new value, even mid-cycle.
    this.nextNs = this.initial === 0 ? Infinity : this.clock.nowNs() + this.initial * this.divisor();
  }

  writeDivide(v: number): void {
    this.catchUp();
    const running = this.nextNs !== Infinity;
    const count = running ? this.currentCount() : 0;
    this.dcr = v & 0xb;
    // Keep counting down from the current count at the new rate (the sub-tick fraction is
    // dropped). The cycle end moves; the start of the cycle is implied by nextNs - period.
    if (running) this.nextNs = this.clock.nowNs() + count * this.divisor();
  }

  /** IA32_TSC_DEADLINE read: 0 outside TSC-deadline mode (SDM 10.5.4.1). */
  readDeadline(): { lo: number; hi: number } {
    this.catchUp();
    if (this.mode() !== TimerMode.TSC_DEADLINE) return { lo: 0, hi: 0 };
    return { lo: this.deadlineLo, hi: this.deadlineHi };
  }

  /** IA32_TSC_DEADLINE write: ignored outside TSC-deadline mode; 0 disarms; a past value fires at once. */
  writeDeadline(lo: number, hi: number): void {
    this.catchUp();
    if (this.mode() !== TimerMode.TSC_DEADLINE) return;
    this.deadlineLo = lo >>> 0;
    this.deadlineHi = hi >>> 0;
    this.catchUp();
  }

  save(): ApicTimerSaved {
    return {
      lvt: this.lvt,
      initial: this.initial,
      dcr: this.dcr,
      nextNs: this.nextNs === Infinity ? -1 : this.nextNs,
      deadlineLo: this.deadlineLo,
      deadlineHi: this.deadlineHi,
    };
  }

  restore(s: ApicTimerSaved): void {
    this.lvt = s.lvt;
    this.initial = s.initial;
    this.dcr = s.dcr;
    this.nextNs = s.nextNs < 0 ? Infinity : s.nextNs;
    this.deadlineLo = s.deadlineLo;
    this.deadlineHi = s.deadlineHi;
  }
}

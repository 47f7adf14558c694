// A virtual processor: one CPU context and one local APIC per enabled VTL (VTL0 always), the VP's
// virtual clock, and its run state. The active VTL selects which context runs; shared registers are
// copied between contexts on a VTL switch (core/hv/vsm).

import { Cpu, type InterruptSource } from '../x86/cpu.js';
import type { CpuHost } from '../x86/host.js';
import { LocalApic, type IpiRouter } from '../devices/apic.js';
import type { PhysMem } from '../memory/phys.js';
import type { Clock } from '../devices/types.js';

/** Run state of a VP, in the order a PC brings it up. */
export const VP_STATE = {
  /** Application processor after reset: waits for INIT, then SIPI. */
  WAIT_FOR_SIPI: 0,
  RUNNING: 1,
  /** Stopped for good (shutdown after a triple fault). */
  STOPPED: 2,
} as const;

/** Everything a VP has once per VTL. */
export class VtlContext {
  readonly cpu: Cpu;
  readonly apic: LocalApic;

  constructor(readonly vtl: number, vp: Vp, mem: PhysMem, host: CpuHost, router: IpiRouter) {
    this.cpu = new Cpu(mem, host);
    this.apic = new LocalApic({
      apicId: vp.index,
      clock: vp,
      router,
      onSignal: () => { this.cpu.eventPending = true; vp.onSignal(vtl); },
      bsp: vp.index === 0,
    });
    const apic = this.apic;
    const intr: InterruptSource = {
      pending: () => apic.pendingVector(),
      acknowledge: (v) => { apic.acknowledge(v); vp.onInterrupt?.(vtl, v); },
      takeNmi: () => apic.takeNmi(),
    };
    this.cpu.intr = intr;
  }
}

export class Vp implements Clock {
  /** Per-VTL contexts, indexed by VTL number; a VTL above 0 exists once enabled on this VP. */
  readonly vtls: (VtlContext | undefined)[] = [];
  activeVtl = 0;
  state: number = VP_STATE.WAIT_FOR_SIPI;
  /** Virtual time at the start of the current slice, ns. */
  sliceStartNs = 0;
  /** retired() at the start of the current slice. */
  sliceStartRetired = 0;
  /** Set by INIT: the AP waits for a SIPI. */
  initSeen = false;
  /** Called when an APIC of this VP signals: an event for a higher VTL must preempt a lower one. */
  onSignal(vtl: number): void {
    if (vtl > this.activeVtl) {
      const cur = this.vtls[this.activeVtl]!.cpu;
      cur.requestExit();
      cur.eventPending = true;
    } else if (vtl < this.activeVtl) {
      // A lower VTL's interrupt waits, but the hypervisor may notify the running VTL of it (VINA):
      // let the run loop look at once, so the notification does not depend on the quantum.
      this.vtls[this.activeVtl]!.cpu.requestExit();
    }
  }

  /** Called when the CPU of VTL `vtl` takes an external interrupt from its APIC (the machine reports it). */
  onInterrupt: ((vtl: number, vector: number) => void) | null = null;

  constructor(readonly index: number, private readonly mem: PhysMem, private readonly hostFor: (vp: Vp, vtl: number) => CpuHost,
    private readonly router: IpiRouter) {
    this.vtls[0] = new VtlContext(0, this, mem, hostFor(this, 0), router);
  }

  /** Create the context of a VTL (HvCallEnableVpVtl). */
  addVtl(vtl: number): VtlContext {
    const ctx = new VtlContext(vtl, this, this.mem, this.hostFor(this, vtl), this.router);
    this.vtls[vtl] = ctx;
    return ctx;
  }

  get ctx(): VtlContext { return this.vtls[this.activeVtl]!; }
  get cpu(): Cpu { return this.vtls[this.activeVtl]!.cpu; }
  get apic(): LocalApic { return this.vtls[this.activeVtl]!.apic; }
  /** VTL0's APIC (external interrupts and the APs' INIT/SIPI go there). */
  get apic0(): LocalApic { return this.vtls[0]!.apic; }

  /** Instructions retired by this VP in every VTL. */
  retired(): number {
    let n = 0;
    for (const c of this.vtls) if (c) n += c.cpu.retired;
    return n;
  }

  /** Virtual time of this VP now: 1 retired instruction = 1 ns. */
  nowNs(): number {
    return this.sliceStartNs + (this.retired() - this.sliceStartRetired);
  }

  /** The hypervisor's timers of this VP (synthetic timers of every VTL), if there is a hypervisor. */
  hvTimers: { nextDeadlineNs(): number; tick(nowNs: number): void } | null = null;

  /** Earliest timer deadline over all VTLs' APICs and the hypervisor's timers. */
  nextDeadlineNs(): number {
    let d = this.hvTimers ? this.hvTimers.nextDeadlineNs() : Infinity;
    for (const c of this.vtls) if (c) d = Math.min(d, c.apic.nextDeadlineNs());
    return d;
  }

  tick(): void {
    const now = this.nowNs();
    for (const c of this.vtls) if (c) c.apic.tick(now);
    if (this.hvTimers) this.hvTimers.tick(now);
  }
}

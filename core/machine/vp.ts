// A virtual processor: a CPU, its local APIC, its virtual clock, and its run state.

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

export class Vp implements Clock {
  readonly cpu: Cpu;
  readonly apic: LocalApic;
  state: number = VP_STATE.WAIT_FOR_SIPI;
  /** Virtual time at the start of the current slice, ns. */
  sliceStartNs = 0;
  /** cpu.retired at the start of the current slice. */
  sliceStartRetired = 0;
  /** Set by INIT: the AP waits for a SIPI. */
  initSeen = false;

  constructor(readonly index: number, mem: PhysMem, host: CpuHost, router: IpiRouter) {
    this.cpu = new Cpu(mem, host);
    this.apic = new LocalApic({
      apicId: index,
      clock: this,
      router,
      onSignal: () => { this.cpu.eventPending = true; },
      bsp: index === 0,
    });
    const apic = this.apic;
    const intr: InterruptSource = {
      pending: () => apic.pendingVector(),
      acknowledge: (v) => apic.acknowledge(v),
      takeNmi: () => apic.takeNmi(),
    };
    this.cpu.intr = intr;
  }

  /** Virtual time of this VP now: 1 retired instruction = 1 ns. */
  nowNs(): number {
    return this.sliceStartNs + (this.cpu.retired - this.sliceStartRetired);
  }
}

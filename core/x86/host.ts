// What the CPU needs from the machine around it. The CPU owns no devices: port I/O, MSRs it does not
// implement itself, CPUID and time come through this interface; events the machine must act on leave
// the run loop as exits.

import type { Msr64 } from '../devices/types.js';

export interface CpuHost {
  ioRead(port: number, size: 1 | 2 | 4): number;
  ioWrite(port: number, size: 1 | 2 | 4, value: number): void;
  /** MSRs outside the CPU's own set. false → #GP(0). */
  rdmsr(index: number, out: Msr64): boolean;
  wrmsr(index: number, lo: number, hi: number): boolean;
  /** Fill out[0..3] = EAX, EBX, ECX, EDX for a CPUID leaf. */
  cpuid(leaf: number, subleaf: number, out: Uint32Array): void;
  /** Time-stamp counter of this VP (virtual). */
  tsc(out: Msr64): void;
  /** CR8 (TPR bits 7:4 of the local APIC). */
  getCr8(): number;
  setCr8(v: number): void;
  /**
   * A lower VTL writes a control register or MSR: return true when a higher VTL intercepts the write
   * (the instruction then does not complete and the run loop exits with EXIT.INTERCEPT).
   */
  interceptWrite?(kind: 'cr' | 'msr', index: number, lo: number, hi: number): boolean;
  /** Likewise for an MSR read. */
  interceptRead?(index: number): boolean;
  /** An exception is being delivered (vector, error code or -1, RIP of the instruction it belongs to). */
  exception?(vector: number, errorCode: number, ripLo: number, ripHi: number): void;
  /** An opcode the CPU does not implement was executed; #UD follows. Report it once. */
  unimplemented(ripLo: number, ripHi: number, bytes: Uint8Array): void;
}

/** Why the run loop returned. */
export const EXIT = {
  /** The instruction budget ran out. */
  BUDGET: 0,
  /** HLT executed with nothing to wake the VP. */
  HALT: 1,
  /** VMCALL/VMMCALL executed: RIP is still at the instruction; the machine handles and advances it. */
  HYPERCALL: 2,
  /** Triple fault: the machine stops (shutdown). */
  TRIPLE_FAULT: 3,
  /** A requested stop (breakpoint address reached, or the machine asked the loop to stop). */
  STOP: 4,
  /**
   * The instruction was stopped by the hypervisor (a VTL protection violation or an intercepted
   * register write): RIP is at the instruction, nothing of it completed; Cpu.intercept says why.
   */
  INTERCEPT: 5,
  /** Someone asked the loop to return (an event for another VTL became pending). */
  YIELD: 6,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

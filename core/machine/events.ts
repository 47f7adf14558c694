// Typed events the machine reports to its observer (the recorder, the CLI). The core never knows
// whether anyone records them. Every event carries the global instruction count and the VP.

export type MachineEvent =
  | { kind: 'serial'; icount: number; vp: number; byte: number }
  | { kind: 'vp-start'; icount: number; vp: number; ripLo: number; ripHi: number; reason: 'boot' | 'sipi' | 'hypercall'; vtl?: number }
  | { kind: 'vp-halt'; icount: number; vp: number }
  | { kind: 'debug-exit'; icount: number; vp: number; value: number }
  | { kind: 'triple-fault'; icount: number; vp: number; detail: string }
  | { kind: 'unimplemented'; icount: number; vp: number; ripLo: number; ripHi: number; bytes: number[] }
  | { kind: 'unhandled-hypercall'; icount: number; vp: number; ripLo: number; ripHi: number }
  | { kind: 'hypercall-start'; icount: number; vp: number; vtl: number; code: number }
  | { kind: 'hypercall'; icount: number; vp: number; vtl: number; code: number; status: number }
  | { kind: 'protection'; icount: number; vp: number; vtl: number; gpn: number; mask: number }
  | { kind: 'intercept'; icount: number; vp: number; vtl: number; type: number; gpa: number; access: number; register: number; ripLo: number; ripHi: number }
  | { kind: 'vtl-switch'; icount: number; vp: number; from: number; to: number; reason: number; ripBeforeLo: number; ripBeforeHi: number; ripAfterLo: number; ripAfterHi: number }
  /** The CPU of (vp, vtl) raised an exception (a fault or trap; errorCode -1 when it has none) at ripLo/ripHi. */
  | { kind: 'exception'; icount: number; vp: number; vtl: number; vector: number; errorCode: number; ripLo: number; ripHi: number }
  /** The CPU of (vp, vtl) took an external interrupt (vector) from its local APIC. */
  | { kind: 'interrupt'; icount: number; vp: number; vtl: number; vector: number }
  /** A synthetic timer of (vp, vtl) expired: to `vector` (direct mode) or as a message to `sint`. */
  | { kind: 'timer'; icount: number; vp: number; vtl: number; timer: number; direct: boolean; vector: number; sint: number; expiration: number; delivered: boolean }
  /**
   * A SynIC message for (vp, vtl, sint) was posted; `queued` when its slot was busy. `connection`: the
   * connection id when a guest posted it with HvCallPostMessage (absent for the hypervisor's own).
   */
  | { kind: 'message'; icount: number; vp: number; vtl: number; sint: number; type: number; queued: boolean; connection?: number }
  /**
   * HvCallSignalEvent by (fromVp, fromVtl) on `connection` set event flag `flag` of SINT `sint` of
   * (vp, vtl); `raised` when the flag was clear and the SINT's vector was raised.
   */
  | { kind: 'event-signal'; icount: number; vp: number; vtl: number; sint: number; flag: number; connection: number; raised: boolean; fromVp: number; fromVtl: number }
  /** A synthetic cluster IPI sent by (vp, vtl) to `targetVtl` of the `targets` VPs. */
  | { kind: 'ipi'; icount: number; vp: number; vtl: number; targetVtl: number; vector: number; targets: number[]; via: 'hypercall' }
  /** An IPI sent through the local APIC of (vp, vtl): ICR fields (it lands in the same VTL of the destinations). */
  | { kind: 'ipi'; icount: number; vp: number; vtl: number; targetVtl: number; vector: number; deliveryMode: number; dest: number; shorthand: number; via: 'apic' }
  /** The TLB of `vtl` on `vp` was locked or unlocked by VTL `by` (spec/vsm.md 8). */
  | { kind: 'tlb-lock'; icount: number; vp: number; vtl: number; locked: boolean; by: number }
  /** A flush hypercall by (vp, vtl) of the `targets` VPs' TLBs (bit n of targetVtls = VTL n); `blocked` on a TLB lock. */
  | { kind: 'flush'; icount: number; vp: number; vtl: number; targets: number[]; targetVtls: number; blocked: boolean }
  /** VINA: a VTL0 interrupt became pending while (vp) ran `vtl`; `vector` was raised there. */
  | { kind: 'vina'; icount: number; vp: number; vtl: number; vector: number };

export interface MachineObserver {
  event(e: MachineEvent): void;
}

export const NULL_OBSERVER: MachineObserver = { event: () => {} };

// Typed events the machine reports to its observer (the recorder, the CLI). The core never knows
// whether anyone records them. Every event carries the global instruction count and the VP.

export type MachineEvent =
  | { kind: 'serial'; icount: number; vp: number; byte: number }
  | { kind: 'vp-start'; icount: number; vp: number; ripLo: number; ripHi: number; reason: 'boot' | 'sipi' }
  | { kind: 'vp-halt'; icount: number; vp: number }
  | { kind: 'debug-exit'; icount: number; vp: number; value: number }
  | { kind: 'triple-fault'; icount: number; vp: number; detail: string }
  | { kind: 'unimplemented'; icount: number; vp: number; ripLo: number; ripHi: number; bytes: number[] }
  | { kind: 'unhandled-hypercall'; icount: number; vp: number; ripLo: number; ripHi: number }
  | { kind: 'hypercall-start'; icount: number; vp: number; vtl: number; code: number }
  | { kind: 'hypercall'; icount: number; vp: number; vtl: number; code: number; status: number }
  | { kind: 'protection'; icount: number; vp: number; vtl: number; gpn: number; mask: number }
  | { kind: 'intercept'; icount: number; vp: number; vtl: number; type: number; gpa: number; access: number; register: number; ripLo: number; ripHi: number }
  | { kind: 'vtl-switch'; icount: number; vp: number; from: number; to: number; reason: number; ripBeforeLo: number; ripBeforeHi: number; ripAfterLo: number; ripAfterHi: number };

export interface MachineObserver {
  event(e: MachineEvent): void;
}

export const NULL_OBSERVER: MachineObserver = { event: () => {} };

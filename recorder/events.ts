// Event queries: which recorded machine events stop a resume (forwards or backwards), shared by
// the session and the front ends that build queries (gdb's break-on, DAP's custom requests).

import type { MachineEvent } from '../core/machine/events.js';

/** Which events stop a resume. Every given field must match. */
export interface EventQuery {
  kinds?: readonly string[];
  vp?: number;
  /** The event's VTL (for a VTL transition: either side of it). */
  vtl?: number;
  /** Hypercall code, intercept message type, serial byte, ... (the event's `code` column). */
  code?: number;
}

export type EventFilter = EventQuery | ((e: MachineEvent) => boolean);

/** The event's value for EventQuery.code (the same as the trace's `code` column). */
function eventCode(e: MachineEvent): number | undefined {
  switch (e.kind) {
    case 'hypercall': case 'hypercall-start': return e.code;
    case 'intercept': return e.type;
    case 'serial': return e.byte;
    case 'debug-exit': return e.value;
    case 'exception': case 'interrupt': case 'ipi': return e.vector;
    case 'timer': return e.timer;
    case 'message': return e.type;
    case 'event-signal': return e.flag;
    default: return undefined;
  }
}

export function matcher(f: EventFilter): (e: MachineEvent) => boolean {
  if (typeof f === 'function') return f;
  return (e) => {
    if (f.kinds && !f.kinds.includes(e.kind)) return false;
    if (f.vp !== undefined && e.vp !== f.vp) return false;
    if (f.vtl !== undefined) {
      if (e.kind === 'vtl-switch') { if (e.from !== f.vtl && e.to !== f.vtl) return false; }
      else if ((e as { vtl?: number }).vtl !== f.vtl) return false;
    }
    if (f.code !== undefined && eventCode(e) !== f.code) return false;
    return true;
  };
}

/** The same event: same position and content (a re-execution emits equal objects, not the same ones). */
export const sameEvent = (a: MachineEvent, b: MachineEvent): boolean => a.icount === b.icount && JSON.stringify(a) === JSON.stringify(b);

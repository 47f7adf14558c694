// Forward resumes for the adapter. Works around a timeline limitation: breakpoints are armed in the
// VTL contexts that exist when a forward run starts, so a context created by HvCallEnableVpVtl during
// the run would not see them until the next run. Forward runs therefore also stop, invisibly, after
// each HvCallEnableVpVtl, keep a checkpoint there (so that a backward search, which replays from
// checkpoints, starts its intervals with the new context in place) and go on: a new run arms it.

import { matcher, type ResumeControl, type ResumeRequest, type Session, type StopEvent } from '../recorder/session.js';
import type { MachineEvent } from '../core/machine/events.js';

const HV_CALL_ENABLE_VP_VTL = 0x000f;
const newContext = (e: MachineEvent) => e.kind === 'hypercall' && e.code === HV_CALL_ENABLE_VP_VTL;

export async function resume(s: Session, req: ResumeRequest, ctl: ResumeControl): Promise<StopEvent> {
  if (req.direction !== 'forward' || req.step !== undefined) return s.resume(req, ctl);
  const user = req.events ? matcher(req.events) : null;
  for (;;) {
    const st = await s.resume({ ...req, events: (e) => newContext(e) || (user !== null && user(e)) }, ctl);
    if (st.reason === 'event' && newContext(st.event) && !(user && user(st.event))) {
      s.checkpoint();
      if (ctl.cancelled?.()) return { ...st, reason: 'interrupted' } as StopEvent;
      continue;
    }
    return st;
  }
}

// Resumes for the adapter's stepping code and requests: the session's async resume. (The timeline
// arms breakpoints in VTL contexts created during a run itself, so forward runs need no help.)

import type { ResumeControl, ResumeRequest, Session, StopEvent } from '../recorder/session.js';

export function resume(s: Session, req: ResumeRequest, ctl: ResumeControl): Promise<StopEvent> {
  return s.resume(req, ctl);
}

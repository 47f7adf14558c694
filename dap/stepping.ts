// Source-line and call-aware stepping over the session API, forwards and backwards.
//
// Forwards, a line step single-steps the VP and stops at the first instruction of a different line;
// `over` runs a call to its return address (a temporary breakpoint) and a VTL call until the VP is
// back in its VTL, `into` single-steps through everything. Returning into the middle of a caller's
// line finishes that line first (as gdb does). Step out runs until a return leaves the frame.
//
// Backwards, a line step works like gdb's reverse-next without single-stepping backwards (each
// reverse step replays from a checkpoint): it goes back a window of instructions, records where the VP
// was before each of its instructions up to the present, picks the start of the previous line at the
// same or an outer level (a higher VTL, or a lower stack in another function, is an inner level), and
// seeks there. The window grows until it holds such a line or reaches the start of the recording.

import type { Session, StopEvent } from '../recorder/session.js';
import type { GuestSymbols, SourceLine } from './symbols.js';
import { resume } from './resume.js';

export interface StepContext {
  session: Session;
  symbols: GuestSymbols | null;
  /** Addresses of the user's breakpoints: stepping stops before executing one of them. */
  breakpoints: ReadonlySet<bigint>;
  cancelled: () => boolean;
}

/** Give up a forward line step after this many instructions. */
export const MAX_STEPS = 300_000;
/** Backward line steps: the first window, and the largest. */
const FIRST_WINDOW = 2048;
const MAX_WINDOW = 8_388_608;

interface Where { vtl: number; rip: bigint; rsp: bigint }

const tick = () => new Promise<void>((res) => setImmediate(res));

function where(s: Session, vp: number): Where {
  const vtl = s.activeVtl(vp);
  return { vtl, rip: s.readRegister(vp, vtl, 'rip'), rsp: s.readRegister(vp, vtl, 'rsp') };
}

function u64(b: Uint8Array): bigint | null {
  if (b.length < 8) return null;
  let v = 0n;
  for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(b[k]);
  return v;
}

function stopHere(s: Session, vp: number, reason: 'step' | 'interrupted'): StopEvent {
  return { reason, icount: s.position(), vp, vtl: s.activeVtl(vp) };
}

const lineKey = (l: SourceLine | null) => (l ? `${l.file}:${l.line}` : null);

export class Stepper {
  constructor(private readonly ctx: StepContext) {}

  private get s(): Session { return this.ctx.session; }

  private line(rip: bigint): SourceLine | null { return this.ctx.symbols?.lineAt(rip) ?? null; }
  private fnStart(rip: bigint): bigint | null { return this.ctx.symbols?.functionAt(rip)?.start ?? null; }

  /** Whether the stepping machinery has line information at the VP's current instruction. */
  hasLine(vp: number): boolean { return !!this.ctx.symbols?.hasLines && this.line(where(this.s, vp).rip) !== null; }

  private top(vp: number, w: Where): bigint | null { return u64(this.s.readMemory({ vp, vtl: w.vtl }, w.rsp, 8)); }

  /** The step from `a` to `b` was a call: 8 bytes pushed holding an address just after a's RIP. */
  private isCall(vp: number, a: Where, b: Where): bigint | null {
    if (a.vtl !== b.vtl || b.rsp !== a.rsp - 8n) return null;
    const ret = this.top(vp, b);
    if (ret === null || ret <= a.rip || ret > a.rip + 15n) return null;
    return b.rip >= a.rip && b.rip <= a.rip + 15n ? null : ret;
  }

  /** Run until VP `vp` is back at `ret` with its stack at least as high as `rsp` (the caller's). */
  private async runToReturn(vp: number, ret: bigint, rsp: bigint, vtl: number): Promise<StopEvent | null> {
    const s = this.s;
    const temporary = !this.ctx.breakpoints.has(ret);
    if (temporary) s.setBreakpoint(ret);
    try {
      for (;;) {
        const st = await resume(s, { direction: 'forward' }, { cancelled: this.ctx.cancelled });
        if (st.reason === 'breakpoint' && st.addr === ret && st.vp === vp && s.activeVtl(vp) === vtl && s.readRegister(vp, vtl, 'rsp') >= rsp) return null;
        if (st.reason === 'breakpoint' && !this.ctx.breakpoints.has(st.addr)) continue;
        return st;
      }
    } finally { if (temporary) s.clearBreakpoint(ret); }
  }

  /** Run until VP `vp` switches back to `vtl`. */
  private async runUntilVtl(vp: number, vtl: number): Promise<StopEvent | null> {
    const st = await resume(this.s, { direction: 'forward', events: (e) => e.kind === 'vtl-switch' && e.vp === vp && e.to === vtl }, { cancelled: this.ctx.cancelled });
    return st.reason === 'event' ? null : st;
  }

  /**
   * Step `n` of a stepping loop: one instruction of VP `vp`, with the state before it (`a`, and the
   * value on top of its stack, `aTop`) and after it (`b`); or the stop that ends the loop (the step
   * limit, a cancel, or a resume that stopped for another reason).
   */
  private async stepInsn(vp: number, n: number): Promise<{ a: Where; aTop: bigint | null; b: Where } | StopEvent> {
    const s = this.s;
    if (n > MAX_STEPS) return stopHere(s, vp, 'step');
    if (n % 256 === 0) { await tick(); if (this.ctx.cancelled()) return stopHere(s, vp, 'interrupted'); }
    const a = where(s, vp);
    const aTop = this.top(vp, a);
    const st = s.resumeSync({ direction: 'forward', step: vp });
    if (st.reason !== 'step') return st;
    return { a, aTop, b: where(s, vp) };
  }

  /** One source line forwards (see the file comment). */
  async stepLine(vp: number, mode: 'into' | 'over'): Promise<StopEvent> {
    const s = this.s;
    const start = where(s, vp);
    let cur = lineKey(this.line(start.rip));
    let curFn = this.fnStart(start.rip);
    for (let n = 1; ; n++) {
      const step = await this.stepInsn(vp, n);
      if ('reason' in step) return step;
      const { a, aTop } = step;
      let b = step.b;
      if (mode === 'over') {
        if (b.vtl > start.vtl && a.vtl === start.vtl) {
          const r = await this.runUntilVtl(vp, start.vtl);
          if (r) return r;
          b = where(s, vp);
        } else {
          const ret = this.isCall(vp, a, b);
          if (ret !== null) {
            const r = await this.runToReturn(vp, ret, a.rsp, a.vtl);
            if (r) return r;
            b = where(s, vp);
          }
        }
      }
      if (this.ctx.breakpoints.has(b.rip)) return { reason: 'breakpoint', addr: b.rip, icount: s.position(), vp, vtl: b.vtl };
      const l = this.line(b.rip);
      if (!l) continue;
      const k = lineKey(l), fn = this.fnStart(b.rip);
      if (k === cur && fn === curFn) continue;
      const returned = b.vtl === a.vtl && aTop !== null && b.rip === aTop && b.rsp > a.rsp;
      if (returned) { cur = k; curFn = fn; continue; }
      return stopHere(s, vp, 'step');
    }
  }

  /** Run until the current function returns (a return with the stack at or above where it started). */
  async stepOut(vp: number): Promise<StopEvent> {
    const s = this.s;
    const start = where(s, vp);
    for (let n = 1; ; n++) {
      const step = await this.stepInsn(vp, n);
      if ('reason' in step) return step;
      const { a, aTop } = step;
      let b = step.b;
      if (b.vtl !== a.vtl) {
        // Leaving for a lower VTL (a VTL return) leaves this code's caller too.
        if (b.vtl < start.vtl) return stopHere(s, vp, 'step');
        if (b.vtl > start.vtl) { const r = await this.runUntilVtl(vp, start.vtl); if (r) return r; b = where(s, vp); }
      } else {
        const ret = this.isCall(vp, a, b);
        if (ret !== null) {
          const r = await this.runToReturn(vp, ret, a.rsp, a.vtl);
          if (r) return r;
          b = where(s, vp);
        } else if (aTop !== null && b.rip === aTop && b.rsp > a.rsp && a.rsp >= start.rsp) {
          return stopHere(s, vp, 'step');
        }
      }
      if (this.ctx.breakpoints.has(b.rip)) return { reason: 'breakpoint', addr: b.rip, icount: s.position(), vp, vtl: b.vtl };
    }
  }

  /** One source line backwards (reverse-next; see the file comment). */
  async stepBackLine(vp: number): Promise<StopEvent> {
    const s = this.s;
    const here = s.position();
    const cur = where(s, vp);
    for (let window = FIRST_WINDOW; ; window *= 4) {
      const from = Math.max(0, here - window);
      const trail = await this.trail(vp, from, here);
      if (trail === null) { s.seek(here); return stopHere(s, vp, 'interrupted'); }
      const k = this.pickPreviousLine(trail, cur);
      if (k !== null) {
        s.seek(trail[k].icount);
        s.focus(vp);
        return stopHere(s, vp, 'step');
      }
      if (from === 0 || window >= MAX_WINDOW) {
        s.seek(from);
        s.focus(vp);
        return from === 0 ? { reason: 'start-of-recording', icount: 0, vp, vtl: s.activeVtl(vp) } : stopHere(s, vp, 'step');
      }
    }
  }

  /** Where VP `vp` was before each of its instructions in [from, here): null if cancelled. */
  private async trail(vp: number, from: number, here: number): Promise<(Where & { icount: number })[] | null> {
    const s = this.s;
    s.seek(from);
    const out: (Where & { icount: number })[] = [];
    for (let n = 1; s.position() < here; n++) {
      out.push({ ...where(s, vp), icount: s.position() });
      const st = s.resumeSync({ direction: 'forward', step: vp });
      if (st.reason !== 'step' && st.reason !== 'watchpoint') break;
      if (n % 512 === 0) { await tick(); if (this.ctx.cancelled()) return null; }
    }
    return out.filter((e) => e.icount < here);
  }

  /** Index of the start of the previous line at the level of `cur` or outside it, or null. */
  private pickPreviousLine(trail: Where[], cur: Where): number | null {
    const deeper = (e: Where, than: Where) =>
      e.vtl > than.vtl || (e.vtl === than.vtl && e.rsp < than.rsp && this.fnStart(e.rip) !== this.fnStart(than.rip));
    const curKey = lineKey(this.line(cur.rip)), curFn = this.fnStart(cur.rip);
    let j = trail.length - 1;
    for (; j >= 0; j--) {
      const e = trail[j];
      if (deeper(e, cur)) continue;
      const l = this.line(e.rip);
      if (!l) continue;
      if (curKey !== null && lineKey(l) === curKey && this.fnStart(e.rip) === curFn && e.vtl === cur.vtl) continue;
      break;
    }
    if (j < 0) return null;
    const target = trail[j], key = lineKey(this.line(target.rip)), fn = this.fnStart(target.rip);
    let k = j;
    for (let i = j - 1; i >= 0; i--) {
      const e = trail[i];
      if (deeper(e, target)) continue;
      if (e.vtl === target.vtl && lineKey(this.line(e.rip)) === key && this.fnStart(e.rip) === fn) { k = i; continue; }
      break;
    }
    return k;
  }
}

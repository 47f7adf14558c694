// The session API: the one interface the GDB stub, the DAP adapter and the CLI use to drive a
// machine forwards and backwards. A live session boots an image and keeps a timeline as it runs, so
// reverse execution works without a separate record step; a replay session starts from a trace.

import { Machine, type MachineConfig, type StopReason } from '../core/machine/machine.js';
import type { MachineEvent } from '../core/machine/events.js';
import { saveCpuState } from '../core/x86/snapshot.js';
import type { SavedSection } from '../core/devices/types.js';
import { Timeline, type TimelineOptions, DEFAULT_TIMELINE, type TimelineStop } from './timeline.js';
import { machineFromTrace } from './replay.js';
import type { TraceReader } from './trace.js';

/** Why a resume stopped, as front ends report it. */
export type StopEvent =
  | { reason: 'step'; icount: number; vp: number }
  | { reason: 'breakpoint'; icount: number; vp: number; addr: number }
  | { reason: 'event'; icount: number; vp: number; event: MachineEvent }
  | { reason: 'start-of-recording'; icount: 0 }
  | { reason: 'end-of-recording'; icount: number; detail: StopReason }
  | { reason: 'position'; icount: number };

export type EventFilter = (e: MachineEvent) => boolean;

export class Session {
  readonly timeline: Timeline;
  /** Every event seen so far, in order (the live run's log; index lookups find event stops). */
  private readonly events: MachineEvent[] = [];
  /** Highest position the events log covers. */
  private logged = 0;

  private constructor(machine: Machine, opts: TimelineOptions) {
    machine.observer = { event: (e) => this.onEvent(e) };
    this.timeline = new Timeline(machine, opts);
  }

  static live(config: MachineConfig, image: Uint8Array, opts: TimelineOptions = DEFAULT_TIMELINE): Session {
    return new Session(new Machine(config, image), opts);
  }

  static replay(trace: TraceReader, opts: TimelineOptions = DEFAULT_TIMELINE): Session {
    return new Session(machineFromTrace(trace), opts);
  }

  get machine(): Machine { return this.timeline.machine; }
  position(): number { return this.timeline.position(); }

  private onEvent(e: MachineEvent): void {
    // Only the first pass over a stretch of time is logged; running it again after a seek repeats the
    // same events, which are recognised by position and content.
    if (e.icount < this.logged) return;
    if (e.icount === this.logged) {
      const key = JSON.stringify(e);
      for (let k = this.events.length - 1; k >= 0 && this.events[k].icount === e.icount; k--) {
        if (JSON.stringify(this.events[k]) === key) return;
      }
    }
    this.events.push(e);
    this.logged = e.icount;
  }

  private toStop(s: TimelineStop, vp: number): StopEvent {
    switch (s.kind) {
      case 'breakpoint': return { reason: 'breakpoint', icount: s.icount, vp: s.vp, addr: s.addr };
      case 'start': return { reason: 'start-of-recording', icount: 0 };
      case 'end': return { reason: 'end-of-recording', icount: s.icount, detail: s.reason };
      default: return { reason: 'step', icount: s.icount, vp };
    }
  }

  /** Execute one instruction of VP `vp`. */
  step(vp: number): StopEvent { return this.toStop(this.timeline.step(vp), vp); }

  /** Undo one instruction of VP `vp`. */
  reverseStep(vp: number): StopEvent { return this.toStop(this.timeline.reverseStep(vp), vp); }

  /** Run forward until a breakpoint, an event matching `until`, or the end (or `limit`). */
  continue(opts: { until?: EventFilter; limit?: number } = {}): StopEvent {
    const start = this.position();
    const limit = opts.limit ?? Infinity;
    if (opts.until) {
      // Run in stretches and look for the first matching event after the start.
      for (let to = start + 100_000; ; to += 100_000) {
        const s = this.timeline.forward(Math.min(to, limit), true);
        const hit = this.events.find((e) => e.icount > start && e.icount <= this.position() && opts.until!(e));
        if (hit) {
          if (s.kind === 'breakpoint' && s.icount < hit.icount) return this.toStop(s, s.vp);
          this.timeline.seek(hit.icount);
          return { reason: 'event', icount: hit.icount, vp: hit.vp, event: hit };
        }
        if (s.kind !== 'position' || this.position() >= limit) return this.toStop(s, 0);
      }
    }
    return this.toStop(this.timeline.forward(limit, true), 0);
  }

  /** Run backward to the previous breakpoint hit or matching event (found by index lookup). */
  reverseContinue(opts: { until?: EventFilter } = {}): StopEvent {
    const here = this.position();
    if (opts.until) {
      const until = opts.until;
      const prev = [...this.events].reverse().find((e) => e.icount < here && until(e));
      // A breakpoint hit between that event and here wins (it is nearer).
      const bp = this.timeline.breakpoints.size ? this.timeline.reverseContinue() : null;
      if (bp && bp.kind === 'breakpoint' && (!prev || bp.icount > prev.icount)) return this.toStop(bp, bp.vp);
      if (!prev) { this.timeline.seek(0); return { reason: 'start-of-recording', icount: 0 }; }
      this.timeline.seek(prev.icount);
      return { reason: 'event', icount: prev.icount, vp: prev.vp, event: prev };
    }
    const s = this.timeline.reverseContinue();
    return this.toStop(s, s.kind === 'breakpoint' ? s.vp : 0);
  }

  seek(icount: number): StopEvent {
    const s = this.timeline.seek(icount);
    return s.kind === 'end' ? this.toStop(s, 0) : { reason: 'position', icount: this.position() };
  }

  setBreakpoint(addr: number): void { this.timeline.breakpoints.add(addr); }
  clearBreakpoint(addr: number): void { this.timeline.breakpoints.delete(addr); }

  /** Events with icount in [from, to], in order. */
  eventsBetween(from: number, to: number): MachineEvent[] {
    return this.events.filter((e) => e.icount >= from && e.icount <= to);
  }

  /** The architectural state of (vp, vtl) as snapshot data (registers, segments, control registers). */
  registers(vp: number, vtl: number): SavedSection | null {
    const ctx = this.machine.vps[vp]?.vtls[vtl];
    if (!ctx) return null;
    // Shared registers live in the active context (spec/vsm.md 5.1): show the live values.
    const s = saveCpuState(ctx.cpu.st) as Record<string, unknown>;
    const active = this.machine.vps[vp].cpu.st;
    const lo = Array.from(active.lo), hi = Array.from(active.hi);
    lo[4] = ctx.cpu.st.lo[4]; hi[4] = ctx.cpu.st.hi[4];
    return { ...s, lo, hi, flags: ctx.cpu.getFlags(), version: s.version as number };
  }

  /** Read guest memory through (vp, vtl)'s page tables; null for bytes that do not translate. */
  readVirtual(vp: number, vtl: number, addrLo: number, addrHi: number, len: number): (number | null)[] {
    const ctx = this.machine.vps[vp]?.vtls[vtl];
    if (!ctx) throw new Error(`VP ${vp} has no VTL${vtl}`);
    const out: (number | null)[] = [];
    for (let k = 0; k < len; k++) {
      const lo = (addrLo + k) | 0, hi = (addrLo >>> 0) + k > 0xffffffff ? (addrHi + 1) | 0 : addrHi;
      // A debugger sees through VTL protections: the read is not the guest's access.
      const s2 = ctx.cpu.mmu.stage2;
      ctx.cpu.mmu.stage2 = null;
      try {
        out.push(ctx.cpu.mmu.physRead(ctx.cpu.mmu.translateUncached(lo, hi, 0, false, false), 1));
      } catch { out.push(null); } finally { ctx.cpu.mmu.stage2 = s2; }
    }
    return out;
  }

  readPhysical(gpa: number, len: number): Uint8Array {
    const m = this.machine.mem;
    const end = Math.min(m.size, gpa + len);
    return gpa >= m.size ? new Uint8Array(0) : m.ram.slice(gpa, end);
  }
}

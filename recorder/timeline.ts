// The timeline: reverse execution over a forward-only machine, as rr's ReplayTimeline does.
// Positions are global instruction counts. The timeline keeps machine snapshots (checkpoints) as the
// machine runs forward; going back means restoring the nearest checkpoint at or before the target and
// running forward to it. Checkpoints are dense near the present and thin out into the past.
//
// Debugger stops live here too: breakpoints (linear addresses, checked before an instruction runs),
// watchpoints (checked on every data access while any is set; the stop comes after the accessing
// instruction) and inputs (debugger writes applied at their instruction count, also when a stretch of
// time is run again after a seek).

import type { Machine, MachineSnapshot, StopReason } from '../core/machine/machine.js';
import type { WatchHook } from '../core/memory/phys.js';

export interface TimelineOptions {
  /** Take a checkpoint every this many instructions when running forward. */
  checkpointEvery: number;
  /** At most this many checkpoints in memory (the one at 0 is always kept). */
  maxCheckpoints: number;
}

export const DEFAULT_TIMELINE: TimelineOptions = { checkpointEvery: 2_000_000, maxCheckpoints: 12 };

/** A linear address as the CPU's breakpoint set keys it: hi as a signed int32, so canonical addresses are exact. */
export function addressKey(addr: bigint): number {
  const v = BigInt.asIntN(64, addr);
  return Number(v >> 32n) * 4294967296 + Number(v & 0xffffffffn);
}

/** The 64-bit address of an address key. */
export function keyAddress(key: number): bigint {
  return BigInt.asUintN(64, BigInt(key));
}

export type WatchKind = 'write' | 'read' | 'access';

export interface Watchpoint {
  id: number;
  /** Linear address (address key, see addressKey) or guest-physical address. */
  addr: number;
  len: number;
  kind: WatchKind;
  physical: boolean;
  /** Only accesses made by this VTL (undefined: any). */
  vtl?: number;
}

export interface WatchHit {
  watch: Watchpoint;
  vp: number;
  vtl: number;
  /** The address of the access that touched the watched range (linear key, or GPA for physical watches). */
  addr: number;
  write: boolean;
}

/** Why a timeline operation stopped. */
export type TimelineStop =
  | { kind: 'position'; icount: number }
  | { kind: 'breakpoint'; icount: number; vp: number; addr: number }
  | { kind: 'watchpoint'; icount: number; vp: number; hit: WatchHit }
  /** Someone else asked the machine to stop (the session's event trap). */
  | { kind: 'requested'; icount: number; vp: number }
  | { kind: 'start'; icount: 0 }
  | { kind: 'end'; icount: number; reason: StopReason | null };

/** A debugger write, applied when the machine reaches its instruction count. */
export interface TimelineInput {
  icount: number;
  apply(m: Machine): void;
}

interface Checkpoint {
  icount: number;
  snap: MachineSnapshot;
  /** Instructions retired by each VP at this checkpoint. */
  retired: number[];
}

export class Timeline {
  readonly machine: Machine;
  private readonly cps: Checkpoint[] = [];
  /** The end of the run, once reached (the machine stopped by itself), or the end of a replayed trace. */
  private end: { icount: number; reason: StopReason | null } | null = null;
  /** Breakpoints: address keys (see addressKey), applied in every VP and VTL. */
  readonly breakpoints = new Set<number>();
  readonly watchpoints = new Map<number, Watchpoint>();
  private readonly inputs: TimelineInput[] = [];
  /** Index of the first input not yet applied to the machine's current history. */
  private nextInput = 0;
  /** The watchpoint hit that stopped the machine, if any. */
  private hit: WatchHit | null = null;
  private readonly watchHook: WatchHook;

  constructor(machine: Machine, private readonly opts: TimelineOptions = DEFAULT_TIMELINE) {
    this.machine = machine;
    this.watchHook = { access: (lo, hi, gpa, size, write) => this.onAccess(lo, hi, gpa, size, write) };
    // A VTL context created while the machine runs (HvCallEnableVpVtl) gets the breakpoints armed
    // for that run; arm() only reaches the contexts that exist when it is called.
    for (const vp of machine.vps) {
      const addVtl = vp.addVtl.bind(vp);
      vp.addVtl = (vtl) => { const c = addVtl(vtl); c.cpu.breakpoints = this.armed; c.cpu.execPages = this.trackPages; return c; };
    }
    this.checkpoint();
  }

  // ---- Interval summaries -------------------------------------------------------------------------
  //
  // While the machine runs forward from a checkpoint, the CPUs record the code pages they execute.
  // When it reaches the next checkpoint, that set becomes the summary of the interval between the two,
  // and reverse-continue skips every interval whose code never touched a breakpoint's page.

  /** Code pages executed since trackFrom (a checkpoint position), or trackFrom null when unknown. */
  private trackPages = new Set<number>();
  private trackFrom: number | null = null;
  private readonly summaries = new Map<number, { end: number; pages: Set<number> }>();

  private startTracking(at: number): void {
    this.trackPages = new Set<number>();
    this.trackFrom = at;
    for (const vp of this.machine.vps) for (const c of vp.vtls) if (c) { c.cpu.execPages = this.trackPages; c.cpu.forgetFetchPage(); }
  }

  /** True when the interval [from, to) is known not to have executed code on any breakpoint's page. */
  breakpointsNeverRanIn(from: number, to: number): boolean {
    if (!this.useSummaries) return false;
    const s = this.summaries.get(from);
    if (!s || s.end !== to) return false;
    for (const key of this.breakpoints) if (s.pages.has(Math.floor(key / 4096))) return false;
    return true;
  }

  /** Off: every interval is replayed (tests compare both ways). */
  useSummaries = true;
  /** Intervals replayed by backward searches so far (statistics). */
  intervalsReplayed = 0;

  /** How many intervals have a summary (for tests and statistics). */
  summaryCount(): number { return this.summaries.size; }

  /** The breakpoint set of the current run (null outside runs with breakpoints armed). */
  private armed: Set<number> | null = null;

  position(): number { return this.machine.icount(); }

  /**
   * Called when a forward run stops at a checkpoint boundary by instruction count: the state there is
   * the one any run reaching that count by count has (the recorder hashes it).
   */
  onBoundary: ((icount: number) => void) | null = null;

  /** Where the history ends, once known (the machine stopped, or the end of a trace). */
  endPosition(): number | null { return this.end?.icount ?? null; }

  /** How the machine stopped by itself at the end, if it did. */
  endReason(): StopReason | null { return this.end?.reason ?? null; }

  /** Replay of a trace: running stops at `icount` as the recording did. */
  setEnd(icount: number, reason: StopReason | null): void { this.end = { icount, reason }; }

  // ---- Checkpoints ------------------------------------------------------------------------------

  checkpoint(): void {
    const m = this.machine;
    const at = m.icount();
    if (this.trackFrom !== null && this.trackFrom < at && this.cps.some((c) => c.icount === this.trackFrom)) {
      this.summaries.set(this.trackFrom, { end: at, pages: this.trackPages });
    }
    this.startTracking(at);
    const existing = this.cps.findIndex((c) => c.icount === at);
    const cp = { icount: at, snap: m.save(), retired: m.vps.map((v) => v.retired()) };
    if (existing >= 0) { this.cps[existing] = cp; return; }
    const k = this.cps.findIndex((c) => c.icount > at);
    if (k < 0) this.cps.push(cp); else this.cps.splice(k, 0, cp);
    // Thin out: drop the older checkpoint whose neighbours are closest, never the first, the newest,
    // or the one just taken (it is where the debugger is working now).
    while (this.cps.length > this.opts.maxCheckpoints) {
      let best = -1, bestGap = Infinity;
      for (let i = 1; i < this.cps.length - 1; i++) {
        if (this.cps[i] === cp) continue;
        const gap = this.cps[i + 1].icount - this.cps[i - 1].icount;
        if (gap < bestGap) { bestGap = gap; best = i; }
      }
      if (best < 0) break;
      this.dropSummariesAround(best);
      this.cps.splice(best, 1);
    }
  }

  checkpointPositions(): number[] { return this.cps.map((c) => c.icount); }

  /** Checkpoint i is going: the intervals on both sides merge, and so do their summaries. */
  private dropSummariesAround(i: number): void {
    const prev = this.cps[i - 1].icount, mid = this.cps[i].icount, next = this.cps[i + 1]?.icount;
    const a = this.summaries.get(prev), b = this.summaries.get(mid);
    this.summaries.delete(mid);
    if (a && a.end === mid && b && b.end === next) this.summaries.set(prev, { end: next, pages: new Set([...a.pages, ...b.pages]) });
    else this.summaries.delete(prev);
    if (this.trackFrom === mid) this.trackFrom = null;
  }

  private restore(cp: Checkpoint): void {
    this.machine.restore(cp.snap);
    this.startTracking(cp.icount);
    for (const vp of this.machine.vps) for (const c of vp.vtls) if (c) c.cpu.skipBreakpointOnce = false;
    this.nextInput = this.inputs.findIndex((i) => i.icount > cp.icount);
    if (this.nextInput < 0) this.nextInput = this.inputs.length;
  }

  private restoreAtOrBefore(target: number): void {
    let cp = this.cps[0];
    for (const c of this.cps) if (c.icount <= target) cp = c;
    this.restore(cp);
  }

  // ---- Inputs -----------------------------------------------------------------------------------

  /**
   * Apply a debugger write now and keep it as part of history: it is applied again whenever the
   * machine passes this position. Only at the end of the known history (the live edge).
   */
  addInput(input: TimelineInput): void {
    if (input.icount !== this.position()) throw new Error('an input applies at the current position');
    input.apply(this.machine);
    this.inputs.push(input);
    this.nextInput = this.inputs.length;
    // A checkpoint here would hold the state before the write: take it again.
    if (this.cps.some((c) => c.icount === input.icount)) this.checkpoint();
  }

  /** Inputs recorded before the session started (a trace's), applied from the start. */
  loadInputs(inputs: TimelineInput[]): void {
    this.inputs.push(...inputs);
    this.inputs.sort((a, b) => a.icount - b.icount);
    this.nextInput = 0;
    this.applyInputsHere();
    this.checkpoint();
  }

  private applyInputsHere(): void {
    const m = this.machine;
    while (this.nextInput < this.inputs.length && this.inputs[this.nextInput].icount <= m.icount()) {
      this.inputs[this.nextInput++].apply(m);
    }
  }

  private nextInputAt(): number {
    return this.nextInput < this.inputs.length ? this.inputs[this.nextInput].icount : Infinity;
  }

  // ---- Breakpoints and watchpoints ----------------------------------------------------------------

  private onAccess(lo: number, hi: number, gpa: number, size: number, write: boolean): void {
    if (this.hit) return;
    const m = this.machine;
    const vp = m.runningVp();
    if (!vp) return;
    for (const w of this.watchpoints.values()) {
      if (w.kind === 'write' && !write) continue;
      if (w.kind === 'read' && write) continue;
      if (w.vtl !== undefined && w.vtl !== vp.activeVtl) continue;
      let a: number;
      if (w.physical) a = gpa;
      else if (lo === -1 && hi === -1) continue;
      else a = (hi | 0) * 4294967296 + (lo >>> 0);
      if (a + size <= w.addr || a >= w.addr + w.len) continue;
      this.hit = { watch: w, vp: vp.index, vtl: vp.activeVtl, addr: Math.max(a, w.addr), write };
      m.stopAfterInstruction({ kind: 'debugger', vp: vp.index });
      return;
    }
  }

  private arm(on: { breakpoints: boolean; watches: boolean }): void {
    const m = this.machine;
    const bps = on.breakpoints && this.breakpoints.size ? this.breakpoints : null;
    this.armed = bps;
    for (const vp of m.vps) for (const c of vp.vtls) if (c) c.cpu.breakpoints = bps;
    m.mem.setWatch(on.watches && this.watchpoints.size ? this.watchHook : null);
    this.hit = null;
  }

  private disarm(): void {
    this.armed = null;
    for (const vp of this.machine.vps) for (const c of vp.vtls) if (c) c.cpu.breakpoints = null;
    if (this.machine.mem.watch) this.machine.mem.setWatch(null);
  }

  /** Let the next forward run execute past a breakpoint at VP `vp`'s current instruction. */
  skipBreakpointAt(vp: number): void {
    this.machine.vps[vp].cpu.skipBreakpointOnce = true;
  }

  // ---- Moving -------------------------------------------------------------------------------------

  /**
   * Run forward to `target` (or to the end), taking checkpoints and applying inputs on the way. With
   * `stops`, stop before an instruction at a breakpoint address and after one that touched a watched
   * range.
   */
  forward(target: number, stops: boolean | { breakpoints: boolean; watches: boolean } = false): TimelineStop {
    const m = this.machine;
    const on = typeof stops === 'boolean' ? { breakpoints: stops, watches: stops } : stops;
    if (this.end && target > this.end.icount) target = this.end.icount;
    this.applyInputsHere();
    if (this.end && m.icount() >= this.end.icount) return { kind: 'end', icount: this.end.icount, reason: this.end.reason };
    this.arm(on);
    const moved = on.breakpoints ? null : this.retiredCounts();
    try {
      for (;;) {
        const now = m.icount();
        const nextCp = (Math.floor(now / this.opts.checkpointEvery) + 1) * this.opts.checkpointEvery;
        const stop = m.run(Math.min(target, nextCp, this.nextInputAt()));
        this.applyInputsHere();
        if (stop.kind === 'breakpoint') {
          const cpu = m.vps[stop.vp].cpu;
          cpu.skipBreakpointOnce = true;
          return { kind: 'breakpoint', icount: m.icount(), vp: stop.vp, addr: (cpu.st.ripHi | 0) * 4294967296 + (cpu.st.ripLo >>> 0) };
        }
        if (stop.kind === 'debugger') {
          if (m.icount() >= nextCp) this.checkpoint();
          const hit = this.hit;
          this.hit = null;
          return hit ? { kind: 'watchpoint', icount: m.icount(), vp: hit.vp, hit } : { kind: 'requested', icount: m.icount(), vp: stop.vp };
        }
        if (stop.kind !== 'max-insns' && stop.kind !== 'vp-limit') {
          this.end = { icount: m.icount(), reason: stop };
          return { kind: 'end', icount: m.icount(), reason: stop };
        }
        if (m.icount() >= nextCp) { this.checkpoint(); this.onBoundary?.(m.icount()); }
        if (this.end && m.icount() >= this.end.icount) return { kind: 'end', icount: this.end.icount, reason: this.end.reason };
        if (m.icount() >= target) return { kind: 'position', icount: m.icount() };
      }
    } finally { this.disarm(); if (moved) this.consumeSkips(moved); }
  }

  private retiredCounts(): number[] { return this.machine.vps.map((v) => v.retired()); }

  /**
   * A VP that ran with breakpoints disarmed has executed past the breakpoint it was allowed to skip
   * once (the CPU only consumes the flag with breakpoints armed): drop the flag, or the next
   * breakpoint it reaches would be skipped instead.
   */
  private consumeSkips(before: number[]): void {
    this.machine.vps.forEach((v, i) => {
      if (v.retired() !== before[i]) for (const c of v.vtls) if (c) c.cpu.skipBreakpointOnce = false;
    });
  }

  /** Go to an exact position (forward or backward). */
  seek(target: number): TimelineStop {
    // Backwards, or forwards past a checkpoint: start from the nearest checkpoint at or before the target.
    const now = this.machine.icount();
    if (target < now || this.cps.some((c) => c.icount > now && c.icount <= target)) this.restoreAtOrBefore(target);
    // A debugger that goes somewhere usually steps back from there next: keep a checkpoint a little
    // before the target, so that those reverse steps replay a short stretch, not a whole interval.
    const near = target - this.nearDistance();
    if (near > this.position() + this.nearDistance() && !this.cps.some((c) => c.icount >= near && c.icount < target)) {
      const s = this.forward(near);
      if (s.kind !== 'position') return s;
      this.checkpoint();
    }
    return this.forward(target);
  }

  /** How far before a seek target the extra checkpoint goes. */
  private nearDistance(): number { return Math.max(1000, Math.floor(this.opts.checkpointEvery / 20)); }

  /** Step VP `vp` back by one instruction: the state just before it executed its previous one. */
  reverseStep(vp: number): TimelineStop {
    const m = this.machine;
    const r = m.vps[vp].retired();
    if (r === 0) return { kind: 'start', icount: 0 };
    const here = m.icount();
    let cp = this.cps[0];
    for (const c of this.cps) if (c.icount < here && c.retired[vp] <= r - 1) cp = c;
    this.restore(cp);
    m.vpLimit = { vp, retired: r - 1 };
    try {
      for (;;) {
        const stop = m.run(Math.min(here, this.nextInputAt()));
        this.applyInputsHere();
        if (stop.kind === 'max-insns' && m.icount() < here) continue;
        if (stop.kind !== 'vp-limit' && m.vps[vp].retired() !== r - 1) {
          throw new Error(`reverse step of VP ${vp} did not reach its instruction ${r - 1} (${stop.kind} at ${m.icount()})`);
        }
        break;
      }
    } finally { m.vpLimit = null; }
    return { kind: 'position', icount: m.icount() };
  }

  /** Step VP `vp` forward by one instruction; with `watches`, say whether it touched a watched range. */
  step(vp: number, watches = false): TimelineStop {
    const m = this.machine;
    this.applyInputsHere();
    if (this.end && m.icount() >= this.end.icount) return { kind: 'end', icount: this.end.icount, reason: this.end.reason };
    const r = m.vps[vp].retired();
    m.vpLimit = { vp, retired: r + 1 };
    this.arm({ breakpoints: false, watches });
    const moved = this.retiredCounts();
    try {
      const stop = m.run(this.end ? this.end.icount : Infinity);
      this.applyInputsHere();
      if (stop.kind === 'debugger') {
        const hit = this.hit;
        this.hit = null;
        if (hit) return { kind: 'watchpoint', icount: m.icount(), vp: hit.vp, hit };
        if (m.vps[vp].retired() !== r + 1) return { kind: 'requested', icount: m.icount(), vp: stop.vp };
      }
      if (stop.kind === 'max-insns' && this.end) return { kind: 'end', icount: this.end.icount, reason: this.end.reason };
      if (stop.kind !== 'vp-limit') { this.end = { icount: m.icount(), reason: stop }; return { kind: 'end', icount: m.icount(), reason: stop }; }
    } finally { m.vpLimit = null; this.disarm(); this.consumeSkips(moved); }
    return { kind: 'position', icount: m.icount() };
  }

  /** The newest checkpoint position before `x`, or null. */
  checkpointBefore(x: number): number | null {
    let best: number | null = null;
    for (const c of this.cps) if (c.icount < x) best = c.icount;
    return best;
  }

  /**
   * The newest breakpoint or watchpoint stop with lower < icount in the interval starting at checkpoint
   * `from`, replaying it to `to` with stops on: breakpoint stops before `here` (one at here is where
   * the search started), watchpoint stops (after the access) up to here. Null when there is none.
   * Leaves the machine somewhere in the interval.
   */
  scanInterval(from: number, to: number, here: number, lower: number, on: { breakpoints: boolean; watches: boolean }): TimelineStop | null {
    const cp = this.cps.find((c) => c.icount === from);
    if (!cp) throw new Error(`no checkpoint at ${from}`);
    this.intervalsReplayed++;
    this.restore(cp);
    let last: TimelineStop | null = null;
    for (;;) {
      const s = this.forward(to, on);
      if (s.kind === 'breakpoint') { if (s.icount >= here) break; if (s.icount > lower) last = s; continue; }
      if (s.kind === 'watchpoint') { if (s.icount > here) break; if (s.icount > lower) last = s; if (s.icount >= to) break; continue; }
      break;
    }
    return last;
  }

  /**
   * The newest breakpoint or watchpoint stop in (lower, here), searched interval by interval towards
   * the past; yields each interval [from, to) before replaying it (progress), returns the stop or null
   * (the machine is left somewhere). Intervals whose summary says no breakpoint's code ran are skipped.
   * Replaying one takes checkpoints and thins older ones, so the next interval is looked up afresh each
   * time (it ends where this one started).
   */
  *stopsBefore(here: number, lower: number, on: { breakpoints: boolean; watches: boolean }): Generator<[number, number], TimelineStop | null> {
    for (let to = here, from = this.checkpointBefore(to); from !== null && to > lower; to = from, from = this.checkpointBefore(to)) {
      if (!on.watches && this.breakpointsNeverRanIn(from, to)) continue;
      yield [from, to];
      const s = this.scanInterval(from, to, here, lower, on);
      if (s) return s;
    }
    return null;
  }

  /** stopsBefore, run to its answer. */
  lastStopBefore(here: number, lower: number, on: { breakpoints: boolean; watches: boolean }): TimelineStop | null {
    const g = this.stopsBefore(here, lower, on);
    for (;;) { const r = g.next(); if (r.done) return r.value; }
  }

  /**
   * Run backwards to the last breakpoint hit before the current position (the start of the recording
   * when there is none). Kept for callers that need nothing else; the session builds on lastStopBefore.
   */
  reverseContinue(): TimelineStop {
    const here = this.position();
    const s = this.lastStopBefore(here, -1, { breakpoints: true, watches: false });
    if (s && s.kind === 'breakpoint') {
      this.seek(s.icount);
      // seek() reaches the position by count; the breakpoint's VP is the one to resume past it.
      this.skipBreakpointAt(s.vp);
      return s;
    }
    this.restore(this.cps[0]);
    return { kind: 'start', icount: 0 };
  }
}

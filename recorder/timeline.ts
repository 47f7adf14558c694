// The timeline: reverse execution over a forward-only machine, as rr's ReplayTimeline does.
// Positions are global instruction counts. The timeline keeps machine snapshots (checkpoints) as the
// machine runs forward; going back means restoring the nearest checkpoint at or before the target and
// running forward to it. Checkpoints are dense near the present and thin out into the past.

import type { Machine, MachineSnapshot, StopReason } from '../core/machine/machine.js';

export interface TimelineOptions {
  /** Take a checkpoint every this many instructions when running forward. */
  checkpointEvery: number;
  /** At most this many checkpoints in memory (the one at 0 is always kept). */
  maxCheckpoints: number;
}

export const DEFAULT_TIMELINE: TimelineOptions = { checkpointEvery: 2_000_000, maxCheckpoints: 12 };

/** Why a timeline operation stopped. */
export type TimelineStop =
  | { kind: 'position'; icount: number }
  | { kind: 'breakpoint'; icount: number; vp: number; addr: number }
  | { kind: 'start'; icount: 0 }
  | { kind: 'end'; icount: number; reason: StopReason };

interface Checkpoint {
  icount: number;
  snap: MachineSnapshot;
  /** Instructions retired by each VP at this checkpoint. */
  retired: number[];
}

export class Timeline {
  readonly machine: Machine;
  private readonly cps: Checkpoint[] = [];
  /** The end of the run, once reached (the machine stopped by itself). */
  private end: { icount: number; reason: StopReason } | null = null;
  /** Breakpoints: linear addresses (as numbers), applied in every VP and VTL. */
  readonly breakpoints = new Set<number>();

  constructor(machine: Machine, private readonly opts: TimelineOptions = DEFAULT_TIMELINE) {
    this.machine = machine;
    this.checkpoint();
  }

  position(): number { return this.machine.icount(); }

  private checkpoint(): void {
    const m = this.machine;
    const at = m.icount();
    if (this.cps.some((c) => c.icount === at)) return;
    const cp = { icount: at, snap: m.save(), retired: m.vps.map((v) => v.retired()) };
    const k = this.cps.findIndex((c) => c.icount > at);
    if (k < 0) this.cps.push(cp); else this.cps.splice(k, 0, cp);
    // Thin out: drop the older checkpoint whose neighbours are closest, never the first or the newest.
    while (this.cps.length > this.opts.maxCheckpoints) {
      let best = 1, bestGap = Infinity;
      for (let i = 1; i < this.cps.length - 1; i++) {
        const gap = this.cps[i + 1].icount - this.cps[i - 1].icount;
        if (gap < bestGap) { bestGap = gap; best = i; }
      }
      this.cps.splice(best, 1);
    }
  }

  checkpointPositions(): number[] { return this.cps.map((c) => c.icount); }

  private restore(cp: Checkpoint): void {
    this.machine.restore(cp.snap);
    for (const vp of this.machine.vps) for (const c of vp.vtls) if (c) c.cpu.skipBreakpointOnce = false;
  }

  private applyBreakpoints(on: boolean): void {
    for (const vp of this.machine.vps) for (const c of vp.vtls) if (c) c.cpu.breakpoints = on && this.breakpoints.size ? this.breakpoints : null;
  }

  /** The CPU that is stopped at a breakpoint (after run() returned a breakpoint stop). */
  private breakpointCpu(vp: number) { return this.machine.vps[vp].cpu; }

  /**
   * Run forward to `target` (or to the end), taking checkpoints on the way. With `breakpoints`, stop
   * before executing an instruction at a breakpoint address.
   */
  forward(target: number, breakpoints = false): TimelineStop {
    const m = this.machine;
    if (this.end && m.icount() >= this.end.icount) return { kind: 'end', icount: this.end.icount, reason: this.end.reason };
    this.applyBreakpoints(breakpoints);
    try {
      for (;;) {
        const now = m.icount();
        const nextCp = (Math.floor(now / this.opts.checkpointEvery) + 1) * this.opts.checkpointEvery;
        const stop = m.run(Math.min(target, nextCp));
        if (stop.kind === 'breakpoint') {
          const cpu = this.breakpointCpu(stop.vp);
          cpu.skipBreakpointOnce = true;
          return { kind: 'breakpoint', icount: m.icount(), vp: stop.vp, addr: (cpu.st.ripHi >>> 0) * 4294967296 + (cpu.st.ripLo >>> 0) };
        }
        if (stop.kind !== 'max-insns' && stop.kind !== 'vp-limit') {
          this.end = { icount: m.icount(), reason: stop };
          return { kind: 'end', icount: m.icount(), reason: stop };
        }
        if (m.icount() >= nextCp) this.checkpoint();
        if (m.icount() >= target) return { kind: 'position', icount: m.icount() };
      }
    } finally { this.applyBreakpoints(false); }
  }

  /** Go to an exact position (forward or backward). */
  seek(target: number): TimelineStop {
    const m = this.machine;
    if (target < m.icount()) {
      const cp = [...this.cps].reverse().find((c) => c.icount <= target)!;
      this.restore(cp);
    }
    return this.forward(target);
  }

  /** Step VP `vp` back by one instruction: the state just before it executed its previous one. */
  reverseStep(vp: number): TimelineStop {
    const m = this.machine;
    const r = m.vps[vp].retired();
    if (r === 0) return { kind: 'start', icount: 0 };
    const here = m.icount();
    const cp = [...this.cps].reverse().find((c) => c.icount < here && c.retired[vp] <= r - 1)!;
    this.restore(cp);
    m.vpLimit = { vp, retired: r - 1 };
    try {
      const stop = m.run(here);
      if (stop.kind !== 'vp-limit' && m.vps[vp].retired() !== r - 1) {
        throw new Error(`reverse step of VP ${vp} did not reach its instruction ${r - 1} (${stop.kind} at ${m.icount()})`);
      }
    } finally { m.vpLimit = null; }
    return { kind: 'position', icount: m.icount() };
  }

  /** Step VP `vp` forward by one instruction. */
  step(vp: number): TimelineStop {
    const m = this.machine;
    const r = m.vps[vp].retired();
    m.vpLimit = { vp, retired: r + 1 };
    try {
      const stop = m.run(Infinity);
      if (stop.kind !== 'vp-limit') { this.end = { icount: m.icount(), reason: stop }; return { kind: 'end', icount: m.icount(), reason: stop }; }
    } finally { m.vpLimit = null; }
    return { kind: 'position', icount: m.icount() };
  }

  /**
   * Run backwards to the last breakpoint hit before the current position: scan checkpoint intervals
   * from the newest back, replaying each with breakpoints on and keeping its last hit.
   */
  reverseContinue(): TimelineStop {
    const m = this.machine;
    const here = m.icount();
    const starts = this.cps.map((c) => c.icount).filter((x) => x < here);
    for (let i = starts.length - 1; i >= 0; i--) {
      const from = starts[i];
      const to = i + 1 < starts.length ? starts[i + 1] : here;
      this.restore(this.cps.find((c) => c.icount === from)!);
      let hits = 0, lastHit: TimelineStop | null = null;
      for (;;) {
        const s = this.forward(to, true);
        if (s.kind !== 'breakpoint' || s.icount >= here) break;
        hits++; lastHit = s;
      }
      if (lastHit) {
        // Replay the interval again and stop at that same hit.
        this.restore(this.cps.find((c) => c.icount === from)!);
        for (let k = 0; k < hits; k++) {
          const s = this.forward(to, true);
          if (k === hits - 1) return s;
        }
      }
    }
    this.restore(this.cps[0]);
    return { kind: 'start', icount: 0 };
  }
}

// The session API: the one interface the GDB stub, the DAP adapter and the CLI use to drive a
// machine forwards and backwards. A live session boots an image and keeps a timeline as it runs, so
// reverse execution works without a separate record step (and with `trace` it also writes a trace
// file as it goes); a replay session starts from a trace and ends where the recording ended.
//
// Resuming is a generator of small steps: resumeSync() drives it to the end, resume() yields to the
// event loop between steps so that a front end stays responsive, reports progress and can cancel.

import { Machine, type MachineConfig, type StopReason } from '../core/machine/machine.js';
import type { MachineEvent } from '../core/machine/events.js';
import { ACCESS } from '../core/mmu/mmu.js';
import { PAGE_SIZE } from '../core/memory/phys.js';
import { Timeline, type TimelineOptions, DEFAULT_TIMELINE, type TimelineStop, type Watchpoint, type WatchKind, addressKey, keyAddress } from './timeline.js';
import { machineFromTrace, traceInputs, traceEnd } from './replay.js';
import { TraceWriter, type TraceReader } from './trace.js';
import { eventRow, encodeCheckpoint } from './recorder.js';
import { REGISTERS, REGISTER_INDEX } from './registers.js';
import { regContext } from './regcontext.js';
import { applyWrite, encodeWrite, type DebuggerWrite } from './inputs.js';
import { VERSION } from './version.js';
import { matcher, sameEvent, type EventFilter } from './events.js';
import { vsmStateOf, type VsmState } from './vsmstate.js';

export { matcher, type EventFilter, type EventQuery } from './events.js';
export type { VsmState } from './vsmstate.js';

export class SessionError extends Error {}

/** The thread a front end reports a stop on: a VP and the VTL active in it. */
interface At { icount: number; vp: number; vtl: number }

/** Why a resume stopped, as front ends report it. */
export type StopEvent =
  | (At & { reason: 'step' })
  | (At & { reason: 'breakpoint'; addr: bigint })
  | (At & { reason: 'watchpoint'; watch: Watchpoint; addr: bigint; access: 'read' | 'write' })
  | (At & { reason: 'event'; event: MachineEvent; index: number })
  | (At & { reason: 'start-of-recording' })
  | (At & { reason: 'end-of-recording'; detail: StopReason | null })
  | (At & { reason: 'position' })
  | (At & { reason: 'interrupted' });

export interface ResumeRequest {
  direction: 'forward' | 'backward';
  /** Move this VP by one instruction instead of running. */
  step?: number;
  /** Also stop at events matching this. */
  events?: EventFilter;
  /** Forward: stop at this position at the latest. */
  until?: number;
}

export interface Progress { done: number; total: number | null; message: string }

export interface ResumeControl {
  /** Polled between steps of a long resume; true ends it with an 'interrupted' stop. */
  cancelled?: () => boolean;
  progress?: (p: Progress) => void;
}

export interface ThreadInfo { vp: number; vtl: number; active: boolean; state: 'running' | 'halted' | 'waiting' | 'stopped' }

export interface SessionOptions extends TimelineOptions {
  /** Live sessions: also write the recording to this trace file. */
  trace?: string;
  /** Name of the image as stored in the trace. */
  imageName?: string;
  /** A state hash in the trace at least this often (instructions). */
  hashEvery?: number;
}

export const DEFAULT_SESSION: SessionOptions = { ...DEFAULT_TIMELINE, hashEvery: 10_000_000 };

/** Forward runs yield to the caller this often (instructions). */
const CHUNK = 1_000_000;


export class Session {
  readonly timeline: Timeline;
  readonly kind: 'live' | 'replay';
  /** Every event of the history known so far, in order (index lookups find event stops). */
  private readonly events: MachineEvent[] = [];
  /** Highest position the events log covers. */
  private logged = 0;
  /** The furthest position executed (the live edge). */
  private frontier = 0;
  private readonly writer: TraceWriter | null;
  private lastHash = 0;
  private readonly hashEvery: number;
  private readonly bookmarkList = new Map<string, { icount: number; vp: number }>();
  /** The VP of the last stop: positions reached by count are reported on it. */
  private focusVp = 0;
  /** The event the machine is stopped just after, if it stopped at one (not stopped at again going forward). */
  private atEvent: { event: MachineEvent; index: number } | null = null;
  /** While a resume runs: the events that stop it, and the one that did. */
  private trap: ((e: MachineEvent) => boolean) | null = null;
  private trapped: MachineEvent | null = null;
  private busy = false;
  private nextWatchId = 1;
  private closed = false;

  private constructor(machine: Machine, kind: 'live' | 'replay', opts: SessionOptions, writer: TraceWriter | null) {
    this.kind = kind;
    this.writer = writer;
    this.hashEvery = opts.hashEvery ?? DEFAULT_SESSION.hashEvery!;
    machine.observer = { event: (e) => this.onEvent(e) };
    this.timeline = new Timeline(machine, opts);
    this.timeline.onBoundary = (at) => {
      // New territory, reached by count: a state any replay reaching this count has too.
      if (this.writer && at > this.frontier && at - this.lastHash >= this.hashEvery) { this.writer.hash(at, machine.archHash()); this.lastHash = at; }
    };
  }

  /** Boot `image` and record as it runs (into a trace file too with opts.trace). */
  static live(config: MachineConfig, image: Uint8Array, opts: SessionOptions = DEFAULT_SESSION): Session {
    const m = new Machine(config, image);
    let writer: TraceWriter | null = null;
    if (opts.trace) {
      writer = new TraceWriter(opts.trace);
      writer.begin({ smp: config.smp, mem: config.ramMiB, cmdline: config.cmdline, quantum: config.quantum ?? null, hv: config.hv !== false, mbec: config.mbec === true, hvTestdev: config.hvTestdev === true, maxInsns: null },
        { name: opts.imageName ?? 'image', bytes: image }, VERSION);
      // A debugger stops the machine at arbitrary points (breakpoints, events, single steps), where
      // the scheduler's bookkeeping may differ from a replay's stop by count: the hashes are of the
      // architectural state (Machine.archHash), which agrees.
      writer.setMeta('hash_kind', 'arch');
      m.mem.takeDirtyPages();
      writer.checkpoint(0, null, 'msgpack+brotli/delta-v1', encodeCheckpoint(m, true));
      writer.hash(0, m.archHash());
    }
    const s = new Session(m, 'live', opts, writer);
    // The boot processor's start happened while the machine was built, before anyone observed it.
    const st = m.vps[0].cpu.st;
    s.onEvent({ kind: 'vp-start', icount: 0, vp: 0, ripLo: st.ripLo, ripHi: st.ripHi, reason: 'boot' });
    return s;
  }

  /** Open a trace: the recorded history, with its events known up front. */
  static replay(trace: TraceReader, opts: SessionOptions = DEFAULT_SESSION): Session {
    const m = machineFromTrace(trace);
    const s = new Session(m, 'replay', opts, null);
    for (const r of trace.events()) s.events.push(r.event as unknown as MachineEvent);
    const end = traceEnd(trace);
    s.logged = end.icount;
    s.frontier = end.icount;
    s.timeline.loadInputs(traceInputs(trace).map((i) => ({ icount: i.icount, apply: (mm: Machine) => applyWrite(mm, i.write) })));
    s.timeline.setEnd(end.icount, end.reason);
    for (const b of trace.bookmarks()) s.bookmarkList.set(b.name, { icount: b.icount, vp: b.vp ?? 0 });
    return s;
  }

  get machine(): Machine { return this.timeline.machine; }
  position(): number { return this.timeline.position(); }
  /** The furthest position executed so far (a replay: the end of the recording). */
  livePosition(): number { return this.frontier; }
  /** The end of history if known: the recording's end, or where a live machine stopped by itself. */
  endPosition(): number | null { return this.timeline.endPosition(); }
  get vtlCount(): number { return this.machine.hv ? 2 : 1; }

  private onEvent(e: MachineEvent): void {
    if (this.trap && this.trap(e) && !(this.atEvent && sameEvent(this.atEvent.event, e))) {
      if (!this.trapped) { this.trapped = e; this.machine.stopAfterInstruction({ kind: 'debugger', vp: e.vp }); }
    }
    // Only the first pass over a stretch of time is logged; running it again after a seek repeats the
    // same events, which are recognised by position and content.
    if (e.icount < this.logged) return;
    if (e.icount === this.logged) {
      for (let k = this.events.length - 1; k >= 0 && this.events[k].icount === e.icount; k--) if (sameEvent(this.events[k], e)) return;
    }
    this.events.push(e);
    this.logged = e.icount;
    this.writer?.event(eventRow(e));
  }

  /** Index in the log of an event seen during a run. */
  private indexOf(e: MachineEvent): number {
    for (let k = this.lowerBound(e.icount); k < this.events.length && this.events[k].icount === e.icount; k++) if (sameEvent(this.events[k], e)) return k;
    return -1;
  }

  /** First log index with icount >= x. */
  private lowerBound(x: number): number {
    let lo = 0, hi = this.events.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (this.events[mid].icount < x) lo = mid + 1; else hi = mid; }
    return lo;
  }

  private noteProgress(): void {
    const at = this.position();
    if (at <= this.frontier) return;
    this.frontier = at;
  }

  private at(vp = this.focusVp): At {
    this.focusVp = vp;
    return { icount: this.position(), vp, vtl: this.machine.vps[vp]?.activeVtl ?? 0 };
  }

  private toStop(s: TimelineStop, vp: number): StopEvent {
    switch (s.kind) {
      case 'breakpoint': return { ...this.at(s.vp), reason: 'breakpoint', addr: keyAddress(s.addr) };
      case 'watchpoint': return { ...this.at(s.vp), reason: 'watchpoint', watch: s.hit.watch, addr: s.hit.watch.physical ? BigInt(s.hit.addr) : keyAddress(s.hit.addr), access: s.hit.write ? 'write' : 'read' };
      case 'start': return { ...this.at(vp), reason: 'start-of-recording' };
      case 'end': return { ...this.at(vp), reason: 'end-of-recording', detail: s.reason };
      default: return { ...this.at(vp), reason: 'step' };
    }
  }

  // ---- Resuming ---------------------------------------------------------------------------------

  /** Resume and run to the stop, synchronously. */
  resumeSync(req: ResumeRequest): StopEvent {
    const g = this.begin(req);
    try {
      for (;;) { const r = g.next(); if (r.done) return r.value; }
    } finally { this.end(); }
  }

  /** Resume, yielding to the event loop between steps; `ctl` reports progress and can cancel. */
  async resume(req: ResumeRequest, ctl: ResumeControl = {}): Promise<StopEvent> {
    const g = this.begin(req);
    try {
      for (;;) {
        const r = g.next();
        if (r.done) return r.value;
        ctl.progress?.(r.value);
        await new Promise<void>((res) => setImmediate(res));
        if (ctl.cancelled?.()) {
          const s = g.return({ ...this.at(), reason: 'interrupted' }).value as StopEvent;
          return { ...s, ...this.at() };
        }
      }
    } finally { this.end(); }
  }

  private begin(req: ResumeRequest): Generator<Progress, StopEvent> {
    if (this.closed) throw new SessionError('the session is closed');
    if (this.busy) throw new SessionError('the machine is already running');
    this.busy = true;
    if (req.step !== undefined && !this.machine.vps[req.step]) { this.busy = false; throw new SessionError(`no VP ${req.step}`); }
    if (req.direction === 'forward') return req.step !== undefined ? this.stepGen(req.step) : this.forwardGen(req);
    return req.step !== undefined ? this.reverseStepGen(req.step) : this.backwardGen(req);
  }

  private end(): void {
    this.busy = false;
    this.trap = null;
    this.trapped = null;
    this.noteProgress();
  }

  // eslint-disable-next-line require-yield
  private *stepGen(vp: number): Generator<Progress, StopEvent> {
    this.atEvent = null;
    const s = this.timeline.step(vp, this.timeline.watchpoints.size > 0);
    return this.toStop(s, vp);
  }

  // eslint-disable-next-line require-yield
  private *reverseStepGen(vp: number): Generator<Progress, StopEvent> {
    this.atEvent = null;
    // After an event that retired no instruction (a secure intercept, an interrupt-driven VTL entry),
    // the machine is further on than the instruction count says: one step back is the state before
    // that event, on the instruction that caused it.
    const t = this.timeline, m = this.machine, here = this.position();
    if (here > 0 && this.lowerBound(here) < this.lowerBound(here + 1)) {
      const now = m.archHash();
      t.seek(here - 1);
      t.seek(here);
      if (m.archHash() !== now) return { ...this.at(vp), reason: 'step' };
    }
    return this.toStop(t.reverseStep(vp), vp);
  }

  private *forwardGen(req: ResumeRequest): Generator<Progress, StopEvent> {
    const t = this.timeline, m = this.machine;
    const start = this.position();
    const limit = req.until ?? Infinity;
    // Resuming from a breakpoint stop: the stopped VP executes the instruction at its breakpoint.
    const focus = m.vps[this.focusVp].cpu.st;
    if (t.breakpoints.has((focus.ripHi | 0) * 4294967296 + (focus.ripLo >>> 0))) t.skipBreakpointAt(this.focusVp);
    this.trap = req.events ? matcher(req.events) : null;
    this.trapped = null;
    const total = Number.isFinite(limit) ? limit - start : (t.endPosition() ?? null) !== null ? t.endPosition()! - start : null;
    for (;;) {
      const s = t.forward(Math.min(limit, this.position() + CHUNK), { breakpoints: true, watches: true });
      this.noteProgress();
      const e = this.trapped as MachineEvent | null;
      if (e) {
        const index = this.indexOf(e);
        this.atEvent = { event: e, index };
        return { ...this.at(e.vp), reason: 'event', event: e, index };
      }
      if (s.kind !== 'position') { this.atEvent = null; return this.toStop(s, this.focusVp); }
      if (this.position() >= limit) { this.atEvent = null; return { ...this.at(), reason: 'position' }; }
      yield { done: this.position() - start, total, message: `running forward at instruction ${this.position()}` };
    }
  }

  private *backwardGen(req: ResumeRequest): Generator<Progress, StopEvent> {
    const t = this.timeline;
    const here = this.position();
    // The newest matching event before the present, by index lookup.
    let ev: { event: MachineEvent; index: number } | null = null;
    if (req.events) {
      const match = matcher(req.events);
      let k = this.atEvent ? this.atEvent.index - 1 : this.lowerBound(here) - 1;
      for (; k >= 0; k--) if (match(this.events[k])) { ev = { event: this.events[k], index: k }; break; }
    }
    // A breakpoint or watchpoint stop between that event and here is nearer.
    const on = { breakpoints: t.breakpoints.size > 0, watches: t.watchpoints.size > 0 };
    if (on.breakpoints || on.watches) {
      const lower = ev ? ev.event.icount - 1 : -1;
      const span = Math.max(1, here - Math.max(0, lower));
      const search = t.stopsBefore(here, lower, on);
      let r = search.next();
      for (; !r.done; r = search.next()) yield { done: here - r.value[1], total: span, message: `searching backwards from instruction ${r.value[1]}` };
      const s = r.value;
      if (s && (s.kind === 'breakpoint' || s.kind === 'watchpoint')) {
        this.atEvent = null;
        if (s.kind === 'watchpoint') {
          // Leave the machine before the access, with the old value in memory (rr, gdb's record target).
          t.seek(s.icount);
          t.reverseStep(s.vp);
          return { ...this.toStop(s, s.vp), icount: this.position() };
        }
        t.seek(s.icount);
        t.skipBreakpointAt(s.vp);
        return this.toStop(s, s.vp);
      }
    }
    if (ev) {
      this.gotoEvent(ev.event);
      this.atEvent = ev;
      return { ...this.at(ev.event.vp), reason: 'event', event: ev.event, index: ev.index };
    }
    this.atEvent = null;
    t.seek(0);
    return { ...this.at(), reason: 'start-of-recording' };
  }

  /** Put the machine just after event `e` happened, as a forward run stopping at it does. */
  private gotoEvent(e: MachineEvent): void {
    const t = this.timeline;
    if (e.icount === 0) { t.seek(0); }
    else { t.seek(e.icount - 1); }
    this.trap = (x) => sameEvent(x, e);
    this.trapped = null;
    const wasAt = this.atEvent;
    this.atEvent = null;
    try {
      t.forward(e.icount + 1, false);
    } finally { this.trap = null; this.atEvent = wasAt; }
    if (!(this.trapped as MachineEvent | null)) t.seek(e.icount);
    this.trapped = null;
  }

  // ---- Convenience forms of resume (tests, CLI) ------------------------------------------------------

  step(vp: number): StopEvent { return this.resumeSync({ direction: 'forward', step: vp }); }
  reverseStep(vp: number): StopEvent { return this.resumeSync({ direction: 'backward', step: vp }); }
  continue(opts: { until?: EventFilter; limit?: number } = {}): StopEvent {
    return this.resumeSync({ direction: 'forward', events: opts.until, until: opts.limit });
  }
  reverseContinue(opts: { until?: EventFilter } = {}): StopEvent {
    return this.resumeSync({ direction: 'backward', events: opts.until });
  }

  /** Go to a position (forward or backward). */
  seek(icount: number): StopEvent {
    if (this.busy) throw new SessionError('the machine is already running');
    if (!Number.isSafeInteger(icount) || icount < 0) throw new SessionError(`not an instruction count: ${icount}`);
    const end = this.endPosition();
    if (end !== null && icount > end) throw new SessionError(`instruction ${icount} is past the end of the recording (${end})`);
    this.atEvent = null;
    const s = this.timeline.seek(icount);
    this.noteProgress();
    return s.kind === 'end' ? this.toStop(s, this.focusVp) : { ...this.at(), reason: 'position' };
  }

  /** Go to the event at log index `index`. */
  gotoEventIndex(index: number): StopEvent {
    const e = this.events[index];
    if (!e) throw new SessionError(`no event ${index} (the log holds ${this.events.length})`);
    if (e.icount > this.frontier) throw new SessionError(`event ${index} is in the future`);
    this.gotoEvent(e);
    this.atEvent = { event: e, index };
    return { ...this.at(e.vp), reason: 'event', event: e, index };
  }

  /** Make the next reports name this VP (gdb's Hg/Hc, a DAP thread selection). */
  focus(vp: number): void { if (this.machine.vps[vp]) this.focusVp = vp; }
  focusedVp(): number { return this.focusVp; }

  // ---- Breakpoints and watchpoints ------------------------------------------------------------------

  setBreakpoint(addr: bigint | number): void { this.timeline.breakpoints.add(addressKey(BigInt(addr))); }
  clearBreakpoint(addr: bigint | number): void { this.timeline.breakpoints.delete(addressKey(BigInt(addr))); }
  breakpoints(): bigint[] { return [...this.timeline.breakpoints].map(keyAddress); }

  /** Watch [addr, addr+len) for reads, writes or both; linear addresses unless `physical`. */
  addWatchpoint(w: { addr: bigint | number; len: number; kind: WatchKind; physical?: boolean; vtl?: number }): Watchpoint {
    if (!Number.isInteger(w.len) || w.len <= 0) throw new SessionError(`watchpoint length must be positive (got ${w.len})`);
    const physical = w.physical === true;
    const addr = physical ? Number(w.addr) : addressKey(BigInt(w.addr));
    for (const x of this.timeline.watchpoints.values()) {
      // Setting the same watchpoint again is not an error (gdb re-inserts them on every resume).
      if (x.addr === addr && x.len === w.len && x.kind === w.kind && x.physical === physical && x.vtl === w.vtl) return x;
    }
    const wp: Watchpoint = { id: this.nextWatchId++, addr, len: w.len, kind: w.kind, physical, vtl: w.vtl };
    this.timeline.watchpoints.set(wp.id, wp);
    return wp;
  }

  removeWatchpoint(id: number): boolean { return this.timeline.watchpoints.delete(id); }
  watchpoints(): Watchpoint[] { return [...this.timeline.watchpoints.values()]; }

  // ---- State ----------------------------------------------------------------------------------------

  threads(): ThreadInfo[] {
    const out: ThreadInfo[] = [];
    for (const v of this.machine.vps) {
      v.vtls.forEach((c, vtl) => {
        if (!c) return;
        const state = v.state === 0 ? 'waiting' : v.state === 2 ? 'stopped' : c.cpu.st.halted ? 'halted' : 'running';
        out.push({ vp: v.index, vtl, active: v.activeVtl === vtl, state });
      });
    }
    return out;
  }

  hasContext(vp: number, vtl: number): boolean { return !!this.machine.vps[vp]?.vtls[vtl]; }
  activeVtl(vp: number): number { return this.machine.vps[vp]?.activeVtl ?? 0; }

  /** Every register of the table (registers.ts) for (vp, vtl), in table order. */
  readRegisters(vp: number, vtl: number): bigint[] {
    const c = this.context(vp, vtl);
    return REGISTERS.map((r) => r.get(c));
  }

  readRegister(vp: number, vtl: number, name: string): bigint {
    const idx = REGISTER_INDEX.get(name);
    if (idx === undefined) throw new SessionError(`no register named '${name}'`);
    return REGISTERS[idx].get(this.context(vp, vtl));
  }

  private context(vp: number, vtl: number) {
    if (!this.hasContext(vp, vtl)) throw new SessionError(`VP ${vp} has no VTL${vtl}`);
    return regContext(this.machine, vp, vtl);
  }

  /** Why a write is not possible here, or null. */
  writeRefusal(): string | null {
    if (this.kind === 'replay') return 'this is a replay of a recorded trace: its history cannot be changed';
    if (this.position() !== this.frontier) return `the machine is in the past (instruction ${this.position()} of ${this.frontier}): writes are only possible at the live edge, where they become part of the recording`;
    if (this.endPosition() !== null) return 'the machine has stopped: there is no future for a write to change';
    return null;
  }

  /**
   * Whether the machine is in the state that a run reaching this position by instruction count has.
   * A stop just after an event (an intercept, a VTL entry, an interrupt) can be further on, inside the
   * hypervisor's processing at the same count; a write there could not be replayed at the same point.
   */
  private atCountState(): boolean {
    const at = this.position();
    if (at === 0) return true;
    const m = this.machine, here = m.archHash(), snap = m.save();
    this.timeline.seek(at - 1);
    this.timeline.seek(at);
    if (m.archHash() === here) return true;
    m.restore(snap);
    return false;
  }

  private write(w: DebuggerWrite): void {
    const why = this.writeRefusal();
    if (why) throw new SessionError(why);
    const at = this.position();
    if (!this.atCountState()) {
      throw new SessionError(`the machine is stopped inside the hypervisor's processing at instruction ${at} (after an event there): a write here could not be replayed at the same point; step one instruction first`);
    }
    this.timeline.addInput({ icount: at, apply: (m) => applyWrite(m, w) });
    if (this.writer) {
      this.writer.input(at, w.kind, encodeWrite(w));
      // A state hash at this position describes it after its inputs (replay applies them first).
      if (this.lastHash === at) this.writer.hash(at, this.machine.archHash());
    }
  }

  writeRegister(vp: number, vtl: number, name: string, value: bigint): void {
    const idx = REGISTER_INDEX.get(name);
    if (idx === undefined) throw new SessionError(`no register named '${name}'`);
    if (!REGISTERS[idx].set) throw new SessionError(`register '${name}' is read-only`);
    this.context(vp, vtl);
    this.write({ kind: 'reg-write', vp, vtl, reg: name, value: BigInt.asUintN(REGISTERS[idx].bits, value) });
  }

  /**
   * Guest-physical address of a linear address in (vp, vtl)'s page tables, as a debugger sees it
   * (supervisor access, no A/D updates, VTL protections ignored); null if it does not translate.
   */
  translate(vp: number, vtl: number, addr: bigint): number | null {
    const ctx = this.machine.vps[vp]?.vtls[vtl];
    if (!ctx) throw new SessionError(`VP ${vp} has no VTL${vtl}`);
    const mmu = ctx.cpu.mmu;
    const v = BigInt.asUintN(64, addr);
    const s2 = mmu.stage2;
    mmu.stage2 = null;
    try {
      return mmu.translateUncached(Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0, ACCESS.READ, false, false);
    } catch { return null; } finally { mmu.stage2 = s2; }
  }

  /**
   * Read memory: linear addresses through (vp, vtl)'s page tables, or guest-physical with `physical`.
   * Returns the bytes readable from the start (RAM only: device registers are never read by a debugger).
   */
  readMemory(where: { vp: number; vtl: number } | 'physical', addr: bigint, len: number): Uint8Array {
    const out = new Uint8Array(len);
    const ram = this.machine.mem.ram, size = this.machine.mem.size;
    let n = 0;
    while (n < len) {
      const a = BigInt.asUintN(64, addr + BigInt(n));
      const gpa = where === 'physical' ? (a < BigInt(size) ? Number(a) : null) : this.translate(where.vp, where.vtl, a);
      if (gpa === null || gpa >= size) break;
      const chunk = Math.min(len - n, PAGE_SIZE - (gpa % PAGE_SIZE), size - gpa);
      out.set(ram.subarray(gpa, gpa + chunk), n);
      n += chunk;
    }
    return out.subarray(0, n);
  }

  /** Write memory at the live edge (recorded as an input); refused in the past and in a replay. */
  writeMemory(where: { vp: number; vtl: number } | 'physical', addr: bigint, bytes: Uint8Array): void {
    const why = this.writeRefusal();
    if (why) throw new SessionError(why);
    const size = this.machine.mem.size;
    // Resolve every byte first: nothing is written unless all of it can be.
    const gpas: number[] = [];
    for (let k = 0; k < bytes.length; k++) {
      const a = BigInt.asUintN(64, addr + BigInt(k));
      const gpa = where === 'physical' ? (a < BigInt(size) ? Number(a) : null) : this.translate(where.vp, where.vtl, a);
      if (gpa === null || gpa >= size) throw new SessionError(`cannot write at 0x${a.toString(16)}: ${gpa === null ? 'not mapped' : 'not RAM'}`);
      gpas.push(gpa);
    }
    // One input per physically contiguous run.
    for (let k = 0; k < bytes.length;) {
      let e = k + 1;
      while (e < bytes.length && gpas[e] === gpas[e - 1] + 1) e++;
      this.write({ kind: 'mem-write', gpa: gpas[k], bytes: bytes.slice(k, e) });
      k = e;
    }
  }

  // ---- Events, bookmarks, checkpoints ---------------------------------------------------------------

  /** Events with icount in [from, to], in order, with their log indexes. */
  eventsBetween(from: number, to: number, filter?: EventFilter): { index: number; event: MachineEvent }[] {
    const match = filter ? matcher(filter) : () => true;
    const out: { index: number; event: MachineEvent }[] = [];
    for (let k = this.lowerBound(from); k < this.events.length && this.events[k].icount <= to; k++) if (match(this.events[k])) out.push({ index: k, event: this.events[k] });
    return out;
  }

  /** Up to `before` events before the current position and `after` from it on. */
  eventsAround(before: number, after: number): { index: number; event: MachineEvent }[] {
    const k = this.atEvent ? this.atEvent.index + 1 : this.lowerBound(this.position() + 1);
    const lo = Math.max(0, k - before), hi = Math.min(this.events.length, k + after);
    const out: { index: number; event: MachineEvent }[] = [];
    for (let i = lo; i < hi; i++) out.push({ index: i, event: this.events[i] });
    return out;
  }

  eventCount(): number { return this.events.length; }

  bookmark(name: string): { icount: number; vp: number } {
    if (!name.trim()) throw new SessionError('a bookmark needs a name');
    const b = { icount: this.position(), vp: this.focusVp };
    this.bookmarkList.set(name, b);
    this.writer?.bookmark(b.icount, b.vp, name);
    return b;
  }

  bookmarks(): { name: string; icount: number; vp: number }[] {
    return [...this.bookmarkList].map(([name, b]) => ({ name, ...b }));
  }

  gotoBookmark(name: string): StopEvent {
    const b = this.bookmarkList.get(name);
    if (!b) throw new SessionError(`no bookmark named '${name}'${this.bookmarkList.size ? ` (there are: ${[...this.bookmarkList.keys()].join(', ')})` : ''}`);
    const s = this.seek(b.icount);
    this.focusVp = b.vp;
    return { ...s, ...this.at(b.vp) };
  }

  /** Keep a checkpoint at the current position. */
  checkpoint(): number { this.timeline.checkpoint(); return this.position(); }

  /** Finish the trace file of a live session (it stays open and complete). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.writer) {
      // The trace ends at the live edge. Its final hash must describe the state a replay reaches there
      // by instruction count, which a stop at an event or a breakpoint need not be: arrive by count.
      if (this.frontier > 0) { this.timeline.seek(this.frontier - 1); this.timeline.seek(this.frontier); }
      this.writer.hash(this.frontier, this.machine.archHash());
      const end = this.endPosition();
      const stop = this.timeline.endReason();
      this.writer.finish({ final_icount: String(this.frontier), stop: JSON.stringify(end === this.frontier && stop ? stop : { kind: 'detached' }), exit_status: String(stop && stop.kind === 'debug-exit' ? stop.value : 0) });
    }
  }

  // ---- VSM state for debugger views (the DAP adapter's "VSM" scope) -------------------------------

  /**
   * What VSM looks like on VP `vp` now, as plain data (recorder/vsmstate.ts); the last entry into a
   * higher VTL comes from the event log. Null on a machine without the Hyper-V interface.
   */
  vsmState(vp: number): VsmState | null {
    if (!this.machine.vps[vp]) throw new SessionError(`no VP ${vp}`);
    let lastEntry: VsmState['lastEntry'] = null;
    for (let k = this.lowerBound(this.position() + 1) - 1; k >= 0; k--) {
      const e = this.events[k];
      if (e.kind === 'vtl-switch' && e.vp === vp && e.to > e.from) { lastEntry = { icount: e.icount, index: k, from: e.from, to: e.to, reason: e.reason }; break; }
    }
    return vsmStateOf(this.machine, vp, lastEntry, (v, vtl, a) => this.translate(v, vtl, a));
  }
}

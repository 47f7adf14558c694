// The state one debugger connection works on, over a Session: the thread model (one gdb thread per
// (VP, VTL) context), the threads selected by Hg and Hc, the breakpoints and watchpoints this client
// inserted, and the settings that outlive a connection (physical memory mode, event stops).

import { SessionError, type Session, type StopEvent, type EventFilter } from '../recorder/session.js';
import type { MachineEvent } from '../core/machine/events.js';
import type { ThreadSel, PointType } from './parse.js';

export interface Context { vp: number; vtl: number }

/** An event stop set with `monitor break-on`. */
export interface EventStop { label: string; match: (e: MachineEvent) => boolean }

/** Settings kept across connections (a reconnecting gdb finds them as it left them). */
export interface StubSettings {
  phys: boolean;
  eventStops: EventStop[];
  /** The serial output passed on so far ends at this event (index and instruction count). */
  serialIndex: number;
  serialIcount: number;
}

export function defaultSettings(): StubSettings {
  return { phys: false, eventStops: [], serialIndex: -1, serialIcount: 0 };
}

export interface StubHooks {
  /** Diagnostics for the person running the server (never sent to gdb). */
  log?(msg: string): void;
  /** Called after the machine moved, with the guest's new serial output (if any). */
  serial?(bytes: Buffer): void;
}

export class StubError extends Error {}

export class Stub {
  readonly session: Session;
  readonly settings: StubSettings;
  readonly hooks: StubHooks;
  /** Thread for g/G/p/P/m/M (null: the stopped thread). */
  general: Context | null = null;
  /** Thread for legacy c/s and bs/bc (null: the stopped thread). */
  resumeThread: Context | null = null;
  /** Address → inserted as Z0 / Z1 (both map to the session's one breakpoint set). */
  private readonly swBreaks = new Set<bigint>();
  private readonly hwBreaks = new Set<bigint>();
  /** `type,addr,len` → the session's watchpoint id. */
  private readonly watches = new Map<string, number>();

  constructor(session: Session, settings: StubSettings, hooks: StubHooks = {}) {
    this.session = session;
    this.settings = settings;
    this.hooks = hooks;
  }

  // ---- Threads ----------------------------------------------------------------------------------

  tid(c: Context): number { return c.vp * this.session.vtlCount + c.vtl + 1; }

  context(tid: number): Context | null {
    if (!Number.isSafeInteger(tid) || tid < 1) return null;
    const n = this.session.vtlCount;
    const c = { vp: Math.floor((tid - 1) / n), vtl: (tid - 1) % n };
    return this.session.hasContext(c.vp, c.vtl) ? c : null;
  }

  /** The thread gdb last saw stop: the focused VP in its active VTL. */
  stopped(): Context {
    const vp = this.session.focusedVp();
    return { vp, vtl: this.session.activeVtl(vp) };
  }

  /** A thread selection as a context: 0 and -1 mean the stopped thread. */
  select(t: ThreadSel): Context | null {
    return typeof t === 'number' ? this.context(t) : this.stopped();
  }

  generalContext(): Context {
    const g = this.general;
    return g && this.session.hasContext(g.vp, g.vtl) ? g : this.stopped();
  }

  resumeContext(): Context {
    const r = this.resumeThread;
    return r && this.session.hasContext(r.vp, r.vtl) ? r : this.stopped();
  }

  threadName(c: Context, active: boolean): string {
    return `vp${c.vp} VTL${c.vtl}${active ? ' (active)' : ''}`;
  }

  // ---- Breakpoints and watchpoints --------------------------------------------------------------

  insert(type: PointType, addr: bigint, len: number): void {
    if (type === 0 || type === 1) {
      (type === 0 ? this.swBreaks : this.hwBreaks).add(addr);
      this.session.setBreakpoint(addr);
      return;
    }
    const key = `${type},${addr},${len}`;
    if (this.watches.has(key)) return;
    const kind = type === 2 ? 'write' : type === 3 ? 'read' : 'access';
    const w = this.session.addWatchpoint({ addr, len, kind, physical: this.settings.phys });
    this.watches.set(key, w.id);
  }

  remove(type: PointType, addr: bigint, len: number): void {
    if (type === 0 || type === 1) {
      (type === 0 ? this.swBreaks : this.hwBreaks).delete(addr);
      if (!this.swBreaks.has(addr) && !this.hwBreaks.has(addr)) this.session.clearBreakpoint(addr);
      return;
    }
    const key = `${type},${addr},${len}`;
    const id = this.watches.get(key);
    if (id === undefined) return;
    this.watches.delete(key);
    // The session shares identical watchpoints: keep it while another key still uses the id.
    if (![...this.watches.values()].includes(id)) this.session.removeWatchpoint(id);
  }

  /** Forget everything this client inserted (it detached or went away). */
  removeAll(): void {
    for (const a of [...this.swBreaks, ...this.hwBreaks]) this.session.clearBreakpoint(a);
    this.swBreaks.clear();
    this.hwBreaks.clear();
    for (const id of new Set(this.watches.values())) this.session.removeWatchpoint(id);
    this.watches.clear();
  }

  // ---- Stops ------------------------------------------------------------------------------------

  /** The event filter for resumes: every `monitor break-on` condition. */
  eventFilter(): EventFilter | undefined {
    const stops = this.settings.eventStops;
    if (!stops.length) return undefined;
    return (e: MachineEvent) => stops.some((s) => s.match(e));
  }

  /** The stop reply for a stop (spec/interfaces.md A.5.2): never W/X, the end of history is replaylog. */
  stopReply(s: StopEvent): string {
    // gdb takes the thread of a stop reply as the stub's new general thread (remote.c,
    // record_currthread) and reads its registers next without an Hg: follow it.
    this.general = null;
    this.resumeThread = null;
    const thread = `thread:${this.tid(s).toString(16)};`;
    switch (s.reason) {
      case 'interrupted': return `T02${thread}`;
      case 'breakpoint': return `T05${thread}${this.hwBreaks.has(s.addr) && !this.swBreaks.has(s.addr) ? 'hwbreak' : 'swbreak'}:;`;
      case 'watchpoint': {
        const kind = s.watch.kind === 'write' ? 'watch' : s.watch.kind === 'read' ? 'rwatch' : 'awatch';
        return `T05${thread}${kind}:${s.addr.toString(16)};`;
      }
      case 'start-of-recording': return `T05${thread}replaylog:begin;`;
      case 'end-of-recording': return `T05${thread}replaylog:end;`;
      default: return `T05${thread}`;
    }
  }

  /** Pass on the guest's serial output produced since the last call. */
  flushSerial(): void {
    if (!this.hooks.serial) return;
    const set = this.settings;
    const news = this.session.eventsBetween(set.serialIcount, Number.MAX_SAFE_INTEGER, { kinds: ['serial'] }).filter((x) => x.index > set.serialIndex);
    if (!news.length) return;
    set.serialIndex = news[news.length - 1].index;
    set.serialIcount = news[news.length - 1].event.icount;
    this.hooks.serial(Buffer.from(news.map((x) => (x.event as { byte: number }).byte)));
  }

  /** Messages of session errors are for people; anything else is a bug worth a log line. */
  describe(e: unknown): string {
    if (e instanceof SessionError || e instanceof StubError) return e.message;
    this.hooks.log?.(`internal error: ${e instanceof Error ? e.stack : String(e)}`);
    return `internal error: ${e instanceof Error ? e.message : String(e)}`;
  }
}

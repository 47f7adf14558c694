// The Debug Adapter: DAP requests translated to the session API (recorder/session.ts) and nothing
// else. One DAP thread per (VP, VTL) as in the GDB stub: id = vp * vtlCount + vtl + 1. Memory
// references are plain `0x…` linear addresses, read through the page tables of the thread the client
// last looked at (or stopped on). The custom requests are documented in dap/README.md.

import {
  Breakpoint, Handles, InitializedEvent, InvalidatedEvent, LoggingDebugSession, OutputEvent, ProgressEndEvent,
  ProgressStartEvent, ProgressUpdateEvent, Scope, Source, StackFrame, StoppedEvent, TerminatedEvent, Thread, Event,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { basename } from 'node:path';
import { REGISTERS, type RegisterDef } from '../recorder/registers.js';
import { SessionError, type EventFilter, type ResumeRequest, type Session, type StopEvent } from '../recorder/session.js';
import type { MachineEvent } from '../core/machine/events.js';
import { disassemble } from './disasm.js';
import { EVENT_GROUPS, describeEvent, entryReasonName, eventJson, messageTypeName, protectionName, vtlMask } from './describe.js';
import { ExprError, evalExpr, formatValue, parseExpr, type ExprEnv } from './expr.js';
import { LaunchError, openTarget, type LaunchArgs } from './launch.js';
import { Stepper } from './stepping.js';
import { resume } from './resume.js';
import type { GuestSymbols } from './symbols.js';

type VarRef =
  | { kind: 'regs'; vp: number; vtl: number; group: 'top' | RegisterDef['group'] | 'vsmrr' }
  | { kind: 'vsm'; vp: number }
  | { kind: 'vsm-vtl'; vp: number; vtl: number }
  | { kind: 'events' };

interface FrameInfo { vp: number; vtl: number; pc: bigint; index: number }

type BpKind = 'source' | 'function' | 'instruction';

const hex = (v: bigint | number, digits = 0) => `0x${v.toString(16).padStart(digits, '0')}`;
const REG_NAMES = new Set(REGISTERS.map((r) => r.name));
const POINTER_REGS = new Set(['rip', 'rsp', 'rbp']);

/** Parse a `0x…` memory reference plus an optional offset. */
function parseAddress(ref: string, offset = 0): bigint {
  if (!/^\s*(0x[0-9a-f]+|\d+)\s*$/i.test(ref)) throw new SessionError(`'${ref}' is not a memory reference: use a 0x… address`);
  return BigInt.asUintN(64, BigInt(ref.trim()) + BigInt(offset));
}

export class VsmrrDebugSession extends LoggingDebugSession {
  private session: Session | null = null;
  private symbols: GuestSymbols | null = null;
  private stopOnEntry = true;
  private configured = false;
  private launched = false;
  private clientProgress = false;
  private clientInvalidated = false;
  /** The thread the views show: the last stop's, or the one the client last asked about. */
  private current = { vp: 0, vtl: 0 };
  private lastStop: StopEvent | null = null;
  private running: { cancelled: boolean; progressId: string | null; requestSeq: number } | null = null;
  private progressSeq = 0;
  private vars = new Handles<VarRef>();
  private frames = new Map<number, FrameInfo>();
  private nextFrameId = 1;
  /** The user's breakpoints by kind: address -> DAP breakpoint id. */
  private readonly bps: Record<BpKind, Map<bigint, number>> = { source: new Map(), function: new Map(), instruction: new Map() };
  private readonly sourceBps = new Map<string, { line: number; addr: bigint | null; id: number }[]>();
  private functionBpSpecs: DebugProtocol.FunctionBreakpoint[] = [];
  private nextBpId = 1;
  /** Session watchpoint id -> DAP data breakpoint id. */
  private readonly dataBps = new Map<number, number>();
  /** Serial output already shown (event log index). */
  private serialShown = -1;
  private readonly userAddrs = new Set<bigint>();

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  // ---- Helpers ------------------------------------------------------------------------------------

  private get vtlCount(): number { return this.session?.vtlCount ?? 2; }
  threadId(vp: number, vtl: number): number { return vp * this.vtlCount + vtl + 1; }
  private thread(id: number): { vp: number; vtl: number } {
    const n = this.vtlCount;
    return { vp: Math.floor((id - 1) / n), vtl: (id - 1) % n };
  }

  private need(): Session {
    if (!this.session) throw new SessionError('nothing is launched yet');
    if (this.running) throw new SessionError('the machine is running: pause it first');
    return this.session;
  }

  private fail(response: DebugProtocol.Response, e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    if (!(e instanceof SessionError || e instanceof ExprError || e instanceof LaunchError)) this.log(`internal error: ${(e as Error)?.stack ?? msg}`);
    this.sendErrorResponse(response, { id: 1, format: msg.replace(/[{}]/g, ''), showUser: true });
  }

  private log(text: string): void { this.sendEvent(new OutputEvent(`${text}\n`, 'console')); }

  /** Run a request handler, turning thrown errors into error responses. */
  private guard<R extends DebugProtocol.Response>(response: R, f: () => void | Promise<void>): void {
    try {
      const r = f();
      if (r instanceof Promise) r.catch((e) => this.fail(response, e));
    } catch (e) { this.fail(response, e); }
  }

  private regValue(vp: number, vtl: number, name: string): bigint | null {
    const s = this.session!;
    if (!s.hasContext(vp, vtl)) return null;
    return s.readRegister(vp, vtl, name);
  }

  /** Instruction-set width of (vp, vtl) from CR0.PE and EFER.LMA. */
  private bitness(vp: number, vtl: number): 16 | 32 | 64 {
    const cr0 = this.regValue(vp, vtl, 'cr0') ?? 0n, efer = this.regValue(vp, vtl, 'efer') ?? 0n;
    return efer & 0x400n ? 64 : cr0 & 1n ? 32 : 16;
  }

  // ---- Initialize and launch ----------------------------------------------------------------------

  protected override initializeRequest(response: DebugProtocol.InitializeResponse, args: DebugProtocol.InitializeRequestArguments): void {
    this.clientProgress = args.supportsProgressReporting === true;
    this.clientInvalidated = args.supportsInvalidatedEvent === true;
    response.body = {
      ...response.body,
      supportsConfigurationDoneRequest: true,
      supportsStepBack: true,
      supportsSteppingGranularity: true,
      supportsDisassembleRequest: true,
      supportsReadMemoryRequest: true,
      supportsWriteMemoryRequest: true,
      supportsInstructionBreakpoints: true,
      supportsFunctionBreakpoints: true,
      supportsDataBreakpoints: true,
      supportsDataBreakpointBytes: true,
      supportsEvaluateForHovers: true,
      supportsCancelRequest: true,
      supportsTerminateRequest: true,
      supportsValueFormattingOptions: false,
      supportsSetVariable: false,
      supportsRestartFrame: false,
      supportsGotoTargetsRequest: false,
      supportsSingleThreadExecutionRequests: false,
      exceptionBreakpointFilters: [],
    };
    this.sendResponse(response);
  }

  protected override launchRequest(response: DebugProtocol.LaunchResponse, args: DebugProtocol.LaunchRequestArguments): void {
    const a = args as LaunchArgs;
    try {
      if (this.launched) throw new LaunchError('this debug session has already launched');
      const t = openTarget(a);
      this.session = t.session;
      this.symbols = t.symbols;
      this.stopOnEntry = a.stopOnEntry !== false;
      this.launched = true;
      this.log(`vsmrr: ${t.description}`);
      this.log(`vsmrr: ${t.symbolsNote}`);
    } catch (e) {
      this.sendErrorResponse(response, { id: 2, format: `vsmrr: ${(e as Error).message}`.replace(/[{}]/g, ''), showUser: true });
      // Nothing to debug: end the session so that the client does not wait for a stop.
      this.sendEvent(new TerminatedEvent());
      return;
    }
    this.sendResponse(response);
    // Breakpoints can be resolved now that the symbols are loaded.
    this.sendEvent(new InitializedEvent());
    if (this.configured) this.beginExecution();
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.sendResponse(response);
    this.configured = true;
    if (this.launched) this.beginExecution();
  }

  private started = false;
  private beginExecution(): void {
    if (this.started || !this.session) return;
    this.started = true;
    const s = this.session;
    if (this.stopOnEntry) {
      this.reportStop({ reason: 'position', icount: s.position(), vp: 0, vtl: s.activeVtl(0) }, 'entry', 'start of the machine');
    } else {
      void this.run({ direction: 'forward' }, 'Running', -1);
    }
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    if (this.running) this.running.cancelled = true;
    try { this.session?.close(); } catch (e) { this.log(`vsmrr: closing the session: ${(e as Error).message}`); }
    this.sendResponse(response);
    this.shutdown();
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    if (this.running) this.running.cancelled = true;
    try { this.session?.close(); } catch { /* reported on disconnect */ }
    this.sendResponse(response);
    this.sendEvent(new TerminatedEvent());
  }

  // ---- Running ------------------------------------------------------------------------------------

  /** Resume the session; the stop is reported when it comes. */
  private async run(req: ResumeRequest, title: string, requestSeq: number): Promise<void> {
    const s = this.session!;
    const token = { cancelled: false, progressId: null as string | null, requestSeq };
    this.running = token;
    let progressStarted = false;
    const progressId = `vsmrr-${++this.progressSeq}`;
    if (this.clientProgress) {
      const ev = new ProgressStartEvent(progressId, title, 'starting') as DebugProtocol.ProgressStartEvent;
      ev.body.cancellable = true;
      this.sendEvent(ev);
      token.progressId = progressId;
      progressStarted = true;
    }
    let stop: StopEvent;
    try {
      stop = await resume(s, req, {
        cancelled: () => token.cancelled,
        progress: (p) => {
          this.flushSerial();
          if (!progressStarted) return;
          const ev = new ProgressUpdateEvent(progressId, p.message) as DebugProtocol.ProgressUpdateEvent;
          if (p.total) ev.body.percentage = Math.max(0, Math.min(100, Math.round((100 * p.done) / p.total)));
          this.sendEvent(ev);
        },
      });
    } catch (e) {
      this.running = null;
      if (progressStarted) this.sendEvent(new ProgressEndEvent(progressId, (e as Error).message));
      this.log(`vsmrr: ${(e as Error).message}`);
      const at = this.lastStop ?? { reason: 'position', icount: s.position(), vp: this.current.vp, vtl: this.current.vtl };
      this.reportStop({ ...at, reason: 'position', icount: s.position() } as StopEvent, 'pause', (e as Error).message);
      return;
    }
    this.running = null;
    if (progressStarted) this.sendEvent(new ProgressEndEvent(progressId, stop.reason === 'interrupted' ? 'cancelled' : 'done'));
    this.reportStop(stop);
  }

  /** Run an async stepping operation with the same bookkeeping as run(). */
  private async runOp(op: (cancelled: () => boolean) => Promise<StopEvent>, requestSeq: number): Promise<void> {
    const token = { cancelled: false, progressId: null as string | null, requestSeq };
    this.running = token;
    let stop: StopEvent;
    try {
      stop = await op(() => token.cancelled);
    } catch (e) {
      this.running = null;
      this.log(`vsmrr: ${(e as Error).message}`);
      const s = this.session!;
      this.reportStop({ reason: 'position', icount: s.position(), vp: this.current.vp, vtl: s.activeVtl(this.current.vp) }, 'pause', (e as Error).message);
      return;
    }
    this.running = null;
    this.reportStop(stop);
  }

  private stepper(cancelled: () => boolean): Stepper {
    return new Stepper({ session: this.session!, symbols: this.symbols, breakpoints: this.userAddrs, cancelled });
  }

  /** Send the stopped event (and serial output, the position event) for a stop. */
  private reportStop(stop: StopEvent, reasonOverride?: string, description?: string): void {
    const s = this.session!;
    this.lastStop = stop;
    this.current = { vp: stop.vp, vtl: stop.vtl };
    s.focus(stop.vp);
    this.vars.reset();
    this.frames.clear();
    this.flushSerial();
    let reason = reasonOverride ?? 'step';
    let text = description;
    const ids: number[] = [];
    if (!reasonOverride) {
      switch (stop.reason) {
        case 'step': reason = 'step'; break;
        case 'breakpoint': {
          for (const k of ['source', 'function', 'instruction'] as const) {
            const id = this.bps[k].get(stop.addr);
            if (id !== undefined) { ids.push(id); if (ids.length === 1) reason = k === 'source' ? 'breakpoint' : `${k} breakpoint`; }
          }
          if (!ids.length) reason = 'breakpoint';
          text = `breakpoint at ${hex(stop.addr)}`;
          break;
        }
        case 'watchpoint': {
          reason = 'data breakpoint';
          const id = this.dataBps.get(stop.watch.id);
          if (id !== undefined) ids.push(id);
          text = `${stop.access} of ${hex(stop.addr)} (watching ${stop.watch.len} bytes)`;
          break;
        }
        case 'event': {
          const k = stop.event.kind;
          reason = k === 'vtl-switch' ? 'vtl transition' : k === 'intercept' ? 'intercept' : k === 'interrupt' || k === 'vina' ? 'interrupt' : 'event';
          text = `event #${stop.index}: ${describeEvent(stop.event)}`;
          break;
        }
        case 'start-of-recording': reason = 'start of recording'; text = 'the start of the recording: there is no earlier history'; break;
        case 'end-of-recording': {
          reason = 'end of recording';
          const d = stop.detail;
          text = d ? `the machine stopped: ${d.kind}${d.kind === 'debug-exit' ? ` (value ${d.value})` : ''}` : 'the end of the recording';
          break;
        }
        case 'position': reason = 'goto'; text = `instruction ${stop.icount}`; break;
        case 'interrupted': reason = 'pause'; text = 'paused'; break;
      }
    }
    const ev = new StoppedEvent(reason, this.threadId(stop.vp, stop.vtl)) as DebugProtocol.StoppedEvent;
    ev.body.allThreadsStopped = true;
    if (text) ev.body.description = text;
    if (text) ev.body.text = text;
    if (ids.length) ev.body.hitBreakpointIds = ids;
    this.sendEvent(ev);
    this.sendEvent(new Event('vsmrr/position', this.positionBody()));
  }

  private positionBody() {
    const s = this.session!;
    return {
      icount: s.position(), vp: this.current.vp, vtl: this.current.vtl, threadId: this.threadId(this.current.vp, this.current.vtl),
      livePosition: s.livePosition(), endPosition: s.endPosition(), kind: s.kind,
    };
  }

  /** Serial output not shown yet (only the first pass over history produces it). */
  private flushSerial(): void {
    const s = this.session;
    if (!s) return;
    const n = s.eventCount();
    if (n - 1 <= this.serialShown) return;
    const all = s.eventsBetween(0, Number.MAX_SAFE_INTEGER, { kinds: ['serial'] }).filter((x) => x.index > this.serialShown);
    this.serialShown = n - 1;
    if (!all.length) return;
    const text = Buffer.from(all.map((x) => (x.event as { byte: number }).byte)).toString('latin1');
    this.sendEvent(new OutputEvent(text, 'stdout'));
  }

  private vpOf(threadId: number | undefined): number {
    if (threadId === undefined) return this.current.vp;
    const t = this.thread(threadId);
    if (!this.session?.hasContext(t.vp, 0)) throw new SessionError(`no thread ${threadId}`);
    return t.vp;
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse, _args: DebugProtocol.ContinueArguments, request?: DebugProtocol.Request): void {
    this.guard(response, () => {
      this.need();
      response.body = { allThreadsContinued: true };
      this.sendResponse(response);
      void this.run({ direction: 'forward' }, 'Running forward', request?.seq ?? -1);
    });
  }

  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse, _args: DebugProtocol.ReverseContinueArguments, request?: DebugProtocol.Request): void {
    this.guard(response, () => {
      this.need();
      this.sendResponse(response);
      void this.run({ direction: 'backward' }, 'Running backward', request?.seq ?? -1);
    });
  }

  private lineGranularity(g: DebugProtocol.SteppingGranularity | undefined): boolean {
    return g !== 'instruction' && !!this.symbols?.hasLines;
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments, request?: DebugProtocol.Request): void {
    this.step(response, args.threadId, args.granularity, 'over', request);
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments, request?: DebugProtocol.Request): void {
    this.step(response, args.threadId, args.granularity, 'into', request);
  }

  private step(response: DebugProtocol.Response, threadId: number, g: DebugProtocol.SteppingGranularity | undefined, mode: 'over' | 'into', request?: DebugProtocol.Request): void {
    this.guard(response, () => {
      this.need();
      const vp = this.vpOf(threadId);
      this.sendResponse(response);
      const seq = request?.seq ?? -1;
      const line = this.lineGranularity(g);
      if (!line && mode === 'into') { void this.run({ direction: 'forward', step: vp }, 'Step', seq); return; }
      void this.runOp(async (cancelled) => {
        const st = this.stepper(cancelled);
        // Instruction granularity `next` steps over a call instruction.
        if (!line || !st.hasLine(vp)) return mode === 'over' ? this.stepInstructionOver(vp, cancelled) : this.session!.resume({ direction: 'forward', step: vp }, { cancelled });
        return st.stepLine(vp, mode);
      }, seq);
    });
  }

  /** One instruction, running a call (or a VTL call) to its return. */
  private async stepInstructionOver(vp: number, cancelled: () => boolean): Promise<StopEvent> {
    const s = this.session!;
    const vtl = s.activeVtl(vp);
    const rip = s.readRegister(vp, vtl, 'rip');
    const bytes = s.readMemory({ vp, vtl }, rip, 16);
    const insn = disassemble(bytes, rip, this.bitness(vp, vtl))[0];
    if (!insn || !/^(call|vmcall|vmmcall)\b/.test(insn.text)) return s.resume({ direction: 'forward', step: vp }, { cancelled });
    const next = rip + BigInt(insn.len);
    const temporary = !this.userAddrs.has(next);
    const rsp = s.readRegister(vp, vtl, 'rsp');
    if (temporary) s.setBreakpoint(next);
    try {
      for (;;) {
        const st = await resume(s, { direction: 'forward' }, { cancelled });
        if (st.reason === 'breakpoint' && st.addr === next && st.vp === vp && s.activeVtl(vp) === vtl && s.readRegister(vp, vtl, 'rsp') >= rsp) return { ...st, reason: 'step' } as StopEvent;
        if (st.reason === 'breakpoint' && !this.userAddrs.has(st.addr)) continue;
        return st;
      }
    } finally { if (temporary) s.clearBreakpoint(next); }
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments, request?: DebugProtocol.Request): void {
    this.guard(response, () => {
      this.need();
      const vp = this.vpOf(args.threadId);
      this.sendResponse(response);
      void this.runOp((cancelled) => this.stepper(cancelled).stepOut(vp), request?.seq ?? -1);
    });
  }

  protected override stepBackRequest(response: DebugProtocol.StepBackResponse, args: DebugProtocol.StepBackArguments, request?: DebugProtocol.Request): void {
    this.guard(response, () => {
      this.need();
      const vp = this.vpOf(args.threadId);
      this.sendResponse(response);
      const seq = request?.seq ?? -1;
      if (!this.lineGranularity(args.granularity)) { void this.run({ direction: 'backward', step: vp }, 'Step back', seq); return; }
      void this.runOp((cancelled) => this.stepper(cancelled).stepBackLine(vp), seq);
    });
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    if (this.running) this.running.cancelled = true;
    this.sendResponse(response);
  }

  protected override cancelRequest(response: DebugProtocol.CancelResponse, args: DebugProtocol.CancelArguments): void {
    const r = this.running;
    if (r && ((args.progressId !== undefined && args.progressId === r.progressId) || (args.requestId !== undefined && args.requestId === r.requestSeq))) r.cancelled = true;
    this.sendResponse(response);
  }

  // ---- Threads, stack, scopes, variables ------------------------------------------------------------

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    const s = this.session;
    const threads: Thread[] = [];
    if (s) {
      for (const t of s.threads()) {
        const extra = [t.active ? 'active' : '', t.state !== 'running' ? t.state : ''].filter(Boolean).join(', ');
        threads.push(new Thread(this.threadId(t.vp, t.vtl), `VP${t.vp} VTL${t.vtl}${extra ? ` (${extra})` : ''}`));
      }
    }
    if (!threads.length) threads.push(new Thread(1, 'VP0 VTL0'));
    response.body = { threads };
    this.sendResponse(response);
  }

  private frameName(pc: bigint): string {
    const f = this.symbols?.functionAt(pc);
    return f ? (pc === f.start ? f.name : `${f.name}+${hex(pc - f.start)}`) : hex(pc, 16);
  }

  /** Frame PCs from frame pointers (or the return address at function entry), checked against the symbols. */
  private unwind(vp: number, vtl: number): bigint[] {
    const s = this.session!;
    const read = (a: bigint) => { const b = s.readMemory({ vp, vtl }, a, 8); return b.length < 8 ? null : Buffer.from(b).readBigUInt64LE(); };
    const rip = s.readRegister(vp, vtl, 'rip'), rsp = s.readRegister(vp, vtl, 'rsp');
    const pcs = [rip];
    const sym = this.symbols;
    if (!sym) return pcs;
    const fn = sym.functionAt(rip);
    let rbp = s.readRegister(vp, vtl, 'rbp');
    let floor = rsp;
    if (fn && rip === fn.start) {
      const ra = read(rsp);
      if (ra !== null && sym.functionAt(ra)) { pcs.push(ra); floor = rsp + 8n; }
    }
    for (let k = 0; k < 64; k++) {
      if (rbp < floor || rbp & 7n || rbp - floor > 0x100000n) break;
      const ra = read(rbp + 8n), next = read(rbp);
      if (ra === null || next === null || !sym.functionAt(ra)) break;
      pcs.push(ra);
      floor = rbp + 16n;
      rbp = next;
    }
    return pcs;
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): void {
    this.guard(response, () => {
      const s = this.need();
      const { vp, vtl } = this.thread(args.threadId);
      if (!s.hasContext(vp, vtl)) throw new SessionError(`VP${vp} has no VTL${vtl}`);
      this.current = { vp, vtl };
      const pcs = this.unwind(vp, vtl);
      const start = args.startFrame ?? 0;
      const count = args.levels ? Math.min(args.levels, pcs.length - start) : pcs.length - start;
      const frames: StackFrame[] = [];
      for (let i = start; i < start + count; i++) {
        // A return address points after the call: look up the call's line.
        const pc = pcs[i];
        const lookup = i === 0 ? pc : pc - 1n;
        const id = this.nextFrameId++;
        this.frames.set(id, { vp, vtl, pc, index: i });
        const line = this.symbols?.lineAt(lookup) ?? null;
        const f = new StackFrame(id, `${this.frameName(pc)} [VTL${vtl}]`, line ? new Source(basename(line.file), line.file) : undefined, line?.line ?? 0, line?.column || 1) as DebugProtocol.StackFrame;
        f.instructionPointerReference = hex(pc);
        if (!line) f.presentationHint = 'subtle';
        frames.push(f as StackFrame);
      }
      response.body = { stackFrames: frames, totalFrames: pcs.length };
      this.sendResponse(response);
    });
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    this.guard(response, () => {
      this.need();
      const f = this.frames.get(args.frameId) ?? { vp: this.current.vp, vtl: this.current.vtl, pc: 0n, index: 0 };
      const scopes: DebugProtocol.Scope[] = [];
      const reg = new Scope('Registers', this.vars.create({ kind: 'regs', vp: f.vp, vtl: f.vtl, group: 'top' }), false) as DebugProtocol.Scope;
      reg.presentationHint = 'registers';
      scopes.push(reg);
      for (let v = 0; v < this.vtlCount; v++) {
        const sc = new Scope(`VTL${v} registers`, this.vars.create({ kind: 'regs', vp: f.vp, vtl: v, group: 'top' }), true) as DebugProtocol.Scope;
        sc.presentationHint = 'registers';
        scopes.push(sc);
      }
      scopes.push(new Scope('VSM', this.vars.create({ kind: 'vsm', vp: f.vp }), false));
      scopes.push(new Scope('Events', this.vars.create({ kind: 'events' }), true));
      response.body = { scopes };
      this.sendResponse(response);
    });
  }

  private registerVar(r: RegisterDef, v: bigint): DebugProtocol.Variable {
    const digits = Math.ceil(r.bits / 4);
    let value = hex(v, digits);
    if (r.name === 'eflags') {
      const flags = [[0, 'CF'], [2, 'PF'], [4, 'AF'], [6, 'ZF'], [7, 'SF'], [8, 'TF'], [9, 'IF'], [10, 'DF'], [11, 'OF']] as const;
      value += ` [${flags.filter(([b]) => (v >> BigInt(b)) & 1n).map(([, n]) => n).join(' ')}]`;
    }
    if (r.name === 'vtl' || r.name === 'icount') value = v.toString();
    const out: DebugProtocol.Variable = { name: r.name, value, type: `u${r.bits}`, variablesReference: 0 };
    if (POINTER_REGS.has(r.name)) out.memoryReference = hex(v);
    return out;
  }

  private variables(ref: VarRef): DebugProtocol.Variable[] {
    const s = this.session!;
    const v = (name: string, value: string, child?: VarRef): DebugProtocol.Variable => ({ name, value, variablesReference: child ? this.vars.create(child) : 0 });
    switch (ref.kind) {
      case 'regs': {
        if (!s.hasContext(ref.vp, ref.vtl)) return [v(`VTL${ref.vtl}`, `not enabled on VP${ref.vp}`)];
        const values = s.readRegisters(ref.vp, ref.vtl);
        const pick = (g: VarRef & { kind: 'regs' }) => REGISTERS.map((r, i) => ({ r, i })).filter(({ r }) =>
          g.group === 'vsmrr' ? r.feature !== 'org.gnu.gdb.i386.core' : r.feature === 'org.gnu.gdb.i386.core' && r.group === g.group);
        if (ref.group === 'top') {
          const out = pick({ ...ref, group: 'general' }).map(({ r, i }) => this.registerVar(r, values[i]));
          for (const [g, label] of [['system', 'System'], ['float', 'x87'], ['vector', 'SSE'], ['vsmrr', 'vsmrr']] as const) {
            out.push(v(label, '', { kind: 'regs', vp: ref.vp, vtl: ref.vtl, group: g }));
          }
          return out;
        }
        return pick(ref).map(({ r, i }) => this.registerVar(r, values[i]));
      }
      case 'vsm': {
        const st = s.vsmState(ref.vp);
        if (!st) return [v('hypervisor', 'off (the machine runs without the Hyper-V interface)')];
        const out = [
          v('active VTL', `VTL${st.activeVtl}`),
          v('enabled VTLs (partition)', vtlMask(st.partitionEnabledVtls)),
          v('enabled VTLs (this VP)', vtlMask(st.vpEnabledVtls)),
          v('entry reason', st.lastEntry ? `${entryReasonName(st.lastEntry.reason)}: VTL${st.lastEntry.from} → VTL${st.lastEntry.to} at instruction ${st.lastEntry.icount} (event #${st.lastEntry.index})` : 'no VTL entry yet'),
          v('RIP', `${hex(st.rip)}${st.ripGpa !== null ? ` (GPA ${hex(st.ripGpa)})` : ' (not mapped)'}`),
        ];
        for (const p of st.protections) out.push(v(`VTL${p.vtl} protection of the page under RIP`, protectionName(p.mask)));
        const slot = st.vtls.find((x) => x.vtl > 0 && x.interceptSlot && x.interceptSlot.type !== 0);
        out.push(v('pending intercept', slot ? `${messageTypeName(slot.interceptSlot!.type)} in VTL${slot.vtl}'s SINT0 slot${slot.interceptSlot!.messagePending ? ' (more pending)' : ''}` : 'none'));
        out.push(v('CR intercept control', hex(st.crInterceptControl)));
        for (const x of st.vtls) out.push(v(`VTL${x.vtl} VP assist page`, x.vpAssist ? `GPA ${hex(x.vpAssist.gpa)}, entry reason ${entryReasonName(x.vpAssist.entryReason)}` : (x.enabled ? 'not enabled' : 'VTL not enabled'), { kind: 'vsm-vtl', vp: ref.vp, vtl: x.vtl }));
        return out;
      }
      case 'vsm-vtl': {
        const st = s.vsmState(ref.vp);
        const x = st?.vtls[ref.vtl];
        if (!x) return [];
        const out = [v('enabled', String(x.enabled)), v('context exists', String(x.hasContext))];
        if (x.vpAssist) {
          out.push(v('vp assist page', hex(x.vpAssist.gpa)), v('vtl_control.entry_reason', entryReasonName(x.vpAssist.entryReason)),
            v('vtl_control.vina_asserted', String(x.vpAssist.vinaAsserted)), v('vtl_control.vtl_return_rax', hex(x.vpAssist.returnRax, 16)),
            v('vtl_control.vtl_return_rcx', hex(x.vpAssist.returnRcx, 16)));
        }
        if (x.interceptSlot) out.push(v('SINT0 message slot', `${hex(x.interceptSlot.gpa)}: ${messageTypeName(x.interceptSlot.type)}${x.interceptSlot.messagePending ? ' (message pending)' : ''}`));
        return out;
      }
      case 'events': {
        const here = s.position();
        return s.eventsAround(10, 10).map(({ index, event }) =>
          v(`#${index}`, `${event.icount > here ? '(later) ' : ''}@${event.icount} VP${event.vp}: ${describeEvent(event)}`));
      }
    }
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    this.guard(response, () => {
      this.need();
      const ref = this.vars.get(args.variablesReference);
      response.body = { variables: ref ? this.variables(ref) : [] };
      this.sendResponse(response);
    });
  }

  // ---- Evaluate -------------------------------------------------------------------------------------

  private exprEnv(vp: number, vtl: number): ExprEnv {
    const s = this.session!;
    return {
      register: (name, v) => this.regValue(vp, v ?? vtl, name),
      symbol: (name) => this.symbols?.functionAddress(name) ?? null,
      read: (addr, len) => s.readMemory({ vp, vtl }, addr, len),
    };
  }

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    this.guard(response, () => {
      this.need();
      const f = args.frameId !== undefined ? this.frames.get(args.frameId) : undefined;
      const { vp, vtl } = f ?? this.current;
      const e = parseExpr(args.expression, (n) => REG_NAMES.has(n));
      const val = evalExpr(e, this.exprEnv(vp, vtl));
      response.body = { result: formatValue(val), type: val.type, variablesReference: 0 };
      if (val.address !== undefined) response.body.memoryReference = hex(val.address);
      else if (val.type === 'address' || POINTER_REGS.has(args.expression.replace(/^\$/, ''))) response.body.memoryReference = hex(val.value);
      this.sendResponse(response);
    });
  }

  // ---- Breakpoints ------------------------------------------------------------------------------------

  /** Make the session's breakpoint set the union of the user's. */
  private syncBreakpoints(): void {
    const want = new Set<bigint>();
    for (const m of Object.values(this.bps)) for (const a of m.keys()) want.add(a);
    const s = this.session;
    if (s) {
      for (const a of this.userAddrs) if (!want.has(a)) s.clearBreakpoint(a);
      for (const a of want) if (!this.userAddrs.has(a)) s.setBreakpoint(a);
    }
    this.userAddrs.clear();
    for (const a of want) this.userAddrs.add(a);
  }

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    this.guard(response, () => {
      const path = args.source.path ?? args.source.name ?? '';
      const lines = args.breakpoints?.map((b) => b.line) ?? args.lines ?? [];
      // Drop this file's old breakpoints.
      for (const old of this.sourceBps.get(path) ?? []) if (old.addr !== null && this.bps.source.get(old.addr) === old.id) this.bps.source.delete(old.addr);
      const now: { line: number; addr: bigint | null; id: number }[] = [];
      const out: DebugProtocol.Breakpoint[] = [];
      for (const want of lines) {
        const id = this.nextBpId++;
        let found: { line: number; addrs: bigint[] } | null = null;
        // A line without code: the next line that has some (as gdb moves breakpoints).
        if (this.symbols?.hasLines) {
          for (let l = want; l < want + 20 && !found; l++) { const a = this.symbols.addressesForLine(path, l); if (a.length) found = { line: l, addrs: a }; }
        }
        const bp = new Breakpoint(!!found, found?.line ?? want, undefined, new Source(basename(path), path)) as DebugProtocol.Breakpoint;
        bp.id = id;
        if (found) {
          for (const a of found.addrs) this.bps.source.set(a, id);
          bp.instructionReference = hex(found.addrs[0]);
          now.push({ line: found.line, addr: found.addrs[0], id });
          for (const a of found.addrs.slice(1)) now.push({ line: found.line, addr: a, id });
        } else {
          bp.message = this.symbols?.hasLines ? `no code for line ${want} of ${basename(path)} in the symbols` : 'no line tables loaded (see the "symbols" launch attribute)';
          now.push({ line: want, addr: null, id });
        }
        out.push(bp);
      }
      this.sourceBps.set(path, now);
      this.syncBreakpoints();
      response.body = { breakpoints: out };
      this.sendResponse(response);
    });
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    this.guard(response, () => {
      this.bps.function.clear();
      this.functionBpSpecs = args.breakpoints;
      const out: DebugProtocol.Breakpoint[] = [];
      for (const b of args.breakpoints) {
        const id = this.nextBpId++;
        const name = b.name.trim().replace(/^\*/, '');
        const addr = /^(0x[0-9a-f]+)$/i.test(name) ? BigInt(name) : this.symbols?.functionAddress(name) ?? null;
        const bp = new Breakpoint(addr !== null) as DebugProtocol.Breakpoint;
        bp.id = id;
        if (addr !== null) {
          this.bps.function.set(addr, id);
          bp.instructionReference = hex(addr);
          const line = this.symbols?.lineAt(addr);
          if (line) { bp.source = new Source(basename(line.file), line.file); bp.line = line.line; }
        } else {
          bp.message = this.symbols ? `no function named '${name}' in the symbols` : 'no symbols loaded: use an address such as 0x100000';
        }
        out.push(bp);
      }
      this.syncBreakpoints();
      response.body = { breakpoints: out };
      this.sendResponse(response);
    });
  }

  protected override setInstructionBreakpointsRequest(response: DebugProtocol.SetInstructionBreakpointsResponse, args: DebugProtocol.SetInstructionBreakpointsArguments): void {
    this.guard(response, () => {
      this.bps.instruction.clear();
      const out: DebugProtocol.Breakpoint[] = [];
      for (const b of args.breakpoints) {
        const id = this.nextBpId++;
        const addr = parseAddress(b.instructionReference, b.offset ?? 0);
        this.bps.instruction.set(addr, id);
        const bp = new Breakpoint(true) as DebugProtocol.Breakpoint;
        bp.id = id;
        bp.instructionReference = hex(addr);
        out.push(bp);
      }
      this.syncBreakpoints();
      response.body = { breakpoints: out };
      this.sendResponse(response);
    });
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse): void {
    this.sendResponse(response);
  }

  protected override dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): void {
    this.guard(response, () => {
      const accessTypes: DebugProtocol.DataBreakpointAccessType[] = ['read', 'write', 'readWrite'];
      let addr: bigint | null = null, len = args.bytes ?? 8;
      if (args.asAddress) addr = parseAddress(args.name);
      else if (!args.variablesReference && this.session && !this.running) {
        // An expression naming memory: *(type*)addr or [addr].
        try {
          const val = evalExpr(parseExpr(args.name, (n) => REG_NAMES.has(n)), this.exprEnv(this.current.vp, this.current.vtl));
          if (val.address !== undefined) { addr = val.address; len = args.bytes ?? val.size; }
        } catch { /* not an expression: no data breakpoint */ }
      }
      if (addr === null) {
        response.body = { dataId: null, description: 'only memory can be watched: use an address (0x…) or *(type*)address' };
      } else {
        response.body = { dataId: `${hex(addr)}/${len}`, description: `${len} bytes at ${hex(addr)}`, accessTypes, canPersist: true };
      }
      this.sendResponse(response);
    });
  }

  protected override setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): void {
    this.guard(response, () => {
      const s = this.session;
      if (!s) throw new SessionError('launch first: data breakpoints need a machine');
      for (const id of this.dataBps.keys()) s.removeWatchpoint(id);
      this.dataBps.clear();
      const out: DebugProtocol.Breakpoint[] = [];
      for (const b of args.breakpoints) {
        const m = /^(0x[0-9a-f]+)\/(\d+)$/i.exec(b.dataId);
        const id = this.nextBpId++;
        const bp = new Breakpoint(!!m) as DebugProtocol.Breakpoint;
        bp.id = id;
        if (m) {
          const kind = b.accessType === 'read' ? 'read' : b.accessType === 'readWrite' ? 'access' : 'write';
          const w = s.addWatchpoint({ addr: BigInt(m[1]), len: Number(m[2]), kind });
          this.dataBps.set(w.id, id);
        } else {
          bp.message = `'${b.dataId}' is not a data breakpoint of this adapter`;
        }
        out.push(bp);
      }
      response.body = { breakpoints: out };
      this.sendResponse(response);
    });
  }

  // ---- Memory and disassembly -------------------------------------------------------------------------

  protected override readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): void {
    this.guard(response, () => {
      const s = this.need();
      const addr = parseAddress(args.memoryReference, args.offset ?? 0);
      const count = Math.max(0, Math.min(args.count, 1 << 20));
      const bytes = s.readMemory(this.current, addr, count);
      response.body = { address: hex(addr), data: Buffer.from(bytes).toString('base64'), unreadableBytes: count - bytes.length };
      this.sendResponse(response);
    });
  }

  protected override writeMemoryRequest(response: DebugProtocol.WriteMemoryResponse, args: DebugProtocol.WriteMemoryArguments): void {
    this.guard(response, () => {
      const s = this.need();
      const addr = parseAddress(args.memoryReference, args.offset ?? 0);
      const data = Buffer.from(args.data, 'base64');
      s.writeMemory(this.current, addr, new Uint8Array(data));
      response.body = { bytesWritten: data.length };
      this.sendResponse(response);
      if (this.clientInvalidated) this.sendEvent(new InvalidatedEvent(['variables']));
    });
  }

  protected override disassembleRequest(response: DebugProtocol.DisassembleResponse, args: DebugProtocol.DisassembleArguments): void {
    this.guard(response, () => {
      const s = this.need();
      const { vp, vtl } = this.current;
      const bits = this.bitness(vp, vtl);
      const base = parseAddress(args.memoryReference, args.offset ?? 0);
      const count = args.instructionCount;
      const skip = args.instructionOffset ?? 0;
      const decodeFrom = (start: bigint, len: number) => disassemble(s.readMemory({ vp, vtl }, start, len), start, bits);
      // Instructions before `base`: decode from the start of its function when that is near, else from
      // a point far enough back that the decoding has synchronised by the time it reaches `base`.
      let before: ReturnType<typeof disassemble> = [];
      if (skip < 0) {
        const fn = this.symbols?.functionAt(base);
        const need = -skip;
        const starts = fn && base - fn.start < 0x10000n ? [fn.start] : [];
        for (const back of [need * 15 + 64, need * 8 + 32, need * 4 + 16]) starts.push(base >= BigInt(back) ? base - BigInt(back) : 0n);
        for (const st of starts) {
          const lines = decodeFrom(st, Number(base - st)).filter((l) => l.addr + BigInt(l.len) <= base);
          const last = lines[lines.length - 1];
          if (lines.length && last.addr + BigInt(last.len) === base) { before = lines; break; }
        }
      }
      const after = decodeFrom(base, Math.max(0, count + Math.max(0, skip)) * 15 + 16);
      const all = [...before, ...after];
      const baseIdx = before.length;
      const out: DebugProtocol.DisassembledInstruction[] = [];
      let lastFile: string | null = null;
      for (let k = 0; k < count; k++) {
        const idx = baseIdx + skip + k;
        const l = idx >= 0 ? all[idx] : undefined;
        if (!l) {
          const a = idx < 0 ? base - BigInt(-idx) : (all.length ? all[all.length - 1].addr + BigInt(idx - all.length + 1) : base + BigInt(idx));
          out.push({ address: hex(BigInt.asUintN(64, a)), instruction: '??', presentationHint: 'invalid' });
          continue;
        }
        const d: DebugProtocol.DisassembledInstruction = {
          address: hex(l.addr), instructionBytes: [...l.bytes].map((b) => b.toString(16).padStart(2, '0')).join(' '), instruction: l.text,
        };
        const fn = this.symbols?.functionAt(l.addr);
        if (fn && fn.start === l.addr) d.symbol = fn.name;
        const line = this.symbols?.lineAt(l.addr);
        if (line) {
          d.line = line.line; d.column = line.column || undefined;
          if (line.file !== lastFile) d.location = new Source(basename(line.file), line.file);
          lastFile = line.file;
        }
        out.push(d);
      }
      response.body = { instructions: out };
      this.sendResponse(response);
    });
  }

  // ---- Custom requests ----------------------------------------------------------------------------------

  protected override customRequest(command: string, response: DebugProtocol.Response, args: Record<string, unknown> | undefined, request?: DebugProtocol.Request): void {
    const a = args ?? {};
    const num = (k: string): number => {
      const v = a[k];
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new SessionError(`'${k}' must be a whole number (got ${JSON.stringify(v)})`);
      return v;
    };
    this.guard(response, async () => {
      switch (command) {
        case 'vsmrr/position': {
          if (!this.session) throw new SessionError('nothing is launched yet');
          response.body = this.positionBody();
          this.sendResponse(response);
          return;
        }
        case 'vsmrr/gotoEvent': {
          const s = this.need();
          const st = s.gotoEventIndex(num('index'));
          response.body = { icount: st.icount, vp: st.vp, vtl: st.vtl };
          this.sendResponse(response);
          this.reportStop(st, 'goto', st.reason === 'event' ? `event #${st.index}: ${describeEvent(st.event)}` : undefined);
          return;
        }
        case 'vsmrr/gotoInstructionCount': {
          const s = this.need();
          const st = s.seek(num('icount'));
          response.body = { icount: st.icount, vp: st.vp, vtl: st.vtl };
          this.sendResponse(response);
          this.reportStop(st, 'goto', `instruction ${st.icount}`);
          return;
        }
        case 'vsmrr/reverseToEvent': case 'vsmrr/continueToEvent': {
          this.need();
          const kind = String(a.kind ?? '');
          const kinds = EVENT_GROUPS[kind];
          if (!kinds) throw new SessionError(`'kind' must be one of ${Object.keys(EVENT_GROUPS).join(', ')} (got ${JSON.stringify(a.kind)})`);
          const filter: EventFilter = { kinds, ...(a.vp !== undefined ? { vp: num('vp') } : {}) };
          this.sendResponse(response);
          void this.run({ direction: command === 'vsmrr/reverseToEvent' ? 'backward' : 'forward', events: filter }, `Running to the ${command === 'vsmrr/reverseToEvent' ? 'previous' : 'next'} ${kind}`, request?.seq ?? -1);
          return;
        }
        case 'vsmrr/listEvents': {
          const s = this.need();
          const from = a.from === undefined ? 0 : num('from');
          const to = a.to === undefined ? Number.MAX_SAFE_INTEGER : num('to');
          const limit = a.limit === undefined ? 1000 : num('limit');
          const kinds = Array.isArray(a.kinds) ? (a.kinds as unknown[]).map(String) : undefined;
          const filter = { ...(kinds ? { kinds } : {}), ...(a.vp !== undefined ? { vp: num('vp') } : {}) };
          const all = s.eventsBetween(from, to, filter);
          response.body = {
            total: all.length,
            events: all.slice(0, limit).map(({ index, event }) => ({ index, icount: event.icount, vp: event.vp, kind: event.kind, description: describeEvent(event as MachineEvent), event: eventJson(event) })),
          };
          this.sendResponse(response);
          return;
        }
        default:
          this.sendErrorResponse(response, { id: 3, format: `unknown request '${command}'`, showUser: false });
      }
    });
  }
}

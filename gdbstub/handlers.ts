// One handler per request kind (the compiler checks that every kind has one). A handler returns
// the reply payload, null for no reply (`k`), or a promise of either (resumes, which run while the
// connection keeps reading so that the interrupt byte can stop them). Errors become `E01`.

import { REGISTERS } from '../recorder/registers.js';
import { SessionError, type StopEvent } from '../recorder/session.js';
import type { Request } from './parse.js';
import { buildTargetDescription, registerBytes, bytesValue } from './target.js';
import { runMonitor, formatEvent } from './monitor.js';
import { StubError, type Stub, type Context } from './stub.js';

export type Reply = string | Buffer | null;

/** What a handler may use besides the stub: console output and the running resume's cancel flag. */
export interface Connection {
  readonly stub: Stub;
  /** Send an `O` packet (only while a resume or a monitor command is pending). */
  output(text: string): void;
  /** Switch acknowledgements off after this packet's reply. */
  startNoAck(): void;
  /** True once 0x03 arrived or the client went away during the current resume. */
  cancelled(): boolean;
  /** Forget per-connection state (detach). */
  detached(): void;
}

type Handler<K extends Request['kind']> = (req: Extract<Request, { kind: K }>, c: Connection) => Reply | Promise<Reply>;

export const SUPPORTED = 'PacketSize=4000;QStartNoAckMode+;qXfer:features:read+;qXfer:threads:read+;swbreak+;hwbreak+;ReverseStep+;ReverseContinue+;vContSupported+';

/** Largest memory read answered at once (hex doubles it; PacketSize is 0x4000). */
const MAX_READ = 0x1000;

const TARGET = buildTargetDescription();
const REG_BYTES = REGISTERS.reduce((n, r) => n + r.bits / 8, 0);

/** The VP's scheduling state, as `info threads` shows it after the name. */
const STATE_TEXT = { running: 'runnable', halted: 'halted', waiting: 'waiting for start', stopped: 'stopped' } as const;

const hex = (n: number | bigint) => n.toString(16);
const toHex = (s: string) => Buffer.from(s, 'utf8').toString('hex');

function xferSlice(data: Buffer, offset: number, length: number): Reply {
  if (offset > data.length) return 'E00';
  const chunk = data.subarray(offset, offset + length);
  return Buffer.concat([Buffer.from(offset + chunk.length >= data.length ? 'l' : 'm'), chunk]);
}

function threadsXml(c: Connection): string {
  const st = c.stub;
  const rows = st.session.threads().map((t) => {
    const ctx: Context = { vp: t.vp, vtl: t.vtl };
    return `  <thread id="${hex(st.tid(ctx))}" core="${t.vp}" name="${st.threadName(ctx, t.active)}">${STATE_TEXT[t.state]}</thread>`;
  });
  return `<?xml version="1.0"?>\n<threads>\n${rows.join('\n')}\n</threads>\n`;
}

function memoryWhere(st: Stub): { vp: number; vtl: number } | 'physical' {
  return st.settings.phys ? 'physical' : st.generalContext();
}

/** Which VP a resume moves, and whether it steps (spec/interfaces.md A.5.1: leftmost action wins). */
function resumePlan(req: Extract<Request, { kind: 'resume' }>, st: Stub): { step: number | null } | string {
  const s = req.actions.find((a) => a.action === 's');
  if (!s) return { step: null };
  const ctx = s.thread === 'all' || s.thread === 'any' ? st.resumeContext() : st.context(s.thread);
  if (!ctx) return 'E02';
  // Stepping a VTL thread that is not active steps its VP, in whatever VTL runs (see README).
  return { step: ctx.vp };
}

async function run(c: Connection, direction: 'forward' | 'backward', step: number | null): Promise<Reply> {
  const st = c.stub;
  let stop: StopEvent;
  try {
    stop = await st.session.resume(
      { direction, step: step ?? undefined, events: step === null ? st.eventFilter() : undefined },
      { cancelled: () => c.cancelled() },
    );
  } catch (e) {
    c.output(`vsmrr: ${st.describe(e)}\n`);
    return 'E01';
  } finally { st.flushSerial(); }
  if (stop.reason === 'event') c.output(`vsmrr: stopped at event #${stop.index} (instruction ${stop.event.icount}): ${formatEvent(stop.event)}\n`);
  return st.stopReply(stop);
}

export const HANDLERS: { [K in Request['kind']]: Handler<K> } = {
  qSupported: () => SUPPORTED,
  startNoAck: (_r, c) => { c.startNoAck(); return 'OK'; },
  setThread: (r, c) => {
    const st = c.stub;
    const ctx = typeof r.thread === 'number' ? st.context(r.thread) : null;
    if (typeof r.thread === 'number' && !ctx) return 'E01';
    if (r.op === 'g') st.general = ctx; else st.resumeThread = ctx;
    return 'OK';
  },
  threadAlive: (r, c) => (typeof r.thread === 'number' && c.stub.context(r.thread) ? 'OK' : 'E01'),
  haltReason: (_r, c) => { c.stub.general = null; return `T05thread:${hex(c.stub.tid(c.stub.stopped()))};`; },
  readRegisters: (_r, c) => {
    const ctx = c.stub.generalContext();
    const values = c.stub.session.readRegisters(ctx.vp, ctx.vtl);
    return Buffer.concat(REGISTERS.map((r, i) => registerBytes(r, values[i]))).toString('hex');
  },
  writeRegisters: (r, c) => {
    if (r.data.length !== REG_BYTES) return 'E01';
    const ctx = c.stub.generalContext();
    const s = c.stub.session;
    const old = s.readRegisters(ctx.vp, ctx.vtl);
    let off = 0;
    // Only the registers whose value changes are written (the read-only ones must not change).
    for (let i = 0; i < REGISTERS.length; i++) {
      const def = REGISTERS[i];
      const v = bytesValue(r.data.subarray(off, off + def.bits / 8));
      off += def.bits / 8;
      if (v !== old[i]) s.writeRegister(ctx.vp, ctx.vtl, def.name, v);
    }
    return 'OK';
  },
  readRegister: (r, c) => {
    const def = REGISTERS[r.reg];
    if (!def) return 'E01';
    const ctx = c.stub.generalContext();
    return registerBytes(def, c.stub.session.readRegister(ctx.vp, ctx.vtl, def.name)).toString('hex');
  },
  writeRegister: (r, c) => {
    const def = REGISTERS[r.reg];
    if (!def || r.data.length !== def.bits / 8) return 'E01';
    const ctx = c.stub.generalContext();
    c.stub.session.writeRegister(ctx.vp, ctx.vtl, def.name, bytesValue(r.data));
    return 'OK';
  },
  readMemory: (r, c) => {
    if (r.len === 0) return 'E01';
    const bytes = c.stub.session.readMemory(memoryWhere(c.stub), r.addr, Math.min(r.len, MAX_READ));
    return bytes.length ? Buffer.from(bytes).toString('hex') : 'E14';
  },
  writeMemory: (r, c) => {
    // A zero-length X is gdb's probe for binary writes.
    if (r.data.length === 0) return 'OK';
    c.stub.session.writeMemory(memoryWhere(c.stub), r.addr, r.data);
    return 'OK';
  },
  point: (r, c) => {
    if (r.type >= 2 && r.size === 0) return 'E01';
    if (r.insert) c.stub.insert(r.type, r.addr, r.size); else c.stub.remove(r.type, r.addr, r.size);
    return 'OK';
  },
  vContQuery: () => 'vCont;c;C;s;S',
  resume: (r, c) => {
    const plan = resumePlan(r, c.stub);
    if (typeof plan === 'string') return plan;
    return run(c, 'forward', plan.step);
  },
  reverse: (r, c) => run(c, 'backward', r.step ? c.stub.resumeContext().vp : null),
  xferRead: (r, c) => {
    if (r.object === 'features') {
      const f = TARGET.files.get(r.annex);
      return f === undefined ? 'E00' : xferSlice(Buffer.from(f, 'utf8'), r.offset, r.length);
    }
    if (r.object === 'threads' && r.annex === '') return xferSlice(Buffer.from(threadsXml(c), 'utf8'), r.offset, r.length);
    return '';
  },
  threadList: (r, c) => {
    if (!r.first) return 'l';
    return 'm' + c.stub.session.threads().map((t) => hex(c.stub.tid(t))).join(',');
  },
  currentThread: (_r, c) => `QC${hex(c.stub.tid(c.stub.stopped()))}`,
  threadExtraInfo: (r, c) => {
    const ctx = c.stub.select(r.thread);
    if (!ctx) return 'E01';
    const t = c.stub.session.threads().find((x) => x.vp === ctx.vp && x.vtl === ctx.vtl);
    return toHex(`${c.stub.threadName(ctx, !!t?.active)}${t ? `, ${STATE_TEXT[t.state]}` : ''}`);
  },
  attached: () => '1',
  offsets: () => '',
  symbol: () => 'OK',
  monitor: (r, c) => {
    try {
      runMonitor(c.stub, r.command, (text) => c.output(text));
      return 'OK';
    } catch (e) {
      if (!(e instanceof SessionError || e instanceof StubError)) throw e;
      c.output(`error: ${e.message}\n`);
      return 'E01';
    }
  },
  physMode: (r, c) => {
    if (r.set === null) return c.stub.settings.phys ? '1' : '0';
    c.stub.settings.phys = r.set;
    return 'OK';
  },
  detach: (_r, c) => { c.detached(); return 'OK'; },
  kill: (r, c) => { c.detached(); return r.reply ? 'OK' : null; },
  malformed: () => 'E01',
  unknown: () => '',
};

/** Dispatch one request; any exception becomes an error reply. */
export async function handle(req: Request, c: Connection): Promise<Reply> {
  try {
    const h = HANDLERS[req.kind] as Handler<Request['kind']>;
    return await h(req as never, c);
  } catch (e) {
    const msg = c.stub.describe(e);
    c.stub.hooks.log?.(`${req.kind}: ${msg}`);
    return 'E01';
  }
}

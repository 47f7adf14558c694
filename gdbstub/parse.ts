// Packet payloads into typed requests. The parser executes nothing and never throws: a payload it
// cannot make sense of is a `malformed` request (answered with an error) if its command is one the
// stub implements, or `unknown` (answered with the empty reply, "not supported") otherwise.

/** A thread as gdb names it: a thread id, 0 = any, -1 = all. `p<pid>.<tid>` forms are accepted. */
export type ThreadSel = number | 'any' | 'all';

export interface ResumeAction {
  action: 'c' | 's';
  /** The signal of C/S (the stub delivers no signals: it is reported back, not injected). */
  signal?: number;
  thread: ThreadSel;
}

export type PointType = 0 | 1 | 2 | 3 | 4;

export type Request =
  | { kind: 'qSupported'; features: string[] }
  | { kind: 'startNoAck' }
  | { kind: 'setThread'; op: 'g' | 'c'; thread: ThreadSel }
  | { kind: 'threadAlive'; thread: ThreadSel }
  | { kind: 'haltReason' }
  | { kind: 'readRegisters' }
  | { kind: 'writeRegisters'; data: Buffer }
  | { kind: 'readRegister'; reg: number }
  | { kind: 'writeRegister'; reg: number; data: Buffer }
  | { kind: 'readMemory'; addr: bigint; len: number }
  | { kind: 'writeMemory'; addr: bigint; data: Buffer }
  | { kind: 'point'; insert: boolean; type: PointType; addr: bigint; size: number }
  | { kind: 'vContQuery' }
  | { kind: 'resume'; actions: ResumeAction[] }
  | { kind: 'reverse'; step: boolean }
  | { kind: 'xferRead'; object: string; annex: string; offset: number; length: number }
  | { kind: 'threadList'; first: boolean }
  | { kind: 'currentThread' }
  | { kind: 'threadExtraInfo'; thread: ThreadSel }
  | { kind: 'attached' }
  | { kind: 'offsets' }
  | { kind: 'symbol' }
  | { kind: 'monitor'; command: string }
  | { kind: 'physMode'; set: boolean | null }
  | { kind: 'detach' }
  | { kind: 'kill'; reply: boolean }
  | { kind: 'malformed'; packet: string; why: string }
  | { kind: 'unknown'; packet: string };

const HEX = /^[0-9a-fA-F]+$/;

function num(s: string | undefined): number | null {
  if (s === undefined || !HEX.test(s) || s.length > 13) return null;
  return parseInt(s, 16);
}

function addr(s: string | undefined): bigint | null {
  if (s === undefined || !HEX.test(s) || s.length > 16) return null;
  return BigInt('0x' + s);
}

export function hexBytes(s: string): Buffer | null {
  if (s.length % 2 !== 0 || (s.length > 0 && !HEX.test(s))) return null;
  return Buffer.from(s, 'hex');
}

/** `tid`, `-1`, `0`, `pPID.TID` (multiprocess form; the pid is ignored: there is one process). */
export function parseThread(s: string): ThreadSel | null {
  let t = s;
  if (t.startsWith('p')) {
    const dot = t.indexOf('.');
    if (dot < 0) return 'all';   // `pPID` alone: every thread of that process
    t = t.slice(dot + 1);
  }
  if (t === '-1') return 'all';
  const n = num(t);
  if (n === null) return null;
  return n === 0 ? 'any' : n;
}

/** Parse one packet payload (bytes as sent, escapes already removed by the framing). */
export function parse(payload: Buffer): Request {
  const p = payload.toString('latin1');
  const bad = (why: string): Request => ({ kind: 'malformed', packet: p, why });
  const unknown: Request = { kind: 'unknown', packet: p };
  switch (p[0]) {
    case '?': return p === '?' ? { kind: 'haltReason' } : unknown;
    case 'g': return p === 'g' ? { kind: 'readRegisters' } : unknown;
    case 'G': { const d = hexBytes(p.slice(1)); return d ? { kind: 'writeRegisters', data: d } : bad('G needs hex data'); }
    case 'p': { const r = num(p.slice(1)); return r === null ? bad('p needs a register number') : { kind: 'readRegister', reg: r }; }
    case 'P': {
      const m = /^P([0-9a-fA-F]+)=([0-9a-fA-F]*)$/.exec(p);
      const d = m && hexBytes(m[2]);
      const r = m && num(m[1]);
      return m && d && r !== null ? { kind: 'writeRegister', reg: r, data: d } : bad('P needs REG=HEX');
    }
    case 'm': {
      const m = /^m([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(p);
      const a = m && addr(m[1]), n = m && num(m[2]);
      return a !== null && a !== undefined && n !== null && n !== undefined ? { kind: 'readMemory', addr: a, len: n } : bad('m needs ADDR,LEN');
    }
    case 'M': {
      const m = /^M([0-9a-fA-F]+),([0-9a-fA-F]+):([0-9a-fA-F]*)$/.exec(p);
      const a = m && addr(m[1]), n = m && num(m[2]), d = m && hexBytes(m[3]);
      if (a === null || a === undefined || n === null || n === undefined || !d) return bad('M needs ADDR,LEN:HEX');
      return d.length === n ? { kind: 'writeMemory', addr: a, data: d } : bad('M length does not match its data');
    }
    case 'X': {
      const colon = p.indexOf(':');
      const m = colon > 0 ? /^X([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(p.slice(0, colon)) : null;
      const a = m && addr(m[1]), n = m && num(m[2]);
      if (a === null || a === undefined || n === null || n === undefined) return bad('X needs ADDR,LEN:DATA');
      const d = payload.subarray(colon + 1);
      return d.length === n ? { kind: 'writeMemory', addr: a, data: Buffer.from(d) } : bad('X length does not match its data');
    }
    case 'Z': case 'z': {
      const m = /^[Zz]([0-4]),([0-9a-fA-F]+),([0-9a-fA-F]+)(;.*)?$/.exec(p);
      if (!m) return /^[Zz][0-4]/.test(p) ? bad('Z needs TYPE,ADDR,KIND') : unknown;
      const a = addr(m[2]), n = num(m[3]);
      if (a === null || n === null) return bad('Z address or kind out of range');
      return { kind: 'point', insert: p[0] === 'Z', type: Number(m[1]) as PointType, addr: a, size: n };
    }
    case 'H': {
      const op = p[1];
      const t = parseThread(p.slice(2));
      if (op !== 'g' && op !== 'c') return unknown;
      return t === null ? bad('H needs a thread id') : { kind: 'setThread', op, thread: t };
    }
    case 'T': { const t = parseThread(p.slice(1)); return t === null ? bad('T needs a thread id') : { kind: 'threadAlive', thread: t }; }
    case 'c': case 's': case 'C': case 'S': {
      // Legacy resume of the Hc thread; an address argument (resume elsewhere) is not supported.
      const lower = p[0].toLowerCase() as 'c' | 's';
      const rest = p.slice(1);
      if (p[0] === 'c' || p[0] === 's') return rest === '' ? { kind: 'resume', actions: [{ action: lower, thread: 'any' }] } : bad('resuming at an address is not supported');
      const m = /^([0-9a-fA-F]{2})$/.exec(rest);
      return m ? { kind: 'resume', actions: [{ action: lower, signal: parseInt(m[1], 16), thread: 'any' }] } : bad('C/S need a signal (and no address)');
    }
    case 'b':
      if (p === 'bs') return { kind: 'reverse', step: true };
      if (p === 'bc') return { kind: 'reverse', step: false };
      return unknown;
    case 'D': return p === 'D' || /^D;[0-9a-fA-F]+$/.test(p) ? { kind: 'detach' } : unknown;
    case 'k': return p === 'k' ? { kind: 'kill', reply: false } : unknown;
    case 'v': return parseV(p, bad, unknown);
    case 'q': case 'Q': return parseQuery(p, bad, unknown);
    default: return unknown;
  }
}

function parseV(p: string, bad: (why: string) => Request, unknown: Request): Request {
  if (p === 'vCont?') return { kind: 'vContQuery' };
  if (p.startsWith('vKill')) return { kind: 'kill', reply: true };
  if (p.startsWith('vCont;')) {
    const actions: ResumeAction[] = [];
    for (const part of p.slice(6).split(';')) {
      const m = /^([cCsS])([0-9a-fA-F]{2})?(?::(.+))?$/.exec(part);
      if (!m) return /^[rt]/.test(part) ? unknown : bad(`vCont action '${part}' is not c, C, s or S`);
      const upper = m[1] === 'C' || m[1] === 'S';
      if (upper !== (m[2] !== undefined)) return bad(`vCont action '${part}': C and S take a signal, c and s do not`);
      const thread = m[3] === undefined ? 'all' : parseThread(m[3]);
      if (thread === null) return bad(`vCont action '${part}': bad thread id`);
      actions.push({ action: m[1].toLowerCase() as 'c' | 's', signal: m[2] === undefined ? undefined : parseInt(m[2], 16), thread });
    }
    return actions.length ? { kind: 'resume', actions } : bad('vCont without actions');
  }
  return unknown;
}

function parseQuery(p: string, bad: (why: string) => Request, unknown: Request): Request {
  if (p.startsWith('qSupported')) return { kind: 'qSupported', features: p.startsWith('qSupported:') ? p.slice(11).split(';') : [] };
  if (p === 'QStartNoAckMode') return { kind: 'startNoAck' };
  if (p === 'qfThreadInfo') return { kind: 'threadList', first: true };
  if (p === 'qsThreadInfo') return { kind: 'threadList', first: false };
  if (p === 'qC') return { kind: 'currentThread' };
  if (p === 'qAttached' || p.startsWith('qAttached:')) return { kind: 'attached' };
  if (p === 'qOffsets') return { kind: 'offsets' };
  if (p.startsWith('qSymbol:')) return { kind: 'symbol' };
  if (p.startsWith('qThreadExtraInfo,')) {
    const t = parseThread(p.slice(17));
    return t === null ? bad('qThreadExtraInfo needs a thread id') : { kind: 'threadExtraInfo', thread: t };
  }
  if (p.startsWith('qRcmd,')) {
    const d = hexBytes(p.slice(6));
    return d ? { kind: 'monitor', command: d.toString('latin1') } : bad('qRcmd needs hex text');
  }
  if (p.startsWith('qXfer:')) {
    // qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH
    const m = /^qXfer:([^:]+):read:([^:]*):([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(p);
    if (!m) return /^qXfer:[^:]+:read:/.test(p) ? bad('qXfer read needs ANNEX:OFFSET,LENGTH') : unknown;
    const offset = num(m[3]), length = num(m[4]);
    if (offset === null || length === null) return bad('qXfer offset or length out of range');
    return { kind: 'xferRead', object: m[1], annex: m[2], offset, length };
  }
  if (p === 'qqemu.PhyMemMode') return { kind: 'physMode', set: null };
  if (p === 'Qqemu.PhyMemMode:1' || p === 'Qqemu.PhyMemMode:0') return { kind: 'physMode', set: p.endsWith('1') };
  return unknown;
}

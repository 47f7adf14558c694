// `monitor` commands (qRcmd): time travel and VSM state that gdb has no command for. Output goes
// back through O packets (gdb prints it; in batch mode on stderr). A command that fails prints
// `error: ...` and ends with an error reply.

import type { MachineEvent } from '../core/machine/events.js';
import { StubError, type Stub, type EventStop } from './stub.js';

const STALE = 'gdb still shows the old state: run `maintenance flush register-cache` (and `maintenance flush dcache`) to see the new one.';

export const MONITOR_HELP = `vsmrr monitor commands:
  help                         this list
  when                         the current position: instruction count, VP, VTL, gdb thread
  goto ICOUNT                  go to instruction count ICOUNT (forward or backward)
  vtl                          both VTLs' key registers for the selected thread's VP
  events [N]                   N events (default 10) before and after the current position
  break-on vtl-transition      stop at every VTL switch (continue and reverse-continue)
  break-on intercept           stop at every secure intercept
  break-on interrupt [VECTOR]  stop at every interrupt delivery (or only VECTOR)
  break-on hypercall [CODE]    stop at the start of every hypercall (or only CODE)
  break-on off | list          remove all event stops | show them
  bookmark NAME                name the current position
  goto-bookmark NAME           go back (or forward) to a bookmark; 'bookmark' alone lists them
  checkpoint                   keep a snapshot here (makes going back to this point fast)
  phys on|off                  m/M packets (x, set *) use guest-physical addresses, or the
                               selected thread's page tables (the default)
`;

const HEXKEYS = new Set(['code', 'gpa', 'gpn', 'vector', 'type', 'status', 'reason', 'value', 'mask', 'access', 'register', 'byte', 'expiration']);

/** One line for an event: kind, VP, then its fields (64-bit rip pairs joined, addresses in hex). */
export function formatEvent(e: MachineEvent): string {
  const r = e as unknown as Record<string, unknown>;
  const parts: string[] = [`${e.kind}`, `vp${e.vp}`];
  if (e.kind === 'vtl-switch') parts.push(`VTL${e.from}->VTL${e.to}`);
  for (const [k, v] of Object.entries(r)) {
    if (k === 'kind' || k === 'icount' || k === 'vp' || k.endsWith('Hi') || (e.kind === 'vtl-switch' && (k === 'from' || k === 'to'))) continue;
    if (k.endsWith('Lo') && typeof v === 'number') {
      const hi = r[k.slice(0, -2) + 'Hi'];
      const full = (BigInt((hi as number) >>> 0) << 32n) | BigInt(v >>> 0);
      parts.push(`${k.slice(0, -2)}=0x${full.toString(16)}`);
    } else if (typeof v === 'number') parts.push(HEXKEYS.has(k) ? `${k}=0x${v.toString(16)}` : `${k}=${v}`);
    else parts.push(`${k}=${JSON.stringify(v)}`);
  }
  return parts.join(' ');
}

function parseCount(s: string | undefined, what: string): number {
  if (s === undefined || !/^(0x[0-9a-f]+|\d+)$/i.test(s)) throw new StubError(`${what} must be a number${s === undefined ? '' : `, not '${s}'`}`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new StubError(`${what} is too large: ${s}`);
  return n;
}

function where(stub: Stub): string {
  const s = stub.session;
  const at = stub.stopped();
  const end = s.endPosition();
  const extent = s.kind === 'replay' ? `of ${end ?? s.livePosition()} recorded` : end !== null ? `of ${end} (the machine stopped there)` : `(live edge at ${s.livePosition()})`;
  return `instruction ${s.position()} ${extent}; VP ${at.vp}, VTL${at.vtl} (thread ${stub.tid(at)})`;
}

function eventStop(args: string[]): EventStop {
  const [what, arg] = args;
  switch (what) {
    case 'vtl-transition': return { label: 'vtl-transition', match: (e) => e.kind === 'vtl-switch' };
    case 'intercept': return { label: 'intercept', match: (e) => e.kind === 'intercept' };
    case 'interrupt': {
      if (arg === undefined) return { label: 'interrupt', match: (e) => e.kind === 'interrupt' };
      const v = parseCount(arg, 'the interrupt vector');
      return { label: `interrupt 0x${v.toString(16)}`, match: (e) => e.kind === 'interrupt' && e.vector === v };
    }
    case 'hypercall': {
      if (arg === undefined) return { label: 'hypercall', match: (e) => e.kind === 'hypercall-start' };
      const c = parseCount(arg, 'the hypercall code');
      return { label: `hypercall 0x${c.toString(16)}`, match: (e) => e.kind === 'hypercall-start' && e.code === c };
    }
    default: throw new StubError(`break-on takes vtl-transition, intercept, interrupt [VECTOR], hypercall [CODE], off or list${what ? `, not '${what}'` : ''}`);
  }
}

/** Run a monitor command, printing through `out`. Throws StubError/SessionError on failure. */
export function runMonitor(stub: Stub, line: string, out: (text: string) => void): void {
  const s = stub.session;
  const [cmd, ...args] = line.trim().split(/\s+/);
  switch (cmd) {
    case '': case 'help': out(MONITOR_HELP); return;
    case 'when': out(`${where(stub)}\n`); return;
    case 'goto': {
      const n = parseCount(args[0], 'goto ICOUNT');
      s.seek(n);
      stub.flushSerial();
      out(`now at ${where(stub)}\n${STALE}\n`);
      return;
    }
    case 'vtl': {
      const vp = stub.generalContext().vp;
      const lines: string[] = [];
      for (let vtl = 0; vtl < s.vtlCount; vtl++) {
        if (!s.hasContext(vp, vtl)) { lines.push(`VP ${vp} VTL${vtl}: not enabled`); continue; }
        const reg = (n: string) => `${n}=0x${s.readRegister(vp, vtl, n).toString(16)}`;
        const active = s.activeVtl(vp) === vtl;
        lines.push(`VP ${vp} VTL${vtl}${active ? ' (active)' : ''}, thread ${stub.tid({ vp, vtl })}: ${['rip', 'rsp', 'eflags', 'cr0', 'cr3', 'cr4', 'efer', 'cs'].map(reg).join(' ')}`);
      }
      out(lines.join('\n') + '\n');
      return;
    }
    case 'events': {
      const n = args[0] === undefined ? 10 : parseCount(args[0], 'events N');
      const list = s.eventsAround(n, n);
      const here = s.position();
      const lines: string[] = [];
      let marked = false;
      for (const { index, event } of list) {
        if (!marked && event.icount > here) { lines.push(`   ---- now: instruction ${here}`); marked = true; }
        lines.push(`#${index} @${event.icount} ${formatEvent(event)}`);
      }
      if (!marked) lines.push(`   ---- now: instruction ${here}`);
      out((list.length ? '' : 'no events recorded near here\n') + lines.join('\n') + '\n');
      return;
    }
    case 'break-on': {
      const stops = stub.settings.eventStops;
      if (args[0] === undefined || args[0] === 'list') {
        out(stops.length ? `event stops: ${stops.map((x) => x.label).join(', ')}\n` : 'no event stops\n');
        return;
      }
      if (args[0] === 'off') { stops.length = 0; out('event stops removed\n'); return; }
      const e = eventStop(args);
      if (!stops.some((x) => x.label === e.label)) stops.push(e);
      out(`continue and reverse-continue stop at: ${stops.map((x) => x.label).join(', ')}\n`);
      return;
    }
    case 'bookmark': {
      if (!args.length) {
        const b = s.bookmarks();
        out(b.length ? b.map((x) => `${x.name}: instruction ${x.icount}, VP ${x.vp}`).join('\n') + '\n' : 'no bookmarks\n');
        return;
      }
      const b = s.bookmark(args.join(' '));
      out(`bookmark '${args.join(' ')}' at instruction ${b.icount}, VP ${b.vp}\n`);
      return;
    }
    case 'goto-bookmark': {
      if (!args.length) throw new StubError('goto-bookmark needs a NAME');
      s.gotoBookmark(args.join(' '));
      stub.flushSerial();
      out(`now at ${where(stub)}\n${STALE}\n`);
      return;
    }
    case 'checkpoint': out(`checkpoint at instruction ${s.checkpoint()}\n`); return;
    case 'phys': {
      if (args[0] === 'on' || args[0] === 'off') stub.settings.phys = args[0] === 'on';
      else if (args[0] !== undefined) throw new StubError(`phys takes on or off, not '${args[0]}'`);
      out(`memory accesses use ${stub.settings.phys ? 'guest-physical addresses' : "the selected thread's page tables"}\n` +
        (args[0] ? 'gdb may still hold memory read the other way: run `maintenance flush dcache`.\n' : ''));
      return;
    }
    default: throw new StubError(`unknown monitor command '${cmd}' (try 'monitor help')`);
  }
}

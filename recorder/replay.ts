// Replay: rebuild the machine from a trace alone (configuration and image inside it), feed the
// recorded inputs, run with the recorded hash points and compare state hashes.

import { Machine, type MachineConfig, type StopReason } from '../core/machine/machine.js';
import type { MachineEvent } from '../core/machine/events.js';
import { TraceError, type TraceReader } from './trace.js';
import { applyWrite, decodeWrite, type DebuggerWrite } from './inputs.js';

export interface ReplayResult {
  stop: StopReason;
  icount: number;
  /** The first hash point where the replay differs from the recording, if any. */
  divergence: { icount: number; recorded: string; replayed: string } | null;
  /** The first event that differs from the recorded one (or is missing or extra), if any. */
  eventDivergence: { index: number; recorded: unknown; replayed: unknown } | null;
  hashesChecked: number;
}

export function machineFromTrace(t: TraceReader): Machine {
  const c = t.config();
  const config: MachineConfig = {
    ramMiB: Number(c.mem), smp: Number(c.smp), cmdline: String(c.cmdline ?? ''),
    quantum: c.quantum === undefined || c.quantum === null ? undefined : Number(c.quantum), hv: c.hv !== false,
    mbec: c.mbec === true, hvTestdev: c.hvTestdev === true,
  };
  const m = new Machine(config, t.image().bytes);
  for (const input of t.inputs()) {
    if (input.kind === 'serial' && input.icount === 0) m.queueSerialInput(input.data);
    else if (input.kind !== 'mem-write' && input.kind !== 'reg-write') throw new TraceError(`${t.path}: unsupported input '${input.kind}' at icount ${input.icount}`);
  }
  traceInputs(t); // validates the debugger writes
  return m;
}

/** The debugger writes of a trace, in order (applied by whoever runs the machine, at their counts). */
export function traceInputs(t: TraceReader): { icount: number; write: DebuggerWrite }[] {
  const out: { icount: number; write: DebuggerWrite }[] = [];
  for (const input of t.inputs()) {
    if (input.kind !== 'mem-write' && input.kind !== 'reg-write') continue;
    if (!Number.isSafeInteger(input.icount) || input.icount < 0) throw new TraceError(`${t.path}: damaged inputs (icount ${input.icount})`);
    try { out.push({ icount: input.icount, write: decodeWrite(input.kind, input.data) }); } catch (e) {
      throw new TraceError(`${t.path}: damaged inputs (${(e as Error).message} at icount ${input.icount})`);
    }
  }
  return out;
}

/** Where a recording ends: its final instruction count and how the machine stopped (null: it did not stop by itself). */
export function traceEnd(t: TraceReader): { icount: number; reason: StopReason | null } {
  const hashes = t.hashes();
  const last = hashes.length ? hashes[hashes.length - 1].icount : 0;
  if (!t.complete) return { icount: last, reason: null };
  const icount = Number(t.meta.final_icount ?? last);
  let reason: StopReason | null = null;
  try {
    const s = JSON.parse(t.meta.stop ?? 'null') as StopReason | { kind: 'detached' } | null;
    if (s && s.kind !== 'detached' && s.kind !== 'max-insns') reason = s as StopReason;
  } catch { throw new TraceError(`${t.path}: damaged summary (stop reason)`); }
  if (!Number.isSafeInteger(icount) || icount < 0) throw new TraceError(`${t.path}: damaged summary (final_icount)`);
  return { icount, reason };
}

export function replay(t: TraceReader, opts: { verify: boolean; onEvent?: (e: MachineEvent) => void; maxInsns?: number; onProgress?: (icount: number) => void }): ReplayResult {
  const m = machineFromTrace(t);
  const inputs = traceInputs(t);
  let nextInput = 0;
  const applyInputs = () => { while (nextInput < inputs.length && inputs[nextInput].icount <= m.icount()) applyWrite(m, inputs[nextInput++].write); };
  // With --verify every replayed event is compared with the recorded one at the same index.
  const recordedEvents = opts.verify ? t.events().map((r) => r.event) : [];
  let next = recordedEvents.length && (recordedEvents[0] as { kind?: string; reason?: string }).reason === 'boot' ? 1 : 0;
  let eventDivergence: ReplayResult['eventDivergence'] = null;
  m.observer = {
    event: (e) => {
      opts.onEvent?.(e);
      if (!opts.verify || eventDivergence) return;
      const want = recordedEvents[next];
      if (want === undefined || JSON.stringify(want) !== JSON.stringify(e)) eventDivergence = { index: next, recorded: want ?? null, replayed: e };
      next++;
    },
  };
  const hashes = t.hashes();
  // Traces written by a debugging session hold hashes of the architectural state (see Session.live).
  const archHashes = t.meta.hash_kind === 'arch';
  const hashAt = new Map(hashes.map((h) => [h.icount, h.hash]));
  let divergence: ReplayResult['divergence'] = null;
  let checked = 0;
  const check = () => {
    const h = hashAt.get(m.icount());
    if (h !== undefined && opts.verify) {
      checked++;
      const mine = archHashes ? m.archHash() : m.stateHash();
      if (mine !== h && !divergence) divergence = { icount: m.icount(), recorded: h, replayed: mine };
    }
  };
  applyInputs();
  check();
  let stop: StopReason = { kind: 'max-insns' };
  const points = hashes.map((h) => h.icount).filter((x) => x > 0);
  // A recording that ended by the machine stopping replays to that stop; one that ended otherwise
  // (killed, --max-insns, a debugger detaching from a live session) to its last instruction.
  const end = traceEnd(t);
  const limit = opts.maxInsns ?? (end.reason ? Infinity : end.icount);
  const stops = [...new Set([...points, ...inputs.map((i) => i.icount)])].sort((a, b) => a - b);
  for (const p of [...stops, Infinity]) {
    const target = Math.min(p, limit);
    if (target <= m.icount()) continue;
    stop = m.run(target);
    opts.onProgress?.(m.icount());
    applyInputs();
    check();
    if (stop.kind !== 'max-insns' || m.icount() >= limit || divergence) break;
  }
  if (opts.verify && !eventDivergence && t.complete && next < recordedEvents.length) {
    eventDivergence = { index: next, recorded: recordedEvents[next], replayed: null };
  }
  return { stop, icount: m.icount(), divergence, eventDivergence, hashesChecked: checked };
}

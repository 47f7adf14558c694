// `vsmrr record`, `replay`, `info` and `events`: the trace file from the command line.

import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { TraceReader, TraceWriter } from '../recorder/trace.js';
import { DEFAULT_RECORD, recordRun } from '../recorder/recorder.js';
import { replay } from '../recorder/replay.js';
import { hex64 } from '../core/util/bits.js';
import { ProgressLine } from './progress.js';
import { ConsoleOutput, UsageError, buildMachine, exitStatus, parseInteger, parseRunArgs } from './run.js';

export { VERSION } from '../recorder/version.js';
import { VERSION } from '../recorder/version.js';

export const RECORD_HELP = `usage: vsmrr record IMAGE -o TRACE [run options]

Run IMAGE as 'vsmrr run' does (same options, same output and exit status) and record the run into
TRACE, a SQLite file holding the image, the options, the inputs, every event, state hashes and
checkpoints. Send it with a bug report: 'vsmrr replay TRACE' reproduces the run anywhere.

options:
  -o, --output TRACE       the trace file to create (an existing file is never overwritten)
  --hash-every N           a state hash every N instructions (default 10000000)
  --checkpoint-every N     a checkpoint every N instructions (default 50000000)
  (and every option of 'vsmrr run --help')
`;

export const REPLAY_HELP = `usage: vsmrr replay TRACE [--verify] [--quiet]

Rebuild the recorded machine from TRACE alone and run it again: the same serial output on stdout and
the same exit status as the recording. A trace whose recording was killed replays up to its last
committed batch.

options:
  --verify   compare every event and the state hash at every recorded hash point with the
             recording; report the first divergence
  --quiet    do not print the guest's serial output
`;

export const INFO_HELP = `usage: vsmrr info TRACE [--json]

What TRACE holds: image, options, instructions, events by kind, checkpoints, size, and whether the
recording completed.
`;

export const EVENTS_HELP = `usage: vsmrr events TRACE [--kind K] [--vp N] [--vtl N] [--from I] [--to I] [--limit N] [--json]

The recorded events in order, one per line (or JSON lines with --json). Kinds: vtl-switch, intercept,
hypercall, hypercall-start, protection, serial, vp-start, debug-exit, triple-fault, unimplemented,
unhandled-hypercall. --vtl filters on the VTL the event happened in (the VTL left, for vtl-switch).
`;

function takeOption(args: string[], names: string[]): string | undefined {
  for (let k = 0; k < args.length; k++) {
    for (const n of names) {
      if (args[k] === n) { const v = args[k + 1]; args.splice(k, 2); if (v === undefined) throw new UsageError(`${n} needs a value`); return v; }
      if (args[k].startsWith(n + '=')) { const v = args[k].slice(n.length + 1); args.splice(k, 1); return v; }
    }
  }
  return undefined;
}

export function recordCommand(argv: string[]): number {
  const args = [...argv];
  if (args.includes('-h') || args.includes('--help')) { process.stdout.write(RECORD_HELP); return 0; }
  const out = takeOption(args, ['-o', '--output']);
  const hashEvery = takeOption(args, ['--hash-every']);
  const checkpointEvery = takeOption(args, ['--checkpoint-every']);
  if (!out) throw new UsageError("no trace file given (-o TRACE); see 'vsmrr record --help'");
  const o = parseRunArgs(args);
  if (o === 'help') { process.stdout.write(RECORD_HELP); return 0; }
  const opts = {
    ...DEFAULT_RECORD,
    hashEvery: hashEvery ? parseInteger('--hash-every', hashEvery, 1000, 1e12) : DEFAULT_RECORD.hashEvery,
    checkpointEvery: checkpointEvery ? parseInteger('--checkpoint-every', checkpointEvery, 1000, 1e12) : DEFAULT_RECORD.checkpointEvery,
    maxInsns: o.maxInsns,
  };
  const { machine, image, serialIn } = buildMachine(o);
  const w = new TraceWriter(out);
  w.begin({ smp: o.smp, mem: o.mem, cmdline: o.cmdline, quantum: o.quantum ?? null, hv: o.hv, mbec: o.mbec, hvTestdev: o.hvTestdev, maxInsns: o.maxInsns ?? null },
    { name: basename(o.image), bytes: image }, VERSION);
  if (serialIn) w.input(0, 'serial', serialIn);
  const console = new ConsoleOutput();
  const t0 = Date.now();
  const stop = (() => {
    const progress = new ProgressLine(`recording ${basename(o.image)}`, o.maxInsns ?? null);
    try {
      return recordRun(machine, w, { ...opts, onEvent: (e) => { if (e.kind === 'serial') progress.done(); console.event(e); }, onProgress: (n) => progress.update(n) });
    } finally { progress.done(); console.flush(); }
  })();
  const status = exitStatus(stop, machine);
  w.finish({ final_icount: String(machine.icount()), exit_status: String(status), stop: JSON.stringify(stop), wall_ms: String(Date.now() - t0) });
  process.stderr.write(`vsmrr: recorded ${machine.icount()} instructions into ${out}\n`);
  if (o.hash) process.stderr.write(`vsmrr: state hash ${machine.stateHash()} at icount ${machine.icount()}\n`);
  return status;
}

export function replayCommand(argv: string[]): number {
  if (argv.includes('-h') || argv.includes('--help')) { process.stdout.write(REPLAY_HELP); return 0; }
  const verify = argv.includes('--verify');
  const quiet = argv.includes('--quiet');
  const rest = argv.filter((a) => a !== '--verify' && a !== '--quiet');
  const bad = rest.find((a) => a.startsWith('-'));
  if (bad) throw new UsageError(`unknown option '${bad}' (see 'vsmrr replay --help')`);
  if (rest.length !== 1) throw new UsageError('give exactly one trace file');
  const t = new TraceReader(rest[0]);
  try {
    if (!t.complete) process.stderr.write(`vsmrr: ${rest[0]}: the recording did not complete; replaying up to its last committed batch\n`);
    const console = new ConsoleOutput();
    const r = (() => {
      const total = Number(t.meta.final_icount ?? NaN);
      const progress = new ProgressLine(`replaying ${basename(rest[0])}`, Number.isFinite(total) && total > 0 ? total : null);
      try {
        return replay(t, { verify, onEvent: quiet ? undefined : (e) => { if (e.kind === 'serial') progress.done(); console.event(e); }, onProgress: (n) => progress.update(n) });
      } finally { progress.done(); console.flush(); }
    })();
    if (verify) {
      if (r.eventDivergence) {
        const d = r.eventDivergence;
        process.stderr.write(`vsmrr: replay diverged at event ${d.index}: recorded ${JSON.stringify(d.recorded)}, replayed ${JSON.stringify(d.replayed)}\n`);
        return 1;
      }
      if (r.divergence) {
        process.stderr.write(`vsmrr: replay diverged at icount ${r.divergence.icount}: recorded state hash ${r.divergence.recorded}, replayed ${r.divergence.replayed}\n`);
        return 1;
      }
      process.stderr.write(`vsmrr: replay verified: ${r.hashesChecked} state hashes match, ${r.icount} instructions\n`);
    }
    if (!t.complete) return 0;
    const recorded = Number(t.meta.exit_status);
    return exitStatusQuiet(r.stop, recorded);
  } finally { t.close(); }
}

/** Exit status of a replay: the recorded one when the replay ended the same way. */
function exitStatusQuiet(stop: { kind: string; value?: number }, recorded: number): number {
  if (stop.kind === 'debug-exit') return (stop.value ?? 0) & 0xff;
  return Number.isFinite(recorded) ? recorded : 0;
}

export function infoCommand(argv: string[]): number {
  if (argv.includes('-h') || argv.includes('--help')) { process.stdout.write(INFO_HELP); return 0; }
  const json = argv.includes('--json');
  const rest = argv.filter((a) => a !== '--json');
  if (rest.length !== 1) throw new UsageError('give exactly one trace file');
  const t = new TraceReader(rest[0]);
  try {
    const config = t.config();
    const img = t.image();
    const counts = t.eventCounts();
    const cps = t.checkpoints();
    const hashes = t.hashes();
    const info = {
      trace: rest[0], complete: t.complete, format_version: Number(t.meta.format_version), emulator_version: t.meta.emulator_version,
      image: { name: img.name, sha256: t.meta.image_sha256, bytes: img.bytes.length }, options: config,
      instructions: Number(t.meta.final_icount ?? (hashes.length ? hashes[hashes.length - 1].icount : 0)),
      exit_status: t.meta.exit_status === undefined ? null : Number(t.meta.exit_status),
      recording_ms: t.meta.wall_ms === undefined ? null : Number(t.meta.wall_ms),
      events: Object.fromEntries(counts.map((c) => [c.kind, c.n])),
      checkpoints: cps.length, checkpoint_bytes: cps.reduce((a, c) => a + c.bytes, 0), state_hashes: hashes.length,
      size_bytes: statSync(rest[0]).size,
    };
    if (json) { process.stdout.write(JSON.stringify(info, null, 2) + '\n'); return 0; }
    const lines = [
      `trace        ${info.trace} (${info.complete ? 'complete' : 'INCOMPLETE: the recording was interrupted'})`,
      `image        ${info.image.name} (${info.image.bytes} bytes, sha256 ${info.image.sha256})`,
      `options      ${Object.entries(config).filter(([, v]) => v !== null).map(([k, v]) => `--${k} ${JSON.stringify(v)}`).join(' ')}`,
      `instructions ${info.instructions}`,
      `exit status  ${info.exit_status ?? '-'}${info.recording_ms !== null ? `   recorded in ${(info.recording_ms / 1000).toFixed(1)} s` : ''}`,
      `events       ${counts.map((c) => `${c.kind} ${c.n}`).join(', ') || 'none'}`,
      `checkpoints  ${info.checkpoints} (${info.checkpoint_bytes} bytes), state hashes ${info.state_hashes}`,
      `size         ${info.size_bytes} bytes`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  } finally { t.close(); }
}

export function eventsCommand(argv: string[]): number {
  if (argv.includes('-h') || argv.includes('--help')) { process.stdout.write(EVENTS_HELP); return 0; }
  const args = [...argv];
  const json = args.includes('--json');
  const rest0 = args.filter((a) => a !== '--json');
  const kind = takeOption(rest0, ['--kind']);
  const num = (n: string, v: string | undefined) => (v === undefined ? undefined : parseInteger(n, v, 0, Number.MAX_SAFE_INTEGER));
  const vp = num('--vp', takeOption(rest0, ['--vp']));
  const vtl = num('--vtl', takeOption(rest0, ['--vtl']));
  const from = num('--from', takeOption(rest0, ['--from']));
  const to = num('--to', takeOption(rest0, ['--to']));
  const limit = num('--limit', takeOption(rest0, ['--limit']));
  const bad = rest0.find((a) => a.startsWith('-'));
  if (bad) throw new UsageError(`unknown option '${bad}' (see 'vsmrr events --help')`);
  if (rest0.length !== 1) throw new UsageError('give exactly one trace file');
  const t = new TraceReader(rest0[0]);
  try {
    for (const e of t.events({ kind, vp, vtl, from, to, limit })) {
      if (json) { process.stdout.write(JSON.stringify(e.event) + '\n'); continue; }
      const { kind: k, icount, vp: v, ...restFields } = e.event as Record<string, unknown>;
      // Addresses kept as int32 halves (ripLo/ripHi, ripBeforeLo/ripBeforeHi, ...) print as one 64-bit value.
      const fields: string[] = [];
      for (const [key, val] of Object.entries(restFields)) {
        if (key.endsWith('Hi') && typeof restFields[key.slice(0, -2) + 'Lo'] === 'number') continue;
        if (key.endsWith('Lo') && typeof val === 'number' && typeof restFields[key.slice(0, -2) + 'Hi'] === 'number') {
          fields.push(`${key.slice(0, -2)}=${hex64(val, restFields[key.slice(0, -2) + 'Hi'] as number)}`);
          continue;
        }
        fields.push(`${key}=${typeof val === 'number' && Math.abs(val) > 255 ? '0x' + (val >>> 0).toString(16) : JSON.stringify(val)}`);
      }
      process.stdout.write(`${String(icount).padStart(12)}  VP${v}  ${String(k).padEnd(16)} ${fields.join(' ')}\n`);
    }
    return 0;
  } finally { t.close(); }
}

// Launch configurations of the `vsmrr` debug type: checking them, and opening the session and the
// guest's symbols they describe. Every failure is an Error whose message says what to change.
//
//   { "program": "guest.elf", "smp": 2, "trace": "out.vsmtrace"? }   boot and record (live)
//   { "trace": "bug.vsmtrace" }                                       replay a recording
//
// Symbols: `symbols` names an ELF with debug info. Without it, the program itself is used when it has
// line tables, else `<program>64` when that file exists (the guests/ build writes NAME.elf to boot
// and NAME.elf64 with symbols and DWARF). A replay looks for the image path stored in the trace.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { Session, type SessionOptions } from '../recorder/session.js';
import { TraceReader } from '../recorder/trace.js';
import { GuestSymbols } from './symbols.js';

export interface LaunchArgs {
  /** Multiboot image to boot (live session). */
  program?: string;
  /** Live: write the recording here too. Without program: the trace to replay. */
  trace?: string;
  /** ELF with symbols and DWARF line tables (see the file comment for the default). */
  symbols?: string;
  smp?: number;
  /** Guest RAM in MiB. */
  memory?: number;
  cmdline?: string;
  quantum?: number;
  hv?: boolean;
  mbec?: boolean;
  /** Stop at instruction 0 (default true). */
  stopOnEntry?: boolean;
  /** Reverse execution: a checkpoint every this many instructions, at most maxCheckpoints kept. */
  checkpointEvery?: number;
  maxCheckpoints?: number;
  /** Directory relative paths are resolved against (VS Code passes ${workspaceFolder} through `cwd`). */
  cwd?: string;
}

export class LaunchError extends Error {}

export interface Target {
  session: Session;
  symbols: GuestSymbols | null;
  /** Where the symbols came from, or why there are none (shown to the user). */
  symbolsNote: string;
  /** One line describing what was launched. */
  description: string;
}

function checkInt(name: string, v: unknown, min: number, max: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new LaunchError(`'${name}' must be a whole number from ${min} to ${max} (the launch configuration has ${JSON.stringify(v)})`);
  }
  return v;
}

function checkFile(what: string, path: string, attr: string): void {
  if (!existsSync(path)) throw new LaunchError(`${what} '${path}' does not exist: check '${attr}' in the launch configuration`);
  if (statSync(path).isDirectory()) throw new LaunchError(`${what} '${path}' is a directory, not a file: check '${attr}' in the launch configuration`);
}

function isElf(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
}

/** Load symbols by the rule in the file comment. */
export function findSymbols(explicit: string | undefined, image: string | null): { symbols: GuestSymbols | null; note: string } {
  if (explicit) {
    checkFile('symbols file', explicit, 'symbols');
    try {
      const s = GuestSymbols.load(readFileSync(explicit), explicit);
      return { symbols: s, note: `symbols from ${explicit}${s.hasLines ? '' : ' (it has no line tables: stepping is by instruction)'}` };
    } catch (e) {
      throw new LaunchError(`cannot read symbols from '${explicit}': ${(e as Error).message}`);
    }
  }
  if (!image) return { symbols: null, note: 'no symbols: give "symbols" (an ELF with debug info) for source lines and function names' };
  let fromImage: GuestSymbols | null = null;
  try { fromImage = GuestSymbols.load(readFileSync(image), image); } catch { /* e.g. an ELF32 image without sections */ }
  if (fromImage?.hasLines) return { symbols: fromImage, note: `symbols from ${image}` };
  const sibling = `${image}64`;
  if (existsSync(sibling)) {
    try {
      const s = GuestSymbols.load(readFileSync(sibling), sibling);
      return { symbols: s, note: `symbols from ${sibling} (${image} has no debug info)` };
    } catch (e) {
      return { symbols: fromImage, note: `cannot read symbols from ${sibling}: ${(e as Error).message}` };
    }
  }
  return { symbols: fromImage, note: `${image} has no line tables and there is no ${sibling}: give "symbols" for source-level debugging` };
}

/** Open what a launch configuration describes. */
export function openTarget(args: LaunchArgs): Target {
  const base = args.cwd && isAbsolute(args.cwd) ? args.cwd : process.cwd();
  const abs = (p: string) => resolve(base, p);
  for (const k of ['program', 'trace', 'symbols', 'cmdline'] as const) {
    if (args[k] !== undefined && typeof args[k] !== 'string') throw new LaunchError(`'${k}' must be a string (the launch configuration has ${JSON.stringify(args[k])})`);
  }
  const smp = checkInt('smp', args.smp, 1, 64) ?? 1;
  const mem = checkInt('memory', args.memory, 2, 3072) ?? 128;
  const quantum = checkInt('quantum', args.quantum, 1, 1_000_000_000);
  const checkpointEvery = checkInt('checkpointEvery', args.checkpointEvery, 1000, 1_000_000_000) ?? 200_000;
  // Each checkpoint holds a copy of guest RAM: keep about 2 GiB of them by default.
  const maxCheckpoints = checkInt('maxCheckpoints', args.maxCheckpoints, 2, 10_000) ?? Math.max(4, Math.min(64, Math.floor(2048 / mem)));
  const opts: SessionOptions = { checkpointEvery, maxCheckpoints, hashEvery: 10_000_000 };
  const symbolsPath = args.symbols ? abs(args.symbols) : undefined;

  if (args.program) {
    const program = abs(args.program);
    checkFile('program', program, 'program');
    const image = readFileSync(program);
    if (!isElf(image) && image.length >= 4 && image[0] === 0x53 && image[1] === 0x51) {
      throw new LaunchError(`program '${program}' looks like a trace file: use "trace" (without "program") to replay it`);
    }
    const trace = args.trace ? abs(args.trace) : undefined;
    if (trace && trace === program) throw new LaunchError('"trace" (the recording to write) must not be the program itself');
    let session: Session;
    try {
      session = Session.live({ ramMiB: mem, smp, cmdline: args.cmdline ?? '', quantum, hv: args.hv !== false, mbec: args.mbec === true }, image,
        { ...opts, trace, imageName: program });
    } catch (e) {
      throw new LaunchError(`cannot boot '${program}': ${(e as Error).message}${isElf(image) ? '' : ' (it is not an ELF file: "program" must be a Multiboot kernel such as guests/build/NAME.elf)'}`);
    }
    const sym = findSymbols(symbolsPath, program);
    return { session, symbols: sym.symbols, symbolsNote: sym.note, description: `booting ${program} (smp ${smp}, ${mem} MiB)${trace ? `, recording into ${trace}` : ''}` };
  }
  if (args.trace) {
    const trace = abs(args.trace);
    checkFile('trace', trace, 'trace');
    for (const k of ['smp', 'memory', 'cmdline', 'quantum', 'hv', 'mbec'] as const) {
      if (args[k] !== undefined) throw new LaunchError(`'${k}' has no meaning when replaying a trace (the machine is the recorded one): remove it, or give "program" to boot a new one`);
    }
    let session: Session;
    let imageName: string | null = null;
    try {
      const reader = new TraceReader(trace);
      imageName = reader.image().name;
      session = Session.replay(reader, opts);
    } catch (e) {
      throw new LaunchError(`cannot replay '${trace}': ${(e as Error).message}`);
    }
    const image = imageName && isAbsolute(imageName) && existsSync(imageName) ? imageName : null;
    const sym = findSymbols(symbolsPath, image);
    return { session, symbols: sym.symbols, symbolsNote: sym.note, description: `replaying ${trace} (${session.endPosition() ?? '?'} instructions)` };
  }
  throw new LaunchError('the launch configuration needs "program" (a Multiboot ELF to boot and record) or "trace" (a .vsmtrace recording to replay)');
}

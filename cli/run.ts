// `vsmrr run` and what the other commands share with it: options, building the machine, console
// output, exit statuses.

import { readFileSync } from 'node:fs';
import { ConfigError, Machine, type StopReason } from '../core/machine/machine.js';
import { ImageError } from '../core/machine/multiboot.js';
import type { MachineEvent } from '../core/machine/events.js';
import { hex64 } from '../core/util/bits.js';

export const MAIN_HELP = `usage: vsmrr <command> [options]

vsmrr emulates an x86-64 PC with a Hyper-V style hypervisor, deterministically.

commands:
  run IMAGE [options]             boot a Multiboot image and run it; serial output on stdout
  record IMAGE -o TRACE [options] run as 'run' does and record the run into a trace file
  replay TRACE [--verify]         replay a trace: same serial output and exit status
  info TRACE [--json]             what a trace holds
  events TRACE [filters] [--json] the recorded events (VTL transitions, intercepts, hypercalls, ...)
  gdb (IMAGE | TRACE) [--port P]  serve a live recording or a trace to gdb, forwards and backwards
  dap [--port P]                  Debug Adapter Protocol server for VS Code (stdio, or TCP with --port)
  demo                            record the secure-intercept example guest and show how to debug it
  help [COMMAND]                  show help for a command

Run 'vsmrr run --help' for the options of run, and 'vsmrr COMMAND --help' for the other commands.
`;

export const RUN_HELP = `usage: vsmrr run IMAGE [options]

Boot IMAGE (a Multiboot v1 kernel, the kind 'qemu-system-x86_64 -kernel' takes: an ELF32 file or
an image whose Multiboot header has address fields) and run it until it exits.

options:
  --smp N          number of virtual processors, 1-64 (default 1). The bootstrap processor starts
                   at the image's entry; the others wait for INIT-SIPI-SIPI, as on a PC.
  --mem MIB        guest RAM in MiB, 2-3072 (default 128)
  --cmdline STR    kernel command line passed in the Multiboot information (default empty)
  --serial-in FILE bytes to feed to COM1's receiver ('-' reads standard input to its end first);
                   they enter the UART whenever its receive FIFO has room
  --max-insns N    stop after N instructions (all VPs together) with a message
  --quantum N      instructions each VP runs per scheduling round (default 1000)
  --hv on|off      expose the Hyper-V interface: CPUID leaves 0x40000000+, synthetic MSRs,
                   hypercalls and VSM (default on); off makes a plain PC
  --mbec           offer mode-based execute control to VTL1 (VsmCapabilities bit 2): with it, VTL
                   protections split kernel and user execute (off by default, as the kvm-unit-tests
                   expect)
  --hv-testdev     attach QEMU's hyperv-testdev (port 0x3000): the guest creates SynIC SINT routes,
                   message and event connections for HvCallPostMessage/HvCallSignalEvent through it
  --hash           print a hash of the final machine state on stderr (identical across runs)
  -h, --help       this help

exit status:
  v & 0xFF         the guest wrote v to the debug-exit port 0xF4
  2                bad command line or image (the message names the problem)
  3                the guest triple-faulted (the machine shuts down)
  4                every VP halted with nothing left to wake it
  5                --max-insns reached
`;

export interface RunOptions {
  image: string;
  smp: number;
  mem: number;
  cmdline: string;
  serialIn?: string;
  maxInsns?: number;
  quantum?: number;
  hv: boolean;
  mbec: boolean;
  hvTestdev: boolean;
  hash: boolean;
}

export class UsageError extends Error {}

export function parseInteger(name: string, v: string | undefined, min: number, max: number): number {
  if (v === undefined) throw new UsageError(`${name} needs a value`);
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(v)) throw new UsageError(`${name} takes a whole number, not '${v}'`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`${name} must be between ${min} and ${max}, got ${v}`);
  return n;
}

export function parseRunArgs(args: string[]): RunOptions | 'help' {
  const o: Partial<RunOptions> = { smp: 1, mem: 128, cmdline: '', hash: false, hv: true, mbec: false, hvTestdev: false };
  for (let k = 0; k < args.length; k++) {
    const a = args[k];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? args[++k];
    switch (flag) {
      case '-h': case '--help': return 'help';
      case '--smp': o.smp = parseInteger('--smp', value(), 1, 64); break;
      case '--mem': o.mem = parseInteger('--mem', value(), 2, 3072); break;
      case '--cmdline': { const v = value(); if (v === undefined) throw new UsageError('--cmdline needs a value'); o.cmdline = v; break; }
      case '--serial-in': { const v = value(); if (v === undefined) throw new UsageError('--serial-in needs a file name'); o.serialIn = v; break; }
      case '--max-insns': o.maxInsns = parseInteger('--max-insns', value(), 1, Number.MAX_SAFE_INTEGER); break;
      case '--quantum': o.quantum = parseInteger('--quantum', value(), 1, 1_000_000_000); break;
      case '--hash': o.hash = true; break;
      case '--mbec': o.mbec = true; break;
      case '--hv-testdev': o.hvTestdev = true; break;
      case '--hv': {
        const v = value();
        if (v !== 'on' && v !== 'off') throw new UsageError(`--hv takes 'on' or 'off', not '${v ?? ''}'`);
        o.hv = v === 'on';
        break;
      }
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option '${a}' (see 'vsmrr run --help')`);
        if (o.image) throw new UsageError(`more than one image given ('${o.image}' and '${a}')`);
        o.image = a;
    }
  }
  if (!o.image) throw new UsageError('no image given (see \'vsmrr run --help\')');
  return o as RunOptions;
}

function readImage(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new ImageError(err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message);
  }
}

/** Build the machine a run (or a recording) of `o` uses, with its serial input queued. */
export function buildMachine(o: RunOptions): { machine: Machine; image: Uint8Array; serialIn: Uint8Array | null } {
  let machine: Machine;
  let image: Uint8Array;
  try {
    image = readImage(o.image);
    machine = new Machine({ ramMiB: o.mem, smp: o.smp, cmdline: o.cmdline, quantum: o.quantum, hv: o.hv, mbec: o.mbec, hvTestdev: o.hvTestdev }, image);
  } catch (e) {
    if (e instanceof ImageError) throw new ImageError(`${o.image}: ${e.message}`);
    throw e;
  }
  let input: Uint8Array | null = null;
  if (o.serialIn !== undefined) {
    try {
      input = o.serialIn === '-' ? readFileSync(0) : readFileSync(o.serialIn);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new UsageError(`--serial-in ${o.serialIn}: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message}`);
    }
    machine.queueSerialInput(input);
  }
  return { machine, image, serialIn: input };
}

/** Streams the guest's serial output to stdout and reports unimplemented instructions on stderr. */
export class ConsoleOutput {
  private readonly out: number[] = [];

  event(e: MachineEvent): void {
    if (e.kind === 'serial') { this.out.push(e.byte); if (this.out.length >= 4096 || e.byte === 10) this.flush(); }
    else if (e.kind === 'unimplemented') {
      this.flush();
      process.stderr.write(`vsmrr: VP${e.vp}: unimplemented instruction at ${hex64(e.ripLo, e.ripHi)}: ` +
        `${e.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ')} (raising #UD in the guest)\n`);
    }
  }

  flush(): void {
    if (this.out.length) { process.stdout.write(Buffer.from(this.out)); this.out.length = 0; }
  }
}

/** The process exit status for how a machine stopped (and the message for the unusual ways). */
export function exitStatus(stop: StopReason, machine: Machine): number {
  switch (stop.kind) {
    case 'debug-exit': return stop.value & 0xff;
    case 'triple-fault':
      process.stderr.write(`vsmrr: VP${stop.vp}: ${stop.detail}; the machine shut down after ${machine.icount()} instructions\n`);
      return 3;
    case 'deadlock':
      process.stderr.write(`vsmrr: ${stop.detail}; stopped after ${machine.icount()} instructions\n`);
      return 4;
    case 'max-insns':
      process.stderr.write(`vsmrr: stopped at --max-insns after ${machine.icount()} instructions\n`);
      return 5;
    default:
      return 0;
  }
}

/** Run a machine to completion, streaming serial output. Returns the process exit status. */
export function runCommand(o: RunOptions): number {
  const { machine } = buildMachine(o);
  const console = new ConsoleOutput();
  machine.observer = console;
  let stop: StopReason;
  try {
    stop = machine.run(o.maxInsns ?? Infinity);
  } finally { console.flush(); }
  const status = exitStatus(stop, machine);
  if (o.hash) process.stderr.write(`vsmrr: state hash ${machine.stateHash()} at icount ${machine.icount()}\n`);
  return status;
}


// `vsmrr gdb`: serve a live recording session (an image) or a replay (a trace) to gdb.

import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { Session, DEFAULT_SESSION } from '../recorder/session.js';
import { TraceReader } from '../recorder/trace.js';
import { ImageError } from '../core/machine/multiboot.js';
import { GdbServer } from '../gdbstub/transport.js';
import { UsageError, parseInteger, parseRunArgs } from './run.js';

export const GDB_HELP = `usage: vsmrr gdb (IMAGE | TRACE) [--port P] [--host H] [--trace OUT] [run options]

Serve IMAGE (booted and recorded as it runs, so reverse execution works at once) or TRACE (a
recording made by 'vsmrr record' or 'vsmrr gdb --trace'; replayed, with its history fixed) to gdb
over the GDB remote protocol, and print the gdb command that connects. One debugger at a time; the
server keeps running when gdb disconnects, so gdb can connect again. Ctrl-C stops the server.

Each (VP, VTL) is a gdb thread: a VTL switch shows up as a thread switch. 'monitor help' in gdb lists
the time-travel and VSM commands (goto, when, vtl, events, break-on, bookmark, phys, ...).

options:
  --port P      TCP port (default 1234; 0 picks a free one)
  --host H      address to listen on (default 127.0.0.1)
  --trace OUT   live sessions: also write the recording to the trace file OUT
  (and the machine options of 'vsmrr run --help': --smp, --mem, --cmdline, --quantum, --hv,
  --mbec, --hv-testdev; they do not apply to a trace, which holds its own)
`;

const SQLITE_MAGIC = 'SQLite format 3\0';

function isTrace(path: string): boolean {
  if (path.endsWith('.vsmtrace')) return true;
  let fd: number;
  try { fd = openSync(path, 'r'); } catch { return false; }
  try {
    const b = Buffer.alloc(16);
    return readSync(fd, b, 0, 16, 0) === 16 && b.toString('latin1') === SQLITE_MAGIC;
  } finally { closeSync(fd); }
}

function take(args: string[], name: string): string | undefined {
  for (let k = 0; k < args.length; k++) {
    if (args[k] === name) { const v = args[k + 1]; args.splice(k, 2); if (v === undefined) throw new UsageError(`${name} needs a value`); return v; }
    if (args[k].startsWith(name + '=')) { const v = args[k].slice(name.length + 1); args.splice(k, 1); return v; }
  }
  return undefined;
}

export function gdbCommand(argv: string[]): number | Promise<number> {
  const args = [...argv];
  if (args.includes('-h') || args.includes('--help')) { process.stdout.write(GDB_HELP); return 0; }
  const portArg = take(args, '--port');
  const port = portArg === undefined ? 1234 : parseInteger('--port', portArg, 0, 65535);
  const host = take(args, '--host') ?? '127.0.0.1';
  const traceOut = take(args, '--trace');
  for (const unsupported of ['--serial-in', '--max-insns', '--hash']) {
    if (args.some((a) => a === unsupported || a.startsWith(unsupported + '='))) throw new UsageError(`${unsupported} is not available with gdb`);
  }
  const o = parseRunArgs(args);
  if (o === 'help') { process.stdout.write(GDB_HELP); return 0; }
  let session: Session;
  let what: string;
  if (isTrace(o.image)) {
    if (traceOut) throw new UsageError('--trace is for live sessions: a trace is already a recording');
    session = Session.replay(new TraceReader(o.image));
    what = `replay of ${o.image} (${session.endPosition()} instructions)`;
  } else {
    let image: Uint8Array;
    try { image = readFileSync(o.image); } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new ImageError(`${o.image}: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message}`);
    }
    if (traceOut && existsSync(traceOut)) throw new UsageError(`--trace ${traceOut}: the file exists (a trace is never overwritten)`);
    try {
      session = Session.live({ ramMiB: o.mem, smp: o.smp, cmdline: o.cmdline, quantum: o.quantum, hv: o.hv, mbec: o.mbec, hvTestdev: o.hvTestdev }, image,
        { ...DEFAULT_SESSION, trace: traceOut, imageName: basename(o.image) });
    } catch (e) {
      if (e instanceof ImageError) throw new ImageError(`${o.image}: ${e.message}`);
      throw e;
    }
    what = `live session on ${o.image}, recording ${traceOut ? `into ${traceOut}` : 'in memory'}`;
  }
  return serve(session, host, port, what, o.image);
}

async function serve(session: Session, host: string, port: number, what: string, image: string): Promise<number> {
  const log = (m: string) => process.stderr.write(`vsmrr gdb: ${m}\n`);
  let server: GdbServer;
  try {
    server = await GdbServer.listen(session, { host, port, log, serial: (b) => process.stdout.write(b) });
  } catch (e) {
    session.close();
    log(`cannot listen on ${host}:${port}: ${(e as Error).message}`);
    return 2;
  }
  const shown = host.includes(':') ? `[${host}]` : host;
  const symbols = image.replace(/\.elf$/, '.elf64');
  const elf = symbols !== image && existsSync(symbols) ? `${symbols} ` : '';
  log(`${what}`);
  log(`listening on ${shown}:${server.port}; connect with:`);
  process.stderr.write(`  gdb ${elf}-ex 'target remote ${shown}:${server.port}'\n`);
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void server.close().then(() => {
        try { session.close(); } catch (e) { log(`closing the session: ${(e as Error).message}`); }
        resolve(0);
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

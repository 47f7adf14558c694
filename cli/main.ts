#!/usr/bin/env node
// The `vsmrr` command: dispatches to the subcommands.

import { ConfigError } from '../core/machine/machine.js';
import { ImageError } from '../core/machine/multiboot.js';
import { TraceError } from '../recorder/trace.js';
import { MAIN_HELP, RUN_HELP, UsageError, parseRunArgs, runCommand } from './run.js';
import { GDB_HELP, gdbCommand } from './gdb.js';
import { dapCommand } from './dap.js';
import { demoCommand } from './demo.js';
import { eventsCommand, infoCommand, recordCommand, replayCommand } from './trace-commands.js';

export function main(argv: string[]): number | Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined: case '-h': case '--help': case 'help':
        if (cmd === 'help' && rest[0] === 'run') { process.stdout.write(RUN_HELP); return 0; }
        if (cmd === 'help' && rest[0] === 'gdb') { process.stdout.write(GDB_HELP); return 0; }
        process.stdout.write(MAIN_HELP); return cmd === undefined ? 2 : 0;
      case 'run': {
        const o = parseRunArgs(rest);
        if (o === 'help') { process.stdout.write(RUN_HELP); return 0; }
        return runCommand(o);
      }
      case 'record': return recordCommand(rest);
      case 'replay': return replayCommand(rest);
      case 'info': return infoCommand(rest);
      case 'events': return eventsCommand(rest);
      case 'dap': return dapCommand(rest);
      case 'gdb': return gdbCommand(rest);
      case 'demo': return demoCommand(rest);
      default:
        process.stderr.write(`vsmrr: unknown command '${cmd}' (see 'vsmrr --help')\n`);
        return 2;
    }
  } catch (e) {
    if (e instanceof UsageError) { process.stderr.write(`vsmrr ${cmd}: ${e.message}\n`); return 2; }
    if (e instanceof TraceError) { process.stderr.write(`vsmrr: ${e.message}\n`); return 2; }
    if (e instanceof ImageError) { process.stderr.write(`vsmrr: ${e.message}\n`); return 2; }
    if (e instanceof ConfigError) { process.stderr.write(`vsmrr: ${e.message}\n`); return 2; }
    throw e;
  }
}

const status = main(process.argv.slice(2));
if (typeof status === 'number') process.exitCode = status;
else void status.then((code) => { process.exitCode = code; });

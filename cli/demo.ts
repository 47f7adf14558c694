// `vsmrr demo`: what a new user runs first (npm start). Records the secure-intercept example guest
// into a trace, shows the trace's summary and its first intercepts, and says how to open it in gdb and
// in VS Code.

import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { eventsCommand, infoCommand, recordCommand } from './trace-commands.js';

const GUEST = join('guests', 'build', 'vsm-intercept.elf');
const TRACE = 'demo.vsmtrace';

export function demoCommand(args: string[]): number {
  if (args.length) { process.stderr.write('vsmrr demo: takes no arguments\n'); return 2; }
  if (!existsSync(GUEST)) { process.stderr.write(`vsmrr demo: ${GUEST} is missing: build the example guests first (npm run guests)\n`); return 2; }
  rmSync(TRACE, { force: true });
  process.stdout.write(`== Recording ${GUEST} (2 VPs, VTL0 and VTL1) into ${TRACE}; the guest's own output follows\n`);
  const rc = recordCommand([GUEST, '--smp', '2', '-o', TRACE]);
  if (rc !== 0) return rc;
  process.stdout.write(`\n== vsmrr info ${TRACE}\n`);
  infoCommand([TRACE]);
  process.stdout.write(`\n== vsmrr events ${TRACE} --kind intercept --limit 3\n`);
  eventsCommand([TRACE, '--kind', 'intercept', '--limit', '3']);
  process.stdout.write(`
== Debug the recording
gdb (two terminals):
  node dist/cli/main.js gdb ${TRACE}
  gdb -ex 'target remote :1234' ${GUEST}64
    (gdb) monitor break-on intercept     stop where VTL0 is intercepted and VTL1 is entered
    (gdb) continue                        -> a VTL1 thread ("vp0 VTL1"), $vtl == 1
    (gdb) reverse-stepi                   -> back in VTL0, on the instruction that caused the intercept
    (gdb) info threads                    one thread per VP and VTL
VS Code: npm run package:extension, then "Extensions: Install from VSIX..." with dist/vsmrr-debug.vsix;
  set "vsmrr.command" to ${process.cwd()}/dist/cli/main.js (or npm link, for vsmrr on PATH) and add
  to .vscode/launch.json:
    { "type": "vsmrr", "request": "launch", "name": "demo trace", "trace": "\${workspaceFolder}/${TRACE}" }
  Step Back and Reverse Continue work as the other buttons do; the VSM scope shows the entry reason.
The trace is one file: send it with a bug report and it replays the same anywhere (vsmrr replay ${TRACE} --verify).
`);
  return 0;
}

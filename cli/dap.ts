// `vsmrr dap`: the Debug Adapter Protocol server for VS Code (dap/). On standard input/output by
// default (how VS Code runs an adapter executable); with --port P as a TCP server on 127.0.0.1 that
// takes any number of debug sessions one connection each (for debugging the adapter).

import { serveStdio, serveTcp } from '../dap/server.js';
import { UsageError, parseInteger } from './run.js';

export const DAP_HELP = `usage: vsmrr dap [--port P]

Serve the Debug Adapter Protocol for the VS Code extension (debug type 'vsmrr'); launch
configurations and custom requests are described in dap/README.md.

options:
  --port P     listen on 127.0.0.1:P instead of standard input/output, one debug session per
               connection (in VS Code: "debugServer": P in the launch configuration)
  -h, --help   this help
`;

export function dapCommand(args: string[]): number {
  let port: number | null = null;
  for (let k = 0; k < args.length; k++) {
    const a = args[k];
    if (a === '-h' || a === '--help') { process.stdout.write(DAP_HELP); return 0; }
    if (a === '--port') port = parseInteger('--port', args[++k], 0, 65535);
    else if (a.startsWith('--port=')) port = parseInteger('--port', a.slice(7), 0, 65535);
    else throw new UsageError(`unknown argument '${a}' (see 'vsmrr dap --help')`);
  }
  if (port === null) { serveStdio(); return 0; }
  serveTcp(port).then((server) => {
    const addr = server.address();
    process.stderr.write(`vsmrr dap: listening on 127.0.0.1:${typeof addr === 'object' && addr ? addr.port : port}\n`);
  }, (e: Error) => {
    process.stderr.write(`vsmrr dap: cannot listen on port ${port}: ${e.message}\n`);
    process.exitCode = 2;
  });
  return 0;
}

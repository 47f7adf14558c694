// Serving the adapter: on standard input/output (what VS Code's "executable" adapters speak), or as a
// TCP server on 127.0.0.1 that starts one debug session per connection (for debugging the adapter
// itself, and for tests that run it in-process).

import { createServer, type Server } from 'node:net';
import { VsmrrDebugSession } from './adapter.js';

export function serveStdio(): VsmrrDebugSession {
  const s = new VsmrrDebugSession();
  s.setRunAsServer(false);
  s.start(process.stdin, process.stdout);
  return s;
}

/** Listen on 127.0.0.1:port (0: any free port); resolves once listening. */
export function serveTcp(port: number, host = '127.0.0.1'): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      const s = new VsmrrDebugSession();
      s.setRunAsServer(true);
      s.start(socket, socket);
      socket.on('close', () => s.shutdown());
    });
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

// The TCP side: one debugger at a time (a second one is told so and closed), and the server keeps
// listening after a client leaves, so gdb can reconnect. A connection runs its packets strictly in
// order; while a resume runs it keeps reading, so the interrupt byte (or the client going away)
// cancels the resume between two of its steps.

import { createServer, type Server, type Socket } from 'node:net';
import type { Session } from '../recorder/session.js';
import { FrameReader } from './framing.js';
import { parse, type Request } from './parse.js';
import { handle, type Connection } from './handlers.js';
import { Stub, defaultSettings, type StubHooks, type StubSettings } from './stub.js';

export class ClientConnection implements Connection {
  readonly stub: Stub;
  private readonly reader: FrameReader;
  private queue: Promise<void> = Promise.resolve();
  /** Resume requests received and not yet answered; 0x03 only counts while there is one. */
  private resumes = 0;
  private interrupted = false;
  private closed = false;
  private noAckAfterReply = false;

  constructor(session: Session, settings: StubSettings, hooks: StubHooks, private readonly write: (raw: Buffer) => void) {
    this.stub = new Stub(session, settings, hooks);
    this.reader = new FrameReader({
      packet: (p) => this.packet(p),
      interrupt: () => { if (this.resumes > 0) this.interrupted = true; },
      write: (raw) => { if (!this.closed) this.write(raw); },
    });
  }

  feed(chunk: Uint8Array): void { this.reader.feed(chunk); }

  /** The client went away: stop what runs for it and drop what it inserted. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = this.queue.then(() => this.stub.removeAll());
  }

  /** Resolves when every packet received so far has been answered. */
  idle(): Promise<void> { return this.queue; }

  output(text: string): void {
    if (!this.closed) this.reader.send('O' + Buffer.from(text, 'utf8').toString('hex'));
  }

  startNoAck(): void { this.noAckAfterReply = true; }
  cancelled(): boolean { return this.interrupted || this.closed; }
  detached(): void { this.stub.removeAll(); }

  private packet(payload: Buffer): void {
    const req = parse(payload);
    const resume = isResume(req);
    if (resume) this.resumes++;
    this.queue = this.queue.then(async () => {
      try {
        if (this.closed) return;
        const reply = await handle(req, this);
        if (reply !== null && !this.closed) this.reader.send(reply);
        if (this.noAckAfterReply) { this.reader.noAck = true; this.noAckAfterReply = false; }
      } finally {
        if (resume && --this.resumes === 0) this.interrupted = false;
      }
    });
  }
}

function isResume(r: Request): boolean { return r.kind === 'resume' || r.kind === 'reverse'; }

export interface ServeOptions extends StubHooks {
  host?: string;
  /** 0 picks a free port (see GdbServer.port). */
  port?: number;
}

export class GdbServer {
  private active: { socket: Socket; conn: ClientConnection } | null = null;
  readonly settings: StubSettings = defaultSettings();

  private constructor(private readonly server: Server, readonly session: Session, private readonly hooks: StubHooks, readonly host: string, readonly port: number) {
    server.on('connection', (s) => this.accept(s));
  }

  static listen(session: Session, opts: ServeOptions = {}): Promise<GdbServer> {
    const host = opts.host ?? '127.0.0.1';
    const server = createServer();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 1234, host, () => {
        server.off('error', reject);
        const addr = server.address();
        const port = typeof addr === 'object' && addr ? addr.port : opts.port ?? 1234;
        resolve(new GdbServer(server, session, { log: opts.log, serial: opts.serial }, host, port));
      });
    });
  }

  /** Whether a debugger is connected now. */
  connected(): boolean { return this.active !== null; }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.active) {
      this.hooks.log?.(`refused ${peer}: a debugger is already connected`);
      // An error reply the client can show, then close.
      socket.end('$E01#a6');
      return;
    }
    const conn = new ClientConnection(this.session, this.settings, this.hooks, (raw) => { if (!socket.destroyed) socket.write(raw); });
    this.active = { socket, conn };
    this.hooks.log?.(`debugger connected from ${peer}`);
    socket.on('data', (d) => conn.feed(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      conn.close();
      // The next client waits until this one's last packet (a running resume) is done.
      void conn.idle().then(() => {
        if (this.active?.conn === conn) this.active = null;
        this.hooks.log?.(`debugger ${peer} disconnected; waiting for the next one`);
      });
    });
  }

  /** Stop listening and drop the client. */
  close(): Promise<void> {
    this.active?.socket.destroy();
    return new Promise((res) => this.server.close(() => res()));
  }
}

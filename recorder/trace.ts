// The trace file: one SQLite database (better-sqlite3) holding everything needed to replay a run on
// another machine. Schema and views are documented in traces/FORMAT.md; this module is the only one
// that speaks SQL. A trace is untrusted input: every read validates what it gets and failures
// become TraceError with a one-line message.

import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { pack, unpack } from 'msgpackr';

export const TRACE_FORMAT = 'vsmrr-trace';
export const TRACE_FORMAT_VERSION = 1;

export class TraceError extends Error {}

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE images (sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, bytes BLOB NOT NULL);
CREATE TABLE inputs (id INTEGER PRIMARY KEY, icount INTEGER NOT NULL, kind TEXT NOT NULL, data BLOB NOT NULL);
CREATE TABLE events (
  id INTEGER PRIMARY KEY, icount INTEGER NOT NULL, vp INTEGER NOT NULL, vtl INTEGER, kind TEXT NOT NULL,
  from_vtl INTEGER, to_vtl INTEGER, reason INTEGER, code INTEGER, status INTEGER, gpa INTEGER, access INTEGER,
  register INTEGER, rip TEXT, payload BLOB NOT NULL);
CREATE INDEX events_by_kind ON events(kind, icount);
CREATE INDEX events_by_icount ON events(icount);
CREATE TABLE checkpoints (icount INTEGER PRIMARY KEY, base INTEGER, encoding TEXT NOT NULL, data BLOB NOT NULL);
CREATE TABLE hashes (icount INTEGER PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE bookmarks (id INTEGER PRIMARY KEY, icount INTEGER NOT NULL, vp INTEGER, name TEXT NOT NULL);
CREATE VIEW vtl_transitions AS
  SELECT icount, vp, from_vtl, to_vtl,
    CASE reason WHEN 0 THEN 'return' WHEN 1 THEN 'vtl call' WHEN 2 THEN 'interrupt' ELSE CAST(reason AS TEXT) END AS reason,
    rip AS rip_after FROM events WHERE kind = 'vtl-switch';
CREATE VIEW intercepts AS
  SELECT icount, vp, vtl, printf('0x%08x', code) AS message_type, gpa, printf('0x%x', gpa) AS gpa_hex,
    CASE access WHEN 0 THEN 'read' WHEN 1 THEN 'write' WHEN 2 THEN 'execute' END AS access, register, rip AS cause_rip
  FROM events WHERE kind = 'intercept';
CREATE VIEW hypercalls AS
  SELECT icount, vp, vtl, printf('0x%04x', code) AS code, printf('0x%04x', status) AS status FROM events WHERE kind = 'hypercall';
CREATE VIEW protections AS
  SELECT icount, vp, vtl AS protected_vtl, gpa AS gpn, printf('0x%x', gpa * 4096) AS gpa_hex, code AS mask FROM events WHERE kind = 'protection';
CREATE VIEW interrupts AS
  SELECT icount, vp, vtl, code AS vector FROM events WHERE kind = 'interrupt';
CREATE VIEW exceptions AS
  SELECT icount, vp, vtl, code AS vector, rip AS fault_rip FROM events WHERE kind = 'exception';
CREATE VIEW serial_output AS
  SELECT icount, vp, code AS byte FROM events WHERE kind = 'serial';
`;

/** One event row as stored. `payload` is the full event, msgpackr-encoded. */
export interface EventRow {
  icount: number; vp: number; vtl: number | null; kind: string;
  from_vtl?: number | null; to_vtl?: number | null; reason?: number | null; code?: number | null; status?: number | null;
  gpa?: number | null; access?: number | null; register?: number | null; rip?: string | null;
  payload: Uint8Array;
}

export class TraceWriter {
  private readonly db: Database.Database;
  private readonly insertEvent: Database.Statement;
  private readonly pending: EventRow[] = [];
  private readonly flushBatch: (rows: EventRow[]) => void;

  constructor(readonly path: string) {
    if (existsSync(path)) throw new TraceError(`${path}: already exists (refusing to overwrite a trace)`);
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.insertEvent = this.db.prepare(`INSERT INTO events (icount, vp, vtl, kind, from_vtl, to_vtl, reason, code, status, gpa, access, register, rip, payload)
      VALUES (@icount, @vp, @vtl, @kind, @from_vtl, @to_vtl, @reason, @code, @status, @gpa, @access, @register, @rip, @payload)`);
    this.flushBatch = this.db.transaction((rows: EventRow[]) => {
      for (const r of rows) {
        this.insertEvent.run({ from_vtl: null, to_vtl: null, reason: null, code: null, status: null, gpa: null, access: null, register: null, rip: null, ...r });
      }
    });
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value);
  }

  begin(config: Record<string, unknown>, image: { name: string; bytes: Uint8Array }, emulatorVersion: string): void {
    const sha = createHash('sha256').update(image.bytes).digest('hex');
    this.db.transaction(() => {
      this.setMeta('format', TRACE_FORMAT);
      this.setMeta('format_version', String(TRACE_FORMAT_VERSION));
      this.setMeta('emulator_version', emulatorVersion);
      this.setMeta('complete', '0');
      this.setMeta('image_sha256', sha);
      for (const [k, v] of Object.entries(config)) this.db.prepare('INSERT INTO config (key, value) VALUES (?, ?)').run(k, JSON.stringify(v));
      this.db.prepare('INSERT INTO images (sha256, name, bytes) VALUES (?, ?, ?)').run(sha, image.name, Buffer.from(image.bytes));
    })();
  }

  input(icount: number, kind: string, data: Uint8Array): void {
    this.db.prepare('INSERT INTO inputs (icount, kind, data) VALUES (?, ?, ?)').run(icount, kind, Buffer.from(data));
  }

  event(row: EventRow): void {
    this.pending.push(row);
    if (this.pending.length >= 1000) this.flush();
  }

  hash(icount: number, hash: string): void {
    this.flush();
    this.db.prepare('INSERT OR REPLACE INTO hashes (icount, hash) VALUES (?, ?)').run(icount, hash);
  }

  checkpoint(icount: number, base: number | null, encoding: string, data: Uint8Array): void {
    this.flush();
    this.db.prepare('INSERT OR REPLACE INTO checkpoints (icount, base, encoding, data) VALUES (?, ?, ?, ?)').run(icount, base, encoding, Buffer.from(data));
  }

  bookmark(icount: number, vp: number, name: string): void {
    this.flush();
    this.db.prepare('INSERT INTO bookmarks (icount, vp, name) VALUES (?, ?, ?)').run(icount, vp, name);
  }

  /** Commit buffered events (a recording killed later keeps everything up to here). */
  flush(): void {
    if (!this.pending.length) return;
    this.flushBatch(this.pending.splice(0));
  }

  finish(summary: Record<string, string>): void {
    this.flush();
    this.db.transaction(() => {
      for (const [k, v] of Object.entries(summary)) this.setMeta(k, v);
      this.setMeta('complete', '1');
    })();
    // A finished trace is one self-contained file: fold the WAL in and leave WAL mode.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.pragma('journal_mode = DELETE');
    this.db.close();
  }
}

const REQUIRED_TABLES = ['meta', 'config', 'images', 'inputs', 'events', 'checkpoints', 'hashes', 'bookmarks'];

export class TraceReader {
  private readonly db: Database.Database;
  readonly meta: Record<string, string>;

  constructor(readonly path: string) {
    if (!existsSync(path)) throw new TraceError(`${path}: no such file`);
    if (statSync(path).isDirectory()) throw new TraceError(`${path}: is a directory`);
    try {
      this.db = new Database(path, { readonly: true, fileMustExist: true });
      const tables = new Set((this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
      const missing = REQUIRED_TABLES.filter((t) => !tables.has(t));
      if (missing.length) throw new TraceError(`${path}: not a vsmrr trace (missing table${missing.length > 1 ? 's' : ''} ${missing.join(', ')})`);
      this.meta = Object.fromEntries((this.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
    } catch (e) {
      if (e instanceof TraceError) throw e;
      throw new TraceError(`${path}: cannot be read as a trace (${(e as Error).message.split('\n')[0]})`);
    }
    if (this.meta.format !== TRACE_FORMAT) throw new TraceError(`${path}: not a vsmrr trace (format '${this.meta.format ?? ''}')`);
    const v = Number(this.meta.format_version);
    if (v !== TRACE_FORMAT_VERSION) {
      throw new TraceError(`${path}: trace format version ${this.meta.format_version} is not supported (this vsmrr reads version ${TRACE_FORMAT_VERSION})`);
    }
  }

  get complete(): boolean { return this.meta.complete === '1'; }

  private guard<T>(what: string, f: () => T): T {
    try { return f(); } catch (e) {
      if (e instanceof TraceError) throw e;
      throw new TraceError(`${this.path}: damaged ${what} (${(e as Error).message.split('\n')[0]})`);
    }
  }

  config(): Record<string, unknown> {
    return this.guard('configuration', () => Object.fromEntries((this.db.prepare('SELECT key, value FROM config').all() as { key: string; value: string }[])
      .map((r) => [r.key, JSON.parse(r.value)])));
  }

  image(): { name: string; bytes: Uint8Array } {
    return this.guard('image', () => {
      const r = this.db.prepare('SELECT sha256, name, bytes FROM images').get() as { sha256: string; name: string; bytes: Buffer } | undefined;
      if (!r) throw new TraceError(`${this.path}: the trace holds no guest image`);
      const sha = createHash('sha256').update(r.bytes).digest('hex');
      if (sha !== r.sha256) throw new TraceError(`${this.path}: the guest image is damaged (SHA-256 mismatch)`);
      return { name: r.name, bytes: new Uint8Array(r.bytes) };
    });
  }

  inputs(): { icount: number; kind: string; data: Uint8Array }[] {
    return this.guard('inputs', () => (this.db.prepare('SELECT icount, kind, data FROM inputs ORDER BY id').all() as { icount: number; kind: string; data: Buffer }[])
      .map((r) => ({ icount: r.icount, kind: r.kind, data: new Uint8Array(r.data) })));
  }

  hashes(): { icount: number; hash: string }[] {
    return this.guard('state hashes', () => this.db.prepare('SELECT icount, hash FROM hashes ORDER BY icount').all() as { icount: number; hash: string }[]);
  }

  events(filter: { kind?: string; vp?: number; vtl?: number; from?: number; to?: number; limit?: number } = {}): (EventRow & { event: Record<string, unknown> })[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.kind) { where.push('kind = ?'); args.push(filter.kind); }
    if (filter.vp !== undefined) { where.push('vp = ?'); args.push(filter.vp); }
    if (filter.vtl !== undefined) { where.push('vtl = ?'); args.push(filter.vtl); }
    if (filter.from !== undefined) { where.push('icount >= ?'); args.push(filter.from); }
    if (filter.to !== undefined) { where.push('icount <= ?'); args.push(filter.to); }
    const sql = `SELECT * FROM events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id ${filter.limit ? 'LIMIT ' + Math.floor(filter.limit) : ''}`;
    return this.guard('events', () => (this.db.prepare(sql).all(...args) as EventRow[]).map((r) => ({ ...r, event: unpack(r.payload as Buffer) as Record<string, unknown> })));
  }

  eventCounts(): { kind: string; n: number }[] {
    return this.guard('events', () => this.db.prepare('SELECT kind, count(*) AS n FROM events GROUP BY kind ORDER BY kind').all() as { kind: string; n: number }[]);
  }

  checkpoints(): { icount: number; base: number | null; encoding: string; bytes: number }[] {
    return this.guard('checkpoints', () => this.db.prepare('SELECT icount, base, encoding, length(data) AS bytes FROM checkpoints ORDER BY icount').all() as { icount: number; base: number | null; encoding: string; bytes: number }[]);
  }

  checkpointData(icount: number): { base: number | null; encoding: string; data: Uint8Array } {
    return this.guard('checkpoint', () => {
      const r = this.db.prepare('SELECT base, encoding, data FROM checkpoints WHERE icount = ?').get(icount) as { base: number | null; encoding: string; data: Buffer } | undefined;
      if (!r) throw new TraceError(`${this.path}: no checkpoint at icount ${icount}`);
      return { base: r.base, encoding: r.encoding, data: new Uint8Array(r.data) };
    });
  }

  bookmarks(): { icount: number; vp: number | null; name: string }[] {
    return this.guard('bookmarks', () => this.db.prepare('SELECT icount, vp, name FROM bookmarks ORDER BY id').all() as { icount: number; vp: number | null; name: string }[]);
  }

  close(): void { this.db.close(); }
}

export { pack, unpack };

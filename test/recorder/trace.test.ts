// Recording and replay: record → replay gives the same serial output, stop and state hashes; damaged
// traces give one-line errors; a recording killed with SIGKILL replays up to its last commit.

import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../core/machine/machine.js';
import { TraceError, TraceReader, TraceWriter } from '../../recorder/trace.js';
import { recordRun } from '../../recorder/recorder.js';
import { replay } from '../../recorder/replay.js';
import { guestImage, requireBuilt } from '../helpers/guests.js';
import { scratchDir } from '../helpers/toolchain.js';

const DIR = scratchDir('recorder').dir;

function record(name: string, smp: number, cmdline = '', hashEvery = 200_000): { path: string; serial: string; stop: unknown; hash: string } {
  requireBuilt([guestImage(name)]);
  const bytes = readFileSync(guestImage(name));
  const path = join(DIR, `${name}-${smp}-${Math.random().toString(36).slice(2)}.trace`);
  const m = new Machine({ ramMiB: 64, smp, cmdline }, bytes);
  const w = new TraceWriter(path);
  w.begin({ smp, mem: 64, cmdline, quantum: null, hv: true, maxInsns: null }, { name, bytes }, 'test');
  let serial = '';
  const stop = recordRun(m, w, { hashEvery, checkpointEvery: 1_000_000, onEvent: (e) => { if (e.kind === 'serial') serial += String.fromCharCode(e.byte); } });
  w.finish({ final_icount: String(m.icount()), exit_status: '0', stop: JSON.stringify(stop) });
  return { path, serial, stop, hash: m.stateHash() };
}

describe('record and replay', () => {
  // Hash intervals sized so that every guest gets several hash points.
  for (const [name, smp, every] of [['hello', 1, 20_000], ['smp', 4, 200_000], ['apic-timer', 1, 5_000_000], ['usermode', 1, 20_000],
    ['exceptions', 1, 20_000], ['vsm-enable', 2, 100_000], ['vsm-pingpong', 2, 500_000], ['vsm-regs', 2, 200_000],
    ['vsm-protect', 2, 200_000], ['vsm-intercept', 2, 100_000], ['vsm-translate', 2, 200_000], ['vsm-fuzz', 2, 500_000],
    ['vsm-timers', 2, 500_000], ['vsm-tlblock', 4, 500_000], ['vsm-ipi', 4, 500_000], ['cpu-mix', 1, 2_000_000]] as const) {
    it(`${name} (--smp ${smp}): replay matches the recording, twice`, async () => {
      const r = record(name, smp, '', every);
      for (let k = 0; k < 2; k++) {
        // Let the test worker answer its runner between long synchronous runs.
        await new Promise((res) => setImmediate(res));
        const t = new TraceReader(r.path);
        let serial = '';
        const res = replay(t, { verify: true, onEvent: (e) => { if (e.kind === 'serial') serial += String.fromCharCode(e.byte); } });
        t.close();
        expect(res.divergence).toBeNull();
        expect(res.eventDivergence).toBeNull();
        expect(res.hashesChecked).toBeGreaterThan(2);
        expect(res.stop).toEqual(r.stop);
        expect(serial).toBe(r.serial);
      }
    });
  }

  it('the views answer questions in SQL, and checkpoints hold page deltas', () => {
    const r = record('smp', 2);
    const t = new TraceReader(r.path);
    expect(t.complete).toBe(true);
    expect(t.checkpoints().length).toBeGreaterThan(1);
    expect(t.checkpoints()[1].base).toBe(0);
    t.close();
    const db = new Database(r.path, { readonly: true });
    const bytes = db.prepare('SELECT count(*) AS n FROM serial_output').get() as { n: number };
    expect(bytes.n).toBe(r.serial.length);
    db.close();
  });
});

describe('damaged traces', () => {
  const good = () => record('hello', 1).path;

  it('a file that is not a database, or is truncated, gives a one-line error', () => {
    const p = join(DIR, 'garbage.trace');
    writeFileSync(p, Buffer.from('this is not a trace'.repeat(100)));
    expect(() => new TraceReader(p)).toThrow(TraceError);
    expect(() => new TraceReader(p)).toThrow(/cannot be read as a trace|not a vsmrr trace/);
    const q = good();
    truncateSync(q, 3000);
    expect(() => { const t = new TraceReader(q); t.image(); t.events(); }).toThrow(TraceError);
  });

  it('a missing table, a wrong format version and a damaged image are named', () => {
    const p = good();
    const db = new Database(p);
    db.prepare("UPDATE meta SET value = '99' WHERE key = 'format_version'").run();
    db.close();
    expect(() => new TraceReader(p)).toThrow(/format version 99 is not supported/);
    const q = good();
    const db2 = new Database(q);
    db2.exec('DROP TABLE hashes');
    db2.close();
    expect(() => new TraceReader(q)).toThrow(/missing table hashes/);
    const r = good();
    const db3 = new Database(r);
    db3.prepare('UPDATE images SET bytes = ?').run(Buffer.from([1, 2, 3]));
    db3.close();
    expect(() => new TraceReader(r).image()).toThrow(/SHA-256 mismatch/);
  });

  it('a missing file and a directory are named', () => {
    expect(() => new TraceReader(join(DIR, 'nope.trace'))).toThrow(/no such file/);
    expect(() => new TraceReader(DIR)).toThrow(/is a directory/);
  });
});

describe('crash safety', () => {
  it('a recording killed with SIGKILL opens as incomplete and replays up to its last commit', async () => {
    requireBuilt([guestImage('bench')]);
    for (const delay of [2500, 4000]) {
      const path = join(DIR, `killed-${delay}.trace`);
      if (existsSync(path)) rmSync(path);
      const child = spawn(process.execPath, ['dist/cli/main.js', 'record', guestImage('bench'), '--cmdline', 'iters=50', '--mem', '16', '-o', path,
        '--hash-every', '200000', '--checkpoint-every', '1000000'], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      expect(existsSync(path)).toBe(true);
      // A copy, as someone who received the file would open it (no -wal sidecar beyond what was synced).
      const t = new TraceReader(path);
      expect(t.complete).toBe(false);
      const hashes = t.hashes();
      expect(hashes.length, `no state hash committed ${delay} ms into the recording`).toBeGreaterThan(1);
      const last = hashes.at(-1)!;
      const res = replay(t, { verify: true });
      t.close();
      expect(res.divergence).toBeNull();
      expect(res.icount).toBe(last.icount);
      void copyFileSync;
    }
  }, 120_000);
});

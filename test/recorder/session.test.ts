// The session API over a live machine: step and reverse-step, continue to an event and back to the
// previous one (found in the event log), registers of both VTLs, memory reads.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Session } from '../../recorder/session.js';
import { guestImage, requireBuilt } from '../helpers/guests.js';

function live(name: string, smp: number): Session {
  requireBuilt([guestImage(name)]);
  return Session.live({ ramMiB: 32, smp, cmdline: '' }, readFileSync(guestImage(name)), { checkpointEvery: 50_000, maxCheckpoints: 10 });
}

describe('session', () => {
  it('continues to the next AP start event, and reverse-continues back to the previous one by index lookup', () => {
    const s = live('smp', 3);
    const isStart = (e: { kind: string }) => e.kind === 'vp-start';
    const a = s.continue({ until: isStart });
    expect(a).toMatchObject({ reason: 'event', event: { kind: 'vp-start', vp: 1 } });
    const b = s.continue({ until: isStart });
    expect(b).toMatchObject({ reason: 'event', event: { kind: 'vp-start', vp: 2 } });
    const hashAtB = s.machine.stateHash();
    s.continue({ limit: b.icount + 20_000 });
    const back = s.reverseContinue({ until: isStart });
    expect(back).toMatchObject({ reason: 'event', icount: b.icount });
    expect(s.machine.stateHash()).toBe(hashAtB);
    const back2 = s.reverseContinue({ until: isStart });
    expect(back2).toMatchObject({ reason: 'event', icount: a.icount });
  });

  it('step and reverse-step move one VP by one instruction; the start of the recording is a stop', () => {
    const s = live('hello', 1);
    const r0 = s.readRegister(0, 0, 'rip');
    const st = s.step(0);
    expect(st).toMatchObject({ reason: 'step', vp: 0 });
    expect(s.readRegister(0, 0, 'rip')).not.toBe(r0);
    s.reverseStep(0);
    expect(s.readRegister(0, 0, 'rip')).toBe(r0);
    expect(s.reverseStep(0)).toEqual({ reason: 'start-of-recording', icount: 0, vp: 0, vtl: 0 });
  });

  it('reads memory through the page tables and physically', () => {
    const s = live('hello', 1);
    s.continue({ limit: 30_000 });
    const rip = s.readRegister(0, 0, 'rip');
    const bytes = s.readMemory({ vp: 0, vtl: 0 }, rip, 4);
    expect(bytes.length).toBe(4);
    const gpa = s.translate(0, 0, rip)!;
    expect(Array.from(s.readMemory('physical', BigInt(gpa), 4))).toEqual(Array.from(bytes));
    expect(() => s.readRegisters(0, 1)).toThrow(/VP 0 has no VTL1/);
  });
});

describe('session: watchpoints', () => {
  it('a write watchpoint stops after the write going forward, and before it going backward with the old value in memory', () => {
    const s = live('hello', 1);
    s.continue({ limit: 20_000 });
    // A stack slot below the current frame: later calls write it.
    const addr = s.readRegister(0, 0, 'rsp') - 16n;
    const read = () => Buffer.from(s.readMemory({ vp: 0, vtl: 0 }, addr, 8)).readBigUInt64LE();
    // Oracle: every write hit going forward, with the value before and after.
    s.addWatchpoint({ addr, len: 8, kind: 'write' });
    const hits: { icount: number; before: bigint; after: bigint; rip: bigint }[] = [];
    let before = read();
    for (let k = 0; k < 4; k++) {
      const st = s.continue();
      if (st.reason !== 'watchpoint') break;
      expect(st.access).toBe('write');
      expect(st.addr >= addr && st.addr < addr + 8n).toBe(true);
      hits.push({ icount: st.icount, before, after: read(), rip: s.readRegister(0, 0, 'rip') });
      before = read();
    }
    expect(hits.length).toBeGreaterThanOrEqual(2);
    // Backwards from the last hit: the same writes, newest first, each stop before its write.
    for (let k = hits.length - 1; k >= 0; k--) {
      const st = s.reverseContinue();
      expect(st.reason).toBe('watchpoint');
      expect(st.icount).toBe(hits[k].icount - 1);
      expect(read()).toBe(hits[k].before);
      // One step forward executes the write again.
      const f = s.step(0);
      expect(f).toMatchObject({ reason: 'watchpoint', icount: hits[k].icount });
      expect(read()).toBe(hits[k].after);
      s.reverseStep(0);
    }
    // Further back: writes from before the watchpoint was set, or the start.
    const older = s.reverseContinue();
    if (older.reason === 'watchpoint') expect(older.icount).toBeLessThan(hits[0].icount - 1);
    else expect(older.reason).toBe('start-of-recording');
  });

  it('read watchpoints and physical watchpoints see the accesses of their kind', () => {
    const s = live('hello', 1);
    s.continue({ limit: 20_000 });
    const addr = s.readRegister(0, 0, 'rsp');
    const gpa = s.translate(0, 0, addr)!;
    const w = s.addWatchpoint({ addr: BigInt(gpa), len: 8, kind: 'access', physical: true });
    expect(s.addWatchpoint({ addr: BigInt(gpa), len: 8, kind: 'access', physical: true }).id).toBe(w.id);
    const st = s.continue({ limit: 400_000 });
    expect(st.reason).toBe('watchpoint');
    if (st.reason === 'watchpoint') expect(st.addr >= BigInt(gpa) && st.addr < BigInt(gpa) + 8n).toBe(true);
    expect(s.removeWatchpoint(w.id)).toBe(true);
    // A slot that a call writes (its return address) is read again by the return.
    const slot = s.readRegister(0, 0, 'rsp') - 8n;
    const ww = s.addWatchpoint({ addr: slot, len: 8, kind: 'write' });
    expect(s.continue()).toMatchObject({ reason: 'watchpoint', access: 'write' });
    s.removeWatchpoint(ww.id);
    s.addWatchpoint({ addr: slot, len: 8, kind: 'read' });
    const r = s.continue();
    expect(r).toMatchObject({ reason: 'watchpoint', access: 'read', addr: slot });
  });
});

describe('session: debugger writes', () => {
  it('a write at the live edge becomes history: seeking back and forward again reapplies it; writes in the past are refused', () => {
    const s = live('hello', 1);
    s.continue({ limit: 30_000 });
    const gpa = 0x7f000n;
    s.writeMemory('physical', gpa, Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
    s.writeRegister(0, 0, 'r15', 0x1234n);
    const at = s.position();
    s.continue({ limit: at + 5_000 });
    const hashAfter = s.machine.stateHash();
    s.seek(at - 1_000);
    expect(Array.from(s.readMemory('physical', gpa, 4))).not.toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(() => s.writeMemory('physical', gpa, Uint8Array.of(1))).toThrow(/in the past/);
    expect(() => s.writeRegister(0, 0, 'rax', 1n)).toThrow(/in the past/);
    s.seek(at + 5_000);
    expect(s.machine.stateHash()).toBe(hashAfter);
    expect(Array.from(s.readMemory('physical', gpa, 4))).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(() => s.writeRegister(0, 0, 'vtl', 1n)).toThrow(/read-only/);
    expect(() => s.writeMemory({ vp: 0, vtl: 0 }, 0xffff_8000_0000_0000n, Uint8Array.of(1))).toThrow(/not mapped/);
  });
});

describe('session: a live session writing a trace, then replayed', () => {
  it('the replay session has the same events, states and end; writes are refused there', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { TraceReader } = await import('../../recorder/trace.js');
    const { replay } = await import('../../recorder/replay.js');
    const dir = mkdtempSync(join(tmpdir(), 'vsmrr-session-'));
    const path = join(dir, 'live.vsmtrace');
    requireBuilt([guestImage('vsm-intercept')]);
    const a = Session.live({ ramMiB: 32, smp: 2, cmdline: '' }, readFileSync(guestImage('vsm-intercept')),
      { checkpointEvery: 100_000, maxCheckpoints: 10, trace: path, imageName: 'vsm-intercept.elf', hashEvery: 50_000 });
    const first = a.continue({ until: { kinds: ['intercept'] } });
    expect(first.reason).toBe('event');
    a.reverseStep(first.vp);
    a.continue({ limit: first.icount + 30_000 });
    a.writeRegister(1, 0, 'r14', 0xfeedn);
    a.bookmark('after-write');
    const end = a.continue();
    expect(end.reason).toBe('end-of-recording');
    const positions = [first.icount, first.icount + 7, Math.floor(end.icount / 2), end.icount - 3];
    const states = positions.map((p) => { a.seek(p); return a.machine.archHash(); });
    const events = a.eventsBetween(0, end.icount).map((e) => e.event);
    a.close();

    const t = new TraceReader(path);
    expect(t.complete).toBe(true);
    const r = replay(t, { verify: true });
    expect(r.divergence).toBeNull();
    expect(r.eventDivergence).toBeNull();
    const b = Session.replay(t, { checkpointEvery: 100_000, maxCheckpoints: 10 });
    expect(b.eventsBetween(0, end.icount).map((e) => e.event)).toEqual(events);
    positions.forEach((p, k) => { b.seek(p); expect(b.machine.archHash(), `at ${p}`).toBe(states[k]); });
    expect(b.bookmarks().map((x) => x.name)).toEqual(['after-write']);
    const e2 = b.continue();
    expect(e2).toMatchObject({ reason: 'end-of-recording', icount: end.icount });
    expect(() => b.writeRegister(0, 0, 'rax', 1n)).toThrow(/replay/);
    expect(() => b.seek(end.icount + 1)).toThrow(/past the end/);
    t.close();
  });
});

describe('session: async resume', () => {
  it('reports progress and stops when cancelled', async () => {
    requireBuilt([guestImage('bench')]);
    const s = Session.live({ ramMiB: 32, smp: 1, cmdline: '' }, readFileSync(guestImage('bench')), { checkpointEvery: 2_000_000, maxCheckpoints: 8 });
    let updates = 0;
    const st = await s.resume({ direction: 'forward' }, { progress: () => { updates++; }, cancelled: () => updates >= 2 });
    expect(st.reason).toBe('interrupted');
    expect(st.icount).toBeGreaterThanOrEqual(2_000_000);
    // The session is usable afterwards, in both directions.
    expect(s.reverseStep(0).reason).toBe('step');
    const back = await s.resume({ direction: 'backward' }, { cancelled: () => false });
    expect(back.reason).toBe('start-of-recording');
  });

  it('event stops: forward to the next VTL entry of a VP, and back to the previous one', () => {
    const s = live('vsm-pingpong', 2);
    const q = { kinds: ['vtl-switch'], vp: 0 };
    const a = s.continue({ until: q });
    expect(a).toMatchObject({ reason: 'event', vp: 0 });
    const b = s.continue({ until: q });
    expect(b.reason).toBe('event');
    expect(b.icount).toBeGreaterThanOrEqual(a.icount);
    if (a.reason === 'event' && b.reason === 'event') {
      expect(b.index).toBeGreaterThan(a.index);
      // Stopped just after the switch: the VP runs in the VTL it switched to.
      expect(b.vtl).toBe((b.event as { to: number }).to);
      const hashAtB = s.machine.archHash();
      // Back from b: the previous one is a (b itself is where we are).
      const back = s.reverseContinue({ until: q });
      expect(back).toMatchObject({ reason: 'event', index: a.index, icount: a.icount });
      expect(back.vtl).toBe((a.event as { to: number }).to);
      // Forward again: b, in the same state as the first time.
      expect(s.continue({ until: q })).toMatchObject({ reason: 'event', index: b.index });
      expect(s.machine.archHash()).toBe(hashAtB);
      // From a little later, backwards: the newest switch before there.
      s.seek(b.icount + 3_000);
      const newest = s.eventsBetween(0, b.icount + 2_999, q).pop()!;
      expect(s.reverseContinue({ until: q })).toMatchObject({ reason: 'event', index: newest.index });
    }
  });
});

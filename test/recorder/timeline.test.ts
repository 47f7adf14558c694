// Reverse execution over the forward machine: seek lands on the same state as a straight run,
// reverse-step then step returns to the identical state, reverse-continue finds the last breakpoint
// hit that a forward scan finds.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../core/machine/machine.js';
import { Timeline } from '../../recorder/timeline.js';
import { guestImage, requireBuilt } from '../helpers/guests.js';

function fresh(name: string, smp: number): Machine {
  requireBuilt([guestImage(name)]);
  return new Machine({ ramMiB: 32, smp, cmdline: '' }, readFileSync(guestImage(name)));
}

function straightTo(name: string, smp: number, icount: number, arch = false): string {
  const m = fresh(name, smp);
  m.run(icount);
  return arch ? m.archHash() : m.stateHash();
}

describe('timeline', () => {
  it('seek to positions in any order lands on the state of a straight run (smp --smp 3)', () => {
    const t = new Timeline(fresh('smp', 3), { checkpointEvery: 150_000, maxCheckpoints: 6 });
    t.forward(900_000);
    // Seeded positions, backwards and forwards.
    for (const p of [612_345, 100_001, 899_999, 333_333, 0, 777_777]) {
      t.seek(p);
      expect(t.position()).toBe(p);
      expect(t.machine.stateHash(), `at ${p}`).toBe(straightTo('smp', 3, p));
    }
    expect(t.checkpointPositions().length).toBeLessThanOrEqual(6);
    expect(t.checkpointPositions()[0]).toBe(0);
  });

  it('reverse-step then step returns to the identical state, for each VP', () => {
    const t = new Timeline(fresh('smp', 2), { checkpointEvery: 100_000, maxCheckpoints: 8 });
    t.forward(500_000);
    for (const vp of [0, 1]) {
      // A debugger stop is a VP-centred position: reach one by stepping that VP first.
      t.step(vp);
      const before = t.machine.stateHash();
      const r = t.machine.vps[vp].retired();
      t.reverseStep(vp);
      expect(t.machine.vps[vp].retired()).toBe(r - 1);
      t.step(vp);
      expect(t.machine.vps[vp].retired()).toBe(r);
      expect(t.machine.stateHash()).toBe(before);
    }
  });

  it('reverse-continue stops at the last hit before the present that a forward scan finds', () => {
    // A breakpoint on the instruction VP0 is at 30000 (hello retires about 50000 in all).
    const probe = fresh('hello', 1);
    probe.run(30_000);
    const st = probe.vps[0].cpu.st;
    const addr = (st.ripHi >>> 0) * 4294967296 + (st.ripLo >>> 0);
    // Forward scan: every hit up to 45000.
    const scan = new Timeline(fresh('hello', 1), { checkpointEvery: 10_000, maxCheckpoints: 10 });
    scan.breakpoints.add(addr);
    const hits: number[] = [];
    for (;;) {
      const s = scan.forward(45_000, true);
      if (s.kind !== 'breakpoint') break;
      hits.push(s.icount);
    }
    expect(hits.length).toBeGreaterThan(1);
    const t = new Timeline(fresh('hello', 1), { checkpointEvery: 10_000, maxCheckpoints: 10 });
    t.forward(45_000);
    t.breakpoints.add(addr);
    const s = t.reverseContinue();
    expect(s).toMatchObject({ kind: 'breakpoint', icount: hits[hits.length - 1], vp: 0 });
    // A breakpoint stop may sit after a scheduling round's bookkeeping that a count stop precedes.
    expect(t.machine.archHash()).toBe(straightTo('hello', 1, hits[hits.length - 1], true));
    // Again: the hit before that one.
    const s2 = t.reverseContinue();
    expect(s2).toMatchObject({ kind: 'breakpoint', icount: hits[hits.length - 2] });
  });
});

describe('timeline: interval summaries', () => {
  it('reverse-continue skips intervals whose code never reached a breakpoint page, and stops where a full search does', () => {
    // Breakpoint candidates: RIPs seen while stepping through the run at a few places.
    const probe = new Timeline(fresh('smp', 2), { checkpointEvery: 40_000, maxCheckpoints: 64 });
    const rips: number[] = [];
    for (const at of [3_000, 90_000, 250_000, 420_000]) {
      probe.seek(at);
      const st = probe.machine.vps[0].cpu.st;
      rips.push((st.ripHi | 0) * 4294967296 + (st.ripLo >>> 0));
    }
    const run = (summaries: boolean) => {
      const t = new Timeline(fresh('smp', 2), { checkpointEvery: 40_000, maxCheckpoints: 64 });
      t.useSummaries = summaries;
      t.forward(600_000);
      const stops: string[] = [];
      for (const addr of rips) {
        t.breakpoints.clear();
        t.breakpoints.add(addr);
        t.seek(600_000);
        const s = t.reverseContinue();
        stops.push(`${s.kind}@${s.icount}:${t.machine.archHash()}`);
      }
      return { stops, replayed: t.intervalsReplayed, summaries: t.summaryCount() };
    };
    const withS = run(true), without = run(false);
    expect(withS.summaries).toBeGreaterThan(5);
    expect(withS.stops).toEqual(without.stops);
    expect(withS.stops.some((x) => x.startsWith('breakpoint'))).toBe(true);
    expect(withS.replayed).toBeLessThan(without.replayed);
  });
});

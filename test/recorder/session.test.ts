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

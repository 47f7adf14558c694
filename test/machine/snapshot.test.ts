// Machine snapshots: a machine restored from a snapshot runs exactly like the original (same final
// state hash, instruction count and serial output), with SMP, timers and the Hyper-V state.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Machine, type MachineSnapshot } from '../../core/machine/machine.js';
import { guestImage, requireBuilt } from '../helpers/guests.js';

function serialOf(m: Machine): string[] {
  const out: string[] = [];
  m.observer = { event: (e) => { if (e.kind === 'serial') out.push(String.fromCharCode(e.byte)); } };
  return out;
}

/** Run `a` to `at`, snapshot, finish both the original and a fresh machine restored from the snapshot. */
async function roundTrip(image: string, cfg: { smp: number; cmdline?: string }, at: number) {
  const yieldToRunner = () => new Promise((res) => setImmediate(res));
  requireBuilt([guestImage(image)]);
  const bytes = readFileSync(guestImage(image));
  const config = { ramMiB: 64, smp: cfg.smp, cmdline: cfg.cmdline ?? '' };
  const a = new Machine(config, bytes);
  a.run(at);
  // The snapshot survives a structured clone (what a trace file's encoder does to it).
  const snap = structuredClone(a.save()) as MachineSnapshot;
  const outA = serialOf(a);
  const stopA = a.run();
  await yieldToRunner();
  const b = new Machine(config, bytes);
  b.restore(snap);
  const outB = serialOf(b);
  const stopB = b.run();
  return { a, b, stopA, stopB, outA: outA.join(''), outB: outB.join('') };
}

describe('machine snapshots', () => {
  it('smp --smp 4, snapshot in the middle: the restored machine finishes identically', async () => {
    const r = await roundTrip('smp', { smp: 4 }, 700_000);
    expect(r.stopA).toEqual({ kind: 'debug-exit', value: 0 });
    expect(r.stopB).toEqual(r.stopA);
    expect(r.b.icount()).toBe(r.a.icount());
    expect(r.b.stateHash()).toBe(r.a.stateHash());
    expect(r.outB).toBe(r.outA);
    expect(r.outA).toContain('SUMMARY');
  });

  it('apic-timer, snapshot while timers are armed: identical', async () => {
    const r = await roundTrip('apic-timer', { smp: 1 }, 400_000);
    expect(r.stopB).toEqual(r.stopA);
    expect(r.b.stateHash()).toBe(r.a.stateHash());
    expect(r.outB).toBe(r.outA);
  });

  it('vsm-timers (2 VPs), snapshot while synthetic and APIC timers of both VTLs are armed: identical', async () => {
    const r = await roundTrip('vsm-timers', { smp: 2 }, 300_000);
    expect(r.stopA).toEqual({ kind: 'debug-exit', value: 0 });
    expect(r.stopB).toEqual(r.stopA);
    expect(r.b.stateHash()).toBe(r.a.stateHash());
    expect(r.outB).toBe(r.outA);
  });

  it('vsm-tlblock (4 VPs), snapshot in the middle of its TLB lock and flush rounds: identical', async () => {
    const r = await roundTrip('vsm-tlblock', { smp: 4 }, 400_000);
    expect(r.stopB).toEqual(r.stopA);
    expect(r.b.stateHash()).toBe(r.a.stateHash());
    expect(r.outB).toBe(r.outA);
  });

  it('restoring into the same machine after it went further (VTL1 enabled since the snapshot) rewinds it exactly', () => {
    requireBuilt([guestImage('vsm-pingpong')]);
    const bytes = readFileSync(guestImage('vsm-pingpong'));
    const config = { ramMiB: 32, smp: 2, cmdline: '' };
    const straight = new Machine(config, bytes);
    straight.run(50_000);
    expect(straight.vps[0].vtls[1]).toBeUndefined();
    straight.run(90_000);
    expect(straight.vps[0].vtls[1]).toBeDefined();
    const m = new Machine(config, bytes);
    m.run(50_000);
    const snap = m.save();
    for (const far of [75_000, 120_000]) {
      m.run(far);
      m.restore(snap);
      expect(m.vps[0].vtls[1]).toBeUndefined();
      m.run(90_000);
      expect(m.stateHash(), `restored after running to ${far}`).toBe(straight.stateHash());
      m.restore(snap);
    }
  });

  it('a snapshot of a different machine is refused with a message', () => {
    requireBuilt([guestImage('hello')]);
    const bytes = readFileSync(guestImage('hello'));
    const a = new Machine({ ramMiB: 64, smp: 1, cmdline: '' }, bytes);
    const b = new Machine({ ramMiB: 64, smp: 2, cmdline: '' }, bytes);
    expect(() => b.restore(a.save())).toThrow(/different machine/);
  });
});

// VINA (spec/vsm.md 5.5) and the VTL interrupt priority rules of 5.4: a VTL0 interrupt while VTL1 runs
// waits in VTL0's APIC; with VsmVina enabled, VTL1 is told once (assist-page flag + its vector).

import { describe, expect, it } from 'vitest';
import type { MachineEvent } from '../../core/machine/events.js';
import { vsmMachine } from './vsm-machine.js';

const ASSIST1 = 0x306000;
const SPIN = [0xeb, 0xfe];

describe('VINA (spec/vsm.md 5.5)', () => {
  function inVtl1(vina: number) {
    const m = vsmMachine(SPIN, SPIN);
    const hv = m.hv!, vp = m.vps[0];
    expect(hv.wrmsr(vp, 1, 0x40000073, ASSIST1 | 1, 0)).toBe(true);
    hv.vps[0].vtl[1].vina = vina;
    vp.activeVtl = 1; // VTL1 runs its loop
    const events: MachineEvent[] = [];
    m.observer = { event: (e) => { if (e.kind === 'vina' || e.kind === 'vtl-switch') events.push(e); } };
    return { m, vp, events };
  }

  it('a VTL0 interrupt while VTL1 runs stays pending in VTL0; VINA sets the assist-page flag and raises its vector in VTL1, once', () => {
    const { m, vp, events } = inVtl1(0x100 | 0x31);
    m.run(1000);
    expect(events).toEqual([]);
    vp.vtls[0]!.apic.acceptInterrupt(0, 0x55, 'edge');
    m.run(2000);
    expect(events.map((e) => `${e.kind}@${e.icount}`)).toEqual(['vina@1000']);
    expect(vp.activeVtl).toBe(1); // no switch to VTL0
    expect(vp.vtls[0]!.apic.pendingVector()).toBe(0x55);
    expect(vp.vtls[1]!.apic.pendingVector()).toBe(0x31);
    expect(m.mem.read8(ASSIST1 + 0x0c) & 1).toBe(1);
    m.run(5000);
    expect(events.length).toBe(1); // latched while the flag is set
    m.mem.write8(ASSIST1 + 0x0c, 0); // VTL1 clears it: VTL0's interrupt is still pending, so again
    m.run(6000);
    expect(events.length).toBe(2);
  });

  it('without VsmVina enabled nothing tells VTL1', () => {
    const { m, vp, events } = inVtl1(0x31);
    vp.vtls[0]!.apic.acceptInterrupt(0, 0x55, 'edge');
    m.run(3000);
    expect(events).toEqual([]);
    expect(vp.vtls[1]!.apic.pendingVector()).toBe(-1);
    expect(m.mem.read8(ASSIST1 + 0x0c)).toBe(0);
  });
});

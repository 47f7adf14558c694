// SynIC end of interrupt (spec/vsm.md 7): a SINT with auto-EOI leaves nothing in service when its
// vector is taken, and ending a SINT's vector (EOI or auto-EOI) retries queued messages as EOM does.

import { describe, expect, it } from 'vitest';
import { plainMachine, enableHypercalls, SIMP0 } from './vsm-machine.js';

const SINT0 = 0x40000090, AUTO_EOI = 0x20000, MASKED = 0x10000;
const SPIN = [0xeb, 0xfe];
const inService = (apic: { mmioRead(off: number, size: 4): number }, v: number) => ((apic.mmioRead(0x100 + 0x10 * (v >> 5), 4) >>> (v & 31)) & 1) === 1;

describe('SynIC EOI', () => {
  it('auto-EOI: taking the SINT vector leaves it out of service; without the bit it stays in service until EOI', () => {
    for (const auto of [true, false]) {
      const m = plainMachine(SPIN);
      const hv = m.hv!, vp = m.vps[0], apic = vp.apic0;
      enableHypercalls(m, 0, 0);
      hv.wrmsr(vp, 0, SINT0 + 3, 0x51 | (auto ? AUTO_EOI : 0), 0);
      hv.synic.post(vp, 0, 3, 0x12345, new Uint8Array(8));
      expect(apic.pendingVector()).toBe(0x51);
      apic.acknowledge(0x51);
      expect(inService(apic, 0x51)).toBe(!auto);
    }
  });

  it('auto-EOI applies only to an unmasked SINT with that vector', () => {
    const m = plainMachine(SPIN);
    const hv = m.hv!, vp = m.vps[0];
    enableHypercalls(m, 0, 0);
    hv.wrmsr(vp, 0, SINT0 + 1, 0x52 | AUTO_EOI | MASKED, 0);
    expect(hv.sintAutoEoi(vp, 0, 0x52)).toBe(false);
    hv.wrmsr(vp, 0, SINT0 + 1, 0x52 | AUTO_EOI, 0);
    expect(hv.sintAutoEoi(vp, 0, 0x52)).toBe(true);
    expect(hv.sintAutoEoi(vp, 0, 0x53)).toBe(false);
  });

  it('the VINA vector with VsmVina auto-EOI (bit 10) set and enabled is ended when taken', () => {
    const m = plainMachine(SPIN);
    const hv = m.hv!, vp = m.vps[0];
    hv.vps[0].vtl[0].vina = 0x30 | 0x100; // enabled, no auto-EOI
    expect(hv.sintAutoEoi(vp, 0, 0x30)).toBe(false);
    hv.vps[0].vtl[0].vina = 0x30 | 0x100 | 0x400;
    expect(hv.sintAutoEoi(vp, 0, 0x30)).toBe(true);
    hv.vps[0].vtl[0].vina = 0x30 | 0x400; // not enabled
    expect(hv.sintAutoEoi(vp, 0, 0x30)).toBe(false);
  });

  it('a queued message moves into its freed slot when the SINT vector is ended by EOI (no EOM written)', () => {
    const m = plainMachine(SPIN);
    const hv = m.hv!, vp = m.vps[0], apic = vp.apic0;
    enableHypercalls(m, 0, 0);
    hv.wrmsr(vp, 0, SINT0 + 2, 0x50, 0);
    const slot = SIMP0 + 2 * 256;
    hv.synic.post(vp, 0, 2, 0x111, new Uint8Array(4));
    hv.synic.post(vp, 0, 2, 0x222, new Uint8Array(4));
    expect(m.mem.read32(slot)).toBe(0x111);
    expect(m.mem.read8(slot + 5) & 1).toBe(1); // message pending: the second one waits
    apic.acknowledge(0x50);
    m.mem.write32(slot, 0); // the guest frees the slot...
    expect(m.mem.read32(slot)).toBe(0);
    apic.mmioWrite(0xb0, 4, 0); // ...and ends the interrupt
    expect(m.mem.read32(slot)).toBe(0x222);
    expect(apic.pendingVector()).toBe(0x50);
  });
});

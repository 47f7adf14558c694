// Per-VTL local APICs (spec/vsm.md 5.1, 5.4) and the synthetic cluster IPIs (2.10): CPUID's APIC bit
// per VTL, disabling one VTL's APIC without touching the other's, TPR isolation, and VTL targeting and
// status codes of HvCallSendSyntheticClusterIpi(Ex).

import { describe, expect, it } from 'vitest';
import { HvCall } from '../../core/hv/defs/hypercall.js';
import { HvStatus as S } from '../../core/hv/defs/status.js';
import type { Machine } from '../../core/machine/machine.js';
import type { Vp } from '../../core/machine/vp.js';
import { hypercall, vsmMachine } from './vsm-machine.js';

const SPIN = [0xeb, 0xfe];
const APIC_BASE_MSR = 0x1b;
const SVR = 0xf0, ICR_LO = 0x300, ICR_HI = 0x310, LVT_TIMER = 0x320, TIMER_INITIAL = 0x380;

/** Leaf 1 EDX as VTL `vtl` of `vp` sees it (the CPUID instruction's host callback of that context). */
function cpuid1Edx(vp: Vp, vtl: number): number {
  const out = new Uint32Array(4);
  vp.vtls[vtl]!.cpu.host.cpuid(1, 0, out);
  return out[3];
}

/** WRMSR IA32_APIC_BASE executed by VTL `vtl` of `vp` (it must be the active VTL to execute). */
function writeApicBase(vp: Vp, vtl: number, lo: number): boolean {
  const was = vp.activeVtl;
  vp.activeVtl = vtl;
  const ok = vp.vtls[vtl]!.cpu.host.wrmsr(APIC_BASE_MSR, lo, 0);
  vp.activeVtl = was;
  return ok;
}

/** A fixed IPI sent through the ICR of VTL `vtl`'s APIC on `vp` to APIC ID `dest`. */
function apicIpi(vp: Vp, vtl: number, dest: number, vector: number): void {
  const a = vp.vtls[vtl]!.apic;
  a.mmioWrite(ICR_HI, 4, dest << 24);
  a.mmioWrite(ICR_LO, 4, vector);
}

function ipiInput(vector: number, inputVtl: number, mask: number): Uint8Array {
  const b = new Uint8Array(16);
  const d = new DataView(b.buffer);
  d.setUint32(0, vector, true); b[4] = inputVtl; d.setUint32(8, mask, true);
  return b;
}

function ipiExInput(vector: number, inputVtl: number, format: number, bankMask: number, banks: number[]): Uint8Array {
  const b = new Uint8Array(24 + banks.length * 8);
  const d = new DataView(b.buffer);
  d.setUint32(0, vector, true); b[4] = inputVtl; d.setUint32(8, format, true); d.setUint32(16, bankMask, true);
  banks.forEach((w, k) => d.setUint32(24 + k * 8, w, true));
  return b;
}

/** The Ex call's control word: the banks after the 24-byte fixed part are the variable header. */
const exControl = (input: Uint8Array) => HvCall.HvCallSendSyntheticClusterIpiEx | (((input.length - 24) / 8) << 17);

/** Two VPs with VTL1; every APIC (both VTLs of both VPs) software-enabled. */
function twoVps(): Machine {
  const m = vsmMachine(SPIN, SPIN, { smp: 2 });
  for (const vp of m.vps) for (const c of vp.vtls) c?.apic.mmioWrite(SVR, 4, 0x1ff);
  return m;
}

describe('per-VTL local APICs (spec/vsm.md 5.1, 5.4)', () => {
  it('CPUID.1:EDX[9] reflects the asking VTL\'s own IA32_APIC_BASE enable bit', () => {
    const m = twoVps();
    const vp = m.vps[0];
    const bit = (vtl: number) => (cpuid1Edx(vp, vtl) >>> 9) & 1;
    expect([bit(0), bit(1)]).toEqual([1, 1]);
    expect(writeApicBase(vp, 1, 0xfee00100)).toBe(true); // VTL1: EN clear
    expect([bit(0), bit(1)]).toEqual([1, 0]);
    expect(writeApicBase(vp, 1, 0xfee00900)).toBe(true);
    expect([bit(0), bit(1)]).toEqual([1, 1]);
    expect(writeApicBase(vp, 0, 0xfee00100)).toBe(true); // VTL0 this time
    expect([bit(0), bit(1)]).toEqual([0, 1]);
    // The rest of leaf 1 EDX does not change.
    expect(cpuid1Edx(vp, 0) | (1 << 9)).toBe(cpuid1Edx(vp, 1));
  });

  for (const how of ['software (SVR)', 'hardware (IA32_APIC_BASE)'] as const) {
    it(`VTL1's APIC disabled in ${how} drops VTL1 IPIs; VTL0's APIC keeps its IPIs and timer`, () => {
      const m = twoVps();
      const [vp0, vp1] = m.vps;
      if (how === 'software (SVR)') vp1.vtls[1]!.apic.mmioWrite(SVR, 4, 0xff);
      else expect(writeApicBase(vp1, 1, 0xfee00000)).toBe(true);
      apicIpi(vp0, 1, 1, 0x50); // VTL1 → VTL1 of VP1: dropped
      apicIpi(vp0, 0, 1, 0x51); // VTL0 → VTL0 of VP1: delivered
      expect(vp1.vtls[1]!.apic.pendingVector()).toBe(-1);
      expect(vp1.vtls[0]!.apic.pendingVector()).toBe(0x51);
      expect(hypercall(m, vp0, HvCall.HvCallSendSyntheticClusterIpi, ipiInput(0x52, 0x11, 2)).status).toBe(S.HV_STATUS_SUCCESS);
      expect(vp1.vtls[1]!.apic.pendingVector()).toBe(-1);
      // VP0: the same with its own VTL1 APIC, and VTL0's one-shot timer still fires.
      if (how === 'software (SVR)') vp0.vtls[1]!.apic.mmioWrite(SVR, 4, 0xff);
      else expect(writeApicBase(vp0, 1, 0xfee00100)).toBe(true);
      const a0 = vp0.vtls[0]!.apic;
      a0.mmioWrite(LVT_TIMER, 4, 0x40);
      a0.mmioWrite(TIMER_INITIAL, 4, 500); // divide by 2 (reset value): 1000 ns
      m.run(5000);
      expect(vp0.activeVtl).toBe(0);
      expect(a0.pendingVector()).toBe(0x40); // VTL0 runs with IF = 0: it stays pending
      expect(vp0.vtls[1]!.apic.pendingVector()).toBe(-1);
    });
  }

  it('TPR (CR8) is per VTL: VTL1 raising it masks only VTL1\'s interrupts, and VTL0 raising it does not hold VTL1\'s', () => {
    const m = twoVps();
    const vp = m.vps[0];
    const [a0, a1] = [vp.vtls[0]!.apic, vp.vtls[1]!.apic];
    a1.writeCr8(15);
    expect(a0.readCr8()).toBe(0);
    apicIpi(vp, 0, 0, 0x50);
    apicIpi(vp, 1, 0, 0x50);
    expect(a0.pendingVector()).toBe(0x50);
    expect(a1.pendingVector()).toBe(-1);
    m.run(2000);
    expect(vp.activeVtl).toBe(0); // the masked VTL1 interrupt does not enter VTL1
    a1.writeCr8(0);
    m.run(4000);
    expect(vp.activeVtl).toBe(1); // now it does
    vp.activeVtl = 0;
    a1.acknowledge(0x50); a1.mmioWrite(0xb0, 4, 0);
    a0.writeCr8(15);
    expect(a1.readCr8()).toBe(0);
    expect(a0.pendingVector()).toBe(-1); // VTL0's own 0x50 is held by its TPR
    apicIpi(vp, 1, 0, 0x60);
    m.run(6000);
    expect(vp.activeVtl).toBe(1); // VTL0's TPR does not hold VTL1's interrupt
  });
});

describe('HvCallSendSyntheticClusterIpi(Ex) (spec/vsm.md 2.10)', () => {
  it('delivers to the caller\'s VTL, or to the VTL named with the use-target-VTL bit, on each VP of the set', () => {
    const m = twoVps();
    const [vp0, vp1] = m.vps;
    const send = (vp: Vp, input: Uint8Array, ex = false) =>
      hypercall(m, vp, ex ? exControl(input) : HvCall.HvCallSendSyntheticClusterIpi, input).status;
    const pending = () => m.vps.map((v) => [v.vtls[0]!.apic.pendingVector(), v.vtls[1]!.apic.pendingVector()]);
    const clear = () => { for (const v of m.vps) for (const c of v.vtls) { const a = c!.apic; for (let p; (p = a.pendingVector()) >= 0;) { a.acknowledge(p); a.mmioWrite(0xb0, 4, 0); } } };
    expect(send(vp0, ipiInput(0x50, 0, 3))).toBe(S.HV_STATUS_SUCCESS);
    expect(pending()).toEqual([[0x50, -1], [0x50, -1]]);
    clear();
    expect(send(vp0, ipiInput(0x51, 0x11, 2))).toBe(S.HV_STATUS_SUCCESS); // VTL0 names VTL1
    expect(pending()).toEqual([[-1, -1], [-1, 0x51]]);
    clear();
    vp1.activeVtl = 1;
    expect(send(vp1, ipiInput(0x52, 0, 1))).toBe(S.HV_STATUS_SUCCESS); // from VTL1: VTL1
    expect(send(vp1, ipiInput(0x53, 0x10, 1))).toBe(S.HV_STATUS_SUCCESS); // VTL1 names VTL0
    vp1.activeVtl = 0;
    expect(pending()).toEqual([[0x53, 0x52], [-1, -1]]);
    clear();
    expect(send(vp0, ipiExInput(0x54, 0x11, 0, 1, [2]), true)).toBe(S.HV_STATUS_SUCCESS);
    expect(send(vp0, ipiExInput(0x55, 0, 1, 0, []), true)).toBe(S.HV_STATUS_SUCCESS); // all VPs
    expect(pending()).toEqual([[0x55, -1], [0x55, 0x54]]);
  });

  it('rejects bad input before delivering anything', () => {
    const m = twoVps();
    const vp0 = m.vps[0];
    const send = (input: Uint8Array, ex = false) =>
      hypercall(m, vp0, ex ? exControl(input) : HvCall.HvCallSendSyntheticClusterIpi, input).status;
    expect(send(ipiInput(0x0f, 0, 2))).toBe(S.HV_STATUS_INVALID_HYPERCALL_INPUT);
    expect(send(ipiInput(0x100, 0, 2))).toBe(S.HV_STATUS_INVALID_HYPERCALL_INPUT);
    expect(send(ipiInput(0x50, 0x31, 2))).toBe(S.HV_STATUS_INVALID_PARAMETER); // reserved input-VTL bits
    expect(send(ipiInput(0x50, 0x12, 2))).toBe(S.HV_STATUS_INVALID_PARAMETER); // no VTL2
    expect(send(ipiInput(0x50, 0, 1 << 5))).toBe(S.HV_STATUS_INVALID_PARAMETER); // VP5 does not exist
    expect(send(ipiExInput(0x50, 0, 2, 0, []), true)).toBe(S.HV_STATUS_INVALID_PARAMETER); // unknown set format
    // One bank in the mask but no variable header to hold it.
    expect(send(ipiExInput(0x50, 0, 0, 1, []), true)).toBe(S.HV_STATUS_INVALID_HYPERCALL_INPUT);
    for (const v of m.vps) for (const c of v.vtls) expect(c!.apic.pendingVector()).toBe(-1);
  });
});

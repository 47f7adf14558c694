// HvCallStartVirtualProcessor and HvCallGetVpIndexFromApicId (spec/vsm.md 2.8, 2.9).

import { describe, expect, it } from 'vitest';
import { HvCall } from '../../core/hv/defs/hypercall.js';
import { HvStatus as S } from '../../core/hv/defs/status.js';
import { VP_STATE } from '../../core/machine/vp.js';
import { OUT, SELF, hypercall, vsmMachine, plainMachine, enableHypercalls } from './vsm-machine.js';

/** StartVirtualProcessor input: flat 32-bit context at `rip`. */
function startInput(vp: number, vtl: number, rip: number, partition = SELF): Uint8Array {
  const b = new Uint8Array(240);
  const d = new DataView(b.buffer);
  b.set(partition, 0); d.setUint32(8, vp, true); d.setUint8(12, vtl);
  d.setUint32(16, rip, true); d.setUint32(16 + 0x10, 2, true);
  const seg = (off: number, sel: number, attr: number) => { d.setUint32(16 + off + 8, 0xffffffff, true); d.setUint16(16 + off + 12, sel, true); d.setUint16(16 + off + 14, attr, true); };
  seg(0x18, 0x08, 0xc09b);
  for (const off of [0x28, 0x38, 0x48, 0x58, 0x68]) seg(off, 0x10, 0xc093);
  d.setUint32(16 + 0xc0, 0x11, true);
  return b;
}

// At 0x100020 (in the image after the BSP's code): mov eax, 7; out 0xf4, eax.
const BSP = [0xeb, 0xfe, ...new Array<number>(18).fill(0x90), 0xb8, 7, 0, 0, 0, 0xe7, 0xf4];
const AP_ENTRY = 0x10000c + 20;

describe('HvCallStartVirtualProcessor (spec/vsm.md 2.8)', () => {
  it('checks partition, VP, VTL and state, then starts the VP in the given VTL with the given context', () => {
    const m = vsmMachine(BSP, [0xeb, 0xfe], { smp: 3 });
    const vp0 = m.vps[0];
    const call = (input: Uint8Array) => hypercall(m, vp0, HvCall.HvCallStartVirtualProcessor, input).status;
    const events: string[] = [];
    m.observer = { event: (e) => { if (e.kind === 'vp-start') events.push(`${e.vp}/${e.vtl}/${e.reason}`); } };
    expect(call(startInput(1, 0, AP_ENTRY, [42, 0, 0, 0, 0, 0, 0, 0]))).toBe(S.HV_STATUS_INVALID_PARTITION_ID);
    expect(call(startInput(0, 0, AP_ENTRY))).toBe(S.HV_STATUS_INVALID_VP_INDEX); // the caller
    expect(call(startInput(3, 0, AP_ENTRY))).toBe(S.HV_STATUS_INVALID_VP_INDEX);
    expect(call(startInput(1, 1, AP_ENTRY))).toBe(S.HV_STATUS_ACCESS_DENIED); // VTL1 from VTL0
    expect(m.vps[1].state).toBe(VP_STATE.WAIT_FOR_SIPI);
    expect(call(startInput(1, 0, AP_ENTRY))).toBe(S.HV_STATUS_SUCCESS);
    expect(m.vps[1].state).toBe(VP_STATE.RUNNING);
    expect(call(startInput(1, 0, AP_ENTRY))).toBe(S.HV_STATUS_INVALID_VP_STATE); // already started
    // From VTL1: VP2 straight into VTL1.
    vp0.activeVtl = 1;
    expect(call(startInput(2, 1, 0x110000))).toBe(S.HV_STATUS_SUCCESS);
    vp0.activeVtl = 0;
    expect(m.vps[2].activeVtl).toBe(1);
    expect(events).toEqual(['1/0/hypercall', '2/1/hypercall']);
    expect(m.run(100_000)).toEqual({ kind: 'debug-exit', value: 7 }); // VP1 runs its entry code
  });

  it('deny_lower_vtl_startup in VTL1\'s VsmPartitionConfig refuses VTL0 callers', () => {
    const m = vsmMachine(BSP, [0xeb, 0xfe], { smp: 2 });
    m.hv!.partitionConfig[1] = 0x40;
    expect(hypercall(m, m.vps[0], HvCall.HvCallStartVirtualProcessor, startInput(1, 0, AP_ENTRY)).status).toBe(S.HV_STATUS_ACCESS_DENIED);
  });
});

describe('HvCallGetVpIndexFromApicId (spec/vsm.md 2.9)', () => {
  it('maps APIC IDs to VP indices (4-byte elements); an unknown APIC ID stops with INVALID_PARAMETER', () => {
    const m = plainMachine([0xeb, 0xfe], { smp: 3 });
    enableHypercalls(m, 0, 0);
    const input = (ids: number[]) => { const b = new Uint8Array(16 + ids.length * 4); b.set(SELF, 0); const d = new DataView(b.buffer); ids.forEach((id, k) => d.setUint32(16 + k * 4, id, true)); return b; };
    const rep = (n: number) => n; // rep count in EDX (the 32-bit ABI's control high half, bits 0..11)
    let r = hypercall(m, m.vps[0], HvCall.HvCallGetVpIndexFromApicId, input([2, 0, 1]), rep(3));
    expect(r).toMatchObject({ status: S.HV_STATUS_SUCCESS, reps: 3 });
    expect([0, 4, 8].map((o) => m.mem.read32(OUT + o))).toEqual([2, 0, 1]);
    r = hypercall(m, m.vps[0], HvCall.HvCallGetVpIndexFromApicId, input([1, 9, 0]), rep(3));
    expect(r).toMatchObject({ status: S.HV_STATUS_INVALID_PARAMETER, reps: 1 });
  });

  it('CPUID advertises StartVirtualProcessor (EBX bit 21)', () => {
    const out = new Uint32Array(4);
    plainMachine([0xeb, 0xfe]).hv!.cpuid(0x40000003, out);
    expect(out[1] & (1 << 21)).toBe(1 << 21);
  });
});

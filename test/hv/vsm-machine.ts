// A small VSM machine for unit tests: flat 32-bit code for VTL0 (at the Multiboot entry) and for
// VTL1 (VTL1_CODE), VTL1 enabled on VP0 through the real hypercalls, hypercall pages and SynIC
// message pages set up by MSR writes. Hypercalls made from the test go through dispatchHypercall
// with the 32-bit ABI, as if the VP had executed VMCALL (its registers are put back afterwards).

import { expect } from 'vitest';
import { Machine, type MachineConfig } from '../../core/machine/machine.js';
import type { Vp } from '../../core/machine/vp.js';
import { dispatchHypercall } from '../../core/hv/hypercall.js';
import { HvCall } from '../../core/hv/defs/hypercall.js';
import { HvStatus as S } from '../../core/hv/defs/status.js';
import { elf32, multibootHeader } from '../helpers/guests.js';

export const ENTRY = 0x10000c; // after the 12-byte Multiboot header at 0x100000
export const VTL1_CODE = 0x110000, VTL1_STACK = 0x118000, HC_PAGE = 0x200000, IN = 0x300000, OUT = 0x301000;
export const SIMP0 = 0x302000, SIMP1 = 0x304000;

export const SELF = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

export function plainMachine(vtl0Code: number[], config: Partial<MachineConfig> = {}, vtl1Code: number[] = [0xeb, 0xfe]): Machine {
  const img = elf32([{ paddr: 0x100000, data: Buffer.concat([multibootHeader(), Buffer.from(vtl0Code)]) },
    { paddr: VTL1_CODE, data: Buffer.from(vtl1Code) }], ENTRY);
  return new Machine({ ramMiB: 16, smp: 1, cmdline: '', ...config }, img);
}

/** A hypercall by `vp` in its active VTL (slow form: input at IN, output at OUT); returns RAX's low dword. */
export function hypercall(m: Machine, vp: Vp, control: number, input: Uint8Array, repCount = 0): { status: number; reps: number; rip: number } {
  const st = vp.cpu.st;
  m.mem.writeBytes(IN, input);
  const save = [...st.lo];
  const rip = st.ripLo;
  // 32-bit ABI: control in EDX:EAX, input GPA in EBX:ECX, output GPA in EDI:ESI.
  st.lo[0] = control; st.lo[2] = repCount; st.lo[3] = 0; st.lo[1] = IN; st.lo[7] = 0; st.lo[6] = OUT;
  dispatchHypercall(m.hv!, vp);
  const cpu = vp.cpu;
  const r = { status: cpu.st.lo[0] & 0xffff, reps: cpu.st.lo[2] & 0xfff, rip: cpu.st.ripLo };
  cpu.st.lo.set(save); cpu.st.ripLo = rip;
  return r;
}

/** VP `index` gets VTL0 hypercalls and a SynIC message page at SIMP0 + index * 0x10000. */
export function enableHypercalls(m: Machine, index: number, vtl: number): void {
  const hv = m.hv!, vp = m.vps[index];
  expect(hv.wrmsr(vp, vtl, 0x40000000, 1, 0)).toBe(true);
  expect(hv.wrmsr(vp, vtl, 0x40000001, HC_PAGE | 1, 0)).toBe(true);
  expect(hv.wrmsr(vp, vtl, 0x40000083, (vtl ? SIMP1 : SIMP0) + index * 0x10000 | 1, 0)).toBe(true);
  expect(hv.wrmsr(vp, vtl, 0x40000080, 1, 0)).toBe(true);
  vp.vtls[vtl]!.apic.mmioWrite(0xf0, 4, 0x1ff); // software-enable the VTL's own local APIC
}

function flatContext(entry: number, stack: number): Uint8Array {
  const ev = new Uint8Array(240);
  const d = new DataView(ev.buffer);
  ev.set(SELF, 0); d.setUint32(8, 0xfffffffe, true); d.setUint8(12, 1);
  d.setUint32(16, entry, true); d.setUint32(16 + 8, stack, true); d.setUint32(16 + 0x10, 2, true);
  const seg = (off: number, sel: number, attr: number) => { d.setUint32(16 + off + 8, 0xffffffff, true); d.setUint16(16 + off + 12, sel, true); d.setUint16(16 + off + 14, attr, true); };
  seg(0x18, 0x08, 0xc09b);
  for (const off of [0x28, 0x38, 0x48, 0x58, 0x68]) seg(off, 0x10, 0xc093);
  seg(0x78, 0x18, 0x008b); seg(0x88, 0, 0x0082);
  d.setUint32(16 + 0xc0, 0x11, true); // CR0: PE|ET, no paging
  return ev;
}

/** VP0 (and, with smp > 1, every VP) gets VTL1, whose code runs flat 32-bit at VTL1_CODE. */
export function vsmMachine(vtl0Code: number[], vtl1Code: number[], config: Partial<MachineConfig> = {}): Machine {
  const m = plainMachine(vtl0Code, config, vtl1Code);
  const vp0 = m.vps[0];
  enableHypercalls(m, 0, 0);
  expect(hypercall(m, vp0, HvCall.HvCallEnablePartitionVtl, Uint8Array.from([...SELF, 1, 0, 0, 0, 0, 0, 0, 0])).status).toBe(S.HV_STATUS_SUCCESS);
  for (let k = 0; k < m.vps.length; k++) {
    const ctx = flatContext(VTL1_CODE, VTL1_STACK - k * 0x1000);
    new DataView(ctx.buffer).setUint32(8, k, true);
    // The bootstrap rule: VP0 from VTL0, the others "from VTL1" (the test calls as VP0's VTL1).
    if (k > 0) vp0.activeVtl = 1;
    const r = hypercall(m, vp0, HvCall.HvCallEnableVpVtl, ctx);
    vp0.activeVtl = 0;
    expect(r.status).toBe(S.HV_STATUS_SUCCESS);
    enableHypercalls(m, k, 1);
  }
  return m;
}

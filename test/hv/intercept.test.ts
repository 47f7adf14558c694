// Secure intercepts end to end (spec/vsm.md 6.1-6.3): real instructions in VTL0 (32-bit protected
// mode, paging off) touch a page VTL1 protected, or write an intercepted CR4 bit; the intercept message
// lands in VTL1's SINT0 slot, the VP enters VTL1, VTL1 relaxes the protection and returns, and VTL0's
// instruction retries and completes.

import { describe, expect, it } from 'vitest';
import { Machine } from '../../core/machine/machine.js';
import { dispatchHypercall } from '../../core/hv/hypercall.js';
import { HvCall } from '../../core/hv/defs/hypercall.js';
import { HvStatus as S } from '../../core/hv/defs/status.js';
import { HvRegisterName as R } from '../../core/hv/defs/registers.js';
import { HYPERCALL_PAGE } from '../../core/hv/hypervisor.js';
import { elf32, multibootHeader } from '../helpers/guests.js';

const ENTRY = 0x10000c; // after the 12-byte Multiboot header at 0x100000
const VTL1_CODE = 0x110000, VTL1_STACK = 0x118000, HC_PAGE = 0x200000, IN = 0x300000;
const SIMP1 = 0x304000, SECRET = 0x380000;

/** A machine whose VP0 has VTL1 enabled, VTL1 running flat 32-bit code at VTL1_CODE with its SynIC on. */
function machineWith(vtl0Code: number[], vtl1Code: number[]): Machine {
  const img = elf32([{ paddr: 0x100000, data: Buffer.concat([multibootHeader(), Buffer.from(vtl0Code)]) },
    { paddr: VTL1_CODE, data: Buffer.from(vtl1Code) }], ENTRY);
  const m = new Machine({ ramMiB: 16, smp: 1, cmdline: '' }, img);
  const hv = m.hv!, vp = m.vps[0];
  const st = vp.cpu.st;
  const hc = (code: number, input: Uint8Array) => {
    m.mem.writeBytes(IN, input);
    // 32-bit ABI: control in EDX:EAX, input GPA in EBX:ECX, output GPA in EDI:ESI.
    const save = [...st.lo];
    st.lo[0] = code; st.lo[2] = 0; st.lo[3] = 0; st.lo[1] = IN; st.lo[7] = 0; st.lo[6] = 0;
    const rip = st.ripLo;
    dispatchHypercall(hv, vp);
    const status = st.lo[0] & 0xffff;
    st.lo.set(save); st.ripLo = rip;
    return status;
  };
  expect(hv.wrmsr(vp, 0, 0x40000000, 1, 0)).toBe(true);
  expect(hv.wrmsr(vp, 0, 0x40000001, HC_PAGE | 1, 0)).toBe(true);
  const self = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
  expect(hc(HvCall.HvCallEnablePartitionVtl, Uint8Array.from([...self, 1, 0, 0, 0, 0, 0, 0, 0]))).toBe(S.HV_STATUS_SUCCESS);
  const ev = new Uint8Array(240);
  const d = new DataView(ev.buffer);
  ev.set(self, 0); d.setUint32(8, 0xfffffffe, true); d.setUint8(12, 1);
  d.setUint32(16, VTL1_CODE, true); d.setUint32(16 + 8, VTL1_STACK, true); d.setUint32(16 + 0x10, 2, true);
  const seg = (off: number, sel: number, attr: number) => { d.setUint32(16 + off + 8, 0xffffffff, true); d.setUint16(16 + off + 12, sel, true); d.setUint16(16 + off + 14, attr, true); };
  seg(0x18, 0x08, 0xc09b);
  for (const off of [0x28, 0x38, 0x48, 0x58, 0x68]) seg(off, 0x10, 0xc093);
  seg(0x78, 0x18, 0x008b); seg(0x88, 0, 0x0082);
  d.setUint32(16 + 0xc0, 0x11, true); // CR0: PE|ET, no paging
  expect(hc(HvCall.HvCallEnableVpVtl, ev)).toBe(S.HV_STATUS_SUCCESS);
  // VTL1's own Hyper-V setup: hypercalls, SynIC with the message page and SINT0 → vector 0x40.
  expect(hv.wrmsr(vp, 1, 0x40000000, 1, 0)).toBe(true);
  expect(hv.wrmsr(vp, 1, 0x40000001, HC_PAGE | 1, 0)).toBe(true);
  expect(hv.wrmsr(vp, 1, 0x40000083, SIMP1 | 1, 0)).toBe(true);
  expect(hv.wrmsr(vp, 1, 0x40000090, 0x40, 0)).toBe(true);
  expect(hv.wrmsr(vp, 1, 0x40000080, 1, 0)).toBe(true);
  vp.vtls[1]!.apic.mmioWrite(0xf0, 4, 0x1ff); // VTL1 software-enables its own local APIC
  m.mem.write32(SECRET, 0x5ec2e7);
  return m;
}

/** VTL1: `mov eax,1; out 0xf4,eax` (stop so the test can look), then `xor eax,eax; call <VTL return stub>`. */
function vtl1StopThenReturn(): number[] {
  const callAt = VTL1_CODE + 9;
  const target = HC_PAGE + HYPERCALL_PAGE.RETURN32;
  const rel = (target - (callAt + 5)) >>> 0;
  return [0xb8, 1, 0, 0, 0, 0xe7, 0xf4, 0x31, 0xc0, 0xe8, rel & 0xff, (rel >>> 8) & 0xff, (rel >>> 16) & 0xff, rel >>> 24, 0xeb, 0xfe];
}

describe('secure intercepts (spec/vsm.md 6.1)', () => {
  it('a VTL0 read of a no-access page enters VTL1 with a GPA intercept message; after VTL1 relaxes the mask the read retries and completes', () => {
    // VTL0: mov eax,[SECRET]; mov ebx,eax; mov eax,5; out 0xf4,eax
    const m = machineWith([0xa1, 0, 0, 0x38, 0, 0x89, 0xc3, 0xb8, 5, 0, 0, 0, 0xe7, 0xf4], vtl1StopThenReturn());
    const hv = m.hv!, vp = m.vps[0];
    // VTL1 makes the page inaccessible to VTL0 (as HvCallModifyVtlProtectionMask would).
    hv.protection[0].masks[SECRET / 4096] = 0;
    m.flushAllTranslations();
    const ebxAtBoot = vp.cpu.st.lo[3]; // the Multiboot information address
    const events: string[] = [];
    m.observer = { event: (e) => { if (e.kind === 'intercept' || e.kind === 'vtl-switch') events.push(e.kind); } };
    expect(m.run(100_000)).toEqual({ kind: 'debug-exit', value: 1 });
    expect(vp.activeVtl).toBe(1);
    expect(events).toEqual(['intercept', 'vtl-switch']);
    const v0 = vp.vtls[0]!.cpu.st;
    expect(v0.ripLo).toBe(ENTRY); // the read did not complete
    expect(v0.lo[3]).toBe(ebxAtBoot); // the MOV EBX,EAX after it did not run either
    // The message in VTL1's SINT0 slot, field by field.
    const mem = m.mem;
    expect(mem.read32(SIMP1)).toBe(0x80000001); // HvMessageTypeGpaIntercept
    expect(mem.read8(SIMP1 + 4)).toBe(0xf0); // payload size
    const p = SIMP1 + 16;
    expect(mem.read32(p + 0x00)).toBe(0); // VP index
    expect(mem.read8(p + 0x04) & 0xf).toBe(5); // instruction length
    expect(mem.read8(p + 0x05)).toBe(0); // read
    expect(mem.read8(p + 0x06) & 0x1f).toBe(0b00100); // CPL0, CR0.PE, not long mode
    expect(mem.read32(p + 0x18)).toBe(ENTRY); // RIP
    expect(mem.read32(p + 0x20) & 0x10000).toBe(0x10000); // RFLAGS with RF
    expect(mem.read32(p + 0x28)).toBe(6); // cache type WB
    expect(mem.read8(p + 0x2c)).toBe(5); // instruction byte count
    expect(mem.read32(p + 0x38)).toBe(SECRET); // GPA
    expect([...mem.ram.subarray(p + 0x40, p + 0x45)]).toEqual([0xa1, 0, 0, 0x38, 0]);
    // SINT0's vector is pending in VTL1's APIC; VTL0's APIC has nothing.
    expect(vp.vtls[1]!.apic.pendingVector()).toBe(0x40);
    expect(vp.vtls[0]!.apic.pendingVector()).toBe(-1);
    // VTL1 takes the SINT0 interrupt (its handler would: acknowledge, clear the slot, EOI), relaxes the
    // protection and returns: VTL0 retries the read, which now completes. (An interrupt left pending
    // for VTL1 would pull the VP straight back into VTL1, spec/vsm.md 5.4.)
    vp.vtls[1]!.apic.acknowledge(0x40);
    vp.vtls[1]!.apic.mmioWrite(0xb0, 4, 0);
    mem.write32(SIMP1, 0);
    hv.protection[0].masks[SECRET / 4096] = 0xf;
    m.flushAllTranslations();
    expect(m.run(200_000)).toEqual({ kind: 'debug-exit', value: 5 });
    expect(vp.activeVtl).toBe(0);
    expect(vp.cpu.st.lo[3]).toBe(0x5ec2e7);
  });

  it('a VTL0 write to a read-only page is stopped before it changes memory; execution of a no-execute page reports the fetch address', () => {
    // VTL0: mov [SECRET], eax (A3 imm32)
    const m = machineWith([0xb8, 0x11, 0x11, 0x11, 0x11, 0xa3, 0, 0, 0x38, 0], vtl1StopThenReturn());
    const hv = m.hv!;
    hv.protection[0].masks[SECRET / 4096] = 1; // read only
    m.flushAllTranslations();
    expect(m.run(100_000)).toEqual({ kind: 'debug-exit', value: 1 });
    expect(m.mem.read32(SECRET)).toBe(0x5ec2e7);
    expect(m.mem.read8(SIMP1 + 16 + 5)).toBe(1); // write

    const n = machineWith([0xe9, ...(() => { const r = (SECRET - (ENTRY + 5)) >>> 0; return [r & 0xff, (r >>> 8) & 0xff, (r >>> 16) & 0xff, r >>> 24]; })()], vtl1StopThenReturn());
    n.hv!.protection[0].masks[SECRET / 4096] = 3; // read/write, no execute
    n.flushAllTranslations();
    expect(n.run(100_000)).toEqual({ kind: 'debug-exit', value: 1 });
    const p = SIMP1 + 16;
    expect(n.mem.read8(p + 5)).toBe(2); // execute
    expect(n.mem.read8(p + 4) & 0xf).toBe(5); // length of the jump that went there
    expect(n.mem.read8(p + 0x2c)).toBe(0); // no instruction bytes
    expect(n.mem.read32(p + 0x18)).toBe(SECRET); // RIP = fetch address
  });

  it('a masked CR4 write by VTL0 becomes a register intercept and does not take effect', () => {
    // VTL0: mov eax, 0x200 (OSFXSR); mov cr4, eax; mov eax,5; out 0xf4,eax
    const m = machineWith([0xb8, 0, 2, 0, 0, 0x0f, 0x22, 0xe0, 0xb8, 5, 0, 0, 0, 0xe7, 0xf4], vtl1StopThenReturn());
    const hv = m.hv!, vp = m.vps[0];
    hv.vps[0].crInterceptControlLo = 2; // CR4 write
    hv.vps[0].crInterceptCr4Mask = 0x200;
    expect(m.run(100_000)).toEqual({ kind: 'debug-exit', value: 1 });
    expect(vp.vtls[0]!.cpu.st.cr4 & 0x200).toBe(0);
    const p = SIMP1 + 16;
    expect(m.mem.read32(SIMP1)).toBe(0x80010006); // RegisterIntercept
    expect(m.mem.read8(p + 4) & 0xf).toBe(3);
    expect(m.mem.read32(p + 0x2c)).toBe(R.Cr4);
    expect(m.mem.read32(p + 0x30)).toBe(0x200); // the value written
  });
});

describe('snapshots with VSM state', () => {
  it('a machine saved while VTL1 handles an intercept restores and finishes exactly like the original', () => {
    const code0 = [0xa1, 0, 0, 0x38, 0, 0x89, 0xc3, 0xb8, 5, 0, 0, 0, 0xe7, 0xf4];
    const a = machineWith(code0, vtl1StopThenReturn());
    a.hv!.protection[0].masks[SECRET / 4096] = 0;
    a.flushAllTranslations();
    expect(a.run(100_000)).toEqual({ kind: 'debug-exit', value: 1 });
    const snap = structuredClone(a.save());
    const b = machineWith([0x90], [0x90]); // any machine of the same shape; the snapshot replaces it all
    b.restore(snap);
    expect(b.vps[0].activeVtl).toBe(1);
    expect(b.stateHash()).toBe(a.stateHash());
    for (const m of [a, b]) {
      const vp = m.vps[0];
      vp.vtls[1]!.apic.acknowledge(0x40);
      vp.vtls[1]!.apic.mmioWrite(0xb0, 4, 0);
      m.mem.write32(SIMP1, 0);
      m.hv!.protection[0].masks[SECRET / 4096] = 0xf;
      m.flushAllTranslations();
      expect(m.run(200_000)).toEqual({ kind: 'debug-exit', value: 5 });
    }
    expect(b.stateHash()).toBe(a.stateHash());
    expect(b.vps[0].cpu.st.lo[3]).toBe(0x5ec2e7);
  });
});

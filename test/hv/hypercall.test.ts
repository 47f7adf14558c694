// The hypercall ABI and the VSM hypercalls, driven directly through the dispatcher on a machine
// whose VP0 is put in 64-bit mode by hand: every status path of spec/vsm.md 1.3-1.4 and the
// negative cases of 2.1, 2.2 and 2.5, VTL call/return banking, the hypercall page overlay.

import { beforeEach, describe, expect, it } from 'vitest';
import { Machine } from '../../core/machine/machine.js';
import type { Vp } from '../../core/machine/vp.js';
import { dispatchHypercall } from '../../core/hv/hypercall.js';
import type { Hypervisor } from '../../core/hv/hypervisor.js';
import { HYPERCALL_PAGE } from '../../core/hv/hypervisor.js';
import { HvCall } from '../../core/hv/defs/hypercall.js';
import { HvStatus as S } from '../../core/hv/defs/status.js';
import { HvRegisterName as R } from '../../core/hv/defs/registers.js';
import { SEG } from '../../core/x86/defs/arch.js';
import { elf32, haltingCode } from '../helpers/guests.js';

const HC_PAGE = 0x200000, IN = 0x300000, OUT = 0x301000, ASSIST1 = 0x302000, ASSIST0 = 0x303000;

interface Env { m: Machine; hv: Hypervisor; vp: Vp; uds: number[] }

function setup(smp = 2): Env {
  const m = new Machine({ ramMiB: 16, smp, cmdline: '' }, elf32([{ paddr: 0x100000, data: haltingCode() }], 0x10000c));
  const hv = m.hv!;
  const vp = m.vps[0];
  const uds: number[] = [];
  enterLongMode(vp);
  const cpu = vp.cpu;
  cpu.exception = (v: number) => { uds.push(v); return true; };
  expect(hv.wrmsr(vp, 0, 0x40000000, 0, 0x8f00 << 16)).toBe(true);
  expect(hv.wrmsr(vp, 0, 0x40000001, HC_PAGE | 1, 0)).toBe(true);
  return { m, hv, vp, uds };
}

/** Put a VTL context into flat 64-bit mode at CPL0 (no paging needed: hypercalls use GPAs). */
function enterLongMode(vp: Vp): void {
  const st = vp.cpu.st;
  st.cr0 = 0x80000011 | 0; st.cr4 = 0x20; st.eferLo = 0x500;
  st.seg[SEG.CS].attr = 0xa09b; st.cpl = 0;
  vp.cpu.updateMode();
  st.ripLo = HC_PAGE; st.ripHi = 0;
}

/** Issue a hypercall from the VP's active VTL: control in RCX, RDX/R8 as given. */
function call(env: Env, ctlLo: number, ctlHi = 0, rdx = IN, r8 = OUT, rdxHi = 0): { status: number; reps: number } {
  const st = env.vp.cpu.st;
  st.lo[1] = ctlLo; st.hi[1] = ctlHi;
  st.lo[2] = rdx; st.hi[2] = rdxHi; st.lo[8] = r8; st.hi[8] = 0;
  st.ripLo = HC_PAGE; st.ripHi = 0;
  dispatchHypercall(env.hv, env.vp);
  const cur = env.vp.cpu.st;
  return { status: cur.lo[0] & 0xffff, reps: cur.hi[0] & 0xfff };
}

function writeIn(env: Env, bytes: number[] | Uint8Array, at = IN): void {
  env.m.mem.writeBytes(at, Uint8Array.from(bytes));
}

const SELF = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

function enablePartitionVtl1(env: Env): number {
  writeIn(env, [...SELF, 1, 0, 0, 0, 0, 0, 0, 0]);
  return call(env, HvCall.HvCallEnablePartitionVtl).status;
}

/** EnableVpVtl input with a flat 64-bit initial context whose RIP is `rip`. */
function enableVpVtlInput(vpIndex: number, vtl: number, rip: number, rsp: number): Uint8Array {
  const b = new Uint8Array(240);
  const d = new DataView(b.buffer);
  b.set(SELF, 0);
  d.setUint32(8, vpIndex, true);
  d.setUint8(12, vtl);
  const ctx = 16;
  d.setUint32(ctx + 0x00, rip, true);
  d.setUint32(ctx + 0x08, rsp, true);
  d.setUint32(ctx + 0x10, 2, true);
  const seg = (off: number, sel: number, attr: number) => { d.setUint32(ctx + off + 8, 0xffffffff, true); d.setUint16(ctx + off + 12, sel, true); d.setUint16(ctx + off + 14, attr, true); };
  seg(0x18, 0x08, 0xa09b); // CS
  for (const off of [0x28, 0x38, 0x48, 0x58, 0x68]) seg(off, 0x10, 0xc093);
  seg(0x78, 0x18, 0x008b); // TR
  seg(0x88, 0, 0x0082); // LDTR
  d.setUint32(ctx + 0xb8, 0x500, true); // EFER LME|LMA
  d.setUint32(ctx + 0xc0, 0x80010011, true); // CR0 PG|WP|ET|PE
  d.setUint32(ctx + 0xc8, 0x5000, true); // CR3
  d.setUint32(ctx + 0xd0, 0x220, true); // CR4 PAE|OSFXSR
  d.setUint32(ctx + 0xd8, 0x00070406, true); d.setUint32(ctx + 0xdc, 0x00070406, true); // PAT
  return b;
}

describe('hypercall ABI (spec/vsm.md 1.2-1.4)', () => {
  let env: Env;
  beforeEach(() => { env = setup(); });

  it('the hypercall page is an overlay with the VTL call/return stubs, and guest writes to it are dropped', () => {
    const ram = env.m.mem.ram;
    expect([...ram.subarray(HC_PAGE, HC_PAGE + 4)]).toEqual([0x0f, 0x01, 0xc1, 0xc3]);
    expect([...ram.subarray(HC_PAGE + HYPERCALL_PAGE.CALL64, HC_PAGE + HYPERCALL_PAGE.CALL64 + 12)])
      .toEqual([0x48, 0x89, 0xc8, 0xb9, 0x11, 0, 0, 0, 0x0f, 0x01, 0xc1, 0xc3]);
    expect([...ram.subarray(HC_PAGE + HYPERCALL_PAGE.RETURN64, HC_PAGE + HYPERCALL_PAGE.RETURN64 + 12)])
      .toEqual([0x48, 0x89, 0xc8, 0xb9, 0x12, 0, 0, 0, 0x0f, 0x01, 0xc1, 0xc3]);
    env.vp.cpu.mmu.physWrite(HC_PAGE, 4, 0x12345678);
    expect(ram[HC_PAGE]).toBe(0x0f);
    // Disabling the page brings back the RAM beneath (zero here).
    env.hv.wrmsr(env.vp, 0, 0x40000001, 0, 0);
    expect(ram[HC_PAGE]).toBe(0);
  });

  it('VMCALL before hypercalls are enabled, or at CPL3, raises #UD', () => {
    env.hv.wrmsr(env.vp, 0, 0x40000001, 0, 0);
    call(env, HvCall.HvCallEnablePartitionVtl);
    expect(env.uds).toEqual([6]);
    env.hv.wrmsr(env.vp, 0, 0x40000001, HC_PAGE | 1, 0);
    env.vp.cpu.st.cpl = 3;
    call(env, HvCall.HvCallEnablePartitionVtl);
    expect(env.uds).toEqual([6, 6]);
  });

  it('the hypercall MSR rejects reserved bits and stays locked once locked', () => {
    expect(env.hv.wrmsr(env.vp, 0, 0x40000001, HC_PAGE | 1 | 4, 0)).toBe(false);
    expect(env.hv.wrmsr(env.vp, 0, 0x40000001, HC_PAGE | 3, 0)).toBe(true);
    expect(env.hv.wrmsr(env.vp, 0, 0x40000001, HC_PAGE | 1, 0)).toBe(false);
  });

  it('returns every control-word status of 1.3', () => {
    expect(call(env, HvCall.HvCallEnablePartitionVtl | (1 << 27)).status).toBe(S.HV_STATUS_INVALID_HYPERCALL_INPUT);
    expect(call(env, HvCall.HvCallEnablePartitionVtl, 1 << 12).status).toBe(S.HV_STATUS_INVALID_HYPERCALL_INPUT); // bits 44..47
    expect(call(env, 0x7777).status).toBe(S.HV_STATUS_INVALID_HYPERCALL_CODE);
    expect(call(env, HvCall.HvCallEnablePartitionVtl, 1).status).toBe(S.HV_STATUS_INVALID_HYPERCALL_INPUT); // rep count on a simple call
    expect(call(env, HvCall.HvCallGetVpRegisters, 0).status).toBe(S.HV_STATUS_INVALID_HYPERCALL_INPUT); // rep count 0
    expect(call(env, HvCall.HvCallGetVpRegisters, 2 | (2 << 16)).status).toBe(S.HV_STATUS_INVALID_HYPERCALL_INPUT); // start >= count
    expect(call(env, HvCall.HvCallEnablePartitionVtl | (1 << 17)).status).toBe(S.HV_STATUS_INVALID_HYPERCALL_INPUT); // var header
    expect(call(env, HvCall.HvCallEnableVpVtl | (1 << 16)).status).toBe(S.HV_STATUS_INVALID_HYPERCALL_INPUT); // fast on slow-only
    expect(call(env, HvCall.HvCallEnablePartitionVtl, 0, IN + 0xff8).status).toBe(S.HV_STATUS_INVALID_HYPERCALL_INPUT); // crosses a page
    expect(call(env, HvCall.HvCallEnablePartitionVtl, 0, IN + 4).status).toBe(S.HV_STATUS_INVALID_ALIGNMENT);
    expect(env.uds).toEqual([]);
  });

  it('advances RIP past the VMCALL and returns reps completed', () => {
    writeIn(env, [...SELF, 0, 0, 0, 0, 0, 0, 0, 0, ...u32(R.VsmCodePageOffsets), ...u32(R.VsmVpStatus)]);
    const r = call(env, HvCall.HvCallGetVpRegisters, 2);
    expect(r).toEqual({ status: S.HV_STATUS_SUCCESS, reps: 2 });
    expect(env.vp.cpu.st.ripLo).toBe(HC_PAGE + 3);
    const mem = env.m.mem;
    expect(mem.read32(OUT)).toBe(HYPERCALL_PAGE.CALL64 | (HYPERCALL_PAGE.RETURN64 << 12));
    expect(mem.read32(OUT + 16)).toBe(0 | (1 << 16)); // active VTL 0, enabled set {0}
  });
});

describe('VSM hypercalls (spec/vsm.md 2.1, 2.2, 2.5)', () => {
  let env: Env;
  beforeEach(() => { env = setup(); });

  it('HvCallEnablePartitionVtl: negative cases, then success', () => {
    writeIn(env, [42, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(call(env, HvCall.HvCallEnablePartitionVtl).status).toBe(S.HV_STATUS_INVALID_PARTITION_ID);
    writeIn(env, [...SELF, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(call(env, HvCall.HvCallEnablePartitionVtl).status).toBe(S.HV_STATUS_INVALID_PARAMETER); // VTL0 is enabled
    writeIn(env, [...SELF, 2, 0, 0, 0, 0, 0, 0, 0]);
    expect(call(env, HvCall.HvCallEnablePartitionVtl).status).toBe(S.HV_STATUS_INVALID_PARAMETER); // above the maximum VTL
    writeIn(env, [...SELF, 1, 1, 0, 0, 0, 0, 0, 0]);
    expect(call(env, HvCall.HvCallEnablePartitionVtl).status).toBe(S.HV_STATUS_INVALID_PARAMETER); // MBEC not offered
    expect(enablePartitionVtl1(env)).toBe(S.HV_STATUS_SUCCESS);
    expect(env.hv.enabledVtls).toBe(0b11);
    expect(enablePartitionVtl1(env)).toBe(S.HV_STATUS_INVALID_PARAMETER); // already enabled
  });

  it('HvCallEnableVpVtl: negative cases, the bootstrap rule, then success', () => {
    writeIn(env, enableVpVtlInput(0, 1, 0x400000, 0x500000));
    expect(call(env, HvCall.HvCallEnableVpVtl).status).toBe(S.HV_STATUS_INVALID_PARAMETER); // partition VTL not enabled
    expect(enablePartitionVtl1(env)).toBe(S.HV_STATUS_SUCCESS);
    const bad = enableVpVtlInput(0, 1, 0x400000, 0x500000);
    bad[0] = 42;
    writeIn(env, bad);
    expect(call(env, HvCall.HvCallEnableVpVtl).status).toBe(S.HV_STATUS_INVALID_PARTITION_ID);
    writeIn(env, enableVpVtlInput(0xffffffff, 1, 0x400000, 0x500000));
    expect(call(env, HvCall.HvCallEnableVpVtl).status).toBe(S.HV_STATUS_INVALID_VP_INDEX);
    writeIn(env, enableVpVtlInput(0, 0, 0x400000, 0x500000));
    expect(call(env, HvCall.HvCallEnableVpVtl).status).toBe(S.HV_STATUS_INVALID_PARAMETER);
    writeIn(env, enableVpVtlInput(0xfffffffe, 1, 0x400000, 0x500000));
    expect(call(env, HvCall.HvCallEnableVpVtl).status).toBe(S.HV_STATUS_SUCCESS);
    writeIn(env, enableVpVtlInput(0, 1, 0x400000, 0x500000));
    expect(call(env, HvCall.HvCallEnableVpVtl).status).toBe(S.HV_STATUS_INVALID_PARAMETER); // already enabled
    writeIn(env, enableVpVtlInput(1, 1, 0x400000, 0x500000));
    expect(call(env, HvCall.HvCallEnableVpVtl).status).not.toBe(S.HV_STATUS_SUCCESS); // from VTL0 after the first VP
    const ctx1 = env.vp.vtls[1]!.cpu.st;
    expect(ctx1.ripLo).toBe(0x400000);
    expect(ctx1.cr3Lo).toBe(0x5000);
    expect(env.vp.activeVtl).toBe(0);
  });

  it('Get/SetVpRegisters: access rules, unknown names, partial completion', () => {
    expect(enablePartitionVtl1(env)).toBe(S.HV_STATUS_SUCCESS);
    writeIn(env, enableVpVtlInput(0, 1, 0x400000, 0x500000));
    expect(call(env, HvCall.HvCallEnableVpVtl).status).toBe(S.HV_STATUS_SUCCESS);
    // VTL0 may not read VTL1's registers.
    writeIn(env, [...SELF, 0, 0, 0, 0, 0x11, 0, 0, 0, ...u32(R.Rip)]);
    expect(call(env, HvCall.HvCallGetVpRegisters, 1).status).toBe(S.HV_STATUS_ACCESS_DENIED);
    writeIn(env, [...SELF, ...u32(0xacacacac), 0, 0, 0, 0, ...u32(R.Rip)]);
    expect(call(env, HvCall.HvCallGetVpRegisters, 1).status).toBe(S.HV_STATUS_INVALID_VP_INDEX);
    writeIn(env, [...SELF, 0, 0, 0, 0, 0, 0, 0, 0, ...u32(R.Rip), ...u32(0xacacacac)]);
    expect(call(env, HvCall.HvCallGetVpRegisters, 2)).toEqual({ status: S.HV_STATUS_INVALID_PARAMETER, reps: 1 });
    // Set from VTL0 into VTL0 works; the value reads back.
    const set = new Uint8Array(16 + 32);
    set.set(SELF, 0);
    new DataView(set.buffer).setUint32(16, R.Lstar, true);
    new DataView(set.buffer).setUint32(32, 0xffff8000, true);
    writeIn(env, set);
    expect(call(env, HvCall.HvCallSetVpRegisters, 1).status).toBe(S.HV_STATUS_SUCCESS);
    expect(env.vp.vtls[0]!.cpu.st.lstarLo >>> 0).toBe(0xffff8000);
    expect(env.vp.vtls[1]!.cpu.st.lstarLo).toBe(0); // private to VTL0
  });

  it('fast XMM Get: four registers fit, five do not', () => {
    const st = env.vp.cpu.st;
    const names = [R.VsmCodePageOffsets, R.VsmVpStatus, R.VsmPartitionStatus, R.VpIndex, R.VsmCapabilities];
    for (let k = 0; k < 5; k++) st.xmm[k] = names[k];
    // Header in RDX (partition id SELF) and R8 (VP index 0, VTL byte 0), names from XMM0.
    const hdr = (n: number) => call(env, HvCall.HvCallGetVpRegisters | (1 << 16), n, -1, 0, -1);
    expect(hdr(5).status).toBe(S.HV_STATUS_INVALID_HYPERCALL_INPUT);
    for (let k = 0; k < 5; k++) st.xmm[k] = names[k];
    const r = hdr(4);
    expect(r).toEqual({ status: S.HV_STATUS_SUCCESS, reps: 4 });
    // Output starts in the XMM after the names (XMM1): VsmCodePageOffsets first.
    expect(env.vp.cpu.st.xmm[4]).toBe(HYPERCALL_PAGE.CALL64 | (HYPERCALL_PAGE.RETURN64 << 12));
  });
});

describe('VTL call and return (spec/vsm.md 2.3, 4, 5)', () => {
  let env: Env;
  beforeEach(() => {
    env = setup();
    expect(enablePartitionVtl1(env)).toBe(S.HV_STATUS_SUCCESS);
    writeIn(env, enableVpVtlInput(0, 1, 0x400000, 0x500000));
    expect(call(env, HvCall.HvCallEnableVpVtl).status).toBe(S.HV_STATUS_SUCCESS);
  });

  function vtlCall(input = 0): void {
    const st = env.vp.cpu.st;
    st.lo[0] = input; st.hi[0] = 0; st.lo[1] = HvCall.HvCallVtlCall; st.hi[1] = 0;
    st.ripLo = HC_PAGE + HYPERCALL_PAGE.CALL64 + 8;
    dispatchHypercall(env.hv, env.vp);
  }
  function vtlReturn(fast: boolean): void {
    const st = env.vp.cpu.st;
    st.lo[0] = fast ? 1 : 0; st.hi[0] = 0; st.lo[1] = HvCall.HvCallVtlReturn; st.hi[1] = 0;
    st.ripLo = HC_PAGE + HYPERCALL_PAGE.RETURN64 + 8;
    dispatchHypercall(env.hv, env.vp);
  }

  it('rejects a VTL call with non-zero input and a VTL return from VTL0 with #UD, writing nothing to RAX', () => {
    vtlCall(5);
    expect(env.uds).toEqual([6]);
    expect(env.vp.activeVtl).toBe(0);
    vtlReturn(true);
    expect(env.uds).toEqual([6, 6]);
    expect(env.vp.cpu.st.lo[0]).toBe(1);
  });

  it('banks private state per VTL, shares the rest, and resumes each VTL where it left off', () => {
    const v0 = env.vp.vtls[0]!.cpu, v1 = env.vp.vtls[1]!.cpu;
    env.hv.wrmsr(env.vp, 1, 0x40000073, ASSIST1 | 1, 0);
    env.hv.wrmsr(env.vp, 1, 0x40000000, 0, 0x8f00 << 16);
    env.hv.wrmsr(env.vp, 1, 0x40000001, HC_PAGE | 1, 0);
    env.hv.wrmsr(env.vp, 0, 0x40000073, ASSIST0 | 1, 0);
    v0.st.lo[4] = 0x7000; v0.st.lo[3] = 0x1234; v0.st.lstarLo = 0x1111; v0.st.xmm[5] = 77; v0.st.cr2Lo = 0x4242;
    vtlCall();
    expect(env.uds).toEqual([]);
    expect(env.vp.activeVtl).toBe(1);
    expect(v0.st.ripLo).toBe(HC_PAGE + HYPERCALL_PAGE.CALL64 + 11); // VTL0 resumes at the stub's ret
    expect(v1.st.ripLo).toBe(0x400000); // first entry: the EnableVpVtl RIP
    expect(v1.st.lo[4]).toBe(0x500000); // RSP is private
    expect(v1.st.lo[3]).toBe(0x1234); // RBX is shared
    expect(v1.st.xmm[5]).toBe(77);
    expect(v1.st.cr2Lo).toBe(0x4242);
    expect(v1.st.lstarLo).toBe(0); // LSTAR is private
    expect(v1.st.lo[0]).toBe(0); expect(v1.st.lo[1]).toBe(0x11); // clobbered by the stub
    expect(env.m.mem.read32(ASSIST1 + 8)).toBe(1); // entry reason: VTL call
    // VTL1 changes a shared register and returns (non-fast: RAX/RCX from its control area).
    v1.st.lo[3] = 0x5678;
    env.m.mem.write32(ASSIST1 + 0x10, 0xaaaa); env.m.mem.write32(ASSIST1 + 0x18, 0xbbbb);
    vtlReturn(false);
    expect(env.vp.activeVtl).toBe(0);
    expect(v0.st.lo[3]).toBe(0x5678);
    expect(v0.st.lo[0]).toBe(0xaaaa); expect(v0.st.lo[1]).toBe(0xbbbb);
    expect(v0.st.lo[4]).toBe(0x7000);
    // The next VTL call resumes VTL1 after its VTL return, not at the initial RIP.
    vtlCall();
    expect(v1.st.ripLo).toBe(HC_PAGE + HYPERCALL_PAGE.RETURN64 + 11);
    vtlReturn(true);
    expect(env.vp.cpu.st.lo[0]).toBe(1); // fast return leaves RAX as the stub set it
  });
});

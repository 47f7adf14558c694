// HvGetVpRegisters / HvSetVpRegisters: register names (spec/vsm.md 3) mapped onto the state of one
// VTL of one VP. Shared registers (5.1) live in whichever context is active, so they are read from
// and written to the active one; private ones from the target VTL's own context.

import type { Vp } from '../machine/vp.js';
import type { Cpu } from '../x86/cpu.js';
import { SEG } from '../x86/defs/arch.js';
import { HvStatus } from './defs/status.js';
import { HvRegisterName as R } from './defs/registers.js';
import { HYPERCALL_PAGE, type Hypervisor } from './hypervisor.js';
import { writeCr0, writeCr4 } from '../x86/exec/system.js';

const S = HvStatus;
const SEG_BY_REG: Record<number, number> = {
  [R.Es]: SEG.ES, [R.Cs]: SEG.CS, [R.Ss]: SEG.SS, [R.Ds]: SEG.DS, [R.Fs]: SEG.FS, [R.Gs]: SEG.GS, [R.Ldtr]: SEG.LDTR, [R.Tr]: SEG.TR,
};

interface Val { lo: number; hi: number; lo2?: number; hi2?: number }

function put(out: DataView, off: number, v: Val): void {
  out.setInt32(off, v.lo | 0, true); out.setInt32(off + 4, v.hi | 0, true);
  out.setInt32(off + 8, (v.lo2 ?? 0) | 0, true); out.setInt32(off + 12, (v.hi2 ?? 0) | 0, true);
}

/** The VSM registers' current values for `vp` as seen from VTL `vtl`. */
function vsmRegister(hv: Hypervisor, vp: Vp, vtl: number, caller: number, name: number): Val | number | undefined {
  const vs = hv.vps[vp.index];
  switch (name) {
    case R.VsmCodePageOffsets: return { lo: HYPERCALL_PAGE.CALL64 | (HYPERCALL_PAGE.RETURN64 << 12), hi: 0 };
    case R.VsmVpStatus:
      return { lo: (vp.activeVtl & 0xf) | (hv.mbecActive(vp.index, vp.activeVtl) ? 0x10 : 0) | (vs.enabledVtls << 16), hi: 0 };
    case R.VsmPartitionStatus: return { lo: hv.enabledVtls | (hv.maxVtl << 16) | ((hv.mbecVtls & 0xfff) << 20), hi: (hv.mbecVtls >>> 12) & 0xf };
    // DR6 private, no extras; MBEC for VTL1 (mask bits 1..16, OpenVMM) only when offered.
    case R.VsmCapabilities: return { lo: hv.opts.mbec ? 1 << (1 + 1) : 0, hi: 0 };
    case R.VsmPartitionConfig: return { lo: hv.partitionConfig[vtl], hi: 0 };
    case R.VsmVina: return { lo: vs.vtl[vtl].vina, hi: 0 };
    case R.CrInterceptControl: return { lo: vs.crInterceptControlLo, hi: vs.crInterceptControlHi };
    case R.CrInterceptCr0Mask: return { lo: vs.crInterceptCr0Mask, hi: 0 };
    case R.CrInterceptCr4Mask: return { lo: vs.crInterceptCr4Mask, hi: 0 };
  }
  if (name >= R.VsmVpSecureConfigVtl0 && name <= R.VsmVpSecureConfigVtl0 + 14) {
    const n = name - R.VsmVpSecureConfigVtl0;
    if (n >= caller) return S.HV_STATUS_INVALID_PARAMETER;
    return { lo: vs.secureConfig[n] ?? 0, hi: 0 };
  }
  return undefined;
}

export function readRegister(hv: Hypervisor, vp: Vp, vtl: number, caller: number, name: number, out: DataView, off: number): number {
  const ctx = vp.vtls[vtl]!;
  const c = ctx.cpu, st = c.st;
  const live = vp.cpu.st; // shared registers
  const v = ((): Val | number | undefined => {
    if (name >= R.Rax && name <= R.R15) {
      const r = name - R.Rax;
      const src = r === 4 ? st : live;
      return { lo: src.lo[r], hi: src.hi[r] };
    }
    if (name >= R.Xmm0 && name <= R.Xmm15) {
      const b = (name - R.Xmm0) * 4;
      return { lo: live.xmm[b], hi: live.xmm[b + 1], lo2: live.xmm[b + 2], hi2: live.xmm[b + 3] };
    }
    const seg = SEG_BY_REG[name];
    if (seg !== undefined) {
      const s = st.seg[seg];
      return { lo: s.baseLo, hi: s.baseHi, lo2: s.limit, hi2: (s.selector & 0xffff) | ((s.attr & 0xffff) << 16) };
    }
    switch (name) {
      case R.Rip: return { lo: st.ripLo, hi: st.ripHi };
      case R.Rflags: return { lo: c.getFlags(), hi: 0 };
      case R.Cr0: return { lo: st.cr0, hi: 0 };
      case R.Cr2: return { lo: live.cr2Lo, hi: live.cr2Hi };
      case R.Cr3: return { lo: st.cr3Lo, hi: st.cr3Hi };
      case R.Cr4: return { lo: st.cr4, hi: 0 };
      case R.Cr8: return { lo: ctx.apic.readCr8(), hi: 0 };
      case R.Xfem: return { lo: live.xcr0Lo, hi: 0 };
      case R.Dr7: return { lo: st.dr[7], hi: 0 };
      // Table registers: 6 bytes of padding, the limit at byte 6, the base at byte 8 (spec/vsm.md 2.2).
      case R.Idtr: return { lo: 0, hi: (st.idtr.limit & 0xffff) << 16, lo2: st.idtr.baseLo, hi2: st.idtr.baseHi };
      case R.Gdtr: return { lo: 0, hi: (st.gdtr.limit & 0xffff) << 16, lo2: st.gdtr.baseLo, hi2: st.gdtr.baseHi };
      case R.ApicBase: { const o = { lo: 0, hi: 0 }; ctx.apic.rdmsr(0x1b, o); return { lo: o.lo, hi: o.hi }; }
      case R.Efer: return { lo: st.eferLo, hi: 0 };
      case R.KernelGsBase: return { lo: st.kernelGsBaseLo, hi: st.kernelGsBaseHi };
      case R.Pat: return { lo: st.patLo, hi: st.patHi };
      case R.SysenterCs: return { lo: st.sysenterCs, hi: 0 };
      case R.SysenterEip: return { lo: st.sysenterEipLo, hi: st.sysenterEipHi };
      case R.SysenterEsp: return { lo: st.sysenterEspLo, hi: st.sysenterEspHi };
      case R.Star: return { lo: st.starLo, hi: st.starHi };
      case R.Lstar: return { lo: st.lstarLo, hi: st.lstarHi };
      case R.Cstar: return { lo: st.cstarLo, hi: st.cstarHi };
      case R.Sfmask: return { lo: st.fmask, hi: 0 };
      case R.TscAux: return { lo: st.tscAux, hi: 0 };
      case R.Hypercall: { const s = hv.vps[vp.index].vtl[vtl]; return { lo: s.hypercallLo, hi: s.hypercallHi }; }
      case R.GuestOsId: { const s = hv.vps[vp.index].vtl[vtl]; return { lo: s.guestOsIdLo, hi: s.guestOsIdHi }; }
      case R.VpIndex: return { lo: vp.index, hi: 0 };
      case R.VpAssistPage: { const s = hv.vps[vp.index].vtl[vtl]; return { lo: s.vpAssistLo, hi: s.vpAssistHi }; }
      case R.TimeRefCount: { const t = Math.floor(vp.nowNs() / 100); return { lo: t % 4294967296, hi: Math.floor(t / 4294967296) }; }
      case R.Scontrol: return { lo: hv.vps[vp.index].vtl[vtl].scontrol, hi: 0 };
      case R.Sipp: { const s = hv.vps[vp.index].vtl[vtl]; return { lo: s.simpLo, hi: s.simpHi }; }
      case R.Sifp: { const s = hv.vps[vp.index].vtl[vtl]; return { lo: s.siefpLo, hi: s.siefpHi }; }
    }
    if (name >= R.Sint0 && name <= R.Sint0 + 15) return { lo: hv.vps[vp.index].vtl[vtl].sint[name - R.Sint0], hi: 0 };
    return vsmRegister(hv, vp, vtl, caller, name);
  })();
  if (v === undefined) return S.HV_STATUS_INVALID_PARAMETER; // unknown name (kvm-unit-tests expect 0x5)
  if (typeof v === 'number') return v;
  put(out, off, v);
  return S.HV_STATUS_SUCCESS;
}

export function writeRegister(hv: Hypervisor, vp: Vp, vtl: number, caller: number, name: number, d: DataView, off: number): number {
  const ctx = vp.vtls[vtl]!;
  const c: Cpu = ctx.cpu, st = c.st;
  const live = vp.cpu.st;
  const lo = d.getInt32(off, true), hi = d.getInt32(off + 4, true);
  const lo2 = d.getInt32(off + 8, true), hi2 = d.getInt32(off + 12, true);
  const vs = hv.vps[vp.index];
  if (name >= R.Rax && name <= R.R15) {
    const r = name - R.Rax;
    const dst = r === 4 ? st : live;
    dst.lo[r] = lo; dst.hi[r] = hi;
    return S.HV_STATUS_SUCCESS;
  }
  if (name >= R.Xmm0 && name <= R.Xmm15) {
    const b = (name - R.Xmm0) * 4;
    live.xmm[b] = lo; live.xmm[b + 1] = hi; live.xmm[b + 2] = lo2; live.xmm[b + 3] = hi2;
    return S.HV_STATUS_SUCCESS;
  }
  const seg = SEG_BY_REG[name];
  if (seg !== undefined) {
    const s = st.seg[seg];
    s.baseLo = lo; s.baseHi = hi; s.limit = lo2 >>> 0; s.selector = hi2 & 0xffff; s.attr = (hi2 >>> 16) & 0xffff;
    if (seg === SEG.CS) st.cpl = (s.attr >> 5) & 3;
    c.updateMode();
    return S.HV_STATUS_SUCCESS;
  }
  try {
    switch (name) {
      case R.Rip: st.ripLo = lo; st.ripHi = hi; c.invalidateFetch(); return S.HV_STATUS_SUCCESS;
      case R.Rflags: c.setFlags(lo); return S.HV_STATUS_SUCCESS;
      case R.Cr0: writeCr0(c, lo, hi); return S.HV_STATUS_SUCCESS;
      case R.Cr2: live.cr2Lo = lo; live.cr2Hi = hi; return S.HV_STATUS_SUCCESS;
      case R.Cr3: st.cr3Lo = lo; st.cr3Hi = hi; c.mmu.flushNonGlobal(); return S.HV_STATUS_SUCCESS;
      case R.Cr4: writeCr4(c, lo, hi); return S.HV_STATUS_SUCCESS;
      case R.Cr8: ctx.apic.writeCr8(lo); return S.HV_STATUS_SUCCESS;
      case R.Efer: st.eferLo = lo; c.mmu.flushAll(); c.updateMode(); return S.HV_STATUS_SUCCESS;
      case R.Idtr: st.idtr.limit = (hi >>> 16) & 0xffff; st.idtr.baseLo = lo2; st.idtr.baseHi = hi2; return S.HV_STATUS_SUCCESS;
      case R.Gdtr: st.gdtr.limit = (hi >>> 16) & 0xffff; st.gdtr.baseLo = lo2; st.gdtr.baseHi = hi2; return S.HV_STATUS_SUCCESS;
      case R.ApicBase: {
        if (!ctx.apic.wrmsr(0x1b, lo >>> 0, hi >>> 0)) return S.HV_STATUS_INVALID_PARAMETER;
        hv.machine.attachApicWindow(vp, vtl);
        return S.HV_STATUS_SUCCESS;
      }
      case R.KernelGsBase: st.kernelGsBaseLo = lo; st.kernelGsBaseHi = hi; return S.HV_STATUS_SUCCESS;
      case R.Pat: st.patLo = lo; st.patHi = hi; return S.HV_STATUS_SUCCESS;
      case R.SysenterCs: st.sysenterCs = lo & 0xffff; return S.HV_STATUS_SUCCESS;
      case R.SysenterEip: st.sysenterEipLo = lo; st.sysenterEipHi = hi; return S.HV_STATUS_SUCCESS;
      case R.SysenterEsp: st.sysenterEspLo = lo; st.sysenterEspHi = hi; return S.HV_STATUS_SUCCESS;
      case R.Star: st.starLo = lo; st.starHi = hi; return S.HV_STATUS_SUCCESS;
      case R.Lstar: st.lstarLo = lo; st.lstarHi = hi; return S.HV_STATUS_SUCCESS;
      case R.Cstar: st.cstarLo = lo; st.cstarHi = hi; return S.HV_STATUS_SUCCESS;
      case R.Sfmask: st.fmask = lo; return S.HV_STATUS_SUCCESS;
      case R.TscAux: st.tscAux = lo; return S.HV_STATUS_SUCCESS;
      case R.Dr7: st.dr[7] = lo >>> 0; return S.HV_STATUS_SUCCESS;
      case R.GuestOsId: return hv.wrmsr(vp, vtl, 0x40000000, lo, hi) ? S.HV_STATUS_SUCCESS : S.HV_STATUS_INVALID_PARAMETER;
      case R.Hypercall: return hv.wrmsr(vp, vtl, 0x40000001, lo, hi) ? S.HV_STATUS_SUCCESS : S.HV_STATUS_INVALID_PARAMETER;
      case R.VpAssistPage: return hv.wrmsr(vp, vtl, 0x40000073, lo, hi) ? S.HV_STATUS_SUCCESS : S.HV_STATUS_INVALID_PARAMETER;
      case R.Scontrol: return hv.wrmsr(vp, vtl, 0x40000080, lo, hi) ? S.HV_STATUS_SUCCESS : S.HV_STATUS_INVALID_PARAMETER;
      case R.Sipp: return hv.wrmsr(vp, vtl, 0x40000083, lo, hi) ? S.HV_STATUS_SUCCESS : S.HV_STATUS_INVALID_PARAMETER;
      case R.Sifp: return hv.wrmsr(vp, vtl, 0x40000082, lo, hi) ? S.HV_STATUS_SUCCESS : S.HV_STATUS_INVALID_PARAMETER;
      case R.VsmPartitionConfig: {
        // Write-once: once VTL protection is enabled, that bit and the default mask keep their values.
        const old = hv.partitionConfig[vtl];
        hv.partitionConfig[vtl] = old & 1 ? (old & 0x1f) | (lo & ~0x1f & 0xffff) : lo & 0xffff;
        hv.protectionConfigChanged(vtl);
        return S.HV_STATUS_SUCCESS;
      }
      case R.VsmVina: vs.vtl[vtl].vina = lo & 0x7ff; return S.HV_STATUS_SUCCESS;
      case R.PendingEvent0: {
        // An exception event (bit0 pending, type 0) is injected into the target VTL: delivered through
        // its IDT at its current RIP, as if the instruction there had raised it (spec/vsm.md 3.2).
        if (!(lo & 1)) return S.HV_STATUS_SUCCESS;
        if ((lo >>> 1) & 7) return S.HV_STATUS_INVALID_PARAMETER; // only exception events
        const vector = (lo >>> 16) & 0xff;
        if (vector > 31) return S.HV_STATUS_INVALID_PARAMETER;
        const err = lo & 0x100 ? hi >>> 0 : -1;
        c.startLo = st.ripLo; c.startHi = st.ripHi;
        if (!c.exception(vector, err)) return S.HV_STATUS_INVALID_VP_STATE;
        return S.HV_STATUS_SUCCESS;
      }
      // The intercept controls are VTL1's, over VTL0: a VTL0 caller may not set them.
      case R.CrInterceptControl: if (caller < 1) return S.HV_STATUS_ACCESS_DENIED; vs.crInterceptControlLo = lo; vs.crInterceptControlHi = hi; return S.HV_STATUS_SUCCESS;
      case R.CrInterceptCr0Mask: if (caller < 1) return S.HV_STATUS_ACCESS_DENIED; vs.crInterceptCr0Mask = lo; return S.HV_STATUS_SUCCESS;
      case R.CrInterceptCr4Mask: if (caller < 1) return S.HV_STATUS_ACCESS_DENIED; vs.crInterceptCr4Mask = lo; return S.HV_STATUS_SUCCESS;
      case R.VsmCodePageOffsets: case R.VsmVpStatus: case R.VsmPartitionStatus: case R.VsmCapabilities: case R.VpIndex:
        return S.HV_STATUS_INVALID_PARAMETER; // read-only
    }
  } catch {
    // An architecturally invalid value (#GP on hardware) is rejected.
    return S.HV_STATUS_INVALID_PARAMETER;
  }
  if (name >= R.Sint0 && name <= R.Sint0 + 15) {
    return hv.wrmsr(vp, vtl, 0x40000090 + (name - R.Sint0), lo, hi) ? S.HV_STATUS_SUCCESS : S.HV_STATUS_INVALID_PARAMETER;
  }
  if (name >= R.VsmVpSecureConfigVtl0 && name <= R.VsmVpSecureConfigVtl0 + 14) {
    const n = name - R.VsmVpSecureConfigVtl0;
    if (n >= caller) return S.HV_STATUS_INVALID_PARAMETER;
    hv.setTlbLock(vp.index, n, (lo & 2) !== 0, caller);
    vs.secureConfig[n] = lo & 0xf;
    hv.machine.flushAllTranslations(); // MBEC may have changed what a fetch needs
    return S.HV_STATUS_SUCCESS;
  }
  return S.HV_STATUS_INVALID_PARAMETER;
}

// The VSM state of a VP as plain data, for debugger views (the DAP adapter's "VSM" scope): enabled
// VTLs, each VTL's VP assist page control area and intercept message slot, the protections of the
// page under RIP, and the CR intercept control.

import type { Machine } from '../core/machine/machine.js';

/**
 * VP `vp`'s VSM state; `lastEntry` is supplied by the caller (it comes from the event log), and
 * `translate` maps a linear address of (vp, vtl) to its GPA as a debugger sees it. Null without Hyper-V.
 */
export function vsmStateOf(m: Machine, vp: number, lastEntry: VsmState['lastEntry'],
  translate: (vp: number, vtl: number, addr: bigint) => number | null): VsmState | null {
  const hv = m.hv, v = m.vps[vp];
  if (!hv || !v) return null;
  const hvp = hv.vps[vp], mem = m.mem;
  const u64At = (a: number) => (BigInt(mem.read32(a + 4) >>> 0) << 32n) | BigInt(mem.read32(a) >>> 0);
  const inRam = (a: number, n: number) => a >= 0 && a + n <= mem.size;
  const vtls: VsmState['vtls'] = hvp.vtl.map((s, vtl) => {
    const page = s.vpAssistGpa;
    const assist = s.vpAssistEnabled && inRam(page, 4096)
      ? { gpa: page, entryReason: mem.read32(page + 0x08), vinaAsserted: (mem.read8(page + 0x0c) & 1) === 1, returnRax: u64At(page + 0x10), returnRcx: u64At(page + 0x18) }
      : null;
    const simp = (s.simpHi >>> 0) * 4294967296 + ((s.simpLo & ~0xfff) >>> 0);
    const slot = (s.simpLo & 1) && inRam(simp, 256) ? { gpa: simp, type: mem.read32(simp) >>> 0, messagePending: (mem.read8(simp + 5) & 1) === 1 } : null;
    return { vtl, enabled: ((hvp.enabledVtls >> vtl) & 1) === 1, hasContext: !!v.vtls[vtl], vpAssist: assist, interceptSlot: slot };
  });
  const active = v.activeVtl;
  const rip = (BigInt(v.cpu.st.ripHi >>> 0) << 32n) | BigInt(v.cpu.st.ripLo >>> 0);
  const gpa = translate(vp, active, rip);
  const protections = gpa === null ? [] : hv.protection.map((p) => ({ vtl: p.vtl, mask: p.maskOf(Math.floor(gpa / 4096)) }));
  return {
    partitionEnabledVtls: hv.enabledVtls, vpEnabledVtls: hvp.enabledVtls, activeVtl: active, lastEntry, vtls,
    rip, ripGpa: gpa, protections,
    crInterceptControl: (BigInt(hvp.crInterceptControlHi >>> 0) << 32n) | BigInt(hvp.crInterceptControlLo >>> 0),
  };
}

/** Session.vsmState's answer (bit n of the VTL masks = VTL n). */
export interface VsmState {
  partitionEnabledVtls: number;
  vpEnabledVtls: number;
  activeVtl: number;
  /** The VP's last switch into a higher VTL at or before the current position (reason: HV_VTL_ENTRY_REASON). */
  lastEntry: { icount: number; index: number; from: number; to: number; reason: number } | null;
  vtls: {
    vtl: number;
    enabled: boolean;
    hasContext: boolean;
    /** The VTL control area of this VTL's VP assist page (spec/vsm.md 4), when the page is enabled. */
    vpAssist: { gpa: number; entryReason: number; vinaAsserted: boolean; returnRax: bigint; returnRcx: bigint } | null;
    /** SINT0 message slot (where secure intercepts arrive), when the message page is enabled: type 0 = empty. */
    interceptSlot: { gpa: number; type: number; messagePending: boolean } | null;
  }[];
  /** RIP of the active VTL, its guest-physical address, and the protection mask each lower VTL has on that page. */
  rip: bigint;
  ripGpa: number | null;
  protections: { vtl: number; mask: number }[];
  /** CR intercept control set by VTL1 for VTL0 (spec/vsm.md 3.1). */
  crInterceptControl: bigint;
}

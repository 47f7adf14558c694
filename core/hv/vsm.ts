// VSM behaviour (spec/vsm.md 2-5): VTL enablement, VTL call and return with the private/shared state
// banking of 5.1, the VP assist page VTL control area, Get/SetVpRegisters with the cross-VTL access
// rules, and the VSM registers.
//
// Banking: each VTL of a VP has its own CPU context (core/machine/vp.ts), so private state — RIP,
// RSP, RFLAGS, control, segment and descriptor-table registers, EFER, PAT, the syscall MSRs, FS/GS/
// kernel-GS bases, TSC_AUX, DR7, the synthetic MSRs and the local APIC — is kept simply by switching
// contexts. A switch copies the shared state (every GPR but RSP, XMM/x87/MXCSR/XCR0, CR2, DR0-3)
// from the old context to the new one; DR6 is private (VsmCapabilities.dr6_shared = 0).

import type { Vp } from '../machine/vp.js';
import { VP_STATE } from '../machine/vp.js';
import type { Cpu } from '../x86/cpu.js';
import { EXC, SEG } from '../x86/defs/arch.js';
import { HvCall } from './defs/hypercall.js';
import { HvStatus } from './defs/status.js';
import { HvRegisterName as R } from './defs/registers.js';
import type { Hypervisor } from './hypervisor.js';
import { HYPERCALL_PAGE } from './hypervisor.js';
import type { HypercallHandler, HypercallRequest, HypercallResult } from './hypercall.js';
import { advanceRip } from './hypercall.js';
import { writeRegister, readRegister } from './registers.js';
import { modifyVtlProtectionMask } from './protection.js';
import { postMessage, signalEvent } from './connections.js';
import { translateVirtualAddress, translateVirtualAddressEx } from './translate.js';
import { flushVirtualAddressList, flushVirtualAddressListEx, flushVirtualAddressSpace, flushVirtualAddressSpaceEx } from './flush.js';

const S = HvStatus;

/** VTL entry reasons in the VP assist page control area (spec/vsm.md 4). */
export const VTL_ENTRY_REASON = { RESERVED: 0, VTL_CALL: 1, INTERRUPT: 2 } as const;

const PARTITION_SELF_LO = -1, PARTITION_SELF_HI = -1;
const VP_INDEX_SELF = 0xfffffffe;

function partitionIsSelf(d: DataView, off: number): boolean {
  return d.getInt32(off, true) === PARTITION_SELF_LO && d.getInt32(off + 4, true) === PARTITION_SELF_HI;
}

/** Copy the VTL-shared architectural state between two contexts of one VP. */
export function copySharedState(from: Cpu, to: Cpu): void {
  const a = from.st, b = to.st;
  for (let r = 0; r < 16; r++) {
    if (r === 4) continue; // RSP is private
    b.lo[r] = a.lo[r]; b.hi[r] = a.hi[r];
  }
  b.xmm.set(a.xmm);
  b.mxcsr = a.mxcsr; b.fcw = a.fcw; b.fsw = a.fsw; b.ftw = a.ftw; b.fpregs.set(a.fpregs);
  b.xcr0Lo = a.xcr0Lo;
  b.cr2Lo = a.cr2Lo; b.cr2Hi = a.cr2Hi;
  // DR6 stays private: VsmCapabilities.dr6_shared reads 0.
  for (let k = 0; k < 4; k++) b.dr[k] = a.dr[k];
}

/** Switch the VP's active VTL (the caller has already set RIP of the context being left). */
export function switchVtl(hv: Hypervisor, vp: Vp, to: number, reason: number): void {
  const from = vp.activeVtl;
  const a = vp.vtls[from]!.cpu, b = vp.vtls[to]!.cpu;
  copySharedState(a, b);
  vp.activeVtl = to;
  b.eventPending = true;
  b.invalidateFetch();
  hv.observe?.({ kind: 'vtl-switch', vp: vp.index, from, to, reason, ripBeforeLo: a.st.ripLo, ripBeforeHi: a.st.ripHi, ripAfterLo: b.st.ripLo, ripAfterHi: b.st.ripHi });
}

function assistPage(hv: Hypervisor, vp: Vp, vtl: number): number {
  const s = hv.vps[vp.index].vtl[vtl];
  if (!s.vpAssistEnabled) return -1;
  const gpa = s.vpAssistGpa;
  return gpa + 4096 <= hv.machine.mem.size ? gpa : -1;
}

/** HvCallVtlCall: VTL0 → VTL1 (spec/vsm.md 2.3, 5.2). Failures raise #UD; nothing goes to RAX. */
export function vtlCall(hv: Hypervisor, vp: Vp): void {
  const from = vp.activeVtl;
  const cpu = vp.cpu;
  const st = cpu.st;
  const input = cpu.long ? st.lo[0] | st.hi[0] : st.lo[1];
  const to = from + 1;
  const enabled = (hv.vps[vp.index].enabledVtls >> to) & 1;
  if (input !== 0 || to > hv.maxVtl || !enabled || !vp.vtls[to]) { cpu.exception(EXC.UD, -1); return; }
  advanceRip(cpu);
  switchVtl(hv, vp, to, VTL_ENTRY_REASON.VTL_CALL);
  const page = assistPage(hv, vp, to);
  if (page >= 0) {
    const mem = hv.machine.mem;
    mem.write32(page + 0x08, VTL_ENTRY_REASON.VTL_CALL);
    // QEMU also stores the caller's RAX/RCX in the return fields at entry (spec/vsm.md 5.2).
    mem.write32(page + 0x10, st.lo[0]); mem.write32(page + 0x14, st.hi[0]);
    mem.write32(page + 0x18, st.lo[1]); mem.write32(page + 0x1c, st.hi[1]);
  }
}

/** HvCallVtlReturn: VTL1 → VTL0 (spec/vsm.md 2.3, 5.3). */
export function vtlReturn(hv: Hypervisor, vp: Vp): void {
  const from = vp.activeVtl;
  const cpu = vp.cpu;
  const st = cpu.st;
  const inLo = cpu.long ? st.lo[0] : st.lo[1];
  const inHi = cpu.long ? st.hi[0] : 0;
  if (from === 0 || (inLo & ~1) !== 0 || inHi !== 0) { cpu.exception(EXC.UD, -1); return; }
  const fast = (inLo & 1) === 1;
  advanceRip(cpu);
  const page = assistPage(hv, vp, from);
  switchVtl(hv, vp, from - 1, 0);
  const to = vp.cpu.st;
  if (!fast && page >= 0) {
    const mem = hv.machine.mem;
    to.lo[0] = mem.read32(page + 0x10) | 0; to.hi[0] = mem.read32(page + 0x14) | 0;
    to.lo[1] = mem.read32(page + 0x18) | 0; to.hi[1] = mem.read32(page + 0x1c) | 0;
  }
  // Side effects of a return: the TLB lock VTL1 held on VTL0 is released; VINA auto-reset.
  hv.setTlbLock(vp.index, from - 1, false, from);
  const vina = hv.vps[vp.index].vtl[from].vina;
  if (vina & (1 << 9) && page >= 0) hv.machine.mem.write8(page + 0x0c, hv.machine.mem.read8(page + 0x0c) & ~1);
}

// ---- HvCallSendSyntheticClusterIpi (0x000B) / Ex (0x0015), spec/vsm.md 2.10 --------------------------

function sendIpi(req: HypercallRequest, targets: number[]): HypercallResult {
  const { hv, input: d, vtl: caller } = req;
  const vector = d.getUint32(0, true);
  if (vector < 0x10 || vector > 0xff) return { status: S.HV_STATUS_INVALID_HYPERCALL_INPUT };
  const inputVtl = d.getUint8(4);
  if (inputVtl & 0xe0) return { status: S.HV_STATUS_INVALID_PARAMETER };
  const vtl = inputVtl & 0x10 ? inputVtl & 0xf : caller;
  if (vtl > hv.maxVtl) return { status: S.HV_STATUS_INVALID_PARAMETER };
  for (const index of targets) {
    const vp = hv.machine.vps[index];
    if (!vp || !vp.vtls[vtl]) return { status: S.HV_STATUS_INVALID_PARAMETER };
  }
  hv.observe?.({ kind: 'ipi', vp: req.vp.index, vtl: caller, targetVtl: vtl, vector, targets, via: 'hypercall' });
  for (const index of targets) hv.machine.vps[index].vtls[vtl]!.apic.acceptInterrupt(0, vector, 'edge');
  return { status: S.HV_STATUS_SUCCESS };
}

const sendSyntheticClusterIpi: HypercallHandler = {
  headerBytes: 16,
  run(req: HypercallRequest): HypercallResult {
    const d = req.input;
    const targets: number[] = [];
    for (let bit = 0; bit < 64; bit++) {
      const word = d.getUint32(8 + (bit >> 5) * 4, true);
      if ((word >>> (bit & 31)) & 1) targets.push(bit);
    }
    return sendIpi(req, targets);
  },
};

/** HV_VP_SET after an 8-byte fixed part: format (0 sparse banks, 1 all), valid bank mask, banks. */
const sendSyntheticClusterIpiEx: HypercallHandler = {
  headerBytes: 24,
  run(req: HypercallRequest): HypercallResult {
    const d = req.input;
    const format = d.getUint32(8, true) | d.getUint32(12, true);
    const maskLo = d.getUint32(16, true), maskHi = d.getUint32(20, true);
    const targets: number[] = [];
    if (format === 1) { for (let k = 0; k < req.hv.machine.vps.length; k++) targets.push(k); }
    else if (format === 0) {
      let banks = 0;
      for (let b = 0; b < 64; b++) {
        if (!(((b < 32 ? maskLo : maskHi) >>> (b & 31)) & 1)) continue;
        if ((banks + 1) * 8 > req.varHeaderBytes) return { status: S.HV_STATUS_INVALID_HYPERCALL_INPUT };
        for (let bit = 0; bit < 64; bit++) {
          const word = d.getUint32(24 + banks * 8 + (bit >> 5) * 4, true);
          if ((word >>> (bit & 31)) & 1) targets.push(b * 64 + bit);
        }
        banks++;
      }
      if (banks * 8 !== req.varHeaderBytes) return { status: S.HV_STATUS_INVALID_HYPERCALL_INPUT };
    } else return { status: S.HV_STATUS_INVALID_PARAMETER };
    return sendIpi(req, targets);
  },
};

// ---- HvCallEnablePartitionVtl (0x000D) --------------------------------------------------------------

const enablePartitionVtl: HypercallHandler = {
  headerBytes: 16,
  run(req: HypercallRequest): HypercallResult {
    const { hv, input: d, vtl: caller } = req;
    if (!partitionIsSelf(d, 0)) return { status: S.HV_STATUS_INVALID_PARTITION_ID };
    const target = d.getUint8(8);
    const flags = d.getUint8(9);
    if ((flags & ~7) || d.getUint16(10, true) || d.getUint32(12, true)) return { status: S.HV_STATUS_INVALID_PARAMETER };
    if (target > hv.maxVtl || (hv.enabledVtls >> target) & 1) return { status: S.HV_STATUS_INVALID_PARAMETER };
    if (flags & 1 && !(hv.opts.mbec && target === 1)) return { status: S.HV_STATUS_INVALID_PARAMETER }; // MBEC not offered
    if (flags & 6) return { status: S.HV_STATUS_INVALID_PARAMETER }; // shadow stacks, HVPT: not supported
    const highest = 31 - Math.clz32(hv.enabledVtls);
    if (caller < target && caller !== highest) return { status: S.HV_STATUS_INVALID_PARAMETER };
    hv.enabledVtls |= 1 << target;
    if (flags & 1) hv.mbecVtls |= 1 << target;
    return { status: S.HV_STATUS_SUCCESS };
  },
};

// ---- HvCallEnableVpVtl (0x000F) ---------------------------------------------------------------------

const enableVpVtl: HypercallHandler = {
  headerBytes: 16 + 224,
  run(req: HypercallRequest): HypercallResult {
    const { hv, input: d, vtl: caller, vp: self } = req;
    if (!partitionIsSelf(d, 0)) return { status: S.HV_STATUS_INVALID_PARTITION_ID };
    let index = d.getUint32(8, true);
    if (index === VP_INDEX_SELF) index = self.index;
    const target = d.getUint8(12) & 0xf;
    if (index >= hv.machine.vps.length) return { status: S.HV_STATUS_INVALID_VP_INDEX };
    if (target === 0 || target > hv.maxVtl) return { status: S.HV_STATUS_INVALID_PARAMETER };
    if (!((hv.enabledVtls >> target) & 1)) return { status: S.HV_STATUS_INVALID_PARAMETER };
    const vpState = hv.vps[index];
    if ((vpState.enabledVtls >> target) & 1) return { status: S.HV_STATUS_INVALID_PARAMETER };
    // Bootstrap rule: the first VP may get VTL1 from VTL0; afterwards only a caller at the target
    // VTL or above may enable it on other VPs (spec/vsm.md 2.2).
    const anyEnabled = hv.vps.some((v) => (v.enabledVtls >> target) & 1);
    if (anyEnabled && caller < target) return { status: S.HV_STATUS_ACCESS_DENIED };
    const vp = hv.machine.vps[index];
    const ctx = vp.addVtl(target);
    loadInitialContext(ctx.cpu, d, 16);
    hv.machine.attachApicWindow(vp, target);
    hv.machine.vtlAdded(vp, target);
    vpState.enabledVtls |= 1 << target;
    return { status: S.HV_STATUS_SUCCESS };
  },
};

/** HV_INITIAL_VP_CONTEXT (spec/vsm.md 2.2) into a fresh context. */
export function loadInitialContext(cpu: Cpu, d: DataView, o: number): void {
  const st = cpu.st;
  const u32 = (off: number) => d.getUint32(o + off, true) | 0;
  st.ripLo = u32(0x00); st.ripHi = u32(0x04);
  st.lo[4] = u32(0x08); st.hi[4] = u32(0x0c);
  st.flags = (u32(0x10) | 2) & 0x3f7fd7; st.lf = 0;
  const segs: [number, number][] = [[SEG.CS, 0x18], [SEG.DS, 0x28], [SEG.ES, 0x38], [SEG.FS, 0x48], [SEG.GS, 0x58], [SEG.SS, 0x68], [SEG.TR, 0x78], [SEG.LDTR, 0x88]];
  for (const [seg, off] of segs) {
    const s = st.seg[seg];
    s.baseLo = u32(off); s.baseHi = u32(off + 4);
    s.limit = d.getUint32(o + off + 8, true);
    s.selector = d.getUint16(o + off + 12, true);
    s.attr = d.getUint16(o + off + 14, true);
  }
  st.idtr.limit = d.getUint16(o + 0x98 + 6, true); st.idtr.baseLo = u32(0x98 + 8); st.idtr.baseHi = u32(0x98 + 12);
  st.gdtr.limit = d.getUint16(o + 0xa8 + 6, true); st.gdtr.baseLo = u32(0xa8 + 8); st.gdtr.baseHi = u32(0xa8 + 12);
  st.eferLo = u32(0xb8);
  st.cr0 = u32(0xc0);
  st.cr3Lo = u32(0xc8); st.cr3Hi = u32(0xcc);
  st.cr4 = u32(0xd0);
  st.patLo = u32(0xd8); st.patHi = u32(0xdc);
  st.cpl = (st.seg[SEG.CS].attr >> 5) & 3;
  st.halted = false;
  cpu.mmu.flushAll();
  cpu.updateMode();
}

// ---- HvCallStartVirtualProcessor (0x0099), spec/vsm.md 2.8 -------------------------------------------

/** VsmPartitionConfig.deny_lower_vtl_startup (bit 6). */
const DENY_LOWER_VTL_STARTUP = 0x40;

const startVirtualProcessor: HypercallHandler = {
  headerBytes: 16 + 224,
  run(req: HypercallRequest): HypercallResult {
    const { hv, input: d, vtl: caller, vp: self } = req;
    if (!partitionIsSelf(d, 0)) return { status: S.HV_STATUS_INVALID_PARTITION_ID };
    const index = d.getUint32(8, true);
    if (index >= hv.machine.vps.length || index === self.index) return { status: S.HV_STATUS_INVALID_VP_INDEX };
    const target = d.getUint8(12);
    if (target > hv.maxVtl) return { status: S.HV_STATUS_INVALID_PARAMETER };
    if (target > caller) return { status: S.HV_STATUS_ACCESS_DENIED };
    // A higher enabled VTL may deny starting VPs from below (VsmPartitionConfig, spec/vsm.md 3.1).
    for (let v = caller + 1; v <= hv.maxVtl; v++) {
      if ((hv.enabledVtls >> v) & 1 && hv.partitionConfig[v] & DENY_LOWER_VTL_STARTUP) return { status: S.HV_STATUS_ACCESS_DENIED };
    }
    const vp = hv.machine.vps[index];
    const ctx = vp.vtls[target];
    if (!ctx || !((hv.vps[index].enabledVtls >> target) & 1)) return { status: S.HV_STATUS_INVALID_VP_STATE };
    if (vp.state !== VP_STATE.WAIT_FOR_SIPI) return { status: S.HV_STATUS_INVALID_VP_STATE };
    // Like INIT + SIPI, but the VP starts in the given VTL with the given context.
    loadInitialContext(ctx.cpu, d, 16);
    vp.activeVtl = target;
    vp.initSeen = false;
    vp.state = VP_STATE.RUNNING;
    hv.observe?.({ kind: 'vp-start', vp: index, vtl: target, ripLo: ctx.cpu.st.ripLo, ripHi: ctx.cpu.st.ripHi, reason: 'hypercall' });
    return { status: S.HV_STATUS_SUCCESS };
  },
};

// ---- HvCallGetVpIndexFromApicId (0x009A), spec/vsm.md 2.9 --------------------------------------------

/** 4-byte APIC IDs in, 4-byte VP indices out (OpenVMM and Linux; the TLFS page shows 8-byte elements). */
const getVpIndexFromApicId: HypercallHandler = {
  headerBytes: 16,
  repInputBytes: 4,
  repOutputBytes: 4,
  run(req: HypercallRequest): HypercallResult {
    const { hv, input: d } = req;
    if (!partitionIsSelf(d, 0)) return { status: S.HV_STATUS_INVALID_PARTITION_ID, repsCompleted: req.repStart };
    if (d.getUint8(8) > hv.maxVtl) return { status: S.HV_STATUS_INVALID_PARAMETER, repsCompleted: req.repStart };
    for (let k = req.repStart; k < req.repCount; k++) {
      const apicId = d.getUint32(16 + k * 4, true);
      // The initial APIC ID, the same in every VTL (spec/vsm.md 5.1): VP n has APIC ID n.
      const vp = hv.machine.vps.findIndex((v) => v.vtls[0]!.apic.apicId === apicId);
      if (vp < 0) return { status: S.HV_STATUS_INVALID_PARAMETER, repsCompleted: k };
      req.output.setUint32(k * 4, vp, true);
    }
    return { status: S.HV_STATUS_SUCCESS, repsCompleted: req.repCount };
  },
};

// ---- HvCallGetVpRegisters (0x0050) / HvCallSetVpRegisters (0x0051) -------------------------------

/** Resolve the header's VP and VTL and apply the access rules (VTL0 may not touch VTL1). */
function registerTarget(req: HypercallRequest): { vp: Vp; vtl: number } | number {
  const { hv, input: d, vtl: caller } = req;
  if (!partitionIsSelf(d, 0)) return S.HV_STATUS_INVALID_PARTITION_ID;
  let index = d.getUint32(8, true);
  if (index === VP_INDEX_SELF) index = req.vp.index;
  if (index >= hv.machine.vps.length) return S.HV_STATUS_INVALID_VP_INDEX;
  const inputVtl = d.getUint8(12);
  if (inputVtl & 0xe0) return S.HV_STATUS_INVALID_PARAMETER;
  const vtl = inputVtl & 0x10 ? inputVtl & 0xf : caller;
  if (vtl > caller) return S.HV_STATUS_ACCESS_DENIED;
  const vp = hv.machine.vps[index];
  if (!vp.vtls[vtl]) return S.HV_STATUS_INVALID_VTL_STATE;
  return { vp, vtl };
}

const getVpRegisters: HypercallHandler = {
  headerBytes: 16,
  repInputBytes: 4,
  repOutputBytes: 16,
  run(req: HypercallRequest): HypercallResult {
    const t = registerTarget(req);
    if (typeof t === 'number') return { status: t, repsCompleted: req.repStart };
    for (let k = req.repStart; k < req.repCount; k++) {
      const name = req.input.getUint32(16 + req.varHeaderBytes + k * 4, true);
      const status = readRegister(req.hv, t.vp, t.vtl, req.vtl, name, req.output, k * 16);
      if (status !== S.HV_STATUS_SUCCESS) return { status, repsCompleted: k };
    }
    return { status: S.HV_STATUS_SUCCESS, repsCompleted: req.repCount };
  },
};

const setVpRegisters: HypercallHandler = {
  headerBytes: 16,
  repInputBytes: 32,
  run(req: HypercallRequest): HypercallResult {
    const t = registerTarget(req);
    if (typeof t === 'number') return { status: t, repsCompleted: req.repStart };
    for (let k = req.repStart; k < req.repCount; k++) {
      const base = 16 + req.varHeaderBytes + k * 32;
      const name = req.input.getUint32(base, true);
      const status = writeRegister(req.hv, t.vp, t.vtl, req.vtl, name, req.input, base + 16);
      if (status !== S.HV_STATUS_SUCCESS) return { status, repsCompleted: k };
    }
    return { status: S.HV_STATUS_SUCCESS, repsCompleted: req.repCount };
  },
};

export const VSM_HANDLERS: Partial<Record<number, HypercallHandler>> = {
  [HvCall.HvCallModifyVtlProtectionMask]: modifyVtlProtectionMask,
  [HvCall.HvCallFlushVirtualAddressSpace]: flushVirtualAddressSpace,
  [HvCall.HvCallFlushVirtualAddressList]: flushVirtualAddressList,
  [HvCall.HvCallFlushVirtualAddressSpaceEx]: flushVirtualAddressSpaceEx,
  [HvCall.HvCallFlushVirtualAddressListEx]: flushVirtualAddressListEx,
  [HvCall.HvCallSendSyntheticClusterIpi]: sendSyntheticClusterIpi,
  [HvCall.HvCallSendSyntheticClusterIpiEx]: sendSyntheticClusterIpiEx,
  [HvCall.HvCallTranslateVirtualAddress]: translateVirtualAddress,
  [HvCall.HvCallTranslateVirtualAddressEx]: translateVirtualAddressEx,
  [HvCall.HvCallEnablePartitionVtl]: enablePartitionVtl,
  [HvCall.HvCallEnableVpVtl]: enableVpVtl,
  [HvCall.HvCallStartVirtualProcessor]: startVirtualProcessor,
  [HvCall.HvCallGetVpIndexFromApicId]: getVpIndexFromApicId,
  [HvCall.HvCallGetVpRegisters]: getVpRegisters,
  [HvCall.HvCallSetVpRegisters]: setVpRegisters,
  [HvCall.HvCallPostMessage]: postMessage,
  [HvCall.HvCallSignalEvent]: signalEvent,
};

export { HYPERCALL_PAGE, R };

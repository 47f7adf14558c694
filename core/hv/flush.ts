// The flush hypercalls (spec/vsm.md 2.7) against the per-(VP, VTL) TLBs, and the TLB lock (spec/vsm.md
// 8): a flush by a VTL whose target TLB a higher VTL has locked does not complete. The calling VP
// stays on its VMCALL (no result, RIP unchanged) in a "blocked" scheduling state that is part of the
// hypervisor's saved state; the machine does not run it until every TLB it targets is unlocked (it
// then re-executes the VMCALL, which now completes) or until an interrupt can be delivered to it (the
// handler runs and its IRET returns to the VMCALL, which blocks again: a hypercall continuation).
//
// Choices:
// - The TLBs carry no address-space tags, so a flush of one address space flushes the whole TLB
//   (non-global entries only when HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY): more than asked, never less.
// - An empty processor set (mask 0 without HV_FLUSH_ALL_PROCESSORS) flushes nothing and succeeds (the
//   TLFS; KVM instead treats it as "all processors"). VP indices with no VP are ignored (KVM).
// - HV_FLUSH_USE_TARGET_VTL (bit 4) selects the VTLs in bits 8.. (bit 8 = VTL0); a VTL above the
//   caller's is ACCESS_DENIED. Without it the caller's own VTL is flushed.
// - Address lists flush page by page; a list longer than 256 pages flushes the whole TLB instead.

import type { Vp } from '../machine/vp.js';
import { HvStatus } from './defs/status.js';
import type { Hypervisor } from './hypervisor.js';
import type { HypercallHandler, HypercallRequest, HypercallResult } from './hypercall.js';

const S = HvStatus;
const FLAG = { ALL_PROCESSORS: 1, ALL_SPACES: 2, NON_GLOBAL: 4, EXTENDED_RANGE: 8, USE_TARGET_VTL: 0x10 } as const;
/** VsmVpSecureConfigVtlN.tlb_locked (spec/vsm.md 3.1). */
export const TLB_LOCKED = 2;

/** The VPs of an HV_VP_SET at `off` (format u64, valid bank mask u64, then one u64 per bank). */
export function parseVpSet(req: HypercallRequest, off: number): number[] | number {
  const d = req.input;
  const format = d.getUint32(off, true) | d.getUint32(off + 4, true);
  const maskLo = d.getUint32(off + 8, true), maskHi = d.getUint32(off + 12, true);
  const out: number[] = [];
  if (format === 1) {
    if (req.varHeaderBytes !== 0) return S.HV_STATUS_INVALID_HYPERCALL_INPUT;
    for (let k = 0; k < req.hv.machine.vps.length; k++) out.push(k);
    return out;
  }
  if (format !== 0) return S.HV_STATUS_INVALID_PARAMETER;
  let banks = 0;
  for (let b = 0; b < 64; b++) {
    if (!(((b < 32 ? maskLo : maskHi) >>> (b & 31)) & 1)) continue;
    if ((banks + 1) * 8 > req.varHeaderBytes) return S.HV_STATUS_INVALID_HYPERCALL_INPUT;
    for (let bit = 0; bit < 64; bit++) {
      if ((d.getUint32(off + 16 + banks * 8 + (bit >> 5) * 4, true) >>> (bit & 31)) & 1) out.push(b * 64 + bit);
    }
    banks++;
  }
  if (banks * 8 !== req.varHeaderBytes) return S.HV_STATUS_INVALID_HYPERCALL_INPUT;
  return out;
}

function maskVps(req: HypercallRequest, flags: number): number[] {
  const n = req.hv.machine.vps.length;
  const out: number[] = [];
  for (let k = 0; k < n && k < 64; k++) {
    if (flags & FLAG.ALL_PROCESSORS || (req.input.getUint32(16 + (k >> 5) * 4, true) >>> (k & 31)) & 1) out.push(k);
  }
  return out;
}

/** Whether a flush by VTL `caller` of VTL `vtl` on VP `vp` must wait for a TLB lock. */
export function flushBlockedBy(hv: Hypervisor, vp: number, vtl: number, caller: number): boolean {
  return caller <= vtl && ((hv.vps[vp].secureConfig[vtl] ?? 0) & TLB_LOCKED) !== 0;
}

interface FlushPlan { targets: number[]; vtls: number; nonGlobal: boolean }

/** Flush, or block when a targeted TLB is locked (the dispatcher then leaves the VP on its VMCALL). */
function flushOrBlock(req: HypercallRequest, plan: FlushPlan, flushOne: (vp: Vp, vtl: number) => void, reps?: number): HypercallResult {
  const { hv } = req;
  const live = plan.targets.filter((k) => k < hv.machine.vps.length);
  for (const k of live) {
    for (let v = 0; v <= hv.maxVtl; v++) {
      if ((plan.vtls >> v) & 1 && flushBlockedBy(hv, k, v, req.vtl)) {
        hv.blockFlush(req.vp, req.vtl, live, plan.vtls);
        return { status: S.HV_STATUS_SUCCESS, blocked: true };
      }
    }
  }
  for (const k of live) {
    const vp = hv.machine.vps[k];
    for (let v = 0; v <= hv.maxVtl; v++) if ((plan.vtls >> v) & 1 && vp.vtls[v]) flushOne(vp, v);
  }
  hv.observe?.({ kind: 'flush', vp: req.vp.index, vtl: req.vtl, targets: live, targetVtls: plan.vtls, blocked: false });
  return { status: S.HV_STATUS_SUCCESS, repsCompleted: reps };
}

/** Flags at offset 8 → the VTLs to flush, or a status. */
function targetVtls(req: HypercallRequest, flags: number): number {
  if (!(flags & FLAG.USE_TARGET_VTL)) return 1 << req.vtl;
  const vtls = (flags >>> 8) & ((1 << (req.hv.maxVtl + 1)) - 1);
  if (vtls >> (req.vtl + 1)) return -S.HV_STATUS_ACCESS_DENIED;
  return vtls;
}

function flushWhole(nonGlobal: boolean) {
  return (vp: Vp, vtl: number) => {
    const mmu = vp.vtls[vtl]!.cpu.mmu;
    if (nonGlobal) mmu.flushNonGlobal(); else mmu.flushAll();
  };
}

function spaceHandler(ex: boolean): HypercallHandler {
  return {
    headerBytes: ex ? 32 : 24,
    run(req: HypercallRequest): HypercallResult {
      const flags = req.input.getUint32(8, true);
      const vtls = targetVtls(req, flags);
      if (vtls < 0) return { status: -vtls };
      const targets = ex ? parseVpSet(req, 16) : maskVps(req, flags);
      if (typeof targets === 'number') return { status: targets };
      const nonGlobal = (flags & FLAG.NON_GLOBAL) !== 0;
      return flushOrBlock(req, { targets, vtls, nonGlobal }, flushWhole(nonGlobal));
    },
  };
}

function listHandler(ex: boolean): HypercallHandler {
  return {
    headerBytes: ex ? 32 : 24,
    repInputBytes: 8,
    run(req: HypercallRequest): HypercallResult {
      const d = req.input;
      const flags = d.getUint32(8, true);
      const vtls = targetVtls(req, flags);
      if (vtls < 0) return { status: -vtls, repsCompleted: req.repStart };
      const targets = ex ? parseVpSet(req, 16) : maskVps(req, flags);
      if (typeof targets === 'number') return { status: targets, repsCompleted: req.repStart };
      const extended = (flags & FLAG.EXTENDED_RANGE) !== 0;
      // The pages to flush: (lo, hi) of each 4 KiB page, or null for "too many: flush everything".
      let pages: [number, number][] | null = [];
      const base = (ex ? 32 : 24) + req.varHeaderBytes;
      for (let k = req.repStart; k < req.repCount && pages; k++) {
        const lo = d.getUint32(base + k * 8, true), hi = d.getInt32(base + k * 8 + 4, true);
        const large = extended && (lo & 0x800) !== 0;
        const count = ((lo & (extended ? 0x7ff : 0xfff)) + 1) * (large ? 512 : 1);
        if (pages.length + count > 256) { pages = null; break; }
        for (let p = 0; p < count; p++) {
          const a = (lo & ~0xfff) >>> 0, add = p * 4096;
          const sum = a + add;
          pages.push([sum | 0, (hi + (sum > 0xffffffff ? 1 : 0)) | 0]);
        }
      }
      const nonGlobal = (flags & FLAG.NON_GLOBAL) !== 0;
      const list = pages;
      const flushOne = list === null ? flushWhole(nonGlobal) : (vp: Vp, vtl: number) => {
        const mmu = vp.vtls[vtl]!.cpu.mmu;
        for (const [lo, hi] of list) mmu.flushPage(lo, hi);
      };
      return flushOrBlock(req, { targets, vtls, nonGlobal }, flushOne, req.repCount);
    },
  };
}

export const flushVirtualAddressSpace = spaceHandler(false);
export const flushVirtualAddressSpaceEx = spaceHandler(true);
export const flushVirtualAddressList = listHandler(false);
export const flushVirtualAddressListEx = listHandler(true);

// HvCallTranslateVirtualAddress (0x0052) and its Ex form (0x00AC), spec/vsm.md 2.6 and 9: walk the
// paging context of the chosen VTL of the chosen VP, with permission checks, and report the result
// code rather than failing the hypercall.

import { ACCESS, NonCanonical, PageFault } from '../mmu/mmu.js';
import { PFEC } from '../x86/defs/arch.js';
import { HvStatus } from './defs/status.js';
import type { HypercallHandler, HypercallRequest, HypercallResult } from './hypercall.js';

const S = HvStatus;

export const TRANSLATE_RESULT = {
  SUCCESS: 0, PAGE_NOT_PRESENT: 1, PRIVILEGE_VIOLATION: 2, INVALID_PAGE_TABLE_FLAGS: 3, GPA_UNMAPPED: 4,
  GPA_NO_READ_ACCESS: 5, GPA_NO_WRITE_ACCESS: 6, GPA_ILLEGAL_OVERLAY_ACCESS: 7, INTERCEPT: 8,
} as const;

const FLAG = {
  VALIDATE_READ: 1, VALIDATE_WRITE: 2, VALIDATE_EXECUTE: 4, PRIVILEGE_EXEMPT: 8, SET_PAGE_TABLE_BITS: 16,
  TLB_FLUSH_INHIBIT: 32, SUPERVISOR_ACCESS: 64, USER_ACCESS: 128,
} as const;

function makeHandler(ex: boolean): HypercallHandler {
  return {
    headerBytes: 32,
    outputBytes: ex ? 64 : 16,
    run(req: HypercallRequest): HypercallResult {
      const { hv, input: d, vtl: caller, output: out } = req;
      if (d.getInt32(0, true) !== -1 || d.getInt32(4, true) !== -1) return { status: S.HV_STATUS_INVALID_PARTITION_ID };
      let index = d.getUint32(8, true);
      if (index === 0xfffffffe) index = req.vp.index;
      if (index >= hv.machine.vps.length) return { status: S.HV_STATUS_INVALID_VP_INDEX };
      const flags = d.getUint32(16, true);
      const flagsHi = d.getUint32(20, true);
      if ((flags & ~0x7ff) || (flagsHi & 0x00ffffff)) return { status: S.HV_STATUS_INVALID_PARAMETER };
      const inputVtl = flagsHi >>> 24;
      if (inputVtl & 0xe0) return { status: S.HV_STATUS_INVALID_PARAMETER };
      const vtl = inputVtl & 0x10 ? inputVtl & 0xf : caller;
      if (vtl > caller) return { status: S.HV_STATUS_INVALID_VP_STATE };
      const vp = hv.machine.vps[index];
      const ctx = vp.vtls[vtl];
      if (!ctx) return { status: S.HV_STATUS_INVALID_VP_STATE };
      const gvaPageLo = d.getUint32(24, true), gvaPageHi = d.getUint32(28, true);
      // GVA = page number << 12, as lo/hi halves.
      const lo = (gvaPageLo << 12) | 0;
      const hi = ((gvaPageHi << 12) | (gvaPageLo >>> 20)) | 0;
      const mmu = ctx.cpu.mmu;
      const user = flags & FLAG.USER_ACCESS ? true : flags & FLAG.SUPERVISOR_ACCESS ? false : ctx.cpu.st.cpl === 3;
      const checks: number[] = [];
      if (flags & FLAG.VALIDATE_READ || !(flags & 7)) checks.push(ACCESS.READ);
      if (flags & FLAG.VALIDATE_WRITE) checks.push(ACCESS.WRITE);
      if (flags & FLAG.VALIDATE_EXECUTE) checks.push(ACCESS.EXEC);
      let result: number = TRANSLATE_RESULT.SUCCESS;
      let gpa = 0;
      for (const access of checks) {
        try {
          gpa = mmu.translateUncached(lo, hi, access, user && !(flags & FLAG.PRIVILEGE_EXEMPT), (flags & FLAG.SET_PAGE_TABLE_BITS) !== 0);
        } catch (e) {
          if (e instanceof NonCanonical) result = TRANSLATE_RESULT.PAGE_NOT_PRESENT;
          else if (e instanceof PageFault) {
            if (flags & FLAG.PRIVILEGE_EXEMPT && e.errorCode & PFEC.P && !(e.errorCode & PFEC.RSVD) && (e.errorCode & PFEC.U)) {
              // Privilege-exempt: U/S does not matter; retry as supervisor.
              try { gpa = mmu.translateUncached(lo, hi, access, false, (flags & FLAG.SET_PAGE_TABLE_BITS) !== 0); continue; } catch { /* fall through */ }
            }
            result = e.errorCode & PFEC.RSVD ? TRANSLATE_RESULT.INVALID_PAGE_TABLE_FLAGS
              : e.errorCode & PFEC.P ? TRANSLATE_RESULT.PRIVILEGE_VIOLATION : TRANSLATE_RESULT.PAGE_NOT_PRESENT;
          } else if (hv.isAccessViolation(e)) {
            // The access that was refused: the walk's own A/D write can fail a read validation.
            const denied = (e as { access: number }).access;
            result = denied === ACCESS.WRITE ? TRANSLATE_RESULT.GPA_NO_WRITE_ACCESS : TRANSLATE_RESULT.GPA_NO_READ_ACCESS;
          } else throw e;
          break;
        }
      }
      if (result === TRANSLATE_RESULT.SUCCESS && gpa >= hv.machine.mem.size && !(gpa >= 0xfee00000 && gpa < 0xfee01000)) {
        result = TRANSLATE_RESULT.GPA_UNMAPPED;
      }
      const gpn = Math.floor(gpa / 4096);
      if (result === TRANSLATE_RESULT.SUCCESS && flags & FLAG.TLB_FLUSH_INHIBIT && vtl < caller) {
        hv.setTlbLock(index, vtl, true, caller); // TLB locked until the next VTL return (spec/vsm.md 8)
      }
      out.setUint32(0, result, true);
      if (result === TRANSLATE_RESULT.SUCCESS) {
        out.setUint8(4, 6); // WB
        out.setUint8(5, hv.isOverlayPage(vp, vtl, gpn) ? 1 : 0);
        const at = ex ? 48 : 8;
        out.setUint32(at, gpn % 4294967296, true); out.setUint32(at + 4, Math.floor(gpn / 4294967296), true);
      }
      return { status: S.HV_STATUS_SUCCESS };
    },
  };
}

export const translateVirtualAddress = makeHandler(false);
export const translateVirtualAddressEx = makeHandler(true);

// VTL memory protections (spec/vsm.md 2.4, 6): the per-VTL stage-2 permission view that a higher
// VTL imposes on a lower one, and HvCallModifyVtlProtectionMask. The check itself runs in the lower
// VTL's access port (core/mmu), which caches only translations that passed it.

import type { StageTwo } from '../mmu/mmu.js';
import { ACCESS } from '../mmu/mmu.js';
import type { InterceptInfo } from '../x86/cpu.js';
import { HvStatus } from './defs/status.js';
import type { Hypervisor } from './hypervisor.js';
import type { HypercallHandler, HypercallRequest, HypercallResult } from './hypercall.js';

const S = HvStatus;

/** HV_MAP_GPA_FLAGS bits used for VTL protections. */
export const MAP_GPA = { READ: 1, WRITE: 2, KERNEL_EXEC: 4, USER_EXEC: 8, ADJUSTABLE: 0x8000 } as const;
/** Per-page value meaning "no explicit mask: use the default from VsmPartitionConfig". */
const DEFAULT = 0xff;

/** The protection masks the VTL above `vtl` imposes on `vtl`. */
export class VtlProtection implements StageTwo {
  readonly masks: Uint8Array;

  constructor(private readonly hv: Hypervisor, readonly vtl: number, pages: number) {
    this.masks = new Uint8Array(pages).fill(DEFAULT);
  }

  /** Protections are in force once the higher VTL enabled them or set any explicit mask. */
  private defaultMask(): number {
    const cfg = this.hv.partitionConfig[this.vtl + 1] ?? 0;
    return cfg & 1 ? (cfg >> 1) & 0xf : 0xf;
  }

  maskOf(page: number): number {
    if (page >= this.masks.length) return 0xf; // MMIO and unbacked GPAs are not affected
    const m = this.masks[page];
    return m === DEFAULT ? this.defaultMask() : m;
  }

  allows(pagePa: number, access: number, user: boolean, mbec = false): boolean {
    const m = this.maskOf(Math.floor(pagePa / 4096));
    if (access === ACCESS.READ) return (m & MAP_GPA.READ) !== 0;
    if (access === ACCESS.WRITE) return (m & MAP_GPA.WRITE) !== 0;
    // With MBEC a CPL3 fetch needs user execute and a CPL0 fetch kernel execute; without it either
    // execute bit allows both (spec/vsm.md 6).
    if (mbec) return (m & (user ? MAP_GPA.USER_EXEC : MAP_GPA.KERNEL_EXEC)) !== 0;
    return (m & (MAP_GPA.KERNEL_EXEC | MAP_GPA.USER_EXEC)) !== 0;
  }

  violation(gpa: number, access: number, linLo: number, linHi: number): InterceptInfo {
    return { vtlViolation: true, kind: 'memory', gpa, access, index: 0, lo: linLo, hi: linHi };
  }
}

/** The stage-2 view of one VP's lower VTL: the partition's masks, and MBEC as that VP has it. */
export class VpStageTwo implements StageTwo {
  constructor(private readonly hv: Hypervisor, private readonly prot: VtlProtection, private readonly vp: number) {}

  allows(pagePa: number, access: number, user: boolean): boolean {
    return this.prot.allows(pagePa, access, user, this.hv.mbecActive(this.vp, this.prot.vtl));
  }

  violation(gpa: number, access: number, linLo: number, linHi: number): InterceptInfo {
    return this.prot.violation(gpa, access, linLo, linHi);
  }
}

/** HvCallModifyVtlProtectionMask (0x000C, rep): header 16 bytes, one GPN (u64) per rep. */
export const modifyVtlProtectionMask: HypercallHandler = {
  headerBytes: 16,
  repInputBytes: 8,
  run(req: HypercallRequest): HypercallResult {
    const { hv, input: d, vtl: caller } = req;
    if (d.getInt32(0, true) !== -1 || d.getInt32(4, true) !== -1) return { status: S.HV_STATUS_INVALID_PARTITION_ID };
    const flags = d.getUint32(8, true);
    const inputVtl = d.getUint8(12);
    if (inputVtl & 0xe0) return { status: S.HV_STATUS_INVALID_PARAMETER };
    const target = inputVtl & 0x10 ? inputVtl & 0xf : caller - 1;
    if (caller === 0 || target >= caller) return { status: S.HV_STATUS_ACCESS_DENIED };
    // Only R/W/KX/UX (and the adjustable bit); write or execute without read is not a legal set.
    if (flags & ~0x800f) return { status: S.HV_STATUS_INVALID_PARAMETER };
    const m = flags & 0xf;
    if (m !== 0 && !(m & MAP_GPA.READ)) return { status: S.HV_STATUS_INVALID_PARAMETER };
    const prot = hv.protection[target];
    if (!prot) return { status: S.HV_STATUS_INVALID_PARAMETER };
    for (let k = req.repStart; k < req.repCount; k++) {
      const off = 16 + req.varHeaderBytes + k * 8;
      const gpnLo = d.getUint32(off, true), gpnHi = d.getUint32(off + 4, true);
      if (gpnHi !== 0 || gpnLo >= prot.masks.length) return { status: S.HV_STATUS_INVALID_PARAMETER, repsCompleted: k };
      prot.masks[gpnLo] = m;
      hv.observe?.({ kind: 'protection', vp: req.vp.index, vtl: target, gpn: gpnLo, mask: m });
    }
    hv.machine.flushAllTranslations();
    return { status: S.HV_STATUS_SUCCESS, repsCompleted: req.repCount };
  },
};

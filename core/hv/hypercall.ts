// The hypercall dispatcher: it owns the ABI (spec/vsm.md 1.2-1.4) — control word validation, fast
// (register and XMM) and slow (input/output page) forms, rep iteration and partial completion,
// variable headers — and hands each call to one typed handler.

import type { Vp } from '../machine/vp.js';
import type { Cpu } from '../x86/cpu.js';
import { EXC } from '../x86/defs/arch.js';
import { HvCall, hypercallInfo } from './defs/hypercall.js';
import { HvStatus } from './defs/status.js';
import type { Hypervisor } from './hypervisor.js';
import { VSM_HANDLERS, vtlCall, vtlReturn } from './vsm.js';

/** One hypercall as a handler sees it. */
export interface HypercallRequest {
  readonly hv: Hypervisor;
  readonly vp: Vp;
  /** The VTL the call was made from. */
  readonly vtl: number;
  readonly code: number;
  readonly fast: boolean;
  readonly repCount: number;
  readonly repStart: number;
  /** Header (fixed part + variable header) followed by the rep input elements. */
  readonly input: DataView;
  readonly varHeaderBytes: number;
  /** Output block (rep output elements or the fixed output); zero-length when none. */
  readonly output: DataView;
}

export interface HypercallResult {
  status: number;
  repsCompleted?: number;
  /** The call cannot complete yet (a flush waiting for a TLB lock): no result, RIP stays on the VMCALL. */
  blocked?: boolean;
}

/** Sizes a handler declares so the dispatcher can fetch and store its blocks. */
export interface HypercallHandler {
  readonly headerBytes: number;
  readonly repInputBytes?: number;
  readonly repOutputBytes?: number;
  readonly outputBytes?: number;
  run(req: HypercallRequest): HypercallResult;
}

const S = HvStatus;

/** Write a 64-bit RAX result and advance past the VMCALL. */
function complete(cpu: Cpu, status: number, reps: number): void {
  const st = cpu.st;
  if (cpu.long) { st.lo[0] = status & 0xffff; st.hi[0] = reps & 0xfff; }
  else { st.lo[0] = status & 0xffff; st.lo[2] = reps & 0xfff; }
  advanceRip(cpu);
}

/**
 * Complete the VMCALL: RIP past it, and it retires (it is an instruction of the caller, so a hypercall
 * takes one position of its own in time: a VTL call is one step, a debugger can stop before it and after).
 */
export function advanceRip(cpu: Cpu): void {
  cpu.retired++;
  const st = cpu.st;
  const s = (st.ripLo >>> 0) + 3;
  st.ripLo = s | 0;
  if (s > 0xffffffff) st.ripHi = (st.ripHi + 1) | 0;
}

/** Read `n` bytes of guest-physical memory as the calling VTL (through its access port checks). */
function readGpa(cpu: Cpu, gpa: number, n: number): DataView {
  const out = new Uint8Array(n);
  for (let k = 0; k < n; k++) out[k] = cpu.mmu.physReadChecked(gpa + k, 1);
  return new DataView(out.buffer);
}

function writeGpa(cpu: Cpu, gpa: number, data: DataView): void {
  for (let k = 0; k < data.byteLength; k++) cpu.mmu.physWriteChecked(gpa + k, 1, data.getUint8(k));
}

export function dispatchHypercall(hv: Hypervisor, vp: Vp): void {
  const vtl = vp.activeVtl;
  const cpu = vp.cpu;
  const st = cpu.st;
  // VMCALL outside ring 0, in real mode, or before the guest enabled hypercalls: #UD (KVM, TLFS).
  if (st.cpl !== 0 || !(st.cr0 & 1) || !hv.hypercallsEnabled(vp, vtl)) {
    cpu.exception(EXC.UD, -1);
    return;
  }
  const long = cpu.long;
  const ctlLo = long ? st.lo[1] : st.lo[0];
  const ctlHi = long ? st.hi[1] : st.lo[2];
  const code = ctlLo & 0xffff;
  hv.observe?.({ kind: 'hypercall-start', vp: vp.index, vtl, code });

  if (code === HvCall.HvCallVtlCall || code === HvCall.HvCallVtlReturn) {
    // Special ABI (spec/vsm.md 2.3): the control word is exactly the code; violations are #UD.
    if ((ctlLo >>> 0) !== code || ctlHi !== 0) { cpu.exception(EXC.UD, -1); return; }
    if (code === HvCall.HvCallVtlCall) vtlCall(hv, vp); else vtlReturn(hv, vp);
    return;
  }

  const fast = (ctlLo & 0x10000) !== 0;
  const varHeader = (ctlLo >>> 17) & 0x3ff;
  const repCount = ctlHi & 0xfff;
  const repStart = (ctlHi >>> 16) & 0xfff;
  const finish = (status: number, reps = 0) => {
    complete(cpu, status, reps);
    hv.observe?.({ kind: 'hypercall', vp: vp.index, vtl, code, status });
  };
  // Reserved bits 27..30, 44..47, 60..63 (KVM's rule; see spec/vsm.md 1.3).
  if ((ctlLo & 0x78000000) || (ctlHi & 0xf000f000)) { finish(S.HV_STATUS_INVALID_HYPERCALL_INPUT); return; }
  const info = hypercallInfo(code);
  const handler = (VSM_HANDLERS as Record<number, HypercallHandler | undefined>)[code];
  if (!info || !handler) { finish(S.HV_STATUS_INVALID_HYPERCALL_CODE); return; }
  if (info.kind === 'simple' && (repCount !== 0 || repStart !== 0)) { finish(S.HV_STATUS_INVALID_HYPERCALL_INPUT); return; }
  if (info.kind === 'rep' && (repCount === 0 || repStart >= repCount)) { finish(S.HV_STATUS_INVALID_HYPERCALL_INPUT); return; }
  if (varHeader !== 0 && !info.varHeader) { finish(S.HV_STATUS_INVALID_HYPERCALL_INPUT); return; }
  if (fast && info.slowOnly) { finish(S.HV_STATUS_INVALID_HYPERCALL_INPUT); return; }
  if (info.privilege && !hv.hasPrivilege(info.privilege)) { finish(S.HV_STATUS_ACCESS_DENIED); return; }

  const inBytes = handler.headerBytes + varHeader * 8 + repCount * (handler.repInputBytes ?? 0);
  const outBytes = info.kind === 'rep' ? repCount * (handler.repOutputBytes ?? 0) : handler.outputBytes ?? 0;
  let input: DataView;
  let output = new DataView(new ArrayBuffer(outBytes));
  let xmmOut = -1;
  if (fast) {
    // RDX, R8, then XMM0..XMM5 (spec/vsm.md 1.2); output in the XMM registers after the input.
    const regBytes = new Uint8Array(112);
    const rv = new DataView(regBytes.buffer);
    if (long) {
      rv.setInt32(0, st.lo[2], true); rv.setInt32(4, st.hi[2], true);
      rv.setInt32(8, st.lo[8], true); rv.setInt32(12, st.hi[8], true);
    } else {
      // 32-bit: input in EBX:ECX and EDI:ESI (no XMM).
      rv.setInt32(0, st.lo[1], true); rv.setInt32(4, st.lo[3], true);
      rv.setInt32(8, st.lo[6], true); rv.setInt32(12, st.lo[7], true);
    }
    for (let k = 0; k < 24; k++) rv.setInt32(16 + k * 4, st.xmm[k], true);
    const room = long ? 112 : 16;
    if (inBytes > room || (inBytes > 16 && !hv.xmmFastInput)) { finish(S.HV_STATUS_INVALID_HYPERCALL_INPUT); return; }
    const inXmm = Math.max(0, Math.ceil((inBytes - 16) / 16));
    if (outBytes > 0) {
      if (!long || !hv.xmmFastOutput || outBytes > (6 - inXmm) * 16) { finish(S.HV_STATUS_INVALID_HYPERCALL_INPUT); return; }
      xmmOut = inXmm;
    }
    input = new DataView(regBytes.buffer, 0, Math.max(inBytes, 16));
  } else {
    const inGpa = long ? (st.hi[2] >>> 0) * 4294967296 + (st.lo[2] >>> 0) : (st.lo[3] >>> 0) * 4294967296 + (st.lo[1] >>> 0);
    const outGpa = long ? (st.hi[8] >>> 0) * 4294967296 + (st.lo[8] >>> 0) : (st.lo[7] >>> 0) * 4294967296 + (st.lo[6] >>> 0);
    // OpenVMM checks page crossing first, then alignment.
    if (inBytes > 0 && Math.floor(inGpa / 4096) !== Math.floor((inGpa + inBytes - 1) / 4096)) { finish(S.HV_STATUS_INVALID_HYPERCALL_INPUT); return; }
    if (outBytes > 0 && Math.floor(outGpa / 4096) !== Math.floor((outGpa + outBytes - 1) / 4096)) { finish(S.HV_STATUS_INVALID_HYPERCALL_INPUT); return; }
    if ((inBytes > 0 && inGpa % 8) || (outBytes > 0 && outGpa % 8)) { finish(S.HV_STATUS_INVALID_ALIGNMENT); return; }
    try {
      input = readGpa(cpu, inGpa, inBytes);
    } catch (e) {
      // An input page the caller's VTL may not read (spec/vsm.md 6, KVM test_side_channel).
      if (hv.isAccessViolation(e)) { finish(S.HV_STATUS_INVALID_HYPERCALL_INPUT); return; }
      throw e;
    }
    if (outBytes > 0) output = new DataView(new ArrayBuffer(outBytes));
    const result = handler.run({ hv, vp, vtl, code, fast, repCount, repStart, input, varHeaderBytes: varHeader * 8, output });
    if (result.blocked) return;
    if (outBytes > 0) {
      try { writeGpa(cpu, outGpa, output); } catch (e) {
        if (hv.isAccessViolation(e)) { finish(S.HV_STATUS_ACCESS_DENIED); return; }
        throw e;
      }
    }
    if (vp.cpu === cpu) finish(result.status, result.repsCompleted ?? 0);
    return;
  }
  const result = handler.run({ hv, vp, vtl, code, fast, repCount, repStart, input, varHeaderBytes: varHeader * 8, output });
  if (result.blocked) return;
  if (xmmOut >= 0) {
    for (let k = 0; k < outBytes; k += 4) st.xmm[xmmOut * 4 + k / 4] = output.getInt32(k, true);
  }
  if (vp.cpu === cpu) finish(result.status, result.repsCompleted ?? 0);
}

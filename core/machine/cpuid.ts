// The CPUID model: one emulated Intel-style processor that advertises exactly what vsmrr implements.
// Topology leaves agree with the number of VPs and with the APIC IDs (VP index == APIC ID).

/** Leaf-1 EDX/ECX and leaf-7 EBX/ECX feature bits (SDM Vol. 2A, CPUID). */
const L1_EDX =
  (1 << 0) | // FPU (x87 control instructions only; see core/x86/README.md)
  (1 << 2) | // DE
  (1 << 3) | // PSE
  (1 << 4) | // TSC
  (1 << 5) | // MSR
  (1 << 6) | // PAE
  (1 << 8) | // CX8
  (1 << 9) | // APIC
  (1 << 11) | // SEP
  (1 << 13) | // PGE
  (1 << 15) | // CMOV
  (1 << 16) | // PAT
  (1 << 19) | // CLFSH
  (1 << 24) | // FXSR
  (1 << 25) | // SSE
  (1 << 26); // SSE2
const L1_ECX =
  (1 << 13) | // CMPXCHG16B
  (1 << 21) | // x2APIC
  (1 << 23) | // POPCNT
  (1 << 24) | // TSC-deadline
  (1 << 26); // XSAVE (x87 and SSE components)
const L7_EBX = (1 << 0) | (1 << 7); // FSGSBASE, SMEP
const L7_ECX = 1 << 22; // RDPID
const EXT1_EDX = (1 << 11) | (1 << 20) | (1 << 27) | (1 << 29); // SYSCALL, NX, RDTSCP, LM
const EXT1_ECX = 1 << 0; // LAHF/SAHF in 64-bit mode

const BRAND = 'vsmrr virtual CPU @ 1.00GHz';

function str4(s: string, at: number): number {
  let v = 0;
  for (let k = 3; k >= 0; k--) v = (v << 8) | (s.charCodeAt(at + k) || 0);
  return v >>> 0;
}

export interface CpuidContext {
  vpIndex: number;
  vpCount: number;
  /** CR4.OSXSAVE of the asking VP (reflected in leaf 1 ECX bit 27). */
  osxsave: boolean;
  /**
   * IA32_APIC_BASE.EN of the asking context's own local APIC (leaf 1 EDX bit 9, SDM 10.4.3: a
   * hardware-disabled APIC reads as absent). With VSM each VTL asks about its own APIC. Default true.
   */
  apicEnabled?: boolean;
  /** Hypervisor leaves 0x40000000+ (core/hv); when absent they read as zero and leaf 1 has no HV bit. */
  hypervisor?: (leaf: number, subleaf: number, out: Uint32Array) => boolean;
}

export function cpuid(leaf: number, subleaf: number, ctx: CpuidContext, out: Uint32Array): void {
  out[0] = out[1] = out[2] = out[3] = 0;
  const coreBits = Math.max(0, Math.ceil(Math.log2(ctx.vpCount)));
  if (leaf >= 0x40000000 && leaf < 0x40010000) {
    if (ctx.hypervisor) ctx.hypervisor(leaf, subleaf, out);
    return;
  }
  switch (leaf) {
    case 0:
      out[0] = 0xd; out[1] = str4('GenuineIntel', 0); out[3] = str4('GenuineIntel', 4); out[2] = str4('GenuineIntel', 8);
      return;
    case 1:
      out[0] = 0x000306a9; // family 6, model 0x3a, stepping 9
      out[1] = (8 << 8) | ((ctx.vpCount > 1 ? Math.min(255, 1 << coreBits) : 1) << 16) | ((ctx.vpIndex & 0xff) << 24);
      out[2] = (L1_ECX | (ctx.osxsave ? 1 << 27 : 0) | (ctx.hypervisor ? 1 << 31 : 0)) >>> 0;
      out[3] = ((L1_EDX & ~(ctx.apicEnabled === false ? 1 << 9 : 0)) | (ctx.vpCount > 1 ? 1 << 28 : 0)) >>> 0;
      return;
    case 7:
      if (subleaf === 0) { out[1] = L7_EBX; out[2] = L7_ECX; }
      return;
    case 0xb: {
      // x2APIC topology: one thread per core, vpCount cores in one package.
      if (subleaf === 0) { out[0] = 0; out[1] = 1; out[2] = 0x100; }
      else if (subleaf === 1) { out[0] = coreBits; out[1] = ctx.vpCount; out[2] = 0x200 | 1; }
      else { out[2] = subleaf & 0xff; }
      out[3] = ctx.vpIndex;
      return;
    }
    case 0xd:
      if (subleaf === 0) { out[0] = 3; out[1] = 576; out[2] = 576; }
      else if (subleaf === 1) { out[0] = 0; }
      return;
    case 0x80000000: out[0] = 0x80000008; return;
    case 0x80000001: out[2] = EXT1_ECX; out[3] = EXT1_EDX >>> 0; return;
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const base = (leaf - 0x80000002) * 16;
      for (let k = 0; k < 4; k++) out[k] = str4(BRAND.padEnd(48, '\0'), base + k * 4);
      return;
    }
    case 0x80000007: out[3] = 1 << 8; return; // invariant TSC: it follows virtual time
    case 0x80000008: out[0] = (48 << 8) | 40; return;
    default:
      // Intel returns the highest basic leaf's data for out-of-range leaves; zeros are what we model.
      return;
  }
}

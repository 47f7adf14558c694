// The partition's Hyper-V interface: CPUID leaves, synthetic MSRs, the hypercall page, the VP assist
// page, and the per-VP, per-VTL hypervisor state. Hypercalls go to the dispatcher (hypercall.ts);
// VSM behaviour lives in vsm.ts. Everything per VTL is an array indexed by VTL number (no
// `if (vtl === 1)`), so a third VTL is a parameter change.

import type { Machine } from '../machine/machine.js';
import type { Vp } from '../machine/vp.js';
import type { Msr64 } from '../devices/types.js';
import { HvMsr } from './defs/msr.js';
import { HV_CPUID_INTERFACE_SIGNATURE, HV_CPUID_VENDOR_EBX, HV_CPUID_VENDOR_ECX, HV_CPUID_VENDOR_EDX } from './defs/cpuid.js';
import { dispatchHypercall } from './hypercall.js';
import { VpStageTwo, VtlProtection } from './protection.js';
import { SynicMessages, checkHigherVtlInterrupts, deliverIntercept } from './intercept.js';
import type { InterceptInfo } from '../x86/cpu.js';
import { flushBlockedBy, TLB_LOCKED } from './flush.js';
import { CONNECTION_ID_MASK, Connections, EVENT_FLAG_COUNT, type SavedConnections } from './connections.js';
import { SyntheticTimer, STIMER_COUNT, readStimerMsr, stimerDeadlineNs, stimerTick, writeStimerMsr } from './stimer.js';

/** Hypercall page layout (OpenVMM's; spec/vsm.md 1.1). VsmCodePageOffsets reports these. */
export const HYPERCALL_PAGE = {
  CALL64: 0x0f,
  RETURN64: 0x26,
  CALL32: 0x04,
  RETURN32: 0x1b,
} as const;

function hypercallPageBytes(): Uint8Array {
  const p = new Uint8Array(4096).fill(0xcc);
  const vmcall = [0x0f, 0x01, 0xc1]; // Intel vendor: VMCALL (VMMCALL also enters the hypervisor)
  p.set([...vmcall, 0xc3], 0x00);
  p.set([0x89, 0xc1, 0xb8, 0x11, 0, 0, 0, ...vmcall, 0xc3], HYPERCALL_PAGE.CALL32);
  p.set([0x48, 0x89, 0xc8, 0xb9, 0x11, 0, 0, 0, ...vmcall, 0xc3], HYPERCALL_PAGE.CALL64);
  p.set([0x89, 0xc1, 0xb8, 0x12, 0, 0, 0, ...vmcall, 0xc3], HYPERCALL_PAGE.RETURN32);
  p.set([0x48, 0x89, 0xc8, 0xb9, 0x12, 0, 0, 0, ...vmcall, 0xc3], HYPERCALL_PAGE.RETURN64);
  return p;
}

/** Events the hypervisor reports (the machine adds the instruction count). */
export type HvEvent =
  | { kind: 'hypercall-start'; vp: number; vtl: number; code: number }
  | { kind: 'hypercall'; vp: number; vtl: number; code: number; status: number }
  | { kind: 'protection'; vp: number; vtl: number; gpn: number; mask: number }
  | { kind: 'intercept'; vp: number; vtl: number; type: number; gpa: number; access: number; register: number; ripLo: number; ripHi: number }
  | { kind: 'vtl-switch'; vp: number; from: number; to: number; reason: number; ripBeforeLo: number; ripBeforeHi: number; ripAfterLo: number; ripAfterHi: number }
  | { kind: 'timer'; vp: number; vtl: number; timer: number; direct: boolean; vector: number; sint: number; expiration: number; delivered: boolean }
  | { kind: 'message'; vp: number; vtl: number; sint: number; type: number; queued: boolean; connection?: number }
  | { kind: 'event-signal'; vp: number; vtl: number; sint: number; flag: number; connection: number; raised: boolean; fromVp: number; fromVtl: number }
  | { kind: 'ipi'; vp: number; vtl: number; targetVtl: number; vector: number; targets: number[]; via: 'hypercall' }
  | { kind: 'tlb-lock'; vp: number; vtl: number; locked: boolean; by: number }
  | { kind: 'flush'; vp: number; vtl: number; targets: number[]; targetVtls: number; blocked: boolean }
  | { kind: 'vina'; vp: number; vtl: number; vector: number }
  | { kind: 'vp-start'; vp: number; vtl: number; ripLo: number; ripHi: number; reason: 'hypercall' };

/** Synthetic-MSR state private to one VTL of one VP (spec/vsm.md 5.1). */
export class VtlHvState {
  guestOsIdLo = 0; guestOsIdHi = 0;
  hypercallLo = 0; hypercallHi = 0;
  vpAssistLo = 0; vpAssistHi = 0;
  refTscLo = 0; refTscHi = 0;
  scontrol = 0;
  siefpLo = 0; siefpHi = 0;
  simpLo = 0; simpHi = 0;
  readonly sint = new Uint32Array(16).fill(0x10000);
  readonly stimer: SyntheticTimer[] = Array.from({ length: STIMER_COUNT }, () => new SyntheticTimer());
  /** VsmVina (written by this VTL). */
  vina = 0;

  get hypercallEnabled(): boolean { return (this.hypercallLo & 1) !== 0; }
  get vpAssistEnabled(): boolean { return (this.vpAssistLo & 1) !== 0; }
  get vpAssistGpa(): number { return (this.vpAssistHi >>> 0) * 4294967296 + ((this.vpAssistLo & ~0xfff) >>> 0); }
}

/** Hypervisor state of one VP. */
export class VpHvState {
  readonly vtl: VtlHvState[] = [];
  /** Bit n set when VTL n is enabled on this VP. */
  enabledVtls = 1;
  /** CR intercept control and masks set by VTL1 for VTL0 (spec/vsm.md 3.1). */
  crInterceptControlLo = 0; crInterceptControlHi = 0;
  crInterceptCr0Mask = 0; crInterceptCr4Mask = 0;
  /** VsmVpSecureConfigVtlN, indexed by the lower VTL N. */
  readonly secureConfig: number[] = [];
  /**
   * A flush hypercall of this VP's VTL `blockedVtl` waits for a TLB lock (spec/vsm.md 8): the VTLs
   * (bit mask) of the target VPs it flushes. -1: not blocked.
   */
  blockedVtl = -1;
  blockedTargets: number[] = [];
  blockedVtls = 0;

  constructor(vtlCount: number) {
    for (let v = 0; v < vtlCount; v++) { this.vtl.push(new VtlHvState()); this.secureConfig.push(0); }
  }
}

export interface HypervisorOptions {
  /** Number of VTLs the partition supports (VTL0..count-1). */
  vtlCount: number;
  /**
   * Offer mode-based execute control (MBEC) to VTL1 (VsmCapabilities, OpenVMM's bit layout). Off by
   * default: the kvm-unit-tests read the MBEC mask from other bits and expect none (spec/vsm.md 3.1).
   */
  mbec?: boolean;
}

export class Hypervisor {
  readonly vps: VpHvState[];
  /** Partition: bit n set when VTL n is enabled. */
  enabledVtls = 1;
  /** VsmPartitionConfig of each VTL (partition-wide; each controls the VTLs below it). */
  readonly partitionConfig: number[];
  /** Stage-2 protections imposed on each VTL below the highest (index = the protected VTL). */
  readonly protection: VtlProtection[] = [];
  /** VTLs enabled with EnableMbec (bit n = VTL n). */
  mbecVtls = 0;
  readonly maxVtl: number;
  private readonly pageBytes = hypercallPageBytes();
  /** Original RAM contents under enabled hypercall-page overlays, by page number. */
  private readonly overlays = new Map<number, { saved: Uint8Array; users: number }>();

  constructor(readonly machine: Machine, readonly opts: HypervisorOptions) {
    this.maxVtl = opts.vtlCount - 1;
    this.vps = machine.vps.map(() => new VpHvState(opts.vtlCount));
    this.partitionConfig = new Array<number>(opts.vtlCount).fill(0);
    for (let v = 0; v < this.maxVtl; v++) this.protection.push(new VtlProtection(this, v, machine.mem.pages));
    // Every lower-VTL access port checks its protections (VTL0's exists from the start).
    for (const vp of machine.vps) vp.vtls[0]!.cpu.mmu.stage2 = new VpStageTwo(this, this.protection[0], vp.index);
    // Synthetic timers are deadlines of their VP like its APIC timers.
    for (const vp of machine.vps) {
      vp.hvTimers = { nextDeadlineNs: () => stimerDeadlineNs(this, vp), tick: (now) => stimerTick(this, vp, now) };
    }
  }

  // ---- Snapshots --------------------------------------------------------------------------------

  save(): Record<string, unknown> {
    return {
      version: 1,
      enabledVtls: this.enabledVtls,
      mbecVtls: this.mbecVtls,
      partitionConfig: [...this.partitionConfig],
      protection: this.protection.map((p) => p.masks.slice()),
      overlays: [...this.overlays.entries()].map(([page, o]) => [page, o.saved.slice(), o.users]),
      synic: this.synic.save(),
      connections: this.connections.save(),
      vps: this.vps.map((v) => ({
        enabledVtls: v.enabledVtls, crInterceptControlLo: v.crInterceptControlLo, crInterceptControlHi: v.crInterceptControlHi,
        crInterceptCr0Mask: v.crInterceptCr0Mask, crInterceptCr4Mask: v.crInterceptCr4Mask, secureConfig: [...v.secureConfig],
        blockedVtl: v.blockedVtl, blockedTargets: [...v.blockedTargets], blockedVtls: v.blockedVtls,
        vtl: v.vtl.map((t) => ({
          guestOsIdLo: t.guestOsIdLo, guestOsIdHi: t.guestOsIdHi, hypercallLo: t.hypercallLo, hypercallHi: t.hypercallHi,
          vpAssistLo: t.vpAssistLo, vpAssistHi: t.vpAssistHi, refTscLo: t.refTscLo, refTscHi: t.refTscHi,
          scontrol: t.scontrol, siefpLo: t.siefpLo, siefpHi: t.siefpHi, simpLo: t.simpLo, simpHi: t.simpHi,
          sint: Array.from(t.sint), vina: t.vina, stimer: t.stimer.map((x) => x.save()),
        })),
      })),
    };
  }

  restore(s: Record<string, unknown>): void {
    if (s.version !== 1) throw new Error(`hypervisor snapshot section version ${String(s.version)} is not supported`);
    this.enabledVtls = s.enabledVtls as number;
    this.mbecVtls = (s.mbecVtls as number | undefined) ?? 0;
    (s.partitionConfig as number[]).forEach((v, k) => { this.partitionConfig[k] = v; });
    (s.protection as Uint8Array[]).forEach((m, k) => this.protection[k].masks.set(m));
    this.overlays.clear();
    for (const [page, saved, users] of s.overlays as [number, Uint8Array, number][]) this.overlays.set(page, { saved: Uint8Array.from(saved), users });
    this.synic.restore(s.synic as ReturnType<SynicMessages['save']>);
    this.connections.restore(s.connections as SavedConnections | undefined);
    (s.vps as Record<string, unknown>[]).forEach((o, k) => {
      const v = this.vps[k];
      v.enabledVtls = o.enabledVtls as number;
      v.crInterceptControlLo = o.crInterceptControlLo as number; v.crInterceptControlHi = o.crInterceptControlHi as number;
      v.crInterceptCr0Mask = o.crInterceptCr0Mask as number; v.crInterceptCr4Mask = o.crInterceptCr4Mask as number;
      (o.secureConfig as number[]).forEach((x, n) => { v.secureConfig[n] = x; });
      v.blockedVtl = (o.blockedVtl as number | undefined) ?? -1;
      v.blockedTargets = [...((o.blockedTargets as number[] | undefined) ?? [])];
      v.blockedVtls = (o.blockedVtls as number | undefined) ?? 0;
      (o.vtl as Record<string, unknown>[]).forEach((t, n) => {
        const d = v.vtl[n];
        for (const key of ['guestOsIdLo', 'guestOsIdHi', 'hypercallLo', 'hypercallHi', 'vpAssistLo', 'vpAssistHi', 'refTscLo',
          'refTscHi', 'scontrol', 'siefpLo', 'siefpHi', 'simpLo', 'simpHi', 'vina'] as const) {
          (d as unknown as Record<string, number>)[key] = t[key] as number;
        }
        d.sint.set(t.sint as number[]);
        const timers = t.stimer as ReturnType<SyntheticTimer['save']>[] | undefined;
        d.stimer.forEach((x, k) => x.restore(timers?.[k] ?? { config: 0, countLo: 0, countHi: 0, expiration: -1 }));
      });
    });
  }

  // ---- CPUID ------------------------------------------------------------------------------------

  /** Leaves 0x40000000..0x4000000A (spec/vsm.md 1.6). Returns true when it filled `out`. */
  cpuid(leaf: number, out: Uint32Array): boolean {
    out[0] = out[1] = out[2] = out[3] = 0;
    switch (leaf) {
      case 0x40000000: out[0] = 0x4000000a; out[1] = HV_CPUID_VENDOR_EBX; out[2] = HV_CPUID_VENDOR_ECX; out[3] = HV_CPUID_VENDOR_EDX; return true;
      case 0x40000001: out[0] = HV_CPUID_INTERFACE_SIGNATURE; return true;
      case 0x40000002: out[0] = 19041; out[1] = 0x000a0000; return true; // build, version 10.0
      case 0x40000003:
        // EAX: TIME_REF_COUNT(1) SynIC(2) synthetic timers(3) APIC MSRs(4) hypercall MSRs(5) VP index(6)
        // reference TSC(9) frequency MSRs(11). EBX: AccessVsm(16) AccessVpRegisters(17)
        // PostMessages(4) SignalEvents(5) FastHypercallOutput(19) StartVirtualProcessor(21). EDX: XMM fast input(4), XMM fast output(15), direct synthetic timers(19).
        out[0] = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 9) | (1 << 11);
        out[1] = (1 << 4) | (1 << 5) | (1 << 16) | (1 << 17) | (1 << 19) | (1 << 21);
        out[3] = (1 << 4) | (1 << 15) | (1 << 19);
        return true;
      case 0x40000004: out[1] = 0xffffffff; return true; // never notify long spin waits
      case 0x40000005: out[0] = this.machine.vps.length; out[1] = this.machine.vps.length; return true;
      default: return leaf > 0x40000000 && leaf <= 0x4000000a;
    }
  }

  // ---- Synthetic MSRs ---------------------------------------------------------------------------

  isSyntheticMsr(idx: number): boolean {
    return idx >= 0x40000000 && idx < 0x40000300;
  }

  rdmsr(vp: Vp, vtl: number, idx: number, out: Msr64): boolean {
    const s = this.vps[vp.index].vtl[vtl];
    out.lo = 0; out.hi = 0;
    const set = (lo: number, hi = 0) => { out.lo = lo >>> 0; out.hi = hi >>> 0; return true; };
    switch (idx) {
      case HvMsr.HV_X64_MSR_GUEST_OS_ID: return set(s.guestOsIdLo, s.guestOsIdHi);
      case HvMsr.HV_X64_MSR_HYPERCALL: return set(s.hypercallLo, s.hypercallHi);
      case HvMsr.HV_X64_MSR_VP_INDEX: return set(vp.index);
      case HvMsr.HV_X64_MSR_RESET: return set(0);
      case HvMsr.HV_X64_MSR_VP_RUNTIME: { const t = Math.floor(vp.nowNs() / 100); return set(t % 4294967296, Math.floor(t / 4294967296)); }
      case HvMsr.HV_X64_MSR_TIME_REF_COUNT: { const t = Math.floor(vp.nowNs() / 100); return set(t % 4294967296, Math.floor(t / 4294967296)); }
      case HvMsr.HV_X64_MSR_REFERENCE_TSC: return set(s.refTscLo, s.refTscHi);
      case HvMsr.HV_X64_MSR_TSC_FREQUENCY: return set(1_000_000_000);
      case HvMsr.HV_X64_MSR_APIC_FREQUENCY: return set(1_000_000_000);
      case HvMsr.HV_X64_MSR_EOI: return false; // write-only
      case HvMsr.HV_X64_MSR_ICR: {
        const a = this.apicMsr(vp, vtl);
        if (a.isX2apic()) return a.rdmsr(0x830, out);
        return set(a.mmioRead(0x300, 4), a.mmioRead(0x310, 4));
      }
      case HvMsr.HV_X64_MSR_TPR: {
        const a = this.apicMsr(vp, vtl);
        return a.isX2apic() ? a.rdmsr(0x808, out) : set(a.mmioRead(0x80, 4));
      }
      case HvMsr.HV_X64_MSR_VP_ASSIST_PAGE: return set(s.vpAssistLo, s.vpAssistHi);
      case HvMsr.HV_X64_MSR_SCONTROL: return set(s.scontrol);
      case HvMsr.HV_X64_MSR_SVERSION: return set(1);
      case HvMsr.HV_X64_MSR_SIEFP: return set(s.siefpLo, s.siefpHi);
      case HvMsr.HV_X64_MSR_SIMP: return set(s.simpLo, s.simpHi);
      case HvMsr.HV_X64_MSR_EOM: return set(0);
      case HvMsr.HV_X64_MSR_GUEST_IDLE: return set(0);
    }
    if (idx >= HvMsr.HV_X64_MSR_SINT0 && idx <= HvMsr.HV_X64_MSR_SINT15) return set(s.sint[idx - HvMsr.HV_X64_MSR_SINT0]);
    if (idx >= HvMsr.HV_X64_MSR_STIMER0_CONFIG && idx <= HvMsr.HV_X64_MSR_STIMER3_COUNT) {
      const v = readStimerMsr(this, vp, vtl, idx - HvMsr.HV_X64_MSR_STIMER0_CONFIG);
      return set(v.lo, v.hi);
    }
    if (idx >= HvMsr.HV_X64_MSR_CRASH_P0 && idx <= HvMsr.HV_X64_MSR_CRASH_CTL) return set(0);
    return false;
  }

  wrmsr(vp: Vp, vtl: number, idx: number, lo: number, hi: number): boolean {
    const s = this.vps[vp.index].vtl[vtl];
    switch (idx) {
      case HvMsr.HV_X64_MSR_GUEST_OS_ID:
        s.guestOsIdLo = lo; s.guestOsIdHi = hi;
        // Clearing the guest OS id disables the hypercall page (TLFS).
        if (lo === 0 && hi === 0 && s.hypercallEnabled) this.setHypercallMsr(vp, vtl, s.hypercallLo & ~1, s.hypercallHi);
        return true;
      case HvMsr.HV_X64_MSR_HYPERCALL:
        if (s.hypercallLo & 2) return false; // locked
        if (lo & 0xffc) return false; // reserved bits 2..11
        this.setHypercallMsr(vp, vtl, lo, hi);
        return true;
      case HvMsr.HV_X64_MSR_RESET: return true;
      case HvMsr.HV_X64_MSR_REFERENCE_TSC:
        if (lo & 0xffe) return false;
        s.refTscLo = lo; s.refTscHi = hi;
        if (lo & 1) this.writeReferenceTscPage((hi >>> 0) * 4294967296 + ((lo & ~0xfff) >>> 0));
        return true;
      // The APIC MSRs alias the VTL's own local APIC in xAPIC mode too (TLFS "APIC MSRs").
      case HvMsr.HV_X64_MSR_EOI: {
        const a = this.apicMsr(vp, vtl);
        if (a.isX2apic()) return a.wrmsr(0x80b, 0, 0);
        a.mmioWrite(0xb0, 4, 0); return true;
      }
      case HvMsr.HV_X64_MSR_ICR: {
        const a = this.apicMsr(vp, vtl);
        if (a.isX2apic()) return a.wrmsr(0x830, lo, hi);
        a.mmioWrite(0x310, 4, hi >>> 0); a.mmioWrite(0x300, 4, lo >>> 0); return true;
      }
      case HvMsr.HV_X64_MSR_TPR: {
        const a = this.apicMsr(vp, vtl);
        if (a.isX2apic()) return a.wrmsr(0x808, lo, hi);
        if (hi || (lo & ~0xff)) return false;
        a.mmioWrite(0x80, 4, lo >>> 0); return true;
      }
      case HvMsr.HV_X64_MSR_VP_ASSIST_PAGE:
        if (lo & 0xffe) return false;
        s.vpAssistLo = lo; s.vpAssistHi = hi;
        return true;
      case HvMsr.HV_X64_MSR_SCONTROL: s.scontrol = lo & 1; return true;
      case HvMsr.HV_X64_MSR_SIEFP: s.siefpLo = lo & ~0xffe; s.siefpHi = hi; return true;
      case HvMsr.HV_X64_MSR_SIMP: s.simpLo = lo & ~0xffe; s.simpHi = hi; return true;
      case HvMsr.HV_X64_MSR_EOM: this.onEom(vp, vtl); return true;
      case HvMsr.HV_X64_MSR_GUEST_IDLE: return true;
    }
    if (idx >= HvMsr.HV_X64_MSR_SINT0 && idx <= HvMsr.HV_X64_MSR_SINT15) {
      const vector = lo & 0xff;
      // Vectors below 16 are invalid unless the SINT stays masked (TLFS).
      if (!(lo & 0x10000) && vector < 16) return false;
      s.sint[idx - HvMsr.HV_X64_MSR_SINT0] = lo & 0x700ff;
      return true;
    }
    if (idx >= HvMsr.HV_X64_MSR_STIMER0_CONFIG && idx <= HvMsr.HV_X64_MSR_STIMER3_COUNT) {
      return writeStimerMsr(this, vp, vtl, idx - HvMsr.HV_X64_MSR_STIMER0_CONFIG, lo, hi);
    }
    if (idx >= HvMsr.HV_X64_MSR_CRASH_P0 && idx <= HvMsr.HV_X64_MSR_CRASH_CTL) return true;
    return false;
  }

  private apicMsr(vp: Vp, vtl: number) {
    return vp.vtls[vtl]!.apic;
  }

  /** Enable/disable/move the hypercall page overlay of one VTL. */
  private setHypercallMsr(vp: Vp, vtl: number, lo: number, hi: number): void {
    const s = this.vps[vp.index].vtl[vtl];
    if (s.hypercallEnabled) this.releaseOverlay(Math.floor(((s.hypercallHi >>> 0) * 4294967296 + ((s.hypercallLo & ~0xfff) >>> 0)) / 4096));
    s.hypercallLo = lo; s.hypercallHi = hi;
    if (lo & 1) {
      const page = Math.floor(((hi >>> 0) * 4294967296 + ((lo & ~0xfff) >>> 0)) / 4096);
      if (page < this.machine.mem.pages) this.installOverlay(page);
    }
  }

  /**
   * The hypercall page is an overlay: the guest sees the stub while it is enabled, its writes are
   * ignored, and the RAM beneath comes back when the last VTL using that page disables it.
   */
  private installOverlay(page: number): void {
    const mem = this.machine.mem;
    const o = this.overlays.get(page);
    if (o) { o.users++; return; }
    this.overlays.set(page, { saved: mem.ram.slice(page * 4096, page * 4096 + 4096), users: 1 });
    mem.writeBytes(page * 4096, this.pageBytes);
    mem.writeIgnored[page] = 1;
    this.machine.flushAllTranslations();
  }

  private releaseOverlay(page: number): void {
    const mem = this.machine.mem;
    const o = this.overlays.get(page);
    if (!o || --o.users > 0) return;
    this.overlays.delete(page);
    mem.writeIgnored[page] = 0;
    mem.writeBytes(page * 4096, o.saved);
    this.machine.flushAllTranslations();
  }

  /** Reference TSC page: TscSequence 1, scale 2^64/100 (TSC runs at 1 GHz, reference time at 10 MHz), offset 0. */
  private writeReferenceTscPage(gpa: number): void {
    const mem = this.machine.mem;
    if (gpa + 4096 > mem.size) return;
    mem.write32(gpa, 1);
    mem.write32(gpa + 4, 0);
    mem.write32(gpa + 8, 0xf5c28f5c); mem.write32(gpa + 12, 0x028f5c28);
    mem.write32(gpa + 16, 0); mem.write32(gpa + 20, 0);
  }

  // ---- Hypercalls -------------------------------------------------------------------------------

  /** A VMCALL exit from `vp`. Returns true when handled (the machine then continues). */
  hypercall(vp: Vp): boolean {
    dispatchHypercall(this, vp);
    return true;
  }

  readonly synic = new SynicMessages(this);

  /** The partition's message and event connections (HvCallPostMessage, HvCallSignalEvent). */
  readonly connections = new Connections();

  /**
   * Create a message connection: messages posted to `id` go to `sint` of VTL `vtl` (default 0) of VP
   * `vp`. False when the id is taken or the target does not exist.
   */
  connectMessage(id: number, t: { vp: number; sint: number; vtl?: number }): boolean {
    const target = { vp: t.vp, vtl: t.vtl ?? 0, sint: t.sint };
    if (!this.validTarget(id, target) || this.connections.messages.has(id)) return false;
    this.connections.messages.set(id, target);
    return true;
  }

  /**
   * Create an event connection: signalling flag n of `id` sets flag `flagBase` + n in the slot of
   * `sint` of the event flags page of VTL `vtl` (default 0) of VP `vp`.
   */
  connectEvent(id: number, t: { vp: number; sint: number; vtl?: number; flagBase?: number }): boolean {
    const target = { vp: t.vp, vtl: t.vtl ?? 0, sint: t.sint, flagBase: t.flagBase ?? 0 };
    if (!this.validTarget(id, target) || this.connections.events.has(id)) return false;
    if (!Number.isInteger(target.flagBase) || target.flagBase < 0 || target.flagBase >= EVENT_FLAG_COUNT) return false;
    this.connections.events.set(id, target);
    return true;
  }

  disconnectMessage(id: number): boolean { return this.connections.messages.delete(id); }
  disconnectEvent(id: number): boolean { return this.connections.events.delete(id); }

  private validTarget(id: number, t: { vp: number; vtl: number; sint: number }): boolean {
    return Number.isInteger(id) && id >= 0 && id <= CONNECTION_ID_MASK && Number.isInteger(t.vp) && t.vp >= 0 &&
      t.vp < this.vps.length && Number.isInteger(t.vtl) && t.vtl >= 0 && t.vtl <= this.maxVtl &&
      Number.isInteger(t.sint) && t.sint >= 0 && t.sint < 16;
  }

  /**
   * Raise SINT `sint` of (vp, vtl): its vector goes to that VTL's APIC (edge) when the SynIC is
   * enabled and the SINT unmasked. Returns whether it was raised.
   */
  raiseSint(vp: number, vtl: number, sint: number): boolean {
    const ctx = this.machine.vps[vp]?.vtls[vtl];
    const s = this.vps[vp]?.vtl[vtl];
    if (!ctx || !s || !(s.scontrol & 1)) return false;
    const r = s.sint[sint];
    if (r & 0x10000) return false;
    ctx.apic.acceptInterrupt(0, r & 0xff, 'edge');
    return true;
  }

  /**
   * Set flag `bit` of SINT `sint`'s slot in the event flags page (SIEFP) of (vp, vtl); when it was
   * clear, raise the SINT. Returns whether the SINT was raised. The page must be enabled.
   */
  setEventFlag(vp: number, vtl: number, sint: number, bit: number): boolean {
    const s = this.vps[vp].vtl[vtl];
    const mem = this.machine.mem;
    const page = (s.siefpHi >>> 0) * 4294967296 + ((s.siefpLo & ~0xfff) >>> 0);
    const at = page + sint * 256 + (bit >>> 3);
    if (!(s.siefpLo & 1) || at >= mem.size) return false;
    const old = mem.read8(at);
    const mask = 1 << (bit & 7);
    if (old & mask) return false;
    mem.write8(at, old | mask);
    return this.raiseSint(vp, vtl, sint);
  }

  /** End of message: a pending message may be delivered now. */
  onEom(vp: Vp, vtl: number): void { this.synic.eom(vp, vtl); }

  /**
   * Whether taking `vector` in (vp, vtl) ends it at once: the vector of an unmasked SINT with auto-EOI
   * (bit 17) under an enabled SynIC, or the VINA vector with VsmVina's auto-EOI (bit 10) (spec/vsm.md 5.5, 7).
   */
  sintAutoEoi(vp: Vp, vtl: number, vector: number): boolean {
    const s = this.vps[vp.index]?.vtl[vtl];
    if (!s) return false;
    if ((s.vina & 0x500) === 0x500 && (s.vina & 0xff) === vector) return true;
    if (!(s.scontrol & 1)) return false;
    for (let n = 0; n < 16; n++) {
      const r = s.sint[n];
      if ((r & 0xff) === vector && !(r & 0x10000) && (r & 0x20000)) return true;
    }
    return false;
  }

  /** The APIC of (vp, vtl) ended `vector`: if it is a SINT's, queued messages are retried (as EOM does). */
  sintEnded(vp: Vp, vtl: number, vector: number): void {
    const s = this.vps[vp.index]?.vtl[vtl];
    if (!s || !(s.scontrol & 1)) return;
    for (let n = 0; n < 16; n++) if ((s.sint[n] & 0xff) === vector && !(s.sint[n] & 0x10000)) { this.synic.eom(vp, vtl); return; }
  }

  /** The CPU stopped an instruction for us (EXIT.INTERCEPT). */
  intercept(vp: Vp, info: InterceptInfo): void {
    if (vp.activeVtl >= this.maxVtl || !vp.vtls[vp.activeVtl + 1]) {
      throw new Error(`VTL${vp.activeVtl} intercept with no higher VTL on VP ${vp.index}`);
    }
    deliverIntercept(this, vp, info);
  }

  /** Before each slice of a VP: enter a higher VTL that has an interrupt pending. */
  beforeRun(vp: Vp): void { checkHigherVtlInterrupts(this, vp); }

  /** A flush hypercall of `vp` in `vtl` must wait for TLB locks on `targets` (flush.ts). */
  blockFlush(vp: Vp, vtl: number, targets: number[], vtls: number): void {
    const s = this.vps[vp.index];
    const first = s.blockedVtl < 0;
    s.blockedVtl = vtl; s.blockedTargets = targets; s.blockedVtls = vtls;
    if (first) this.observe?.({ kind: 'flush', vp: vp.index, vtl, targets, targetVtls: vtls, blocked: true });
  }

  /** Whether `vp` is held in a flush hypercall (a pure query; mayRun() also releases it). */
  isBlocked(vp: Vp): boolean { return this.vps[vp.index].blockedVtl >= 0; }

  /**
   * Whether the machine may run `vp` now. A VP blocked in a flush hypercall stays off the CPU (its RIP
   * on the VMCALL) until the TLB locks it waits for are gone, or until it can take an interrupt; it
   * then re-executes the VMCALL. A pure function of the state, so the schedule stays deterministic.
   */
  mayRun(vp: Vp): boolean {
    const s = this.vps[vp.index];
    if (s.blockedVtl < 0) return true;
    if (vp.activeVtl === s.blockedVtl && !vp.cpu.canTakeInterrupt()) {
      for (const k of s.blockedTargets) {
        for (let v = 0; v <= this.maxVtl; v++) if ((s.blockedVtls >> v) & 1 && flushBlockedBy(this, k, v, s.blockedVtl)) return false;
      }
    }
    s.blockedVtl = -1; s.blockedTargets = []; s.blockedVtls = 0;
    return true;
  }

  /** Set or clear VsmVpSecureConfigVtlN.tlb_locked of `vtl` on VP `vp` (reported when it changes). */
  setTlbLock(vp: number, vtl: number, locked: boolean, by: number): void {
    const old = this.vps[vp].secureConfig[vtl] ?? 0;
    const now = locked ? old | TLB_LOCKED : old & ~TLB_LOCKED;
    if (now === old) return;
    this.vps[vp].secureConfig[vtl] = now;
    this.observe?.({ kind: 'tlb-lock', vp, vtl, locked, by });
  }

  /** Whether an MSR read by VTL0 is intercepted by VTL1 (the read bits of CrInterceptControl). */
  interceptsRead(vp: Vp, vtl: number, index: number): boolean {
    if (vtl !== 0 || !vp.vtls[1] || !((this.vps[vp.index].enabledVtls >> 1) & 1)) return false;
    const ctl = this.vps[vp.index].crInterceptControlLo;
    const bit: Record<number, number> = { 0x1a0: 3, 0xc0000082: 5, 0xc0000081: 7, 0xc0000083: 9, 0x1b: 11, 0xc0000080: 13 };
    const b = bit[index];
    return b !== undefined && ((ctl >>> b) & 1) === 1;
  }

  /** Whether a write by the VP's active VTL is intercepted by VTL1 (CrInterceptControl, spec/vsm.md 3.1). */
  interceptsWrite(vp: Vp, vtl: number, kind: 'cr' | 'msr', index: number, lo: number, hi: number): boolean {
    if (vtl !== 0 || !vp.vtls[1] || !((this.vps[vp.index].enabledVtls >> 1) & 1)) return false;
    const v = this.vps[vp.index];
    const ctl = v.crInterceptControlLo;
    const st = vp.vtls[0]!.cpu.st;
    void hi;
    if (kind === 'cr') {
      if (index === 0) return (ctl & 1) !== 0 && ((st.cr0 ^ lo) & v.crInterceptCr0Mask) !== 0;
      if (index === 4) return (ctl & 2) !== 0 && ((st.cr4 ^ lo) & v.crInterceptCr4Mask) !== 0;
      return false;
    }
    const bit: Record<number, number> = {
      0xc0000082: 6, 0xc0000081: 8, 0xc0000083: 10, 0x1b: 12, 0xc0000080: 14, 0x174: 19, 0x176: 20, 0x175: 21,
      0xc0000084: 22, 0xc0000103: 23, 0x1a0: 4,
    };
    const b = bit[index];
    return b !== undefined && ((ctl >>> b) & 1) === 1;
  }

  /** Observer for VTL switches and hypercalls (the machine stamps and forwards them). */
  observe: ((e: HvEvent) => void) | null = null;
  readonly xmmFastInput = true;
  readonly xmmFastOutput = true;

  /** Partition privileges granted (CPUID 0x40000003 EBX, spec/vsm.md 1.6). */
  hasPrivilege(name: string): boolean {
    return name === 'AccessVsm' || name === 'AccessVpRegisters' || name === 'StartVirtualProcessor' ||
      name === 'PostMessages' || name === 'SignalEvents';
  }

  /** Whether a thrown value is a VTL protection violation from an access port. */
  isAccessViolation(e: unknown): boolean {
    return e !== null && typeof e === 'object' && 'vtlViolation' in e;
  }

  /** VsmPartitionConfig of a VTL changed (default protection mask): re-evaluate stage 2. */
  protectionConfigChanged(vtl: number): void {
    void vtl;
    this.machine.flushAllTranslations();
  }

  /**
   * Whether MBEC splits execute permission for `vtl` on VP `vp`: the VTL above enabled it for the
   * partition (EnablePartitionVtl with EnableMbec) and set VsmVpSecureConfigVtlN.mbec_enabled.
   */
  mbecActive(vp: number, vtl: number): boolean {
    return ((this.mbecVtls >> (vtl + 1)) & 1) === 1 && ((this.vps[vp].secureConfig[vtl] ?? 0) & 1) === 1;
  }

  /** Whether a guest page is one of the VP's VTL overlay pages (hypercall page, VP assist page). */
  isOverlayPage(vp: Vp, vtl: number, gpn: number): boolean {
    const s = this.vps[vp.index].vtl[vtl];
    const pageOf = (lo: number, hi: number) => Math.floor(((hi >>> 0) * 4294967296 + ((lo & ~0xfff) >>> 0)) / 4096);
    return (s.hypercallEnabled && pageOf(s.hypercallLo, s.hypercallHi) === gpn) ||
      (s.vpAssistEnabled && pageOf(s.vpAssistLo, s.vpAssistHi) === gpn);
  }

  hypercallsEnabled(vp: Vp, vtl: number): boolean {
    const s = this.vps[vp.index].vtl[vtl];
    return s.hypercallEnabled && (s.guestOsIdLo !== 0 || s.guestOsIdHi !== 0);
  }
}

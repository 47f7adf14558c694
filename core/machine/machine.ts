// The machine: RAM, VPs, devices and the scheduler. VPs run round-robin in slices of at most
// `quantum` instructions; virtual time advances one nanosecond per retired instruction, a halted VP
// skips to its next timer deadline, and the whole schedule is a pure function of the state.

import { PhysMem } from '../memory/phys.js';
import { EXIT } from '../x86/host.js';
import type { CpuHost } from '../x86/host.js';
import { EXC, MSR, SEG } from '../x86/defs/arch.js';
import { IoBus } from '../devices/iobus.js';
import { Serial16550 } from '../devices/serial.js';
import { DebugExit } from '../devices/debugexit.js';
import { FwCfg } from '../devices/fwcfg.js';
import { HvTestDev } from '../devices/hvtestdev.js';
import { Cmos } from '../devices/cmos.js';
import { PciHostBridge } from '../devices/pci.js';
import { LegacyPic } from '../devices/pic.js';
import { MiscPorts } from '../devices/misc.js';
import { routeIpi, type IpiRouter, type LocalApic } from '../devices/apic.js';
import { APIC_MMIO_SIZE } from '../devices/apicdefs.js';
import type { Msr64, PortMapped, Saveable, SavedSection } from '../devices/types.js';
import { Vp, VP_STATE } from './vp.js';
import { cpuid } from './cpuid.js';
import { BOOT_GDT, buildBootInfo, MULTIBOOT_BOOTLOADER_MAGIC, parseImage } from './multiboot.js';
import type { MachineEvent, MachineObserver } from './events.js';
import { NULL_OBSERVER } from './events.js';
import { StateHasher } from '../util/hash.js';
import { restoreCpuState, saveCpuState } from '../x86/snapshot.js';
import { hex64 } from '../util/bits.js';
import { Hypervisor } from '../hv/hypervisor.js';

export interface MachineSnapshot {
  format: 'vsmrr-machine';
  version: number;
  config: MachineConfig;
  sched: { roundNs: number; nextVp: number; roundRan: boolean; roundOpen: boolean; serialQueue: number[]; serialQueueHead: number; reportedUd: number[] };
  ram: Uint8Array;
  writeIgnored: Uint8Array;
  vps: {
    state: number; activeVtl: number; sliceStartNs: number; sliceStartRetired: number; initSeen: boolean;
    vtls: ({ cpu: SavedSection; retired: number; eventPending: boolean; lastLen: number; tlb: { tag: Float64Array; phys: Float64Array; global: Uint8Array }; apic: SavedSection } | undefined)[];
  }[];
  devices: Record<string, SavedSection>;
  hv: Record<string, unknown> | null;
}

/** A machine configuration that cannot be built (message names the option). */
export class ConfigError extends Error {}

export interface MachineConfig {
  ramMiB: number;
  smp: number;
  cmdline: string;
  /** Instructions per VP per scheduling round. */
  quantum?: number;
  /** Expose the Hyper-V interface (CPUID leaves, synthetic MSRs, hypercalls, VSM). Default true. */
  hv?: boolean;
  /** Offer MBEC to VTL1 (default false; see core/hv/README.md). */
  mbec?: boolean;
  /** Attach QEMU's hyperv-testdev at port 0x3000 (SynIC routes and connections; default false). */
  hvTestdev?: boolean;
}

/** Why Machine.run returned. */
export type StopReason =
  | { kind: 'debug-exit'; value: number }
  | { kind: 'triple-fault'; vp: number; detail: string }
  | { kind: 'max-insns' }
  | { kind: 'deadlock'; detail: string }
  | { kind: 'breakpoint'; vp: number }
  | { kind: 'debugger'; vp: number }
  | { kind: 'vp-limit'; vp: number };

export class Machine {
  readonly mem: PhysMem;
  readonly vps: Vp[] = [];
  readonly io: IoBus;
  readonly serial: Serial16550;
  /** Port devices by snapshot section name. */
  readonly devices: Record<string, PortMapped & Saveable>;
  readonly quantum: number;
  /** Virtual time at the start of the current round, ns. */
  private roundNs = 0;
  /** Index of the VP to run next within the round. */
  private nextVp = 0;
  /** Whether any VP made progress in the current round (survives a run() that stopped mid-round). */
  private roundRan = false;
  /** A round has started and not finished. */
  private roundOpen = false;
  private stop: StopReason | null = null;
  observer: MachineObserver = NULL_OBSERVER;
  /** Addresses already reported as unimplemented (report once each). */
  private readonly reportedUd = new Set<number>();
  private current: Vp | null = null;
  /** Hook for VMCALL; returns false when nobody handles it (then #UD). */
  hypercall: ((vp: Vp) => boolean) | null = null;
  /** The Hyper-V interface (absent with hv: false). */
  readonly hv: Hypervisor | null;

  constructor(readonly config: MachineConfig, image: Uint8Array) {
    if (!Number.isInteger(config.smp) || config.smp < 1 || config.smp > 64) throw new ConfigError(`--smp must be 1..64, got ${config.smp}`);
    if (!Number.isInteger(config.ramMiB) || config.ramMiB < 2 || config.ramMiB > 3072) throw new ConfigError(`--mem must be 2..3072 MiB, got ${config.ramMiB}`);
    this.quantum = config.quantum ?? 1000;
    const ramBytes = config.ramMiB * 1048576;
    this.mem = new PhysMem(ramBytes);
    this.io = new IoBus();
    const clock0 = { nowNs: () => (this.current ?? this.vps[0]).nowNs() };
    this.serial = new Serial16550({ sink: (b) => this.emit({ kind: 'serial', icount: this.icount(), vp: this.current?.index ?? 0, byte: b }) });
    this.devices = {
      serial: this.serial,
      debugexit: new DebugExit({ onExit: (v) => this.debugExit(v) }),
      fwcfg: new FwCfg({ ramBytes, cpus: config.smp }),
      cmos: new Cmos({ clock: clock0, ramBytes }),
      pci: new PciHostBridge(),
      pic: new LegacyPic(),
      misc: new MiscPorts({ clock: clock0 }),
    };
    if (config.hvTestdev && config.hv === false) throw new ConfigError('--hv-testdev needs the Hyper-V interface (--hv on)');
    if (config.hvTestdev) {
      // The hypervisor is built below; the device reaches it when the guest writes.
      this.devices.hvtestdev = new HvTestDev({
        connectMessage: (id, t) => this.hv!.connectMessage(id, t),
        disconnectMessage: (id) => this.hv!.disconnectMessage(id),
        connectEvent: (id, t) => this.hv!.connectEvent(id, t),
        disconnectEvent: (id) => this.hv!.disconnectEvent(id),
        raiseSint: (vp, vtl, sint) => this.hv!.raiseSint(vp, vtl, sint),
      });
    }
    for (const d of Object.values(this.devices)) this.io.attach(d);

    // An IPI lands in the destination VPs' APICs of the sender's VTL (spec/vsm.md 5.4).
    const router: IpiRouter = {
      deliver: (src, ipi) => {
        const vtl = this.vtlOfApic(src);
        const from = this.vps.findIndex((v) => v.vtls[vtl]?.apic === src);
        this.emit({
          kind: 'ipi', icount: this.icount(), vp: from, vtl, targetVtl: vtl, vector: ipi.vector, deliveryMode: ipi.deliveryMode,
          dest: ipi.dest, shorthand: ipi.shorthand, via: 'apic',
        });
        routeIpi(this.vps.map((v) => v.vtls[vtl]?.apic).filter((a): a is LocalApic => a !== undefined), src, ipi);
      },
      autoEoi: (apic, vector) => {
        const at = this.hv ? this.contextOfApic(apic) : null;
        return at ? this.hv!.sintAutoEoi(at.vp, at.vtl, vector) : false;
      },
      eoi: (apic, vector) => {
        const at = this.hv ? this.contextOfApic(apic) : null;
        if (at) this.hv!.sintEnded(at.vp, at.vtl, vector);
      },
    };
    for (let k = 0; k < config.smp; k++) {
      const vp = new Vp(k, this.mem, (v, vtl) => this.makeHost(v, vtl), router);
      vp.onInterrupt = (vtl, vector) => this.emit({ kind: 'interrupt', icount: this.icount(), vp: k, vtl, vector });
      this.attachApicWindow(vp, 0);
      this.vps.push(vp);
    }
    this.hv = config.hv === false ? null : new Hypervisor(this, { vtlCount: 2, mbec: config.mbec === true });
    if (this.hv) {
      const hv = this.hv;
      this.hypercall = (vp) => hv.hypercall(vp);
      this.beforeRun = (vp) => hv.beforeRun(vp);
      this.mayRun = (vp) => hv.mayRun(vp);
      hv.observe = (e) => this.emit({ ...e, icount: this.icount() } as MachineEvent);
    }
    this.boot(image);
  }

  /** Drop every cached translation and decoded fetch (protections or overlays changed). */
  flushAllTranslations(): void {
    for (const vp of this.vps) for (const c of vp.vtls) if (c) c.cpu.mmu.flushAll();
  }

  /** A VTL context was created on a VP (HvCallEnableVpVtl). */
  /** The (VP, VTL) a local APIC belongs to. */
  private contextOfApic(apic: LocalApic): { vp: Vp; vtl: number } | null {
    for (const vp of this.vps) for (const c of vp.vtls) if (c && c.apic === apic) return { vp, vtl: c.vtl };
    return null;
  }

  vtlAdded(vp: Vp, vtl: number): void {
    void vp; void vtl;
  }

  private boot(image: Uint8Array): void {
    const ramBytes = this.mem.size;
    const img = parseImage(image, ramBytes);
    for (const c of img.chunks) {
      this.mem.writeBytes(c.addr, c.bytes);
      this.mem.ram.fill(0, c.addr + c.bytes.length, c.zeroTo);
    }
    const info = buildBootInfo(img.end, ramBytes, this.config.cmdline);
    for (const [a, bytes] of info.writes) this.mem.writeBytes(a, bytes);
    // The bootstrap processor starts in flat 32-bit protected mode, paging off (Multiboot spec 3.2).
    const bsp = this.vps[0];
    const st = bsp.cpu.st;
    st.cr0 = 0x60000011;
    st.gdtr.baseLo = BOOT_GDT; st.gdtr.limit = 23;
    for (let s = 0; s < 6; s++) {
      const sg = st.seg[s];
      sg.selector = s === SEG.CS ? 0x08 : 0x10; sg.baseLo = 0; sg.limit = 0xffffffff;
      sg.attr = s === SEG.CS ? 0xc09b : 0xc093;
    }
    st.lo[0] = MULTIBOOT_BOOTLOADER_MAGIC | 0;
    st.lo[3] = info.mbi;
    st.ripLo = img.entry | 0;
    bsp.cpu.updateMode();
    bsp.state = VP_STATE.RUNNING;
    this.emit({ kind: 'vp-start', icount: 0, vp: 0, ripLo: st.ripLo, ripHi: 0, reason: 'boot' });
  }

  private vtlOfApic(apic: LocalApic): number {
    for (const vp of this.vps) for (const c of vp.vtls) if (c && c.apic === apic) return c.vtl;
    return 0;
  }

  /** Map a VTL context's xAPIC window into its own access port. */
  attachApicWindow(vp: Vp, vtl: number): void {
    const ctx = vp.vtls[vtl]!;
    ctx.cpu.mmu.localMmio = ctx.apic.mmioEnabled() ? [{ base: ctx.apic.mmioBase(), size: APIC_MMIO_SIZE, dev: ctx.apic }] : [];
    ctx.cpu.mmu.flushAll();
  }

  private makeHost(v: Vp, vtl: number): CpuHost {
    const m = this;
    const index = v.index;
    const vp = () => v;
    return {
      ioRead: (port, size) => m.io.read(port, size),
      ioWrite: (port, size, value) => m.io.write(port, size, value),
      rdmsr: (idx, out) => (m.hv && m.hv.isSyntheticMsr(idx) ? m.hv.rdmsr(vp(), vtl, idx, out) : m.rdmsr(vp(), idx, out)),
      wrmsr: (idx, lo, hi) => (m.hv && m.hv.isSyntheticMsr(idx) ? m.hv.wrmsr(vp(), vtl, idx, lo, hi) : m.wrmsr(vp(), idx, lo, hi)),
      cpuid: (leaf, sub, out) => cpuid(leaf, sub, {
        vpIndex: index, vpCount: m.vps.length, osxsave: (vp().cpu.st.cr4 & (1 << 18)) !== 0,
        apicEnabled: v.vtls[vtl]!.apic.isEnabled(), // the asking VTL's own APIC base (spec/vsm.md 5.1)
        hypervisor: m.hv ? (l, _s, o) => m.hv!.cpuid(l, o) : undefined,
      }, out),
      interceptWrite: (kind, idx, lo, hi) => (m.hv ? m.hv.interceptsWrite(v, vtl, kind, idx, lo, hi) : false),
      interceptRead: (idx) => (m.hv ? m.hv.interceptsRead(v, vtl, idx) : false),
      tsc: (out) => { const t = vp().nowNs(); out.lo = t % 4294967296; out.hi = Math.floor(t / 4294967296); },
      // The VTL's own APIC: only the active VTL executes MOV CR8, and a debugger reads each VTL's.
      getCr8: () => v.vtls[vtl]!.apic.readCr8(),
      setCr8: (x) => v.vtls[vtl]!.apic.writeCr8(x),
      exception: (vector, errorCode, ripLo, ripHi) => m.emit({ kind: 'exception', icount: m.icount(), vp: index, vtl, vector, errorCode, ripLo, ripHi }),
      unimplemented: (lo, hi, bytes) => {
        const key = (hi >>> 0) * 4294967296 + (lo >>> 0);
        if (m.reportedUd.has(key)) return;
        m.reportedUd.add(key);
        m.emit({ kind: 'unimplemented', icount: m.icount(), vp: index, ripLo: lo, ripHi: hi, bytes: Array.from(bytes) });
      },
    };
  }

  private rdmsr(vp: Vp, idx: number, out: Msr64): boolean {
    if (idx === MSR.IA32_APIC_BASE || idx === MSR.IA32_TSC_DEADLINE || (idx >= 0x800 && idx <= 0x8ff)) {
      return vp.apic.rdmsr(idx, out);
    }
    out.lo = 0; out.hi = 0;
    switch (idx) {
      case MSR.IA32_MTRRCAP: out.lo = 0x508; return true;
      case MSR.IA32_MTRR_DEF_TYPE: out.lo = 0xc06; return true;
      case MSR.IA32_MISC_ENABLE: out.lo = 1; return true;
      case MSR.IA32_BIOS_SIGN_ID: case MSR.IA32_MCG_CAP: case MSR.IA32_MCG_STATUS: case MSR.IA32_FEATURE_CONTROL:
      case MSR.IA32_SPEC_CTRL:
        return true;
    }
    if ((idx >= 0x200 && idx <= 0x20f) || idx === 0x250 || idx === 0x258 || idx === 0x259 || (idx >= 0x268 && idx <= 0x26f)) return true;
    return false;
  }

  private wrmsr(vp: Vp, idx: number, lo: number, hi: number): boolean {
    if (idx === MSR.IA32_APIC_BASE || idx === MSR.IA32_TSC_DEADLINE || (idx >= 0x800 && idx <= 0x8ff)) {
      const ok = vp.apic.wrmsr(idx, lo, hi);
      if (ok && idx === MSR.IA32_APIC_BASE) this.attachApicWindow(vp, vp.activeVtl);
      return ok;
    }
    switch (idx) {
      case MSR.IA32_MTRR_DEF_TYPE: case MSR.IA32_MISC_ENABLE: case MSR.IA32_BIOS_SIGN_ID: case MSR.IA32_SPEC_CTRL:
      case MSR.IA32_MCG_STATUS:
        return true;
    }
    if ((idx >= 0x200 && idx <= 0x20f) || idx === 0x250 || idx === 0x258 || idx === 0x259 || (idx >= 0x268 && idx <= 0x26f)) return true;
    return false;
  }

  private emit(e: MachineEvent): void { this.observer.event(e); }

  private debugExit(v: number): void {
    this.stop = { kind: 'debug-exit', value: v };
    this.emit({ kind: 'debug-exit', icount: this.icount(), vp: this.current?.index ?? 0, value: v });
    if (this.current) this.current.cpu.exitCode = EXIT.STOP;
  }

  /** Global retired-instruction count. */
  icount(): number {
    let n = 0;
    for (const v of this.vps) n += v.retired();
    return n;
  }

  /** Serial input not yet delivered to the UART (the input port's queue). */
  private readonly serialQueue: number[] = [];
  private serialQueueHead = 0;

  /**
   * Queue serial input bytes. They enter the UART one at a time, at round boundaries, whenever its
   * receive FIFO has room: a pure function of the machine state, so replay needs only the bytes.
   */
  queueSerialInput(bytes: Iterable<number>): void {
    for (const b of bytes) this.serialQueue.push(b & 0xff);
  }

  private feedSerial(): void {
    while (this.serialQueueHead < this.serialQueue.length && this.serial.rxFree() > 0) {
      this.serial.pushInput(this.serialQueue[this.serialQueueHead++]);
    }
  }

  /** Run until something stops the machine or `maxInsns` (global) instructions have retired. */
  run(maxInsns = Infinity): StopReason {
    this.stop = null;
    const limit = maxInsns;
    for (;;) {
      if (this.stop) return this.stop;
      const done = this.icount();
      if (done >= limit) return { kind: 'max-insns' };
      const roundEnd = this.roundNs + this.quantum;
      // A new round (not one resumed after run() stopped in its middle): feed input, reset progress.
      if (!this.roundOpen) { this.roundOpen = true; this.roundRan = false; this.feedSerial(); }
      for (; this.nextVp < this.vps.length; this.nextVp++) {
        const vp = this.vps[this.nextVp];
        const r = this.runVp(vp, roundEnd, limit);
        if (r === 'ran') this.roundRan = true;
        // Stay on this VP: a stop in the middle of its slice (breakpoint, VP limit) resumes it there.
        if (this.stop) return this.stop;
        if (this.icount() >= limit) { return { kind: 'max-insns' }; }
      }
      this.nextVp = 0;
      this.roundOpen = false;
      if (this.roundRan) { this.roundNs = roundEnd; continue; }
      // Every VP is idle: skip virtual time to the earliest timer deadline.
      let next = Infinity;
      for (const vp of this.vps) if (vp.state === VP_STATE.RUNNING) next = Math.min(next, vp.nextDeadlineNs());
      if (next === Infinity) {
        // The idle round is over: a later run() (after a debugger write, say) starts the next one, in
        // which every VP looks at its state again.
        this.roundNs = roundEnd;
        const alive = this.vps.filter((v) => v.state === VP_STATE.RUNNING);
        const blocked = this.hv ? alive.filter((v) => this.hv!.isBlocked(v)).map((v) => v.index) : [];
        const halted = alive.map((v) => v.index).filter((k) => !blocked.includes(k));
        const what = [halted.length ? `VP ${halted.join(', ')} in HLT` : '', blocked.length ? `VP ${blocked.join(', ')} blocked on a TLB lock` : '']
          .filter((x) => x).join('; ');
        return { kind: 'deadlock', detail: alive.length ? `all VPs halted with nothing to wake them (${what})` : 'no VP is running' };
      }
      this.roundNs = Math.max(roundEnd, next - (next % 1));
    }
  }

  /** Run one VP up to the end of the round. */
  private runVp(vp: Vp, roundEnd: number, limit: number): 'ran' | 'idle' {
    this.current = vp;
    if (vp.state === VP_STATE.WAIT_FOR_SIPI || vp.state === VP_STATE.RUNNING) this.checkInitSipi(vp);
    if (vp.state !== VP_STATE.RUNNING) { vp.sliceStartNs = roundEnd; vp.sliceStartRetired = vp.retired(); this.current = null; return 'idle'; }
    // A VP behind the round (it idled) starts the round at its beginning; a VP resumed in the middle
    // of its slice (run() stopped at an instruction limit) keeps its clock.
    if (vp.nowNs() < this.roundNs) { vp.sliceStartNs = this.roundNs; vp.sliceStartRetired = vp.retired(); }
    let ran = false;
    while (vp.sliceStartNs + (vp.retired() - vp.sliceStartRetired) < roundEnd && !this.stop) {
      vp.tick();
      // The hypervisor may switch VTLs first (an interrupt for a higher VTL), so the context is
      // looked up after it.
      if (this.beforeRun) this.beforeRun(vp);
      if (this.stop) break;
      // A VP the hypervisor holds (a flush hypercall waiting for a TLB lock) idles like a halted one.
      if (this.mayRun && !this.mayRun(vp)) {
        const dl = vp.nextDeadlineNs();
        if (dl >= roundEnd) { vp.sliceStartNs = roundEnd; vp.sliceStartRetired = vp.retired(); break; }
        vp.sliceStartNs = Math.max(dl, vp.nowNs()); vp.sliceStartRetired = vp.retired();
        continue;
      }
      const cpu = vp.cpu;
      if (cpu.st.halted) {
        if (cpu.canTakeInterrupt()) {
          cpu.st.halted = false;
        } else {
          const dl = vp.nextDeadlineNs();
          const now = vp.nowNs();
          if (dl >= roundEnd) { vp.sliceStartNs = roundEnd; vp.sliceStartRetired = vp.retired(); break; }
          vp.sliceStartNs = Math.max(dl, now); vp.sliceStartRetired = vp.retired();
          continue;
        }
      }
      const now = vp.nowNs();
      const dl = vp.nextDeadlineNs();
      let budget = Math.min(roundEnd, dl > now ? dl : now + 1) - now;
      budget = Math.min(budget, limit - this.icount());
      // A per-VP limit (reverse stepping: stop when this VP has retired exactly N instructions).
      const vl = this.vpLimit;
      if (vl && vl.vp === vp.index) {
        const left = vl.retired - vp.retired();
        if (left <= 0) { this.stop = { kind: 'vp-limit', vp: vp.index }; break; }
        budget = Math.min(budget, left);
      }
      if (budget <= 0) break;
      const active = vp.cpu;
      const before = active.retired;
      const exit = active.run(Math.max(1, Math.floor(budget)));
      if (active.retired > before) ran = true;
      if (exit === EXIT.HALT) { ran = true; continue; }
      if (exit === EXIT.TRIPLE_FAULT) {
        const detail = active.shutdownReason || 'triple fault';
        vp.state = VP_STATE.STOPPED;
        this.stop = { kind: 'triple-fault', vp: vp.index, detail: `${detail} at RIP ${hex64(active.st.ripLo, active.st.ripHi)} (VTL${vp.activeVtl})` };
        this.emit({ kind: 'triple-fault', icount: this.icount(), vp: vp.index, detail: this.stop.detail });
        break;
      }
      if (exit === EXIT.HYPERCALL) {
        ran = true;
        if (!this.hypercall || !this.hypercall(vp)) {
          this.emit({ kind: 'unhandled-hypercall', icount: this.icount(), vp: vp.index, ripLo: active.st.ripLo, ripHi: active.st.ripHi });
          if (!active.exception(EXC.UD, -1)) {
            this.stop = { kind: 'triple-fault', vp: vp.index, detail: active.shutdownReason };
            break;
          }
        }
        continue;
      }
      if (exit === EXIT.INTERCEPT) {
        ran = true;
        const info = active.intercept!;
        active.intercept = null;
        this.hv!.intercept(vp, info);
        continue;
      }
      if (exit === EXIT.YIELD) { ran = true; continue; }
      if (exit === EXIT.STOP) {
        if (!this.stop) this.stop = { kind: 'breakpoint', vp: vp.index };
        break;
      }
      if (this.icount() >= limit) break;
    }
    this.current = null;
    return ran ? 'ran' : 'idle';
  }

  /**
   * Stop run() once the instruction executing now has completed (a debugger watchpoint saw one of
   * its accesses). Called from inside the access.
   */
  stopAfterInstruction(reason: StopReason): void {
    if (!this.stop) this.stop = reason;
    this.current?.cpu.requestExit();
  }

  /** The VP whose instructions are executing now (inside run()), or null. */
  runningVp(): Vp | null { return this.current; }

  /** Stop run() when VP `vp` has retired `retired` instructions in all (set by the timeline). */
  vpLimit: { vp: number; retired: number } | null = null;

  /** Hook for the hypervisor: may switch VTLs before a slice (pending VTL1 interrupts). */
  beforeRun: ((vp: Vp) => void) | null = null;

  /** Hook for the hypervisor: whether a VP may run now (false while it is blocked in a hypercall). */
  mayRun: ((vp: Vp) => boolean) | null = null;

  private checkInitSipi(vp: Vp): void {
    const apic = vp.apic0;
    if (apic.takeInit()) {
      if (vp.index !== 0 || vp.state !== VP_STATE.RUNNING) {
        vp.cpu.resetState();
        vp.state = VP_STATE.WAIT_FOR_SIPI;
        vp.initSeen = true;
      }
    }
    const sipi = apic.takeSipi();
    if (sipi >= 0 && vp.state === VP_STATE.WAIT_FOR_SIPI && vp.initSeen) {
      const cpu = vp.cpu;
      const st = cpu.st;
      cpu.resetState();
      const cs = st.seg[SEG.CS];
      cs.selector = sipi << 8; cs.baseLo = sipi << 12; cs.limit = 0xffff; cs.attr = 0x9b;
      st.ripLo = 0; st.ripHi = 0;
      cpu.updateMode();
      vp.state = VP_STATE.RUNNING;
      vp.initSeen = false;
      this.emit({ kind: 'vp-start', icount: this.icount(), vp: vp.index, ripLo: sipi << 12, ripHi: 0, reason: 'sipi' });
    }
  }

  /** Hash of the whole machine state (RAM, every VP's CPU and APIC, devices). */
  stateHash(): string {
    const h = new StateHasher();
    this.hashArchitectural(h);
    // The scheduler's position and the input queue decide what happens next, so they are state too.
    h.number(this.roundNs); h.number(this.nextVp); h.number(this.roundRan ? 1 : 0); h.number(this.roundOpen ? 1 : 0);
    for (const vp of this.vps) h.number(vp.nowNs());
    h.number(this.serialQueueHead); h.number(this.serialQueue.length);
    return h.digest();
  }

  /**
   * Hash of what the guest can observe (RAM, CPU, APIC and device state, instruction counts), without
   * the scheduler's bookkeeping. A stop at a breakpoint and a stop at an instruction count can reach the
   * same position on either side of a scheduling round's bookkeeping; they agree on this hash.
   */
  archHash(): string {
    const h = new StateHasher();
    this.hashArchitectural(h);
    return h.digest();
  }

  private hashArchitectural(h: StateHasher): void {
    this.mem.hashRam(h);
    for (const vp of this.vps) {
      for (const ctx of vp.vtls) {
        if (!ctx) continue;
        h.value(saveCpuState(ctx.cpu.st));
        h.value(ctx.apic.save());
        h.number(ctx.cpu.retired);
      }
      h.number(vp.activeVtl);
      h.number(vp.state);
    }
    h.value(this.saveDevices());
    // Hypervisor state the guest will observe: armed synthetic timers, TLB locks, queued messages.
    if (this.hv) h.value(this.hv.save());
  }

  /**
   * A snapshot of the whole machine as named, versioned sections of plain data (typed arrays for the
   * bulk). Restoring it into a machine of the same configuration gives a machine that runs exactly
   * like this one (test/machine/snapshot.test.ts).
   */
  save(opts: { ram?: boolean } = {}): MachineSnapshot {
    return {
      format: 'vsmrr-machine', version: 1,
      config: { ...this.config },
      sched: { roundNs: this.roundNs, nextVp: this.nextVp, roundRan: this.roundRan, roundOpen: this.roundOpen,
        serialQueue: this.serialQueue.slice(), serialQueueHead: this.serialQueueHead, reportedUd: [...this.reportedUd] },
      // Without RAM for callers that store it their own way (the recorder's page deltas).
      ram: opts.ram === false ? new Uint8Array(0) : this.mem.ram.slice(),
      writeIgnored: this.mem.writeIgnored.slice(),
      vps: this.vps.map((vp) => ({
        state: vp.state, activeVtl: vp.activeVtl, sliceStartNs: vp.sliceStartNs, sliceStartRetired: vp.sliceStartRetired,
        initSeen: vp.initSeen,
        vtls: vp.vtls.map((c) => c && {
          cpu: saveCpuState(c.cpu.st), retired: c.cpu.retired, eventPending: c.cpu.eventPending, lastLen: c.cpu.lastLen,
          tlb: c.cpu.mmu.saveTlb(), apic: c.apic.save(),
        }),
      })),
      devices: this.saveDevices(),
      hv: this.hv ? this.hv.save() : null,
    };
  }

  restore(s: MachineSnapshot): void {
    if (s.format !== 'vsmrr-machine' || s.version !== 1) throw new Error(`not a version 1 vsmrr machine snapshot (${String(s.format)} ${String(s.version)})`);
    if (s.config.smp !== this.config.smp || s.config.ramMiB !== this.config.ramMiB || (s.config.hv !== false) !== (this.config.hv !== false)) {
      throw new Error(`snapshot is of a different machine (smp ${s.config.smp}, ${s.config.ramMiB} MiB) than this one (smp ${this.config.smp}, ${this.config.ramMiB} MiB)`);
    }
    this.mem.ram.set(s.ram);
    this.mem.markAllDirty();
    this.mem.writeIgnored.set(s.writeIgnored);
    this.mem.invalidateAllCode();
    const sc = s.sched;
    this.roundNs = sc.roundNs; this.nextVp = sc.nextVp; this.roundRan = sc.roundRan; this.roundOpen = sc.roundOpen;
    this.serialQueue.length = 0; this.serialQueue.push(...sc.serialQueue); this.serialQueueHead = sc.serialQueueHead;
    this.reportedUd.clear(); for (const k of sc.reportedUd) this.reportedUd.add(k);
    s.vps.forEach((o, k) => {
      const vp = this.vps[k];
      vp.state = o.state; vp.activeVtl = o.activeVtl; vp.sliceStartNs = o.sliceStartNs; vp.sliceStartRetired = o.sliceStartRetired;
      vp.initSeen = o.initSeen;
      // A VTL enabled after the snapshot was taken did not exist then.
      for (let vtl = 1; vtl < vp.vtls.length; vtl++) if (!o.vtls[vtl]) vp.vtls[vtl] = undefined;
      vp.vtls.length = Math.max(1, o.vtls.length);
      o.vtls.forEach((c, vtl) => {
        if (!c) return;
        const ctx = vp.vtls[vtl] ?? vp.addVtl(vtl);
        restoreCpuState(ctx.cpu.st, c.cpu);
        ctx.cpu.retired = c.retired; ctx.cpu.eventPending = c.eventPending; ctx.cpu.lastLen = c.lastLen;
        ctx.cpu.updateMode();
        ctx.apic.restore(c.apic);
        this.attachApicWindow(vp, vtl);
        ctx.cpu.mmu.restoreTlb(c.tlb);
        if (vtl > 0 && this.hv) ctx.cpu.mmu.stage2 = this.hv.protection[vtl] ?? null;
      });
    });
    for (const [k, d] of Object.entries(this.devices)) if (s.devices[k]) d.restore(s.devices[k]);
    if (this.hv && s.hv) this.hv.restore(s.hv);
    this.stop = null;
  }

  saveDevices(): Record<string, SavedSection> {
    const out: Record<string, SavedSection> = {};
    for (const [k, d] of Object.entries(this.devices)) out[k] = d.save();
    return out;
  }

  apics(): LocalApic[] { return this.vps.map((v) => v.apic0); }
}

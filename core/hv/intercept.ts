// Secure intercepts and interrupt-driven VTL entry (spec/vsm.md 5.4, 6.1-6.3, 7): building the
// intercept messages byte for byte, posting SynIC messages into a VTL's message page, and switching
// the VP into the higher VTL when it has an interrupt to take.

import type { Vp } from '../machine/vp.js';
import type { Cpu, InterceptInfo } from '../x86/cpu.js';
import { SEG } from '../x86/defs/arch.js';
import type { Segment } from '../x86/state.js';
import { decode, NEED_MORE_BYTES } from '../x86/decode/decoder.js';
import type { Hypervisor } from './hypervisor.js';
import { switchVtl, VTL_ENTRY_REASON } from './vsm.js';
import { HvRegisterName as R } from './defs/registers.js';

/** HvMessageType values used here (spec/vsm.md 6.3). */
export const HV_MESSAGE = {
  NONE: 0,
  GPA_INTERCEPT: 0x80000001,
  TIMER_EXPIRED: 0x80000010,
  MSR_INTERCEPT: 0x80010001,
  REGISTER_INTERCEPT: 0x80010006,
} as const;

/** Secure intercepts always use SINT0 of the higher VTL. */
export const INTERCEPT_SINT = 0;

function putSeg(d: DataView, off: number, s: Segment): void {
  d.setUint32(off, s.baseLo >>> 0, true); d.setUint32(off + 4, s.baseHi >>> 0, true);
  d.setUint32(off + 8, s.limit >>> 0, true);
  d.setUint16(off + 12, s.selector & 0xffff, true);
  // Attributes as descriptor bytes 5..6 with the limit[19:16] nibble cleared (spec/vsm.md 6.1).
  d.setUint16(off + 14, s.attr & 0xf0ff, true);
}

/** The 40-byte intercept message header (spec/vsm.md 6.2). */
function putHeader(d: DataView, vp: Vp, cpu: Cpu, vtl: number, insnLen: number, access: number, ripLo: number, ripHi: number): void {
  const st = cpu.st;
  d.setUint32(0, vp.index, true);
  d.setUint8(4, (insnLen & 0xf) | ((vp.vtls[vtl]!.apic.readCr8() & 0xf) << 4));
  d.setUint8(5, access);
  const exec = (st.cpl & 3) | ((st.cr0 & 1) << 2) | (((st.cr0 >>> 18) & 1) << 3) | (((st.eferLo >>> 10) & 1) << 4) |
    ((vtl & 0xf) << 7) | (st.intShadow ? 1 << 12 : 0);
  d.setUint16(6, exec, true);
  putSeg(d, 8, st.seg[SEG.CS]);
  d.setUint32(0x18, ripLo >>> 0, true); d.setUint32(0x1c, ripHi >>> 0, true);
  d.setUint32(0x20, (cpu.getFlags() | 0x10000) >>> 0, true); d.setUint32(0x24, 0, true);
}

/** Bytes and length of the instruction at the CPU's current RIP (as the lower VTL fetches it). */
function instructionAt(cpu: Cpu): { len: number; bytes: Uint8Array } {
  const bytes = new Uint8Array(16);
  const st = cpu.st;
  let n = 0;
  try {
    for (; n < 15; n++) {
      const lo = cpu.long ? (st.ripLo + n) | 0 : (st.seg[SEG.CS].baseLo + st.ripLo + n) | 0;
      const hi = cpu.long ? ((st.ripLo >>> 0) + n > 0xffffffff ? st.ripHi + 1 : st.ripHi) : 0;
      bytes[n] = cpu.mmu.physRead(cpu.mmu.fetchAddr(lo, hi), 1);
    }
  } catch { /* stop at an unreadable byte */ }
  const insn = decode(bytes, 0, n, cpu.mode);
  const len = insn === NEED_MORE_BYTES ? n : insn.len;
  return { len, bytes: bytes.slice(0, 16).fill(0, len) };
}

/** Build the message payload (240 bytes) for an intercept in VTL `vtl` of `vp`. */
export function buildInterceptMessage(vp: Vp, vtl: number, info: InterceptInfo): { type: number; payload: Uint8Array } {
  const cpu = vp.vtls[vtl]!.cpu;
  const st = cpu.st;
  const payload = new Uint8Array(240);
  const d = new DataView(payload.buffer);
  if (info.kind === 'memory') {
    const exec = info.access === 2;
    // An execute violation happens at the fetch: the instruction that branched there has completed
    // (its push, its RIP update), so report its length and no instruction bytes (kvm-unit-tests).
    const insn = exec ? { len: cpu.lastLen, bytes: new Uint8Array(16) } : instructionAt(cpu);
    putHeader(d, vp, cpu, vtl, insn.len, info.access, st.ripLo, st.ripHi);
    d.setUint32(0x28, 6, true); // cache type WB
    d.setUint8(0x2c, exec ? 0 : insn.len);
    d.setUint8(0x2d, 0); // GVA not reported
    d.setUint32(0x38, info.gpa % 4294967296, true); d.setUint32(0x3c, Math.floor(info.gpa / 4294967296), true);
    payload.set(insn.bytes, 0x40);
    putSeg(d, 0x50, st.seg[SEG.DS]);
    putSeg(d, 0x60, st.seg[SEG.SS]);
    for (let r = 0; r < 16; r++) { d.setInt32(0x70 + r * 8, st.lo[r], true); d.setInt32(0x74 + r * 8, st.hi[r], true); }
    return { type: HV_MESSAGE.GPA_INTERCEPT, payload };
  }
  const insn = instructionAt(cpu);
  putHeader(d, vp, cpu, vtl, insn.len, info.access, st.ripLo, st.ripHi);
  if (info.kind === 'msr') {
    // MSR number, reserved, then RDX and RAX as the intercepted VTL has them (for a write: the value).
    d.setUint32(0x28, info.index >>> 0, true);
    d.setInt32(0x30, st.lo[2], true); d.setInt32(0x34, st.hi[2], true);
    d.setInt32(0x38, st.lo[0], true); d.setInt32(0x3c, st.hi[0], true);
    return { type: HV_MESSAGE.MSR_INTERCEPT, payload };
  }
  d.setUint8(0x28, 0);
  d.setUint32(0x2c, info.index === 0 ? R.Cr0 : R.Cr4, true);
  d.setUint32(0x30, info.lo >>> 0, true); d.setUint32(0x34, info.hi >>> 0, true);
  return { type: HV_MESSAGE.REGISTER_INTERCEPT, payload };
}

/** The SynIC of one VTL of one VP: message slots and the queue of messages waiting for a free slot. */
export class SynicMessages {
  /** Pending messages per (vp, vtl, sint), in arrival order. */
  private readonly queue = new Map<string, { type: number; payload: Uint8Array }[]>();

  constructor(private readonly hv: Hypervisor) {}

  /**
   * Post a message; returns true when it was written into the slot now. `connection`: the
   * connection id when a guest posted it with HvCallPostMessage.
   */
  post(vp: Vp, vtl: number, sint: number, type: number, payload: Uint8Array, connection?: number): boolean {
    const key = `${vp.index}/${vtl}/${sint}`;
    const q = this.queue.get(key) ?? [];
    q.push({ type, payload });
    this.queue.set(key, q);
    const now = this.deliver(vp, vtl, sint);
    this.hv.observe?.({ kind: 'message', vp: vp.index, vtl, sint, type, queued: !now, ...(connection === undefined ? {} : { connection }) });
    return now;
  }

  /** How many messages wait for the slot of (vp, vtl, sint). */
  queued(vp: Vp, vtl: number, sint: number): number {
    return this.queue.get(`${vp.index}/${vtl}/${sint}`)?.length ?? 0;
  }

  /** Whether a message posted now would go straight into the slot (SIMP on, slot free, nothing queued). */
  slotFree(vp: Vp, vtl: number, sint: number): boolean {
    const q = this.queue.get(`${vp.index}/${vtl}/${sint}`);
    if (q && q.length) return false;
    const s = this.hv.vps[vp.index].vtl[vtl];
    if (!(s.simpLo & 1)) return false;
    const slot = (s.simpHi >>> 0) * 4294967296 + ((s.simpLo & ~0xfff) >>> 0) + sint * 256;
    return slot + 256 <= this.hv.machine.mem.size && this.hv.machine.mem.read32(slot) === HV_MESSAGE.NONE;
  }

  /** Try to move the oldest queued message into its slot and raise the SINT. */
  deliver(vp: Vp, vtl: number, sint: number): boolean {
    const key = `${vp.index}/${vtl}/${sint}`;
    const q = this.queue.get(key);
    if (!q || !q.length) return false;
    const s = this.hv.vps[vp.index].vtl[vtl];
    const mem = this.hv.machine.mem;
    if (!(s.simpLo & 1)) return false;
    const slot = (s.simpHi >>> 0) * 4294967296 + ((s.simpLo & ~0xfff) >>> 0) + sint * 256;
    if (slot + 256 > mem.size) return false;
    if (mem.read32(slot) !== HV_MESSAGE.NONE) {
      mem.write8(slot + 5, mem.read8(slot + 5) | 1); // message pending: the guest must write EOM
      return false;
    }
    const m = q.shift()!;
    if (m.type === HV_MESSAGE.TIMER_EXPIRED && m.payload.length >= 24) {
      // A timer message that waited for its slot carries the time it was actually delivered.
      const t = Math.floor(vp.nowNs() / 100);
      const d = new DataView(m.payload.buffer, m.payload.byteOffset);
      d.setUint32(16, t % 4294967296, true); d.setUint32(20, Math.floor(t / 4294967296), true);
    }
    const header = new Uint8Array(16);
    const hd = new DataView(header.buffer);
    hd.setUint32(0, m.type, true);
    hd.setUint8(4, m.payload.length);
    hd.setUint8(5, q.length ? 1 : 0);
    mem.writeBytes(slot + 16, m.payload);
    mem.writeBytes(slot, header);
    const sintReg = s.sint[sint];
    if ((s.scontrol & 1) && !(sintReg & 0x10000)) {
      vp.vtls[vtl]!.apic.acceptInterrupt(0, sintReg & 0xff, 'edge');
    }
    return true;
  }

  save(): [string, { type: number; payload: Uint8Array }[]][] {
    return [...this.queue.entries()].map(([k, q]) => [k, q.map((m) => ({ type: m.type, payload: m.payload.slice() }))]);
  }

  restore(s: [string, { type: number; payload: Uint8Array }[]][]): void {
    this.queue.clear();
    for (const [k, q] of s) this.queue.set(k, q.map((m) => ({ type: m.type, payload: Uint8Array.from(m.payload) })));
  }

  eom(vp: Vp, vtl: number): void {
    for (let sint = 0; sint < 16; sint++) this.deliver(vp, vtl, sint);
  }
}

/** The lower VTL's instruction was stopped: tell the higher VTL and enter it (spec/vsm.md 6.1). */
export function deliverIntercept(hv: Hypervisor, vp: Vp, info: InterceptInfo): void {
  const vtl = vp.activeVtl;
  const target = vtl + 1;
  const msg = buildInterceptMessage(vp, vtl, info);
  const cpu = vp.cpu;
  hv.observe?.({
    kind: 'intercept', vp: vp.index, vtl, type: msg.type, gpa: info.kind === 'memory' ? info.gpa : 0,
    access: info.access, register: info.kind === 'memory' ? 0 : info.index, ripLo: cpu.st.ripLo, ripHi: cpu.st.ripHi,
  });
  hv.synic.post(vp, target, INTERCEPT_SINT, msg.type, msg.payload);
  enterHigherVtl(hv, vp, target);
}

/** Switch into `target` because it has an interrupt (or intercept) to take: entry reason 2. */
export function enterHigherVtl(hv: Hypervisor, vp: Vp, target: number): void {
  const low = vp.cpu.st;
  const rax = [low.lo[0], low.hi[0]], rcx = [low.lo[1], low.hi[1]];
  switchVtl(hv, vp, target, VTL_ENTRY_REASON.INTERRUPT);
  const s = hv.vps[vp.index].vtl[target];
  const mem = hv.machine.mem;
  if (s.vpAssistEnabled && s.vpAssistGpa + 4096 <= mem.size) {
    const page = s.vpAssistGpa;
    mem.write32(page + 0x08, VTL_ENTRY_REASON.INTERRUPT);
    mem.write32(page + 0x10, rax[0]); mem.write32(page + 0x14, rax[1]);
    mem.write32(page + 0x18, rcx[0]); mem.write32(page + 0x1c, rcx[1]);
  }
}

/**
 * Before a slice: if a higher VTL of the VP has an interrupt pending, enter it (spec/vsm.md 5.4).
 * Otherwise a lower VTL's pending interrupt waits, and VINA may tell the running VTL about it.
 */
export function checkHigherVtlInterrupts(hv: Hypervisor, vp: Vp): void {
  for (let v = hv.maxVtl; v > vp.activeVtl; v--) {
    const ctx = vp.vtls[v];
    if (ctx && ((hv.vps[vp.index].enabledVtls >> v) & 1) && ctx.apic.pendingVector() >= 0) {
      enterHigherVtl(hv, vp, v);
      return;
    }
  }
  if (vp.activeVtl > 0) notifyLowerVtlInterrupt(hv, vp);
}

/** VsmVina bits (spec/vsm.md 3.1). */
const VINA = { ENABLED: 0x100, AUTO_RESET: 0x200, AUTO_EOI: 0x400 } as const;

/**
 * VINA (spec/vsm.md 5.5): while the VP runs a VTL above 0 whose VsmVina is enabled, an interrupt
 * deliverable in a lower VTL's APIC sets "VINA asserted" in the running VTL's VP assist page (byte
 * 0x0C bit 0) and raises the VINA vector in the running VTL's APIC. The asserted flag latches: no
 * further notification until it is cleared (by the guest, or by a VTL return with auto-reset).
 * Without a VP assist page there is nowhere to latch, so no notification. Auto-EOI is not modelled
 * (the vector goes in service and needs an EOI like any other).
 */
function notifyLowerVtlInterrupt(hv: Hypervisor, vp: Vp): void {
  const active = vp.activeVtl;
  const s = hv.vps[vp.index].vtl[active];
  if (!(s.vina & VINA.ENABLED) || !s.vpAssistEnabled) return;
  let pending = false;
  for (let v = 0; v < active; v++) if ((vp.vtls[v]?.apic.pendingVector() ?? -1) >= 0) pending = true;
  if (!pending) return;
  const mem = hv.machine.mem;
  const flag = s.vpAssistGpa + 0x0c;
  if (flag >= mem.size || mem.read8(flag) & 1) return;
  mem.write8(flag, mem.read8(flag) | 1);
  const vector = s.vina & 0xff;
  hv.observe?.({ kind: 'vina', vp: vp.index, vtl: active, vector });
  vp.vtls[active]!.apic.acceptInterrupt(0, vector, 'edge');
}

// Synthetic timers (spec/vsm.md 7): message and direct mode, one-shot and periodic, on the reference
// counter (100 ns units; 1 instruction = 1 ns), per VTL, with exact expiry whatever the quantum.

import { describe, expect, it } from 'vitest';
import type { Machine } from '../../core/machine/machine.js';
import type { MachineEvent } from '../../core/machine/events.js';
import { plainMachine, enableHypercalls, vsmMachine, SIMP0, SIMP1 } from './vsm-machine.js';

const STIMER0_CONFIG = 0x400000b0, STIMER0_COUNT = 0x400000b1, SINT0 = 0x40000090;
const SPIN = [0xeb, 0xfe]; // jmp $
const ENABLE = 1, PERIODIC = 2, AUTO_ENABLE = 8, DIRECT = 0x1000;

function record(m: Machine, kinds: string[]): MachineEvent[] {
  const out: MachineEvent[] = [];
  m.observer = { event: (e) => { if (kinds.includes(e.kind)) out.push(e); } };
  return out;
}

describe('synthetic timers: MSRs', () => {
  it('CONFIG keeps its defined bits, COUNT reads back; auto-enable and COUNT 0 switch the enable bit', () => {
    const m = plainMachine(SPIN);
    const hv = m.hv!, vp = m.vps[0];
    const out = { lo: 0, hi: 0 };
    expect(hv.wrmsr(vp, 0, STIMER0_CONFIG + 2, 0xfffff000 | 0xff0 | AUTO_ENABLE, 0x1234)).toBe(true);
    expect(hv.rdmsr(vp, 0, STIMER0_CONFIG + 2, out)).toBe(true);
    expect(out).toEqual({ lo: 0xf1ff8, hi: 0 }); // bits 13..15 and 20..63 reserved
    expect(hv.wrmsr(vp, 0, STIMER0_COUNT + 2, 0x1000, 7)).toBe(true); // auto-enable: writing COUNT enables
    expect(hv.rdmsr(vp, 0, STIMER0_COUNT + 2, out)).toBe(true);
    expect(out).toEqual({ lo: 0x1000, hi: 7 });
    expect(hv.rdmsr(vp, 0, STIMER0_CONFIG + 2, out) && out.lo & ENABLE).toBe(ENABLE);
    expect(hv.wrmsr(vp, 0, STIMER0_COUNT + 2, 0, 0)).toBe(true);
    expect(hv.rdmsr(vp, 0, STIMER0_CONFIG + 2, out) && out.lo & ENABLE).toBe(0);
    expect(vp.nextDeadlineNs()).toBe(Infinity);
  });

  it('CPUID 0x40000003 advertises the synthetic timer MSRs (EAX bit 3) and direct mode (EDX bit 19)', () => {
    const out = new Uint32Array(4);
    plainMachine(SPIN).hv!.cpuid(0x40000003, out);
    expect(out[0] & 8).toBe(8);
    expect(out[3] & (1 << 19)).toBe(1 << 19);
  });
});

describe('synthetic timers: expiry', () => {
  it('a one-shot message-mode timer posts HvMessageTypeTimerExpired into its SINT slot at exactly its time, whatever the quantum', () => {
    const results = [1000, 7, 1].map((quantum) => {
      const m = plainMachine(SPIN, { quantum });
      const hv = m.hv!, vp = m.vps[0];
      enableHypercalls(m, 0, 0);
      hv.wrmsr(vp, 0, SINT0 + 2, 0x50, 0);
      hv.wrmsr(vp, 0, STIMER0_CONFIG, ENABLE | (2 << 16), 0);
      hv.wrmsr(vp, 0, STIMER0_COUNT, 500, 0); // absolute: reference time 500 = 50,000 ns
      const ev = record(m, ['timer', 'message']);
      m.run(49_999);
      expect(m.mem.read32(SIMP0 + 2 * 256)).toBe(0);
      m.run(60_000);
      const slot = SIMP0 + 2 * 256;
      expect(m.mem.read32(slot)).toBe(0x80000010);
      expect(m.mem.read8(slot + 4)).toBe(24); // payload size
      expect(m.mem.read32(slot + 16)).toBe(0); // timer index
      expect(m.mem.read32(slot + 24)).toBe(500); // expiration time
      expect(m.mem.read32(slot + 32)).toBe(500); // delivery time
      expect(vp.apic0.pendingVector()).toBe(0x50);
      const out = { lo: 0, hi: 0 };
      hv.rdmsr(vp, 0, STIMER0_CONFIG, out);
      expect(out.lo & ENABLE).toBe(0); // a one-shot timer disables itself
      return ev.map((e) => `${e.kind}@${e.icount}`);
    });
    expect(results[0]).toEqual(['timer@50000', 'message@50000']);
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });

  it('a one-shot time in the past expires at once', () => {
    const m = plainMachine(SPIN);
    const hv = m.hv!, vp = m.vps[0];
    m.run(10_000);
    hv.wrmsr(vp, 0, STIMER0_CONFIG, ENABLE | DIRECT | (0x61 << 4), 0);
    hv.wrmsr(vp, 0, STIMER0_COUNT, 5, 0);
    vp.apic0.mmioWrite(0xf0, 4, 0x1ff);
    const ev = record(m, ['timer']);
    m.run(10_001);
    expect(ev.map((e) => e.icount)).toEqual([10_000]);
    expect(vp.apic0.pendingVector()).toBe(0x61);
  });

  it('a periodic direct-mode timer raises its vector every COUNT on a fixed grid', () => {
    const m = plainMachine(SPIN, { quantum: 333 });
    const hv = m.hv!, vp = m.vps[0];
    vp.apic0.mmioWrite(0xf0, 4, 0x1ff);
    m.run(1234);
    hv.wrmsr(vp, 0, STIMER0_CONFIG + 6, PERIODIC | DIRECT | (0x70 << 4), 0);
    hv.wrmsr(vp, 0, STIMER0_COUNT + 6, 100, 0); // 10 us
    expect(vp.nextDeadlineNs()).toBe(Infinity); // not enabled yet
    hv.wrmsr(vp, 0, STIMER0_CONFIG + 6, ENABLE | PERIODIC | DIRECT | (0x70 << 4), 0); // starts at reference time 12
    const ev = record(m, ['timer']);
    m.run(50_000);
    expect(ev.map((e) => e.icount)).toEqual([11_200, 21_200, 31_200, 41_200]);
    expect(ev.every((e) => e.kind === 'timer' && e.direct && e.vector === 0x70 && e.timer === 3 && e.vtl === 0)).toBe(true);
    expect(vp.apic0.pendingVector()).toBe(0x70);
  });

  it('a halted VP skips virtual time to the timer\'s expiry', () => {
    const m = plainMachine([0xf4, 0xeb, 0xfd]); // hlt; jmp back (IF = 0: the interrupt cannot wake it)
    const hv = m.hv!, vp = m.vps[0];
    enableHypercalls(m, 0, 0);
    hv.wrmsr(vp, 0, SINT0 + 3, 0x51, 0);
    hv.wrmsr(vp, 0, STIMER0_CONFIG, ENABLE | (3 << 16), 0);
    hv.wrmsr(vp, 0, STIMER0_COUNT, 50_000, 0); // 5 ms
    const ev = record(m, ['timer']);
    expect(m.run(1000).kind).toBe('deadlock'); // after the expiry nothing is left to wake the VP
    expect(ev.length).toBe(1);
    expect(m.icount()).toBe(1); // only the HLT retired
    expect(vp.nowNs()).toBeGreaterThanOrEqual(5_000_000);
    expect(m.mem.read32(SIMP0 + 3 * 256 + 32)).toBe(50_000); // delivered at its expiration time
  });

  it('a periodic message timer whose slot is still busy drops that expiry; a one-shot one waits for EOM', () => {
    const m = plainMachine(SPIN);
    const hv = m.hv!, vp = m.vps[0];
    enableHypercalls(m, 0, 0);
    hv.wrmsr(vp, 0, SINT0 + 4, 0x52, 0);
    hv.wrmsr(vp, 0, STIMER0_CONFIG, ENABLE | PERIODIC | (4 << 16), 0);
    hv.wrmsr(vp, 0, STIMER0_COUNT, 100, 0);
    const ev = record(m, ['timer', 'message']);
    m.run(35_000);
    expect(ev.map((e) => `${e.kind}@${e.icount}${e.kind === 'timer' ? (e.delivered ? '' : ' dropped') : ''}`))
      .toEqual(['timer@10000', 'message@10000', 'timer@20000 dropped', 'timer@30000 dropped']);
    hv.wrmsr(vp, 0, STIMER0_CONFIG, 0, 0);
    // One-shot on SINT4 while the slot still holds the periodic timer's message: queued, pending flag.
    hv.wrmsr(vp, 0, STIMER0_CONFIG + 2, ENABLE | (4 << 16), 0);
    hv.wrmsr(vp, 0, STIMER0_COUNT + 2, 400, 0);
    m.run(45_000);
    const slot = SIMP0 + 4 * 256;
    expect(m.mem.read32(slot + 16)).toBe(0); // still the first message (timer 0)
    expect(m.mem.read8(slot + 5) & 1).toBe(1); // message pending
    m.mem.write32(slot, 0); // the guest frees the slot...
    m.run(46_000);
    hv.wrmsr(vp, 0, 0x40000084, 0, 0); // ...and writes EOM
    expect(m.mem.read32(slot)).toBe(0x80000010);
    expect(m.mem.read32(slot + 16)).toBe(1); // timer 1
    expect(m.mem.read32(slot + 24)).toBe(400); // expiration
    expect(m.mem.read32(slot + 32)).toBe(460); // delivered at EOM time
  });
});

describe('synthetic timers and VTLs (spec/vsm.md 5.4, 7)', () => {
  it('a VTL1 timer expiring while VTL0 runs enters VTL1 with entry reason interrupt; a VTL0 timer expiring in VTL1 waits', () => {
    const m = vsmMachine(SPIN, SPIN);
    const hv = m.hv!, vp = m.vps[0];
    hv.wrmsr(vp, 1, SINT0 + 1, 0x41, 0);
    hv.wrmsr(vp, 1, STIMER0_CONFIG, ENABLE | (1 << 16), 0);
    hv.wrmsr(vp, 1, STIMER0_COUNT, 200, 0);
    hv.wrmsr(vp, 0, STIMER0_CONFIG, ENABLE | DIRECT | (0x66 << 4), 0);
    hv.wrmsr(vp, 0, STIMER0_COUNT, 300, 0);
    const ev = record(m, ['timer', 'vtl-switch', 'message']);
    m.run(40_000);
    expect(ev.map((e) => `${e.kind}/${e.icount}/${'vtl' in e ? e.vtl : ''}`))
      .toEqual(['timer/20000/1', 'message/20000/1', 'vtl-switch/20000/', 'timer/30000/0']);
    const sw = ev[2];
    expect(sw.kind === 'vtl-switch' && sw.to === 1 && sw.reason === 2).toBe(true);
    expect(vp.activeVtl).toBe(1);
    expect(m.mem.read32(SIMP1 + 256)).toBe(0x80000010);
    expect(vp.vtls[0]!.apic.pendingVector()).toBe(0x66); // held for VTL0
  });

  it('armed timers survive save/restore: the restored machine expires them at the same instructions', () => {
    const a = vsmMachine(SPIN, SPIN);
    a.hv!.wrmsr(a.vps[0], 0, STIMER0_CONFIG + 4, ENABLE | PERIODIC | DIRECT | (0x68 << 4), 0);
    a.hv!.wrmsr(a.vps[0], 0, STIMER0_COUNT + 4, 70, 0);
    a.run(12_345);
    const snap = structuredClone(a.save());
    const b = vsmMachine([0x90], [0x90]);
    b.restore(snap);
    expect(b.stateHash()).toBe(a.stateHash());
    const ea = record(a, ['timer']), eb = record(b, ['timer']);
    a.run(60_000); b.run(60_000);
    expect(eb).toEqual(ea);
    expect(ea.length).toBe(7);
    expect(b.stateHash()).toBe(a.stateHash());
  });
});

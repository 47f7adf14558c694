import { describe, expect, it } from 'vitest';
import {
  ApicReg as R, DeliveryMode, type Ipi, LocalApic, type LocalApicOptions, routeIpi,
} from '../../core/devices/apic.js';
import type { Msr64 } from '../../core/devices/types.js';
import { ManualClock, viaJson } from './helpers.js';

function makeSystem(n: number, extra: Partial<LocalApicOptions> = {}) {
  const clock = new ManualClock();
  const apics: LocalApic[] = [];
  const signals: number[] = new Array<number>(n).fill(0);
  const sent: Ipi[] = [];
  const router = {
    deliver: (src: LocalApic, ipi: Ipi) => {
      sent.push(ipi);
      routeIpi(apics, src, ipi);
    },
  };
  for (let i = 0; i < n; i++) {
    apics.push(new LocalApic({ apicId: i, clock, router, onSignal: () => void signals[i]!++, ...extra }));
  }
  return { clock, apics, signals, sent, router };
}

const r = (a: LocalApic, off: number) => a.mmioRead(off, 4);
const w = (a: LocalApic, off: number, v: number) => a.mmioWrite(off, 4, v);
const enable = (a: LocalApic) => w(a, R.SVR, 0x1ff);
function rd(a: LocalApic, msr: number): Msr64 | null {
  const out = { lo: 0, hi: 0 };
  return a.rdmsr(msr, out) ? out : null;
}
const irrHas = (a: LocalApic, v: number) => ((r(a, R.IRR + (v >>> 5) * 0x10) >>> (v & 31)) & 1) === 1;
const isrHas = (a: LocalApic, v: number) => ((r(a, R.ISR + (v >>> 5) * 0x10) >>> (v & 31)) & 1) === 1;
const selfIpi = (a: LocalApic, vector: number) => w(a, R.ICR_LO, (1 << 18) | vector);
const toX2 = (a: LocalApic) => expect(a.wrmsr(0x1b, (rd(a, 0x1b)!.lo | 0xc00) >>> 0, 0)).toBe(true);
/** Deliver the pending interrupt the way a CPU would. */
function take(a: LocalApic): number {
  const v = a.pendingVector();
  if (v >= 0) a.acknowledge(v);
  return v;
}

describe('LocalApic: reset state', () => {
  it('matches the SDM power-up state', () => {
    const { apics } = makeSystem(2);
    const [bsp, ap] = apics as [LocalApic, LocalApic];
    expect(rd(bsp, 0x1b)).toEqual({ lo: 0xfee00900, hi: 0 });
    expect(rd(ap, 0x1b)).toEqual({ lo: 0xfee00800, hi: 0 });
    expect(r(ap, R.ID)).toBe(0x01000000);
    expect(r(ap, R.VERSION)).toBe(0x00050014);
    expect(r(ap, R.SVR)).toBe(0xff);
    expect(r(ap, R.DFR)).toBe(0xffffffff);
    for (let off = R.LVT_TIMER; off <= R.LVT_ERROR; off += 0x10) expect(r(ap, off)).toBe(0x10000);
    expect(bsp.mmioBase()).toBe(0xfee00000);
    expect(bsp.mmioEnabled()).toBe(true);
    expect(bsp.nextDeadlineNs()).toBe(Infinity);
    expect(bsp.pendingVector()).toBe(-1);
  });

  it('xAPIC MMIO: sub-dword reads, misaligned/narrow writes dropped, unknown offsets read 0', () => {
    const { apics } = makeSystem(1);
    const a = apics[0]!;
    expect(a.mmioRead(R.VERSION, 1)).toBe(0x14);
    expect(a.mmioRead(R.VERSION + 2, 1)).toBe(0x05);
    expect(a.mmioRead(R.VERSION + 2, 2)).toBe(0x0005);
    expect(a.mmioRead(R.VERSION + 4, 4)).toBe(0);
    a.mmioWrite(R.TPR, 1, 0x20);
    a.mmioWrite(R.TPR + 4, 4, 0x20);
    expect(r(a, R.TPR)).toBe(0);
    expect(r(a, 0x2f0)).toBe(0); // no CMCI LVT (max LVT 5)
    expect(r(a, 0x400)).toBe(0);
    w(a, R.ID, 0x07000000);
    expect(r(a, R.ID)).toBe(0x07000000);
    w(a, R.VERSION, 0);
    expect(r(a, R.VERSION)).toBe(0x00050014);
    w(a, R.DFR, 0);
    expect(r(a, R.DFR)).toBe(0x0fffffff);
    w(a, R.LDR, 0xffffffff);
    expect(r(a, R.LDR)).toBe(0xff000000);
  });
});

describe('LocalApic: interrupts and priority', () => {
  it('self-IPI through the ICR lands in IRR, is delivered, and EOI retires it', () => {
    const { apics, signals, sent } = makeSystem(2);
    const a = apics[0]!;
    enable(a);
    selfIpi(a, 0x50);
    expect(sent[0]).toMatchObject({ deliveryMode: 0, vector: 0x50, shorthand: 1, x2apic: false, trigger: 'edge' });
    expect(irrHas(a, 0x50)).toBe(true);
    expect(irrHas(apics[1]!, 0x50)).toBe(false);
    expect(signals[0]).toBeGreaterThan(0);
    expect(r(a, R.ICR_LO) & 0x1000).toBe(0); // delivery status idle
    expect(take(a)).toBe(0x50);
    expect(irrHas(a, 0x50)).toBe(false);
    expect(isrHas(a, 0x50)).toBe(true);
    expect(r(a, R.PPR)).toBe(0x50);
    expect(a.pendingVector()).toBe(-1);
    w(a, R.EOI, 0);
    expect(isrHas(a, 0x50)).toBe(false);
    expect(r(a, R.PPR)).toBe(0);
  });

  it('TPR masks by priority class; lowering it signals the VP', () => {
    const { apics, signals } = makeSystem(1);
    const a = apics[0]!;
    enable(a);
    w(a, R.TPR, 0x50);
    const before = signals[0]!;
    selfIpi(a, 0x55);
    expect(signals[0]).toBe(before); // not deliverable: no signal
    expect(a.pendingVector()).toBe(-1);
    selfIpi(a, 0x5f);
    expect(a.pendingVector()).toBe(-1); // same class as TPR
    w(a, R.TPR, 0x4f);
    expect(signals[0]).toBe(before + 1);
    expect(a.pendingVector()).toBe(0x5f);
    expect(a.readCr8()).toBe(4);
    a.writeCr8(6);
    expect(r(a, R.TPR)).toBe(0x60);
    expect(a.pendingVector()).toBe(-1);
    a.writeCr8(0);
    expect(take(a)).toBe(0x5f);
    expect(take(a)).toBe(-1); // 0x55 is the same class as the in-service 0x5f
    // PPR: TPR when its class is at least the in-service class (5 here), else that class.
    w(a, R.TPR, 0x43);
    expect(r(a, R.PPR)).toBe(0x50);
    w(a, R.TPR, 0x53);
    expect(r(a, R.PPR)).toBe(0x53);
    w(a, R.TPR, 0x63);
    expect(r(a, R.PPR)).toBe(0x63);
  });

  it('nested ISR: higher class preempts, EOI retires the highest first', () => {
    const { apics } = makeSystem(1);
    const a = apics[0]!;
    enable(a);
    selfIpi(a, 0x40);
    expect(take(a)).toBe(0x40);
    selfIpi(a, 0x45);
    expect(a.pendingVector()).toBe(-1); // same class as in-service 0x40
    selfIpi(a, 0x60);
    expect(take(a)).toBe(0x60);
    selfIpi(a, 0x50);
    expect(a.pendingVector()).toBe(-1); // blocked by 0x60 in service
    w(a, R.EOI, 0); // retires 0x60
    expect(isrHas(a, 0x60)).toBe(false);
    expect(isrHas(a, 0x40)).toBe(true);
    expect(take(a)).toBe(0x50);
    w(a, R.EOI, 0); // retires 0x50
    expect(isrHas(a, 0x40)).toBe(true);
    expect(a.pendingVector()).toBe(-1);
    w(a, R.EOI, 0); // retires 0x40
    expect(take(a)).toBe(0x45);
    w(a, R.EOI, 0);
    expect(r(a, R.PPR)).toBe(0);
  });

  it('higher vector wins among pending; level trigger sets TMR', () => {
    const { apics } = makeSystem(1);
    const a = apics[0]!;
    enable(a);
    a.acceptInterrupt(DeliveryMode.FIXED, 0x31, 'edge');
    a.acceptInterrupt(DeliveryMode.FIXED, 0x92, 'level');
    expect(r(a, R.TMR + 0x40) >>> 18).toBe(1);
    expect(take(a)).toBe(0x92);
    w(a, R.EOI, 0);
    expect(take(a)).toBe(0x31);
  });

  it('vectors 0-15 are illegal: ESR bits, error LVT', () => {
    const { apics } = makeSystem(1);
    const a = apics[0]!;
    enable(a);
    selfIpi(a, 0x05);
    expect(r(a, R.IRR)).toBe(0);
    expect(r(a, R.ESR)).toBe(0); // not latched yet
    w(a, R.ESR, 0);
    expect(r(a, R.ESR)).toBe(0x60); // send + receive illegal vector
    w(a, R.ESR, 0);
    expect(r(a, R.ESR)).toBe(0);
    w(a, R.LVT_ERROR, 0xe3);
    a.acceptInterrupt(DeliveryMode.FIXED, 3, 'edge');
    expect(take(a)).toBe(0xe3);
    w(a, R.ESR, 0);
    expect(r(a, R.ESR)).toBe(0x40);
  });

  it('software-disabled: fixed interrupts refused, NMI/INIT/SIPI accepted, LVT masks stuck', () => {
    const { apics } = makeSystem(1);
    const a = apics[0]!;
    enable(a);
    w(a, R.LVT_LINT0, 0x700);
    expect(r(a, R.LVT_LINT0)).toBe(0x700);
    w(a, R.SVR, 0xff);
    expect(r(a, R.LVT_LINT0)).toBe(0x10700);
    w(a, R.LVT_LINT0, 0x700);
    expect(r(a, R.LVT_LINT0)).toBe(0x10700);
    a.acceptInterrupt(DeliveryMode.FIXED, 0x40, 'edge');
    expect(irrHas(a, 0x40)).toBe(false);
    a.acceptInterrupt(DeliveryMode.NMI, 0, 'edge');
    expect(a.takeNmi()).toBe(true);
    expect(a.takeNmi()).toBe(false);
  });

  it('LINT pins deliver per LVT', () => {
    const { apics } = makeSystem(1);
    const a = apics[0]!;
    enable(a);
    a.raiseLint(1);
    expect(a.takeNmi()).toBe(false); // masked
    w(a, R.LVT_LINT1, 0x400); // NMI
    a.raiseLint(1);
    expect(a.takeNmi()).toBe(true);
    w(a, R.LVT_LINT0, 0x8000 | 0x41);
    a.raiseLint(0);
    expect(take(a)).toBe(0x41);
  });
});

describe('LocalApic: timer', () => {
  const PERIODIC = 0x20000;
  const TSC = 0x40000;

  it('periodic fires at exactly N * period, without drift even when ticked late', () => {
    const { clock, apics } = makeSystem(1);
    const a = apics[0]!;
    enable(a);
    w(a, R.TIMER_DIVIDE, 0xb); // divide by 1
    w(a, R.LVT_TIMER, PERIODIC | 0x30);
    clock.t = 500;
    w(a, R.TIMER_INITIAL, 1000);
    for (let k = 1; k <= 20; k++) {
      expect(a.nextDeadlineNs()).toBe(500 + k * 1000);
      a.tick(500 + k * 1000 - 1);
      expect(irrHas(a, 0x30)).toBe(false);
      clock.t = 500 + k * 1000 + (k % 3) * 137; // the machine notices late
      a.tick(clock.t);
      expect(take(a)).toBe(0x30);
      w(a, R.EOI, 0);
    }
    // Several periods missed: one interrupt, and the grid is kept.
    clock.t = 500 + 24_500;
    a.tick(clock.t);
    expect(take(a)).toBe(0x30);
    expect(a.nextDeadlineNs()).toBe(500 + 25_000);
  });

  it('current count is computed from the clock mid-period', () => {
    const { clock, apics } = makeSystem(1);
    const a = apics[0]!;
    enable(a);
    w(a, R.TIMER_DIVIDE, 0x0); // divide by 2
    w(a, R.LVT_TIMER, PERIODIC | 0x30);
    w(a, R.TIMER_INITIAL, 1000); // period 2000 ns
    expect(r(a, R.TIMER_CURRENT)).toBe(1000);
    clock.t = 1;
    expect(r(a, R.TIMER_CURRENT)).toBe(1000);
    clock.t = 2;
    expect(r(a, R.TIMER_CURRENT)).toBe(999);
    clock.t = 1999;
    expect(r(a, R.TIMER_CURRENT)).toBe(1);
    clock.t = 2000 + 600; // next period, tick() not called yet
    expect(r(a, R.TIMER_CURRENT)).toBe(700);
    a.tick(clock.t);
    expect(r(a, R.TIMER_CURRENT)).toBe(700);
    expect(r(a, R.TIMER_INITIAL)).toBe(1000);
  });

  it('one-shot fires once; count reads 0 afterwards', () => {
    const { clock, apics } = makeSystem(1);
    const a = apics[0]!;
    enable(a);
    w(a, R.TIMER_DIVIDE, 0xb);
    w(a, R.LVT_TIMER, 0x31);
    w(a, R.TIMER_INITIAL, 100);
    expect(a.nextDeadlineNs()).toBe(100);
    clock.t = 99;
    expect(r(a, R.TIMER_CURRENT)).toBe(1);
    clock.t = 100;
    expect(r(a, R.TIMER_CURRENT)).toBe(0);
    a.tick(100);
    expect(take(a)).toBe(0x31);
    w(a, R.EOI, 0);
    expect(a.nextDeadlineNs()).toBe(Infinity);
    clock.t = 10_000;
    a.tick(clock.t);
    expect(a.pendingVector()).toBe(-1);
    expect(r(a, R.TIMER_CURRENT)).toBe(0);
    // Writing the initial count re-arms; 0 stops.
    w(a, R.TIMER_INITIAL, 10);
    expect(a.nextDeadlineNs()).toBe(10_010);
    w(a, R.TIMER_INITIAL, 0);
    expect(a.nextDeadlineNs()).toBe(Infinity);
  });

  it('divide configuration: all eight values, and a change mid-count', () => {
    const { clock, apics } = makeSystem(1);
    const a = apics[0]!;
    enable(a);
    w(a, R.LVT_TIMER, 0x32);
    const table: [number, number][] = [[0x0, 2], [0x1, 4], [0x2, 8], [0x3, 16], [0x8, 32], [0x9, 64], [0xa, 128], [0xb, 1]];
    for (const [dcr, div] of table) {
      w(a, R.TIMER_DIVIDE, dcr | 0xf0);
      expect(r(a, R.TIMER_DIVIDE)).toBe(dcr);
      w(a, R.TIMER_INITIAL, 100);
      expect(a.nextDeadlineNs()).toBe(clock.t + 100 * div);
      w(a, R.TIMER_INITIAL, 0);
    }
    clock.t = 0;
    w(a, R.TIMER_DIVIDE, 0x0); // /2
    w(a, R.TIMER_INITIAL, 100);
    clock.t = 100;
    expect(r(a, R.TIMER_CURRENT)).toBe(50);
    w(a, R.TIMER_DIVIDE, 0x1); // /4: the remaining 50 counts take 200 ns
    expect(r(a, R.TIMER_CURRENT)).toBe(50);
    expect(a.nextDeadlineNs()).toBe(300);
    clock.t = 200;
    expect(r(a, R.TIMER_CURRENT)).toBe(25);
  });

  it('TSC-deadline mode', () => {
    const { clock, apics } = makeSystem(1);
    const a = apics[0]!;
    enable(a);
    // Outside TSC-deadline mode the MSR reads 0 and ignores writes.
    expect(a.wrmsr(0x6e0, 5000, 0)).toBe(true);
    expect(rd(a, 0x6e0)).toEqual({ lo: 0, hi: 0 });
    w(a, R.LVT_TIMER, TSC | 0x33);
    expect(a.wrmsr(0x6e0, 5000, 0)).toBe(true);
    expect(rd(a, 0x6e0)).toEqual({ lo: 5000, hi: 0 });
    expect(a.nextDeadlineNs()).toBe(5000);
    w(a, R.TIMER_INITIAL, 10); // ignored in this mode
    expect(r(a, R.TIMER_INITIAL)).toBe(0);
    expect(a.nextDeadlineNs()).toBe(5000);
    a.tick(4999);
    expect(a.pendingVector()).toBe(-1);
    clock.t = 5000;
    a.tick(5000);
    expect(take(a)).toBe(0x33);
    w(a, R.EOI, 0);
    expect(rd(a, 0x6e0)).toEqual({ lo: 0, hi: 0 }); // cleared when it fires
    expect(a.nextDeadlineNs()).toBe(Infinity);
    // A deadline in the past fires at once; 0 disarms.
    clock.t = 9000;
    a.wrmsr(0x6e0, 8000, 0);
    expect(take(a)).toBe(0x33);
    w(a, R.EOI, 0);
    a.wrmsr(0x6e0, 20_000, 0);
    a.wrmsr(0x6e0, 0, 0);
    expect(a.nextDeadlineNs()).toBe(Infinity);
    // High half counts: deadline 2^32 + 7.
    a.wrmsr(0x6e0, 7, 1);
    expect(a.nextDeadlineNs()).toBe(2 ** 32 + 7);
    expect(rd(a, 0x6e0)).toEqual({ lo: 7, hi: 1 });
    // Leaving TSC-deadline mode disarms.
    w(a, R.LVT_TIMER, 0x33);
    expect(a.nextDeadlineNs()).toBe(Infinity);
    w(a, R.LVT_TIMER, TSC | 0x33);
    expect(rd(a, 0x6e0)).toEqual({ lo: 0, hi: 0 });
  });

  it('masked timer: no deadline reported, no interrupts for periods that elapsed while masked', () => {
    const { clock, apics } = makeSystem(1);
    const a = apics[0]!;
    enable(a);
    w(a, R.TIMER_DIVIDE, 0xb);
    w(a, R.LVT_TIMER, 0x10000 | PERIODIC | 0x34);
    w(a, R.TIMER_INITIAL, 1000);
    expect(a.nextDeadlineNs()).toBe(Infinity);
    clock.t = 3500;
    expect(r(a, R.TIMER_CURRENT)).toBe(500);
    w(a, R.LVT_TIMER, PERIODIC | 0x34);
    expect(a.pendingVector()).toBe(-1);
    expect(a.nextDeadlineNs()).toBe(4000);
    // Masking mid-way after expiry not yet ticked: the expiry still fires (it happened first).
    clock.t = 4100;
    w(a, R.LVT_TIMER, 0x10000 | PERIODIC | 0x34);
    expect(take(a)).toBe(0x34);
  });

  it('switching one-shot <-> periodic keeps the cycle', () => {
    const { clock, apics } = makeSystem(1);
    const a = apics[0]!;
    enable(a);
    w(a, R.TIMER_DIVIDE, 0xb);
    w(a, R.LVT_TIMER, PERIODIC | 0x35);
    w(a, R.TIMER_INITIAL, 100);
    clock.t = 250;
    a.tick(250);
    expect(take(a)).toBe(0x35);
    w(a, R.EOI, 0);
    w(a, R.LVT_TIMER, 0x35); // one-shot from now: runs to the end of this cycle
    expect(r(a, R.TIMER_CURRENT)).toBe(50);
    expect(a.nextDeadlineNs()).toBe(300);
    clock.t = 300;
    a.tick(300);
    expect(take(a)).toBe(0x35);
    expect(a.nextDeadlineNs()).toBe(Infinity);
  });
});

describe('LocalApic: IPIs and routing', () => {
  const icr = (a: LocalApic, dest: number, lo: number) => {
    w(a, R.ICR_HI, dest << 24);
    w(a, R.ICR_LO, lo);
  };

  it('INIT / SIPI between two APICs', () => {
    const { apics, signals } = makeSystem(2);
    const [bsp, ap] = apics as [LocalApic, LocalApic];
    enable(bsp);
    enable(ap);
    w(ap, R.TPR, 0x20);
    w(ap, R.ID, 0x01000000);
    icr(bsp, 1, 0xc500); // INIT, level assert
    expect(signals[1]).toBe(1);
    icr(bsp, 1, 0x8500); // INIT level de-assert: ignored
    expect(signals[1]).toBe(1);
    expect(ap.takeInit()).toBe(true);
    expect(ap.takeInit()).toBe(false);
    expect(r(ap, R.TPR)).toBe(0); // INIT reset the registers...
    expect(r(ap, R.SVR)).toBe(0xff);
    expect(r(ap, R.ID)).toBe(0x01000000); // ...but not the ID
    icr(bsp, 1, 0x4608); // STARTUP vector 8
    icr(bsp, 1, 0x4608);
    expect(signals[1]).toBe(3);
    expect(ap.takeSipi()).toBe(8);
    expect(ap.takeSipi()).toBe(-1);
    expect(bsp.takeInit()).toBe(false);
    expect(bsp.takeSipi()).toBe(-1);
  });

  it('INIT and SIPI sent before the AP runs are both taken, in order; a stale SIPI is dropped', () => {
    const { apics } = makeSystem(2);
    const [bsp, ap] = apics as [LocalApic, LocalApic];
    icr(bsp, 1, 0x4609); // SIPI first: stale once INIT arrives
    icr(bsp, 1, 0x4500);
    expect(ap.takeSipi()).toBe(-1);
    icr(bsp, 1, 0x4500);
    icr(bsp, 1, 0x4610);
    expect(ap.takeInit()).toBe(true);
    expect(ap.takeSipi()).toBe(0x10);
  });

  it('NMI IPI', () => {
    const { apics } = makeSystem(2);
    icr(apics[0]!, 1, 0x4400);
    expect(apics[1]!.takeNmi()).toBe(true);
    expect(apics[0]!.takeNmi()).toBe(false);
  });

  it('physical destinations, broadcast and shorthands', () => {
    const { apics } = makeSystem(4);
    apics.forEach(enable);
    const pending = () => apics.map((a) => take(a));
    const eoiAll = () => apics.forEach((a) => w(a, R.EOI, 0));
    icr(apics[0]!, 2, 0x4041);
    expect(pending()).toEqual([-1, -1, 0x41, -1]);
    eoiAll();
    icr(apics[0]!, 0xff, 0x4042);
    expect(pending()).toEqual([0x42, 0x42, 0x42, 0x42]);
    eoiAll();
    icr(apics[1]!, 0, (2 << 18) | 0x4043); // all including self
    expect(pending()).toEqual([0x43, 0x43, 0x43, 0x43]);
    eoiAll();
    icr(apics[1]!, 0, (3 << 18) | 0x4044); // all excluding self
    expect(pending()).toEqual([0x44, -1, 0x44, 0x44]);
    eoiAll();
    icr(apics[3]!, 0, (1 << 18) | 0x4045); // self
    expect(pending()).toEqual([-1, -1, -1, 0x45]);
    eoiAll();
    icr(apics[0]!, 9, 0x4046); // nobody
    expect(pending()).toEqual([-1, -1, -1, -1]);
    // Physical match uses the (writable) xAPIC ID.
    w(apics[2]!, R.ID, 0x09000000);
    icr(apics[0]!, 9, 0x4047);
    expect(pending()).toEqual([-1, -1, 0x47, -1]);
    eoiAll();
    // Lowest priority: fixed to the first match only.
    icr(apics[0]!, 0xff, 0x4148);
    expect(pending()).toEqual([0x48, -1, -1, -1]);
  });

  it('logical flat and cluster destinations', () => {
    const { apics } = makeSystem(4);
    apics.forEach(enable);
    const pending = () => apics.map((a) => take(a));
    const eoiAll = () => apics.forEach((a) => w(a, R.EOI, 0));
    apics.forEach((a, i) => w(a, R.LDR, (1 << i) << 24));
    icr(apics[0]!, 0x06, 0x4850); // logical, flat mask 0b0110
    expect(pending()).toEqual([-1, 0x50, 0x50, -1]);
    eoiAll();
    icr(apics[0]!, 0xff, 0x4851);
    expect(pending()).toEqual([0x51, 0x51, 0x51, 0x51]);
    eoiAll();
    // Cluster model: cluster in bits 7:4, members in 3:0.
    apics.forEach((a) => w(a, R.DFR, 0x0fffffff));
    w(apics[0]!, R.LDR, 0x11000000);
    w(apics[1]!, R.LDR, 0x12000000);
    w(apics[2]!, R.LDR, 0x21000000);
    w(apics[3]!, R.LDR, 0x22000000);
    icr(apics[0]!, 0x13, 0x4852);
    expect(pending()).toEqual([0x52, 0x52, -1, -1]);
    eoiAll();
    icr(apics[0]!, 0x22, 0x4853);
    expect(pending()).toEqual([-1, -1, -1, 0x53]);
    eoiAll();
    icr(apics[0]!, 0xf1, 0x4854); // member 1 of every cluster
    expect(pending()).toEqual([0x54, -1, 0x54, -1]);
  });

  it('disabled APICs receive nothing', () => {
    const { apics } = makeSystem(2);
    apics.forEach(enable);
    expect(apics[1]!.wrmsr(0x1b, 0xfee00000, 0)).toBe(true);
    icr(apics[0]!, 0xff, 0x4500);
    expect(apics[1]!.takeInit()).toBe(false);
    expect(apics[1]!.mmioEnabled()).toBe(false);
  });
});

describe('LocalApic: x2APIC', () => {
  it('IA32_APIC_BASE transitions follow the SDM', () => {
    const { apics } = makeSystem(1);
    const a = apics[0]!;
    const base = 0xfee00000 | 0x100;
    expect(a.wrmsr(0x1b, base | 0x400, 0)).toBe(false); // EXTD without EN
    expect(a.wrmsr(0x1b, base | 0x800 | 0x001, 0)).toBe(false); // reserved bit 0
    expect(a.wrmsr(0x1b, base | 0x800 | 0x200, 0)).toBe(false); // reserved bit 9
    expect(a.wrmsr(0x1b, base | 0x800, 1 << 8)).toBe(false); // bit 40 >= MAXPHYADDR (40)
    expect(a.wrmsr(0x1b, base | 0x800, 1 << 7)).toBe(true); // bit 39 is fine
    expect(a.mmioBase()).toBe(0x80_fee00000);
    expect(a.wrmsr(0x1b, base | 0x800, 0)).toBe(true);
    expect(a.wrmsr(0x1b, base | 0xc00, 0)).toBe(true); // xAPIC -> x2APIC
    expect(a.isX2apic()).toBe(true);
    expect(a.mmioEnabled()).toBe(false);
    expect(a.wrmsr(0x1b, base | 0x800, 0)).toBe(false); // x2APIC -> xAPIC
    expect(a.wrmsr(0x1b, base | 0xc00, 0)).toBe(true); // no change
    expect(a.wrmsr(0x1b, base, 0)).toBe(true); // x2APIC -> disabled
    expect(a.isEnabled()).toBe(false);
    expect(a.wrmsr(0x1b, base | 0xc00, 0)).toBe(false); // disabled -> x2APIC
    expect(a.wrmsr(0x1b, base | 0x800, 0)).toBe(true); // disabled -> xAPIC
    expect(rd(a, 0x1b)).toEqual({ lo: (base | 0x800) >>> 0, hi: 0 });
  });

  it('physAddrBits option', () => {
    const { apics } = makeSystem(1, { physAddrBits: 46 });
    expect(apics[0]!.wrmsr(0x1b, 0xfee00800, 1 << 13)).toBe(true);
    expect(apics[0]!.wrmsr(0x1b, 0xfee00800, 1 << 14)).toBe(false);
  });

  it('disabling loses state; re-enabling starts from power-up', () => {
    const { apics } = makeSystem(2);
    const a = apics[1]!;
    enable(a);
    w(a, R.TPR, 0x30);
    w(a, R.ID, 0x05000000);
    a.acceptInterrupt(DeliveryMode.FIXED, 0x80, 'edge');
    a.wrmsr(0x1b, 0xfee00000, 0);
    expect(a.pendingVector()).toBe(-1);
    a.wrmsr(0x1b, 0xfee00800, 0);
    expect([r(a, R.TPR), r(a, R.SVR), r(a, R.ID), a.pendingVector()]).toEqual([0, 0xff, 0x01000000, -1]);
  });

  it('x2APIC MSRs: #GP outside x2APIC mode, register semantics inside', () => {
    const { apics } = makeSystem(0x24);
    const a = apics[0x23]!;
    expect(rd(a, 0x802)).toBeNull();
    expect(a.wrmsr(0x808, 0, 0)).toBe(false);
    toX2(a);
    expect(rd(a, 0x802)).toEqual({ lo: 0x23, hi: 0 });
    expect(a.wrmsr(0x802, 0, 0)).toBe(false); // ID read-only
    expect(rd(a, 0x803)).toEqual({ lo: 0x00050014, hi: 0 });
    expect(rd(a, 0x80d)).toEqual({ lo: (2 << 16) | (1 << 3), hi: 0 }); // LDR from ID
    expect(a.wrmsr(0x80d, 0, 0)).toBe(false);
    expect(rd(a, 0x80e)).toBeNull(); // no DFR
    expect(rd(a, 0x831)).toBeNull(); // no ICR high half
    expect(rd(a, 0x809)).toBeNull(); // no APR
    expect(rd(a, 0x80b)).toBeNull(); // EOI is write-only
    expect(rd(a, 0x83f)).toBeNull(); // SELF_IPI is write-only
    expect(a.wrmsr(0x80b, 1, 0)).toBe(false); // EOI must be 0
    expect(a.wrmsr(0x80b, 0, 0)).toBe(true);
    expect(a.wrmsr(0x828, 1, 0)).toBe(false); // ESR must be 0
    expect(a.wrmsr(0x808, 0x20, 1)).toBe(false); // reserved high half
    expect(a.wrmsr(0x80a, 0, 0)).toBe(false); // PPR read-only
    expect(a.wrmsr(0x839, 0, 0)).toBe(false); // current count read-only
    expect(a.wrmsr(0x82f, 0, 0)).toBe(false); // no CMCI LVT
    expect(a.wrmsr(0x808, 0x20, 0)).toBe(true);
    expect(rd(a, 0x808)).toEqual({ lo: 0x20, hi: 0 });
    expect(a.wrmsr(0x80f, 0x1ff, 0)).toBe(true);
    expect(a.wrmsr(0x83f, 0x61, 0)).toBe(true); // SELF_IPI
    expect(take(a)).toBe(0x61);
    expect(rd(a, 0x810 + 3)).toEqual({ lo: 1 << 1, hi: 0 }); // ISR bank 3
    expect(rd(a, 0x900)).toBeNull();
    expect(rd(a, 0x6e0)).toEqual({ lo: 0, hi: 0 });
    expect(a.mmioRead(R.ID, 4)).toBe(0xffffffff); // no MMIO window in x2APIC mode
  });

  it('x2APIC ICR is one 64-bit MSR with a 32-bit destination', () => {
    const { apics } = makeSystem(20);
    apics.forEach((a) => {
      toX2(a);
      a.wrmsr(0x80f, 0x1ff, 0);
    });
    const src = apics[0]!;
    expect(src.wrmsr(0x830, 0x4070, 17)).toBe(true);
    expect(rd(src, 0x830)).toEqual({ lo: 0x4070, hi: 17 });
    expect(apics.map((a) => a.pendingVector())).toEqual(apics.map((_, i) => (i === 17 ? 0x70 : -1)));
    apics[17]!.acknowledge(0x70);
    // Logical: cluster 1 (IDs 16-31), members 0 and 3 -> IDs 16 and 19.
    src.wrmsr(0x830, 0x4871, (1 << 16) | 0b1001);
    expect(apics.map((a) => a.pendingVector()).filter((v) => v >= 0).length).toBe(2);
    expect(apics[16]!.pendingVector()).toBe(0x71);
    expect(apics[19]!.pendingVector()).toBe(0x71);
    // Broadcast.
    src.wrmsr(0x830, 0x4072, 0xffffffff);
    expect(apics.every((a) => irrHasX2(a, 0x72))).toBe(true);
  });
});

function irrHasX2(a: LocalApic, v: number): boolean {
  return ((rd(a, 0x820 + (v >>> 5))!.lo >>> (v & 31)) & 1) === 1;
}

describe('LocalApic: save/restore', () => {
  it('mid-period snapshot gives the same deadline, count and pending state', () => {
    const sys = makeSystem(2);
    const a = sys.apics[1]!;
    enable(a);
    w(a, R.TIMER_DIVIDE, 0x1);
    w(a, R.LVT_TIMER, 0x20000 | 0x40);
    w(a, R.TIMER_INITIAL, 5000);
    w(a, R.LVT_ERROR, 0xfe);
    w(a, R.LDR, 0x04000000);
    w(a, R.TPR, 0x21);
    sys.clock.t = 30_000;
    a.tick(sys.clock.t); // fires at 20000, next 40000
    a.acceptInterrupt(DeliveryMode.FIXED, 0x90, 'level');
    a.acknowledge(0x90);
    a.acceptInterrupt(DeliveryMode.FIXED, 0x50, 'edge');
    a.acceptInterrupt(DeliveryMode.STARTUP, 0x12, 'edge');
    a.acceptInterrupt(DeliveryMode.NMI, 0, 'edge');
    a.acceptInterrupt(DeliveryMode.FIXED, 2, 'edge'); // ESR bit latched later
    sys.clock.t = 33_333;

    const snap = viaJson(a.save());
    const sys2 = makeSystem(2);
    sys2.clock.t = sys.clock.t;
    const b = sys2.apics[1]!;
    b.restore(snap);
    expect(b.save()).toEqual(a.save());
    expect(b.nextDeadlineNs()).toBe(a.nextDeadlineNs());
    expect(b.nextDeadlineNs()).toBe(40_000);
    expect(b.pendingVector()).toBe(a.pendingVector());
    for (let off = 0x20; off < 0x400; off += 0x10) expect([off, r(b, off)]).toEqual([off, r(a, off)]);
    // Both continue identically.
    for (const [s, x] of [[sys, a], [sys2, b]] as const) {
      s.clock.t = 40_000;
      x.tick(40_000);
      w(x, R.ESR, 0);
    }
    expect(b.save()).toEqual(a.save());
    expect([take(b), take(b), b.takeSipi(), b.takeNmi()]).toEqual([take(a), take(a), a.takeSipi(), a.takeNmi()]);
    expect(r(b, R.ESR)).toBe(0x40);
    expect(() => b.restore({ ...snap, version: 2 })).toThrow();
    expect(() => sys2.apics[0]!.restore(snap)).toThrow(/APIC 1/);
  });

  it('TSC-deadline and x2APIC state survive a snapshot', () => {
    const sys = makeSystem(1);
    const a = sys.apics[0]!;
    toX2(a);
    a.wrmsr(0x80f, 0x100 | 0xff, 0);
    a.wrmsr(0x832, 0x40000 | 0x66, 0);
    a.wrmsr(0x6e0, 123_456, 0);
    const b = makeSystem(1).apics[0]!;
    b.restore(viaJson(a.save()));
    expect(b.isX2apic()).toBe(true);
    expect(b.nextDeadlineNs()).toBe(123_456);
    expect(rd(b, 0x6e0)).toEqual({ lo: 123_456, hi: 0 });
  });

  it('two machines do not share state', () => {
    const s1 = makeSystem(1);
    const s2 = makeSystem(1);
    enable(s1.apics[0]!);
    selfIpi(s1.apics[0]!, 0x40);
    expect(s2.apics[0]!.pendingVector()).toBe(-1);
    expect(s1.apics[0]!.pendingVector()).toBe(0x40);
  });
});

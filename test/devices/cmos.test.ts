import { describe, expect, it } from 'vitest';
import { Cmos } from '../../core/devices/cmos.js';
import { IoBus } from '../../core/devices/iobus.js';
import { ManualClock } from './helpers.js';

const SEC = 1_000_000_000;

function setup(ramBytes = 128 * 1024 * 1024) {
  const clock = new ManualClock();
  const bus = new IoBus();
  const cmos = new Cmos({ clock, ramBytes });
  bus.attach(cmos);
  const r = (i: number) => {
    bus.write(0x70, 1, i);
    return bus.read(0x71, 1);
  };
  const w = (i: number, v: number) => {
    bus.write(0x70, 1, i);
    bus.write(0x71, 1, v);
  };
  const time = () => [0x32, 9, 8, 7, 6, 4, 2, 0].map(r);
  return { clock, bus, cmos, r, w, time };
}

describe('Cmos', () => {
  it('starts at 2024-01-01 00:00:00 (Monday) in BCD, 24h', () => {
    const { time, r } = setup();
    // century, year, month, day, weekday (1 = Sunday), hour, minute, second
    expect(time()).toEqual([0x20, 0x24, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00]);
    expect(r(0x0b)).toBe(0x02);
  });

  it('advances with the virtual clock, whole seconds only', () => {
    const { clock, time } = setup();
    clock.t = 59.999 * SEC;
    expect(time().slice(5)).toEqual([0, 0, 0x59]);
    clock.t = (31 * 86_400 + 13 * 3600 + 45 * 60 + 7) * SEC + 5; // 2024-02-01 13:45:07, Thursday
    expect(time()).toEqual([0x20, 0x24, 0x02, 0x01, 0x05, 0x13, 0x45, 0x07]);
    clock.t = 366 * 86_400 * SEC; // 2024 is a leap year -> 2025-01-01, Wednesday
    expect(time()).toEqual([0x20, 0x25, 0x01, 0x01, 0x04, 0, 0, 0]);
  });

  it('binary mode and 12-hour mode', () => {
    const { clock, w, r, time } = setup();
    clock.t = (13 * 3600 + 59 * 60 + 58) * SEC;
    w(0x0b, 0x06); // binary, 24h
    expect(time()).toEqual([20, 24, 1, 1, 2, 13, 59, 58]);
    w(0x0b, 0x04); // binary, 12h
    expect(r(4)).toBe(0x80 | 1);
    w(0x0b, 0x00); // BCD, 12h
    expect(r(4)).toBe(0x81);
    clock.t = 30 * 60 * SEC; // 00:30 -> 12 AM
    expect(r(4)).toBe(0x12);
    clock.t = 12 * 3600 * SEC; // noon -> 12 PM
    expect(r(4)).toBe(0x92);
  });

  it('status registers: A never shows UIP, C reads 0, D reports valid RAM', () => {
    const { clock, r, w } = setup();
    for (let i = 0; i < 50; i++) {
      clock.t = i * 0.1 * SEC;
      expect(r(0x0a) & 0x80).toBe(0);
    }
    expect(r(0x0a)).toBe(0x26);
    w(0x0a, 0xff);
    expect(r(0x0a)).toBe(0x7f);
    expect(r(0x0c)).toBe(0);
    expect(r(0x0d)).toBe(0x80);
    w(0x0d, 0);
    expect(r(0x0d)).toBe(0x80);
  });

  it('fills memory size bytes as a BIOS does', () => {
    const { r } = setup(128 * 1024 * 1024);
    expect([r(0x15), r(0x16)]).toEqual([0x80, 0x02]); // 640 KiB
    const ext = (127 * 1024) & 0xffff; // 127 MiB above 1 MiB, in KiB -> saturates at 0xFFFF
    expect(ext).toBe(0xfc00);
    expect([r(0x17), r(0x18)]).toEqual([0xff, 0xff]);
    expect([r(0x30), r(0x31)]).toEqual([0xff, 0xff]);
    expect([r(0x34), r(0x35)]).toEqual([0x00, 0x07]); // (128 - 16) MiB / 64 KiB = 0x700
    const small = setup(32 * 1024 * 1024);
    expect([small.r(0x17), small.r(0x18)]).toEqual([0x00, 0x7c]); // 31 MiB = 0x7C00 KiB
    expect([small.r(0x34), small.r(0x35)]).toEqual([0x00, 0x01]);
    const tiny = setup(8 * 1024 * 1024);
    expect([tiny.r(0x34), tiny.r(0x35)]).toEqual([0, 0]);
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += small.r(i);
    expect((small.r(0x2e) << 8) | small.r(0x2f)).toBe(sum);
  });

  it('NVRAM bytes are plain storage; index bit 7 is the NMI disable', () => {
    const { bus, cmos, r, w } = setup();
    w(0x40, 0xab);
    w(0x7f, 0x11);
    expect(r(0x40)).toBe(0xab);
    expect(r(0x7f)).toBe(0x11);
    w(0x01, 0x30); // alarm seconds: storage
    expect(r(0x01)).toBe(0x30);
    expect(cmos.nmiMasked()).toBe(false);
    bus.write(0x70, 1, 0x80 | 0x40);
    expect(cmos.nmiMasked()).toBe(true);
    expect(bus.read(0x71, 1)).toBe(0xab);
    expect(bus.read(0x70, 1)).toBe(0xff);
  });

  it('the guest can set the time under the SET bit; fields are only combined when SET clears', () => {
    const { clock, w, r, time } = setup();
    clock.t = 10 * SEC;
    w(0x0b, 0x82); // SET
    clock.t = 20 * SEC; // frozen
    expect(r(0)).toBe(0x10);
    // Set 2028-02-29 23:59:50 field by field, in the order Linux writes them.
    w(0, 0x50);
    w(2, 0x59);
    w(4, 0x23);
    w(7, 0x29);
    w(8, 0x02);
    w(9, 0x28);
    w(0x0b, 0x02);
    expect(time()).toEqual([0x20, 0x28, 0x02, 0x29, 0x03, 0x23, 0x59, 0x50]); // 2028-02-29 is a Tuesday
    clock.t = 31 * SEC;
    expect(time()).toEqual([0x20, 0x28, 0x03, 0x01, 0x04, 0x00, 0x00, 0x01]);
  });

  it('Feb 29 of a non-leap year is not normalised before SET clears', () => {
    const { w, time } = setup();
    w(0x0b, 0x86); // SET, binary
    w(9, 23); // 2023
    w(7, 29);
    w(8, 2); // 2023-02-29 is invalid on its own...
    w(9, 24); // ...but the final date is 2024-02-29
    w(0x0b, 0x06);
    expect(time().slice(0, 4)).toEqual([20, 24, 2, 29]);
  });

  it('direct field writes without SET adjust the running clock', () => {
    const { clock, w, time } = setup();
    clock.t = 5 * SEC;
    w(2, 0x30); // minutes := 30
    expect(time().slice(5)).toEqual([0, 0x30, 0x05]);
    clock.t = 7 * SEC;
    expect(time().slice(5)).toEqual([0, 0x30, 0x07]);
    w(0x32, 0x19); // century
    expect(time()[0]).toBe(0x19);
  });

  it('saves and restores an indistinguishable device', () => {
    const a = setup();
    a.clock.t = 1234 * SEC;
    a.w(0x0b, 0x06);
    a.w(2, 17);
    a.w(0x50, 0x99);
    a.bus.write(0x70, 1, 0x80 | 0x50);
    const b = setup();
    b.clock.t = a.clock.t;
    b.cmos.restore(JSON.parse(JSON.stringify(a.cmos.save())));
    expect(b.cmos.save()).toEqual(a.cmos.save());
    expect(b.bus.read(0x71, 1)).toBe(0x99);
    expect(b.cmos.nmiMasked()).toBe(true);
    a.clock.t = b.clock.t = 99_999 * SEC;
    expect(b.time()).toEqual(a.time());
    for (let i = 0; i < 128; i++) expect(b.r(i)).toBe(a.r(i));
    // Mid-SET snapshot.
    a.w(0x0b, 0x86);
    a.w(8, 7);
    const c = setup();
    c.clock.t = a.clock.t;
    c.cmos.restore(JSON.parse(JSON.stringify(a.cmos.save())));
    a.w(0x0b, 0x06);
    c.w(0x0b, 0x06);
    expect(c.time()).toEqual(a.time());
  });

  it('accepts another start time', () => {
    const clock = new ManualClock();
    const cmos = new Cmos({ clock, ramBytes: 1 << 20, startSeconds: 951_782_400 }); // 2000-02-29
    cmos.ioWrite(0x70, 1, 7);
    expect(cmos.ioRead(0x71, 1)).toBe(0x29);
    cmos.ioWrite(0x70, 1, 6);
    expect(cmos.ioRead(0x71, 1)).toBe(0x03); // Tuesday
    expect(cmos.rtcSeconds()).toBe(951_782_400);
  });
});

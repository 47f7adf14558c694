import { describe, expect, it } from 'vitest';
import { IoBus, ioMask, type UnmappedAccess } from '../../core/devices/iobus.js';
import type { IoSize, PortDevice, PortMapped } from '../../core/devices/types.js';

class Recorder implements PortDevice {
  log: string[] = [];
  ioRead(port: number, size: IoSize): number {
    this.log.push(`r ${port.toString(16)} ${size}`);
    return 0x12345678;
  }
  ioWrite(port: number, size: IoSize, value: number): void {
    this.log.push(`w ${port.toString(16)} ${size} ${value.toString(16)}`);
  }
}

describe('IoBus', () => {
  it('returns all-ones masked to the access size for unmapped ports and reports them', () => {
    const seen: UnmappedAccess[] = [];
    const bus = new IoBus({ onUnmapped: (a) => seen.push(a) });
    expect(bus.read(0x300, 1)).toBe(0xff);
    expect(bus.read(0x300, 2)).toBe(0xffff);
    expect(bus.read(0x300, 4)).toBe(0xffffffff);
    bus.write(0x301, 2, 0x1abcd);
    expect(seen).toEqual([
      { write: false, port: 0x300, size: 1, value: 0xff },
      { write: false, port: 0x300, size: 2, value: 0xffff },
      { write: false, port: 0x300, size: 4, value: 0xffffffff },
      { write: true, port: 0x301, size: 2, value: 0xabcd },
    ]);
  });

  it('works without a callback', () => {
    const bus = new IoBus();
    expect(bus.read(0x1234, 4)).toBe(0xffffffff);
    expect(() => bus.write(0x1234, 1, 5)).not.toThrow();
  });

  it('dispatches whole accesses by first port and masks values', () => {
    const bus = new IoBus();
    const dev = new Recorder();
    bus.register(0x510, 2, dev);
    expect(bus.read(0x510, 1)).toBe(0x78);
    expect(bus.read(0x511, 2)).toBe(0x5678);
    bus.write(0x510, 2, 0xfff0001);
    expect(dev.log).toEqual(['r 510 1', 'r 511 2', 'w 510 2 1']);
    expect(bus.deviceAt(0x511)).toBe(dev);
    expect(bus.deviceAt(0x512)).toBeUndefined();
  });

  it('wraps port numbers to 16 bits', () => {
    const bus = new IoBus();
    const dev = new Recorder();
    bus.register(0, 1, dev);
    bus.read(0x10000, 1);
    expect(dev.log).toEqual(['r 0 1']);
  });

  it('rejects overlapping and out-of-range registrations', () => {
    const bus = new IoBus();
    bus.register(0x3f8, 8, new Recorder());
    expect(() => bus.register(0x3ff, 2, new Recorder())).toThrow(/already mapped/);
    expect(() => bus.register(0xffff, 2, new Recorder())).toThrow(RangeError);
    expect(() => bus.register(0x10, 0, new Recorder())).toThrow(RangeError);
  });

  it('attaches self-describing devices at every declared range', () => {
    const bus = new IoBus();
    const rec = new Recorder();
    const dev: PortMapped = {
      portRanges: [
        [0x20, 2],
        [0xa0, 2],
      ],
      ioRead: (p, s) => rec.ioRead(p, s),
      ioWrite: (p, s, v) => rec.ioWrite(p, s, v),
    };
    bus.attach(dev);
    expect(bus.deviceAt(0x21)).toBe(dev);
    expect(bus.deviceAt(0xa1)).toBe(dev);
    expect(bus.deviceAt(0x22)).toBeUndefined();
  });

  it('ioMask', () => {
    expect([ioMask(1), ioMask(2), ioMask(4)]).toEqual([0xff, 0xffff, 0xffffffff]);
  });

  it('saves and restores (wiring only)', () => {
    const bus = new IoBus();
    const s = bus.save();
    expect(s).toEqual({ version: 1 });
    bus.restore(JSON.parse(JSON.stringify(s)));
    expect(() => bus.restore({ version: 2 })).toThrow();
  });
});

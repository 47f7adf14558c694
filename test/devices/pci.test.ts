import { describe, expect, it } from 'vitest';
import { IoBus } from '../../core/devices/iobus.js';
import { PciHostBridge } from '../../core/devices/pci.js';

function setup() {
  const bus = new IoBus();
  const pci = new PciHostBridge();
  bus.attach(pci);
  return { bus, pci };
}

describe('PciHostBridge', () => {
  it('reads back CONFIG_ADDRESS for dword accesses (Linux type-1 probe)', () => {
    const { bus } = setup();
    expect(bus.read(0xcf8, 4)).toBe(0);
    bus.write(0xcf8, 4, 0x80000000);
    expect(bus.read(0xcf8, 4)).toBe(0x80000000);
    bus.write(0xcf8, 4, 0x8000f8ac);
    expect(bus.read(0xcf8, 4)).toBe(0x8000f8ac);
  });

  it('treats byte/word accesses to 0xCF8-0xCFB as ordinary empty I/O (type-2 probe fails)', () => {
    const { bus } = setup();
    bus.write(0xcf8, 4, 0x80000000);
    bus.write(0xcfb, 1, 0x00);
    bus.write(0xcf8, 1, 0x00);
    bus.write(0xcfa, 1, 0x00);
    expect(bus.read(0xcf8, 1)).toBe(0xff);
    expect(bus.read(0xcfa, 1)).toBe(0xff);
    expect(bus.read(0xcf8, 4)).toBe(0x80000000);
  });

  it('has no device: all config reads are all-ones, writes are ignored', () => {
    const { bus } = setup();
    for (let dev = 0; dev < 32; dev++) {
      bus.write(0xcf8, 4, 0x80000000 | (dev << 11));
      expect(bus.read(0xcfc, 4)).toBe(0xffffffff);
      expect(bus.read(0xcfe, 2)).toBe(0xffff);
      expect(bus.read(0xcff, 1)).toBe(0xff);
    }
    bus.write(0xcfc, 4, 0x12345678);
    expect(bus.read(0xcfc, 4)).toBe(0xffffffff);
  });

  it('saves and restores', () => {
    const { bus, pci } = setup();
    bus.write(0xcf8, 4, 0x80001234);
    const other = new PciHostBridge();
    other.restore(JSON.parse(JSON.stringify(pci.save())));
    expect(other.ioRead(0xcf8, 4)).toBe(0x80001234);
    expect(other.save()).toEqual(pci.save());
    other.reset();
    expect(other.configAddress()).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { FwCfg, FwCfgKey } from '../../core/devices/fwcfg.js';
import { IoBus } from '../../core/devices/iobus.js';

function setup(ramBytes = 6 * 1024 * 1024 * 1024 + 4096, cpus = 3) {
  const bus = new IoBus();
  const fw = new FwCfg({ ramBytes, cpus });
  bus.attach(fw);
  const select = (key: number) => bus.write(0x510, 2, key);
  const bytes = (n: number) => Array.from({ length: n }, () => bus.read(0x511, 1));
  return { bus, fw, select, bytes };
}

describe('FwCfg', () => {
  it('signature is "QEMU"', () => {
    const { select, bytes } = setup();
    select(FwCfgKey.SIGNATURE);
    expect(String.fromCharCode(...bytes(4))).toBe('QEMU');
  });

  it('FW_CFG_ID is 1 (traditional interface, no DMA)', () => {
    const { select, bytes } = setup();
    select(FwCfgKey.ID);
    expect(bytes(4)).toEqual([1, 0, 0, 0]);
  });

  it('RAM size is u64 little-endian', () => {
    const { select, bytes } = setup();
    select(FwCfgKey.RAM_SIZE);
    // 6 GiB + 4 KiB = 0x1_8000_1000
    expect(bytes(8)).toEqual([0x00, 0x10, 0x00, 0x80, 0x01, 0, 0, 0]);
  });

  it('CPU counts are u16 little-endian', () => {
    const { select, bytes } = setup(1 << 27, 0x102);
    select(FwCfgKey.NB_CPUS);
    expect(bytes(2)).toEqual([2, 1]);
    select(FwCfgKey.MAX_CPUS);
    expect(bytes(2)).toEqual([2, 1]);
  });

  it('reads past the end and unknown keys return 0; selecting rewinds', () => {
    const { select, bytes } = setup();
    select(FwCfgKey.SIGNATURE);
    expect(bytes(6)).toEqual([0x51, 0x45, 0x4d, 0x55, 0, 0]);
    select(0x0019);
    expect(bytes(4)).toEqual([0, 0, 0, 0]);
    select(FwCfgKey.SIGNATURE);
    expect(bytes(1)).toEqual([0x51]);
  });

  it('byte writes do not select; wide reads return consecutive bytes', () => {
    const { bus, select } = setup();
    select(FwCfgKey.SIGNATURE);
    bus.write(0x510, 1, 1);
    bus.write(0x511, 1, 1);
    expect(bus.read(0x511, 4)).toBe(0x554d4551);
  });

  it('saves and restores mid-item', () => {
    const a = setup();
    a.select(FwCfgKey.SIGNATURE);
    a.bytes(2);
    const b = setup();
    b.fw.restore(JSON.parse(JSON.stringify(a.fw.save())));
    expect(b.bytes(2)).toEqual(a.bytes(2));
    expect(b.fw.save()).toEqual(a.fw.save());
  });

  it('validates its configuration', () => {
    expect(() => new FwCfg({ ramBytes: -1, cpus: 1 })).toThrow();
    expect(() => new FwCfg({ ramBytes: 1 << 20, cpus: 0 })).toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import { IoBus } from '../../core/devices/iobus.js';
import { MiscPorts } from '../../core/devices/misc.js';
import { ManualClock } from './helpers.js';

function setup(opts: { pitOut2?: () => boolean } = {}) {
  const clock = new ManualClock();
  const resets: number[] = [];
  const bus = new IoBus();
  const misc = new MiscPorts({ clock, onReset: () => resets.push(clock.t), ...opts });
  bus.attach(misc);
  return { clock, bus, misc, resets };
}

describe('MiscPorts', () => {
  it('port 0x80 latches POST codes', () => {
    const { bus, misc } = setup();
    bus.write(0x80, 1, 0x42);
    expect(misc.lastPostCode()).toBe(0x42);
    expect(bus.read(0x80, 1)).toBe(0x42);
  });

  it('port 0x61: control bits read back, refresh toggles with virtual time, OUT2 high without a PIT', () => {
    const { clock, bus } = setup();
    bus.write(0x61, 1, 0xff);
    clock.t = 0;
    expect(bus.read(0x61, 1)).toBe(0x2f);
    clock.t = 15_085;
    expect(bus.read(0x61, 1)).toBe(0x3f);
    clock.t = 30_170;
    expect(bus.read(0x61, 1)).toBe(0x2f);
    bus.write(0x61, 1, 0x01);
    expect(bus.read(0x61, 1) & 0x0f).toBe(0x01);
  });

  it('port 0x61 OUT2 can come from a PIT', () => {
    let out = false;
    const { bus } = setup({ pitOut2: () => out });
    expect(bus.read(0x61, 1) & 0x20).toBe(0);
    out = true;
    expect(bus.read(0x61, 1) & 0x20).toBe(0x20);
  });

  it('port 0x92: A20 on, fast reset pulses call back and never read back', () => {
    const { clock, bus, resets } = setup();
    expect(bus.read(0x92, 1)).toBe(0x02);
    clock.t = 77;
    bus.write(0x92, 1, 0x03);
    expect(resets).toEqual([77]);
    expect(bus.read(0x92, 1)).toBe(0x02);
  });

  it('saves and restores', () => {
    const a = setup();
    a.bus.write(0x80, 1, 0x99);
    a.bus.write(0x61, 1, 0x03);
    a.bus.write(0x92, 1, 0x00);
    const b = setup();
    b.misc.restore(JSON.parse(JSON.stringify(a.misc.save())));
    expect(b.misc.save()).toEqual(a.misc.save());
    for (const p of [0x80, 0x61, 0x92]) expect(b.bus.read(p, 1)).toBe(a.bus.read(p, 1));
    b.misc.reset();
    expect(b.bus.read(0x92, 1)).toBe(0x02);
  });
});

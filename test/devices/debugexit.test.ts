import { describe, expect, it } from 'vitest';
import { DEBUG_EXIT_PORT, DebugExit } from '../../core/devices/debugexit.js';
import { IoBus } from '../../core/devices/iobus.js';

describe('DebugExit', () => {
  it('reports every written value and reads as all-ones', () => {
    const exits: number[] = [];
    const bus = new IoBus();
    const dev = new DebugExit({ onExit: (v) => exits.push(v) });
    bus.attach(dev);
    expect(dev.portRanges).toEqual([[DEBUG_EXIT_PORT, 4]]);
    bus.write(0xf4, 4, 0x31);
    bus.write(0xf4, 1, 0);
    bus.write(0xf4, 4, 0xffffffff);
    expect(exits).toEqual([0x31, 0, 0xffffffff]);
    expect(bus.read(0xf4, 4)).toBe(0xffffffff);
    expect(bus.read(0xf4, 1)).toBe(0xff);
    expect(bus.read(0xf7, 2)).toBe(0xffff);
  });

  it('saves and restores', () => {
    const dev = new DebugExit({ onExit: () => {} });
    const s = dev.save();
    const other = new DebugExit({ onExit: () => {} });
    other.restore(JSON.parse(JSON.stringify(s)));
    expect(other.save()).toEqual(s);
  });
});

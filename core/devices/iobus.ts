// The x86 I/O port space (64 Ki byte-wide ports) and the dispatch of IN/OUT to devices.
//
// Decoding is by the FIRST port of an access: `in eax, 0xCFC` goes to whoever registered 0xCFC,
// and that device sees the full 4-byte access. Real chipsets split an access that straddles two
// devices, but no guest we run does that on purpose, and whole-access dispatch is what lets e.g.
// fw_cfg take a 16-bit selector write at 0x510 that also covers 0x511.

import type { IoSize, PortDevice, PortMapped, SavedSection, Saveable } from './types.js';

export const IO_PORT_COUNT = 0x10000;

/** All-ones for an access of `size` bytes: what a floating ISA bus returns. */
export function ioMask(size: IoSize): number {
  return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
}

export interface UnmappedAccess {
  readonly write: boolean;
  readonly port: number;
  readonly size: IoSize;
  /** The value written (masked), or for reads the all-ones value returned. */
  readonly value: number;
}

export interface IoBusOptions {
  /** Told about every access to an unmapped port; the machine decides what (and how much) to log. */
  onUnmapped?: (access: UnmappedAccess) => void;
}

export class IoBus implements Saveable {
  // One slot per port: a flat array is the fastest lookup for a 16-bit key and costs 512 KiB of
  // pointers at most, once per machine.
  private readonly slots: (PortDevice | undefined)[] = new Array<PortDevice | undefined>(IO_PORT_COUNT);
  private readonly onUnmapped: ((access: UnmappedAccess) => void) | undefined;

  constructor(options: IoBusOptions = {}) {
    this.onUnmapped = options.onUnmapped;
  }

  /**
   * Map ports [firstPort, firstPort + count) to `dev`. Overlaps are a machine-construction bug,
   * so they throw instead of silently shadowing a device.
   */
  register(firstPort: number, count: number, dev: PortDevice): void {
    if (!Number.isInteger(firstPort) || !Number.isInteger(count) || count <= 0 || firstPort < 0 || firstPort + count > IO_PORT_COUNT) {
      throw new RangeError(`IoBus.register: bad range 0x${firstPort.toString(16)}+${count}`);
    }
    for (let p = firstPort; p < firstPort + count; p++) {
      if (this.slots[p] !== undefined) throw new Error(`IoBus.register: port 0x${p.toString(16)} already mapped`);
    }
    for (let p = firstPort; p < firstPort + count; p++) this.slots[p] = dev;
  }

  /** Register every range a self-describing device declares. */
  attach(dev: PortMapped): void {
    for (const [first, count] of dev.portRanges) this.register(first, count, dev);
  }

  /** The device decoding `port`, if any (for the machine's diagnostics and tests). */
  deviceAt(port: number): PortDevice | undefined {
    return this.slots[port & 0xffff];
  }

  read(port: number, size: IoSize): number {
    port &= 0xffff;
    const mask = ioMask(size);
    const dev = this.slots[port];
    if (dev === undefined) {
      this.onUnmapped?.({ write: false, port, size, value: mask });
      return mask;
    }
    // Mask defensively: a device bug must not leak bits above the access width into a register.
    return (dev.ioRead(port, size) & mask) >>> 0;
  }

  write(port: number, size: IoSize, value: number): void {
    port &= 0xffff;
    const v = (value & ioMask(size)) >>> 0;
    const dev = this.slots[port];
    if (dev === undefined) {
      this.onUnmapped?.({ write: true, port, size, value: v });
      return;
    }
    dev.ioWrite(port, size, v);
  }

  // The bus holds only wiring, which the machine rebuilds identically; devices save themselves.
  save(): SavedSection {
    return { version: 1 };
  }

  restore(s: SavedSection): void {
    if (s.version !== 1) throw new Error(`IoBus: unsupported snapshot version ${String(s.version)}`);
  }
}

// PCI configuration mechanism #1 with an empty bus: the address register at 0xCF8 holds what the
// guest wrote, and every configuration read sees all-ones (vendor 0xFFFF = "no device").
//
// Only dword accesses reach CONFIG_ADDRESS, as on real host bridges; byte/word accesses to
// 0xCF8-0xCFB are ordinary I/O (nothing there). That also makes Linux's "type 2" probe fail
// cleanly, so it concludes there is no PCI.

import type { IoSize, PortMapped, PortRange, SavedSection, Saveable } from './types.js';
import { ioMask } from './iobus.js';

export const PCI_CONFIG_ADDRESS = 0xcf8;
export const PCI_CONFIG_DATA = 0xcfc;

/** CONFIG_ADDRESS fields: bit 31 enable, 23:16 bus, 15:11 device, 10:8 function, 7:2 register. */
export const PciAddr = { ENABLE: 0x80000000 } as const;

export class PciHostBridge implements PortMapped, Saveable {
  readonly portRanges: readonly PortRange[] = [[PCI_CONFIG_ADDRESS, 8]];
  private address = 0;

  reset(): void {
    this.address = 0;
  }

  /** Current CONFIG_ADDRESS (for the machine's debugger). */
  configAddress(): number {
    return this.address;
  }

  ioRead(port: number, size: IoSize): number {
    if (port === PCI_CONFIG_ADDRESS && size === 4) return this.address;
    return ioMask(size);
  }

  ioWrite(port: number, size: IoSize, value: number): void {
    // Stored verbatim, as QEMU does: the Linux probe writes 0x80000000 and expects it back.
    if (port === PCI_CONFIG_ADDRESS && size === 4) this.address = value >>> 0;
    // Config data writes: no device, nothing to write.
  }

  save(): SavedSection {
    return { version: 1, address: this.address };
  }

  restore(s: SavedSection): void {
    if (s.version !== 1) throw new Error(`PciHostBridge: unsupported snapshot version ${String(s.version)}`);
    this.address = s.address as number;
  }
}

// QEMU fw_cfg, traditional (non-DMA) I/O interface: a 16-bit selector write at 0x510 picks an
// item, then byte reads at 0x511 stream it. Only the handful of items a minimal guest probes are
// provided; unknown items read as zeros, as QEMU does for keys with no data.

import type { IoSize, PortMapped, PortRange, SavedSection, Saveable } from './types.js';

export const FW_CFG_SELECTOR_PORT = 0x510;
export const FW_CFG_DATA_PORT = 0x511;

/** Item keys (docs/specs/fw_cfg.rst in QEMU). */
export const FwCfgKey = {
  SIGNATURE: 0x0000,
  ID: 0x0001,
  RAM_SIZE: 0x0003,
  NB_CPUS: 0x0005,
  MAX_CPUS: 0x000f,
} as const;

/** FW_CFG_ID feature bits: bit 0 traditional interface, bit 1 DMA (not offered). */
export const FwCfgFeature = { TRADITIONAL: 1, DMA: 2 } as const;

export interface FwCfgOptions {
  ramBytes: number;
  cpus: number;
}

function u16le(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff);
}

function u32le(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
}

function u64le(v: number): Uint8Array {
  // RAM sizes are integers below 2^53, so splitting with division is exact.
  const lo = v % 0x1_0000_0000;
  const hi = Math.floor(v / 0x1_0000_0000);
  const out = new Uint8Array(8);
  out.set(u32le(lo), 0);
  out.set(u32le(hi), 4);
  return out;
}

export class FwCfg implements PortMapped, Saveable {
  readonly portRanges: readonly PortRange[] = [[FW_CFG_SELECTOR_PORT, 2]];
  private readonly items: ReadonlyMap<number, Uint8Array>;
  private key = 0;
  private offset = 0;

  constructor(options: FwCfgOptions) {
    if (!Number.isSafeInteger(options.ramBytes) || options.ramBytes < 0) throw new RangeError('FwCfg: bad ramBytes');
    if (!Number.isInteger(options.cpus) || options.cpus < 1 || options.cpus > 0xffff) throw new RangeError('FwCfg: bad cpus');
    this.items = new Map<number, Uint8Array>([
      [FwCfgKey.SIGNATURE, Uint8Array.of(0x51, 0x45, 0x4d, 0x55)], // "QEMU"
      [FwCfgKey.ID, u32le(FwCfgFeature.TRADITIONAL)],
      [FwCfgKey.RAM_SIZE, u64le(options.ramBytes)],
      [FwCfgKey.NB_CPUS, u16le(options.cpus)],
      [FwCfgKey.MAX_CPUS, u16le(options.cpus)],
    ]);
  }

  reset(): void {
    this.key = 0;
    this.offset = 0;
  }

  ioRead(_port: number, size: IoSize): number {
    // Like QEMU's combined x86 region, a read at either port returns data. Wider reads return
    // consecutive item bytes, little-endian.
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.nextByte() << (8 * i);
    return v >>> 0;
  }

  ioWrite(port: number, size: IoSize, value: number): void {
    // A 16-bit write at the selector port selects; byte writes are data writes, which the
    // traditional interface no longer supports (QEMU ignores them).
    if (port === FW_CFG_SELECTOR_PORT && size >= 2) {
      this.key = value & 0xffff;
      this.offset = 0;
    }
  }

  private nextByte(): number {
    const data = this.items.get(this.key);
    if (data === undefined || this.offset >= data.length) return 0;
    return data[this.offset++] as number;
  }

  save(): SavedSection {
    return { version: 1, key: this.key, offset: this.offset };
  }

  restore(s: SavedSection): void {
    if (s.version !== 1) throw new Error(`FwCfg: unsupported snapshot version ${String(s.version)}`);
    this.key = s.key as number;
    this.offset = s.offset as number;
  }
}

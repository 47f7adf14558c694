// MC146818-style CMOS RTC + 128 bytes of NVRAM at 0x70 (index; bit 7 = NMI disable) / 0x71 (data).
//
// The wall clock is virtual: it starts at a fixed instant (2024-01-01 00:00:00 by default) and
// advances with the machine clock, one RTC second per 10^9 virtual ns, so two runs of the same
// guest read the same times. The update cycle is not modelled: UIP (register A bit 7) never
// reads as set, which is allowed (firmware and Linux only wait while it IS set) and keeps reads
// consistent. No RTC interrupt sources are modelled, so register C always reads 0.

import type { Clock, IoSize, PortMapped, PortRange, SavedSection, Saveable } from './types.js';

export const CMOS_INDEX_PORT = 0x70;
export const CMOS_DATA_PORT = 0x71;

/** CMOS register indices. */
export const CmosReg = {
  SECONDS: 0x00,
  SECONDS_ALARM: 0x01,
  MINUTES: 0x02,
  MINUTES_ALARM: 0x03,
  HOURS: 0x04,
  HOURS_ALARM: 0x05,
  DAY_OF_WEEK: 0x06,
  DAY_OF_MONTH: 0x07,
  MONTH: 0x08,
  YEAR: 0x09,
  REG_A: 0x0a,
  REG_B: 0x0b,
  REG_C: 0x0c,
  REG_D: 0x0d,
  BASE_MEM_LO: 0x15,
  BASE_MEM_HI: 0x16,
  EXT_MEM_LO: 0x17,
  EXT_MEM_HI: 0x18,
  CHECKSUM_HI: 0x2e,
  CHECKSUM_LO: 0x2f,
  EXT_MEM_COPY_LO: 0x30,
  EXT_MEM_COPY_HI: 0x31,
  CENTURY: 0x32,
  EXT_MEM2_LO: 0x34,
  EXT_MEM2_HI: 0x35,
} as const;

export const RegB = { SET: 0x80, PIE: 0x40, AIE: 0x20, UIE: 0x10, SQWE: 0x08, DM_BINARY: 0x04, HOUR_24: 0x02, DSE: 0x01 } as const;
export const RegD = { VRT: 0x80 } as const;
/** Register A default: 32.768 kHz time base, 1024 Hz periodic rate (what firmware programs). */
export const REG_A_DEFAULT = 0x26;
export const REG_B_DEFAULT = RegB.HOUR_24;

/** 2024-01-01T00:00:00Z in seconds since the Unix epoch. */
export const CMOS_DEFAULT_START = 1_704_067_200;

const NS_PER_SECOND = 1_000_000_000;
const SECONDS_PER_DAY = 86_400;

// Proleptic Gregorian calendar <-> day number (days since 1970-01-01), after H. Hinnant's
// public-domain algorithms: exact integer arithmetic, no host time library involved.
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

interface BrokenDown {
  second: number;
  minute: number;
  hour: number;
  day: number;
  month: number;
  year: number; // full year, e.g. 2024
}

function breakDown(t: number): BrokenDown {
  const days = Math.floor(t / SECONDS_PER_DAY);
  const sod = t - days * SECONDS_PER_DAY;
  const { year, month, day } = civilFromDays(days);
  return { second: sod % 60, minute: Math.floor(sod / 60) % 60, hour: Math.floor(sod / 3600), day, month, year };
}

function compose(b: BrokenDown): number {
  return daysFromCivil(b.year, b.month, b.day) * SECONDS_PER_DAY + b.hour * 3600 + b.minute * 60 + b.second;
}

function toBcd(v: number): number {
  return ((Math.floor(v / 10) % 10) << 4) | (v % 10);
}

function fromBcd(v: number): number {
  return (v >> 4) * 10 + (v & 0x0f);
}

export interface CmosOptions {
  clock: Clock;
  ramBytes: number;
  /** RTC time at virtual time 0, in seconds since the Unix epoch (UTC). */
  startSeconds?: number;
}

export class Cmos implements PortMapped, Saveable {
  readonly portRanges: readonly PortRange[] = [[CMOS_INDEX_PORT, 2]];
  private readonly clock: Clock;
  private readonly ramBytes: number;
  private readonly startSeconds: number;
  private nvram = new Uint8Array(128);
  private index = 0;
  private nmiDisabled = false;
  /** Guest adjustments to the clock (seconds), from writes to the time registers. */
  private offsetSeconds = 0;
  /**
   * While register B's SET bit is on, the time stands still and the guest edits these fields one
   * at a time; they are only normalised into a time when SET is cleared, so an intermediate
   * combination such as "February 29" of the old year is not folded into March 1.
   */
  private frozen: BrokenDown | null = null;

  constructor(options: CmosOptions) {
    this.clock = options.clock;
    this.ramBytes = options.ramBytes;
    this.startSeconds = options.startSeconds ?? CMOS_DEFAULT_START;
    this.reset();
  }

  /** Power-on contents: what a BIOS leaves behind for the OS. */
  reset(): void {
    this.nvram = new Uint8Array(128);
    this.index = 0;
    this.nmiDisabled = false;
    this.offsetSeconds = 0;
    this.frozen = null;
    const n = this.nvram;
    n[CmosReg.REG_A] = REG_A_DEFAULT;
    n[CmosReg.REG_B] = REG_B_DEFAULT;
    // Conventional memory: 640 KiB.
    n[CmosReg.BASE_MEM_LO] = 640 & 0xff;
    n[CmosReg.BASE_MEM_HI] = 640 >> 8;
    // Extended memory above 1 MiB in KiB, saturating at 0xFFFF (~64 MiB) as the field is 16 bits.
    const extKb = Math.min(0xffff, Math.max(0, Math.floor(this.ramBytes / 1024) - 1024));
    n[CmosReg.EXT_MEM_LO] = extKb & 0xff;
    n[CmosReg.EXT_MEM_HI] = extKb >> 8;
    n[CmosReg.EXT_MEM_COPY_LO] = extKb & 0xff;
    n[CmosReg.EXT_MEM_COPY_HI] = extKb >> 8;
    // Memory above 16 MiB in 64 KiB units (the SeaBIOS/QEMU convention), saturating.
    const mb16 = 16 * 1024 * 1024;
    const ext2 = this.ramBytes > mb16 ? Math.min(0xffff, Math.floor((this.ramBytes - mb16) / 65_536)) : 0;
    n[CmosReg.EXT_MEM2_LO] = ext2 & 0xff;
    n[CmosReg.EXT_MEM2_HI] = ext2 >> 8;
    this.updateChecksum();
  }

  /** NMI disable bit (port 0x70 bit 7), for the machine's NMI routing. */
  nmiMasked(): boolean {
    return this.nmiDisabled;
  }

  /** Current RTC time in seconds since the Unix epoch. */
  rtcSeconds(): number {
    if (this.frozen !== null) return compose(this.frozen);
    return this.startSeconds + this.offsetSeconds + Math.floor(this.clock.nowNs() / NS_PER_SECOND);
  }

  ioRead(port: number, _size: IoSize): number {
    // The index register is write-only on the chipset; QEMU reads it as 0xFF.
    if (port === CMOS_INDEX_PORT) return 0xff;
    return this.readReg(this.index);
  }

  ioWrite(port: number, _size: IoSize, value: number): void {
    if (port === CMOS_INDEX_PORT) {
      this.index = value & 0x7f;
      this.nmiDisabled = (value & 0x80) !== 0;
      return;
    }
    this.writeReg(this.index, value & 0xff);
  }

  private binary(): boolean {
    return ((this.nvram[CmosReg.REG_B] as number) & RegB.DM_BINARY) !== 0;
  }

  private encode(v: number): number {
    return this.binary() ? v : toBcd(v);
  }

  private decode(v: number): number {
    return this.binary() ? v : fromBcd(v);
  }

  private encodeHour(h: number): number {
    if (((this.nvram[CmosReg.REG_B] as number) & RegB.HOUR_24) !== 0) return this.encode(h);
    // 12-hour mode: 1..12 with bit 7 = PM.
    return this.encode(h % 12 === 0 ? 12 : h % 12) | (h >= 12 ? 0x80 : 0);
  }

  private decodeHour(v: number): number {
    if (((this.nvram[CmosReg.REG_B] as number) & RegB.HOUR_24) !== 0) return this.decode(v);
    const h12 = this.decode(v & 0x7f) % 12;
    return (v & 0x80) !== 0 ? h12 + 12 : h12;
  }

  private readReg(i: number): number {
    const t = this.frozen ?? breakDown(this.rtcSeconds());
    switch (i) {
      case CmosReg.SECONDS:
        return this.encode(t.second);
      case CmosReg.MINUTES:
        return this.encode(t.minute);
      case CmosReg.HOURS:
        return this.encodeHour(t.hour);
      case CmosReg.DAY_OF_WEEK: {
        // 1 = Sunday; day 0 of the Unix epoch was a Thursday.
        const days = Math.floor(this.rtcSeconds() / SECONDS_PER_DAY);
        return this.encode((((days + 4) % 7) + 7) % 7 + 1);
      }
      case CmosReg.DAY_OF_MONTH:
        return this.encode(t.day);
      case CmosReg.MONTH:
        return this.encode(t.month);
      case CmosReg.YEAR:
        return this.encode(t.year % 100);
      case CmosReg.CENTURY:
        return this.encode(Math.floor(t.year / 100));
      case CmosReg.REG_A:
        return (this.nvram[i] as number) & 0x7f; // UIP never set
      case CmosReg.REG_C:
        return 0; // no interrupt flags: no RTC interrupt sources are modelled
      case CmosReg.REG_D:
        return RegD.VRT; // battery good, RAM valid
      default:
        return this.nvram[i] as number;
    }
  }

  private writeReg(i: number, v: number): void {
    switch (i) {
      case CmosReg.SECONDS:
        this.setField((b) => {
          b.second = this.decode(v) % 60;
        });
        return;
      case CmosReg.MINUTES:
        this.setField((b) => {
          b.minute = this.decode(v) % 60;
        });
        return;
      case CmosReg.HOURS:
        this.setField((b) => {
          b.hour = this.decodeHour(v) % 24;
        });
        return;
      case CmosReg.DAY_OF_WEEK:
        return; // derived from the date
      case CmosReg.DAY_OF_MONTH:
        this.setField((b) => {
          b.day = Math.max(1, this.decode(v));
        });
        return;
      case CmosReg.MONTH:
        this.setField((b) => {
          b.month = Math.min(12, Math.max(1, this.decode(v)));
        });
        return;
      case CmosReg.YEAR:
        this.setField((b) => {
          b.year = Math.floor(b.year / 100) * 100 + (this.decode(v) % 100);
        });
        return;
      case CmosReg.CENTURY:
        this.setField((b) => {
          b.year = this.decode(v) * 100 + (b.year % 100);
        });
        return;
      case CmosReg.REG_A:
        this.nvram[i] = v & 0x7f;
        return;
      case CmosReg.REG_B: {
        const old = this.nvram[i] as number;
        if ((v & RegB.SET) !== 0 && (old & RegB.SET) === 0) {
          this.frozen = breakDown(this.rtcSeconds());
        } else if ((v & RegB.SET) === 0 && (old & RegB.SET) !== 0) {
          // Clearing SET restarts the clock from whatever the guest wrote meanwhile.
          const t = compose(this.frozen ?? breakDown(this.rtcSeconds()));
          this.frozen = null;
          this.setSeconds(t);
        }
        this.nvram[i] = v;
        return;
      }
      case CmosReg.REG_C:
      case CmosReg.REG_D:
        return; // read-only
      default:
        this.nvram[i] = v;
        return;
    }
  }

  /** Rewrite one calendar field, keeping the others, and carry the new time forward. */
  private setField(edit: (b: BrokenDown) => void): void {
    if (this.frozen !== null) {
      edit(this.frozen);
      return;
    }
    const b = breakDown(this.rtcSeconds());
    edit(b);
    this.setSeconds(compose(b));
  }

  private setSeconds(t: number): void {
    this.offsetSeconds = t - this.startSeconds - Math.floor(this.clock.nowNs() / NS_PER_SECOND);
  }

  private updateChecksum(): void {
    // Standard AT checksum: 16-bit sum of bytes 0x10-0x2D, stored big-endian at 0x2E/0x2F.
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += this.nvram[i] as number;
    this.nvram[CmosReg.CHECKSUM_HI] = (sum >> 8) & 0xff;
    this.nvram[CmosReg.CHECKSUM_LO] = sum & 0xff;
  }

  save(): SavedSection {
    return {
      version: 1,
      nvram: Array.from(this.nvram),
      index: this.index,
      nmiDisabled: this.nmiDisabled,
      offsetSeconds: this.offsetSeconds,
      frozen: this.frozen === null ? null : { ...this.frozen },
    };
  }

  restore(s: SavedSection): void {
    if (s.version !== 1) throw new Error(`Cmos: unsupported snapshot version ${String(s.version)}`);
    this.nvram = Uint8Array.from(s.nvram as number[]);
    this.index = s.index as number;
    this.nmiDisabled = s.nmiDisabled as boolean;
    this.offsetSeconds = s.offsetSeconds as number;
    const f = s.frozen as BrokenDown | null;
    this.frozen = f === null ? null : { ...f };
  }
}

// Small motherboard ports that guests touch during boot and only need harmless answers:
//   0x80  POST code / I/O delay port: writes are latched (for the debugger) and otherwise ignored.
//   0x61  System control port B: speaker/gate bits read back, bit 4 toggles like DRAM refresh
//         (some delay loops spin on it), bit 5 reports PIT channel 2 OUT.
//   0x92  System control port A: A20 (always on in vsmrr) and the fast-reset bit.

import type { Clock, IoSize, PortMapped, PortRange, SavedSection, Saveable } from './types.js';

export const POST_PORT = 0x80;
export const SYS_CTRL_B_PORT = 0x61;
export const SYS_CTRL_A_PORT = 0x92;

export const PortB = { GATE2: 0x01, SPKR: 0x02, PCHK_DIS: 0x04, IOCHK_DIS: 0x08, REFRESH: 0x10, OUT2: 0x20 } as const;
export const PortA = { FAST_RESET: 0x01, A20: 0x02 } as const;

/** Half-period of the refresh-request toggle on PC/AT boards (15.085 us). */
const REFRESH_TOGGLE_NS = 15_085;

export interface MiscPortsOptions {
  clock: Clock;
  /**
   * Level of PIT channel 2's OUT, if a PIT is ever modelled. Without one it reads 1: Linux's PIT
   * TSC calibration spins until OUT2 goes high with no bound, and gives up cleanly when it is
   * high at once.
   */
  pitOut2?: () => boolean;
  /** Called when the guest pulses the fast-reset bit of port 0x92. */
  onReset?: () => void;
}

export class MiscPorts implements PortMapped, Saveable {
  readonly portRanges: readonly PortRange[] = [
    [SYS_CTRL_B_PORT, 1],
    [POST_PORT, 1],
    [SYS_CTRL_A_PORT, 1],
  ];
  private readonly clock: Clock;
  private readonly pitOut2: () => boolean;
  private readonly onReset: (() => void) | undefined;
  private postCode = 0;
  private portB = 0;
  private portA: number = PortA.A20;

  constructor(options: MiscPortsOptions) {
    this.clock = options.clock;
    this.pitOut2 = options.pitOut2 ?? (() => true);
    this.onReset = options.onReset;
  }

  reset(): void {
    this.postCode = 0;
    this.portB = 0;
    this.portA = PortA.A20;
  }

  /** Last POST code written to port 0x80. */
  lastPostCode(): number {
    return this.postCode;
  }

  ioRead(port: number, _size: IoSize): number {
    switch (port) {
      case POST_PORT:
        return this.postCode;
      case SYS_CTRL_B_PORT: {
        let v = this.portB & 0x0f;
        if (Math.floor(this.clock.nowNs() / REFRESH_TOGGLE_NS) % 2 === 1) v |= PortB.REFRESH;
        if (this.pitOut2()) v |= PortB.OUT2;
        return v; // bits 7:6 (parity / IOCHK errors) never set
      }
      case SYS_CTRL_A_PORT:
        return this.portA;
      default:
        return 0xff;
    }
  }

  ioWrite(port: number, _size: IoSize, value: number): void {
    const v = value & 0xff;
    switch (port) {
      case POST_PORT:
        this.postCode = v;
        return;
      case SYS_CTRL_B_PORT:
        this.portB = v & 0x0f;
        return;
      case SYS_CTRL_A_PORT:
        // The reset bit is a pulse: it never reads back as set.
        this.portA = v & ~PortA.FAST_RESET & 0xff;
        if ((v & PortA.FAST_RESET) !== 0) this.onReset?.();
        return;
      default:
        return;
    }
  }

  save(): SavedSection {
    return { version: 1, postCode: this.postCode, portB: this.portB, portA: this.portA };
  }

  restore(s: SavedSection): void {
    if (s.version !== 1) throw new Error(`MiscPorts: unsupported snapshot version ${String(s.version)}`);
    this.postCode = s.postCode as number;
    this.portB = s.portB as number;
    this.portA = s.portA as number;
  }
}

// Legacy 8259A pair (master 0x20/0x21, slave 0xA0/0xA1) plus the ELCR (0x4D0/0x4D1).
//
// vsmrr routes no legacy IRQs yet: nothing ever raises an IRR bit, so this model is only the
// programming interface. It still has to be faithful enough that guests can initialise and mask
// it: Linux, for instance, writes a probe value to the master IMR and falls back to a "null PIC"
// unless it reads the same value back. IRR and ISR therefore always read 0 and OCW2 EOIs are
// no-ops, but ICW1-4 sequencing, IMR, OCW3 read-register selection, poll and special mask mode
// are kept as the chip keeps them.

import type { IoSize, PortMapped, PortRange, SavedSection, Saveable } from './types.js';

export const PIC_MASTER_CMD = 0x20;
export const PIC_MASTER_DATA = 0x21;
export const PIC_SLAVE_CMD = 0xa0;
export const PIC_SLAVE_DATA = 0xa1;
export const PIC_ELCR_MASTER = 0x4d0;
export const PIC_ELCR_SLAVE = 0x4d1;

export const Icw1 = { IC4: 0x01, SNGL: 0x02, LTIM: 0x08, INIT: 0x10 } as const;
export const Icw4 = { UPM: 0x01, AEOI: 0x02 } as const;
export const Ocw3 = { RIS: 0x01, RR: 0x02, POLL: 0x04, IS_OCW3: 0x08, SMM: 0x20, ESMM: 0x40 } as const;

/** Which initialization word the chip expects next on its data port. */
export const InitStep = { READY: 0, ICW2: 2, ICW3: 3, ICW4: 4 } as const;
type InitStepValue = (typeof InitStep)[keyof typeof InitStep];

/**
 * ELCR bits that exist: IRQ0/1/2 (master) and IRQ8/13 (slave) are always edge-triggered on the
 * PIIX, so those bits read 0.
 */
const ELCR_MASK = [0xf8, 0xde] as const;

interface Chip8259 {
  imr: number;
  step: InitStepValue;
  icw1: number;
  icw2: number;
  icw3: number;
  icw4: number;
  readIsr: boolean;
  poll: boolean;
  specialMask: boolean;
}

function newChip(): Chip8259 {
  // Power-on: IMR clear, as QEMU's reset leaves it (firmware masks everything right away).
  return { imr: 0, step: InitStep.READY, icw1: 0, icw2: 0, icw3: 0, icw4: 0, readIsr: false, poll: false, specialMask: false };
}

export class LegacyPic implements PortMapped, Saveable {
  readonly portRanges: readonly PortRange[] = [
    [PIC_MASTER_CMD, 2],
    [PIC_SLAVE_CMD, 2],
    [PIC_ELCR_MASTER, 2],
  ];
  private chips: [Chip8259, Chip8259] = [newChip(), newChip()];
  private elcr: [number, number] = [0, 0];

  reset(): void {
    this.chips = [newChip(), newChip()];
    this.elcr = [0, 0];
  }

  /** Interrupt mask of the master (0) or slave (1). */
  imr(chip: 0 | 1): number {
    return this.chips[chip].imr;
  }

  /** Vector of IRQ0 (master) / IRQ8 (slave) as programmed by ICW2, for when IRQs get routed. */
  vectorBase(chip: 0 | 1): number {
    return this.chips[chip].icw2 & 0xf8;
  }

  /** Edge/level control bits of the master (0) or slave (1). */
  elcrValue(chip: 0 | 1): number {
    return this.elcr[chip];
  }

  ioRead(port: number, _size: IoSize): number {
    if (port === PIC_ELCR_MASTER || port === PIC_ELCR_SLAVE) return this.elcr[port - PIC_ELCR_MASTER] as number;
    const chip = this.chips[port >= PIC_SLAVE_CMD ? 1 : 0];
    if ((port & 1) === 1) return chip.imr;
    if (chip.poll) {
      // Poll command answer: bit 7 = an interrupt is pending. Never, here.
      chip.poll = false;
      return 0;
    }
    // IRR or ISR, whichever OCW3 selected: both are always empty.
    return 0;
  }

  ioWrite(port: number, _size: IoSize, value: number): void {
    const v = value & 0xff;
    if (port === PIC_ELCR_MASTER || port === PIC_ELCR_SLAVE) {
      const i = port - PIC_ELCR_MASTER;
      this.elcr[i] = v & (ELCR_MASK[i] as number);
      return;
    }
    const chip = this.chips[port >= PIC_SLAVE_CMD ? 1 : 0];
    if ((port & 1) === 0) this.writeCommand(chip, v);
    else this.writeData(chip, v);
  }

  private writeCommand(chip: Chip8259, v: number): void {
    if ((v & Icw1.INIT) !== 0) {
      // ICW1 restarts initialization: the datasheet clears IMR, selects IRR for reads and leaves
      // special mask mode.
      chip.icw1 = v;
      chip.imr = 0;
      chip.readIsr = false;
      chip.poll = false;
      chip.specialMask = false;
      if ((v & Icw1.IC4) === 0) chip.icw4 = 0;
      chip.step = InitStep.ICW2;
      return;
    }
    if ((v & Ocw3.IS_OCW3) !== 0) {
      if ((v & Ocw3.RR) !== 0) chip.readIsr = (v & Ocw3.RIS) !== 0;
      if ((v & Ocw3.POLL) !== 0) chip.poll = true;
      if ((v & Ocw3.ESMM) !== 0) chip.specialMask = (v & Ocw3.SMM) !== 0;
      return;
    }
    // OCW2 (EOI / priority rotation): with an always-empty ISR there is nothing to change.
  }

  private writeData(chip: Chip8259, v: number): void {
    switch (chip.step) {
      case InitStep.ICW2:
        chip.icw2 = v;
        chip.step = (chip.icw1 & Icw1.SNGL) === 0 ? InitStep.ICW3 : this.afterIcw3(chip);
        return;
      case InitStep.ICW3:
        chip.icw3 = v;
        chip.step = this.afterIcw3(chip);
        return;
      case InitStep.ICW4:
        chip.icw4 = v;
        chip.step = InitStep.READY;
        return;
      default:
        chip.imr = v; // OCW1
        return;
    }
  }

  private afterIcw3(chip: Chip8259): InitStepValue {
    return (chip.icw1 & Icw1.IC4) !== 0 ? InitStep.ICW4 : InitStep.READY;
  }

  save(): SavedSection {
    return {
      version: 1,
      chips: this.chips.map((c) => ({ ...c })),
      elcr: [...this.elcr],
    };
  }

  restore(s: SavedSection): void {
    if (s.version !== 1) throw new Error(`LegacyPic: unsupported snapshot version ${String(s.version)}`);
    const chips = s.chips as Chip8259[];
    this.chips = [{ ...(chips[0] as Chip8259) }, { ...(chips[1] as Chip8259) }];
    const elcr = s.elcr as number[];
    this.elcr = [elcr[0] as number, elcr[1] as number];
  }
}

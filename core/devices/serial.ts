// NS16550A UART, as the Linux 8250 driver and kvm-unit-tests program it.
//
// Timing is not modelled: a byte written to THR is handed to the ByteSink at once, so the
// transmitter is always empty (LSR.THRE and LSR.TEMT stay set). That keeps output synchronous
// with the instruction that produced it, which is what a deterministic trace wants.
// Received bytes come from the machine through pushInput() into a FIFO of the real size
// (16 bytes with FCR.FIFOE, 1 byte otherwise), with the real overrun behaviour.

import type { ByteSink, IoSize, PortMapped, PortRange, SavedSection, Saveable } from './types.js';

export const COM1_BASE = 0x3f8;
export const COM1_IRQ = 4;

/** Register offsets from the base port. Several names share an offset (DLAB, read vs write). */
export const UartReg = {
  RBR_THR_DLL: 0,
  IER_DLM: 1,
  IIR_FCR: 2,
  LCR: 3,
  MCR: 4,
  LSR: 5,
  MSR: 6,
  SCR: 7,
} as const;

export const Ier = { ERBFI: 0x01, ETBEI: 0x02, ELSI: 0x04, EDSSI: 0x08 } as const;

/** IIR interrupt identification values (bit 0 clear = interrupt pending). */
export const Iir = {
  NO_INT: 0x01,
  MODEM_STATUS: 0x00,
  THR_EMPTY: 0x02,
  RX_DATA: 0x04,
  LINE_STATUS: 0x06,
  FIFO_ENABLED: 0xc0,
} as const;

export const Fcr = { ENABLE: 0x01, CLEAR_RX: 0x02, CLEAR_TX: 0x04 } as const;
export const Lcr = { DLAB: 0x80 } as const;
export const Mcr = { DTR: 0x01, RTS: 0x02, OUT1: 0x04, OUT2: 0x08, LOOP: 0x10 } as const;
export const Lsr = { DR: 0x01, OE: 0x02, PE: 0x04, FE: 0x08, BI: 0x10, THRE: 0x20, TEMT: 0x40, RXFE: 0x80 } as const;
export const Msr = { DCTS: 0x01, DDSR: 0x02, TERI: 0x04, DDCD: 0x08, CTS: 0x10, DSR: 0x20, RI: 0x40, DCD: 0x80 } as const;

const FIFO_DEPTH = 16;
/** With no loopback, the "other end" is a terminal that is present and ready (as QEMU reports). */
const EXTERNAL_MODEM_LINES = Msr.CTS | Msr.DSR | Msr.DCD;

export interface Serial16550Options {
  sink: ByteSink;
  /** First of the 8 ports; COM1 by default. */
  base?: number;
}

export class Serial16550 implements PortMapped, Saveable {
  readonly base: number;
  readonly portRanges: readonly PortRange[];
  private readonly sink: ByteSink;

  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private scr = 0;
  private dll = 0x0c; // 9600 baud, the usual firmware default; the value has no effect here.
  private dlm = 0;
  private fifoEnabled = false;
  private fcrTrigger = 0; // FCR bits 7:6, kept only so the guest state is complete
  private overrun = false; // LSR.OE, cleared by reading LSR
  private msrDelta = 0; // MSR bits 3:0, cleared by reading MSR
  private thrIPending = false; // the "THR empty" interrupt source, per 16550 rules
  private rx: number[] = [];

  constructor(options: Serial16550Options) {
    this.sink = options.sink;
    this.base = options.base ?? COM1_BASE;
    this.portRanges = [[this.base, 8]];
  }

  /** Power-on state (MR pin). */
  reset(): void {
    this.ier = 0;
    this.lcr = 0;
    this.mcr = 0;
    this.scr = 0;
    this.dll = 0x0c;
    this.dlm = 0;
    this.fifoEnabled = false;
    this.fcrTrigger = 0;
    this.overrun = false;
    this.msrDelta = 0;
    this.thrIPending = false;
    this.rx = [];
  }

  // ---- machine side ----

  /**
   * Queue one received byte. Returns false (and sets LSR.OE, dropping the byte, as the chip
   * does) when the receiver is full; the machine can use rxFree() to pace input instead.
   */
  pushInput(byte: number): boolean {
    if (this.rx.length >= this.rxCapacity()) {
      this.overrun = true;
      return false;
    }
    this.rx.push(byte & 0xff);
    return true;
  }

  /** Bytes the receiver can still take without overrun. */
  rxFree(): number {
    return this.rxCapacity() - this.rx.length;
  }

  /**
   * Level of the IRQ4 line. On PC boards OUT2 gates the UART's INTR pin onto the ISA IRQ (Linux
   * sets OUT2 for exactly this reason), and in loopback the chip forces OUT2 inactive.
   */
  irqLine(): boolean {
    return (this.mcr & (Mcr.OUT2 | Mcr.LOOP)) === Mcr.OUT2 && this.interruptPending();
  }

  /** The chip's INTR output before board gating (bit 0 of IIR clear). */
  interruptPending(): boolean {
    return this.currentIid() !== Iir.NO_INT;
  }

  // ---- guest side ----

  ioRead(port: number, size: IoSize): number {
    // Wider accesses return the addressed register in the low byte; the upper bytes come from the
    // floating bus, as on an ISA UART.
    const upper = size === 1 ? 0 : size === 2 ? 0xff00 : 0xffffff00;
    return (upper | this.readReg(port - this.base)) >>> 0;
  }

  ioWrite(port: number, _size: IoSize, value: number): void {
    this.writeReg(port - this.base, value & 0xff);
  }

  private readReg(off: number): number {
    const dlab = (this.lcr & Lcr.DLAB) !== 0;
    switch (off) {
      case UartReg.RBR_THR_DLL:
        if (dlab) return this.dll;
        // An empty receiver reads 0 (the holding register's stale value is not modelled).
        return this.rx.length > 0 ? (this.rx.shift() as number) : 0;
      case UartReg.IER_DLM:
        return dlab ? this.dlm : this.ier;
      case UartReg.IIR_FCR: {
        const iid = this.currentIid();
        // Reading IIR while it reports THR empty is what acknowledges that source (16550 rule).
        if (iid === Iir.THR_EMPTY) this.thrIPending = false;
        return iid | (this.fifoEnabled ? Iir.FIFO_ENABLED : 0);
      }
      case UartReg.LCR:
        return this.lcr;
      case UartReg.MCR:
        return this.mcr;
      case UartReg.LSR: {
        const v = this.lsr();
        this.overrun = false;
        return v;
      }
      case UartReg.MSR: {
        const v = this.modemLines() | this.msrDelta;
        this.msrDelta = 0;
        return v;
      }
      case UartReg.SCR:
        return this.scr;
      default:
        return 0xff;
    }
  }

  private writeReg(off: number, v: number): void {
    const dlab = (this.lcr & Lcr.DLAB) !== 0;
    switch (off) {
      case UartReg.RBR_THR_DLL:
        if (dlab) {
          this.dll = v;
        } else {
          this.transmit(v);
        }
        return;
      case UartReg.IER_DLM: {
        if (dlab) {
          this.dlm = v;
          return;
        }
        const old = this.ier;
        this.ier = v & 0x0f;
        // Enabling ETBEI while THR is empty raises the THR-empty interrupt at once (the driver's
        // "does THRE interrupt work" probe relies on it); disabling it drops the source.
        if ((this.ier & Ier.ETBEI) !== 0 && (old & Ier.ETBEI) === 0) this.thrIPending = true;
        if ((this.ier & Ier.ETBEI) === 0) this.thrIPending = false;
        return;
      }
      case UartReg.IIR_FCR: {
        const enable = (v & Fcr.ENABLE) !== 0;
        // Toggling FIFO mode resets both FIFOs, as on the chip.
        if (enable !== this.fifoEnabled) this.rx = [];
        this.fifoEnabled = enable;
        if ((v & Fcr.CLEAR_RX) !== 0) this.rx = [];
        // CLEAR_TX: the transmitter is always empty, nothing to do.
        this.fcrTrigger = enable ? (v >> 6) & 3 : 0;
        return;
      }
      case UartReg.LCR:
        this.lcr = v;
        return;
      case UartReg.MCR: {
        const before = this.modemLines();
        this.mcr = v & 0x1f;
        this.noteModemChange(before, this.modemLines());
        return;
      }
      case UartReg.LSR:
        // Factory-test register on the real part; writes are ignored.
        return;
      case UartReg.MSR:
        return;
      case UartReg.SCR:
        this.scr = v;
        return;
      default:
        return;
    }
  }

  private transmit(byte: number): void {
    // Writing THR clears the THR-empty source; the byte leaves immediately, so THR is empty
    // again at once and (if enabled) the source is raised again, exactly as QEMU does.
    this.thrIPending = false;
    if ((this.mcr & Mcr.LOOP) !== 0) {
      this.pushInput(byte);
    } else {
      this.sink(byte);
    }
    if ((this.ier & Ier.ETBEI) !== 0) this.thrIPending = true;
  }

  private rxCapacity(): number {
    return this.fifoEnabled ? FIFO_DEPTH : 1;
  }

  private lsr(): number {
    let v = Lsr.THRE | Lsr.TEMT;
    if (this.rx.length > 0) v |= Lsr.DR;
    if (this.overrun) v |= Lsr.OE;
    return v;
  }

  /** MSR bits 7:4. In loopback the modem inputs are wired to the MCR outputs (16550 datasheet). */
  private modemLines(): number {
    if ((this.mcr & Mcr.LOOP) === 0) return EXTERNAL_MODEM_LINES;
    let v = 0;
    if (this.mcr & Mcr.RTS) v |= Msr.CTS;
    if (this.mcr & Mcr.DTR) v |= Msr.DSR;
    if (this.mcr & Mcr.OUT1) v |= Msr.RI;
    if (this.mcr & Mcr.OUT2) v |= Msr.DCD;
    return v;
  }

  private noteModemChange(before: number, after: number): void {
    const changed = before ^ after;
    if (changed & Msr.CTS) this.msrDelta |= Msr.DCTS;
    if (changed & Msr.DSR) this.msrDelta |= Msr.DDSR;
    if (changed & Msr.DCD) this.msrDelta |= Msr.DDCD;
    // TERI is set only on the trailing edge of RI.
    if ((before & Msr.RI) !== 0 && (after & Msr.RI) === 0) this.msrDelta |= Msr.TERI;
  }

  /**
   * The highest-priority pending source, 16550 order: line status > received data > THR empty >
   * modem status. Received data is reported as "data available" as soon as one byte is present:
   * with no character timing, the FIFO timeout (IIR 0x0C) would be indistinguishable anyway, and
   * drivers treat both the same.
   */
  private currentIid(): number {
    if ((this.ier & Ier.ELSI) !== 0 && this.overrun) return Iir.LINE_STATUS;
    if ((this.ier & Ier.ERBFI) !== 0 && this.rx.length > 0) return Iir.RX_DATA;
    if ((this.ier & Ier.ETBEI) !== 0 && this.thrIPending) return Iir.THR_EMPTY;
    if ((this.ier & Ier.EDSSI) !== 0 && this.msrDelta !== 0) return Iir.MODEM_STATUS;
    return Iir.NO_INT;
  }

  save(): SavedSection {
    return {
      version: 1,
      ier: this.ier,
      lcr: this.lcr,
      mcr: this.mcr,
      scr: this.scr,
      dll: this.dll,
      dlm: this.dlm,
      fifoEnabled: this.fifoEnabled,
      fcrTrigger: this.fcrTrigger,
      overrun: this.overrun,
      msrDelta: this.msrDelta,
      thrIPending: this.thrIPending,
      rx: this.rx.slice(),
    };
  }

  restore(s: SavedSection): void {
    if (s.version !== 1) throw new Error(`Serial16550: unsupported snapshot version ${String(s.version)}`);
    this.ier = s.ier as number;
    this.lcr = s.lcr as number;
    this.mcr = s.mcr as number;
    this.scr = s.scr as number;
    this.dll = s.dll as number;
    this.dlm = s.dlm as number;
    this.fifoEnabled = s.fifoEnabled as boolean;
    this.fcrTrigger = s.fcrTrigger as number;
    this.overrun = s.overrun as boolean;
    this.msrDelta = s.msrDelta as number;
    this.thrIPending = s.thrIPending as boolean;
    this.rx = (s.rx as number[]).slice();
  }
}

import { describe, expect, it } from 'vitest';
import { IoBus } from '../../core/devices/iobus.js';
import { Serial16550 } from '../../core/devices/serial.js';

const B = 0x3f8;
const [RBR, IER, IIR, LCR, MCR, LSR, MSR, SCR] = [0, 1, 2, 3, 4, 5, 6, 7].map((o) => B + o) as number[] as [
  number, number, number, number, number, number, number, number,
];
const FCR = IIR;

function setup() {
  const out: number[] = [];
  const bus = new IoBus();
  const uart = new Serial16550({ sink: (b) => out.push(b) });
  bus.attach(uart);
  const r = (p: number) => bus.read(p, 1);
  const w = (p: number, v: number) => bus.write(p, 1, v);
  return { out, bus, uart, r, w };
}

describe('Serial16550', () => {
  it('transmits THR writes synchronously; transmitter always empty', () => {
    const { out, r, w } = setup();
    expect(r(LSR)).toBe(0x60);
    for (const c of 'hi\n') w(RBR, c.charCodeAt(0));
    expect(String.fromCharCode(...out)).toBe('hi\n');
    expect(r(LSR)).toBe(0x60);
  });

  it('DLAB switches offsets 0/1 to the divisor latch', () => {
    const { out, r, w } = setup();
    w(LCR, 0x83);
    w(RBR, 0x01);
    w(IER, 0x00);
    expect(r(RBR)).toBe(0x01);
    expect(r(IER)).toBe(0x00);
    w(LCR, 0x03);
    expect(out).toEqual([]);
    expect(r(LCR)).toBe(0x03);
    w(IER, 0xff);
    expect(r(IER)).toBe(0x0f);
  });

  it('reflects FIFO enable in IIR bits 7:6 (16550A detection)', () => {
    const { r, w } = setup();
    expect(r(IIR)).toBe(0x01);
    w(FCR, 0xc7);
    expect(r(IIR)).toBe(0xc1);
    // 64-byte FIFO bit (16750) is not implemented: IIR bit 5 stays clear.
    w(FCR, 0x21);
    expect(r(IIR) >> 5).toBe(6);
    w(FCR, 0);
    expect(r(IIR)).toBe(0x01);
  });

  it('loopback echoes THR into RBR and wires MCR to MSR', () => {
    const { out, r, w } = setup();
    expect(r(MSR) & 0xf0).toBe(0xb0); // external terminal: CTS, DSR, DCD
    w(MCR, 0x10 | 0x0a); // Linux autoconfig: LOOP | OUT2 | RTS
    expect(r(MSR) & 0xf0).toBe(0x90);
    w(RBR, 0x5a);
    expect(out).toEqual([]);
    expect(r(LSR) & 1).toBe(1);
    expect(r(RBR)).toBe(0x5a);
    expect(r(LSR) & 1).toBe(0);
    w(MCR, 0x1f);
    expect(r(MSR) & 0xf0).toBe(0xf0);
    w(MCR, 0x03);
    w(RBR, 0x41);
    expect(out).toEqual([0x41]);
  });

  it('MSR delta bits latch changes (TERI on trailing edge only) and clear on read', () => {
    const { r, w } = setup();
    w(MCR, 0x10);
    r(MSR);
    w(MCR, 0x10 | 0x04); // RI rises: no TERI
    expect(r(MSR)).toBe(0x40);
    w(MCR, 0x10); // RI falls: TERI
    expect(r(MSR)).toBe(0x04);
    expect(r(MSR)).toBe(0x00);
    w(MCR, 0x10 | 0x01 | 0x02 | 0x08);
    expect(r(MSR)).toBe(0x10 | 0x20 | 0x80 | 0x01 | 0x02 | 0x08);
  });

  it('queues input; 16-byte FIFO with FCR.FIFOE, 1-byte holding register without; overrun sets OE', () => {
    const { uart, r, w } = setup();
    expect(uart.pushInput(0x31)).toBe(true);
    expect(uart.rxFree()).toBe(0);
    expect(uart.pushInput(0x32)).toBe(false);
    expect(r(LSR)).toBe(0x63);
    expect(r(LSR)).toBe(0x61); // OE cleared by reading LSR
    expect(r(RBR)).toBe(0x31);
    expect(r(RBR)).toBe(0); // empty
    w(FCR, 0x01);
    for (let i = 0; i < 16; i++) expect(uart.pushInput(i)).toBe(true);
    expect(uart.pushInput(99)).toBe(false);
    for (let i = 0; i < 16; i++) expect(r(RBR)).toBe(i);
    expect(r(LSR) & 0x03).toBe(0x02);
  });

  it('FCR clear-receive empties the FIFO', () => {
    const { uart, r, w } = setup();
    w(FCR, 0x01);
    uart.pushInput(1);
    uart.pushInput(2);
    w(FCR, 0x03);
    expect(r(LSR) & 1).toBe(0);
  });

  it('IIR priorities: line status > received data > THR empty > modem status', () => {
    const { uart, r, w } = setup();
    w(MCR, 0x08);
    w(IER, 0x0f); // enabling ETBEI with THR empty raises THRE at once
    expect(r(IIR)).toBe(0x02);
    expect(r(IIR)).toBe(0x01); // reading IIR acknowledged THRE
    uart.pushInput(0x41);
    expect(r(IIR)).toBe(0x04);
    uart.pushInput(0x42); // overrun (no FIFO)
    expect(r(IIR)).toBe(0x06);
    r(LSR);
    expect(r(IIR)).toBe(0x04);
    r(RBR);
    expect(r(IIR)).toBe(0x01);
    w(RBR, 0x20); // writing THR: THR empty again at once, THRE re-raised
    expect(r(IIR)).toBe(0x02);
    expect(r(IIR)).toBe(0x01);
    w(MCR, 0x09); // outside loopback MCR does not drive the modem inputs: no delta
    expect(r(IIR)).toBe(0x01);
    w(MCR, 0x18); // entering loopback drops CTS and DSR: modem status interrupt
    expect(r(IIR)).toBe(0x00);
    r(MSR);
    expect(r(IIR)).toBe(0x01);
  });

  it('THRE source requires ETBEI and is dropped when ETBEI is cleared', () => {
    const { r, w } = setup();
    w(RBR, 0x20);
    w(IER, 0x00);
    expect(r(IIR)).toBe(0x01);
    w(IER, 0x02);
    w(IER, 0x00);
    w(IER, 0x01);
    expect(r(IIR)).toBe(0x01);
  });

  it('irqLine follows the interrupt, gated by OUT2 and forced off in loopback', () => {
    const { uart, r, w } = setup();
    w(IER, 0x01);
    uart.pushInput(1);
    expect(uart.interruptPending()).toBe(true);
    expect(uart.irqLine()).toBe(false);
    w(MCR, 0x0b);
    expect(uart.irqLine()).toBe(true);
    w(MCR, 0x1b);
    expect(uart.irqLine()).toBe(false);
    w(MCR, 0x0b);
    r(RBR);
    expect(uart.irqLine()).toBe(false);
  });

  it('Linux serial8250_startup THRE probe sees a working THRE interrupt', () => {
    const { r, w } = setup();
    w(IER, 0x02);
    const lsr = r(LSR);
    const iir = r(IIR);
    w(IER, 0);
    expect(lsr & 0x40).toBe(0x40);
    expect(iir & 0x01).toBe(0); // not UART_BUG_THRE
  });

  it('scratch register', () => {
    const { r, w } = setup();
    w(SCR, 0xa5);
    expect(r(SCR)).toBe(0xa5);
  });

  it('saves and restores an indistinguishable UART', () => {
    const a = setup();
    a.w(LCR, 0x80);
    a.w(RBR, 0x0c);
    a.w(LCR, 0x1b);
    a.w(FCR, 0x81);
    a.w(IER, 0x07);
    a.w(MCR, 0x0b);
    a.w(SCR, 0x77);
    a.uart.pushInput(0x61);
    a.uart.pushInput(0x62);
    const b = setup();
    b.uart.restore(JSON.parse(JSON.stringify(a.uart.save())));
    expect(b.uart.save()).toEqual(a.uart.save());
    const probe = (s: ReturnType<typeof setup>) => [
      s.r(IIR), s.r(LSR), s.r(RBR), s.r(IIR), s.r(RBR), s.r(IIR), s.r(LCR), s.r(MCR), s.r(SCR), s.uart.irqLine(),
    ];
    expect(probe(b)).toEqual(probe(a));
    expect(() => b.uart.restore({ version: 9 })).toThrow();
  });

  it('reset restores power-on state', () => {
    const { uart, r, w } = setup();
    w(IER, 0x0f);
    w(LCR, 0x03);
    uart.pushInput(1);
    uart.reset();
    expect([r(IER), r(LCR), r(LSR), r(IIR)]).toEqual([0, 0, 0x60, 0x01]);
  });

  it('supports another base port', () => {
    const out: number[] = [];
    const uart = new Serial16550({ sink: (b) => out.push(b), base: 0x2f8 });
    expect(uart.portRanges).toEqual([[0x2f8, 8]]);
    uart.ioWrite(0x2f8, 1, 0x33);
    expect(out).toEqual([0x33]);
    expect(uart.ioRead(0x2fd, 1)).toBe(0x60);
  });
});

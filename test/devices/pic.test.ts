import { describe, expect, it } from 'vitest';
import { IoBus } from '../../core/devices/iobus.js';
import { LegacyPic } from '../../core/devices/pic.js';

function setup() {
  const bus = new IoBus();
  const pic = new LegacyPic();
  bus.attach(pic);
  const r = (p: number) => bus.read(p, 1);
  const w = (p: number, v: number) => bus.write(p, 1, v);
  return { bus, pic, r, w };
}

/** Linux init_8259A(): ICW1-4 on both chips, then restore masks. */
function linuxInit(w: (p: number, v: number) => void): void {
  w(0x21, 0xff);
  w(0xa1, 0xff);
  w(0x20, 0x11);
  w(0x21, 0x30);
  w(0x21, 0x04);
  w(0x21, 0x01);
  w(0xa0, 0x11);
  w(0xa1, 0x38);
  w(0xa1, 0x02);
  w(0xa1, 0x01);
  w(0x21, 0xfb);
  w(0xa1, 0xff);
}

describe('LegacyPic', () => {
  it('keeps IMR readable (Linux probe_8259A)', () => {
    const { r, w } = setup();
    w(0xa1, 0xff);
    w(0x21, 0xfb);
    expect(r(0x21)).toBe(0xfb);
    expect(r(0xa1)).toBe(0xff);
  });

  it('sequences ICW1-4 and records vector bases', () => {
    const { pic, r, w } = setup();
    linuxInit(w);
    expect(pic.vectorBase(0)).toBe(0x30);
    expect(pic.vectorBase(1)).toBe(0x38);
    expect(r(0x21)).toBe(0xfb);
    expect(r(0xa1)).toBe(0xff);
    expect(pic.imr(0)).toBe(0xfb);
  });

  it('ICW1 clears IMR; single mode skips ICW3; no IC4 skips ICW4', () => {
    const { pic, r, w } = setup();
    w(0x21, 0xaa);
    w(0x20, 0x10 | 0x02); // ICW1: single, no ICW4
    expect(r(0x21)).toBe(0);
    w(0x21, 0x08); // ICW2
    w(0x21, 0x5a); // already OCW1
    expect(r(0x21)).toBe(0x5a);
    expect(pic.vectorBase(0)).toBe(0x08);
    w(0x20, 0x10); // cascade, no ICW4
    w(0x21, 0x20);
    w(0x21, 0x04); // ICW3
    w(0x21, 0x3c); // OCW1
    expect(r(0x21)).toBe(0x3c);
  });

  it('OCW3 selects IRR/ISR (both empty), poll reports nothing pending, OCW2 EOI is harmless', () => {
    const { r, w } = setup();
    linuxInit(w);
    w(0x20, 0x0a); // read IRR
    expect(r(0x20)).toBe(0);
    w(0x20, 0x0b); // read ISR
    expect(r(0x20)).toBe(0);
    w(0x20, 0x0c); // poll
    expect(r(0x20)).toBe(0);
    w(0x20, 0x20); // non-specific EOI
    w(0xa0, 0x60 | 2); // specific EOI
    expect(r(0x21)).toBe(0xfb);
  });

  it('ELCR keeps only the level-capable IRQ bits', () => {
    const { pic, r, w } = setup();
    w(0x4d0, 0xff);
    w(0x4d1, 0xff);
    expect(r(0x4d0)).toBe(0xf8);
    expect(r(0x4d1)).toBe(0xde);
    expect(pic.elcrValue(1)).toBe(0xde);
  });

  it('saves and restores mid-initialisation', () => {
    const a = setup();
    a.w(0x21, 0x12);
    a.w(0x4d0, 0x20);
    a.w(0xa0, 0x11);
    a.w(0xa1, 0x70); // ICW2 done, ICW3 next
    const b = setup();
    b.pic.restore(JSON.parse(JSON.stringify(a.pic.save())));
    expect(b.pic.save()).toEqual(a.pic.save());
    for (const s of [a, b]) {
      s.w(0xa1, 0x02);
      s.w(0xa1, 0x01);
      s.w(0xa1, 0x9c);
    }
    expect(b.pic.save()).toEqual(a.pic.save());
    expect([b.r(0x21), b.r(0xa1), b.r(0x4d0), b.pic.vectorBase(1)]).toEqual([0x12, 0x9c, 0x20, 0x70]);
    b.pic.reset();
    expect(b.r(0xa1)).toBe(0);
  });
});

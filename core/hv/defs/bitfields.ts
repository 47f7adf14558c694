// Bit-field tables for registers and control words (RCX/RAX of a hypercall, synthetic MSRs, VSM registers),
// and the one codec that reads and writes them. Generic and deliberately tiny: the tables themselves live in
// hypercall.ts, msr.ts, registers.ts, vsm.ts, messages.ts.
//
// Values are 64-bit words held as two uint32 halves (lo, hi) like the rest of the emulator (core/util/bits.ts).
// A field is at most 53 bits wide so that its value is an exact JS number (the widest, a 52-bit GPN, fits).
// Every bit of the word that no field covers is reserved: reservedLo/reservedHi hold that mask, and
// checkReservedBits() turns a set reserved bit into the table's hypervisor status (never a throw; callers that
// must raise #GP instead, e.g. MSR writes, test reservedBitsSet()).

import { HvStatus } from './status.js';

export interface U64 {
  lo: number;
  hi: number;
}

export interface BitFieldDef {
  readonly name: string;
  /** Position of the field's lowest bit in the 64-bit word. */
  readonly shift: number;
  /** Width in bits, 1..53. */
  readonly width: number;
}

export interface BitField extends BitFieldDef {
  readonly maskLo: number;
  readonly maskHi: number;
}

export interface BitLayout<N extends string = string> {
  readonly name: string;
  /** Width of the whole word in bits (8, 16, 32 or 64). */
  readonly width: number;
  readonly fields: readonly BitField[];
  readonly byName: Readonly<Record<N, BitField>>;
  /** Bits below `width` covered by no field. */
  readonly reservedLo: number;
  readonly reservedHi: number;
  /** Status that checkReservedBits() yields for a set reserved bit. */
  readonly status: number;
}

export type BitValues<B> = B extends BitLayout<infer N> ? Record<N, number> : never;

const ones = (n: number): number => (n >= 32 ? 0xffffffff : (1 << n) - 1) >>> 0;

/** Bits [shift, shift+width) of the word hi:lo (width ≤ 53). */
export function getBits(lo: number, hi: number, shift: number, width: number): number {
  let v = 0;
  let got = 0;
  if (shift < 32) {
    got = Math.min(width, 32 - shift);
    v = ((lo >>> shift) & ones(got)) >>> 0;
  }
  if (got < width) {
    const hs = Math.max(0, shift - 32);
    const n = Math.min(width - got, 32 - hs);
    v += (((hi >>> hs) & ones(n)) >>> 0) * 2 ** got;
  }
  return v;
}

/** The word hi:lo with bits [shift, shift+width) replaced by the low `width` bits of `value` (≥ 0, integer). */
export function setBits(lo: number, hi: number, shift: number, width: number, value: number): U64 {
  let n = 0;
  if (shift < 32) {
    n = Math.min(width, 32 - shift);
    const m = (ones(n) << shift) >>> 0;
    lo = ((lo & ~m) | (((value % 2 ** n) << shift) & m)) >>> 0;
  }
  if (n < width) {
    const hs = Math.max(0, shift - 32);
    const hn = width - n;
    const m = (ones(hn) << hs) >>> 0;
    hi = ((hi & ~m) | (((Math.floor(value / 2 ** n) % 2 ** hn) << hs) & m)) >>> 0;
  }
  return { lo: lo >>> 0, hi: hi >>> 0 };
}

/**
 * Freeze a bit table. Throws on a malformed table (overlap, out of range): that is a programming error found
 * when the module loads, not a guest-visible condition.
 */
export function defineBits<const F extends readonly BitFieldDef[]>(
  name: string,
  width: 8 | 16 | 32 | 64,
  fields: F,
  status: number = HvStatus.HV_STATUS_INVALID_PARAMETER,
): BitLayout<F[number]['name']> {
  let usedLo = 0;
  let usedHi = 0;
  const out: BitField[] = [];
  const byName: Record<string, BitField> = {};
  for (const f of fields) {
    if (f.width < 1 || f.width > 53 || f.shift < 0 || f.shift + f.width > width) {
      throw new Error(`${name}.${f.name}: bits ${f.shift}+${f.width} outside a ${width}-bit word`);
    }
    const m = setBits(0, 0, f.shift, f.width, 2 ** f.width - 1);
    if ((m.lo & usedLo) || (m.hi & usedHi) || byName[f.name]) throw new Error(`${name}.${f.name}: overlaps`);
    usedLo |= m.lo;
    usedHi |= m.hi;
    const bf = Object.freeze({ name: f.name, shift: f.shift, width: f.width, maskLo: m.lo, maskHi: m.hi });
    out.push(bf);
    byName[f.name] = bf;
  }
  const all = width === 64 ? { lo: 0xffffffff, hi: 0xffffffff } : { lo: ones(width), hi: 0 };
  return Object.freeze({
    name,
    width,
    fields: Object.freeze(out),
    byName: Object.freeze(byName) as Record<F[number]['name'], BitField>,
    reservedLo: (all.lo & ~usedLo) >>> 0,
    reservedHi: (all.hi & ~usedHi) >>> 0,
    status,
  });
}

/** All fields of hi:lo by name (reserved bits are ignored; see reservedBitsSet). */
export function decodeBits<N extends string>(bl: BitLayout<N>, lo: number, hi = 0): Record<N, number> {
  const r = {} as Record<N, number>;
  for (const f of bl.fields) r[f.name as N] = getBits(lo, hi, f.shift, f.width);
  return r;
}

/** Compose a word from field values; missing fields are 0, reserved bits are 0. */
export function encodeBits<N extends string>(bl: BitLayout<N>, values: Partial<Record<N, number>>): U64 {
  let w: U64 = { lo: 0, hi: 0 };
  for (const f of bl.fields) {
    const v = values[f.name as N];
    if (v !== undefined) w = setBits(w.lo, w.hi, f.shift, f.width, v);
  }
  return w;
}

/** One field of hi:lo. */
export function bitField<N extends string>(bl: BitLayout<N>, name: N, lo: number, hi = 0): number {
  const f = bl.byName[name];
  return getBits(lo, hi, f.shift, f.width);
}

export function reservedBitsSet(bl: BitLayout, lo: number, hi = 0): boolean {
  return ((lo & bl.reservedLo) | (hi & bl.reservedHi)) !== 0;
}

/** HV_STATUS_SUCCESS, or the table's status when a reserved bit is set. */
export function checkReservedBits(bl: BitLayout, lo: number, hi = 0): number {
  return reservedBitsSet(bl, lo, hi) ? bl.status : HvStatus.HV_STATUS_SUCCESS;
}

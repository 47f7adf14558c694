// Binary structure layouts (STYLE 2: "declare a binary layout once") and the one DataView codec over them.
// Generic and deliberately tiny; the tables live in vsm.ts and messages.ts.
//
// A layout is a frozen table of fields with byte offsets, little-endian, packed as spec/vsm.md gives them.
// Value representation, chosen to match the rest of the emulator (uint32 halves, core/util/bits.ts):
//   size 1, 2, 4        → number (unsigned)
//   size 8              → U64 { lo, hi } (writes also accept a non-negative safe-integer number)
//   field with `layout` → the nested structure's values (e.g. a 16-byte segment register)
//   any other size      → Uint8Array (a copy; 16-byte register values, instruction bytes, payloads)
// Reserved fields are declared in the table (`reserved: true` = whole field must be 0, `reservedBits` =
// these bits of a 1/2/4-byte field must be 0) and checkReserved() turns a violation into a hypervisor status
// (HV_STATUS_INVALID_PARAMETER unless the field or layout names another), never a throw.

import type { U64 } from './bitfields.js';
import { HvStatus } from './status.js';

export interface FieldDef {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  /** Nested structure; its size must equal `size`. */
  readonly layout?: Layout;
  /** Whole field must be zero. */
  readonly reserved?: boolean;
  /** Bits of a 1/2/4-byte field that must be zero. */
  readonly reservedBits?: number;
  /** Status for a reserved violation in this field (default: the layout's). */
  readonly status?: number;
}

export interface Layout<F extends readonly FieldDef[] = readonly FieldDef[]> {
  readonly name: string;
  readonly size: number;
  readonly fields: F;
  readonly byName: Readonly<Record<string, FieldDef>>;
  readonly status: number;
}

type FieldValue<F> = F extends { readonly layout: Layout<infer G> }
  ? LayoutValues<Layout<G>>
  : F extends { readonly size: 1 | 2 | 4 } ? number : F extends { readonly size: 8 } ? U64 : Uint8Array;
type FieldInput<F> = F extends { readonly layout: Layout<infer G> }
  ? Partial<LayoutInput<Layout<G>>>
  : F extends { readonly size: 1 | 2 | 4 } ? number : F extends { readonly size: 8 } ? U64 | number : Uint8Array;

/** What readLayout returns: one property per field. */
export type LayoutValues<L extends Layout> = { [F in L['fields'][number] as F['name']]: FieldValue<F> };
/** What writeLayout accepts. */
export type LayoutInput<L extends Layout> = { [F in L['fields'][number] as F['name']]: FieldInput<F> };

/** Freeze a layout. Throws on a malformed table (overlap, out of range, duplicate name) at module load. */
export function defineLayout<const F extends readonly FieldDef[]>(
  name: string,
  size: number,
  fields: F,
  status: number = HvStatus.HV_STATUS_INVALID_PARAMETER,
): Layout<F> {
  const byName: Record<string, FieldDef> = {};
  const used = new Uint8Array(size);
  for (const f of fields) {
    const bad = (why: string): never => { throw new Error(`${name}.${f.name}: ${why}`); };
    if (byName[f.name]) bad('duplicate name');
    if (f.size < 1 || f.offset < 0 || f.offset + f.size > size) bad(`bytes ${f.offset}+${f.size} outside ${size}`);
    if (f.layout && f.layout.size !== f.size) bad(`nested ${f.layout.name} is ${f.layout.size} bytes`);
    if (f.reservedBits && f.size > 4) bad('reservedBits needs a 1, 2 or 4-byte field');
    for (let i = f.offset; i < f.offset + f.size; i++) if (used[i]++) bad('overlaps');
    byName[f.name] = Object.freeze({ ...f });
  }
  return Object.freeze({
    name,
    size,
    fields: Object.freeze(fields.map((f) => byName[f.name])) as unknown as F,
    byName: Object.freeze(byName),
    status,
  });
}

export function fieldOffset(layout: Layout, name: string): number {
  const f = layout.byName[name];
  if (!f) throw new Error(`${layout.name} has no field ${name}`);
  return f.offset;
}

export function readLayout<L extends Layout>(dv: DataView, base: number, layout: L): LayoutValues<L> {
  const r: Record<string, unknown> = {};
  for (const f of layout.fields) {
    const at = base + f.offset;
    if (f.layout) r[f.name] = readLayout(dv, at, f.layout);
    else if (f.size === 1) r[f.name] = dv.getUint8(at);
    else if (f.size === 2) r[f.name] = dv.getUint16(at, true);
    else if (f.size === 4) r[f.name] = dv.getUint32(at, true);
    else if (f.size === 8) r[f.name] = { lo: dv.getUint32(at, true), hi: dv.getUint32(at + 4, true) };
    else r[f.name] = new Uint8Array(dv.buffer, dv.byteOffset + at, f.size).slice();
  }
  return r as LayoutValues<L>;
}

/** Write the given fields; fields left out keep the bytes already there. Short byte arrays are zero-padded. */
export function writeLayout<L extends Layout>(dv: DataView, base: number, layout: L, values: Partial<LayoutInput<L>>): void {
  const vals = values as Record<string, unknown>;
  for (const f of layout.fields) {
    const v = vals[f.name];
    if (v === undefined) continue;
    const at = base + f.offset;
    if (f.layout) writeLayout(dv, at, f.layout, v as Partial<LayoutInput<Layout>>);
    else if (f.size === 1) dv.setUint8(at, v as number);
    else if (f.size === 2) dv.setUint16(at, v as number, true);
    else if (f.size === 4) dv.setUint32(at, (v as number) >>> 0, true);
    else if (f.size === 8) {
      const w = typeof v === 'number' ? { lo: v >>> 0, hi: Math.floor(v / 4294967296) >>> 0 } : (v as U64);
      dv.setUint32(at, w.lo >>> 0, true);
      dv.setUint32(at + 4, w.hi >>> 0, true);
    } else {
      const b = v as Uint8Array;
      for (let i = 0; i < f.size; i++) dv.setUint8(at + i, i < b.length ? b[i] : 0);
    }
  }
}

function isZero(v: unknown): boolean {
  if (typeof v === 'number') return v === 0;
  if (v instanceof Uint8Array) return v.every((b) => b === 0);
  const w = v as U64;
  return (w.lo | w.hi) === 0;
}

/** HV_STATUS_SUCCESS, or the status of the first reserved field (in table order) that is not zero. */
export function checkReserved<L extends Layout>(layout: L, values: LayoutValues<L>): number {
  const vals = values as Record<string, unknown>;
  for (const f of layout.fields) {
    const v = vals[f.name];
    if (v === undefined) continue;
    const status = f.status ?? layout.status;
    if (f.layout) {
      const s = checkReserved(f.layout, v as LayoutValues<Layout>);
      if (s !== HvStatus.HV_STATUS_SUCCESS) return s;
    } else if ((f.reserved && !isZero(v)) || (f.reservedBits && ((v as number) & f.reservedBits))) {
      return status;
    }
  }
  return HvStatus.HV_STATUS_SUCCESS;
}

// The target description, generated from the one register table (recorder/registers.ts): a
// `target.xml` naming the architecture and including one annex per feature, in table order, so the
// `g`/`p` numbering is the table's index. Only the definitions of the non-builtin types the table
// names live here (as in gdb's own 64bit-core.xml and 64bit-sse.xml, and QEMU's i386-64bit.xml).

import { REGISTERS, CORE_FEATURE, type RegisterDef } from '../recorder/registers.js';

/** Types gdb knows without a definition (gdb/target-descriptions.c, tdesc_predefined_types). */
const BUILTIN = new Set([
  'bool', 'int8', 'int16', 'int24', 'int32', 'int64', 'int128', 'uint8', 'uint16', 'uint24', 'uint32',
  'uint64', 'uint128', 'code_ptr', 'data_ptr', 'ieee_half', 'ieee_single', 'ieee_double', 'arm_fpa_ext',
  'i387_ext', 'bfloat16', 'int', 'long',
]);

function flags(id: string, fields: [string, number][]): string {
  return `  <flags id="${id}" size="4">\n${fields.map(([n, b]) => `    <field name="${n}" start="${b}" end="${b}"/>`).join('\n')}\n  </flags>\n`;
}

/** Definitions of the composite types the register table uses, by id. */
const TYPE_DEFINITIONS: Record<string, string> = {
  i386_eflags: flags('i386_eflags', [
    ['CF', 0], ['', 1], ['PF', 2], ['AF', 4], ['ZF', 6], ['SF', 7], ['TF', 8], ['IF', 9], ['DF', 10], ['OF', 11],
    ['NT', 14], ['RF', 16], ['VM', 17], ['AC', 18], ['VIF', 19], ['VIP', 20], ['ID', 21],
  ]),
  i386_mxcsr: flags('i386_mxcsr', [
    ['IE', 0], ['DE', 1], ['ZE', 2], ['OE', 3], ['UE', 4], ['PE', 5], ['DAZ', 6], ['IM', 7], ['DM', 8], ['ZM', 9],
    ['OM', 10], ['UM', 11], ['PM', 12], ['FZ', 15],
  ]),
  vec128: [
    '  <vector id="v4f" type="ieee_single" count="4"/>',
    '  <vector id="v2d" type="ieee_double" count="2"/>',
    '  <vector id="v16i8" type="int8" count="16"/>',
    '  <vector id="v8i16" type="int16" count="8"/>',
    '  <vector id="v4i32" type="int32" count="4"/>',
    '  <vector id="v2i64" type="int64" count="2"/>',
    '  <union id="vec128">',
    '    <field name="v4_float" type="v4f"/>',
    '    <field name="v2_double" type="v2d"/>',
    '    <field name="v16_int8" type="v16i8"/>',
    '    <field name="v8_int16" type="v8i16"/>',
    '    <field name="v4_int32" type="v4i32"/>',
    '    <field name="v2_int64" type="v2i64"/>',
    '    <field name="uint128" type="uint128"/>',
    '  </union>',
  ].join('\n') + '\n',
};

/** Annex file name of each feature (the core one keeps QEMU's name). */
function annexName(feature: string): string {
  return feature === CORE_FEATURE ? 'i386-64bit.xml' : `${feature.split('.').pop()}.xml`;
}

export interface TargetDescription {
  /** Annex name → XML text (`target.xml` and one per feature). */
  files: Map<string, string>;
  /** Register number → its definition (the table order). */
  registers: readonly RegisterDef[];
}

export function buildTargetDescription(registers: readonly RegisterDef[] = REGISTERS): TargetDescription {
  const features: string[] = [];
  for (const r of registers) if (!features.includes(r.feature)) features.push(r.feature);
  const files = new Map<string, string>();
  const includes: string[] = [];
  let regnum = 0;
  for (const f of features) {
    const regs = registers.filter((r) => r.feature === f);
    // The numbering is the table order: a feature must be one contiguous run of the table.
    if (registers.indexOf(regs[0]) !== regnum || registers.indexOf(regs[regs.length - 1]) !== regnum + regs.length - 1) {
      throw new Error(`register table: the registers of feature ${f} are not contiguous`);
    }
    const types: string[] = [];
    for (const r of regs) {
      if (BUILTIN.has(r.type) || types.includes(r.type)) continue;
      if (!TYPE_DEFINITIONS[r.type]) throw new Error(`register ${r.name}: no definition for gdb type '${r.type}'`);
      types.push(r.type);
    }
    const body = regs.map((r, i) => `  <reg name="${r.name}" bitsize="${r.bits}" type="${r.type}" group="${r.group}" regnum="${regnum + i}"/>`);
    const name = annexName(f);
    files.set(name, `<?xml version="1.0"?>\n<!DOCTYPE feature SYSTEM "gdb-target.dtd">\n<feature name="${f}">\n${types.map((t) => TYPE_DEFINITIONS[t]).join('')}${body.join('\n')}\n</feature>\n`);
    includes.push(`  <xi:include href="${name}"/>`);
    regnum += regs.length;
  }
  files.set('target.xml', `<?xml version="1.0"?>\n<!DOCTYPE target SYSTEM "gdb-target.dtd">\n<target version="1.0">\n  <architecture>i386:x86-64</architecture>\n${includes.join('\n')}\n</target>\n`);
  return { files, registers };
}

/** Little-endian bytes of a register value, `bits / 8` of them. */
export function registerBytes(r: RegisterDef, v: bigint): Buffer {
  const n = r.bits / 8;
  const out = Buffer.alloc(n);
  let x = BigInt.asUintN(r.bits, v);
  for (let k = 0; k < n; k++) { out[k] = Number(x & 0xffn); x >>= 8n; }
  return out;
}

export function bytesValue(b: Uint8Array): bigint {
  let v = 0n;
  for (let k = b.length - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k]);
  return v;
}

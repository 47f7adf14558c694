// Guest debug symbols for the debug adapter: the ELF symbol table (function names and extents) and
// the DWARF line table (.debug_line versions 2-5, .debug_info only for each unit's comp_dir).
//
// The input is an untrusted file, so every read goes through a bounds-checked Cursor and every loop
// consumes input or is capped: a damaged file throws an Error naming the file (bad ELF structure) or
// loses only the damaged line-table unit (listed in `warnings`), and never hangs.
//
// Where this departs from binutils/gdb, and why:
// - lineAt follows addr2line (bfd): of several rows at one address the last one wins.
// - In linked files (ET_EXEC/ET_DYN), line sequences that do not start inside an allocated section
//   are dropped, as gdb does: they describe code the linker discarded (relocated to address 0).
// - addressesForLine approximates gdb's "one location per block" without reading DWARF blocks: one
//   address per function for lines of the function's own file, every address for lines inlined from
//   other files (each inlined copy of a header function gets its breakpoint).
// - Relocatable objects (.o) are read without applying relocations, so their addresses are
//   section-relative and usually all 0: load linked images.

import { inflateSync } from 'node:zlib';

export interface SourceLine {
  file: string;
  line: number;
  column: number;
}

export interface FunctionSymbol {
  name: string;
  start: bigint;
  end: bigint;
}

/** A malformed structure inside the file; turned into an Error naming the file at the boundary. */
class FormatError extends Error {}

/** Bounds-checked little-endian reader over [pos, end) of a buffer. */
class Cursor {
  private readonly dv: DataView;
  constructor(readonly buf: Uint8Array, public pos: number, readonly end: number) {
    if (pos < 0 || end > buf.length || pos > end) throw new FormatError(`range ${pos}..${end} outside the data`);
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get left(): number {
    return this.end - this.pos;
  }
  private take(n: number): number {
    if (!(n >= 0) || this.pos + n > this.end) throw new FormatError(`truncated data at offset ${this.pos}`);
    const p = this.pos;
    this.pos += n;
    return p;
  }
  skip(n: number): void {
    this.take(n);
  }
  u8(): number {
    return this.buf[this.take(1)];
  }
  s8(): number {
    return this.dv.getInt8(this.take(1));
  }
  u16(): number {
    return this.dv.getUint16(this.take(2), true);
  }
  u32(): number {
    return this.dv.getUint32(this.take(4), true);
  }
  u64(): bigint {
    return this.dv.getBigUint64(this.take(8), true);
  }
  /** A 64-bit value used as a size or offset: must fit a JS number. */
  u64n(): number {
    const v = this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(`value 0x${v.toString(16)} too large at offset ${this.pos - 8}`);
    return Number(v);
  }
  /** Unsigned LEB128 as a number (precision lost above 2^53, which only hostile input reaches). */
  uleb(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = this.u8();
      v += (b & 0x7f) * scale;
      scale *= 128;
      if (!(b & 0x80)) return this.checkLeb(v);
    }
  }
  sleb(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = this.u8();
      v += (b & 0x7f) * scale;
      scale *= 128;
      if (!(b & 0x80)) return this.checkLeb(b & 0x40 ? v - scale : v);
    }
  }
  private checkLeb(v: number): number {
    // Beyond 64 bits (or Infinity/NaN from hundreds of continuation bytes) the data is damaged.
    if (!(Math.abs(v) <= 2 ** 64)) throw new FormatError(`LEB128 value too large before offset ${this.pos}`);
    return v;
  }
  /** Unsigned value of 1, 2, 4 or 8 bytes. */
  uN(size: number): bigint {
    switch (size) {
      case 1: return BigInt(this.u8());
      case 2: return BigInt(this.u16());
      case 4: return BigInt(this.u32());
      case 8: return this.u64();
      default: throw new FormatError(`unsupported address size ${size}`);
    }
  }
  /** NUL-terminated string; the terminator must lie inside the range. */
  cstr(): string {
    const start = this.pos;
    const nul = this.buf.subarray(start, this.end).indexOf(0);
    if (nul < 0) throw new FormatError(`unterminated string at offset ${start}`);
    this.pos = start + nul + 1;
    return utf8.decode(this.buf.subarray(start, start + nul));
  }
  /** cstr(), or `fallback` when the string is unterminated (names in symbol tables). */
  cstrOr(fallback: string): string {
    return this.buf.subarray(this.pos, this.end).includes(0) ? this.cstr() : fallback;
  }
  /** A DWARF offset: 4 bytes in the 32-bit format, 8 in the 64-bit format. */
  offset(size: 4 | 8): number {
    return size === 8 ? this.u64n() : this.u32();
  }
  /** A unit's initial length; returns the cursor over the unit's contents and its offset size. */
  unit(): { body: Cursor; offsetSize: 4 | 8 } {
    let len = this.u32();
    let offsetSize: 4 | 8 = 4;
    if (len === 0xffffffff) {
      len = this.u64n();
      offsetSize = 8;
    } else if (len >= 0xfffffff0) {
      throw new FormatError(`reserved unit length 0x${len.toString(16)} at offset ${this.pos - 4}`);
    }
    if (len > this.left) throw new FormatError(`unit at offset ${this.pos} claims ${len} bytes, ${this.left} remain`);
    const body = new Cursor(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return { body, offsetSize };
  }
}

const utf8 = new TextDecoder('utf-8');

/** String at `off` of a string section (.strtab, .debug_str, .debug_line_str). */
function strAt(sec: Uint8Array | undefined, off: number, what: string): string {
  if (!sec || off < 0 || off >= sec.length) throw new FormatError(`${what} offset ${off} outside its string table`);
  return new Cursor(sec, off, sec.length).cstr();
}

// ---------------------------------------------------------------------------------------------------
// ELF

const ELF = {
  ELFCLASS32: 1, ELFCLASS64: 2, ELFDATA2LSB: 1,
  ET_REL: 1, ET_EXEC: 2, ET_DYN: 3,
  SHT_SYMTAB: 2, SHT_NOBITS: 8, SHT_DYNSYM: 11,
  SHF_ALLOC: 0x2, SHF_EXECINSTR: 0x4, SHF_COMPRESSED: 0x800,
  SHN_UNDEF: 0, SHN_LORESERVE: 0xff00, SHN_ABS: 0xfff1, SHN_XINDEX: 0xffff,
  STT_NOTYPE: 0, STT_FUNC: 2, STT_GNU_IFUNC: 10,
  ELFCOMPRESS_ZLIB: 1,
} as const;

/** Largest decompressed debug section accepted (a guard against decompression bombs). */
const MAX_INFLATED = 512 * 1024 * 1024;

interface Section {
  name: string;
  nameOff: number;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

interface ElfImage {
  is64: boolean;
  type: number;
  sections: Section[];
  bytes: Uint8Array;
}

function readElf(bytes: Uint8Array): ElfImage {
  if (bytes.length < 16 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new FormatError('not an ELF file');
  }
  const cls = bytes[4];
  if (cls !== ELF.ELFCLASS32 && cls !== ELF.ELFCLASS64) throw new FormatError(`unknown ELF class ${cls}`);
  if (bytes[5] !== ELF.ELFDATA2LSB) throw new FormatError('big-endian ELF files are not supported');
  const is64 = cls === ELF.ELFCLASS64;
  const word = (c: Cursor) => (is64 ? c.u64n() : c.u32());
  const h = new Cursor(bytes, 16, bytes.length);
  if (h.left < (is64 ? 48 : 36)) throw new FormatError('truncated ELF header');
  const type = h.u16();
  h.skip(2 + 4); // e_machine, e_version
  word(h); // e_entry
  word(h); // e_phoff
  const shoff = word(h);
  h.skip(4 + 2 + 2 + 2); // e_flags, e_ehsize, e_phentsize, e_phnum
  const shentsize = h.u16();
  let shnum = h.u16();
  let shstrndx = h.u16();
  if (shoff === 0) return { is64, type, sections: [], bytes };
  if (shentsize < (is64 ? 64 : 40)) throw new FormatError(`bad section header size ${shentsize}`);
  const header = (i: number): Section => {
    const c = new Cursor(bytes, shoff + i * shentsize, shoff + (i + 1) * shentsize);
    const name = c.u32();
    const stype = c.u32();
    const flags = is64 ? c.u64() : BigInt(c.u32());
    const addr = is64 ? c.u64() : BigInt(c.u32());
    const offset = word(c);
    const size = word(c);
    const link = c.u32();
    c.skip(4); // sh_info
    word(c); // sh_addralign
    const entsize = word(c);
    return { name: '', nameOff: name, type: stype, flags, addr, offset, size, link, entsize };
  };
  if (shoff + shentsize > bytes.length) throw new FormatError('section header table outside the file');
  // Extended numbering: more than 0xff00 sections keep the real count in section 0.
  if (shnum === 0 || shstrndx === ELF.SHN_XINDEX) {
    const s0 = header(0);
    if (shnum === 0) shnum = s0.size;
    if (shstrndx === ELF.SHN_XINDEX) shstrndx = s0.link;
  }
  if (shnum > (bytes.length - shoff) / shentsize) throw new FormatError(`${shnum} section headers do not fit in the file`);
  const sections: Section[] = [];
  for (let i = 0; i < shnum; i++) sections.push(header(i));
  const shstr = shstrndx < shnum ? sectionBytes({ is64, type, sections, bytes }, sections[shstrndx]) : undefined;
  for (const s of sections) {
    if (shstr && s.nameOff < shstr.length) s.name = new Cursor(shstr, s.nameOff, shstr.length).cstrOr('');
  }
  return { is64, type, sections, bytes };
}

/** The file bytes of a section (decompressed if SHF_COMPRESSED), or undefined for NOBITS. */
function sectionBytes(elf: ElfImage, s: Section): Uint8Array | undefined {
  if (s.type === ELF.SHT_NOBITS || s.size === 0) return undefined;
  if (s.offset > elf.bytes.length || s.size > elf.bytes.length - s.offset) {
    throw new FormatError(`section ${s.name || '#?'} extends past the end of the file`);
  }
  const raw = elf.bytes.subarray(s.offset, s.offset + s.size);
  if (!(s.flags & BigInt(ELF.SHF_COMPRESSED))) return raw;
  const c = new Cursor(raw, 0, raw.length);
  const chType = c.u32();
  if (elf.is64) c.skip(4);
  const chSize = elf.is64 ? c.u64n() : c.u32();
  if (elf.is64) c.skip(8); else c.skip(4); // ch_addralign
  if (chType !== ELF.ELFCOMPRESS_ZLIB) throw new FormatError(`section ${s.name}: unsupported compression type ${chType}`);
  if (chSize > MAX_INFLATED) throw new FormatError(`section ${s.name}: decompressed size ${chSize} too large`);
  try {
    const out = inflateSync(raw.subarray(c.pos), { maxOutputLength: Math.max(chSize, 1) });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    throw new FormatError(`section ${s.name}: bad compressed data (${(e as Error).message})`);
  }
}

interface FuncSym extends FunctionSymbol {
  sized: boolean;
  global: boolean;
}

/** Function symbols: STT_FUNC/IFUNC, and untyped labels in executable sections (assembly code). */
function readFunctions(elf: ElfImage): FuncSym[] {
  const tab = elf.sections.find((s) => s.type === ELF.SHT_SYMTAB) ?? elf.sections.find((s) => s.type === ELF.SHT_DYNSYM);
  if (!tab) return [];
  const data = sectionBytes(elf, tab);
  const strs = tab.link < elf.sections.length ? sectionBytes(elf, elf.sections[tab.link]) : undefined;
  if (!data) return [];
  const entsize = elf.is64 ? 24 : 16;
  const out: FuncSym[] = [];
  for (let off = entsize; off + entsize <= data.length; off += entsize) {
    const c = new Cursor(data, off, off + entsize);
    const nameOff = c.u32();
    let value: bigint, size: bigint, info: number, shndx: number;
    if (elf.is64) {
      info = c.u8(); c.skip(1); shndx = c.u16(); value = c.u64(); size = c.u64();
    } else {
      value = BigInt(c.u32()); size = BigInt(c.u32()); info = c.u8(); c.skip(1); shndx = c.u16();
    }
    const type = info & 0xf;
    if (shndx === ELF.SHN_UNDEF) continue;
    const sec = shndx < ELF.SHN_LORESERVE ? elf.sections[shndx] : undefined;
    const exec = !!sec && !!(sec.flags & BigInt(ELF.SHF_EXECINSTR));
    if (!(type === ELF.STT_FUNC || type === ELF.STT_GNU_IFUNC || (type === ELF.STT_NOTYPE && exec))) continue;
    if (!strs || nameOff >= strs.length) continue;
    const name = new Cursor(strs, nameOff, strs.length).cstrOr('');
    // Local assembler labels and mapping symbols are not functions.
    if (!name || name.startsWith('.L') || name.startsWith('$')) continue;
    const sized = size > 0n && (type === ELF.STT_FUNC || type === ELF.STT_GNU_IFUNC);
    out.push({ name, start: value, end: value + size, sized, global: info >> 4 !== 0 });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// DWARF

const DW_FORM = {
  addr: 0x01, block2: 0x03, block4: 0x04, data2: 0x05, data4: 0x06, data8: 0x07, string: 0x08, block: 0x09,
  block1: 0x0a, data1: 0x0b, flag: 0x0c, sdata: 0x0d, strp: 0x0e, udata: 0x0f, ref_addr: 0x10, ref1: 0x11,
  ref2: 0x12, ref4: 0x13, ref8: 0x14, ref_udata: 0x15, indirect: 0x16, sec_offset: 0x17, exprloc: 0x18,
  flag_present: 0x19, strx: 0x1a, addrx: 0x1b, ref_sup4: 0x1c, strp_sup: 0x1d, data16: 0x1e, line_strp: 0x1f,
  ref_sig8: 0x20, implicit_const: 0x21, loclistx: 0x22, rnglistx: 0x23, ref_sup8: 0x24, strx1: 0x25,
  strx2: 0x26, strx3: 0x27, strx4: 0x28, addrx1: 0x29, addrx2: 0x2a, addrx3: 0x2b, addrx4: 0x2c,
  GNU_addr_index: 0x1f01, GNU_str_index: 0x1f02, GNU_ref_alt: 0x1f20, GNU_strp_alt: 0x1f21,
} as const;

const DW_AT = { name: 0x03, stmt_list: 0x10, comp_dir: 0x1b, str_offsets_base: 0x72 } as const;
const DW_LNCT = { path: 1, directory_index: 2 } as const;
const DW_LNS = {
  copy: 1, advance_pc: 2, advance_line: 3, set_file: 4, set_column: 5, negate_stmt: 6, set_basic_block: 7,
  const_add_pc: 8, fixed_advance_pc: 9, set_prologue_end: 10, set_epilogue_begin: 11, set_isa: 12,
} as const;
const DW_LNE = { end_sequence: 1, set_address: 2, define_file: 3, set_discriminator: 4 } as const;

interface DebugSections {
  info?: Uint8Array;
  abbrev?: Uint8Array;
  line?: Uint8Array;
  str?: Uint8Array;
  lineStr?: Uint8Array;
  strOffsets?: Uint8Array;
}

/** Encoding parameters an attribute value needs. */
interface FormCtx {
  offsetSize: 4 | 8;
  addrSize: number;
  version: number;
  sec: DebugSections;
  strOffsetsBase?: number;
}

/** An attribute value: a string, a number, or a string index still to resolve (DW_FORM_strx*). */
type FormValue = { str: string } | { num: bigint } | { strx: number } | null;

function readForm(c: Cursor, form: number, ctx: FormCtx, implicit = 0): FormValue {
  // DW_FORM_indirect names the form in the data; a chain of them is hostile, so it is capped.
  for (let hops = 0; form === DW_FORM.indirect; hops++) {
    if (hops > 4) throw new FormatError('DW_FORM_indirect chain');
    form = c.uleb();
  }
  const F = DW_FORM;
  switch (form) {
    case F.string: return { str: c.cstr() };
    case F.strp: return { str: strAt(ctx.sec.str, c.offset(ctx.offsetSize), '.debug_str') };
    case F.line_strp: return { str: strAt(ctx.sec.lineStr, c.offset(ctx.offsetSize), '.debug_line_str') };
    case F.strp_sup: case F.GNU_strp_alt: case F.GNU_ref_alt: c.offset(ctx.offsetSize); return null;
    case F.strx: case F.GNU_str_index: return { strx: c.uleb() };
    case F.strx1: return { strx: c.u8() };
    case F.strx2: return { strx: c.u16() };
    case F.strx3: return { strx: c.u16() + c.u8() * 0x10000 };
    case F.strx4: return { strx: c.u32() };
    case F.data1: case F.ref1: case F.flag: case F.addrx1: return { num: BigInt(c.u8()) };
    case F.data2: case F.ref2: case F.addrx2: return { num: BigInt(c.u16()) };
    case F.addrx3: return { num: BigInt(c.u16() + c.u8() * 0x10000) };
    case F.data4: case F.ref4: case F.ref_sup4: case F.addrx4: return { num: BigInt(c.u32()) };
    case F.data8: case F.ref8: case F.ref_sig8: case F.ref_sup8: return { num: c.u64() };
    case F.data16: c.skip(16); return null;
    case F.udata: case F.ref_udata: case F.addrx: case F.loclistx: case F.rnglistx: case F.GNU_addr_index:
      return { num: BigInt(c.uleb()) };
    case F.sdata: return { num: BigInt(c.sleb()) };
    case F.addr: return { num: c.uN(ctx.addrSize) };
    case F.sec_offset: return { num: BigInt(c.offset(ctx.offsetSize)) };
    case F.ref_addr: return { num: ctx.version <= 2 ? c.uN(ctx.addrSize) : BigInt(c.offset(ctx.offsetSize)) };
    case F.flag_present: return { num: 1n };
    case F.implicit_const: return { num: BigInt(implicit) };
    case F.block1: c.skip(c.u8()); return null;
    case F.block2: c.skip(c.u16()); return null;
    case F.block4: c.skip(c.u32()); return null;
    case F.block: case F.exprloc: c.skip(c.uleb()); return null;
    default: throw new FormatError(`unknown attribute form 0x${form.toString(16)}`);
  }
}

function resolveStr(v: FormValue, ctx: FormCtx): string | undefined {
  if (!v) return undefined;
  if ('str' in v) return v.str;
  if ('strx' in v) {
    const so = ctx.sec.strOffsets;
    const base = ctx.strOffsetsBase ?? (ctx.offsetSize === 8 ? 16 : 8);
    if (!so) return undefined;
    const c = new Cursor(so, 0, so.length);
    c.skip(base + v.strx * ctx.offsetSize);
    return strAt(ctx.sec.str, c.offset(ctx.offsetSize), '.debug_str');
  }
  return undefined;
}

interface CompUnit {
  name?: string;
  compDir?: string;
}

/**
 * comp_dir and name of every compile unit, keyed by its DW_AT_stmt_list offset. Only the first DIE
 * of each unit is read, so only the abbreviations up to its code are decoded.
 */
function readCompUnits(sec: DebugSections, warn: (m: string) => void): Map<number, CompUnit> {
  const out = new Map<number, CompUnit>();
  if (!sec.info || !sec.abbrev) return out;
  // Units usually share one abbreviation table; each distinct table is decoded once, and a file
  // whose units name too many distinct tables (quadratic work) is read no further.
  const abbrevTables = new Map<number, Map<number, AttrSpec[]>>();
  const top = new Cursor(sec.info, 0, sec.info.length);
  while (top.left > 0) {
    const at = top.pos;
    try {
      if (abbrevTables.size > 4096) throw new FormatError('too many abbreviation tables');
      const { body: c, offsetSize } = top.unit();
      const version = c.u16();
      if (version < 2 || version > 5) throw new FormatError(`unsupported .debug_info version ${version}`);
      let addrSize: number, abbrevOff: number;
      if (version >= 5) {
        const unitType = c.u8();
        addrSize = c.u8();
        abbrevOff = c.offset(offsetSize);
        if (unitType === 4 || unitType === 5) c.skip(8); // DW_UT_skeleton/split_compile: dwo_id
        else if (unitType === 2 || unitType === 6) { c.skip(8); c.offset(offsetSize); } // type units
      } else {
        abbrevOff = c.offset(offsetSize);
        addrSize = c.u8();
      }
      const code = c.uleb();
      if (code === 0) continue;
      let table = abbrevTables.get(abbrevOff);
      if (!table) abbrevTables.set(abbrevOff, (table = readAbbrevTable(sec.abbrev, abbrevOff)));
      const specs = table.get(code);
      if (!specs) throw new FormatError(`abbreviation ${code} not found`);
      const ctx: FormCtx = { offsetSize, addrSize, version, sec };
      const vals = new Map<number, FormValue>();
      for (const [attr, form, implicit] of specs) vals.set(attr, readForm(c, form, ctx, implicit));
      const sob = vals.get(DW_AT.str_offsets_base);
      if (sob && 'num' in sob) ctx.strOffsetsBase = Number(sob.num);
      const stmt = vals.get(DW_AT.stmt_list);
      if (!stmt || !('num' in stmt)) continue;
      out.set(Number(stmt.num), {
        name: resolveStr(vals.get(DW_AT.name) ?? null, ctx),
        compDir: resolveStr(vals.get(DW_AT.comp_dir) ?? null, ctx),
      });
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      warn(`.debug_info unit at offset ${at}: ${e.message}`);
      if (top.pos === at) break; // the unit length itself is bad: nothing after it can be found
    }
  }
  return out;
}

/** An attribute spec of an abbreviation: attribute, form, implicit constant. */
type AttrSpec = [number, number, number];

/**
 * The abbreviation table at `off`: code -> attribute specs, up to the terminating 0 code or, in a
 * damaged table, up to the damage (so a bad table is still decoded only once).
 */
function readAbbrevTable(abbrev: Uint8Array, off: number): Map<number, AttrSpec[]> {
  const out = new Map<number, AttrSpec[]>();
  if (off >= abbrev.length) return out;
  const c = new Cursor(abbrev, off, abbrev.length);
  try {
    readAbbrevs(c, out);
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
  }
  return out;
}

function readAbbrevs(c: Cursor, out: Map<number, AttrSpec[]>): void {
  for (let code = c.uleb(); code !== 0; code = c.uleb()) {
    c.uleb(); // tag
    c.u8(); // has children
    const specs: AttrSpec[] = [];
    for (;;) {
      const attr = c.uleb();
      const form = c.uleb();
      if (attr === 0 && form === 0) break;
      specs.push([attr, form, form === DW_FORM.implicit_const ? c.sleb() : 0]);
    }
    if (!out.has(code)) out.set(code, specs);
  }
}

/** One line-table row; `file` indexes GuestSymbols' file list. */
interface Row {
  addr: bigint;
  file: number;
  line: number;
  column: number;
  isStmt: boolean;
}

/** A sequence: rows in program order, then the end address (first byte after the sequence). */
interface Sequence {
  rows: Row[];
  end: bigint;
}

function joinPath(dir: string | undefined, name: string): string {
  if (!dir || isAbsolute(name)) return name;
  return dir.endsWith('/') || dir.endsWith('\\') ? dir + name : `${dir}/${name}`;
}

function isAbsolute(p: string): boolean {
  return p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:[\\/]/.test(p);
}

/** The file table of a v5 header: entries described by (content type, form) pairs. */
function readEntryTable(c: Cursor, ctx: FormCtx): { path: string; dir: number }[] {
  const formatCount = c.u8();
  const format: [number, number][] = [];
  for (let i = 0; i < formatCount; i++) format.push([c.uleb(), c.uleb()]);
  const count = c.uleb();
  const out: { path: string; dir: number }[] = [];
  // Each entry takes at least one byte when it has any field; an empty format cannot repeat forever.
  if (count > c.left && (format.length > 0 || count > 0x10000)) throw new FormatError(`${count} entries cannot fit`);
  for (let i = 0; i < count; i++) {
    let path = '';
    let dir = 0;
    for (const [type, form] of format) {
      const v = readForm(c, form, ctx);
      if (type === DW_LNCT.path) path = resolveStr(v, ctx) ?? '';
      else if (type === DW_LNCT.directory_index && v && 'num' in v) dir = Number(v.num);
    }
    out.push({ path, dir });
  }
  return out;
}

/**
 * The directory and file tables of a line-table header, as absolute paths where the unit's comp_dir
 * allows (gdb's joining: a relative directory is under comp_dir, a relative file under its directory).
 * fileIds is indexed by the program's DW_LNS_set_file operand: from 0 in v5, from 1 before.
 */
function readFileNames(c: Cursor, ctx: FormCtx, cu: CompUnit | undefined,
  intern: (path: string) => number): { fileIds: number[]; dirs: string[] } {
  const fileIds: number[] = [];
  let dirs: string[];
  if (ctx.version >= 5) {
    dirs = readEntryTable(c, ctx).map((d) => d.path);
    const compDir = cu?.compDir ?? dirs[0]; // directory 0 is the comp dir in v5
    dirs = dirs.map((d, i) => (i === 0 ? d : joinPath(compDir, d)));
    for (const f of readEntryTable(c, ctx)) fileIds.push(intern(joinPath(dirs[f.dir], f.path)));
  } else {
    dirs = [cu?.compDir ?? ''];
    for (let s = c.cstr(); s !== ''; s = c.cstr()) dirs.push(joinPath(cu?.compDir, s));
    fileIds.push(-1); // file 0 does not exist before v5
    for (let s = c.cstr(); s !== ''; s = c.cstr()) {
      const dir = c.uleb();
      c.uleb(); // mtime
      c.uleb(); // length
      fileIds.push(intern(joinPath(dirs[dir], s)));
    }
  }
  return { fileIds, dirs };
}

/**
 * Decode one .debug_line unit. `intern` maps an absolute path to a file id. Returns its sequences.
 */
function readLineUnit(c: Cursor, offsetSize: 4 | 8, sec: DebugSections, cu: CompUnit | undefined,
  intern: (path: string) => number): Sequence[] {
  const version = c.u16();
  if (version < 2 || version > 5) throw new FormatError(`unsupported .debug_line version ${version}`);
  let addrSize = 8;
  if (version >= 5) {
    addrSize = c.u8();
    c.u8(); // segment_selector_size
  }
  const headerLength = c.offset(offsetSize);
  if (headerLength > c.left) throw new FormatError('header length past the end of the unit');
  const programStart = c.pos + headerLength;
  const minInst = c.u8();
  const maxOps = version >= 4 ? c.u8() || 1 : 1;
  const defaultIsStmt = c.u8() !== 0;
  const lineBase = c.s8();
  const lineRange = c.u8();
  const opcodeBase = c.u8();
  if (lineRange === 0) throw new FormatError('line_range is 0');
  const stdLengths: number[] = [];
  for (let i = 1; i < opcodeBase; i++) stdLengths.push(c.u8());
  const ctx: FormCtx = { offsetSize, addrSize, version, sec };

  const { fileIds, dirs } = readFileNames(c, ctx, cu, intern);
  c.pos = programStart;

  const mask = addrSize >= 8 ? (1n << 64n) - 1n : (1n << BigInt(addrSize * 8)) - 1n;
  const out: Sequence[] = [];
  let rows: Row[] = [];
  let addr = 0n, opIndex = 0, file = 1, line = 1, column = 0, isStmt = defaultIsStmt;
  const reset = () => {
    rows = [];
    addr = 0n; opIndex = 0; file = 1; line = 1; column = 0; isStmt = defaultIsStmt;
  };
  const advance = (opAdvance: number) => {
    // VLIW op_index arithmetic (DWARF 5 6.2.5.1); with max_ops 1 it is addr += minInst * advance.
    const total = opIndex + opAdvance;
    addr = (addr + BigInt(minInst) * BigInt(Math.floor(total / maxOps))) & mask;
    opIndex = total % maxOps;
  };
  const emit = () => {
    const id = fileIds[file];
    rows.push({ addr, file: id === undefined ? -1 : id, line, column, isStmt });
  };
  while (c.left > 0) {
    const op = c.u8();
    if (op >= opcodeBase) {
      const adj = op - opcodeBase;
      advance(Math.floor(adj / lineRange));
      line += lineBase + (adj % lineRange);
      emit();
      continue;
    }
    switch (op) {
      case 0: {
        const len = c.uleb();
        if (len === 0 || len > c.left) throw new FormatError(`bad extended opcode length ${len}`);
        const next = c.pos + len;
        const sub = c.u8();
        if (sub === DW_LNE.end_sequence) {
          if (rows.length) out.push({ rows, end: addr });
          reset();
        } else if (sub === DW_LNE.set_address) {
          addr = c.uN(len - 1) & mask;
          opIndex = 0;
        } else if (sub === DW_LNE.define_file && version < 5) {
          const s = c.cstr();
          const dir = c.uleb();
          fileIds.push(intern(joinPath(dirs[dir], s)));
        }
        c.pos = next; // DW_LNE_set_discriminator and vendor opcodes: skipped by their length
        break;
      }
      case DW_LNS.copy: emit(); break;
      case DW_LNS.advance_pc: advance(c.uleb()); break;
      case DW_LNS.advance_line: line += c.sleb(); break;
      case DW_LNS.set_file: file = c.uleb(); break;
      case DW_LNS.set_column: column = c.uleb(); break;
      case DW_LNS.negate_stmt: isStmt = !isStmt; break;
      case DW_LNS.const_add_pc: advance(Math.floor((255 - opcodeBase) / lineRange)); break;
      case DW_LNS.fixed_advance_pc: addr = (addr + BigInt(c.u16())) & mask; opIndex = 0; break;
      case DW_LNS.set_basic_block: case DW_LNS.set_prologue_end: case DW_LNS.set_epilogue_begin: break;
      default:
        // DW_LNS_set_isa and opcodes newer than the reader: skip their declared LEB operands.
        for (let i = 0; i < (stdLengths[op - 1] ?? 0); i++) c.uleb();
    }
  }
  return out;
}

function readLineTables(sec: DebugSections, cus: Map<number, CompUnit>, intern: (p: string) => number,
  warn: (m: string) => void): Sequence[] {
  const out: Sequence[] = [];
  if (!sec.line) return out;
  const top = new Cursor(sec.line, 0, sec.line.length);
  while (top.left > 0) {
    const at = top.pos;
    try {
      const { body, offsetSize } = top.unit();
      out.push(...readLineUnit(body, offsetSize, sec, cus.get(at), intern));
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      warn(`.debug_line unit at offset ${at}: ${e.message}`);
      if (top.pos === at) break;
    }
  }
  return out;
}


// ---------------------------------------------------------------------------------------------------
// Lookups

/** Index of the last element of sorted `xs` that is <= x, or -1. */
function lastAtOrBelow(xs: readonly bigint[], x: bigint): number {
  let lo = 0, hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Path components for suffix matching ('/' and '\' both separate). */
const components = (p: string) => p.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');

/** Of aliases at one address, the one shown: global over local, then sized over unsized, then first. */
function preferred(a: FuncSym, b: FuncSym): FuncSym {
  if (a.global !== b.global) return a.global ? a : b;
  if (a.sized !== b.sized) return a.sized ? a : b;
  return a;
}

/** One symbol per start address, sorted by address. */
function byStart(syms: readonly FuncSym[]): FuncSym[] {
  const m = new Map<bigint, FuncSym>();
  for (const s of syms) {
    const o = m.get(s.start);
    m.set(s.start, o ? preferred(o, s) : s);
  }
  return [...m.values()].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

export class GuestSymbols {
  readonly hasLines: boolean;
  /** Damaged debug-information units that were skipped (the rest of the file is still used). */
  readonly warnings: readonly string[];

  private readonly files: string[];
  // Address ranges of the line table, sorted by start: [start, end) maps to file/line/column.
  private readonly rStart: bigint[] = [];
  private readonly rEnd: bigint[] = [];
  private readonly rFile: number[] = [];
  private readonly rLine: number[] = [];
  private readonly rColumn: number[] = [];
  /** is_stmt addresses where a line begins: file id -> line -> addresses (ascending). */
  private readonly stmtStarts = new Map<number, Map<number, Set<bigint>>>();
  private readonly sized: FuncSym[];
  private readonly sizedStart: bigint[];
  /** Running maximum of `sized[i].end`, so nested or overlapping functions are found. */
  private readonly sizedMaxEnd: bigint[];
  private readonly all: FuncSym[];
  private readonly allStart: bigint[];
  private readonly byName = new Map<string, FuncSym>();

  private constructor(elf: ElfImage, warnings: string[]) {
    this.warnings = warnings;
    const find = (name: string) => {
      const s = elf.sections.find((x) => x.name === name);
      return s && sectionBytes(elf, s);
    };
    const sec: DebugSections = {
      info: find('.debug_info'), abbrev: find('.debug_abbrev'), line: find('.debug_line'),
      str: find('.debug_str'), lineStr: find('.debug_line_str'), strOffsets: find('.debug_str_offsets'),
    };
    const warn = (m: string) => warnings.push(m);
    const files: string[] = [];
    const ids = new Map<string, number>();
    const intern = (p: string) => {
      let id = ids.get(p);
      if (id === undefined) ids.set(p, (id = files.push(p) - 1));
      return id;
    };
    this.files = files;
    const sequences = readLineTables(sec, readCompUnits(sec, warn), intern, warn);
    const linked = elf.type === ELF.ET_EXEC || elf.type === ELF.ET_DYN;
    const alloc = elf.sections.filter((s) => s.flags & BigInt(ELF.SHF_ALLOC) && s.size > 0);
    const live = (a: bigint) => alloc.some((s) => a >= s.addr && a < s.addr + BigInt(s.size));
    const kept = sequences.filter((s) => !linked || alloc.length === 0 || live(s.rows[0].addr));
    this.indexRanges(kept);
    this.indexStatements(kept);
    this.hasLines = this.rStart.length > 0;

    const funcs = readFunctions(elf);
    this.sized = byStart(funcs.filter((f) => f.sized));
    this.sizedStart = this.sized.map((f) => f.start);
    let max = 0n;
    this.sizedMaxEnd = this.sized.map((f) => (max = f.end > max ? f.end : max));
    // Unsized symbols end where the next symbol (or their section) starts.
    this.all = byStart(funcs);
    this.allStart = this.all.map((f) => f.start);
    for (let i = 0; i < this.all.length; i++) {
      const f = this.all[i];
      if (f.sized) continue;
      const next = this.all[i + 1]?.start;
      const home = alloc.find((s) => f.start >= s.addr && f.start < s.addr + BigInt(s.size));
      const secEnd = home ? home.addr + BigInt(home.size) : undefined;
      f.end = next !== undefined && (secEnd === undefined || next < secEnd) ? next : secEnd ?? f.start + 1n;
    }
    for (const f of funcs) {
      const o = this.byName.get(f.name);
      this.byName.set(f.name, o ? preferred(o, f) : f);
    }
  }

  static load(elf: Uint8Array, path: string): GuestSymbols {
    try {
      return new GuestSymbols(readElf(elf), []);
    } catch (e) {
      // Anything thrown while reading is about the file; say which file.
      throw new Error(`${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Address ranges from the sequences; of several rows at one address the last wins (as bfd). */
  private indexRanges(seqs: readonly Sequence[]): void {
    const ranges: { start: bigint; end: bigint; row: Row }[] = [];
    for (const { rows, end } of seqs) {
      for (let i = 0; i < rows.length; i++) {
        const next = i + 1 < rows.length ? rows[i + 1].addr : end;
        if (next > rows[i].addr && rows[i].file >= 0) ranges.push({ start: rows[i].addr, end: next, row: rows[i] });
      }
    }
    ranges.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    for (const r of ranges) {
      this.rStart.push(r.start);
      this.rEnd.push(r.end);
      this.rFile.push(r.row.file);
      this.rLine.push(r.row.line);
      this.rColumn.push(r.row.column);
    }
  }

  /**
   * Where lines begin: is_stmt rows not preceded by an is_stmt row of the same line (a line that
   * resumes as a statement after non-statement rows begins again, as gdb sees it).
   */
  private indexStatements(seqs: readonly Sequence[]): void {
    for (const { rows } of seqs) {
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i];
        const prev = rows[i - 1];
        if (!r.isStmt || r.file < 0 || (prev?.isStmt && prev.file === r.file && prev.line === r.line)) continue;
        let byLine = this.stmtStarts.get(r.file);
        if (!byLine) this.stmtStarts.set(r.file, (byLine = new Map()));
        const set = byLine.get(r.line);
        if (set) set.add(r.addr);
        else byLine.set(r.line, new Set([r.addr]));
      }
    }
  }

  private rangeAt(addr: bigint): number {
    const i = lastAtOrBelow(this.rStart, addr);
    return i >= 0 && addr < this.rEnd[i] ? i : -1;
  }

  lineAt(addr: bigint): SourceLine | null {
    const i = this.rangeAt(addr);
    return i < 0 ? null : { file: this.files[this.rFile[i]], line: this.rLine[i], column: this.rColumn[i] };
  }

  lineRange(addr: bigint): { start: bigint; end: bigint } | null {
    const i = this.rangeAt(addr);
    if (i < 0) return null;
    const same = (j: number) => this.rFile[j] === this.rFile[i] && this.rLine[j] === this.rLine[i];
    let lo = i, hi = i;
    while (lo > 0 && this.rEnd[lo - 1] === this.rStart[lo] && same(lo - 1)) lo--;
    while (hi + 1 < this.rStart.length && this.rStart[hi + 1] === this.rEnd[hi] && same(hi + 1)) hi++;
    return { start: this.rStart[lo], end: this.rEnd[hi] };
  }

  /** File ids for a path: the exact path, else those sharing the longest trailing path (>= basename). */
  private matchFiles(file: string): number[] {
    const exact = this.files.flatMap((f, id) => (f === file && this.stmtStarts.has(id) ? [id] : []));
    if (exact.length) return exact;
    const want = components(file);
    let best = 0;
    let ids: number[] = [];
    this.files.forEach((f, id) => {
      if (!this.stmtStarts.has(id)) return;
      const have = components(f);
      let n = 0;
      while (n < want.length && n < have.length && want[want.length - 1 - n] === have[have.length - 1 - n]) n++;
      if (n > best) [best, ids] = [n, [id]];
      else if (n === best && n > 0) ids.push(id);
    });
    return ids;
  }

  addressesForLine(file: string, line: number): bigint[] {
    const ids = this.matchFiles(file);
    if (!ids.length) return [];
    // The line itself, else the next line with code (in any of the matching files).
    let target = Infinity;
    for (const id of ids) {
      for (const l of this.stmtStarts.get(id)!.keys()) if (l >= line && l < target) target = l;
    }
    if (target === Infinity) return [];
    const out = ids.flatMap((id) => [...(this.stmtStarts.get(id)!.get(target) ?? [])]);
    return [...new Set(out)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  functionAt(addr: bigint): FunctionSymbol | null {
    // The innermost sized function containing addr (walk back only while an earlier one could).
    for (let i = lastAtOrBelow(this.sizedStart, addr); i >= 0 && this.sizedMaxEnd[i] > addr; i--) {
      const f = this.sized[i];
      if (addr < f.end) return { name: f.name, start: f.start, end: f.end };
    }
    // Else the nearest preceding symbol, if unsized: it extends to the next symbol.
    const j = lastAtOrBelow(this.allStart, addr);
    const f = this.all[j];
    if (!f || f.sized || addr >= f.end) return null;
    return { name: f.name, start: f.start, end: f.end };
  }

  functionAddress(name: string): bigint | null {
    return this.byName.get(name)?.start ?? null;
  }

  sourceFiles(): string[] {
    return [...new Set([...this.stmtStarts.keys(), ...this.rFile].map((id) => this.files[id]))].sort();
  }
}

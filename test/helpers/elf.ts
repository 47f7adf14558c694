// Minimal ELF reader for tests: the bytes of every executable PROGBITS section of a relocatable or
// linked ELF32/ELF64 little-endian file (.text, .text.startup, .text.unlikely, ...).

export interface CodeSection {
  readonly name: string;
  readonly bytes: Uint8Array;
}

const SHT_PROGBITS = 1;
const SHF_EXECINSTR = 4;

export function executableSections(file: Uint8Array): CodeSection[] {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (dv.getUint32(0, false) !== 0x7f454c46) throw new Error('not an ELF file');
  const is64 = file[4] === 2;
  if (file[5] !== 1) throw new Error('not a little-endian ELF file');
  const word = (off: number): number => (is64 ? Number(dv.getBigUint64(off, true)) : dv.getUint32(off, true));
  const shoff = word(is64 ? 0x28 : 0x20);
  const shentsize = dv.getUint16(is64 ? 0x3a : 0x2e, true);
  const shnum = dv.getUint16(is64 ? 0x3c : 0x30, true);
  const shstrndx = dv.getUint16(is64 ? 0x3e : 0x32, true);
  const header = (i: number) => {
    const o = shoff + i * shentsize;
    return {
      name: dv.getUint32(o, true),
      type: dv.getUint32(o + 4, true),
      flags: word(o + 8),
      offset: word(is64 ? o + 0x18 : o + 0x10),
      size: word(is64 ? o + 0x20 : o + 0x14),
    };
  };
  const strtab = header(shstrndx);
  const nameAt = (off: number): string => {
    let e = strtab.offset + off;
    while (file[e] !== 0) e++;
    return new TextDecoder().decode(file.subarray(strtab.offset + off, e));
  };
  const out: CodeSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    if (h.type === SHT_PROGBITS && h.flags & SHF_EXECINSTR && h.size > 0) {
      out.push({ name: nameAt(h.name), bytes: file.slice(h.offset, h.offset + h.size) });
    }
  }
  return out;
}

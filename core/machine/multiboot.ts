// Multiboot (v1) loading the way `qemu-system-x86_64 -kernel` does it: find the header in the first
// 8 KiB, load an ELF32 image by its program headers (or, with flag 16, by the header's address
// fields), build the Multiboot information block, and describe the boot CPU state.

export const MULTIBOOT_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;

export class ImageError extends Error {}

export interface LoadedImage {
  /** Byte ranges to copy into guest RAM. */
  chunks: { addr: number; bytes: Uint8Array; zeroTo: number }[];
  entry: number;
  /** First byte after the image (including BSS). */
  end: number;
}

const rd32 = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
const rd16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);

export function findHeader(img: Uint8Array): number {
  const limit = Math.min(img.length, 8192) - 12;
  for (let i = 0; i <= limit; i += 4) {
    if (rd32(img, i) === MULTIBOOT_MAGIC) {
      const flags = rd32(img, i + 4), sum = rd32(img, i + 8);
      if (((MULTIBOOT_MAGIC + flags + sum) >>> 0) === 0) return i;
    }
  }
  return -1;
}

/** Parse an image; throws ImageError with a message naming the problem. */
export function parseImage(img: Uint8Array, ramBytes: number): LoadedImage {
  if (img.length < 12) throw new ImageError('file too small to be a kernel image');
  const h = findHeader(img);
  if (h < 0) throw new ImageError('no Multiboot header (magic 0x1BADB002 with a valid checksum) in the first 8 KiB');
  const flags = rd32(img, h + 4);
  if (flags & 4) throw new ImageError('the Multiboot header asks for VBE video mode information, which is not supported');
  const isElf = img[0] === 0x7f && img[1] === 0x45 && img[2] === 0x4c && img[3] === 0x46;
  const check = (addr: number, size: number, what: string) => {
    if (addr + size > ramBytes) {
      throw new ImageError(`${what} at 0x${addr.toString(16)}..0x${(addr + size).toString(16)} lies outside guest RAM (${ramBytes / 1048576} MiB)`);
    }
  };
  if (!(flags & 0x10000)) {
    if (!isElf) throw new ImageError('not an ELF file, and the Multiboot header has no address fields (flag 16)');
    if (img[4] === 2 || rd16(img, 18) === 62) {
      throw new ImageError('ELF64 image: Multiboot v1 loaders (and QEMU -kernel) need an ELF32 image (objcopy -O elf32-i386)');
    }
    if (img[4] !== 1 || img[5] !== 1) throw new ImageError('unsupported ELF class or byte order (need 32-bit little-endian)');
    const machine = rd16(img, 18);
    if (machine !== 3) throw new ImageError(`ELF machine ${machine} is not i386 (3)`);
    const phoff = rd32(img, 28), phentsize = rd16(img, 42), phnum = rd16(img, 44);
    if (phoff + phnum * phentsize > img.length) throw new ImageError('ELF program headers lie past the end of the file');
    const chunks: LoadedImage['chunks'] = [];
    let end = 0, low = Infinity;
    for (let k = 0; k < phnum; k++) {
      const p = phoff + k * phentsize;
      if (rd32(img, p) !== 1) continue; // PT_LOAD
      const off = rd32(img, p + 4), paddr = rd32(img, p + 12), filesz = rd32(img, p + 16), memsz = rd32(img, p + 20);
      if (memsz === 0) continue;
      if (off + filesz > img.length) throw new ImageError(`ELF segment ${k} extends past the end of the file`);
      check(paddr, memsz, `ELF segment ${k}`);
      chunks.push({ addr: paddr, bytes: img.subarray(off, off + filesz), zeroTo: paddr + memsz });
      end = Math.max(end, paddr + memsz);
      low = Math.min(low, paddr);
    }
    if (!chunks.length) throw new ImageError('ELF file has no loadable segments');
    return { chunks, entry: rd32(img, 24), end };
  }
  const headerAddr = rd32(img, h + 12), loadAddr = rd32(img, h + 16), loadEnd = rd32(img, h + 20);
  const bssEnd = rd32(img, h + 24), entry = rd32(img, h + 28);
  if (headerAddr < loadAddr) throw new ImageError('invalid Multiboot load_addr (above header_addr)');
  if (headerAddr - loadAddr > h) throw new ImageError('invalid Multiboot header_addr');
  const textOffset = h - (headerAddr - loadAddr);
  let loadSize: number;
  if (loadEnd) {
    if (loadEnd < loadAddr) throw new ImageError('invalid Multiboot load_end_addr (below load_addr)');
    loadSize = loadEnd - loadAddr;
  } else loadSize = img.length - textOffset;
  if (textOffset + loadSize > img.length) throw new ImageError('Multiboot load range extends past the end of the file');
  let kernelSize = loadSize;
  if (bssEnd) {
    if (bssEnd < loadAddr + loadSize) throw new ImageError('invalid Multiboot bss_end_addr (below load_end_addr)');
    kernelSize = bssEnd - loadAddr;
  }
  check(loadAddr, kernelSize, 'Multiboot load range');
  return {
    chunks: [{ addr: loadAddr, bytes: img.subarray(textOffset, textOffset + loadSize), zeroTo: loadAddr + kernelSize }],
    entry, end: loadAddr + kernelSize,
  };
}

/** Where the boot GDT lives (in the reserved EBDA area the memory map hides from the guest). */
export const BOOT_GDT = 0x9fc00;

export interface BootInfo {
  /** Physical address of the Multiboot information structure. */
  mbi: number;
  /** Bytes to write: [addr, data]. */
  writes: [number, Uint8Array][];
}

/** Build the Multiboot information block after the image (page aligned), as QEMU does. */
export function buildBootInfo(imageEnd: number, ramBytes: number, cmdline: string, loaderName = 'vsmrr'): BootInfo {
  const mbi = Math.ceil(imageEnd / 4096) * 4096;
  const enc = new TextEncoder();
  const cmd = enc.encode(cmdline + '\0');
  const name = enc.encode(loaderName + '\0');
  const cmdAddr = mbi + 0x100;
  const nameAddr = cmdAddr + cmd.length;
  const mmapAddr = (nameAddr + name.length + 7) & ~7;
  // E820-style map as QEMU's SeaBIOS/multiboot ROM reports it.
  const below4g = Math.min(ramBytes, 0xe0000000);
  const ranges: [number, number, number][] = [
    [0, 0x9fc00, 1], [0x9fc00, 0x400, 2], [0xf0000, 0x10000, 2], [0x100000, below4g - 0x100000, 1],
    [0xfffc0000, 0x40000, 2],
  ];
  if (ramBytes > below4g) ranges.push([0x100000000, ramBytes - below4g, 1]);
  const mmap = new Uint8Array(ranges.length * 24);
  const mv = new DataView(mmap.buffer);
  ranges.forEach(([base, len, type], k) => {
    const o = k * 24;
    mv.setUint32(o, 20, true);
    mv.setUint32(o + 4, base % 2 ** 32, true); mv.setUint32(o + 8, Math.floor(base / 2 ** 32), true);
    mv.setUint32(o + 12, len % 2 ** 32, true); mv.setUint32(o + 16, Math.floor(len / 2 ** 32), true);
    mv.setUint32(o + 20, type, true);
  });
  if (mmapAddr + mmap.length > ramBytes) throw new ImageError('no room for the Multiboot information after the image');
  const info = new Uint8Array(0x58);
  const iv = new DataView(info.buffer);
  const MEM = 1, CMDLINE = 4, MODS = 8, MMAP = 64, LOADER = 512;
  iv.setUint32(0, MEM | CMDLINE | MODS | MMAP | LOADER, true);
  iv.setUint32(4, 639, true); // below the EBDA at 0x9FC00, as QEMU reports
  iv.setUint32(8, Math.floor((below4g - 0x100000) / 1024), true);
  iv.setUint32(16, cmdAddr, true);
  iv.setUint32(20, 0, true); // mods_count
  iv.setUint32(24, mmapAddr, true); // mods_addr (no modules; points at nothing)
  iv.setUint32(44, mmap.length, true);
  iv.setUint32(48, mmapAddr, true);
  iv.setUint32(64, nameAddr, true);
  // Boot GDT: null, 0x08 flat 32-bit code, 0x10 flat data.
  const gdt = new Uint8Array(24);
  const gv = new DataView(gdt.buffer);
  gv.setUint32(8, 0x0000ffff, true); gv.setUint32(12, 0x00cf9b00, true);
  gv.setUint32(16, 0x0000ffff, true); gv.setUint32(20, 0x00cf9300, true);
  return { mbi, writes: [[mbi, info], [cmdAddr, cmd], [nameAddr, name], [mmapAddr, mmap], [BOOT_GDT, gdt]] };
}

// Guest-physical memory: RAM as one ArrayBuffer from address 0, plus the decoded-instruction cache
// (owned here because it is keyed by physical page and must die when that page is written).

import type { Insn } from '../x86/decode/insn.js';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
/** PhysMem.dirty bits. */
export const DIRTY_SNAPSHOT = 1, DIRTY_HASH = 2;

/** Something holding write translations that must be dropped when a page starts holding code. */
export interface WriteTranslationHolder {
  flushWrites(): void;
  /** Decoded code was dropped somewhere: forget cached fetch state. */
  codeChanged?(): void;
  /** Debugger watchpoints were switched on or off (see PhysMem.setWatch). */
  watchChanged?(on: boolean): void;
}

/**
 * Debugger data watchpoints, as the machine's owner supplies them. While a hook is installed every
 * data access leaves the TLB fast paths (the TLB contents stay exactly as they are, so the guest sees
 * no difference) and reaches `access`, which decides whether it touches a watched range.
 */
export interface WatchHook {
  /**
   * A guest data access of `size` bytes: the linear address as int32 halves (linHi = -1 and linLo = -1
   * for a guest-physical access made by the hypervisor on the guest's behalf) and its guest-physical
   * address.
   */
  access(linLo: number, linHi: number, gpa: number, size: number, write: boolean): void;
}

export class PhysMem {
  readonly ram: Uint8Array;
  readonly dv: DataView;
  readonly size: number;
  readonly pages: number;
  /** Decoded instructions per (page, code mode): index page*3+mode → 4096 slots. */
  private readonly code = new Map<number, (Insn | undefined)[]>();
  /** Pages that currently have decoded instructions cached. */
  readonly codePage: Uint8Array;
  /** Incremented whenever cached code is dropped; fetch caches compare against it. */
  codeGen = 0;
  /** Pages whose guest writes are dropped (hypervisor overlay pages such as the hypercall page). */
  readonly writeIgnored: Uint8Array;
  /**
   * Write tracking per page, exact (the access port's write fast paths mark it too): bit 0 (DIRTY_SNAPSHOT)
   * = written since the last takeDirtyPages (delta checkpoints), bit 1 (DIRTY_HASH) = written since its
   * hash was last computed (hashRam).
   */
  readonly dirty: Uint8Array;
  /** Hash of each page (two 32-bit lanes), valid where DIRTY_HASH is clear. */
  private readonly pageHash: Int32Array;
  private readonly holders: WriteTranslationHolder[] = [];

  constructor(sizeBytes: number) {
    if (sizeBytes % PAGE_SIZE) throw new Error('RAM size must be a multiple of 4 KiB');
    this.size = sizeBytes;
    this.pages = sizeBytes / PAGE_SIZE;
    this.ram = new Uint8Array(sizeBytes);
    this.dv = new DataView(this.ram.buffer);
    this.codePage = new Uint8Array(this.pages);
    this.dirty = new Uint8Array(this.pages).fill(DIRTY_HASH);
    this.pageHash = new Int32Array(this.pages * 2);
    this.writeIgnored = new Uint8Array(this.pages);
  }

  registerWriteHolder(h: WriteTranslationHolder): void {
    this.holders.push(h);
  }

  /** The installed watchpoint hook, or null. */
  watch: WatchHook | null = null;

  /** Install (or with null remove) the debugger's watchpoint hook for every access port. */
  setWatch(hook: WatchHook | null): void {
    this.watch = hook;
    for (const h of this.holders) h.watchChanged?.(hook !== null);
  }

  isRam(addr: number, size: number): boolean {
    return addr >= 0 && addr + size <= this.size;
  }

  /** The decode slots of a RAM page in a mode, creating them (and write-protecting the page) on first use. */
  codeSlots(page: number, mode: number): (Insn | undefined)[] {
    const key = page * 3 + mode;
    let slots = this.code.get(key);
    if (slots === undefined) {
      slots = new Array<Insn | undefined>(PAGE_SIZE);
      this.code.set(key, slots);
      if (!this.codePage[page]) {
        this.codePage[page] = 1;
        // Writes to this page must now take the slow path so they can drop its decoded code.
        for (const h of this.holders) h.flushWrites();
      }
    }
    return slots;
  }

  /** Called on a write to a page that holds decoded code. */
  invalidateCode(page: number): void {
    if (!this.codePage[page]) return;
    this.codePage[page] = 0;
    this.code.delete(page * 3);
    this.code.delete(page * 3 + 1);
    this.code.delete(page * 3 + 2);
    this.codeGen++;
    for (const h of this.holders) h.codeChanged?.();
  }

  /**
   * Pages written since the last call, and start tracking afresh. Tracking is exact without touching
   * the TLBs: the write fast paths mark pages themselves.
   */
  takeDirtyPages(): number[] {
    const out: number[] = [];
    const d = this.dirty;
    for (let p = 0; p < d.length; p++) if (d[p] & DIRTY_SNAPSHOT) { out.push(p); d[p] &= ~DIRTY_SNAPSHOT; }
    return out;
  }

  /** All of RAM changed (a snapshot restore): every page is dirty for both purposes. */
  markAllDirty(): void { this.dirty.fill(DIRTY_SNAPSHOT | DIRTY_HASH); }

  /**
   * Feed RAM into a state hash: the hash of every page in order, each recomputed only if the page was
   * written since (so a hash costs the pages written, not the size of RAM).
   */
  hashRam(h: { words(w: Int32Array): void }): void {
    const d = this.dirty, ph = this.pageHash, words = new Int32Array(this.ram.buffer, this.ram.byteOffset, this.size >>> 2);
    for (let p = 0; p < this.pages; p++) {
      if (!(d[p] & DIRTY_HASH)) continue;
      d[p] &= ~DIRTY_HASH;
      let a = 0x811c9dc5 | 0, b = 0x5bd1e995 ^ p;
      for (let k = p * 1024, end = k + 1024; k < end; k++) {
        const w = words[k];
        a = Math.imul(a ^ w, 0x01000193);
        b = Math.imul(b ^ w, 0x5bd1e995) ^ (b >>> 15);
      }
      ph[2 * p] = a; ph[2 * p + 1] = b;
    }
    h.words(ph);
  }

  /** Drop every decoded instruction (after a snapshot restore). */
  invalidateAllCode(): void {
    this.code.clear();
    this.codePage.fill(0);
    this.codeGen++;
    for (const h of this.holders) h.codeChanged?.();
  }

  // Plain physical accessors for loaders, devices and page walks. They do not invalidate code
  // unless they write; every write marks the page dirty.
  read8(a: number): number { return this.ram[a]; }
  read32(a: number): number { return this.dv.getUint32(a, true); }
  write8(a: number, v: number): void { this.noteWrite(a, 1); this.ram[a] = v; }
  write32(a: number, v: number): void { this.noteWrite(a, 4); this.dv.setUint32(a, v >>> 0, true); }
  writeBytes(a: number, bytes: Uint8Array): void {
    for (let p = a >>> PAGE_SHIFT, end = (a + bytes.length - 1) >>> PAGE_SHIFT; p <= end; p++) this.notePage(p);
    this.ram.set(bytes, a);
  }

  noteWrite(a: number, size: number): void {
    this.notePage(Math.floor(a / PAGE_SIZE));
    if (((a & 0xfff) + size) > PAGE_SIZE) this.notePage(Math.floor(a / PAGE_SIZE) + 1);
  }

  notePage(p: number): void {
    this.dirty[p] = DIRTY_SNAPSHOT | DIRTY_HASH;
    if (this.codePage[p]) this.invalidateCode(p);
  }
}

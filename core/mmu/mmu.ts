// The access port of one (VP, VTL): every guest linear-address access goes through here.
// Stage 1 is the guest's own paging (32-bit, PAE, 4-level), cached in a direct-mapped TLB with one
// way per access kind and privilege; stage 2 is the per-VTL protection check supplied by the machine
// (core/hv fills it in). A TLB entry exists only for a translation that passed both stages, so the
// fast paths below are the complete check.

import { CR0, CR4, EFER, PFEC } from '../x86/defs/arch.js';
import type { CpuState } from '../x86/state.js';
import { PAGE_SIZE, type PhysMem, type WriteTranslationHolder } from '../memory/phys.js';
import type { MmioDevice } from '../devices/types.js';

export const ACCESS = { READ: 0, WRITE: 1, EXEC: 2 } as const;
// Module-level copies for the fast paths: V8 folds these, while every use of the exported binding is a
// load through a cell with a check.
const READ = ACCESS.READ, WRITE = ACCESS.WRITE, EXEC = ACCESS.EXEC, PAGE = PAGE_SIZE;

/** A guest fault raised during translation; the CPU turns it into an exception at the boundary. */
export class PageFault {
  constructor(readonly errorCode: number, readonly addrLo: number, readonly addrHi: number) {}
}

/** Raised for a non-canonical linear address (#GP(0), or #SS(0) for stack accesses). */
export class NonCanonical {
  constructor(readonly addrLo: number, readonly addrHi: number) {}
}

/**
 * Stage-2 check for the VTL that owns this port. `allows` returns true when the access may complete;
 * otherwise `violation` is thrown out of the access (the machine turns it into a secure intercept).
 */
export interface StageTwo {
  allows(gpa: number, access: number, user: boolean): boolean;
  violation(gpa: number, access: number, linLo: number, linHi: number): unknown;
}

/** Physical windows private to this port (the local APIC page). */
export interface LocalMmio {
  base: number;
  size: number;
  dev: MmioDevice;
}

const TLB_BITS = 10;
const TLB_SIZE = 1 << TLB_BITS;
const TLB_MASK = TLB_SIZE - 1;
const TWO32 = 4294967296;
/** tagLo of an empty entry: not page-aligned, so it never matches. */
const EMPTY = 1;

export class Mmu implements WriteTranslationHolder {
  /**
   * Tags per kind (read/write/exec × supervisor/user): the linear page as int32 halves, so that the fast
   * paths compare integers. tagLo is the page-aligned low half, or EMPTY.
   */
  private readonly tagLo = new Int32Array(6 * TLB_SIZE).fill(EMPTY);
  private readonly tagHi = new Int32Array(6 * TLB_SIZE);
  /** Physical page number (RAM is at most 3 GiB, so it fits). */
  private readonly ppn = new Int32Array(6 * TLB_SIZE);
  private readonly global = new Uint8Array(6 * TLB_SIZE);
  private readonly dv: DataView;
  private readonly ram: Uint8Array;
  /** PhysMem.dirty: the write fast paths mark their page (3 = both DIRTY_SNAPSHOT and DIRTY_HASH). */
  private readonly dirty: Uint8Array;
  /** Extra high half of the last 64-bit read. */
  hi = 0;
  stage2: StageTwo | null = null;
  localMmio: LocalMmio[] = [];
  /** MMIO/unbacked-read hook for physical addresses outside RAM and local windows. */
  unmapped: ((gpa: number, size: number, write: boolean, value: number) => number) | null = null;
  /** Number of stage-1 walks performed (for statistics). */
  walks = 0;

  /**
   * OR-ed into the tag a lookup compares: 0 normally, 2 while watchpoints are installed. Tags are
   * page-aligned (or EMPTY = 1), so with bit 1 set no lookup hits: every access takes the slow path,
   * which checks the watchpoints, while the TLB itself is left exactly as the guest made it.
   */
  private missBit = 0;

  constructor(private readonly st: CpuState, private readonly mem: PhysMem) {
    this.dv = mem.dv;
    this.ram = mem.ram;
    this.dirty = mem.dirty;
    mem.registerWriteHolder(this);
    this.missBit = mem.watch !== null ? 2 : 0;
  }

  watchChanged(on: boolean): void {
    this.missBit = on ? 2 : 0;
    this.onFlush();
  }

  // ---- Snapshots --------------------------------------------------------------------------------

  /**
   * The TLB is architectural state as far as a guest can observe it (stale entries until a flush),
   * so a snapshot keeps it: a restored machine must behave exactly like the original.
   */
  saveTlb(): { tag: Float64Array; phys: Float64Array; global: Uint8Array } {
    // The snapshot format: tag = linear page number (-1 empty), phys = physical page address.
    const n = this.tagLo.length;
    const tag = new Float64Array(n), phys = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      tag[k] = this.tagLo[k] === EMPTY ? -1 : (this.tagHi[k] >>> 0) * 1048576 + (this.tagLo[k] >>> 12);
      phys[k] = this.ppn[k] * PAGE_SIZE;
    }
    return { tag, phys, global: this.global.slice() };
  }

  restoreTlb(t: { tag: ArrayLike<number>; phys: ArrayLike<number>; global: ArrayLike<number> }): void {
    for (let k = 0; k < this.tagLo.length; k++) {
      const vpn = t.tag[k];
      this.tagLo[k] = vpn < 0 ? EMPTY : ((vpn % 1048576) * PAGE_SIZE) | 0;
      this.tagHi[k] = vpn < 0 ? 0 : Math.floor(vpn / 1048576) | 0;
      this.ppn[k] = t.phys[k] / PAGE_SIZE;
    }
    this.global.set(t.global);
    this.onFlush();
  }

  // ---- TLB maintenance --------------------------------------------------------------------------

  /** Called after any flush (the CPU drops its cached fetch translation). */
  onFlush: () => void = () => {};

  flushAll(): void { this.tagLo.fill(EMPTY); this.onFlush(); }

  /** CR3 write: drop everything but global entries (when CR4.PGE). */
  flushNonGlobal(): void {
    this.onFlush();
    if (!(this.st.cr4 & CR4.PGE)) { this.tagLo.fill(EMPTY); return; }
    const t = this.tagLo, g = this.global;
    for (let k = 0; k < t.length; k++) if (!g[k]) t[k] = EMPTY;
  }

  flushPage(lo: number, hi: number): void {
    const idx = (lo >>> 12) & TLB_MASK;
    for (let k = idx; k < 6 * TLB_SIZE; k += TLB_SIZE) {
      if (this.tagLo[k] === (lo & ~0xfff) && this.tagHi[k] === (hi | 0)) this.tagLo[k] = EMPTY;
    }
    this.onFlush();
  }

  flushWrites(): void {
    this.tagLo.fill(EMPTY, ACCESS.WRITE * TLB_SIZE, (ACCESS.WRITE + 1) * TLB_SIZE);
    this.tagLo.fill(EMPTY, (3 + ACCESS.WRITE) * TLB_SIZE, (4 + ACCESS.WRITE) * TLB_SIZE);
  }

  // ---- Fast paths -------------------------------------------------------------------------------

  /** The TLB entry translating lo/hi for `kind` at the current privilege, or -1. */
  private slot(lo: number, hi: number, kind: number): number {
    const k = (this.st.cpl === 3 ? 3 + kind : kind) * TLB_SIZE + ((lo >>> 12) & TLB_MASK);
    return this.tagLo[k] === ((lo & ~0xfff) | this.missBit) && this.tagHi[k] === (hi | 0) ? k : -1;
  }

  read8(lo: number, hi: number): number {
    const k = this.slot(lo, hi, READ);
    if (k >= 0) return this.ram[this.ppn[k] * PAGE + (lo & 0xfff)];
    return this.slowRead(lo, hi, 1, READ);
  }

  read16(lo: number, hi: number): number {
    if ((lo & 0xfff) <= 0xffe) {
      const k = this.slot(lo, hi, READ);
      if (k >= 0) return this.dv.getUint16(this.ppn[k] * PAGE + (lo & 0xfff), true);
    }
    return this.slowRead(lo, hi, 2, READ);
  }

  /** 32-bit read; returns an int32. */
  read32(lo: number, hi: number): number {
    if ((lo & 0xfff) <= 0xffc) {
      const k = this.slot(lo, hi, READ);
      if (k >= 0) return this.dv.getInt32(this.ppn[k] * PAGE + (lo & 0xfff), true);
    }
    return this.slowRead(lo, hi, 4, READ) | 0;
  }

  /** 64-bit read: returns the low half (int32), the high half in this.hi. */
  read64(lo: number, hi: number): number {
    if ((lo & 0xfff) <= 0xff8) {
      const k = this.slot(lo, hi, READ);
      if (k >= 0) {
        const p = this.ppn[k] * PAGE + (lo & 0xfff);
        this.hi = this.dv.getInt32(p + 4, true);
        return this.dv.getInt32(p, true);
      }
    }
    const l = this.slowRead(lo, hi, 4, READ) | 0;
    const nlo = (lo + 4) | 0, nhi = (lo >>> 0) + 4 > 0xffffffff ? (hi + 1) | 0 : hi;
    this.hi = this.slowRead(nlo, nhi, 4, READ) | 0;
    return l;
  }

  write8(lo: number, hi: number, v: number): void {
    const k = this.slot(lo, hi, WRITE);
    if (k >= 0) { const p = this.ppn[k]; this.dirty[p] = 3; this.ram[p * PAGE + (lo & 0xfff)] = v; return; }
    this.slowWrite(lo, hi, 1, v);
  }

  write16(lo: number, hi: number, v: number): void {
    if ((lo & 0xfff) <= 0xffe) {
      const k = this.slot(lo, hi, WRITE);
      if (k >= 0) { const p = this.ppn[k]; this.dirty[p] = 3; this.dv.setUint16(p * PAGE + (lo & 0xfff), v, true); return; }
    }
    this.slowWrite(lo, hi, 2, v);
  }

  write32(lo: number, hi: number, v: number): void {
    if ((lo & 0xfff) <= 0xffc) {
      const k = this.slot(lo, hi, WRITE);
      if (k >= 0) { const p = this.ppn[k]; this.dirty[p] = 3; this.dv.setInt32(p * PAGE + (lo & 0xfff), v, true); return; }
    }
    this.slowWrite(lo, hi, 4, v);
  }

  write64(lo: number, hi: number, vlo: number, vhi: number): void {
    if ((lo & 0xfff) <= 0xff8) {
      const k = this.slot(lo, hi, WRITE);
      if (k >= 0) {
        this.dirty[this.ppn[k]] = 3;
        const p = this.ppn[k] * PAGE + (lo & 0xfff);
        this.dv.setInt32(p, vlo, true);
        this.dv.setInt32(p + 4, vhi, true);
        return;
      }
    }
    // Check both halves are writable before writing either, so a fault leaves memory untouched.
    const nlo = (lo + 4) | 0, nhi = (lo >>> 0) + 4 > 0xffffffff ? (hi + 1) | 0 : hi;
    this.translate(lo, hi, WRITE);
    this.translate(nlo, nhi, WRITE);
    this.slowWrite(lo, hi, 4, vlo);
    this.slowWrite(nlo, nhi, 4, vhi);
  }

  /** Physical address of an instruction fetch at a linear address (fills the exec TLB). */
  fetchAddr(lo: number, hi: number): number {
    const k = this.slot(lo, hi, EXEC);
    if (k >= 0) return this.ppn[k] * PAGE + (lo & 0xfff);
    return this.translate(lo, hi, EXEC);
  }

  /** Check that [lo, lo+len) is accessible for `access` without touching memory (probing). */
  probe(lo: number, hi: number, len: number, access: number): void {
    this.translate(lo, hi, access);
    const endLo = (lo + len - 1) | 0;
    if ((endLo >>> 12) !== (lo >>> 12)) {
      const endHi = (lo >>> 0) + len - 1 > 0xffffffff ? (hi + 1) | 0 : hi;
      this.translate(endLo, endHi, access);
    }
  }

  // ---- Slow paths -------------------------------------------------------------------------------

  private slowRead(lo: number, hi: number, size: number, access: number): number {
    const watch = this.mem.watch;
    if (((lo & 0xfff) + size) > PAGE_SIZE) {
      let v = 0;
      for (let i = size - 1; i >= 0; i--) {
        const blo = (lo + i) | 0, bhi = (lo >>> 0) + i > 0xffffffff ? (hi + 1) | 0 : hi;
        const gpa = this.translate(blo, bhi, access);
        if (watch !== null) watch.access(blo, bhi, gpa, 1, false);
        v = v * 256 + this.physRead(gpa, 1);
      }
      return v;
    }
    const gpa = this.translate(lo, hi, access);
    if (watch !== null) watch.access(lo, hi, gpa, size, false);
    return this.physRead(gpa, size);
  }

  private slowWrite(lo: number, hi: number, size: number, v: number): void {
    const watch = this.mem.watch;
    if (((lo & 0xfff) + size) > PAGE_SIZE) {
      // Translate every byte first: a fault on the second page must not leave a partial write.
      const addrs: number[] = [];
      for (let i = 0; i < size; i++) {
        const blo = (lo + i) | 0, bhi = (lo >>> 0) + i > 0xffffffff ? (hi + 1) | 0 : hi;
        addrs.push(this.translate(blo, bhi, ACCESS.WRITE));
      }
      for (let i = 0; i < size; i++) {
        if (watch !== null) watch.access((lo + i) | 0, (lo >>> 0) + i > 0xffffffff ? (hi + 1) | 0 : hi, addrs[i], 1, true);
        this.physWrite(addrs[i], 1, (v >>> (8 * i)) & 0xff);
      }
      return;
    }
    const gpa = this.translate(lo, hi, ACCESS.WRITE);
    if (watch !== null) watch.access(lo, hi, gpa, size, true);
    this.physWrite(gpa, size, v);
  }

  physRead(pa: number, size: number): number {
    if (pa + size <= this.mem.size) {
      if (size === 1) return this.ram[pa];
      if (size === 2) return this.dv.getUint16(pa, true);
      return this.dv.getUint32(pa, true);
    }
    for (const w of this.localMmio) {
      if (pa >= w.base && pa < w.base + w.size) return w.dev.mmioRead(pa - w.base, size as 1 | 2 | 4);
    }
    if (this.unmapped) return this.unmapped(pa, size, false, 0);
    return size === 4 ? 0xffffffff : (1 << (8 * size)) - 1;
  }

  /** A guest-physical read on the guest's behalf (hypercall input), with the stage-2 read check. */
  physReadChecked(gpa: number, size: number): number {
    const page = gpa - (gpa % PAGE_SIZE);
    if (this.stage2 && !this.stage2.allows(page, ACCESS.READ, false)) throw this.stage2.violation(gpa, ACCESS.READ, -1, -1);
    if (this.mem.watch !== null) this.mem.watch.access(-1, -1, gpa, size, false);
    return this.physRead(gpa, size);
  }

  /** A guest-physical write on the guest's behalf (hypercall output), with the stage-2 write check. */
  physWriteChecked(gpa: number, size: number, v: number): void {
    const page = gpa - (gpa % PAGE_SIZE);
    if (this.stage2 && !this.stage2.allows(page, ACCESS.WRITE, false)) throw this.stage2.violation(gpa, ACCESS.WRITE, -1, -1);
    if (this.mem.watch !== null) this.mem.watch.access(-1, -1, gpa, size, true);
    this.physWrite(gpa, size, v);
  }

  physWrite(pa: number, size: number, v: number): void {
    if (pa + size <= this.mem.size) {
      if (this.mem.writeIgnored[Math.floor(pa / PAGE_SIZE)]) return; // overlay page: writes are dropped
      this.mem.noteWrite(pa, size);
      if (size === 1) this.ram[pa] = v;
      else if (size === 2) this.dv.setUint16(pa, v, true);
      else this.dv.setInt32(pa, v, true);
      return;
    }
    for (const w of this.localMmio) {
      if (pa >= w.base && pa < w.base + w.size) { w.dev.mmioWrite(pa - w.base, size as 1 | 2 | 4, v >>> 0); return; }
    }
    if (this.unmapped) this.unmapped(pa, size, true, v);
  }

  /**
   * Translate a linear address for an access by the current CPL, filling the TLB on success.
   * Throws PageFault, NonCanonical, or the stage-2 violation.
   */
  translate(lo: number, hi: number, access: number): number {
    const st = this.st;
    const user = st.cpl === 3;
    const kind = (user ? 3 : 0) + access;
    const k = kind * TLB_SIZE + ((lo >>> 12) & TLB_MASK);
    if (this.tagLo[k] === (lo & ~0xfff) && this.tagHi[k] === (hi | 0)) return this.ppn[k] * PAGE + (lo & 0xfff);
    let page: number;
    let global = false;
    if (!(st.cr0 & CR0.PG)) {
      page = (lo >>> 0) - (lo & 0xfff);
      if (st.eferLo & EFER.LMA) page += (hi >>> 0) * TWO32;
    } else {
      const r = this.walk(lo, hi, access, user);
      page = r;
      global = this.lastGlobal;
    }
    const gpa = page + (lo & 0xfff);
    if (this.stage2 && !this.stage2.allows(page, access, user)) throw this.stage2.violation(gpa, access, lo, hi);
    const isRam = page + PAGE_SIZE <= this.mem.size;
    if (isRam) {
      const p = page / PAGE_SIZE;
      if (access === ACCESS.WRITE) {
        this.mem.notePage(p);
      }
      // Pages holding decoded code never get write entries: their writes must reach invalidateCode.
      // Overlay pages neither: their writes are dropped in physWrite.
      if (access !== ACCESS.WRITE || (!this.mem.codePage[p] && !this.mem.writeIgnored[p])) {
        this.tagLo[k] = lo & ~0xfff;
        this.tagHi[k] = hi | 0;
        this.ppn[k] = p;
        this.global[k] = global ? 1 : 0;
      }
    }
    return gpa;
  }

  private lastGlobal = false;
  /** Set while a hypercall translation runs without TranslateVirtualAddress's set-bits flag. */
  private suppressAD = false;

  /**
   * Translate for HvCallTranslateVirtualAddress: no TLB fill, the given privilege, A/D bits only when
   * asked. Returns the GPA or throws as translate() does (PageFault, NonCanonical, stage-2 violation).
   */
  translateUncached(lo: number, hi: number, access: number, user: boolean, setAD: boolean): number {
    const st = this.st;
    const saveCpl = st.cpl;
    st.cpl = user ? 3 : 0;
    this.suppressAD = !setAD;
    try {
      let page: number;
      if (!(st.cr0 & CR0.PG)) page = (lo >>> 0) - (lo & 0xfff) + (st.eferLo & EFER.LMA ? (hi >>> 0) * TWO32 : 0);
      else page = this.walk(lo, hi, access, user);
      const gpa = page + (lo & 0xfff);
      if (this.stage2 && !this.stage2.allows(page, access, user)) throw this.stage2.violation(gpa, access, lo, hi);
      return gpa;
    } finally {
      st.cpl = saveCpl;
      this.suppressAD = false;
    }
  }

  /** Stage-1 page walk; returns the physical page base. Sets A and D bits as the hardware does. */
  private walk(lo: number, hi: number, access: number, user: boolean): number {
    this.walks++;
    const st = this.st;
    const write = access === ACCESS.WRITE;
    const exec = access === ACCESS.EXEC;
    const nxe = (st.eferLo & EFER.NXE) !== 0;
    const wp = (st.cr0 & CR0.WP) !== 0;
    const fault = (present: boolean, rsvd = false): PageFault => {
      let ec = (present ? PFEC.P : 0) | (write ? PFEC.W : 0) | (user ? PFEC.U : 0) | (rsvd ? PFEC.RSVD | PFEC.P : 0);
      if (exec && (nxe || (st.cr4 & CR4.SMEP))) ec |= PFEC.I;
      return new PageFault(ec, lo, hi);
    };
    let rw = true, us = true, nx = false;
    let global = false;
    const dv = this.dv;
    const memSize = this.mem.size;
    const readEntry64 = (a: number): [number, number] => {
      this.walkCheck(a, ACCESS.READ);
      if (a + 8 > memSize) return [0, 0];
      return [dv.getUint32(a, true), dv.getUint32(a + 4, true)];
    };
    // Physical address width: 40 bits (CPUID 0x80000008). Bits 51:40 of an entry are reserved.
    const RSVD_HI = 0x000fff00;
    let page: number;
    if (st.eferLo & EFER.LMA) {
      // Canonical check: bits 63:47 all equal.
      const top = hi >> 15;
      if (top !== 0 && top !== -1) throw new NonCanonical(lo, hi);
      let table = (st.cr3Hi & 0xff) * TWO32 + ((st.cr3Lo >>> 0) & 0xfffff000);
      const va47 = (hi & 0xffff) * TWO32 + (lo >>> 0);
      const entries: number[] = [];
      let level = 4;
      for (;;) {
        const shift = 12 + 9 * (level - 1);
        const index = Math.floor(va47 / 2 ** shift) & 511;
        const ea = table + index * 8;
        const [elo, ehi] = readEntry64(ea);
        if (!(elo & 1)) throw fault(false);
        if (ehi & RSVD_HI) throw fault(true, true);
        if (!nxe && ehi & 0x80000000) throw fault(true, true);
        const ps = (elo & 0x80) !== 0;
        if (level === 4 && ps) throw fault(true, true);
        if (ps && level === 3 && (elo & 0x3fffe000)) throw fault(true, true);
        if (ps && level === 2 && (elo & 0x1fe000)) throw fault(true, true);
        rw &&= (elo & 2) !== 0;
        us &&= (elo & 4) !== 0;
        nx ||= nxe && (ehi & 0x80000000) !== 0;
        entries.push(ea);
        const addr = (ehi & 0xff) * TWO32 + ((elo & 0xfffff000) >>> 0);
        if (level === 1 || (ps && level <= 3)) {
          global = (elo & 0x100) !== 0;
          const span = 2 ** shift;
          page = (addr - (addr % span)) + (Math.floor(va47 / PAGE_SIZE) * PAGE_SIZE) % span;
          this.checkPerm(rw, us, nx, access, user, wp, fault);
          this.setAD(entries, ea, write);
          break;
        }
        table = addr;
        level--;
      }
    } else if (st.cr4 & CR4.PAE) {
      const va = lo >>> 0;
      const pdpt = ((st.cr3Lo >>> 0) & 0xffffffe0) + (va >>> 30) * 8;
      const [plo, phi] = readEntry64(pdpt);
      if (!(plo & 1)) throw fault(false);
      if (phi & RSVD_HI || plo & 0x1e6) throw fault(true, true);
      let table = (phi & 0xff) * TWO32 + ((plo & 0xfffff000) >>> 0);
      const entries: number[] = [];
      let level = 2;
      for (;;) {
        const shift = level === 2 ? 21 : 12;
        const ea = table + ((va >>> shift) & 511) * 8;
        const [elo, ehi] = readEntry64(ea);
        if (!(elo & 1)) throw fault(false);
        if (ehi & RSVD_HI) throw fault(true, true);
        if (!nxe && ehi & 0x80000000) throw fault(true, true);
        rw &&= (elo & 2) !== 0;
        us &&= (elo & 4) !== 0;
        nx ||= nxe && (ehi & 0x80000000) !== 0;
        entries.push(ea);
        const addr = (ehi & 0xff) * TWO32 + ((elo & 0xfffff000) >>> 0);
        if (level === 1 || elo & 0x80) {
          global = (elo & 0x100) !== 0;
          page = level === 2 ? (addr - (addr % 0x200000)) + (va & 0x1ff000) : addr;
          this.checkPerm(rw, us, nx, access, user, wp, fault);
          this.setAD(entries, ea, write);
          break;
        }
        table = addr;
        level--;
      }
    } else {
      const va = lo >>> 0;
      const pde = ((st.cr3Lo >>> 0) & 0xfffff000) + (va >>> 22) * 4;
      this.walkCheck(pde, ACCESS.READ);
      const d = pde + 4 <= memSize ? dv.getUint32(pde, true) : 0;
      if (!(d & 1)) throw fault(false);
      rw = (d & 2) !== 0; us = (d & 4) !== 0;
      if (d & 0x80 && st.cr4 & CR4.PSE) {
        global = (d & 0x100) !== 0;
        page = ((d & 0xffc00000) >>> 0) + (va & 0x3ff000) + ((d >>> 13) & 0xff) * TWO32;
        this.checkPerm(rw, us, false, access, user, wp, fault);
        this.setAD([], pde, write, 4);
      } else {
        const pte = ((d & 0xfffff000) >>> 0) + ((va >>> 12) & 1023) * 4;
        this.walkCheck(pte, ACCESS.READ);
        const t = pte + 4 <= memSize ? dv.getUint32(pte, true) : 0;
        if (!(t & 1)) throw fault(false);
        rw &&= (t & 2) !== 0; us &&= (t & 4) !== 0;
        global = (t & 0x100) !== 0;
        page = (t & 0xfffff000) >>> 0;
        this.checkPerm(rw, us, false, access, user, wp, fault);
        this.setAD([pde], pte, write, 4);
      }
    }
    this.lastGlobal = global && (st.cr4 & CR4.PGE) !== 0;
    return page;
  }

  private checkPerm(rw: boolean, us: boolean, nx: boolean, access: number, user: boolean, wp: boolean,
    fault: (present: boolean) => PageFault): void {
    if (user && !us) throw fault(true);
    if (access === ACCESS.WRITE && !rw && (user || wp)) throw fault(true);
    if (access === ACCESS.EXEC) {
      if (nx) throw fault(true);
      if (!user && us && this.st.cr4 & CR4.SMEP) throw fault(true);
    }
  }

  /**
   * Page-table accesses of a walk are guest-physical accesses of this VTL: reading an entry needs
   * read permission, setting A/D bits write permission (spec/vsm.md 6).
   */
  private walkCheck(gpa: number, access: number): void {
    const s2 = this.stage2;
    if (s2 && !s2.allows(gpa - (gpa % PAGE_SIZE), access, false)) throw s2.violation(gpa, access, -1, -1);
  }

  /** Set Accessed on every level and Dirty on the leaf for a write. Entries are in RAM. */
  private setAD(upper: number[], leaf: number, write: boolean, width = 8): void {
    if (this.suppressAD) return;
    const dv = this.dv;
    for (const a of upper) {
      if (a === leaf) continue;
      const v = dv.getUint32(a, true);
      if (!(v & 0x20)) { this.walkCheck(a, ACCESS.WRITE); dv.setUint32(a, v | 0x20, true); this.mem.notePage(Math.floor(a / PAGE_SIZE)); }
    }
    void width;
    const v = dv.getUint32(leaf, true);
    const nv = v | 0x20 | (write ? 0x40 : 0);
    if (nv !== v) { this.walkCheck(leaf, ACCESS.WRITE); dv.setUint32(leaf, nv >>> 0, true); this.mem.notePage(Math.floor(leaf / PAGE_SIZE)); }
  }
}

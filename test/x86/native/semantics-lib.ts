// Differential instruction-semantics testing: every instruction form in a table runs on randomized
// (fixed-seed) operands both natively on the host CPU and in the emulator, and the results are
// compared: all GPRs, XMM registers, a 512-byte memory buffer, the architecturally defined flags, and
// whether a fault was raised.
//
// Native side: from the table we generate an assembly file with one function per form (load the whole
// register state from a struct, run the form's instructions, store the state back), link it with
// driver.c, and feed it the cases on stdin. Emulator side: the same AT&T text is assembled with `as`
// (--64, and --32 for forms that also exist in 32-bit protected mode) and executed by InsnRunner.
// In 32-bit mode the native reference is the 64-bit execution of the same text: for 8/16/32-bit
// operations the low 32 bits of every register are the same in both modes.

import { execFileSync, spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { executableSections } from '../../helpers/elf.js';
import { Prng } from '../../helpers/prng.js';
import { haveTool, scratchDir } from '../../helpers/toolchain.js';
import { CODE_BASE, DATA_BASE, InsnRunner, type RunMode } from '../run-insn.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The emulator's copy of the memory buffer straddles a page boundary (at offset 256). */
const BUF = DATA_BASE + 0xf00;

export const MEMSIZE = 512;
const STATE_BYTES = 912;
const REC_BYTES = 8 + STATE_BYTES;

/** RFLAGS bits the tests compare. */
export const FL = { CF: 0x1, PF: 0x4, AF: 0x10, ZF: 0x40, SF: 0x80, DF: 0x400, OF: 0x800 } as const;
export const ARITH = FL.CF | FL.PF | FL.AF | FL.ZF | FL.SF | FL.OF;
/** Every compared flag: the value for instructions that leave the flags alone. */
export const ALLF = ARITH | FL.DF;
/** AND/OR/XOR/TEST: AF undefined. */
export const LOGICF = ALLF & ~FL.AF;

export interface CaseState {
  /** GPRs; pointer registers (bit set in ptr) hold an offset into mem. */
  r: bigint[];
  flags: number;
  xmm: Uint8Array;
  mem: Uint8Array;
  ptr: number;
  /** Output only: 0, or exception vector + 1. */
  fault: number;
}

export interface Form {
  /** One vitest case per group. */
  group: string;
  /** Readable unique name. */
  name: string;
  /** AT&T text for 64-bit mode; statements separated by ';' or newlines. */
  asm: string;
  /** Text for 32-bit protected mode; undefined: derived when it uses only legacy registers; null: none. */
  asm32?: string | null;
  /** Architecturally defined output flags (within ALLF). */
  flags: number | ((s: CaseState) => number);
  /** Adjust the random input state (after the default randomization and memory pointers). */
  setup?: (s: CaseState, g: Gen) => void;
  /** Registers whose output is undefined for this input (bit mask). */
  undefRegs?: (s: CaseState) => number;
  /** Cases per mode (default from the suite options). */
  cases?: number;
  /** The parenthesized operand is not a memory access (LEA): do not point it at the buffer. */
  noMem?: boolean;
  /** Alignment of automatic memory pointers (16 for SSE). */
  align?: number;
  /** Native outcomes the random cases must include (checked per form over both modes). */
  outcomes?: readonly Outcome[];
}

/** fault/noFault: an exception or none; zf/nzf: ZF set or clear; changed/unchanged: some GPR changed or none. */
export type Outcome = 'fault' | 'noFault' | 'zf' | 'nzf' | 'changed' | 'unchanged';

// ---- Registers ---------------------------------------------------------------------------------

export const R64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', ...Array.from({ length: 8 }, (_, k) => `r${k + 8}d`)];
const R16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di', ...Array.from({ length: 8 }, (_, k) => `r${k + 8}w`)];
const R8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil', ...Array.from({ length: 8 }, (_, k) => `r${k + 8}b`)];
const R8H = ['ah', 'ch', 'dh', 'bh'];

export interface RegRef { idx: number; bits: number; shift: number }

/** Parse a register name (with or without %). */
export function reg(name: string): RegRef {
  const n = name.replace(/^%/, '');
  let k = R64.indexOf(n); if (k >= 0) return { idx: k, bits: 64, shift: 0 };
  k = R32.indexOf(n); if (k >= 0) return { idx: k, bits: 32, shift: 0 };
  k = R16.indexOf(n); if (k >= 0) return { idx: k, bits: 16, shift: 0 };
  k = R8.indexOf(n); if (k >= 0) return { idx: k, bits: 8, shift: 0 };
  k = R8H.indexOf(n); if (k >= 0) return { idx: k, bits: 8, shift: 8 };
  throw new Error(`unknown register ${name}`);
}

export const mask = (bits: number): bigint => (1n << BigInt(bits)) - 1n;
const M64 = mask(64);

/** Read a (sub-)register of a case state, zero-extended. */
export function getR(s: CaseState, name: string): bigint {
  const r = reg(name);
  return (s.r[r.idx] >> BigInt(r.shift)) & mask(r.bits);
}

/** Write a (sub-)register of a case state, keeping the other bits. */
export function setR(s: CaseState, name: string, v: bigint): void {
  const r = reg(name);
  const m = mask(r.bits) << BigInt(r.shift);
  s.r[r.idx] = ((s.r[r.idx] & ~m) | ((v << BigInt(r.shift)) & m)) & M64;
}

/** Little-endian integer of `bytes` bytes in the memory buffer. */
export function getMem(s: CaseState, off: number, bytes: number): bigint {
  let v = 0n;
  for (let k = bytes - 1; k >= 0; k--) v = (v << 8n) | BigInt(s.mem[off + k]);
  return v;
}

export function setMem(s: CaseState, off: number, bytes: number, v: bigint): void {
  for (let k = 0; k < bytes; k++) { s.mem[off + k] = Number(v & 0xffn); v >>= 8n; }
}

/** Make register `idx` a pointer to mem[off]. */
export function setPtr(s: CaseState, idx: number, off: number): void {
  s.ptr |= 1 << idx;
  s.r[idx] = BigInt(off);
}

// ---- Random inputs -----------------------------------------------------------------------------

export class Gen {
  constructor(readonly rng: Prng, readonly mode: RunMode) {}
  u32(): number { return this.rng.u32(); }
  below(n: number): number { return this.rng.below(n); }
  chance(p: number): boolean { return this.rng.chance(p); }
  pick<T>(xs: readonly T[]): T { return this.rng.pick(xs); }
  u64(): bigint { return (BigInt(this.rng.u32()) << 32n) | BigInt(this.rng.u32()); }

  /** An "interesting" value of `bits` bits: edge values, small numbers, sparse bits, or random. */
  valN(bits: number): bigint {
    const m = mask(bits);
    const top = 1n << BigInt(bits - 1);
    const p = this.below(100);
    if (p < 40) return this.u64() & m;
    if (p < 62) return this.pick([0n, 1n, 2n, top - 1n, top, top + 1n, m, m - 1n, top - 2n, m >> 1n, 0x55n, 0xaan]) & m;
    if (p < 77) return (BigInt(this.below(40)) - 20n) & m;
    if (p < 90) {
      let v = 0n;
      for (let k = this.below(3) + 1; k > 0; k--) v |= 1n << BigInt(this.below(bits));
      return this.chance(0.3) ? ~v & m : v;
    }
    // A random value of a narrower width, zero- or sign-extended.
    const w = this.pick([8, 16, 32].filter((x) => x < bits).concat([bits]));
    const v = this.u64() & mask(w);
    return (this.chance(0.5) && (v >> BigInt(w - 1)) & 1n ? v | (m & ~mask(w)) : v) & m;
  }

  /** A 64-bit register value whose low `bits` are interesting and upper bits random/zero/ones. */
  val(bits = 64): bigint {
    const low = this.valN(bits);
    if (bits === 64) return low;
    const hiMask = M64 & ~mask(bits);
    const p = this.below(3);
    return low | (p === 0 ? 0n : p === 1 ? hiMask : this.u64() & hiMask);
  }

  /** A shift/rotate count byte: 0..70 with edge values, sometimes any byte. */
  count(bits: number): number {
    const p = this.below(100);
    if (p < 45) return this.below(71);
    if (p < 80) return this.pick([0, 1, 2, bits - 1, bits, bits + 1, 31, 32, 33, 63, 64, 65]);
    return this.below(256);
  }
}

const EDGE_LANES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x81];

function randomState(g: Gen, dfRandom: boolean): CaseState {
  const s: CaseState = {
    r: Array.from({ length: 16 }, () => g.val(g.pick([8, 16, 32, 64]))),
    flags: 0x202 | (g.u32() & ARITH) | (dfRandom && g.chance(0.5) ? FL.DF : 0),
    xmm: new Uint8Array(256),
    mem: new Uint8Array(MEMSIZE),
    ptr: 0,
    fault: 0,
  };
  s.r[4] = 0n;
  for (let k = 0; k < 256; k += 2) {
    // Lanes: random, or edge bytes/words that make equal and saturating lanes likely.
    const p = g.below(10);
    if (p < 5) { s.xmm[k] = g.u32() & 0xff; s.xmm[k + 1] = g.u32() & 0xff; }
    else if (p < 8) { s.xmm[k] = g.pick(EDGE_LANES); s.xmm[k + 1] = g.pick(EDGE_LANES); }
    else { s.xmm[k] = g.below(4); s.xmm[k + 1] = 0; }
  }
  for (let k = 0; k < MEMSIZE; k++) s.mem[k] = g.chance(0.2) ? g.pick(EDGE_LANES) : g.u32() & 0xff;
  return s;
}

function cloneState(s: CaseState): CaseState {
  return { r: s.r.slice(), flags: s.flags, xmm: s.xmm.slice(), mem: s.mem.slice(), ptr: s.ptr, fault: s.fault };
}

/** Base registers of parenthesized operands: "(%rbx)" → rbx. */
function memBases(asm: string): number[] {
  const out: number[] = [];
  for (const m of asm.matchAll(/\(%(\w+)\)/g)) out.push(reg(m[1]).idx);
  return [...new Set(out)];
}

/** The 32-bit-mode text of a form, or null when it needs 64-bit mode. */
export function text32(f: Form): string | null {
  if (f.asm32 !== undefined) return f.asm32;
  const t = f.asm.replace(/\(%r(ax|bx|cx|dx|si|di|bp)\)/g, '(%e$1)');
  if (/%(r\d+[bwd]?|r[a-z]{2}|[sd]il|[sb]pl|xmm(?:[89]|1[0-5]))\b/.test(t)) return null;
  return t;
}

// ---- Native harness ----------------------------------------------------------------------------

const GPR_OFF = (k: number) => k * 8;

function harnessSource(forms: readonly Form[]): string {
  const L: string[] = [];
  L.push('\t.text');
  // vsm_load: state pointer in %rdi; loads XMM, RFLAGS and the GPRs (%rdi last).
  L.push('vsm_load:');
  for (let k = 0; k < 16; k++) L.push(`\tmovdqu ${144 + k * 16}(%rdi),%xmm${k}`);
  L.push('\tpushq 128(%rdi)', '\tpopfq');
  for (let k = 0; k < 16; k++) if (k !== 4 && k !== 7) L.push(`\tmovq ${GPR_OFF(k)}(%rdi),%${R64[k]}`);
  L.push(`\tmovq ${GPR_OFF(7)}(%rdi),%rdi`, '\tret');
  // vsm_save: RFLAGS first, then the GPRs and XMM back into the state.
  L.push('vsm_save:', '\tpushfq', '\tmovq %rdi,vsm_tmp(%rip)', '\tmovq vsm_state(%rip),%rdi', '\tpopq 128(%rdi)');
  for (let k = 0; k < 16; k++) if (k !== 4 && k !== 7) L.push(`\tmovq %${R64[k]},${GPR_OFF(k)}(%rdi)`);
  L.push('\tmovq vsm_tmp(%rip),%rax', `\tmovq %rax,${GPR_OFF(7)}(%rdi)`);
  for (let k = 0; k < 16; k++) L.push(`\tmovdqu %xmm${k},${144 + k * 16}(%rdi)`);
  L.push('\tret');
  forms.forEach((f, n) => {
    L.push(`t_${n}:`, '\tpush %rbx', '\tpush %rbp', '\tpush %r12', '\tpush %r13', '\tpush %r14', '\tpush %r15',
      '\tmovq %rdi,vsm_state(%rip)', '\tcall vsm_load');
    L.push(`# ${f.name}`);
    for (const line of f.asm.split(/\n/)) L.push(`\t${line}`);
    L.push('\tcall vsm_save', '\tcld', '\tpop %r15', '\tpop %r14', '\tpop %r13', '\tpop %r12', '\tpop %rbp', '\tpop %rbx', '\tret');
  });
  L.push('\t.data', '\t.balign 8', 'vsm_state: .quad 0', 'vsm_tmp: .quad 0', '\t.globl vsm_ntests', `vsm_ntests: .quad ${forms.length}`,
    '\t.globl vsm_tests', 'vsm_tests:');
  forms.forEach((_, n) => L.push(`\t.quad t_${n}`));
  L.push('\t.section .note.GNU-stack,"",@progbits');
  return L.join('\n') + '\n';
}

/** Assemble each text back to back; returns the blob and the start offset of each (length+1 entries). */
function assembleTexts(texts: readonly string[], mode: RunMode, dir: string): { blob: Uint8Array; off: number[] } {
  const L = ['\t.text', '.Lvsm_base:', `\t.long ${texts.length}`];
  for (let k = 0; k <= texts.length; k++) L.push(`\t.long .Lvsm_i${k}-.Lvsm_base`);
  texts.forEach((t, k) => { L.push(`.Lvsm_i${k}:`); for (const line of t.split(/\n/)) L.push(`\t${line}`); });
  L.push(`.Lvsm_i${texts.length}:`);
  const src = join(dir, `forms${mode}.s`), obj = join(dir, `forms${mode}.o`);
  writeFileSync(src, L.join('\n') + '\n');
  execFileSync('as', [mode === 64 ? '--64' : '--32', src, '-o', obj], { stdio: ['ignore', 'ignore', 'pipe'] });
  const text = executableSections(readFileSync(obj)).find((s) => s.name === '.text');
  if (!text) throw new Error('no .text in assembled forms');
  const dv = new DataView(text.bytes.buffer, text.bytes.byteOffset, text.bytes.byteLength);
  const off: number[] = [];
  for (let k = 0; k <= texts.length; k++) off.push(dv.getUint32(4 + 4 * k, true));
  return { blob: text.bytes, off };
}

function encodeCases(cases: readonly TestCase[]): Buffer {
  const buf = Buffer.alloc(cases.length * REC_BYTES);
  cases.forEach((c, n) => {
    const o = n * REC_BYTES;
    buf.writeUInt32LE(c.form, o);
    buf.writeUInt32LE(c.input.ptr, o + 4);
    for (let k = 0; k < 16; k++) buf.writeBigUInt64LE(c.input.r[k], o + 8 + k * 8);
    buf.writeBigUInt64LE(BigInt(c.input.flags), o + 8 + 128);
    buf.set(c.input.xmm, o + 8 + 144);
    buf.set(c.input.mem, o + 8 + 400);
  });
  return buf;
}

function decodeState(buf: Buffer, o: number, ptr: number): CaseState {
  const r: bigint[] = [];
  for (let k = 0; k < 16; k++) r.push(buf.readBigUInt64LE(o + k * 8));
  return {
    r, flags: Number(buf.readBigUInt64LE(o + 128) & 0xffffffffn), fault: Number(buf.readBigUInt64LE(o + 136)),
    xmm: new Uint8Array(buf.subarray(o + 144, o + 400)), mem: new Uint8Array(buf.subarray(o + 400, o + 912)), ptr,
  };
}

// ---- The suite ---------------------------------------------------------------------------------

interface TestCase {
  form: number;
  mode: RunMode;
  index: number;
  input: CaseState;
  native?: CaseState;
}

export interface SuiteOptions {
  seed: number;
  /** Default cases per form in 64-bit mode. */
  cases64: number;
  /** Default cases per form in 32-bit mode (for forms that exist there). */
  cases32: number;
  tag: string;
}

export interface SuiteResult {
  /** Mismatch reports by group. */
  failures: Map<string, string[]>;
  /** Cases run by group (both modes). */
  counts: Map<string, number>;
  forms: number;
  forms32: number;
  cases: number;
  /** Per form name (both modes): how the native results varied, to check that outcomes are covered. */
  stats: Map<string, FormStats>;
  /** Milliseconds spent building (gcc, as), running natively, and running the emulator. */
  ms: { build: number; native: number; emulator: number };
}

export interface FormStats {
  cases: number;
  /** Native runs that raised an exception. */
  faults: number;
  /** Native results with ZF / CF set. */
  zf: number;
  cf: number;
  /** Native results where some GPR / XMM register / memory byte changed. */
  regChanged: number;
  xmmChanged: number;
  memChanged: number;
}

/** Run every form natively and in the emulator; collect readable mismatch reports. */
export function runSemantics(forms: readonly Form[], opts: SuiteOptions): SuiteResult {
  const names = new Set<string>();
  for (const f of forms) { if (names.has(f.name)) throw new Error(`duplicate form name ${f.name}`); names.add(f.name); }
  const scratch = scratchDir(`sem-${opts.tag}`);
  const t0 = performance.now();
  try {
    // Native harness.
    const asmPath = join(scratch.dir, 'tests.S'), exe = join(scratch.dir, 'harness');
    writeFileSync(asmPath, harnessSource(forms));
    execFileSync('gcc', ['-O1', '-no-pie', '-o', exe, join(HERE, 'driver.c'), asmPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    // Emulator code.
    const t32 = forms.map(text32);
    const code64 = assembleTexts(forms.map((f) => f.asm), 64, scratch.dir);
    const idx32 = forms.map((_, k) => k).filter((k) => t32[k] !== null);
    const code32 = assembleTexts(idx32.map((k) => t32[k] as string), 32, scratch.dir);
    const off32 = new Map<number, [number, number]>();
    idx32.forEach((k, j) => off32.set(k, [code32.off[j], code32.off[j + 1]]));

    // Cases.
    const cases: TestCase[] = [];
    forms.forEach((f, fi) => {
      for (const mode of [64, 32] as const) {
        if (mode === 32 && t32[fi] === null) continue;
        const n = f.cases ?? (mode === 64 ? opts.cases64 : opts.cases32);
        const g = new Gen(new Prng((opts.seed ^ Math.imul(fi + 1, 0x9e3779b1) ^ (mode === 32 ? 0x5bd1e995 : 0)) >>> 0), mode);
        const dfRandom = /\b(rep|repe|repne|movs|stos|lods|cmps|scas)[bwlq]?\b/.test(f.asm);
        for (let index = 0; index < n; index++) {
          const s = randomState(g, dfRandom);
          if (!f.noMem) for (const b of memBases(f.asm)) {
            const a = f.align ?? 1;
            setPtr(s, b, Math.floor((64 + g.below(320)) / a) * a);
          }
          f.setup?.(s, g);
          if (mode === 32) for (let k = 0; k < 16; k++) if (s.ptr >> k & 1) s.r[k] &= 0xffffffffn;
          cases.push({ form: fi, mode, index, input: s });
        }
      }
    });

    // Native run.
    const t1 = performance.now();
    const res = spawnSync(exe, [], { input: encodeCases(cases), maxBuffer: cases.length * STATE_BYTES + 4096 });
    if (res.status !== 0 || res.stdout.length !== cases.length * STATE_BYTES) {
      throw new Error(`native harness failed: status ${res.status} signal ${res.signal}, ${res.stdout?.length} bytes; ${res.stderr}`);
    }
    const stats = new Map<string, FormStats>();
    cases.forEach((c, n) => {
      const o = (c.native = decodeState(res.stdout, n * STATE_BYTES, c.input.ptr));
      const name = forms[c.form].name;
      let st = stats.get(name);
      if (!st) stats.set(name, (st = { cases: 0, faults: 0, zf: 0, cf: 0, regChanged: 0, xmmChanged: 0, memChanged: 0 }));
      st.cases++;
      if (o.fault) { st.faults++; return; }
      if (o.flags & FL.ZF) st.zf++;
      if (o.flags & FL.CF) st.cf++;
      if (o.r.some((v, k) => k !== 4 && v !== c.input.r[k])) st.regChanged++;
      if (o.xmm.some((v, k) => v !== c.input.xmm[k])) st.xmmChanged++;
      if (o.mem.some((v, k) => v !== c.input.mem[k])) st.memChanged++;
    });

    // Emulator runs and comparison.
    const t2 = performance.now();
    const failures = new Map<string, string[]>();
    const counts = new Map<string, number>();
    const runners = { 64: new InsnRunner(64), 32: new InsnRunner(32) };
    runners[64].placeCode(CODE_BASE, code64.blob);
    runners[32].placeCode(CODE_BASE, code32.blob);
    for (const c of cases) {
      const f = forms[c.form];
      counts.set(f.group, (counts.get(f.group) ?? 0) + 1);
      const [start, end] = c.mode === 64 ? [code64.off[c.form], code64.off[c.form + 1]] : off32.get(c.form)!;
      let emu: CaseState, error = '';
      try {
        emu = runEmulator(runners[c.mode], c.input, CODE_BASE + start, CODE_BASE + end);
      } catch (e) {
        error = `emulator threw: ${e instanceof Error ? e.stack ?? e.message : String(e)}`;
        emu = cloneState(c.input);
      }
      const unimpl = runners[c.mode].host.unimpl.splice(0);
      // An #UD the host CPU raises too is a deliberate one, even if the emulator reports the encoding.
      if (unimpl.length && !(c.native!.fault === 7 && emu.fault === 7)) error ||= `emulator reported unimplemented bytes ${hex(unimpl[0].bytes)}`;
      const report = compare(f, c, c.native!, emu, error, c.mode === 64 ? f.asm : t32[c.form] as string);
      if (report) {
        let list = failures.get(f.group);
        if (!list) failures.set(f.group, (list = []));
        list.push(report);
      }
    }
    const ms = { build: Math.round(t1 - t0), native: Math.round(t2 - t1), emulator: Math.round(performance.now() - t2) };
    return { failures, counts, forms: forms.length, forms32: idx32.length, cases: cases.length, stats, ms };
  } finally {
    scratch.dispose();
  }
}

function runEmulator(run: InsnRunner, s: CaseState, start: number, end: number): CaseState {
  const is64 = run.mode === 64;
  for (let k = 0; k < 16; k++) {
    if (k === 4) continue;
    run.setGpr(k, s.ptr >> k & 1 ? BigInt(BUF) + s.r[k] : s.r[k]);
  }
  run.setFlags(s.flags);
  for (let k = 0; k < 16; k++) run.setXmm(k, s.xmm.subarray(k * 16, k * 16 + 16));
  run.write(BUF, s.mem);
  const r = run.run(start, end, 64);
  const out: CaseState = {
    r: Array.from({ length: 16 }, (_, k) => {
      const v = run.gpr(k);
      return s.ptr >> k & 1 ? (v - BigInt(BUF)) & (is64 ? M64 : 0xffffffffn) : v;
    }),
    flags: run.flags(),
    xmm: new Uint8Array(256),
    mem: run.read(BUF, MEMSIZE),
    ptr: s.ptr,
    fault: r.fault >= 0 ? r.fault + 1 : 0,
  };
  for (let k = 0; k < 16; k++) out.xmm.set(run.xmm(k), k * 16);
  if (r.fault < 0 && run.rip() !== end) {
    throw new Error(`stopped at rip=0x${run.rip().toString(16)} (exit ${r.exit}, ${r.retired} retired), expected 0x${end.toString(16)}`);
  }
  return out;
}

// ---- Comparison and reporting ------------------------------------------------------------------

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
const FLAG_ORDER: [string, number][] = [['CF', FL.CF], ['PF', FL.PF], ['AF', FL.AF], ['ZF', FL.ZF], ['SF', FL.SF], ['OF', FL.OF], ['DF', FL.DF]];

export function fmtFlags(v: number, m = ALLF): string {
  return FLAG_ORDER.filter(([, b]) => m & b).map(([n, b]) => `${n}=${v & b ? 1 : 0}`).join(' ');
}

function fmtReg(v: bigint, is64: boolean): string {
  return '0x' + (is64 ? v : v & 0xffffffffn).toString(16).padStart(is64 ? 16 : 8, '0');
}

function fmtXmm(b: Uint8Array, k: number): string {
  const bytes = Array.from(b.subarray(k * 16, k * 16 + 16)).reverse();
  const h = bytes.map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 16)}_${h.slice(16)}`;
}

function regsMentioned(asm: string): number[] {
  const out = new Set<number>();
  for (const m of asm.matchAll(/%([a-z0-9]+)/g)) {
    try { out.add(reg(m[1]).idx); } catch { /* xmm and others */ }
  }
  return [...out];
}

function compare(f: Form, c: TestCase, exp: CaseState, got: CaseState, error: string, text: string): string | null {
  const is64 = c.mode === 64;
  const inp = c.input;
  const diffs: string[] = [];
  if (error) diffs.push(error);
  if (exp.fault !== got.fault) {
    const d = (x: number) => (x ? `#${['DE', 'DB', 'NMI', 'BP', 'OF', 'BR', 'UD', 'NM', 'DF', '9', 'TS', 'NP', 'SS', 'GP', 'PF', '15', 'MF', 'AC'][x - 1] ?? x - 1}` : 'no fault');
    diffs.push(`fault   native=${d(exp.fault)}  emulator=${d(got.fault)}`);
  }
  const undef = exp.fault ? 0 : f.undefRegs?.(inp) ?? 0;
  const nregs = is64 ? 16 : 8;
  const rmask = is64 ? M64 : 0xffffffffn;
  const badRegs: number[] = [];
  for (let k = 0; k < nregs; k++) {
    if (k === 4 || undef >> k & 1) continue;
    if ((exp.r[k] & rmask) !== (got.r[k] & rmask)) {
      badRegs.push(k);
      diffs.push(`${R64[k].padEnd(5)}  native=${fmtReg(exp.r[k], is64)}  emulator=${fmtReg(got.r[k], is64)}${inp.ptr >> k & 1 ? '  (offsets into the buffer)' : ''}`);
    }
  }
  const fm = (exp.fault ? ALLF : typeof f.flags === 'number' ? f.flags : f.flags(inp)) & ALLF;
  if ((exp.flags & fm) !== (got.flags & fm)) {
    diffs.push(`flags  native:   ${fmtFlags(exp.flags, fm)}\n         emulator: ${fmtFlags(got.flags, fm)}   (compared: ${FLAG_ORDER.filter(([, b]) => fm & b).map(([n]) => n).join(' ')})`);
  }
  for (let k = 0; k < (is64 ? 16 : 8); k++) {
    const a = exp.xmm.subarray(k * 16, k * 16 + 16), b = got.xmm.subarray(k * 16, k * 16 + 16);
    if (a.some((x, j) => x !== b[j])) diffs.push(`xmm${k}`.padEnd(6) + ` native=${fmtXmm(exp.xmm, k)}  emulator=${fmtXmm(got.xmm, k)}  (input ${fmtXmm(inp.xmm, k)})`);
  }
  const memDiff: number[] = [];
  for (let k = 0; k < MEMSIZE; k++) if (exp.mem[k] !== got.mem[k]) memDiff.push(k);
  if (memDiff.length) {
    const lo = memDiff[0], hi = Math.min(memDiff[memDiff.length - 1] + 1, lo + 32);
    diffs.push(`memory differs at ${memDiff.length} byte(s), buffer offsets ${lo}..${memDiff[memDiff.length - 1]}:\n` +
      `         input    [${lo}..${hi - 1}] ${hex(inp.mem.subarray(lo, hi))}\n` +
      `         native   [${lo}..${hi - 1}] ${hex(exp.mem.subarray(lo, hi))}\n` +
      `         emulator [${lo}..${hi - 1}] ${hex(got.mem.subarray(lo, hi))}`);
  }
  if (!diffs.length) return null;
  // Inputs: registers the text names, pointer registers, and registers that changed or differ.
  const show = new Set<number>([...regsMentioned(text), ...badRegs]);
  for (let k = 0; k < nregs; k++) if (k !== 4 && (inp.ptr >> k & 1 || (exp.r[k] & rmask) !== (inp.r[k] & rmask))) show.add(k);
  show.delete(4);
  const ins = [...show].sort((a, b) => a - b).map((k) =>
    `${R64[k]}=${inp.ptr >> k & 1 ? `buf+${inp.r[k]}` : fmtReg(inp.r[k], is64)}`);
  const lines = [
    `[${c.mode}-bit] ${f.name}   \`${text.replace(/\n/g, '; ')}\`   (case ${c.index})`,
    `  input:  ${ins.join(' ')}`,
    `          flags ${fmtFlags(inp.flags)}`,
  ];
  for (const k of memBases(text)) if (inp.ptr >> k & 1) {
    const o = Number(inp.r[k]);
    lines.push(`          mem[${R64[k]}..+16] ${hex(inp.mem.subarray(o, o + 16))}`);
  }
  const same = [...show].filter((k) => !badRegs.includes(k) && (exp.r[k] & rmask) !== (inp.r[k] & rmask));
  if (same.length && !exp.fault) lines.push(`  agreed: ${same.sort((a, b) => a - b).map((k) => `${R64[k]}=${fmtReg(exp.r[k], is64)}`).join(' ')}`);
  for (const d of diffs) lines.push(`  ${d}`);
  return lines.join('\n');
}

/** Summarize a group's failures for an assertion message (first few in full). */
export function failureMessage(group: string, list: readonly string[], max = 12): string {
  const byForm = new Map<string, number>();
  for (const r of list) { const name = r.split('\n')[0]; byForm.set(name.replace(/\s+\(case \d+\)$/, ''), (byForm.get(name.replace(/\s+\(case \d+\)$/, '')) ?? 0) + 1); }
  const summary = [...byForm].map(([n, k]) => `  ${k} × ${n}`).join('\n');
  return `${group}: ${list.length} mismatching case(s) native vs emulator\n${summary}\n\n${list.slice(0, max).join('\n\n')}` +
    (list.length > max ? `\n\n... ${list.length - max} more` : '');
}

/** Drop forms whose name repeats an earlier one (random immediates can coincide). */
export function dedupe(forms: readonly Form[]): Form[] {
  const seen = new Set<string>();
  return forms.filter((f) => (seen.has(f.name) ? false : (seen.add(f.name), true)));
}

/**
 * A vitest suite: one harness build and run in beforeAll, then one test per group that fails with
 * the readable mismatch reports of that group. Skipped where the host cannot run x86-64 code or has
 * no gcc/as.
 */
export function defineSemanticsSuite(title: string, forms: readonly Form[], opts: SuiteOptions): void {
  const canRun = process.arch === 'x64' && process.platform === 'linux' && haveTool('gcc') && haveTool('as');
  const list = dedupe(forms);
  describe.skipIf(!canRun)(title, () => {
    let res: SuiteResult | undefined;
    beforeAll(() => {
      res = runSemantics(list, opts);
      console.log(`${title}: ${res.forms} forms (${res.forms32} also in 32-bit mode), ${res.cases} cases; ` +
        `build ${res.ms.build} ms, native ${res.ms.native} ms, emulator ${res.ms.emulator} ms`);
    }, 180_000);
    it('random cases reach the required outcomes', () => {
      if (!res) throw new Error('suite did not run');
      const missing: string[] = [];
      for (const f of list) {
        const st = res.stats.get(f.name);
        if (!f.outcomes || !st) continue;
        const ok = st.cases - st.faults;
        const have: Record<Outcome, boolean> = {
          fault: st.faults > 0, noFault: ok > 0, zf: st.zf > 0, nzf: st.zf < ok,
          changed: st.regChanged > 0, unchanged: st.regChanged < ok,
        };
        for (const o of f.outcomes) if (!have[o]) missing.push(`${f.name}: no case with outcome '${o}' (${JSON.stringify(st)})`);
      }
      expect(missing).toEqual([]);
    });
    for (const group of [...new Set(list.map((f) => f.group))]) {
      it(group, () => {
        if (!res) throw new Error('suite did not run');
        const fails = res.failures.get(group) ?? [];
        if (fails.length) expect.fail(failureMessage(group, fails));
        expect(res.counts.get(group) ?? 0).toBeGreaterThan(0);
      });
    }
  });
}

// GuestSymbols against binutils and gdb as oracles: every line-table row address of several guest
// images and of small fixtures built here (DWARF 4 and 5, ELF32 and ELF64, C and assembly, compressed
// debug sections) must give addr2line's file:line, nm's function, and gdb's breakpoint addresses;
// damaged images must fail with a clean Error or load, never crash or hang.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuestSymbols } from '../../dap/symbols.js';
import { GUEST_BUILD } from '../helpers/guests.js';
import { Prng } from '../helpers/prng.js';
import { haveTool, scratchDir } from '../helpers/toolchain.js';

const GUESTS = ['hello', 'vsm-protect', 'smp', 'usermode', 'cpu-mix'].map((g) => join(GUEST_BUILD, `${g}.elf64`));
const hex = (a: bigint) => `0x${a.toString(16)}`;
const run = (cmd: string, args: string[], input?: string) =>
  execFileSync(cmd, args, { input, encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['pipe', 'pipe', 'pipe'] });

/** Addresses of every row of objdump's decoded line table (end-of-sequence rows excluded). */
function rowAddresses(file: string): bigint[] {
  const out = new Set<bigint>();
  for (const l of run('objdump', ['--dwarf=decodedline', file]).split('\n')) {
    const m = /^\S+\s+(\d+)\s+(0x[0-9a-f]+)/.exec(l);
    if (m) out.add(BigInt(m[2]));
  }
  return [...out].sort((a, b) => (a < b ? -1 : 1));
}

/** addr2line's "file:line" per address, or null for ??. */
function addr2line(file: string, addrs: readonly bigint[]): (string | null)[] {
  const lines = run('addr2line', ['-e', file], addrs.map(hex).join('\n') + '\n').trimEnd().split('\n');
  return lines.map((l) => (l.startsWith('??') ? null : l.replace(/ \(discriminator \d+\)$/, '')));
}

interface NmSym { name: string; addr: bigint; size: bigint | null; type: string }
function nm(file: string): NmSym[] {
  return run('nm', ['-S', '--defined-only', file]).trim().split('\n').flatMap((l): NmSym[] => {
    const p = l.trim().split(/\s+/);
    if (p.length === 4) return [{ addr: BigInt('0x' + p[0]), size: BigInt('0x' + p[1]), type: p[2], name: p[3] }];
    if (p.length === 3) return [{ addr: BigInt('0x' + p[0]), size: null, type: p[1], name: p[2] }];
    return [];
  });
}

const fmt = (l: { file: string; line: number } | null) => (l ? `${l.file}:${l.line}` : null);

/** Check lineAt/lineRange/functionAt/functionAddress of one image against addr2line and nm. */
function checkAgainstBinutils(file: string, minRows: number): void {
  const syms = GuestSymbols.load(readFileSync(file), file);
  expect(syms.hasLines).toBe(true);
  expect(syms.warnings).toEqual([]);
  const addrs = rowAddresses(file);
  expect(addrs.length).toBeGreaterThanOrEqual(minRows);
  // Also the byte after each row start, which lies inside the row's range.
  const probe = [...addrs, ...addrs.map((a) => a + 1n)];
  const want = addr2line(file, probe);
  const got = probe.map((a) => fmt(syms.lineAt(a)));
  const bad = probe.flatMap((a, i) => (got[i] === want[i] ? [] : [`${hex(a)}: ${got[i]} != addr2line ${want[i]}`]));
  expect(bad.slice(0, 10), `${bad.length} of ${probe.length} differ`).toEqual([]);

  // lineRange: a maximal run of addresses with the same file:line (addr2line at both edges).
  const ranges = addrs.map((a) => syms.lineRange(a));
  const edges = ranges.flatMap((r) => (r ? [r.start, r.end - 1n, r.start - 1n, r.end] : []));
  const at = addr2line(file, edges);
  ranges.forEach((r, i) => {
    const here = fmt(syms.lineAt(addrs[i]));
    if (!r) { expect(here).toBeNull(); return; }
    expect(r.start <= addrs[i] && addrs[i] < r.end).toBe(true);
    const k = ranges.slice(0, i).filter(Boolean).length * 4;
    expect([at[k], at[k + 1]]).toEqual([here, here]);
    expect(at[k + 2]).not.toEqual(here);
    expect(at[k + 3]).not.toEqual(here);
  });

  // functionAt: one of the sized text symbols that contain the address (aliases), as nm lists them.
  const funcs = nm(file).filter((s) => /[tTwW]/.test(s.type) && s.size);
  let checked = 0;
  for (const a of addrs) {
    const containing = funcs.filter((s) => a >= s.addr && a < s.addr + s.size!);
    if (!containing.length) continue;
    const f = syms.functionAt(a);
    expect(containing.map((s) => s.name), hex(a)).toContain(f?.name);
    const s = containing.find((c) => c.name === f!.name)!;
    expect([f!.start, f!.end]).toEqual([s.addr, s.addr + s.size!]);
    checked++;
  }
  if (funcs.length > 1) expect(checked).toBeGreaterThan(addrs.length / 2);
  const names = new Map<string, bigint[]>();
  for (const s of funcs) names.set(s.name, [...(names.get(s.name) ?? []), s.addr]);
  for (const [name, at] of names) if (at.length === 1) expect(syms.functionAddress(name), name).toBe(at[0]);
  expect(syms.functionAddress('no_such_function')).toBeNull();
}

/** gdb's breakpoint addresses for `break FILE:LINE`, per line (undefined where gdb finds no line). */
function gdbBreakpoints(image: string, file: string, lines: readonly number[]): Map<number, { line: number; addrs: bigint[] }> {
  const args = ['-batch', '-nx'];
  for (const l of lines) args.push('-ex', `echo @@${l}\\n`, '-ex', `break ${file}:${l}`);
  args.push('-ex', 'echo @@info\\n', '-ex', 'info breakpoints', image);
  const out = run('gdb', args);
  const [brk, info] = out.split('@@info\n');
  const numToLine = new Map<string, number>();
  for (const chunk of brk.split('@@').slice(1)) {
    const m = /^(\d+)\n(?:Breakpoint (\d+) at)?/.exec(chunk);
    if (m?.[2]) numToLine.set(m[2], Number(m[1]));
  }
  const res = new Map<number, { line: number; addrs: bigint[] }>();
  for (const l of info.split('\n')) {
    const m = /^(\d+)(?:\.\d+)?\s.*?(0x[0-9a-f]+) in .*:(\d+)$/.exec(l);
    if (!m || !numToLine.has(m[1])) continue;
    const req = numToLine.get(m[1])!;
    const e = res.get(req) ?? { line: Number(m[3]), addrs: [] };
    e.addrs.push(BigInt(m[2]));
    res.set(req, e);
  }
  return res;
}

/**
 * From objdump's decoded rows of `base`: line -> is_stmt addresses where that line begins, and
 * line -> every is_stmt address of the line.
 */
function stmtRows(image: string, base: string): { starts: Map<number, Set<bigint>>; all: Map<number, Set<bigint>> } {
  const out = new Map<number, Set<bigint>>();
  const all = new Map<number, Set<bigint>>();
  let prev: string | null = null;
  for (const l of run('objdump', ['--dwarf=decodedline', image]).split('\n')) {
    const m = /^(\S+)\s+(\d+|-)\s+(0x[0-9a-f]+)(.*)$/.exec(l);
    if (!m) continue;
    const stmt = m[4].trimEnd().endsWith('x');
    const key = `${m[1]}:${m[2]}`;
    if (m[2] === '-') { prev = null; continue; } // end of sequence
    // A line begins at an is_stmt row unless the row before is an is_stmt row of the same line.
    const line = Number(m[2]);
    if (m[1] === base && stmt) all.set(line, (all.get(line) ?? new Set()).add(BigInt(m[3])));
    if (m[1] === base && stmt && key !== prev) out.set(line, (out.get(line) ?? new Set()).add(BigInt(m[3])));
    prev = stmt ? key : null;
  }
  return { starts: out, all };
}

describe('GuestSymbols', () => {
  const scratch = scratchDir('symbols');
  const fixture: Record<string, string> = {};

  beforeAll(() => {
    const missing = GUESTS.filter((g) => !existsSync(g));
    if (missing.length) throw new Error(`not built: ${missing.join(', ')} (run 'npm run guests')`);
    for (const t of ['gcc', 'ld', 'objdump', 'addr2line', 'nm']) if (!haveTool(t)) throw new Error(`${t} is not installed`);
    const d = scratch.dir;
    writeFileSync(join(d, 'prog.c'), [
      'int g;',
      'static int helper(int x) {',
      '  return x * 3 + g;',
      '}',
      '',
      'int twice(int x) { return helper(x) + helper(x + 1); }',
      '',
      '',
      'int start(void) {',
      '  for (int i = 0; i < 10; i++)',
      '    g += twice(i);',
      '',
      '  return g;',
      '}',
    ].join('\n') + '\n');
    writeFileSync(join(d, 'code.S'), [
      '\t.text',
      '\t.globl entry',
      'entry:',
      '\tmov $1, %eax',
      '\tnop',
      'inner:',
      '\tinc %eax',
      '\tjmp inner',
      '\t.globl sized',
      '\t.type sized, @function',
      'sized:',
      '\tret',
      '\t.size sized, .-sized',
      'after:',
      '\tnop',
      '\tret',
    ].join('\n') + '\n');
    const build = (name: string, m: '32' | '64', flags: string[]) => {
      const out = join(d, name);
      run('gcc', [`-m${m}`, '-ffreestanding', '-nostdlib', '-static', '-fno-pie', '-no-pie', '-Wl,-e,start',
        '-fno-asynchronous-unwind-tables', ...flags, '-o', out, join(d, 'prog.c')]);
      fixture[name] = out;
    };
    for (const m of ['32', '64'] as const) {
      for (const v of ['4', '5']) {
        build(`c${m}-dwarf${v}-O0`, m, [`-gdwarf-${v}`, '-O0']);
        build(`c${m}-dwarf${v}-O2`, m, [`-gdwarf-${v}`, '-O2']);
      }
      const obj = join(d, `code${m}.o`);
      run('gcc', [`-m${m}`, '-g', '-c', join(d, 'code.S'), '-o', obj]);
      fixture[`asm${m}`] = join(d, `asm${m}`);
      run('ld', ['-m', m === '32' ? 'elf_i386' : 'elf_x86_64', '-e', 'entry', '-o', fixture[`asm${m}`], obj]);
    }
    build('c64-gz', '64', ['-g', '-O2', '-gz=zlib', '-Wl,--compress-debug-sections=zlib']);
  });
  afterAll(() => scratch.dispose());

  it.each(GUESTS)('%s: lineAt, lineRange, functionAt, functionAddress agree with addr2line and nm', (g) => {
    checkAgainstBinutils(g, 500);
  });

  it.each(['c32-dwarf4-O0', 'c32-dwarf5-O0', 'c64-dwarf4-O0', 'c64-dwarf5-O0', 'c32-dwarf4-O2', 'c32-dwarf5-O2',
    'c64-dwarf4-O2', 'c64-dwarf5-O2', 'c64-gz'])('fixture %s agrees with addr2line and nm', (name) => {
    checkAgainstBinutils(fixture[name], 5);
    const syms = GuestSymbols.load(readFileSync(fixture[name]), name);
    expect(syms.sourceFiles()).toEqual([join(scratch.dir, 'prog.c')]);
  });

  it('reads the DWARF versions it was given (the fixtures really differ)', () => {
    for (const [name, v] of [['c32-dwarf4-O0', 4], ['c64-dwarf5-O2', 5]] as const) {
      expect(run('readelf', ['--debug-dump=rawline', fixture[name]])).toMatch(new RegExp(`DWARF Version:\\s+${v}\\b`));
    }
    expect(run('readelf', ['-h', fixture['c32-dwarf4-O0']])).toMatch(/Class:\s+ELF32/);
    expect(run('readelf', ['-S', '-W', fixture['c64-gz']])).toMatch(/\.debug_line .* C /);
  });

  it.each(['asm32', 'asm64'])('%s: assembly line table and unsized labels', (name) => {
    checkAgainstBinutils(fixture[name], 5);
    const syms = GuestSymbols.load(readFileSync(fixture[name]), name);
    const src = join(scratch.dir, 'code.S');
    expect(syms.sourceFiles()).toEqual([src]);
    const entry = syms.functionAddress('entry')!;
    const inner = syms.functionAddress('inner')!;
    const sized = syms.functionAddress('sized')!;
    const after = syms.functionAddress('after')!;
    expect(inner - entry).toBe(6n); // mov $1,%eax (5) + nop
    expect(syms.lineAt(entry)).toEqual({ file: src, line: 4, column: 0 });
    expect(syms.functionAt(entry + 5n)).toEqual({ name: 'entry', start: entry, end: inner });
    expect(syms.functionAt(inner + 1n)).toEqual({ name: 'inner', start: inner, end: sized });
    expect(syms.functionAt(sized)).toEqual({ name: 'sized', start: sized, end: sized + 1n });
    expect(syms.functionAt(after + 1n)).toEqual({ name: 'after', start: after, end: after + 2n });
    expect(syms.functionAt(after + 2n)).toBeNull(); // past the end of .text
    expect(syms.addressesForLine(src, 7)).toEqual([inner]);
    expect(syms.addressesForLine('code.S', 6)).toEqual([inner]); // label line: the next line with code
    expect(syms.lineRange(entry)).toEqual({ start: entry, end: entry + 5n });
  });

  it('addressesForLine: where each line begins (objdump rows) and a superset of gdb breakpoints', () => {
    const cases: [string, string][] = [
      [GUESTS[0], 'hello.c'], [GUESTS[0], 'printf.c'], [GUESTS[1], 'vsm-protect.c'], [GUESTS[2], 'x86.h'],
      [fixture['c64-dwarf5-O0'], 'prog.c'], [fixture['c32-dwarf4-O2'], 'prog.c'], [fixture['asm64'], 'code.S'],
    ];
    let compared = 0, gdbCompared = 0, missed = 0, gdbAddrs = 0;
    for (const [image, file] of cases) {
      const syms = GuestSymbols.load(readFileSync(image), image);
      const { starts, all } = stmtRows(image, file);
      const maxLine = Math.max(...starts.keys());
      const lines = Array.from({ length: maxLine + 3 }, (_, i) => i + 1);
      const gdb = haveTool('gdb') ? gdbBreakpoints(image, file, lines) : new Map<number, { line: number; addrs: bigint[] }>();
      for (const l of lines) {
        const target = [...starts.keys()].filter((k) => k >= l).sort((a, b) => a - b)[0];
        const want = target === undefined ? [] : [...starts.get(target)!].sort((a, b) => (a < b ? -1 : 1));
        const ours = syms.addressesForLine(file, l);
        expect(ours.map(hex), `${file}:${l}`).toEqual(want.map(hex));
        compared++;
        // gdb: one location per DWARF block, prologues skipped at function entries, and lines it
        // loses to inlined code at the same address; compare where none of that applies. gdb's
        // locations are ours, or an is_stmt row continuing the same line in another (inlined)
        // block, which we merge into the line's run.
        const g = gdb.get(l);
        if (!g || g.line !== target || ours.some((a) => syms.functionAt(a)?.start === a)) continue;
        for (const a of g.addrs) {
          if (!ours.includes(a)) expect(all.get(target)?.has(a), `${file}:${l} gdb ${hex(a)}`).toBe(true);
        }
        missed += g.addrs.filter((a) => !ours.includes(a)).length;
        gdbAddrs += g.addrs.length;
        gdbCompared++;
      }
    }
    expect(compared).toBeGreaterThan(500);
    if (haveTool('gdb')) {
      expect(gdbCompared).toBeGreaterThan(100);
      expect(missed).toBeLessThan(gdbAddrs / 20);
    }
    const hello = GuestSymbols.load(readFileSync(GUESTS[0]), 'hello');
    const abs = join(GUEST_BUILD, '..', 'examples', 'hello.c');
    expect(hello.addressesForLine(abs, 25)).toEqual(hello.addressesForLine('hello.c', 25));
    expect(hello.addressesForLine('/elsewhere/examples/hello.c', 25)).toEqual(hello.addressesForLine('hello.c', 25));
    expect(hello.addressesForLine('nosuchfile.c', 25)).toEqual([]);
    expect(hello.sourceFiles()).toContain(abs);
  });

  it('names the file and the problem for input that is not a usable ELF file', () => {
    expect(() => GuestSymbols.load(new Uint8Array([1, 2, 3]), 'x.bin')).toThrow(/^x\.bin: not an ELF file$/);
    expect(() => GuestSymbols.load(new Uint8Array(0), 'empty')).toThrow(/^empty: not an ELF file$/);
    const elf = readFileSync(fixture['asm64']);
    const be = Uint8Array.from(elf);
    be[5] = 2;
    expect(() => GuestSymbols.load(be, 'be.elf')).toThrow(/^be\.elf: big-endian/);
    expect(() => GuestSymbols.load(elf.subarray(0, 40), 'short.elf')).toThrow(/^short\.elf: truncated ELF header$/);
    expect(() => GuestSymbols.load(elf.subarray(0, elf.length - 100), 'cut.elf')).toThrow(/^cut\.elf: /);
  });

  it('survives truncated and mutated images: a clean Error or usable symbols, never a crash or hang', () => {
    const rng = new Prng(0x5eed);
    const images = [fixture['asm64'], fixture['c64-dwarf5-O2'], fixture['c32-dwarf4-O0'], fixture['c64-gz']];
    let threw = 0, loaded = 0, warned = 0;
    for (const image of images) {
      const orig = readFileSync(image);
      // Byte ranges worth hitting: the ELF and section headers, and every section with contents.
      const regions: [number, number][] = [[0, 64]];
      for (const l of run('readelf', ['-S', '-W', image]).split('\n')) {
        const m = /\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+([0-9a-f]+)\s+([0-9a-f]+)/.exec(l);
        if (m && parseInt(m[3], 16) > 0) regions.push([parseInt(m[2], 16), parseInt(m[3], 16)]);
      }
      for (let iter = 0; iter < 150; iter++) {
        let buf: Uint8Array;
        if (iter % 5 === 0) {
          buf = orig.subarray(0, rng.below(orig.length));
        } else {
          buf = Uint8Array.from(orig);
          const [off, len] = rng.pick(regions);
          for (let k = 1 + rng.below(8); k > 0; k--) {
            const at = off + rng.below(Math.min(len, 256) || 1);
            buf[at] = rng.chance(0.3) ? rng.pick([0, 0xff, 0x80, 0x7f]) : rng.byte();
          }
        }
        let syms: GuestSymbols;
        try {
          syms = GuestSymbols.load(buf, `case-${iter}`);
        } catch (e) {
          expect(e).toBeInstanceOf(Error);
          expect((e as Error).message).toMatch(new RegExp(`^case-${iter}: \\S`));
          threw++;
          continue;
        }
        loaded++;
        if (syms.warnings.length) warned++;
        for (const f of syms.sourceFiles()) for (const l of [1, 5, 10]) syms.addressesForLine(f, l);
        for (let a = 0; a < 20; a++) {
          const addr = 0x400000n + BigInt(rng.below(0x10000)) + (rng.chance(0.5) ? 0x8040000n - 0x400000n : 0n);
          syms.lineAt(addr);
          syms.lineRange(addr);
          syms.functionAt(addr);
        }
        syms.functionAddress('start');
      }
    }
    // Both outcomes happen, so the fuzzing reaches past the header checks.
    expect(threw).toBeGreaterThan(20);
    expect(loaded).toBeGreaterThan(100);
    expect(warned).toBeGreaterThan(10); // damaged DWARF units were reached and skipped
  });
});

// Differential test of the decoder against iced-x86 on real compiler output: C fixtures built with
// gcc in several configurations (64/32-bit, -O0/-O2/-Os/-O3, with and without -mgeneral-regs-only),
// plus hand-written 16-bit real-mode code. Every instruction is decoded by both; see compareInsn for
// the facts compared. Instructions gcc emits that our opcode tables lack are listed in
// EXPECTED_MISSING: a new one fails the test instead of silently growing the list.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, NEED_MORE_BYTES } from '../../core/x86/decode/decoder.js';
import { Insn, MODE, type Mode } from '../../core/x86/decode/insn.js';
import { OP } from '../../core/x86/decode/ops.js';
import type { CodeSection } from '../helpers/elf.js';
import { compareInsn, fmtInsn, hexBytes, IcedAt, icedDecodeAll, missingKey, outOfScope } from '../helpers/iced-oracle.js';
import { assemble32, compileC, haveTool, scratchDir } from '../helpers/toolchain.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/**
 * iced mnemonics (MMX forms tagged "(mmx)") that gcc emits for the fixtures but that our opcode
 * tables do not have yet; these decode as #UD today. Empty since the SSE floating-point rows
 * (exec/ssefloat.ts) were added.
 */
const EXPECTED_MISSING: readonly string[] = [];

interface Config {
  readonly name: string;
  readonly mode: Mode;
  readonly flags: readonly string[];
  /** Whether floats.c is built (not with -mgeneral-regs-only). */
  readonly floats: boolean;
}

const COMMON = ['-ffreestanding', '-fno-asynchronous-unwind-tables', '-w'];
const CONFIGS: readonly Config[] = [
  { name: 'm64 -O2', mode: MODE.M64, flags: ['-m64', '-O2'], floats: true },
  { name: 'm64 -O2 -mgeneral-regs-only', mode: MODE.M64, flags: ['-m64', '-O2', '-mgeneral-regs-only'], floats: false },
  { name: 'm64 -O0', mode: MODE.M64, flags: ['-m64', '-O0'], floats: true },
  { name: 'm64 -Os', mode: MODE.M64, flags: ['-m64', '-Os'], floats: true },
  { name: 'm64 -O3', mode: MODE.M64, flags: ['-m64', '-O3'], floats: true },
  { name: 'm64 -O0 -mgeneral-regs-only', mode: MODE.M64, flags: ['-m64', '-O0', '-mgeneral-regs-only'], floats: false },
  { name: 'm32 -O2', mode: MODE.M32, flags: ['-m32', '-O2'], floats: true },
  { name: 'm32 -O2 -mgeneral-regs-only', mode: MODE.M32, flags: ['-m32', '-O2', '-mgeneral-regs-only', '-mno-sse'], floats: false },
  { name: 'm32 -O0', mode: MODE.M32, flags: ['-m32', '-O0'], floats: true },
  { name: 'm32 -Os', mode: MODE.M32, flags: ['-m32', '-Os'], floats: true },
  { name: 'm32 -O2 -msse2', mode: MODE.M32, flags: ['-m32', '-O2', '-msse2', '-mfpmath=sse', '-fno-pic'], floats: true },
];
const C_SOURCES = ['arith.c', 'strings.c', 'kernel.c'];

const haveGcc = haveTool('gcc') && haveTool('as');

interface Outcome {
  compared: number;
  skipped: Record<string, number>;
  mismatches: string[];
  /** Missing mnemonic → one example. */
  missing: Map<string, string>;
  sections: number;
}

function runOracle(sections: readonly CodeSection[], mode: Mode): Outcome {
  const out: Outcome = { compared: 0, skipped: {}, mismatches: [], missing: new Map(), sections: sections.length };
  for (const sec of sections) {
    const bytes = sec.bytes;
    for (const { off, ins: ic } of icedDecodeAll(bytes, mode)) {
      const where = `${sec.name}+0x${off.toString(16)}: ${hexBytes(bytes, off, ic.len)}`;
      if (ic.invalid) {
        out.mismatches.push(`${where}\n    iced: invalid instruction in compiler output`);
        continue;
      }
      let ours;
      try {
        ours = decode(bytes, off, bytes.length, mode);
      } catch (e) {
        out.mismatches.push(`${where}\n    iced: ${ic.text}\n    ours: threw ${String(e)}`);
        continue;
      }
      const scope = outOfScope(ic);
      if (scope) {
        out.skipped[scope] = (out.skipped[scope] ?? 0) + 1;
        // Out-of-scope instructions we still decode (x87 escapes as one X87 op): the length must agree.
        if (ours !== NEED_MORE_BYTES && ours.op !== OP.UD && ours.op !== OP.BADLEN && ours.len !== ic.len) {
          out.mismatches.push(`${where}\n    iced: ${ic.text}\n    ours: ${fmtInsn(ours)}\n    length ${ours.len} != iced ${ic.len}`);
        }
        continue;
      }
      if (ours === NEED_MORE_BYTES || ours.op === OP.UD || ours.op === OP.BADLEN) {
        const key = missingKey(ic);
        if (!out.missing.has(key)) out.missing.set(key, `${where}  (${ic.text})`);
        continue;
      }
      out.compared++;
      const bad = compareInsn(ours, ic, mode);
      if (bad.length) out.mismatches.push(`${where}\n    iced: ${ic.text}\n    ours: ${fmtInsn(ours)}\n    ${bad.join('; ')}`);
    }
  }
  return out;
}

const allMissing = new Map<string, string>();
const summary: string[] = [];

function check(name: string, r: Outcome): void {
  for (const [k, v] of r.missing) if (!allMissing.has(k)) allMissing.set(k, v);
  const skipped = Object.entries(r.skipped).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  summary.push(`${name}: ${r.compared} instructions compared (${r.sections} sections), skipped: ${skipped}, ` +
    `missing mnemonics: ${r.missing.size}`);
  const fresh = [...r.missing].filter(([k]) => !EXPECTED_MISSING.includes(k));
  const msgs: string[] = [];
  if (r.mismatches.length) {
    msgs.push(`${r.mismatches.length} mismatches vs iced (first 60):\n` + r.mismatches.slice(0, 60).join('\n'));
  }
  if (fresh.length) {
    msgs.push(`instructions valid for iced that we decode as #UD and that are not in EXPECTED_MISSING:\n` +
      fresh.map(([k, v]) => `  ${k}: ${v}`).join('\n'));
  }
  if (msgs.length) console.log(`[${name}]\n${msgs.join('\n')}`);
  expect(r.mismatches.length, `${name}: mismatches`).toBe(0);
  expect(fresh.map(([k]) => k), `${name}: new missing mnemonics`).toEqual([]);
  expect(r.compared).toBeGreaterThan(50);
}

describe.skipIf(!haveGcc)('decoder vs iced-x86 on gcc output', () => {
  const scratch = haveGcc ? scratchDir('decoder-oracle') : undefined;
  afterAll(() => {
    scratch?.dispose();
    console.log(`decoder oracle summary:\n  ${summary.join('\n  ')}\n` +
      `instructions gcc emitted that our tables lack (EXPECTED_MISSING, ${allMissing.size}):\n` +
      [...allMissing].map(([k, v]) => `  ${k.padEnd(16)} e.g. ${v}`).join('\n'));
  });

  for (const cfg of CONFIGS) {
    it(`gcc ${cfg.name}`, () => {
      const tag = cfg.name.replace(/[^a-z0-9]+/gi, '_');
      const sources = cfg.floats ? [...C_SOURCES, 'floats.c'] : C_SOURCES;
      const sections: CodeSection[] = [];
      for (const src of sources) {
        for (const s of compileC(join(FIXTURES, src), scratch!.dir, [...cfg.flags, ...COMMON], tag)) {
          sections.push({ name: `${src}:${s.name}`, bytes: s.bytes });
        }
      }
      check(cfg.name, runOracle(sections, cfg.mode));
    });
  }

  it('16-bit real-mode code (as --32, .code16)', () => {
    const sections = assemble32(join(FIXTURES, 'boot16.s'), scratch!.dir).map((s) => ({ name: `boot16.s:${s.name}`, bytes: s.bytes }));
    check('boot16 (M16)', runOracle(sections, MODE.M16));
  });

  beforeAll(() => {
    // Fail loudly rather than skip on a machine that has gcc but lacks 32-bit support.
    expect(haveGcc).toBe(true);
  });
});

describe('EXPECTED_MISSING', () => {
  it('has no duplicates', () => {
    expect(new Set(EXPECTED_MISSING).size).toBe(EXPECTED_MISSING.length);
  });
});

// The comparison must not be vacuous: each field it claims to check, when corrupted, is reported.
describe('compareInsn catches corrupted fields', () => {
  const FIELDS = [
    'op', 'sub', 'form', 'len', 'osz', 'asz', 'mod', 'reg', 'rm', 'base', 'index', 'scale', 'disp', 'seg', 'imm',
    'immHi', 'imm2', 'pfx',
  ] as const;
  const mutate = (d: Insn, field: (typeof FIELDS)[number], v: number): Insn => {
    const vals = FIELDS.map((f) => (f === field ? v : d[f])) as ConstructorParameters<typeof Insn>;
    return new Insn(...vals);
  };
  const cases: [string, Mode, number[], readonly [(typeof FIELDS)[number], (d: Insn) => number][]][] = [
    ['add qword ptr [rbx+rcx*4-8], 0x12345', MODE.M64, [0x48, 0x81, 0x44, 0x8b, 0xf8, 0x45, 0x23, 0x01, 0x00], [
      ['sub', (d) => d.sub ^ 1], ['len', (d) => d.len - 1], ['osz', () => 4], ['base', () => 0], ['index', () => 2],
      ['scale', () => 3], ['disp', (d) => d.disp + 1], ['imm', (d) => d.imm + 1], ['immHi', () => 0xffffffff],
      ['mod', () => 3], ['pfx', (d) => d.pfx | 4],
    ]],
    ['mov eax, [rip+0x100]', MODE.M64, [0x8b, 0x05, 0x00, 0x01, 0x00, 0x00], [['base', () => -1], ['disp', () => 0x104], ['reg', () => 1]]],
    ['jne rel32', MODE.M64, [0x0f, 0x85, 0x10, 0x00, 0x00, 0x00], [['sub', () => 4], ['imm', () => 0x11]]],
    ['mov ax, ss:[bp+di-2]', MODE.M16, [0x8b, 0x43, 0xfe], [['seg', () => 3], ['base', () => 3], ['osz', () => 4]]],
    ['shl byte ptr [si], 1', MODE.M16, [0xd0, 0x24], [['form', () => 5], ['sub', () => 5]]],
    ['xchg r8b, sil', MODE.M64, [0x44, 0x86, 0xc6], [['reg', () => 6], ['rm', () => 18]]],
    ['enter 0x10, 1', MODE.M32, [0xc8, 0x10, 0x00, 0x01], [['imm', () => 0x11], ['imm2', () => 0]]],
  ];
  for (const [what, mode, bytes, muts] of cases) {
    it(what, () => {
      const buf = new Uint8Array([...bytes, ...new Array(16).fill(0x90)]);
      const ours = decode(buf, 0, buf.length, mode);
      const iced = new IcedAt(buf, mode);
      try {
        const ic = iced.full(0);
        expect(compareInsn(ours, ic, mode), `${ic.text}: ${fmtInsn(ours)}`).toEqual([]);
        for (const [field, f] of muts) {
          expect(compareInsn(mutate(ours, field, f(ours)), ic, mode).length, `corrupted ${field} not caught`).toBeGreaterThan(0);
        }
      } finally {
        iced.free();
      }
    });
  }
});

// Random-input robustness and differential test of the decoder. For each code mode, 200k seeded
// pseudo-random byte sequences (part uniform noise, part shaped like real instructions: prefixes, REX,
// 0F escapes, table opcodes) are decoded and checked:
//   - decode never throws; with 16 bytes available it never asks for more;
//   - 1 <= len <= 15;
//   - cutting the buffer to exactly len bytes gives the same Insn (nothing past len is read), and
//     every shorter cut gives NEED_MORE_BYTES;
//   - where iced-x86 also decodes a valid instruction: lengths agree and so do the operand facts
//     compareInsn checks;
//   - where validity differs: every case must fall in a documented class (KNOWN_* below).

import { describe, expect, it } from 'vitest';
import { MAP0F } from '../../core/x86/defs/opcodes.js';
import { decode, NEED_MORE_BYTES } from '../../core/x86/decode/decoder.js';
import { type Insn, MODE, type Mode, PFX } from '../../core/x86/decode/insn.js';
import { OP, OP_NAMES } from '../../core/x86/decode/ops.js';
import { compareInsn, fmtInsn, hexBytes, IcedAt, missingKey, outOfScope } from '../helpers/iced-oracle.js';
import { Prng } from '../helpers/prng.js';

const COUNT = 200_000;
const SEQ = 16; // bytes per sequence: one more than the longest instruction
const SEED = 0x5eed_d3c0;

const LEGACY_PREFIXES = [0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65];
const MAP0F_OPCODES = Object.keys(MAP0F).map(Number);

/** One random sequence into buf[pos..pos+SEQ). */
function generate(r: Prng, buf: Uint8Array, pos: number, mode: Mode): void {
  for (let k = 0; k < SEQ; k++) buf[pos + k] = r.byte();
  if (r.chance(0.3)) return; // uniform noise
  let p = pos;
  const npfx = r.chance(0.5) ? 0 : r.below(4) + 1;
  for (let k = 0; k < npfx; k++) buf[p++] = r.pick(LEGACY_PREFIXES);
  if (mode === MODE.M64 && r.chance(0.5)) buf[p++] = 0x40 | r.below(16);
  const shape = r.below(10);
  if (shape < 4) {
    buf[p++] = 0x0f;
    buf[p++] = shape < 2 ? r.pick(MAP0F_OPCODES) : r.byte();
  } else if (shape < 6) {
    buf[p++] = r.pick([0x80, 0x81, 0x83, 0xc0, 0xc1, 0xc6, 0xc7, 0xd0, 0xd1, 0xd2, 0xd3, 0xf6, 0xf7, 0xfe, 0xff, 0x8f, 0x8c, 0x8e, 0x8d, 0x69, 0x6b, 0x62, 0x63, 0xc4, 0xc5]);
  }
  // else: leave a random one-byte opcode (whatever byte is at p).
  // Bias the ModRM towards memory forms with SIB / displacements now and then.
  if (r.chance(0.3) && p < pos + SEQ) buf[p] = (r.below(3) << 6) | (r.below(8) << 3) | 4;
}

const FIELDS: readonly (keyof Insn)[] = [
  'op', 'sub', 'form', 'len', 'osz', 'asz', 'mod', 'reg', 'rm', 'base', 'index', 'scale', 'disp', 'seg', 'imm',
  'immHi', 'imm2', 'pfx',
];
function diffInsn(a: Insn, b: Insn): string[] {
  return FIELDS.filter((f) => a[f] !== b[f]).map((f) => `${String(f)} ${a[f]} vs ${b[f]}`);
}

const valid = (d: Insn): boolean => d !== NEED_MORE_BYTES && d.op !== OP.UD && d.op !== OP.BADLEN;

/**
 * Encodings we decode as valid although iced rejects them. Each is a deliberate leniency whose
 * outcome the executor decides at run time (normally #UD). Add entries only with a reason.
 */
const KNOWN_WE_ACCEPT: readonly { why: string; match: (d: Insn, mode: Mode) => boolean }[] = [
  {
    why: 'nonexistent CRn / DRn / segment register and MOV to CS: the executor raises #UD',
    match: (d) =>
      ((d.op === OP.MOVFROMCR || d.op === OP.MOVTOCR) && ![0, 2, 3, 4, 8].includes(d.reg)) ||
      ((d.op === OP.MOVFROMDR || d.op === OP.MOVTODR) && d.reg > 7) ||
      ((d.op === OP.MOVFROMSEG || d.op === OP.MOVTOSEG) && (d.reg & 7) > 5) ||
      (d.op === OP.MOVTOSEG && (d.reg & 7) === 1),
  },
  {
    why: 'RDFSBASE & co. outside 64-bit mode: the executor raises #UD',
    match: (d, mode) => d.op === OP.FSGSBASE && mode !== MODE.M64,
  },
  {
    why: '66 / F2 / F3 on 0F 01 register forms: iced rejects (no such row in its mandatory-prefix ' +
      'tables); we ignore the prefix like other legacy prefixes',
    match: (d) =>
      !!(d.pfx & (PFX.OPSIZE | PFX.REP | PFX.REPNE)) &&
      [OP.VMCALL, OP.MONITOR, OP.MWAIT, OP.CLAC, OP.STAC, OP.XGETBV, OP.XSETBV, OP.SWAPGS, OP.RDTSCP, OP.VMMCALL]
        .includes(d.op),
  },
  {
    why: 'x87 escapes decode as one X87 op (ModRM consumed); the x87 executor decodes the rest and raises #UD',
    match: (d) => d.op === OP.X87,
  },
];

/**
 * Instructions valid for iced that we decode as #UD although we decode the same mnemonic elsewhere
 * (so this is a specific encoding we lack), by iced mnemonic, with the reason.
 */
const KNOWN_PARTIAL: Record<string, string> = {};

interface Report {
  samples: number;
  bothValid: number;
  oursOnly: Map<string, string[]>;
  icedOnly: Map<string, string[]>;
  icedOnlyCount: number;
  unsupported: Map<string, number>;
  problems: string[];
}

function add(m: Map<string, string[]>, k: string, v: string): void {
  const l = m.get(k) ?? [];
  if (l.length < 4) l.push(v);
  m.set(k, l);
}

function fuzz(mode: Mode): Report {
  const r = new Prng(SEED + mode);
  const buf = new Uint8Array(COUNT * SEQ);
  for (let i = 0; i < COUNT; i++) generate(r, buf, i * SEQ, mode);
  const rep: Report = {
    samples: COUNT, bothValid: 0, oursOnly: new Map(), icedOnly: new Map(), icedOnlyCount: 0,
    unsupported: new Map(), problems: [],
  };
  const problem = (msg: string): void => {
    if (rep.problems.length < 200) rep.problems.push(msg);
  };
  const iced = new IcedAt(buf, mode);
  // Mnemonics (iced names) we decode as valid somewhere: a #UD for one of these is an encoding gap.
  const supported = new Set<string>();
  const icedOnly: { pos: number; key: string; text: string }[] = [];
  try {
    for (let i = 0; i < COUNT; i++) {
      const pos = i * SEQ;
      const bytesAt = (n: number): string => hexBytes(buf, pos, n);
      let d: Insn;
      try {
        d = decode(buf, pos, pos + SEQ, mode);
      } catch (e) {
        problem(`#${i} ${bytesAt(SEQ)}: decode threw ${String(e)}`);
        continue;
      }
      if (d === NEED_MORE_BYTES) {
        problem(`#${i} ${bytesAt(SEQ)}: NEED_MORE_BYTES with ${SEQ} bytes available`);
        continue;
      }
      if (d.len < 1 || d.len > 15) {
        problem(`#${i} ${bytesAt(SEQ)}: len ${d.len} (${fmtInsn(d)})`);
        continue;
      }
      let cut: Insn;
      try {
        cut = decode(buf, pos, pos + d.len, mode);
      } catch (e) {
        problem(`#${i} ${bytesAt(d.len)}: decode of the cut buffer threw ${String(e)}`);
        continue;
      }
      const diff = cut === NEED_MORE_BYTES ? ['NEED_MORE_BYTES'] : diffInsn(d, cut);
      if (diff.length) problem(`#${i} ${bytesAt(d.len)}: cut to len differs: ${diff.join(', ')}\n    full: ${fmtInsn(d)}`);
      for (let k = 0; k < d.len; k++) {
        const short = decode(buf, pos, pos + k, mode);
        if (short !== NEED_MORE_BYTES) {
          problem(`#${i} ${bytesAt(d.len)}: cut to ${k} bytes gives ${fmtInsn(short)} instead of NEED_MORE_BYTES`);
          break;
        }
      }

      const q = iced.quick(pos);
      if (valid(d) && !q.invalid) {
        rep.bothValid++;
        const ic = iced.full(pos);
        const scope = outOfScope(ic);
        if (!scope) supported.add(missingKey(ic));
        // Out-of-scope instructions we still decode (x87 escapes): only the length must agree.
        const bad = scope ? (d.len === ic.len ? [] : [`length ${d.len} != iced ${ic.len}`]) : compareInsn(d, ic, mode);
        if (bad.length) problem(`#${i} ${bytesAt(Math.max(d.len, ic.len))}\n    iced: ${ic.text}\n    ours: ${fmtInsn(d)}\n    ${bad.join('; ')}`);
      } else if (valid(d)) {
        const name = OP_NAMES[d.op];
        if (!KNOWN_WE_ACCEPT.some((k) => k.match(d, mode))) add(rep.oursOnly, name, `${bytesAt(d.len)}  (${fmtInsn(d)})`);
      } else if (!q.invalid) {
        const ic = iced.full(pos);
        const scope = outOfScope(ic);
        if (scope) continue;
        icedOnly.push({ pos, key: missingKey(ic), text: ic.text });
      }
    }
  } finally {
    iced.free();
  }
  // iced-valid, ours-#UD: a gap in an instruction we otherwise decode is a problem; the rest are
  // instructions the tables do not have at all (counted for the log).
  for (const { pos, key, text } of icedOnly) {
    rep.icedOnlyCount++;
    if (supported.has(key) && !(key in KNOWN_PARTIAL)) add(rep.icedOnly, key, `${hexBytes(buf, pos, 15)}  (${text})`);
    else rep.unsupported.set(key, (rep.unsupported.get(key) ?? 0) + 1);
  }
  return rep;
}

const MODES: readonly [string, Mode][] = [['M16', MODE.M16], ['M32', MODE.M32], ['M64', MODE.M64]];

describe('decoder fuzz', () => {
  for (const [name, mode] of MODES) {
    it(`${name}: ${COUNT} random sequences`, () => {
      const rep = fuzz(mode);
      const top = [...rep.unsupported].sort((a, b) => b[1] - a[1]).slice(0, 60).map(([k, n]) => `${k} ${n}`).join(', ');
      console.log(`[fuzz ${name}] ${rep.samples} sequences, ${rep.bothValid} valid for both decoders (operands compared), ` +
        `${rep.icedOnlyCount} valid only for iced (not in our tables; most frequent: ${top})`);
      const msgs: string[] = [];
      if (rep.problems.length) msgs.push(`${rep.problems.length} problems (first 40):\n` + rep.problems.slice(0, 40).join('\n'));
      if (rep.oursOnly.size) {
        msgs.push('we decode as valid, iced says invalid:\n' +
          [...rep.oursOnly].map(([k, v]) => `  ${k}:\n    ${v.join('\n    ')}`).join('\n'));
      }
      if (rep.icedOnly.size) {
        msgs.push('iced says valid, we say #UD, for a mnemonic we decode elsewhere:\n' +
          [...rep.icedOnly].map(([k, v]) => `  ${k}:\n    ${v.join('\n    ')}`).join('\n'));
      }
      if (msgs.length) console.log(`[fuzz ${name}]\n${msgs.join('\n')}`);
      expect(rep.problems.length, 'problems').toBe(0);
      expect([...rep.oursOnly.keys()], 'accepted invalid encodings').toEqual([]);
      expect([...rep.icedOnly.keys()], 'encoding gaps').toEqual([]);
    });
  }
});

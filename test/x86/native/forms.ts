// The instruction-form tables of the semantics tests: AT&T text, the architecturally defined output
// flags, and input shaping (counts, divisors, equal operands, memory pointers). Every table is built
// deterministically (immediates come from a fixed-seed PRNG).

import { Prng } from '../../helpers/prng.js';
import {
  ALLF, FL, LOGICF, type CaseState, type Form, type Gen, getMem, getR, mask, reg, setMem, setPtr, setR,
} from './semantics-lib.js';

type Sfx = 'b' | 'w' | 'l' | 'q';
const SFXS: readonly Sfx[] = ['b', 'w', 'l', 'q'];
const BITS: Record<Sfx, number> = { b: 8, w: 16, l: 32, q: 64 };
const ACC: Record<Sfx, string> = { b: 'al', w: 'ax', l: 'eax', q: 'rax' };

/** Register pairs [src, dst] per operand size: legacy, high-byte and REX registers. */
const PAIRS: Record<Sfx, [string, string][]> = {
  b: [['bl', 'al'], ['ah', 'ch'], ['sil', 'r9b'], ['dh', 'bh'], ['r12b', 'dil'], ['cl', 'dl']],
  w: [['bx', 'ax'], ['r10w', 'si'], ['di', 'r13w'], ['cx', 'dx']],
  l: [['ebx', 'eax'], ['r11d', 'esi'], ['edi', 'r14d'], ['ecx', 'edx']],
  q: [['rbx', 'rax'], ['r9', 'r14'], ['rsi', 'r11'], ['rcx', 'rdx']],
};
/** Registers used with a (%rbx) memory operand. */
const MEMREG: Record<Sfx, string[]> = { b: ['cl', 'ah', 'r8b'], w: ['si', 'r8w'], l: ['edx', 'r10d'], q: ['rcx', 'r12'] };

const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'] as const;

const immRng = new Prng(0x5eed1234);
const hex = (v: bigint | number) => (BigInt(v) < 0n ? `-0x${(-BigInt(v)).toString(16)}` : `0x${BigInt(v).toString(16)}`);

/** A random immediate of `bits` (8 → imm8 value, 16/32 → one that needs the full width), signed. */
function imm(bits: number, short: boolean): bigint {
  const edges8 = [0n, 1n, -1n, 0x7fn, -0x80n, 0x40n];
  const edgesW = bits === 16 ? [0x7fffn, -0x8000n, 0x1234n, -0x1235n] : [0x7fffffffn, -0x80000000n, 0x12345678n, -0x789abcden];
  if (short) return immRng.chance(0.5) ? immRng.pick(edges8) : BigInt(immRng.below(256) - 128);
  if (immRng.chance(0.5)) return immRng.pick(edgesW);
  const v = BigInt(immRng.u32()) & mask(bits);
  return BigInt.asIntN(bits, v < 0x100n ? v | 0x1000n : v);
}

/** With probability p make `a` equal to `b` (both register names or 'mem' for (%rbx)). */
function equalize(a: string, b: string, p = 0.15) {
  return (s: CaseState, g: Gen, bytes: number): void => {
    if (!g.chance(p)) return;
    const get = (x: string) => (x === 'mem' ? getMem(s, Number(s.r[3]), bytes) : getR(s, x));
    const v = get(b);
    if (a === 'mem') setMem(s, Number(s.r[3]), bytes, v); else setR(s, a, v);
  };
}

const only64 = (sfx: Sfx, f: Form): Form => (sfx === 'q' ? { ...f, asm32: null } : f);

// ---- ALU, TEST, INC/DEC/NEG/NOT, XADD/CMPXCHG/XCHG ----------------------------------------------

export function aluForms(): Form[] {
  const out: Form[] = [];
  const ops = ['add', 'adc', 'sub', 'sbb', 'and', 'or', 'xor', 'cmp'];
  ops.forEach((op, oi) => {
    const flags = ['and', 'or', 'xor'].includes(op) ? LOGICF : ALLF;
    const group = op.toUpperCase();
    for (const x of SFXS) {
      const bits = BITS[x], bytes = bits / 8;
      const add = (asm: string, setup?: Form['setup']) => out.push(only64(x, { group, name: asm, asm, flags, setup }));
      const pairs = PAIRS[x];
      for (const [s, d] of [pairs[oi % pairs.length], pairs[(oi + 1) % pairs.length]]) {
        const eq = equalize(s, d);
        add(`${op}${x} %${s},%${d}`, (st, g) => eq(st, g, bytes));
      }
      add(`${op}${x} %${ACC[x]},%${ACC[x]}`);
      const m = MEMREG[x][oi % MEMREG[x].length];
      const eqm = equalize(m, 'mem');
      add(`${op}${x} (%rbx),%${m}`, (st, g) => eqm(st, g, bytes));
      const eqm2 = equalize('mem', m);
      add(`${op}${x} %${m},(%rbx)`, (st, g) => eqm2(st, g, bytes));
      // Immediates: sign-extended imm8 (83 /x), full-width (81 /x), accumulator short form, memory.
      if (x === 'b') {
        add(`${op}b $${hex(imm(8, true))},%${pairs[oi % pairs.length][1]}`);
        add(`${op}b $${hex(imm(8, true))},%${pairs[(oi + 2) % pairs.length][1]}`);
        add(`${op}b $${hex(imm(8, true))},%al`);
        add(`${op}b $${hex(imm(8, true))},(%rbx)`);
      } else {
        const wide = Math.min(bits, 32);
        add(`${op}${x} $${hex(imm(8, true))},%${pairs[oi % pairs.length][1]}`);
        add(`${op}${x} $${hex(imm(8, true))},%${pairs[(oi + 1) % pairs.length][1]}`);
        add(`${op}${x} $${hex(imm(wide, false))},%${pairs[(oi + 2) % pairs.length][1]}`);
        add(`${op}${x} $${hex(imm(wide, false))},%${ACC[x]}`);
        add(`${op}${x} $${hex(imm(8, true))},(%rbx)`);
        add(`${op}${x} $${hex(imm(wide, false))},(%rbx)`);
      }
    }
  });
  // TEST
  for (const x of SFXS) {
    const bits = BITS[x];
    const add = (asm: string) => out.push(only64(x, { group: 'TEST', name: asm, asm, flags: LOGICF }));
    for (const [s, d] of PAIRS[x].slice(0, 2)) add(`test${x} %${s},%${d}`);
    add(`test${x} %${ACC[x]},%${ACC[x]}`);
    add(`test${x} %${MEMREG[x][0]},(%rbx)`);
    add(`test${x} $${hex(imm(Math.min(bits, 32), bits === 8))},%${PAIRS[x][1][1]}`);
    add(`test${x} $${hex(imm(Math.min(bits, 32), bits === 8))},%${ACC[x]}`);
    add(`test${x} $${hex(imm(Math.min(bits, 32), bits === 8))},(%rbx)`);
  }
  // INC/DEC/NEG/NOT
  for (const op of ['inc', 'dec', 'neg', 'not']) {
    for (const x of SFXS) {
      const add = (asm: string) => out.push(only64(x, { group: 'INC/DEC/NEG/NOT', name: asm, asm, flags: ALLF }));
      add(`${op}${x} %${ACC[x]}`);
      add(`${op}${x} %${PAIRS[x][1][1]}`);
      add(`${op}${x} %${PAIRS[x][2][0]}`);
      add(`${op}${x} (%rbx)`);
    }
  }
  // XADD, CMPXCHG (both outcomes), XCHG
  for (const x of SFXS) {
    const bytes = BITS[x] / 8;
    const add = (group: string, asm: string, flags: number, setup?: Form['setup']) =>
      out.push(only64(x, { group, name: asm, asm, flags, setup }));
    for (const [s, d] of PAIRS[x].slice(0, 3)) add('XADD', `xadd${x} %${s},%${d}`, ALLF);
    add('XADD', `xadd${x} %${PAIRS[x][1][0]},%${PAIRS[x][1][0]}`, ALLF);
    add('XADD', `xadd${x} %${MEMREG[x][0]},(%rbx)`, ALLF);
    for (const [s, d] of PAIRS[x].slice(1, 4)) {
      const eq = equalize(ACC[x], d, 0.5);
      out.push(only64(x, { group: 'CMPXCHG', name: `cmpxchg${x} %${s},%${d}`, asm: `cmpxchg${x} %${s},%${d}`, flags: ALLF, setup: (st, g) => eq(st, g, bytes), outcomes: ['zf', 'nzf'] }));
    }
    add('CMPXCHG', `cmpxchg${x} %${PAIRS[x][0][0]},%${ACC[x]}`, ALLF);
    add('CMPXCHG', `cmpxchg${x} %${ACC[x]},%${PAIRS[x][2][1]}`, ALLF);
    const eqm = equalize(ACC[x], 'mem', 0.5);
    out.push(only64(x, { group: 'CMPXCHG', name: `cmpxchg${x} %${MEMREG[x][1]},(%rbx)`, asm: `cmpxchg${x} %${MEMREG[x][1]},(%rbx)`, flags: ALLF, setup: (st, g) => eqm(st, g, bytes), outcomes: ['zf', 'nzf'] }));
    if (x === 'l' || x === 'q') {
      // CMPXCHG8B/16B: EDX:EAX against memory, ECX:EBX stored on a match (so the pointer is RSI).
      const half = x === 'l' ? 4 : 8;
      const asm = x === 'l' ? 'cmpxchg8b (%rsi)' : 'cmpxchg16b (%rsi)';
      out.push(only64(x, {
        group: 'CMPXCHG', name: asm, asm, flags: ALLF, align: x === 'q' ? 16 : 1, outcomes: ['zf', 'nzf'],
        setup: (st, g) => {
          const o = Number(st.r[6]);
          const p = g.below(10);
          if (p < 5 || p === 9) setMem(st, o + half, half, getR(st, x === 'l' ? 'edx' : 'rdx'));
          if (p < 8) setMem(st, o, half, getR(st, x === 'l' ? 'eax' : 'rax'));
        },
      }));
    }
    for (const [s, d] of PAIRS[x].slice(0, 3)) add('XCHG', `xchg${x} %${s},%${d}`, ALLF);
    add('XCHG', `xchg${x} %${MEMREG[x][0]},(%rbx)`, ALLF);
    add('XCHG', `xchg${x} %${ACC[x]},%${ACC[x]}`, ALLF);
  }
  out.push({ group: 'XCHG', name: 'xchg %ebx,%eax (short form)', asm: 'xchg %ebx,%eax', flags: ALLF });
  out.push({ group: 'XCHG', name: 'xchg %r9,%rax (short form)', asm: 'xchg %r9,%rax', flags: ALLF, asm32: null });
  out.push({ group: 'XCHG', name: 'nop (90 with REX.B = xchg r8,rax)', asm: '.byte 0x49,0x90', flags: ALLF, asm32: null });
  return out;
}

// ---- Conversions, MOVZX/MOVSX, LEA, BSWAP -------------------------------------------------------

export function dataForms(): Form[] {
  const out: Form[] = [];
  const signy = (s: CaseState, g: Gen) => { s.r[0] = g.val(g.pick([8, 16, 32, 64])); };
  for (const [asm, only] of [['cbtw', false], ['cwtl', false], ['cltq', true], ['cwtd', false], ['cltd', false], ['cqto', true]] as const) {
    out.push({ group: 'CBW/CWD', name: asm, asm, flags: ALLF, setup: signy, ...(only ? { asm32: null } : {}) });
  }
  const movx = [
    'movzbw %bl,%ax', 'movzbl %ah,%ecx', 'movzbl %bh,%ebp', 'movzbq %sil,%r9', 'movzwl %bx,%eax', 'movzwq %r10w,%rdx',
    'movsbw %cl,%dx', 'movsbl %bh,%esi', 'movsbq %dil,%rax', 'movswl %r11w,%r12d', 'movswq %ax,%rcx', 'movslq %ebx,%rax',
    'movslq %r13d,%r13', 'movzbl %al,%eax', 'movswl %di,%edi',
    'movzbl (%rbx),%eax', 'movzwl (%rbx),%ecx', 'movsbq (%rbx),%rdx', 'movswl (%rbx),%esi', 'movslq (%rbx),%r8',
    'movsbw (%rbx),%ax', 'movzbw (%rbx),%di', 'movzwq (%rbx),%r15', 'movsbl (%rbx),%ebp',
  ];
  for (const asm of movx) out.push({ group: 'MOVZX/MOVSX', name: asm, asm, flags: ALLF, ...(/q /.test(asm) ? { asm32: null } : {}) });
  const lea: [string, string | null][] = [
    ['lea 0x12(%rbx,%rcx,4),%rax', null],
    ['lea 0x12(%rbx,%rcx,4),%eax', 'lea 0x12(%ebx,%ecx,4),%eax'],
    ['lea -8(%rbx),%eax', 'lea -8(%ebx),%eax'],
    ['lea (%rbx,%rcx),%ax', 'lea (%ebx,%ecx),%ax'],
    ['lea 0x7fffffff(%rbx,%rcx,8),%r9', null],
    ['lea -0x80000000(,%rcx,8),%rdx', null],
    ['lea -0x80000000(,%rcx,8),%edx', 'lea -0x80000000(,%ecx,8),%edx'],
    ['lea (%rbx,%rbx,2),%rbx', null],
    ['lea (%rbx,%rbx,2),%ebx', 'lea (%ebx,%ebx,2),%ebx'],
    ['lea (%ebx,%ecx,2),%rax', null],
    ['lea 0x10(%esi,%edi,1),%rdx', null],
    ['lea -1(%r12,%r13,1),%r14', null],
    ['lea (%rbp),%rax', null],
    ['lea (%rbp),%eax', 'lea (%ebp),%eax'],
    ['lea (%r13),%rsi', null],
    ['lea (%r12),%rdi', null],
    ['lea 0x40(%rdi,%rsi,1),%cx', 'lea 0x40(%edi,%esi,1),%cx'],
    ['lea 1(%eax),%ecx', 'lea 1(%eax),%ecx'],
    ['lea -0x1234(%ebp,%edi,8),%edx', 'lea -0x1234(%ebp,%edi,8),%edx'],
    ['lea 0x7f(,%r15,2),%r8', null],
    ['lea 0x12345678(%rsi),%r10w', null],
  ];
  for (const [asm, asm32] of lea) out.push({ group: 'LEA', name: asm, asm, asm32, flags: ALLF, noMem: true });
  for (const asm of ['bswap %eax', 'bswap %esi', 'bswap %r9d', 'bswap %rbx', 'bswap %r12']) {
    out.push({ group: 'BSWAP', name: asm, asm, flags: ALLF });
  }
  // Flag transfers and XLAT.
  for (const asm of ['lahf', 'sahf', 'cmc', 'clc', 'stc', 'cld', 'std']) out.push({ group: 'LAHF/SAHF/CMC/XLAT', name: asm, asm, flags: ALLF });
  out.push({ group: 'LAHF/SAHF/CMC/XLAT', name: 'xlat', asm: 'xlat', flags: ALLF, setup: (s, g) => setPtr(s, 3, g.below(256)) });
  return out;
}

// ---- Shifts and rotates, SHLD/SHRD --------------------------------------------------------------

const SHIFT_OPS = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sar'] as const;

/** Defined output flags of a shift/rotate of `bits` by raw count byte `count`. */
export function shiftFlags(op: string, bits: number, count: number): number {
  const m = count & (bits === 64 ? 63 : 31);
  if (m === 0) return ALLF;
  const of = m === 1 ? FL.OF : 0;
  // Rotates: CF defined, OF only for 1-bit rotates; SF/ZF/AF/PF untouched.
  if (op === 'rol' || op === 'ror' || op === 'rcl' || op === 'rcr') return (ALLF & ~FL.OF) | of;
  // Shifts: SF/ZF/PF from the result, CF the last bit out (undefined for SHL/SHR counts >= width), AF undefined.
  const cf = (op === 'shl' || op === 'shr') && m >= bits ? 0 : FL.CF;
  return FL.SF | FL.ZF | FL.PF | FL.DF | cf | of;
}

const countCl = (s: CaseState) => Number(s.r[1] & 0xffn);

export function shiftForms(): Form[] {
  const out: Form[] = [];
  const REGS: Record<Sfx, string[]> = { b: ['al', 'bh', 'sil', 'dl'], w: ['ax', 'r10w', 'si'], l: ['eax', 'edx', 'r11d'], q: ['rax', 'r9', 'rdx'] };
  const IMMS = [0, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 70, 255];
  SHIFT_OPS.forEach((op, oi) => {
    const group = op === 'shl' || op === 'shr' || op === 'sar' ? 'SHL/SHR/SAR' : 'ROL/ROR/RCL/RCR';
    SFXS.forEach((x, xi) => {
      const bits = BITS[x];
      const regs = REGS[x];
      const r = (k: number) => regs[(oi + k) % regs.length];
      const setCl = (s: CaseState, g: Gen) => setR(s, 'cl', BigInt(g.count(bits)));
      const add = (asm: string, flags: Form['flags'], setup?: Form['setup']) => out.push(only64(x, { group, name: asm, asm, flags, setup }));
      add(`${op}${x} %${r(0)}`, shiftFlags(op, bits, 1));
      add(`${op}${x} (%rbx)`, shiftFlags(op, bits, 1));
      add(`${op}${x} %cl,%${r(1)}`, (s) => shiftFlags(op, bits, countCl(s)), setCl);
      add(`${op}${x} %cl,%${r(2)}`, (s) => shiftFlags(op, bits, countCl(s)), setCl);
      add(`${op}${x} %cl,(%rbx)`, (s) => shiftFlags(op, bits, countCl(s)), setCl);
      for (let k = 0; k < 3; k++) {
        const n = IMMS[(oi * 3 + xi * 5 + k * 6) % IMMS.length];
        add(`${op}${x} $${n},%${r(k)}`, shiftFlags(op, bits, n));
      }
      const n = IMMS[(oi * 7 + xi * 3 + 4) % IMMS.length];
      add(`${op}${x} $${n},(%rbx)`, shiftFlags(op, bits, n));
    });
    // The C1 /x ib encoding with a count of 1 (gas always emits D1 for "$1").
    const sub = [0, 1, 2, 3, 4, 5, 7][oi];
    out.push({ group, name: `${op}l $1,%eax (C1 encoding)`, asm: `.byte 0xc1,${0xc0 | (sub << 3)},0x01`, flags: shiftFlags(op, 32, 1) });
    out.push({ group, name: `${op}b %cl,%cl`, asm: `${op}b %cl,%cl`, flags: (s) => shiftFlags(op, 8, countCl(s)), setup: (s, g) => setR(s, 'cl', BigInt(g.count(8))) });
  });
  // SAL /6: an alias of SHL /4.
  for (const [name, asm, flags] of [
    ['sal/6 %eax,1', '.byte 0xd1,0xf0', shiftFlags('shl', 32, 1)],
    ['sal/6 $5,%eax', '.byte 0xc1,0xf0,0x05', shiftFlags('shl', 32, 5)],
  ] as const) out.push({ group: 'SHL/SHR/SAR', name, asm, flags });
  out.push({ group: 'SHL/SHR/SAR', name: 'sal/6 %cl,%eax', asm: '.byte 0xd3,0xf0', flags: (s) => shiftFlags('shl', 32, countCl(s)), setup: (s, g) => setR(s, 'cl', BigInt(g.count(32))) });

  // SHLD/SHRD. 16-bit counts above 16 give an undefined result: not generated.
  const DPAIRS: Record<Sfx, [string, string][]> = { b: [], w: [['bx', 'ax'], ['r10w', 'si']], l: [['ebx', 'eax'], ['r11d', 'esi']], q: [['rbx', 'rax'], ['r9', 'r14']] };
  const DIMMS: Record<Sfx, number[]> = { b: [], w: [0, 1, 4, 8, 15, 16, 33, 48], l: [0, 1, 5, 16, 31, 32, 33, 63], q: [0, 1, 7, 32, 63, 64, 65, 127] };
  const dflags = (bits: number, count: number) => {
    const m = count & (bits === 64 ? 63 : 31);
    return m === 0 ? ALLF : FL.SF | FL.ZF | FL.PF | FL.CF | FL.DF | (m === 1 ? FL.OF : 0);
  };
  for (const op of ['shld', 'shrd']) {
    for (const x of ['w', 'l', 'q'] as const) {
      const bits = BITS[x];
      const setCl = (s: CaseState, g: Gen) => {
        let c: number;
        do c = g.count(bits); while (bits === 16 && (c & 31) > 16);
        setR(s, 'cl', BigInt(c));
      };
      const add = (asm: string, flags: Form['flags'], setup?: Form['setup']) => out.push(only64(x, { group: 'SHLD/SHRD', name: asm, asm, flags, setup }));
      for (const [s, d] of DPAIRS[x]) add(`${op}${x} %cl,%${s},%${d}`, (st) => dflags(bits, countCl(st)), setCl);
      // Memory destinations take their source from (e/r)dx: rbx is the pointer.
      const msrc = { w: 'dx', l: 'edx', q: 'rdx' }[x];
      add(`${op}${x} %cl,%${msrc},(%rbx)`, (st) => dflags(bits, countCl(st)), setCl);
      DIMMS[x].forEach((n, k) => {
        const [s, d] = DPAIRS[x][k % 2];
        add(k === 3 ? `${op}${x} $${n},%${msrc},(%rbx)` : `${op}${x} $${n},%${s},%${d}`, dflags(bits, n));
      });
    }
  }
  return out;
}

// ---- Multiply and divide ------------------------------------------------------------------------

export function mulDivForms(): Form[] {
  const out: Form[] = [];
  const MULF = FL.CF | FL.OF | FL.DF;
  const SRC: Record<Sfx, string[]> = { b: ['bl', 'ch', 'r9b', 'al'], w: ['bx', 'r10w', 'ax'], l: ['ecx', 'r11d', 'eax'], q: ['rbx', 'r12', 'rax'] };
  // Keep products small often enough that CF=OF=0 outcomes are common.
  const smallish = (names: string[]) => (s: CaseState, g: Gen) => {
    for (const n of names) if (g.chance(0.3)) setR(s, n, (BigInt(g.below(200)) - (g.chance(0.3) ? 100n : 0n)) & mask(reg(n).bits));
  };
  for (const op of ['mul', 'imul']) {
    for (const x of SFXS) {
      const add = (asm: string, setup?: Form['setup']) => out.push(only64(x, { group: 'MUL/IMUL', name: asm, asm, flags: MULF, setup }));
      for (const r of SRC[x]) add(`${op}${x} %${r}`, smallish([ACC[x], r]));
      add(`${op}${x} (%rbx)`, smallish([ACC[x]]));
    }
  }
  for (const x of ['w', 'l', 'q'] as const) {
    const bits = BITS[x];
    const add = (asm: string, setup?: Form['setup']) => out.push(only64(x, { group: 'MUL/IMUL', name: asm, asm, flags: MULF, setup }));
    for (const [s, d] of PAIRS[x].slice(0, 3)) add(`imul${x} %${s},%${d}`, smallish([s, d]));
    add(`imul${x} %${PAIRS[x][0][1]},%${PAIRS[x][0][1]}`);
    add(`imul${x} (%rbx),%${MEMREG[x][0]}`, smallish([MEMREG[x][0]]));
    for (const [k, [s, d]] of PAIRS[x].slice(0, 3).entries()) {
      add(`imul${x} $${hex(imm(8, true))},%${s},%${d}`, smallish([s]));
      add(`imul${x} $${hex(imm(Math.min(bits, 32), false))},%${PAIRS[x][(k + 1) % 3][0]},%${d}`, smallish([PAIRS[x][(k + 1) % 3][0]]));
    }
    add(`imul${x} $${hex(imm(8, true))},(%rbx),%${MEMREG[x][1]}`);
    add(`imul${x} $${hex(imm(Math.min(bits, 32), false))},(%rbx),%${MEMREG[x][0]}`);
  }
  // DIV/IDIV: quotient and remainder checked when defined; #DE on zero divisor and overflow.
  const DIVSRC: Record<Sfx, string[]> = { b: ['bl', 'ch', 'r9b'], w: ['bx', 'r10w'], l: ['ecx', 'r11d'], q: ['rbx', 'r12'] };
  for (const op of ['div', 'idiv']) {
    const signed = op === 'idiv';
    for (const x of SFXS) {
      const bits = BITS[x];
      const add = (asm: string, src: string | null) => out.push(only64(x, {
        group: 'DIV/IDIV', name: asm, asm, flags: FL.DF, setup: divSetup(signed, bits, src), outcomes: ['fault', 'noFault'],
      }));
      for (const r of DIVSRC[x]) add(`${op}${x} %${r}`, r);
      add(`${op}${x} (%rbx)`, null);
    }
  }
  return out;
}

function divSetup(signed: boolean, bits: number, src: string | null) {
  const B = BigInt(bits);
  const m = mask(bits);
  return (s: CaseState, g: Gen): void => {
    const p = g.below(100);
    let d: bigint, n: bigint; // divisor (bits), dividend (2*bits, unsigned encoding)
    const nonzero = () => { let v; do v = g.valN(bits); while (v === 0n); return v; };
    if (p < 65) {
      if (!signed) {
        d = nonzero();
        const q = g.valN(bits);
        const r = (g.u64() & m) % d;
        n = q * d + r;
      } else {
        const ds = BigInt.asIntN(bits, nonzero());
        const q = BigInt.asIntN(bits, g.valN(bits));
        const ad = ds < 0n ? -ds : ds;
        let r = (g.u64() & m) % ad;
        const neg = q === 0n ? g.chance(0.5) : (q < 0n) !== (ds < 0n);
        if (neg) r = -r;
        d = ds & m;
        n = (q * ds + r) & mask(2 * bits);
      }
    } else if (p < 78) {
      d = 0n; n = (g.u64() << 64n | g.u64()) & mask(2 * bits);
    } else if (p < 92) {
      d = g.valN(bits); n = ((g.valN(bits) << B) | g.valN(bits)) & mask(2 * bits);
    } else if (signed) {
      // Most negative dividend by -1 (quotient overflow), or by 1 / 2.
      d = g.pick([m, 1n, 2n, m - 1n]);
      n = (1n << BigInt(2 * bits - 1)) >> (g.chance(0.5) ? 0n : B);
      n = BigInt.asUintN(2 * bits, BigInt.asIntN(2 * bits, g.chance(0.5) ? n : -(1n << (B - 1n))));
    } else {
      d = g.valN(bits) | 1n; n = (d << B) | (g.u64() & m); // high half == divisor: overflow
    }
    if (bits === 8) setR(s, 'ax', n);
    else {
      const lo = { 16: 'ax', 32: 'eax', 64: 'rax' }[bits]!, hi = { 16: 'dx', 32: 'edx', 64: 'rdx' }[bits]!;
      setR(s, lo, n & m); setR(s, hi, n >> B);
    }
    if (src === null) setMem(s, Number(s.r[3]), bits / 8, d);
    else setR(s, src, d);
  };
}

// ---- Bit test, scan, count ----------------------------------------------------------------------

export function bitForms(): Form[] {
  const out: Form[] = [];
  const D: Record<Sfx, string[]> = { b: [], w: ['ax', 'r9w'], l: ['eax', 'r10d'], q: ['rax', 'r11'] };
  const C: Record<Sfx, string> = { b: '', w: 'cx', l: 'ecx', q: 'rcx' };
  const BTF = FL.CF | FL.ZF | FL.DF;
  for (const op of ['bt', 'bts', 'btr', 'btc']) {
    for (const x of ['w', 'l', 'q'] as const) {
      const bits = BITS[x];
      const add = (asm: string, setup?: Form['setup']) => out.push(only64(x, { group: 'BT/BTS/BTR/BTC', name: asm, asm, flags: BTF, setup }));
      const anyOff = (s: CaseState, g: Gen) => setR(s, C[x], g.chance(0.5) ? BigInt(g.below(3 * bits)) : g.valN(bits));
      for (const d of D[x]) add(`${op}${x} %${C[x]},%${d}`, anyOff);
      for (const n of [bits - 1, immRng.below(bits), bits + immRng.below(200 - bits)]) add(`${op}${x} $${n},%${D[x][n % 2]}`);
      // Register bit offset into memory: signed, may address bytes outside the operand.
      add(`${op}${x} %${C[x]},(%rbx)`, (s, g) => {
        setPtr(s, 3, 224 + g.below(48));
        setR(s, C[x], BigInt.asUintN(bits, BigInt(g.below(960) - 480)));
      });
      add(`${op}${x} $${immRng.below(256)},(%rbx)`);
    }
  }
  const zeroOften = (src: string | null, bits: number) => (s: CaseState, g: Gen) => {
    if (!g.chance(0.25)) return;
    if (src === null) setMem(s, Number(s.r[3]), bits / 8, 0n); else setR(s, src, 0n);
  };
  for (const op of ['bsf', 'bsr', 'popcnt']) {
    const flags = op === 'popcnt' ? ALLF : FL.ZF | FL.DF;
    for (const x of ['w', 'l', 'q'] as const) {
      const bits = BITS[x];
      const add = (asm: string, src: string | null) => out.push(only64(x, { group: 'BSF/BSR/POPCNT', name: asm, asm, flags, setup: zeroOften(src, bits), outcomes: ['zf', 'nzf'] }));
      for (const [s, d] of PAIRS[x].slice(0, 3)) add(`${op}${x} %${s},%${d}`, s);
      add(`${op}${x} %${ACC[x]},%${ACC[x]}`, ACC[x]);
      add(`${op}${x} (%rbx),%${MEMREG[x][0]}`, null);
    }
  }
  return out;
}

// ---- Conditions: SETcc, CMOVcc, Jcc, LOOP, and conditions after lazily evaluated flags ------------

export function condForms(): Form[] {
  const out: Form[] = [];
  CC.forEach((cc) => {
    const add = (group: string, asm: string, extra: Partial<Form> = {}) => out.push({ group, name: asm, asm, flags: ALLF, ...extra });
    add('SETcc', `set${cc} %cl`);
    add('SETcc', `set${cc} %ah`);
    add('SETcc', `set${cc} %sil`);
    add('SETcc', `set${cc} (%rbx)`);
    add('CMOVcc', `cmov${cc}w %bx,%ax`);
    add('CMOVcc', `cmov${cc}l %ecx,%edx`);
    add('CMOVcc', `cmov${cc}q %rsi,%r9`, { asm32: null });
    add('CMOVcc', `cmov${cc}l (%rbx),%eax`);
    add('CMOVcc', `cmov${cc}q (%rbx),%r12`, { asm32: null });
    add('CMOVcc', `cmov${cc}w (%rbx),%r10w`);
    add('Jcc', `j${cc} 1f\nmovl $0x5a5a5a5a,%esi\n1:`, { name: `j${cc} rel8`, outcomes: ['changed', 'unchanged'] });
    add('Jcc', `{disp32} j${cc} 1f\nmovl $0x5a5a5a5a,%esi\n1:`, { name: `j${cc} rel32`, outcomes: ['changed', 'unchanged'] });
  });
  // LOOP/LOOPE/LOOPNE/JRCXZ: counts near zero, and (64-bit) counts that differ only above bit 31.
  const loopSetup = (s: CaseState, g: Gen) => {
    const p = g.below(10);
    s.r[1] = p < 6 ? BigInt(g.below(4)) : p < 8 || g.mode === 32 ? g.u64() & 0xffffffffn : g.pick([1n << 32n, (1n << 32n) + 1n, 0xffffffffn, 1n << 63n]);
  };
  for (const op of ['loop', 'loope', 'loopne', 'jrcxz']) {
    const asm = `${op} 1f\nmovl $0x5a5a5a5a,%esi\n1:`;
    out.push({ group: 'LOOP/JRCXZ', name: `${op} rel8`, asm, asm32: op === 'jrcxz' ? asm.replace('jrcxz', 'jecxz') : asm, flags: ALLF, setup: loopSetup });
  }
  for (const op of ['loop', 'loopne', 'jecxz']) {
    out.push({
      group: 'LOOP/JRCXZ', name: `${op === 'jecxz' ? '' : 'addr32 '}${op} rel8 (64-bit mode, ECX)`, asm32: null, flags: ALLF, setup: loopSetup,
      asm: `${op === 'jecxz' ? '' : 'addr32 '}${op} 1f\nmovl $0x5a5a5a5a,%esi\n1:`,
    });
  }
  // Conditions after each kind of lazily recorded flags (CMP, SUB, ADD, ADC, SBB, logic, INC, DEC, NEG).
  const PRE = ['cmp', 'sub', 'add', 'adc', 'sbb', 'and', 'xor', 'test', 'inc', 'dec', 'neg'];
  const LP: Record<Sfx, [string, string]> = { b: ['dl', 'al'], w: ['dx', 'ax'], l: ['edx', 'eax'], q: ['rdx', 'rax'] };
  CC.forEach((cc, ci) => {
    PRE.forEach((op, oi) => {
      const x = SFXS[(ci + oi) % 4];
      const [s, d] = LP[x];
      const unary = op === 'inc' || op === 'dec' || op === 'neg';
      const asm = `${unary ? `${op}${x} %${d}` : `${op}${x} %${s},%${d}`}\nset${cc} %cl`;
      const eq = equalize(s, d, 0.25);
      out.push(only64(x, {
        group: 'flags then SETcc', name: asm.replace(/\n/g, '; '), asm, flags: ['and', 'xor', 'test'].includes(op) ? LOGICF : ALLF,
        setup: (st, g) => { eq(st, g, BITS[x] / 8); if (unary && g.chance(0.3)) setR(st, d, g.pick([0n, 1n, mask(BITS[x]), mask(BITS[x]) >> 1n, (mask(BITS[x]) >> 1n) + 1n])); },
        cases: 20,
      }));
    });
  });
  // Carry consumers after each kind of lazily recorded flags.
  const POST = ['adc', 'sbb', 'rcl', 'rcr'];
  PRE.forEach((op, oi) => {
    POST.forEach((post, pi) => {
      const x = SFXS[(oi + pi) % 4];
      const [s, d] = LP[x];
      const unary = op === 'inc' || op === 'dec' || op === 'neg';
      const second = post === 'adc' || post === 'sbb' ? `${post}${x} %${d},%${s}` : `${post}${x} %${s}`;
      const asm = `${unary ? `${op}${x} %${d}` : `${op}${x} %${s},%${d}`}\n${second}`;
      const eq = equalize(s, d, 0.25);
      out.push(only64(x, {
        group: 'flags then ADC/SBB/RCL/RCR', name: asm.replace(/\n/g, '; '), asm,
        flags: post === 'rcl' || post === 'rcr' ? ALLF & ~(['and', 'xor', 'test'].includes(op) ? FL.AF : 0) : ALLF,
        setup: (st, g) => eq(st, g, BITS[x] / 8), cases: 20,
      }));
    });
  });
  return out;
}

// ---- String instructions ------------------------------------------------------------------------

export function stringForms(): Form[] {
  const out: Form[] = [];
  const BYTES: Record<Sfx, number> = { b: 1, w: 2, l: 4, q: 8 };
  const variants: Record<string, string[]> = { movs: ['', 'rep '], stos: ['', 'rep '], lods: ['', 'rep '], cmps: ['', 'repe ', 'repne '], scas: ['', 'repe ', 'repne '] };
  const mk = (op: string, x: Sfx, pfx: string, addr32: boolean): Form => {
    const size = BYTES[x];
    const rep = pfx !== '';
    const asm = `${addr32 ? 'addr32 ' : ''}${pfx}${op}${x}`;
    const setup = (s: CaseState, g: Gen) => {
      const count = rep ? (g.chance(0.1) ? 0 : g.below(13)) : g.below(4);
      if (addr32) setR(s, 'ecx', BigInt(count)); // upper half of RCX random: not part of the count
      else if (rep) s.r[1] = BigInt(count);
      const delta = s.flags & FL.DF ? -size : size;
      const si = 136 + g.below(232);
      let di = 136 + g.below(232);
      if (op === 'movs' && g.chance(0.3)) di = si + (g.chance(0.5) ? 1 : -1) * size * (1 + g.below(2)) + (g.chance(0.3) ? 1 : 0);
      setPtr(s, 6, si); setPtr(s, 7, di);
      const n = Math.max(count, 1);
      const pEq = pfx === 'repne ' ? 0.15 : 0.85;
      for (let j = 0; j < n; j++) {
        if (!g.chance(pEq)) continue;
        if (op === 'cmps') setMem(s, di + j * delta, size, getMem(s, si + j * delta, size));
        if (op === 'scas') setMem(s, di + j * delta, size, getR(s, ACC[x]));
      }
    };
    return {
      group: 'STRING', name: asm, asm, asm32: x === 'q' || addr32 ? null : asm, flags: ALLF, setup,
      ...(rep && (op === 'cmps' || op === 'scas') ? { outcomes: ['zf', 'nzf'] as const } : {}),
    };
  };
  for (const op of Object.keys(variants)) for (const x of SFXS) for (const pfx of variants[op]) out.push(mk(op, x, pfx, false));
  out.push(mk('movs', 'b', 'rep ', true), mk('stos', 'w', 'rep ', true), mk('cmps', 'l', 'repe ', true), mk('scas', 'b', 'repne ', true), mk('lods', 'q', '', true));
  return out;
}

// ---- SSE integer --------------------------------------------------------------------------------

const SSE_BIN = [
  'pand', 'pandn', 'por', 'pxor', 'punpcklbw', 'punpcklwd', 'punpckldq', 'punpcklqdq', 'punpckhbw', 'punpckhwd',
  'punpckhdq', 'punpckhqdq', 'packsswb', 'packssdw', 'packuswb', 'pcmpgtb', 'pcmpgtw', 'pcmpgtd', 'pcmpeqb',
  'pcmpeqw', 'pcmpeqd', 'psrlw', 'psrld', 'psrlq', 'psraw', 'psrad', 'psllw', 'pslld', 'psllq', 'paddb', 'paddw',
  'paddd', 'paddq', 'psubb', 'psubw', 'psubd', 'psubq', 'paddsb', 'paddsw', 'paddusb', 'paddusw', 'psubsb', 'psubsw',
  'psubusb', 'psubusw', 'pmullw', 'pmulhw', 'pmulhuw', 'pmuludq', 'pmaddwd', 'psadbw', 'pminub', 'pmaxub', 'pminsw',
  'pmaxsw', 'pavgb', 'pavgw',
];

function sseGroup(op: string): string {
  if (/^p(and|or|xor|unpck|ack)/.test(op) || op === 'pandn') return 'SSE logic/unpack/pack';
  if (/^pcmp|^pmin|^pmax/.test(op)) return 'SSE compare/min/max';
  if (/^ps[rl]/.test(op)) return 'SSE shifts';
  return 'SSE arithmetic';
}

/** Copy random dwords of xmm `src` (or memory at rbx when src < 0) into xmm `dst` for equal lanes. */
function laneEq(dst: number, src: number) {
  return (s: CaseState, g: Gen): void => {
    if (!g.chance(0.5)) return;
    for (let k = 0; k < 4; k++) {
      if (!g.chance(0.5)) continue;
      const from = src < 0 ? s.mem.subarray(Number(s.r[3]) + 4 * k, Number(s.r[3]) + 4 * k + 4) : s.xmm.subarray(src * 16 + 4 * k, src * 16 + 4 * k + 4);
      s.xmm.set(from, dst * 16 + 4 * k);
    }
  };
}

/** Shift count operand (low 64 bits of xmm `src`, or memory at rbx when src < 0). */
function xmmCount(src: number, bits: number) {
  return (s: CaseState, g: Gen): void => {
    const p = g.below(100);
    const c = p < 60 ? BigInt(g.below(71)) : p < 85 ? BigInt(g.pick([bits - 1, bits, bits + 1, 255, 256, 0x10000])) : g.chance(0.5) ? g.u64() : (1n << 32n) | BigInt(g.below(8));
    if (src < 0) setMem(s, Number(s.r[3]), 8, c);
    else for (let k = 0; k < 8; k++) s.xmm[src * 16 + k] = Number((c >> BigInt(8 * k)) & 0xffn);
  };
}

export function sseForms(): Form[] {
  const out: Form[] = [];
  const PAIRS_X: [number, number][] = [[1, 2], [9, 3], [4, 12], [15, 8], [6, 0], [11, 14]];
  SSE_BIN.forEach((op, oi) => {
    const group = sseGroup(op);
    const shiftBits = /^ps[rl]/.test(op) ? ({ w: 16, d: 32, q: 64 } as Record<string, number>)[op.slice(-1)] : 0;
    const add = (asm: string, src: number, dst: number, extra: Partial<Form> = {}) => out.push({
      group, name: asm, asm, flags: ALLF, align: 16,
      setup: shiftBits ? xmmCount(src, shiftBits) : laneEq(dst, src), ...extra,
    });
    const [a, b] = PAIRS_X[oi % PAIRS_X.length];
    const [c, d] = PAIRS_X[(oi + 3) % PAIRS_X.length];
    add(`${op} %xmm${a},%xmm${b}`, a, b);
    if (c !== a || d !== b) add(`${op} %xmm${c},%xmm${d}`, c, d);
    add(`${op} %xmm5,%xmm7`, 5, 7);
    add(`${op} (%rbx),%xmm${(oi % 7) + 1}`, -1, (oi % 7) + 1);
    if (['pcmpeqb', 'pxor', 'psubb', 'pcmpgtw', 'pandn', 'pavgb', 'psadbw', 'packsswb', 'punpcklbw'].includes(op)) add(`${op} %xmm3,%xmm3`, 3, 3, { setup: undefined });
  });
  // Shifts by immediate.
  const SHI: Record<string, number[]> = { w: [0, 1, 7, 15, 16, 200], d: [0, 1, 13, 31, 32, 255], q: [0, 1, 33, 63, 64, 128], dq: [0, 1, 5, 15, 16, 17, 255] };
  ['psrlw', 'psraw', 'psllw', 'psrld', 'psrad', 'pslld', 'psrlq', 'psllq', 'psrldq', 'pslldq'].forEach((op, oi) => {
    const imms = SHI[op.endsWith('dq') ? 'dq' : op.slice(-1)];
    for (let k = 0; k < 4; k++) {
      const n = imms[(oi + k * 2) % imms.length];
      const r = [2, 10, 7, 13][k];
      const asm = `${op} $${n},%xmm${r}`;
      if (!out.some((f) => f.name === asm)) out.push({ group: 'SSE shifts', name: asm, asm, flags: ALLF });
    }
  });
  // Shuffles.
  for (const op of ['pshufd', 'pshufhw', 'pshuflw']) {
    for (const [n, s, d] of [[0x1b, 1, 2], [0x00, 9, 9], [0xe4, 3, 11], [immRng.below(256), 5, 4], [immRng.below(256), 14, 6]] as const) {
      const asm = `${op} $${hex(n)},%xmm${s},%xmm${d}`;
      out.push({ group: 'SSE shuffle/move', name: asm, asm, flags: ALLF });
    }
    const asm = `${op} $${hex(immRng.below(256))},(%rbx),%xmm7`;
    out.push({ group: 'SSE shuffle/move', name: asm, asm, flags: ALLF, align: 16 });
  }
  const moves: [string, number?][] = [
    ['pmovmskb %xmm3,%eax'], ['pmovmskb %xmm9,%r10d'], ['pmovmskb %xmm2,%ecx'],
    ['movd %eax,%xmm1'], ['movd %xmm1,%eax'], ['movd %r9d,%xmm10'], ['movd %xmm12,%r13d'],
    ['movq %rax,%xmm9'], ['movq %xmm9,%r11'], ['movq %rsi,%xmm3'], ['movq %xmm3,%rdi'],
    ['movd (%rbx),%xmm2', 1], ['movd %xmm2,(%rbx)', 1], ['movq (%rbx),%xmm3', 1], ['movq %xmm3,(%rbx)', 1],
    ['movq %xmm4,%xmm5'], ['{store} movq %xmm4,%xmm5'], ['movq %xmm13,%xmm8'],
    ['movdqa (%rbx),%xmm3', 16], ['movdqa %xmm3,(%rbx)', 16], ['movdqa %xmm1,%xmm2'], ['movdqa %xmm9,%xmm15'],
    ['movdqu (%rbx),%xmm10', 1], ['movdqu %xmm2,(%rbx)', 1], ['movdqu (%rbx),%xmm4', 1], ['{store} movdqu %xmm6,%xmm7'],
    ['movaps (%rbx),%xmm5', 16], ['movaps %xmm5,(%rbx)', 16], ['movups (%rbx),%xmm6', 1], ['movups %xmm6,(%rbx)', 1], ['movaps %xmm0,%xmm14'],
    ['unpcklps %xmm1,%xmm2'], ['unpckhps %xmm9,%xmm3'], ['unpcklps (%rbx),%xmm4', 16], ['unpckhps (%rbx),%xmm5', 16],
  ];
  for (const [asm, align] of moves) {
    out.push({ group: 'SSE shuffle/move', name: asm, asm, flags: ALLF, ...(align ? { align } : {}) });
  }
  out.push({ group: 'SSE shuffle/move', name: 'pmovmskb %xmm2,%rcx (REX.W)', asm: '.byte 0x66,0x48,0x0f,0xd7,0xca', asm32: null, flags: ALLF });
  return out;
}

// ---- Exceptions ---------------------------------------------------------------------------------

export function faultForms(): Form[] {
  const misalign = (s: CaseState, g: Gen) => setPtr(s, 3, 64 + 16 * g.below(16) + 1 + g.below(15));
  const out: Form[] = [];
  for (const asm of ['movdqa (%rbx),%xmm1', 'movdqa %xmm2,(%rbx)', 'paddb (%rbx),%xmm3', 'pshufd $0x1b,(%rbx),%xmm4', 'movaps (%rbx),%xmm5', 'punpcklbw (%rbx),%xmm6']) {
    out.push({ group: 'FAULTS', name: `${asm} (misaligned: #GP)`, asm, flags: ALLF, setup: misalign, outcomes: ['fault'] });
  }
  for (const [name, asm] of [['ud2', 'ud2'], ['lock add %eax,%ebx (#UD)', '.byte 0xf0,0x01,0xc3'], ['lock cmpxchg8b with register operand (#UD)', '.byte 0xf0,0x0f,0xc7,0xc8']]) {
    out.push({ group: 'FAULTS', name, asm, flags: ALLF, outcomes: ['fault'] });
  }
  return out;
}

export const CCS = CC;

// The x86 decoder: a pure function of (bytes, mode) → Insn. It never throws on any input; invalid
// encodings decode to OP.UD (with the length consumed so far) and over-long ones to OP.BADLEN.
// Opcode knowledge lives in core/x86/defs/opcodes.ts; this file only interprets the notation.

import { GROUPS, GRP15_REG, GRP16_REG, GRP7_REG, MAP0F, MAP0F_F3, MAP1, type OpcodeRow, type PrefixedRow } from '../defs/opcodes.js';
import { BYTE_HIGH_BASE, SEG } from '../defs/arch.js';
import { FORM, Insn, MODE, PFX, type Mode } from './insn.js';
import { OP, SSESHIFTI_NAMES, resolveMnemonic } from './ops.js';

/** A parsed table row. */
interface Row {
  readonly op: number;
  readonly sub: number;
  readonly operands: readonly string[];
  readonly d64: boolean;
  readonly f64: boolean;
  readonly i64: boolean;
  readonly o64: boolean;
  readonly lock: boolean;
  /** '+A': the memory operand must be 16-byte aligned (MOVAPS and friends). */
  readonly align: boolean;
  /** '+I': the group member takes an immediate (TEST in group 3). */
  readonly groupImm: boolean;
  /** Set when the row names a ModRM.reg group instead of an instruction. */
  readonly group?: string;
  readonly mnemonic: string;
}

const UD_ROW: Row = {
  op: OP.UD, sub: 0, operands: [], d64: false, f64: false, i64: false, o64: false, lock: false, align: false,
  groupImm: false, mnemonic: '(bad)',
};

function parseRow(text: OpcodeRow): Row {
  if (text === '') return UD_ROW;
  const [body, flagText = ''] = text.split('|');
  const flags = flagText.split(/\s+/);
  const words = body.trim().split(/\s+/);
  const mnemonic = words[0];
  const operands = words[1] && !words[1].startsWith('+') ? words[1].split(',') : [];
  const extras = words.filter((w) => w.startsWith('+'));
  const base = {
    operands, d64: flags.includes('d64'), f64: flags.includes('f64'), i64: flags.includes('i64'),
    o64: flags.includes('o64'), lock: flags.includes('lock'), align: extras.includes('+A'),
    groupImm: extras.includes('+I'), mnemonic,
  };
  if (mnemonic.startsWith('GRP')) return { ...base, op: OP.UD, sub: 0, group: mnemonic };
  // Immediate-count SSE shifts (groups 12-14) share mnemonics with the register-count forms.
  if (operands[0] === 'Ux' && operands[1] === 'Ib') {
    return { ...base, op: OP.SSESHIFTI, sub: (SSESHIFTI_NAMES as readonly string[]).indexOf(mnemonic) };
  }
  const r = resolveMnemonic(mnemonic);
  if (!r) throw new Error(`opcode table names unknown mnemonic ${mnemonic}`);
  return { ...base, op: r.op, sub: r.sub };
}

interface Tables {
  map1: Row[];
  map0f: Map<number, Row | Map<string, Row>>;
  map0fF3: Map<number, Row>;
  groups: Map<string, Row[]>;
  grp7reg: Map<number, Row>;
  grp15reg: Map<number, Row>;
  grp16reg: Map<number, Row>;
}

function buildTables(): Tables {
  const map1: Row[] = [];
  for (let i = 0; i < 256; i++) map1.push(MAP1[i] ? parseRow(MAP1[i]) : UD_ROW);
  const map0f = new Map<number, Row | Map<string, Row>>();
  for (const [k, v] of Object.entries(MAP0F) as [string, PrefixedRow][]) {
    if (typeof v === 'string') map0f.set(Number(k), parseRow(v));
    else map0f.set(Number(k), new Map(Object.entries(v).map(([p, r]) => [p, parseRow(r)])));
  }
  const map0fF3 = new Map(Object.entries(MAP0F_F3).map(([k, v]) => [Number(k), parseRow(v)]));
  const groups = new Map(Object.entries(GROUPS).map(([k, v]) => [k, v.map(parseRow)]));
  const grp7reg = new Map(Object.entries(GRP7_REG).map(([k, v]) => [Number(k), parseRow(v)]));
  const grp15reg = new Map(Object.entries(GRP15_REG).map(([k, v]) => [Number(k), parseRow(v)]));
  const grp16reg = new Map(Object.entries(GRP16_REG).map(([k, v]) => [Number(k), parseRow(v)]));
  return { map1, map0f, map0fF3, groups, grp7reg, grp15reg, grp16reg };
}

// Built once from constant data and never mutated: not mutable module state.
const T: Tables = buildTables();


/**
 * The addressing-method letter of an operand (E, G, M, I, J, ...), or '' for a fixed register (AL, CL,
 * DX, rAX, eAX, ES..GS) or the constant 1. Fix: classifying operands by their first character took
 * CL / DX / CS / DS for control / debug registers and ES / GS for E / G operands, so shifts by CL
 * were forced to register form, and IN/OUT DX, INS/OUTS, PUSH/POP ES/CS/SS/DS/GS read a bogus ModRM.
 */
function method(o: string): string {
  return /^[A-Z][a-z]*(\/|$)/.test(o) ? o[0] : '';
}

/** Register-only operands (ModRM.mod must be 3). */
const regOnly = (o: string): boolean => method(o) === 'R' || method(o) === 'U';

function needsModrm(row: Row): boolean {
  if (row.group) return true;
  for (const o of row.operands) {
    const c = method(o);
    if (c === 'E' || c === 'G' || c === 'M' || c === 'S' || c === 'C' || c === 'D' || c === 'V' ||
        c === 'W' || c === 'U' || c === 'R') return true;
  }
  return false;
}

const SEG_PREFIX: Record<number, number> = { 0x26: SEG.ES, 0x2e: SEG.CS, 0x36: SEG.SS, 0x3e: SEG.DS, 0x64: SEG.FS, 0x65: SEG.GS };

/** Result for bytes that run out before the instruction ends: the caller must supply more. */
export const NEED_MORE_BYTES = new Insn(OP.UD, 0, FORM.NONE, 0, 0, 0, -1, 0, 0, -1, -1, 0, 0, 0, 0, 0, 0, 0);

/**
 * Decode one instruction from buf[pos..end). Returns NEED_MORE_BYTES when `end` cuts the instruction
 * (and end - pos < 15), an Insn with op UD for an invalid encoding, and BADLEN past 15 bytes.
 */
export function decode(buf: Uint8Array, pos: number, end: number, mode: Mode): Insn {
  // Lengths are stored as `(pos - start) | 0`: callers may pass a physical address held as a double,
  // and a double-valued field would make V8 box the field in every Insn.
  const start = pos;
  const limit = Math.min(end, start + 15);
  const truncated = (): Insn => (end - start < 15 ? NEED_MORE_BYTES : badLen());
  const badLen = (): Insn => new Insn(OP.BADLEN, 0, FORM.NONE, 15, 0, 0, -1, 0, 0, -1, -1, 0, 0, 0, 0, 0, 0, 0);
  const long = mode === MODE.M64;

  let pfx = 0, seg = -1, rex = 0, lastRep = 0;
  let b = 0;
  for (;;) {
    if (pos >= limit) return truncated();
    b = buf[pos];
    if (b === 0x66) pfx |= PFX.OPSIZE;
    else if (b === 0x67) pfx |= PFX.ADDRSIZE;
    else if (b === 0xf0) pfx |= PFX.LOCK;
    else if (b === 0xf3) { pfx |= PFX.REP; lastRep = 0xf3; }
    else if (b === 0xf2) { pfx |= PFX.REPNE; lastRep = 0xf2; }
    else if (SEG_PREFIX[b] !== undefined) {
      // In long mode ES/CS/SS/DS overrides are ignored; FS and GS still apply.
      if (!long || b === 0x64 || b === 0x65) { seg = SEG_PREFIX[b]; pfx |= PFX.SEGOVR; }
    } else if (long && b >= 0x40 && b <= 0x4f) {
      rex = b; pos++;
      // A REX prefix counts only when the opcode follows it directly.
      if (pos >= limit) return truncated();
      const nb = buf[pos];
      if (nb === 0x66 || nb === 0x67 || nb === 0xf0 || nb === 0xf2 || nb === 0xf3 || SEG_PREFIX[nb] !== undefined ||
          (nb >= 0x40 && nb <= 0x4f)) { rex = 0; continue; }
      b = nb;
      break;
    } else break;
    pos++;
  }
  if (rex) pfx |= PFX.REX | (rex & 8 ? PFX.REXW : 0);
  pos++; // past the opcode byte at buf[pos]
  let row: Row;
  let twoByte = false;
  if (b === 0x0f) {
    if (pos >= limit) return truncated();
    const b2 = buf[pos++];
    twoByte = true;
    b = b2;
    const f3row = lastRep === 0xf3 ? T.map0fF3.get(b2) : undefined;
    const entry = T.map0f.get(b2);
    if (f3row) row = f3row;
    else if (entry === undefined) row = UD_ROW;
    else if (entry instanceof Map) {
      const key = lastRep === 0xf3 ? 'F3' : lastRep === 0xf2 ? 'F2' : pfx & PFX.OPSIZE ? '66' : '';
      row = entry.get(key) ?? UD_ROW;
      // The mandatory prefix selects the row; it does not change the operand size.
      if (key === '66') pfx &= ~PFX.OPSIZE;
      if (key === 'F3' || key === 'F2') pfx &= ~(PFX.REP | PFX.REPNE);
    } else row = entry;
    if (f3row) pfx &= ~PFX.REP;
  } else {
    row = T.map1[b];
    if (b === 0x90) {
      // Fix: F3 wins over REX.B (F3 41 90 is PAUSE, as iced / XED decode it, not XCHG r8d, eax).
      if (lastRep === 0xf3) row = { ...row, op: OP.PAUSE };
      else if (rex & 1) row = T.map1[0x91]; // XCHG r8, rAX
    }
  }

  // ModRM
  let mod = -1, regf = 0, rmf = 0, modrm = 0;
  let base = -1, index = -1, scale = 0, disp = 0;
  let asz = long ? (pfx & PFX.ADDRSIZE ? 4 : 8) : (mode === MODE.M32) !== !!(pfx & PFX.ADDRSIZE) ? 4 : 2;
  if (needsModrm(row)) {
    if (pos >= limit) return truncated();
    modrm = buf[pos++];
    mod = modrm >> 6; regf = (modrm >> 3) & 7; rmf = modrm & 7;
    if (row.group) {
      const g = row.group;
      let member: Row | undefined;
      // Fix: register forms not listed by ModRM byte (SMSW / LMSW Ew) fall back to the group row; the
      // memory-only members become #UD below.
      if (mod === 3 && g === 'GRP7') member = T.grp7reg.get(modrm) ?? T.groups.get(g)![regf];
      else if (mod === 3 && g === 'GRP15') member = T.grp15reg.get(regf) ?? UD_ROW;
      else if (mod === 3 && g === 'GRP16') member = T.grp16reg.get(regf) ?? T.groups.get(g)![regf];
      else if (mod === 3 && g === 'GRP9') {
        // Fix: RDRAND / RDSEED are NFx (F2 / F3 make them #UD; F3 /6 is SENDUIPI), F3 /7 is RDPID.
        member = regf === 7 && lastRep === 0xf3 ? parseRowCached('RDPID') : lastRep ? UD_ROW : T.groups.get(g)![regf];
        if (regf === 7 && lastRep === 0xf3) pfx &= ~PFX.REP;
      } else member = T.groups.get(g)![regf];
      // Group members inherit the container's operands unless they list their own.
      const ops = member.operands.length ? member.operands : member.groupImm ? [row.operands[0], row.operands[0][1] === 'b' ? 'Ib' : 'Iz'] : row.operands;
      row = { ...member, operands: ops, d64: member.d64 || row.d64, f64: member.f64 || row.f64, i64: member.i64 || row.i64, lock: member.lock };
      if (member.op === OP.UD) row = UD_ROW;
      if (g === 'GRP7' || g === 'GRP9' || g === 'GRP15' || g === 'GRP16') {
        if (mod === 3 && row.operands.some((o) => method(o) === 'M')) row = UD_ROW;
      }
    }
    // 'Rv/Mw': pick the register or the memory form of the operand (fix: SLDT / STR / SMSW / MOV from
    // Sreg were 'Ew', so a register destination got 16 bits and a memory one the full operand size).
    if (row.operands.some((o) => o.includes('/'))) {
      row = { ...row, operands: row.operands.map((o) => (o.includes('/') ? o.split('/')[mod === 3 ? 0 : 1] : o)) };
    }
    const crdr = row.operands.some((o) => method(o) === 'C' || method(o) === 'D');
    if (crdr) mod = 3; // MOV to/from CRn/DRn ignore mod and always use a register.
    if (mod !== 3) {
      if (asz === 2) {
        const B16 = [[3, 6], [3, 7], [5, 6], [5, 7], [6, -1], [7, -1], [5, -1], [3, -1]];
        if (mod === 0 && rmf === 6) { base = -1; }
        else { base = B16[rmf][0]; index = B16[rmf][1]; }
        if (mod === 1) { if (pos >= limit) return truncated(); disp = (buf[pos++] << 24) >> 24; }
        else if (mod === 2 || (mod === 0 && rmf === 6)) {
          if (pos + 2 > limit) return truncated();
          disp = (buf[pos] | (buf[pos + 1] << 8)) << 16 >> 16; pos += 2;
        }
        if (seg < 0) seg = base === 5 ? SEG.SS : SEG.DS;
      } else {
        if (rmf === 4) {
          if (pos >= limit) return truncated();
          const sib = buf[pos++];
          scale = sib >> 6;
          index = ((sib >> 3) & 7) | (rex & 2 ? 8 : 0);
          if (index === 4) index = -1;
          base = (sib & 7) | (rex & 1 ? 8 : 0);
          if ((sib & 7) === 5 && mod === 0) {
            base = -1;
            if (pos + 4 > limit) return truncated();
            disp = buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24); pos += 4;
          }
        } else if (rmf === 5 && mod === 0) {
          base = long ? 16 : -1;
          if (pos + 4 > limit) return truncated();
          disp = buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24); pos += 4;
        } else base = rmf | (rex & 1 ? 8 : 0);
        if (mod === 1) { if (pos >= limit) return truncated(); disp = (buf[pos++] << 24) >> 24; }
        else if (mod === 2) {
          if (pos + 4 > limit) return truncated();
          disp = buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24); pos += 4;
        }
        // Stack-based addressing defaults to SS (only RSP and RBP themselves, not R12/R13).
        if (seg < 0) seg = base === 4 || base === 5 ? SEG.SS : SEG.DS;
      }
    }
  }
  if (seg < 0) seg = SEG.DS;

  if (row.op === OP.UD) return new Insn(OP.UD, 0, FORM.NONE, Math.max((pos - start) | 0, 1), 0, asz, mod, 0, 0, -1, -1, 0, 0, seg, 0, 0, 0, pfx);
  if (long ? row.i64 : row.o64) return new Insn(OP.UD, 0, FORM.NONE, (pos - start) | 0, 0, asz, mod, 0, 0, -1, -1, 0, 0, seg, 0, 0, 0, pfx);

  // Operand size.
  let osz: number;
  if (long) {
    if (row.f64) osz = 8;
    else if (pfx & PFX.REXW) osz = 8;
    else if (pfx & PFX.OPSIZE) osz = 2;
    else osz = row.d64 ? 8 : 4;
  } else osz = (mode === MODE.M32) !== !!(pfx & PFX.OPSIZE) ? 4 : 2;
  const vsz = osz;
  const sizeOf = (o: string): number => {
    const s = o.slice(1);
    switch (s) {
      case 'b': return 1;
      case 'w': return 2;
      case 'd': return 4;
      case 'q': return 8;
      case 'v': return vsz;
      case 'z': return vsz === 2 ? 2 : 4;
      // Fix: y follows the operand size (REX.W, or f64 rows such as MOV CRn and RDPID), not REX.W alone.
      case 'y': return long && osz === 8 ? 8 : 4;
      case 'x': return 16;
      case 'p': return vsz;
      default: return vsz;
    }
  };
  const ops = row.operands;
  // The instruction's operand size is that of its first sized operand.
  let isz = osz;
  let srcSub = row.sub;
  const first = ops[0];
  if (first !== undefined) {
    const c = method(first);
    if (first === 'AL') isz = 1;
    else if (first === 'rAX' || first === 'eAX') isz = first === 'eAX' ? (vsz === 2 ? 2 : 4) : vsz;
    else if (first === 'DX' || first === 'Ib') isz = ops[1] === 'AL' || ops[1] === 'Xb' ? 1 : ops[1] === 'eAX' || ops[1] === 'Xz' ? (vsz === 2 ? 2 : 4) : vsz;
    else if (c === 'R') isz = sizeOf(first); // fix: was the mode's width for every R (RDFSBASE eax gave 8)
    else if (c === 'C' || c === 'D') isz = long ? 8 : 4;
    else if (c === 'S') isz = 2;
    else if (c === 'J') isz = osz;
    else if (c && 'EGZXYOMVWU'.includes(c)) isz = sizeOf(first);
  }
  if (row.op === OP.MOVZX || row.op === OP.MOVSX) srcSub = sizeOf(ops[1]);
  if (row.op === OP.MOVSXD) srcSub = 4;
  if (row.op === OP.LEA || row.op === OP.NOP || row.op === OP.PREFETCH || row.op === OP.INVLPG || row.op === OP.CLFLUSH) {
    // no size adjustments
  }

  // Registers.
  const byteRegs = (n: number): number => (!rex && n >= 4 && n < 8 ? BYTE_HIGH_BASE + n - 4 : n);
  let reg = regf | (rex & 4 ? 8 : 0);
  let rm = rmf | (rex & 1 ? 8 : 0);
  let form: number = FORM.NONE;
  const hasE = ops.findIndex((o) => 'EMWUR'.includes(method(o) || '-'));
  const hasG = ops.findIndex((o) => 'GVSCD'.includes(method(o) || '-'));
  if (mod >= 0) {
    if (hasE === 0 && hasG === 1) form = FORM.EG;
    else if (hasG === 0 && hasE === 1) form = FORM.GE;
    else if (hasE === 0) form = FORM.E;
    if (mod !== 3 && ops.some(regOnly)) return udAt((pos - start) | 0, asz, pfx);
    if (mod === 3 && ops.some((o) => method(o) === 'M')) return udAt((pos - start) | 0, asz, pfx);
    if (ops[hasG]?.endsWith('b') && ops[hasG][0] === 'G') reg = byteRegs(reg);
    if (mod === 3 && ops[hasE]?.endsWith('b') && ops[hasE][0] === 'E') rm = byteRegs(rm);
  }
  // Z operands: register in the opcode's low bits, expressed as a register r/m.
  const zi = ops.findIndex((o) => method(o) === 'Z');
  if (zi >= 0) {
    mod = 3;
    rm = (b & 7) | (rex & 1 ? 8 : 0);
    if (ops[zi] === 'Zb') rm = byteRegs(rm);
    form = FORM.E;
    if (ops[1] === 'rAX') { reg = 0; form = FORM.EG; }
  }
  // Accumulator destination with an immediate (ADD AL,Ib ...): r/m register 0.
  if ((first === 'AL' || first === 'rAX') && ops[1]?.[0] === 'I') { mod = 3; rm = 0; form = FORM.EI; }

  // Immediates, as int32 (bit patterns: consumers mask or truncate them), which V8 keeps unboxed when
  // small; the far pointer offset of Ap stays unsigned (it becomes RIP as is).
  let imm = 0, immHi = 0, imm2 = 0;
  const readImm = (n: number): number | undefined => {
    if (pos + n > limit) return undefined;
    let v = 0;
    for (let k = n - 1; k >= 0; k--) v = (v * 256) + buf[pos + k];
    pos += n;
    return v;
  };
  let nimm = 0;
  for (let k = 0; k < ops.length; k++) {
    const o = ops[k];
    let v: number | undefined;
    if (o === 'Ib') {
      v = readImm(1); if (v === undefined) return truncated();
      if (nimm++ === 0) imm = v; else imm2 = v;
      if (k > 0 && (form === FORM.E || form === FORM.EG && ops.length === 2)) form = FORM.EI;
    } else if (o === 'Ibs') {
      v = readImm(1); if (v === undefined) return truncated();
      const s = (v << 24) >> 24;
      imm = isz === 2 ? s & 0xffff : s; immHi = s < 0 && isz === 8 ? -1 : 0;
      if (first === 'Ibs') { imm = s; immHi = s < 0 ? -1 : 0; }
      if (form === FORM.E) form = FORM.EI;
      nimm++;
    } else if (o === 'Iw') {
      v = readImm(2); if (v === undefined) return truncated();
      if (nimm++ === 0) imm = v; else imm2 = v;
    } else if (o === 'Iz') {
      const n = vsz === 2 ? 2 : 4;
      v = readImm(n); if (v === undefined) return truncated();
      if (n === 4) { imm = v | 0; immHi = vsz === 8 && v >= 0x80000000 ? -1 : 0; }
      else imm = v;
      if (form === FORM.E) form = FORM.EI;
      nimm++;
    } else if (o === 'Iv') {
      v = readImm(vsz === 8 ? 4 : vsz); if (v === undefined) return truncated();
      imm = v | 0;
      if (vsz === 8) { const h = readImm(4); if (h === undefined) return truncated(); immHi = h | 0; }
      form = FORM.EI;
      nimm++;
    } else if (o === 'Jb') {
      v = readImm(1); if (v === undefined) return truncated();
      imm = (v << 24) >> 24;
    } else if (o === 'Jz') {
      const n = osz === 2 ? 2 : 4;
      v = readImm(n); if (v === undefined) return truncated();
      imm = n === 2 ? (v << 16) >> 16 : v | 0;
    } else if (o === 'Ob' || o === 'Ov') {
      // moffs: an absolute address of address size; represented as base 17 with the address in imm.
      const lo = readImm(Math.min(asz, 4)); if (lo === undefined) return truncated();
      imm = lo | 0;
      if (asz === 8) { const h = readImm(4); if (h === undefined) return truncated(); immHi = h | 0; }
      mod = 0; base = 17; index = -1; disp = 0;
      form = k === 0 ? FORM.EG : FORM.GE;
      reg = 0; // AL / rAX
      isz = o === 'Ob' ? 1 : vsz;
    } else if (o === 'Ap') {
      const n = vsz === 2 ? 2 : 4;
      v = readImm(n); if (v === undefined) return truncated();
      imm = v >>> 0;
      const s = readImm(2); if (s === undefined) return truncated();
      imm2 = s;
    } else if (o === '1') form = FORM.E1;
    else if (o === 'CL' && k > 0) form = ops.length === 3 ? FORM.ECL : FORM.ECL;
  }
  if (row.op === OP.SHIFT && form === FORM.E && ops[1] === undefined) form = FORM.E;
  if (row.op === OP.ENTER) { imm2 = imm2 & 0xff; }
  if (row.op === OP.SHLD || row.op === OP.SHRD) form = ops[2] === 'CL' ? FORM.ECL : FORM.EI;
  if (row.op === OP.IMUL3) form = FORM.GE;
  if (row.op === OP.PUSH && (first === 'Iz' || first === 'Ibs')) {
    form = FORM.NONE;
    if (first === 'Iz' && osz === 8) { imm = imm | 0; immHi = imm < 0 ? -1 : 0; }
  }

  // LOCK is valid only on lockable instructions with a memory destination.
  if (pfx & PFX.LOCK) {
    const memDest = mod >= 0 && mod !== 3 && base !== 17;
    if (!row.lock || !memDest) return udAt((pos - start) | 0, asz, pfx);
  }
  if (pos - start > 15) return badLen();
  if (row.align) srcSub = 1; // alignment-checked 128-bit move
  if (row.op === OP.X87) srcSub = b & 7; // which escape opcode (D8..DF)
  if ((row.op === OP.IN || row.op === OP.OUT) && ops.includes('Ib')) srcSub = 1; // port in imm8, not DX
  if (row.op === OP.PUSHSEG || row.op === OP.POPSEG) srcSub = SEG[ops[0] as keyof typeof SEG];
  void twoByte;
  return new Insn(row.op, srcSub, form, (pos - start) | 0, isz, asz, mod, reg, rm, base, index, scale, disp, seg, imm, immHi, imm2, pfx);
}

function udAt(len: number, asz: number, pfx: number): Insn {
  return new Insn(OP.UD, 0, FORM.NONE, len, 0, asz, -1, 0, 0, -1, -1, 0, 0, SEG.DS, 0, 0, 0, pfx);
}

const EXTRA_ROWS: ReadonlyMap<string, Row> = new Map([['RDPID', parseRow('RDPID Ry|f64')]]);
function parseRowCached(name: string): Row {
  return EXTRA_ROWS.get(name)!;
}

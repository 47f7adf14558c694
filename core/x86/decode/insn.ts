// The decoded instruction record. Produced once per instruction by the decoder, cached per physical
// page, and never mutated afterwards: handlers read fields, never raw bytes.

import { SEG } from '../defs/arch.js';
import { ALU, OP } from './ops.js';

/**
 * Code modes the decoder distinguishes. MODE, FORM and FAST are closed sets read on every instruction,
 * so they are const enums: tsc inlines their members as literals (see FAST for why that matters).
 */
export const enum MODE { M16 = 0, M32 = 1, M64 = 2 }
export type Mode = MODE;

/** Prefix bits kept in Insn.pfx. */
export const PFX = {
  OPSIZE: 1, ADDRSIZE: 2, LOCK: 4, REP: 8, REPNE: 16, REX: 32, REXW: 64, SEGOVR: 128,
} as const;

/** Binary operand forms that handlers of two-operand instructions distinguish. */
export const enum FORM {
  /** destination r/m (register when mod === 3), source ModRM.reg */
  EG = 0,
  /** destination ModRM.reg, source r/m */
  GE = 1,
  /** destination r/m, source immediate */
  EI = 2,
  /** destination r/m, source CL (shifts) */
  ECL = 3,
  /** destination r/m, source constant 1 (shifts) */
  E1 = 4,
  /** destination r/m only */
  E = 5,
  /** no operands or operands implied by the op */
  NONE = 6,
}

/**
 * Specialised handler ids (Insn.fast): the hottest forms get their own code and the common families go
 * straight to their handler; FAST.NONE dispatches by op. A const enum on purpose, unlike the other
 * tables here: tsc inlines its members as literals, so the dispatch switch compiles to a jump table.
 * V8 does not fold properties of module-level objects (OP.ALU is a load), and a switch over them is
 * a chain of loads and compares, as long as the op list for the ops near its end.
 */
export const enum FAST {
  NONE,
  // Families, dispatched without looking at the op.
  ALU, MOV, JCC, TEST, LEA, PUSH, POP, CALL, RET, JMP, MOVZX, MOVSX, SHIFT, INC, DEC, SETCC, CMOVCC, NOT,
  NEG, MUL, IMUL1, IMUL2, IMUL3, DIV, IDIV, XCHG, XADD, CMPXCHG, BT, BSF, BSR, SHLD, SHRD, BSWAP, CBW, CWD,
  NOP, LEAVE, MOVS, STOS, LODS, CMPS, SCAS, SSEMOVE, SSEINT, SSESHIFTI, PSHUF, PMOVMSKB, UNPCKLPS, UNPCKHPS,
  SSEFP,
  // Specialised forms (see fastForm for the conditions each one guarantees).
  ALU32_R, ALU64_R, MOV_RR, MOV_RI, MOV32_LOAD, MOV64_LOAD, MOV32_STORE, MOV64_STORE,
  ADD32, OR32, AND32, SUB32, XOR32, CMP32, ADD64, OR64, AND64, SUB64, XOR64, CMP64, TEST32, TEST64,
  CMP_MI, ALU_RM, LEA32, LEA64, MOVZX_R, MOVZX_M,
}

/** Register-form ALU ops with their own handler, by ALU op, for 32- and 64-bit operands. */
const ALU32_FAST: readonly FAST[] = [FAST.ADD32, FAST.OR32, FAST.ALU32_R, FAST.ALU32_R, FAST.AND32, FAST.SUB32, FAST.XOR32, FAST.CMP32];
const ALU64_FAST: readonly FAST[] = [FAST.ADD64, FAST.OR64, FAST.ALU64_R, FAST.ALU64_R, FAST.AND64, FAST.SUB64, FAST.XOR64, FAST.CMP64];

/** Op → family id for the ops that have one (built once from constant data, never mutated). */
const FAMILY: ReadonlyMap<number, FAST> = new Map<number, FAST>([
  [OP.ALU, FAST.ALU], [OP.MOV, FAST.MOV], [OP.JCC, FAST.JCC], [OP.TEST, FAST.TEST], [OP.LEA, FAST.LEA],
  [OP.PUSH, FAST.PUSH], [OP.POP, FAST.POP], [OP.CALL, FAST.CALL], [OP.RET, FAST.RET], [OP.JMP, FAST.JMP],
  [OP.MOVZX, FAST.MOVZX], [OP.MOVSX, FAST.MOVSX], [OP.MOVSXD, FAST.MOVSX], [OP.SHIFT, FAST.SHIFT],
  [OP.INC, FAST.INC], [OP.DEC, FAST.DEC], [OP.SETCC, FAST.SETCC], [OP.CMOVCC, FAST.CMOVCC], [OP.NOT, FAST.NOT],
  [OP.NEG, FAST.NEG], [OP.MUL, FAST.MUL], [OP.IMUL1, FAST.IMUL1], [OP.IMUL2, FAST.IMUL2], [OP.IMUL3, FAST.IMUL3],
  [OP.DIV, FAST.DIV], [OP.IDIV, FAST.IDIV], [OP.XCHG, FAST.XCHG], [OP.XADD, FAST.XADD], [OP.CMPXCHG, FAST.CMPXCHG],
  [OP.BT, FAST.BT], [OP.BSF, FAST.BSF], [OP.BSR, FAST.BSR], [OP.SHLD, FAST.SHLD], [OP.SHRD, FAST.SHRD],
  [OP.BSWAP, FAST.BSWAP], [OP.CBW, FAST.CBW], [OP.CWD, FAST.CWD], [OP.NOP, FAST.NOP], [OP.PREFETCH, FAST.NOP],
  [OP.FENCE, FAST.NOP], [OP.PAUSE, FAST.NOP], [OP.LEAVE, FAST.LEAVE], [OP.MOVS, FAST.MOVS], [OP.STOS, FAST.STOS],
  [OP.LODS, FAST.LODS], [OP.CMPS, FAST.CMPS], [OP.SCAS, FAST.SCAS], [OP.MOVUPS, FAST.SSEMOVE],
  [OP.MOVSS, FAST.SSEMOVE], [OP.MOVSD, FAST.SSEMOVE], [OP.MOVLPS, FAST.SSEMOVE], [OP.MOVHPS, FAST.SSEMOVE],
  [OP.MOVD, FAST.SSEMOVE], [OP.MOVQ, FAST.SSEMOVE], [OP.SSEINT, FAST.SSEINT], [OP.SSESHIFTI, FAST.SSESHIFTI],
  [OP.PSHUF, FAST.PSHUF], [OP.PMOVMSKB, FAST.PMOVMSKB], [OP.UNPCKLPS, FAST.UNPCKLPS],
  [OP.UNPCKHPS, FAST.UNPCKHPS], [OP.SSEFP, FAST.SSEFP],
]);

/**
 * The specialised handler of a decoded instruction. A memory form is specialised only when its address
 * is flat (see Insn.flat: no segmentation and no limits); the handlers rely on exactly that.
 */
function fastForm(op: number, sub: number, form: number, osz: number, mod: number, mem64: boolean): FAST {
  const wide = osz === 4 || osz === 8;
  switch (op) {
    case OP.ALU:
      if (mod === 3 && osz === 4) return ALU32_FAST[sub];
      if (mod === 3 && osz === 8) return ALU64_FAST[sub];
      if (mem64 && sub === ALU.CMP && form === FORM.EI && osz !== 2) return FAST.CMP_MI;
      if (mem64 && form === FORM.GE && wide && sub !== ALU.ADC && sub !== ALU.SBB) return FAST.ALU_RM;
      break;
    case OP.TEST:
      if (mod === 3 && osz === 4) return FAST.TEST32;
      if (mod === 3 && osz === 8) return FAST.TEST64;
      break;
    case OP.LEA:
      // asz 8 (so 64-bit mode); LEA never has a moffs operand.
      if (mem64 && osz === 8) return FAST.LEA64;
      if (mem64 && osz === 4) return FAST.LEA32;
      break;
    case OP.MOVZX:
      if (!wide) break;
      if (mod === 3) return FAST.MOVZX_R;
      if (mem64) return FAST.MOVZX_M;
      break;
    case OP.MOV:
      if (!wide) break;
      if (mod === 3) return form === FORM.EI ? FAST.MOV_RI : FAST.MOV_RR;
      if (mem64 && form === FORM.GE) return osz === 4 ? FAST.MOV32_LOAD : FAST.MOV64_LOAD;
      if (mem64 && form === FORM.EG) return osz === 4 ? FAST.MOV32_STORE : FAST.MOV64_STORE;
      break;
  }
  return FAMILY.get(op) ?? FAST.NONE;
}

// The fields are declared (not class fields) and assigned in the constructor: a class field would first
// be defined as undefined, which makes V8 keep every field as a generic tagged value, checked on each
// read. Assigned directly, small integer fields stay small integers.
export class Insn {
  /** Operation id (OP in ops.ts). */
  declare readonly op: number;
  /** Sub-operation: ALU kind, condition code, shift kind, SSE op index, segment number... */
  declare readonly sub: number;
  declare readonly form: number;
  /** Total length in bytes. */
  declare readonly len: number;
  /** Operand size in bytes (1, 2, 4, 8; 16 for XMM operands). */
  declare readonly osz: number;
  /** Address size in bytes (2, 4, 8). */
  declare readonly asz: number;
  /** ModRM.mod; 3 means the r/m operand is a register. -1 when there is no ModRM byte. */
  declare readonly mod: number;
  /** ModRM.reg with REX.R (byte-register numbering for byte operands: 16..19 = AH..BH). */
  declare readonly reg: number;
  /** ModRM.rm with REX.B when mod === 3 (byte numbering for byte operands). */
  declare readonly rm: number;
  /** Memory operand: base register, -1 none, 16 = RIP-relative. */
  declare readonly base: number;
  /** Memory operand: index register, -1 none. */
  declare readonly index: number;
  declare readonly scale: number;
  /** Signed displacement. */
  declare readonly disp: number;
  /** Segment of the memory operand (override or default). */
  declare readonly seg: number;
  /**
   * Immediate (or relative offset), low 32 bits as an int32 bit pattern (signed for J operands; the
   * far pointer offset of Ap is unsigned).
   */
  declare readonly imm: number;
  /** Immediate high 32 bits as an int32 (sign or zero extension, or the top of a 64-bit MOV immediate). */
  declare readonly immHi: number;
  /** Second immediate (ENTER's nesting level, far pointer selector). */
  declare readonly imm2: number;
  declare readonly pfx: number;
  /**
   * The memory operand has a flat address: 64-bit addressing (so 64-bit mode), no FS/GS base, and a
   * register, RIP or no base (not a moffs address). Cpu.ea64 computes it. Derived from the fields above.
   */
  declare readonly flat: boolean;
  /** Specialised handler (FAST), derived from the fields above. */
  declare readonly fast: FAST;

  constructor(op: number, sub: number, form: number, len: number, osz: number, asz: number, mod: number, reg: number,
    rm: number, base: number, index: number, scale: number, disp: number, seg: number, imm: number, immHi: number,
    imm2: number, pfx: number) {
    this.op = op; this.sub = sub; this.form = form; this.len = len; this.osz = osz; this.asz = asz; this.mod = mod;
    this.reg = reg; this.rm = rm; this.base = base; this.index = index; this.scale = scale; this.disp = disp;
    this.seg = seg; this.imm = imm; this.immHi = immHi; this.imm2 = imm2; this.pfx = pfx;
    this.flat = mod >= 0 && mod !== 3 && asz === 8 && seg < SEG.FS && base !== 17;
    this.fast = fastForm(op, sub, form, osz, mod, this.flat);
  }
}

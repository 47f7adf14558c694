// The decoded instruction record. Produced once per instruction by the decoder, cached per physical
// page, and never mutated afterwards: handlers read fields, never raw bytes.

/** Code modes the decoder distinguishes. */
export const MODE = { M16: 0, M32: 1, M64: 2 } as const;
export type Mode = (typeof MODE)[keyof typeof MODE];

/** Prefix bits kept in Insn.pfx. */
export const PFX = {
  OPSIZE: 1, ADDRSIZE: 2, LOCK: 4, REP: 8, REPNE: 16, REX: 32, REXW: 64, SEGOVR: 128,
} as const;

/** Binary operand forms that handlers of two-operand instructions distinguish. */
export const FORM = {
  /** destination r/m (register when mod === 3), source ModRM.reg */
  EG: 0,
  /** destination ModRM.reg, source r/m */
  GE: 1,
  /** destination r/m, source immediate */
  EI: 2,
  /** destination r/m, source CL (shifts) */
  ECL: 3,
  /** destination r/m, source constant 1 (shifts) */
  E1: 4,
  /** destination r/m only */
  E: 5,
  /** no operands or operands implied by the op */
  NONE: 6,
} as const;

export class Insn {
  constructor(
    /** Operation id (OP in ops.ts). */
    readonly op: number,
    /** Sub-operation: ALU kind, condition code, shift kind, SSE op index, segment number... */
    readonly sub: number,
    readonly form: number,
    /** Total length in bytes. */
    readonly len: number,
    /** Operand size in bytes (1, 2, 4, 8; 16 for XMM operands). */
    readonly osz: number,
    /** Address size in bytes (2, 4, 8). */
    readonly asz: number,
    /** ModRM.mod; 3 means the r/m operand is a register. -1 when there is no ModRM byte. */
    readonly mod: number,
    /** ModRM.reg with REX.R (byte-register numbering for byte operands: 16..19 = AH..BH). */
    readonly reg: number,
    /** ModRM.rm with REX.B when mod === 3 (byte numbering for byte operands). */
    readonly rm: number,
    /** Memory operand: base register, -1 none, 16 = RIP-relative. */
    readonly base: number,
    /** Memory operand: index register, -1 none. */
    readonly index: number,
    readonly scale: number,
    /** Signed displacement. */
    readonly disp: number,
    /** Segment of the memory operand (override or default). */
    readonly seg: number,
    /** Immediate (or relative offset), low 32 bits; signed for J operands. */
    readonly imm: number,
    /** Immediate high 32 bits (sign or zero extension, or the top of a 64-bit MOV immediate). */
    readonly immHi: number,
    /** Second immediate (ENTER's nesting level, far pointer selector). */
    readonly imm2: number,
    readonly pfx: number,
  ) {}
}

// Operation ids of decoded instructions and the mnemonic → (op, sub) mapping the decoder uses.

const NAMES = [
  'UD', 'BADLEN', 'ALU', 'SHIFT', 'JCC', 'SETCC', 'CMOVCC', 'BT', 'TEST', 'MOV', 'MOVZX', 'MOVSX', 'MOVSXD',
  'LEA', 'PUSH', 'POP', 'PUSHSEG', 'POPSEG', 'PUSHA', 'POPA', 'PUSHF', 'POPF', 'INC', 'DEC', 'NOT', 'NEG',
  'MUL', 'IMUL1', 'IMUL2', 'IMUL3', 'DIV', 'IDIV', 'XCHG', 'XADD', 'CMPXCHG', 'CMPXCHG8B', 'NOP', 'PAUSE',
  'CBW', 'CWD', 'SAHF', 'LAHF', 'MOVFROMSEG', 'MOVTOSEG', 'CALL', 'CALLF', 'JMP', 'JMPF', 'RET', 'RETF',
  'ENTER', 'LEAVE', 'INT', 'INT1', 'INT3', 'INTO', 'IRET', 'LOOP', 'LOOPE', 'LOOPNE', 'JCXZ', 'IN', 'OUT',
  'INS', 'OUTS', 'MOVS', 'CMPS', 'STOS', 'LODS', 'SCAS', 'XLAT', 'HLT', 'CMC', 'CLC', 'STC', 'CLI', 'STI',
  'CLD', 'STD', 'FWAIT', 'SHLD', 'SHRD', 'BSF', 'BSR', 'POPCNT', 'BSWAP', 'LES', 'LDS', 'LSS', 'LFS', 'LGS',
  'SLDT', 'STR', 'LLDT', 'LTR', 'VERR', 'VERW', 'SGDT', 'SIDT', 'LGDT', 'LIDT', 'SMSW', 'LMSW', 'INVLPG',
  'LAR', 'LSL', 'SYSCALL', 'SYSRET', 'SYSENTER', 'SYSEXIT', 'CLTS', 'INVD', 'WBINVD', 'UD2', 'WRMSR', 'RDMSR',
  'RDTSC', 'RDTSCP', 'RDPMC', 'RDPID', 'RDRAND', 'RDSEED', 'CPUID', 'MOVFROMCR', 'MOVTOCR', 'MOVFROMDR',
  'MOVTODR', 'VMCALL', 'VMMCALL', 'MONITOR', 'MWAIT', 'CLAC', 'STAC', 'XGETBV', 'XSETBV', 'SWAPGS',
  'FXSAVE', 'FXRSTOR', 'LDMXCSR', 'STMXCSR', 'XSAVE', 'XRSTOR', 'XSAVEOPT', 'CLFLUSH', 'FENCE', 'PREFETCH',
  'FSGSBASE', 'MOVNTI', 'AAM', 'AAD', 'X87',
  // SSE
  'MOVUPS', 'MOVSS', 'MOVSD', 'MOVLPS', 'MOVHPS', 'MOVD', 'MOVQ', 'SSEINT', 'SSESHIFTI', 'PSHUF',
  'PMOVMSKB', 'UNPCKLPS', 'UNPCKHPS', 'PINSRW', 'PEXTRW', 'SSEFP',
] as const;

export type OpName = (typeof NAMES)[number];
export const OP = Object.fromEntries(NAMES.map((n, i) => [n, i])) as { readonly [K in OpName]: number };
export const OP_NAMES: readonly string[] = NAMES;

export const ALU_NAMES = ['ADD', 'OR', 'ADC', 'SBB', 'AND', 'SUB', 'XOR', 'CMP'] as const;
/** A const enum (a closed set, and read on every ALU instruction): tsc inlines the members. */
export const enum ALU { ADD = 0, OR = 1, ADC = 2, SBB = 3, AND = 4, SUB = 5, XOR = 6, CMP = 7 }
export const SHIFT_NAMES = ['ROL', 'ROR', 'RCL', 'RCR', 'SHL', 'SHR', 'SAL', 'SAR'] as const;
export const CC_NAMES = ['O', 'NO', 'B', 'AE', 'E', 'NE', 'BE', 'A', 'S', 'NS', 'P', 'NP', 'L', 'GE', 'LE', 'G'] as const;
export const BT_NAMES = ['BT', 'BTS', 'BTR', 'BTC'] as const;

/** SSE integer operations dispatched by OP.SSEINT; sub is the index in this list. */
export const SSEINT_NAMES = [
  'PAND', 'PANDN', 'POR', 'PXOR', 'PUNPCKLBW', 'PUNPCKLWD', 'PUNPCKLDQ', 'PUNPCKLQDQ', 'PUNPCKHBW',
  'PUNPCKHWD', 'PUNPCKHDQ', 'PUNPCKHQDQ', 'PACKSSWB', 'PACKSSDW', 'PACKUSWB', 'PCMPGTB', 'PCMPGTW',
  'PCMPGTD', 'PCMPEQB', 'PCMPEQW', 'PCMPEQD', 'PSRLW', 'PSRLD', 'PSRLQ', 'PSRAW', 'PSRAD', 'PSLLW', 'PSLLD',
  'PSLLQ', 'PADDB', 'PADDW', 'PADDD', 'PADDQ', 'PSUBB', 'PSUBW', 'PSUBD', 'PSUBQ', 'PADDSB', 'PADDSW',
  'PADDUSB', 'PADDUSW', 'PSUBSB', 'PSUBSW', 'PSUBUSB', 'PSUBUSW', 'PMULLW', 'PMULHW', 'PMULHUW', 'PMULUDQ',
  'PMADDWD', 'PSADBW', 'PMINUB', 'PMAXUB', 'PMINSW', 'PMAXSW', 'PAVGB', 'PAVGW',
] as const;
/** Immediate-count shifts (groups 12-14); sub is the index in this list. */
export const SSESHIFTI_NAMES = ['PSRLW', 'PSRAW', 'PSLLW', 'PSRLD', 'PSRAD', 'PSLLD', 'PSRLQ', 'PSRLDQ', 'PSLLQ', 'PSLLDQ'] as const;
export const PSHUF_NAMES = ['PSHUFD', 'PSHUFHW', 'PSHUFLW'] as const;
/** SSE/SSE2 floating-point instructions dispatched by OP.SSEFP (exec/ssefloat.ts); sub is the index. */
export const SSEFP_NAMES = [
  'ADDPS', 'ADDPD', 'ADDSS', 'ADDSD', 'SUBPS', 'SUBPD', 'SUBSS', 'SUBSD', 'MULPS', 'MULPD', 'MULSS', 'MULSD',
  'DIVPS', 'DIVPD', 'DIVSS', 'DIVSD', 'MINPS', 'MINPD', 'MINSS', 'MINSD', 'MAXPS', 'MAXPD', 'MAXSS', 'MAXSD',
  'SQRTPS', 'SQRTPD', 'SQRTSS', 'SQRTSD', 'RCPPS', 'RCPSS', 'RSQRTPS', 'RSQRTSS',
  'CMPPS', 'CMPPD', 'CMPSS', 'CMPSD', 'COMISS', 'COMISD', 'UCOMISS', 'UCOMISD',
  'CVTSI2SS', 'CVTSI2SD', 'CVTTSS2SI', 'CVTTSD2SI', 'CVTSS2SI', 'CVTSD2SI', 'CVTSS2SD', 'CVTSD2SS',
  'CVTPS2PD', 'CVTPD2PS', 'CVTDQ2PS', 'CVTPS2DQ', 'CVTTPS2DQ', 'CVTDQ2PD', 'CVTPD2DQ', 'CVTTPD2DQ',
  'SHUFPS', 'SHUFPD', 'MOVMSKPS', 'MOVMSKPD',
] as const;

/** Resolve a table mnemonic to its op and sub-operation. Returns undefined for unknown names. */
export function resolveMnemonic(m: string): { op: number; sub: number } | undefined {
  let i = (ALU_NAMES as readonly string[]).indexOf(m);
  if (i >= 0) return { op: OP.ALU, sub: i };
  i = (SHIFT_NAMES as readonly string[]).indexOf(m);
  if (i >= 0) return { op: OP.SHIFT, sub: i === 6 ? 4 : i };
  i = (BT_NAMES as readonly string[]).indexOf(m);
  if (i >= 0) return { op: OP.BT, sub: i };
  i = (SSEINT_NAMES as readonly string[]).indexOf(m);
  if (i >= 0) return { op: OP.SSEINT, sub: i };
  i = (SSEFP_NAMES as readonly string[]).indexOf(m);
  if (i >= 0) return { op: OP.SSEFP, sub: i };
  i = (PSHUF_NAMES as readonly string[]).indexOf(m);
  if (i >= 0) return { op: OP.PSHUF, sub: i };
  for (const [prefix, op] of [['J', OP.JCC], ['SET', OP.SETCC], ['CMOV', OP.CMOVCC]] as const) {
    if (m.startsWith(prefix)) {
      i = (CC_NAMES as readonly string[]).indexOf(m.slice(prefix.length));
      if (i >= 0) return { op, sub: i };
    }
  }
  if (m === 'TZCNT') return { op: OP.BSF, sub: 0 };
  if (m === 'LZCNT') return { op: OP.BSR, sub: 0 };
  if (m === 'LFENCE' || m === 'MFENCE' || m === 'SFENCE') return { op: OP.FENCE, sub: 0 };
  const op = (OP as Record<string, number>)[m];
  return op === undefined ? undefined : { op, sub: 0 };
}

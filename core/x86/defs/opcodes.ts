// Opcode maps in Intel-manual operand notation (SDM Vol. 2, Appendix A). Data only: the decoder
// (core/x86/decode) parses these rows once, at first use, into its dispatch tables.
//
// Operand notation: E = ModRM r/m, G = ModRM reg, I = immediate, J = relative offset, O = moffs,
// S = segment register (ModRM reg), C/D = control/debug register, M = memory only, Z = register from
// the opcode's low 3 bits, V/W/U = XMM reg / XMM-or-memory / XMM register only; sizes b w d q v (16/32/64
// by operand size) z (16 or 32) y (32 or 64) x (128-bit). Ibs is an imm8 sign-extended to operand size.
// AL/rAX/CL/DX name fixed registers; 1 is the constant one. R = general register only (ModRM.mod
// must be 3). Rv/Mw: the register form has operand size v, the memory form is always a word.
// Row suffixes after '|': d64 = operand size defaults to 64 in long mode, f64 = forced to 64 in long
// mode, i64 = invalid in long mode, o64 = long mode only, lock = LOCK allowed (with a memory destination).

export type OpcodeRow = string;

/** One-byte opcode map. Prefix bytes are not listed here; the decoder consumes them. */
export const MAP1: Record<number, OpcodeRow> = {
  0x00: 'ADD Eb,Gb|lock', 0x01: 'ADD Ev,Gv|lock', 0x02: 'ADD Gb,Eb', 0x03: 'ADD Gv,Ev', 0x04: 'ADD AL,Ib', 0x05: 'ADD rAX,Iz',
  0x06: 'PUSHSEG ES|i64', 0x07: 'POPSEG ES|i64',
  0x08: 'OR Eb,Gb|lock', 0x09: 'OR Ev,Gv|lock', 0x0a: 'OR Gb,Eb', 0x0b: 'OR Gv,Ev', 0x0c: 'OR AL,Ib', 0x0d: 'OR rAX,Iz',
  0x0e: 'PUSHSEG CS|i64',
  0x10: 'ADC Eb,Gb|lock', 0x11: 'ADC Ev,Gv|lock', 0x12: 'ADC Gb,Eb', 0x13: 'ADC Gv,Ev', 0x14: 'ADC AL,Ib', 0x15: 'ADC rAX,Iz',
  0x16: 'PUSHSEG SS|i64', 0x17: 'POPSEG SS|i64',
  0x18: 'SBB Eb,Gb|lock', 0x19: 'SBB Ev,Gv|lock', 0x1a: 'SBB Gb,Eb', 0x1b: 'SBB Gv,Ev', 0x1c: 'SBB AL,Ib', 0x1d: 'SBB rAX,Iz',
  0x1e: 'PUSHSEG DS|i64', 0x1f: 'POPSEG DS|i64',
  0x20: 'AND Eb,Gb|lock', 0x21: 'AND Ev,Gv|lock', 0x22: 'AND Gb,Eb', 0x23: 'AND Gv,Ev', 0x24: 'AND AL,Ib', 0x25: 'AND rAX,Iz',
  0x28: 'SUB Eb,Gb|lock', 0x29: 'SUB Ev,Gv|lock', 0x2a: 'SUB Gb,Eb', 0x2b: 'SUB Gv,Ev', 0x2c: 'SUB AL,Ib', 0x2d: 'SUB rAX,Iz',
  0x30: 'XOR Eb,Gb|lock', 0x31: 'XOR Ev,Gv|lock', 0x32: 'XOR Gb,Eb', 0x33: 'XOR Gv,Ev', 0x34: 'XOR AL,Ib', 0x35: 'XOR rAX,Iz',
  0x38: 'CMP Eb,Gb', 0x39: 'CMP Ev,Gv', 0x3a: 'CMP Gb,Eb', 0x3b: 'CMP Gv,Ev', 0x3c: 'CMP AL,Ib', 0x3d: 'CMP rAX,Iz',
  // 0x40-0x4f are REX prefixes in long mode; INC/DEC Zv elsewhere (handled by the decoder).
  0x40: 'INC Zv|i64', 0x41: 'INC Zv|i64', 0x42: 'INC Zv|i64', 0x43: 'INC Zv|i64',
  0x44: 'INC Zv|i64', 0x45: 'INC Zv|i64', 0x46: 'INC Zv|i64', 0x47: 'INC Zv|i64',
  0x48: 'DEC Zv|i64', 0x49: 'DEC Zv|i64', 0x4a: 'DEC Zv|i64', 0x4b: 'DEC Zv|i64',
  0x4c: 'DEC Zv|i64', 0x4d: 'DEC Zv|i64', 0x4e: 'DEC Zv|i64', 0x4f: 'DEC Zv|i64',
  0x50: 'PUSH Zv|d64', 0x51: 'PUSH Zv|d64', 0x52: 'PUSH Zv|d64', 0x53: 'PUSH Zv|d64',
  0x54: 'PUSH Zv|d64', 0x55: 'PUSH Zv|d64', 0x56: 'PUSH Zv|d64', 0x57: 'PUSH Zv|d64',
  0x58: 'POP Zv|d64', 0x59: 'POP Zv|d64', 0x5a: 'POP Zv|d64', 0x5b: 'POP Zv|d64',
  0x5c: 'POP Zv|d64', 0x5d: 'POP Zv|d64', 0x5e: 'POP Zv|d64', 0x5f: 'POP Zv|d64',
  0x60: 'PUSHA|i64', 0x61: 'POPA|i64', 0x63: 'MOVSXD Gv,Ed|o64',
  0x68: 'PUSH Iz|d64', 0x69: 'IMUL3 Gv,Ev,Iz', 0x6a: 'PUSH Ibs|d64', 0x6b: 'IMUL3 Gv,Ev,Ibs',
  0x6c: 'INS Yb,DX', 0x6d: 'INS Yz,DX', 0x6e: 'OUTS DX,Xb', 0x6f: 'OUTS DX,Xz',
  0x70: 'JO Jb|f64', 0x71: 'JNO Jb|f64', 0x72: 'JB Jb|f64', 0x73: 'JAE Jb|f64', 0x74: 'JE Jb|f64', 0x75: 'JNE Jb|f64',
  0x76: 'JBE Jb|f64', 0x77: 'JA Jb|f64', 0x78: 'JS Jb|f64', 0x79: 'JNS Jb|f64', 0x7a: 'JP Jb|f64', 0x7b: 'JNP Jb|f64',
  0x7c: 'JL Jb|f64', 0x7d: 'JGE Jb|f64', 0x7e: 'JLE Jb|f64', 0x7f: 'JG Jb|f64',
  0x80: 'GRP1 Eb,Ib|lock', 0x81: 'GRP1 Ev,Iz|lock', 0x82: 'GRP1 Eb,Ib|i64 lock', 0x83: 'GRP1 Ev,Ibs|lock',
  0x84: 'TEST Eb,Gb', 0x85: 'TEST Ev,Gv', 0x86: 'XCHG Eb,Gb|lock', 0x87: 'XCHG Ev,Gv|lock',
  0x88: 'MOV Eb,Gb', 0x89: 'MOV Ev,Gv', 0x8a: 'MOV Gb,Eb', 0x8b: 'MOV Gv,Ev',
  0x8c: 'MOVFROMSEG Rv/Mw,Sw', 0x8d: 'LEA Gv,M', 0x8e: 'MOVTOSEG Sw,Ew', 0x8f: 'GRP1A Ev|d64',
  0x90: 'NOP', 0x91: 'XCHG Zv,rAX', 0x92: 'XCHG Zv,rAX', 0x93: 'XCHG Zv,rAX',
  0x94: 'XCHG Zv,rAX', 0x95: 'XCHG Zv,rAX', 0x96: 'XCHG Zv,rAX', 0x97: 'XCHG Zv,rAX',
  0x98: 'CBW', 0x99: 'CWD', 0x9a: 'CALLF Ap|i64', 0x9b: 'FWAIT', 0x9c: 'PUSHF|d64', 0x9d: 'POPF|d64',
  0x9e: 'SAHF', 0x9f: 'LAHF',
  0xa0: 'MOV AL,Ob', 0xa1: 'MOV rAX,Ov', 0xa2: 'MOV Ob,AL', 0xa3: 'MOV Ov,rAX',
  0xa4: 'MOVS Yb,Xb', 0xa5: 'MOVS Yv,Xv', 0xa6: 'CMPS Xb,Yb', 0xa7: 'CMPS Xv,Yv',
  0xa8: 'TEST AL,Ib', 0xa9: 'TEST rAX,Iz', 0xaa: 'STOS Yb,AL', 0xab: 'STOS Yv,rAX',
  0xac: 'LODS AL,Xb', 0xad: 'LODS rAX,Xv', 0xae: 'SCAS AL,Yb', 0xaf: 'SCAS rAX,Yv',
  0xb0: 'MOV Zb,Ib', 0xb1: 'MOV Zb,Ib', 0xb2: 'MOV Zb,Ib', 0xb3: 'MOV Zb,Ib',
  0xb4: 'MOV Zb,Ib', 0xb5: 'MOV Zb,Ib', 0xb6: 'MOV Zb,Ib', 0xb7: 'MOV Zb,Ib',
  0xb8: 'MOV Zv,Iv', 0xb9: 'MOV Zv,Iv', 0xba: 'MOV Zv,Iv', 0xbb: 'MOV Zv,Iv',
  0xbc: 'MOV Zv,Iv', 0xbd: 'MOV Zv,Iv', 0xbe: 'MOV Zv,Iv', 0xbf: 'MOV Zv,Iv',
  0xc0: 'GRP2 Eb,Ib', 0xc1: 'GRP2 Ev,Ib', 0xc2: 'RET Iw|f64', 0xc3: 'RET|f64',
  0xc4: 'LES Gz,Mp|i64', 0xc5: 'LDS Gz,Mp|i64',
  0xc6: 'GRP11 Eb,Ib', 0xc7: 'GRP11 Ev,Iz', 0xc8: 'ENTER Iw,Ib|d64', 0xc9: 'LEAVE|d64',
  0xca: 'RETF Iw', 0xcb: 'RETF', 0xcc: 'INT3', 0xcd: 'INT Ib', 0xce: 'INTO|i64', 0xcf: 'IRET',
  0xd0: 'GRP2 Eb,1', 0xd1: 'GRP2 Ev,1', 0xd2: 'GRP2 Eb,CL', 0xd3: 'GRP2 Ev,CL',
  0xd4: 'AAM Ib|i64', 0xd5: 'AAD Ib|i64', 0xd7: 'XLAT',
  // x87 escapes: only the control instructions are implemented (see core/x86/exec/x87.ts).
  0xd8: 'X87 Ex', 0xd9: 'X87 Ex', 0xda: 'X87 Ex', 0xdb: 'X87 Ex', 0xdc: 'X87 Ex', 0xdd: 'X87 Ex', 0xde: 'X87 Ex', 0xdf: 'X87 Ex',
  0xe0: 'LOOPNE Jb|f64', 0xe1: 'LOOPE Jb|f64', 0xe2: 'LOOP Jb|f64', 0xe3: 'JCXZ Jb|f64',
  0xe4: 'IN AL,Ib', 0xe5: 'IN eAX,Ib', 0xe6: 'OUT Ib,AL', 0xe7: 'OUT Ib,eAX',
  0xe8: 'CALL Jz|f64', 0xe9: 'JMP Jz|f64', 0xea: 'JMPF Ap|i64', 0xeb: 'JMP Jb|f64',
  0xec: 'IN AL,DX', 0xed: 'IN eAX,DX', 0xee: 'OUT DX,AL', 0xef: 'OUT DX,eAX',
  0xf1: 'INT1', 0xf4: 'HLT', 0xf5: 'CMC', 0xf6: 'GRP3 Eb', 0xf7: 'GRP3 Ev',
  0xf8: 'CLC', 0xf9: 'STC', 0xfa: 'CLI', 0xfb: 'STI', 0xfc: 'CLD', 0xfd: 'STD',
  0xfe: 'GRP4 Eb', 0xff: 'GRP5 Ev',
};

/** ModRM.reg-selected groups. A row of '' is an invalid encoding (#UD). */
export const GROUPS: Record<string, readonly OpcodeRow[]> = {
  // 8F /1-7 are not POP (#UD; XOP on AMD).
  GRP1A: ['POP', '', '', '', '', '', '', ''],
  GRP1: ['ADD|lock', 'OR|lock', 'ADC|lock', 'SBB|lock', 'AND|lock', 'SUB|lock', 'XOR|lock', 'CMP'],
  GRP2: ['ROL', 'ROR', 'RCL', 'RCR', 'SHL', 'SHR', 'SAL', 'SAR'],
  GRP3: ['TEST +I', 'TEST +I', 'NOT|lock', 'NEG|lock', 'MUL', 'IMUL1', 'DIV', 'IDIV'],
  GRP4: ['INC|lock', 'DEC|lock', '', '', '', '', '', ''],
  GRP5: ['INC|lock', 'DEC|lock', 'CALL Ev|f64', 'CALLF Mp', 'JMP Ev|f64', 'JMPF Mp', 'PUSH Ev|d64', ''],
  GRP11: ['MOV', '', '', '', '', '', '', ''],
  GRP6: ['SLDT Rv/Mw', 'STR Rv/Mw', 'LLDT Ew', 'LTR Ew', 'VERR Ew', 'VERW Ew', '', ''],
  GRP7: ['SGDT M', 'SIDT M', 'LGDT M', 'LIDT M', 'SMSW Rv/Mw', '', 'LMSW Ew', 'INVLPG M'],
  GRP8: ['', '', '', '', 'BT Ev,Ib', 'BTS Ev,Ib|lock', 'BTR Ev,Ib|lock', 'BTC Ev,Ib|lock'],
  // RDRAND / RDSEED take a register only (the memory forms are VMPTRLD / VMPTRST).
  GRP9: ['', 'CMPXCHG8B M|lock', '', '', '', '', 'RDRAND Rv', 'RDSEED Rv'],
  GRP12: ['', '', 'PSRLW Ux,Ib', '', 'PSRAW Ux,Ib', '', 'PSLLW Ux,Ib', ''],
  GRP13: ['', '', 'PSRLD Ux,Ib', '', 'PSRAD Ux,Ib', '', 'PSLLD Ux,Ib', ''],
  GRP14: ['', '', 'PSRLQ Ux,Ib', 'PSRLDQ Ux,Ib', '', '', 'PSLLQ Ux,Ib', 'PSLLDQ Ux,Ib'],
  GRP15: ['FXSAVE M', 'FXRSTOR M', 'LDMXCSR Md', 'STMXCSR Md', 'XSAVE M', 'XRSTOR M', 'XSAVEOPT M', 'CLFLUSH M'],
  // F3 0F AE: RDFSBASE / RDGSBASE / WRFSBASE / WRGSBASE; /4-7 (PTWRITE, INCSSP, UMONITOR) are not implemented.
  GRP15F3: ['FSGSBASE Ry|o64', 'FSGSBASE Ry|o64', 'FSGSBASE Ry|o64', 'FSGSBASE Ry|o64', '', '', '', ''],
  GRP16: ['PREFETCH M', 'PREFETCH M', 'PREFETCH M', 'PREFETCH M', 'NOP Ev', 'NOP Ev', 'NOP Ev', 'NOP Ev'],
};

/**
 * ModRM.mod == 3 forms of group 7 (0F 01), keyed by the whole ModRM byte; group 15 and 9 register
 * forms are keyed the same way (the decoder consults these before the memory forms).
 */
export const GRP7_REG: Record<number, OpcodeRow> = {
  0xc1: 'VMCALL', 0xd9: 'VMMCALL', 0xc8: 'MONITOR', 0xc9: 'MWAIT', 0xca: 'CLAC', 0xcb: 'STAC',
  0xd0: 'XGETBV', 0xd1: 'XSETBV', 0xf8: 'SWAPGS|o64', 0xf9: 'RDTSCP',
};
export const GRP15_REG: Record<number, OpcodeRow> = { 5: 'LFENCE', 6: 'MFENCE', 7: 'SFENCE' };
/** 0F 18 /0-3 with a register operand: reserved NOPs (the prefetch hints need memory). Keyed by ModRM.reg. */
export const GRP16_REG: Record<number, OpcodeRow> = { 0: 'NOP Ev', 1: 'NOP Ev', 2: 'NOP Ev', 3: 'NOP Ev' };

/**
 * Two-byte map (0F xx). A row may be a string, or an object keyed by the mandatory prefix
 * ('' none, '66', 'F3', 'F2') for SSE encodings.
 */
export type PrefixedRow = OpcodeRow | { readonly [prefix: string]: OpcodeRow };

export const MAP0F: Record<number, PrefixedRow> = {
  0x00: 'GRP6', 0x01: 'GRP7', 0x02: 'LAR Gv,Ew', 0x03: 'LSL Gv,Ew',
  0x05: 'SYSCALL', 0x06: 'CLTS', 0x07: 'SYSRET', 0x08: 'INVD', 0x09: 'WBINVD', 0x0b: 'UD2',
  0x0d: 'NOP Ev',
  0x10: { '': 'MOVUPS Vx,Wx', '66': 'MOVUPS Vx,Wx', F3: 'MOVSS Vx,Wx', F2: 'MOVSD Vx,Wx' },
  0x11: { '': 'MOVUPS Wx,Vx', '66': 'MOVUPS Wx,Vx', F3: 'MOVSS Wx,Vx', F2: 'MOVSD Wx,Vx' },
  0x12: { '': 'MOVLPS Vx,Wq', '66': 'MOVLPS Vx,Mq' },
  0x13: { '': 'MOVLPS Mq,Vx', '66': 'MOVLPS Mq,Vx' },
  0x14: { '': 'UNPCKLPS Vx,Wx', '66': 'PUNPCKLQDQ Vx,Wx' },
  0x15: { '': 'UNPCKHPS Vx,Wx', '66': 'PUNPCKHQDQ Vx,Wx' },
  0x16: { '': 'MOVHPS Vx,Wq', '66': 'MOVHPS Vx,Mq' },
  0x17: { '': 'MOVHPS Mq,Vx', '66': 'MOVHPS Mq,Vx' },
  0x18: 'GRP16', 0x19: 'NOP Ev', 0x1a: 'NOP Ev', 0x1b: 'NOP Ev', 0x1c: 'NOP Ev', 0x1d: 'NOP Ev', 0x1e: 'NOP Ev', 0x1f: 'NOP Ev',
  // MOV CRn / DRn: 64-bit in long mode whatever REX.W says.
  0x20: 'MOVFROMCR Ry,Cd|f64', 0x21: 'MOVFROMDR Ry,Dd|f64', 0x22: 'MOVTOCR Cd,Ry|f64', 0x23: 'MOVTODR Dd,Ry|f64',
  0x28: { '': 'MOVUPS Vx,Wx +A', '66': 'MOVUPS Vx,Wx +A' },
  0x29: { '': 'MOVUPS Wx,Vx +A', '66': 'MOVUPS Wx,Vx +A' },
  0x2a: { F3: 'CVTSI2SS Vx,Ey', F2: 'CVTSI2SD Vx,Ey' },
  0x2b: { '': 'MOVUPS Mx,Vx +A', '66': 'MOVUPS Mx,Vx +A' },
  0x2c: { F3: 'CVTTSS2SI Gy,Wd', F2: 'CVTTSD2SI Gy,Wq' },
  0x2d: { F3: 'CVTSS2SI Gy,Wd', F2: 'CVTSD2SI Gy,Wq' },
  0x2e: { '': 'UCOMISS Vx,Wd', '66': 'UCOMISD Vx,Wq' },
  0x2f: { '': 'COMISS Vx,Wd', '66': 'COMISD Vx,Wq' },
  0x30: 'WRMSR', 0x31: 'RDTSC', 0x32: 'RDMSR', 0x33: 'RDPMC', 0x34: 'SYSENTER', 0x35: 'SYSEXIT',
  0x40: 'CMOVO Gv,Ev', 0x41: 'CMOVNO Gv,Ev', 0x42: 'CMOVB Gv,Ev', 0x43: 'CMOVAE Gv,Ev',
  0x44: 'CMOVE Gv,Ev', 0x45: 'CMOVNE Gv,Ev', 0x46: 'CMOVBE Gv,Ev', 0x47: 'CMOVA Gv,Ev',
  0x48: 'CMOVS Gv,Ev', 0x49: 'CMOVNS Gv,Ev', 0x4a: 'CMOVP Gv,Ev', 0x4b: 'CMOVNP Gv,Ev',
  0x4c: 'CMOVL Gv,Ev', 0x4d: 'CMOVGE Gv,Ev', 0x4e: 'CMOVLE Gv,Ev', 0x4f: 'CMOVG Gv,Ev',
  // SSE floating point (exec/ssefloat.ts). ANDPS/ANDNPS/ORPS/XORPS (and PD) are the same bits as
  // PAND/PANDN/POR/PXOR; UNPCKLPD/UNPCKHPD (66 0F 14/15) as PUNPCKLQDQ/PUNPCKHQDQ.
  0x50: { '': 'MOVMSKPS Gy,Ux', '66': 'MOVMSKPD Gy,Ux' },
  0x51: { '': 'SQRTPS Vx,Wx', '66': 'SQRTPD Vx,Wx', F3: 'SQRTSS Vx,Wd', F2: 'SQRTSD Vx,Wq' },
  0x52: { '': 'RSQRTPS Vx,Wx', F3: 'RSQRTSS Vx,Wd' },
  0x53: { '': 'RCPPS Vx,Wx', F3: 'RCPSS Vx,Wd' },
  0x54: { '': 'PAND Vx,Wx', '66': 'PAND Vx,Wx' },
  0x55: { '': 'PANDN Vx,Wx', '66': 'PANDN Vx,Wx' },
  0x56: { '': 'POR Vx,Wx', '66': 'POR Vx,Wx' },
  0x57: { '': 'PXOR Vx,Wx', '66': 'PXOR Vx,Wx' },
  0x58: { '': 'ADDPS Vx,Wx', '66': 'ADDPD Vx,Wx', F3: 'ADDSS Vx,Wd', F2: 'ADDSD Vx,Wq' },
  0x59: { '': 'MULPS Vx,Wx', '66': 'MULPD Vx,Wx', F3: 'MULSS Vx,Wd', F2: 'MULSD Vx,Wq' },
  0x5a: { '': 'CVTPS2PD Vx,Wq', '66': 'CVTPD2PS Vx,Wx', F3: 'CVTSS2SD Vx,Wd', F2: 'CVTSD2SS Vx,Wq' },
  0x5b: { '': 'CVTDQ2PS Vx,Wx', '66': 'CVTPS2DQ Vx,Wx', F3: 'CVTTPS2DQ Vx,Wx' },
  0x5c: { '': 'SUBPS Vx,Wx', '66': 'SUBPD Vx,Wx', F3: 'SUBSS Vx,Wd', F2: 'SUBSD Vx,Wq' },
  0x5d: { '': 'MINPS Vx,Wx', '66': 'MINPD Vx,Wx', F3: 'MINSS Vx,Wd', F2: 'MINSD Vx,Wq' },
  0x5e: { '': 'DIVPS Vx,Wx', '66': 'DIVPD Vx,Wx', F3: 'DIVSS Vx,Wd', F2: 'DIVSD Vx,Wq' },
  0x5f: { '': 'MAXPS Vx,Wx', '66': 'MAXPD Vx,Wx', F3: 'MAXSS Vx,Wd', F2: 'MAXSD Vx,Wq' },
  0x60: { '66': 'PUNPCKLBW Vx,Wx' }, 0x61: { '66': 'PUNPCKLWD Vx,Wx' }, 0x62: { '66': 'PUNPCKLDQ Vx,Wx' },
  0x63: { '66': 'PACKSSWB Vx,Wx' }, 0x64: { '66': 'PCMPGTB Vx,Wx' }, 0x65: { '66': 'PCMPGTW Vx,Wx' },
  0x66: { '66': 'PCMPGTD Vx,Wx' }, 0x67: { '66': 'PACKUSWB Vx,Wx' },
  0x68: { '66': 'PUNPCKHBW Vx,Wx' }, 0x69: { '66': 'PUNPCKHWD Vx,Wx' }, 0x6a: { '66': 'PUNPCKHDQ Vx,Wx' },
  0x6b: { '66': 'PACKSSDW Vx,Wx' }, 0x6c: { '66': 'PUNPCKLQDQ Vx,Wx' }, 0x6d: { '66': 'PUNPCKHQDQ Vx,Wx' },
  0x6e: { '66': 'MOVD Vx,Ey' },
  0x6f: { '66': 'MOVUPS Vx,Wx +A', F3: 'MOVUPS Vx,Wx' },
  0x70: { '66': 'PSHUFD Vx,Wx,Ib', F3: 'PSHUFHW Vx,Wx,Ib', F2: 'PSHUFLW Vx,Wx,Ib' },
  0x71: { '66': 'GRP12' }, 0x72: { '66': 'GRP13' }, 0x73: { '66': 'GRP14' },
  0x74: { '66': 'PCMPEQB Vx,Wx' }, 0x75: { '66': 'PCMPEQW Vx,Wx' }, 0x76: { '66': 'PCMPEQD Vx,Wx' },
  0x7e: { '66': 'MOVD Ey,Vx', F3: 'MOVQ Vx,Wq' },
  0x7f: { '66': 'MOVUPS Wx,Vx +A', F3: 'MOVUPS Wx,Vx' },
  0x80: 'JO Jz|f64', 0x81: 'JNO Jz|f64', 0x82: 'JB Jz|f64', 0x83: 'JAE Jz|f64', 0x84: 'JE Jz|f64', 0x85: 'JNE Jz|f64',
  0x86: 'JBE Jz|f64', 0x87: 'JA Jz|f64', 0x88: 'JS Jz|f64', 0x89: 'JNS Jz|f64', 0x8a: 'JP Jz|f64', 0x8b: 'JNP Jz|f64',
  0x8c: 'JL Jz|f64', 0x8d: 'JGE Jz|f64', 0x8e: 'JLE Jz|f64', 0x8f: 'JG Jz|f64',
  0x90: 'SETO Eb', 0x91: 'SETNO Eb', 0x92: 'SETB Eb', 0x93: 'SETAE Eb', 0x94: 'SETE Eb', 0x95: 'SETNE Eb',
  0x96: 'SETBE Eb', 0x97: 'SETA Eb', 0x98: 'SETS Eb', 0x99: 'SETNS Eb', 0x9a: 'SETP Eb', 0x9b: 'SETNP Eb',
  0x9c: 'SETL Eb', 0x9d: 'SETGE Eb', 0x9e: 'SETLE Eb', 0x9f: 'SETG Eb',
  0xa0: 'PUSHSEG FS|d64', 0xa1: 'POPSEG FS|d64', 0xa2: 'CPUID', 0xa3: 'BT Ev,Gv',
  0xa4: 'SHLD Ev,Gv,Ib', 0xa5: 'SHLD Ev,Gv,CL', 0xa8: 'PUSHSEG GS|d64', 0xa9: 'POPSEG GS|d64',
  0xab: 'BTS Ev,Gv|lock', 0xac: 'SHRD Ev,Gv,Ib', 0xad: 'SHRD Ev,Gv,CL',
  0xae: { '': 'GRP15', F3: 'GRP15F3' }, 0xaf: 'IMUL2 Gv,Ev',
  0xb0: 'CMPXCHG Eb,Gb|lock', 0xb1: 'CMPXCHG Ev,Gv|lock', 0xb2: 'LSS Gv,Mp', 0xb3: 'BTR Ev,Gv|lock',
  0xb4: 'LFS Gv,Mp', 0xb5: 'LGS Gv,Mp', 0xb6: 'MOVZX Gv,Eb', 0xb7: 'MOVZX Gv,Ew',
  0xba: 'GRP8', 0xbb: 'BTC Ev,Gv|lock',
  // Plain rows, not prefix-keyed: F3 must still decode as BSF / BSR (see MAP0F_F3) and 66 is an
  // operand-size prefix here (fix: a '66' key stripped it, and an F3 key was missing, so #UD).
  0xbc: 'BSF Gv,Ev', 0xbd: 'BSR Gv,Ev',
  0xbe: 'MOVSX Gv,Eb', 0xbf: 'MOVSX Gv,Ew',
  0xc0: 'XADD Eb,Gb|lock', 0xc1: 'XADD Ev,Gv|lock', 0xc3: { '': 'MOVNTI My,Gy' },
  0xc2: { '': 'CMPPS Vx,Wx,Ib', '66': 'CMPPD Vx,Wx,Ib', F3: 'CMPSS Vx,Wd,Ib', F2: 'CMPSD Vx,Wq,Ib' },
  0xc6: { '': 'SHUFPS Vx,Wx,Ib', '66': 'SHUFPD Vx,Wx,Ib' },
  0xc4: { '66': 'PINSRW Vx,Ew,Ib' }, 0xc5: { '66': 'PEXTRW Gy,Ux,Ib' },
  0xc7: 'GRP9',
  // BSWAP follows the operand size: with 66 (or in 16-bit code) it is the undefined 16-bit form.
  0xc8: 'BSWAP Zv', 0xc9: 'BSWAP Zv', 0xca: 'BSWAP Zv', 0xcb: 'BSWAP Zv',
  0xcc: 'BSWAP Zv', 0xcd: 'BSWAP Zv', 0xce: 'BSWAP Zv', 0xcf: 'BSWAP Zv',
  0xd1: { '66': 'PSRLW Vx,Wx' }, 0xd2: { '66': 'PSRLD Vx,Wx' }, 0xd3: { '66': 'PSRLQ Vx,Wx' },
  0xd4: { '66': 'PADDQ Vx,Wx' }, 0xd5: { '66': 'PMULLW Vx,Wx' }, 0xd6: { '66': 'MOVQ Wq,Vx' },
  0xd7: { '66': 'PMOVMSKB Gy,Ux' }, 0xd8: { '66': 'PSUBUSB Vx,Wx' }, 0xd9: { '66': 'PSUBUSW Vx,Wx' },
  0xda: { '66': 'PMINUB Vx,Wx' }, 0xdb: { '66': 'PAND Vx,Wx' }, 0xdc: { '66': 'PADDUSB Vx,Wx' },
  0xdd: { '66': 'PADDUSW Vx,Wx' }, 0xde: { '66': 'PMAXUB Vx,Wx' }, 0xdf: { '66': 'PANDN Vx,Wx' },
  0xe0: { '66': 'PAVGB Vx,Wx' }, 0xe1: { '66': 'PSRAW Vx,Wx' }, 0xe2: { '66': 'PSRAD Vx,Wx' },
  0xe3: { '66': 'PAVGW Vx,Wx' }, 0xe4: { '66': 'PMULHUW Vx,Wx' }, 0xe5: { '66': 'PMULHW Vx,Wx' },
  0xe6: { '66': 'CVTTPD2DQ Vx,Wx', F3: 'CVTDQ2PD Vx,Wq', F2: 'CVTPD2DQ Vx,Wx' },
  0xe7: { '66': 'MOVUPS Mx,Vx +A' }, 0xe8: { '66': 'PSUBSB Vx,Wx' }, 0xe9: { '66': 'PSUBSW Vx,Wx' },
  0xea: { '66': 'PMINSW Vx,Wx' }, 0xeb: { '66': 'POR Vx,Wx' }, 0xec: { '66': 'PADDSB Vx,Wx' },
  0xed: { '66': 'PADDSW Vx,Wx' }, 0xee: { '66': 'PMAXSW Vx,Wx' }, 0xef: { '66': 'PXOR Vx,Wx' },
  0xf1: { '66': 'PSLLW Vx,Wx' }, 0xf2: { '66': 'PSLLD Vx,Wx' }, 0xf3: { '66': 'PSLLQ Vx,Wx' },
  0xf4: { '66': 'PMULUDQ Vx,Wx' }, 0xf5: { '66': 'PMADDWD Vx,Wx' }, 0xf6: { '66': 'PSADBW Vx,Wx' },
  0xf8: { '66': 'PSUBB Vx,Wx' }, 0xf9: { '66': 'PSUBW Vx,Wx' }, 0xfa: { '66': 'PSUBD Vx,Wx' },
  0xfb: { '66': 'PSUBQ Vx,Wx' }, 0xfc: { '66': 'PADDB Vx,Wx' }, 0xfd: { '66': 'PADDW Vx,Wx' },
  0xfe: { '66': 'PADDD Vx,Wx' },
};

/**
 * F3 0F xx rows that are not SSE (the F3 byte is a mandatory prefix here). F3 0F BC / BD stay BSF / BSR:
 * the emulated CPU does not implement BMI1/LZCNT, and on such a CPU `rep bsf` (which gcc emits for
 * __builtin_ctz) executes as BSF. F3 0F C7 /7 with a register operand is RDPID (decoder special case).
 */
export const MAP0F_F3: Record<number, OpcodeRow> = {
  0xb8: 'POPCNT Gv,Ev',
};

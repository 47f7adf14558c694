// iced-x86 as an independent decoding oracle: turns iced's view of one instruction into plain data,
// classifies it (x87, VEX, MMX, ...), and compares it field by field with our decoder's Insn.

import {
  CpuidFeature, Decoder, DecoderOptions, EncodingKind, Formatter, FormatterSyntax, Instruction, MemorySizeExt,
  Mnemonic, OpKind, Register, RegisterExt,
} from 'iced-x86';
import { SEG_NAMES } from '../../core/x86/defs/arch.js';
import { FORM, type Insn, MODE, type Mode, PFX } from '../../core/x86/decode/insn.js';
import {
  ALU_NAMES, BT_NAMES, CC_NAMES, OP, OP_NAMES, PSHUF_NAMES, SHIFT_NAMES, SSEFP_NAMES, SSEINT_NAMES, SSESHIFTI_NAMES,
} from '../../core/x86/decode/ops.js';

/**
 * The emulated CPU has neither BMI1 nor LZCNT: F3 0F BC / BD execute as BSF / BSR (gcc's `rep bsf`),
 * so iced is told not to decode TZCNT / LZCNT.
 */
export const ICED_OPTIONS = DecoderOptions.NoMPFX_0FBC | DecoderOptions.NoMPFX_0FBD;

export const BITS: Record<Mode, number> = { [MODE.M16]: 16, [MODE.M32]: 32, [MODE.M64]: 64 };

export interface IcedOp {
  readonly kind: string;
  /** Register name for register operands. */
  readonly reg?: string;
  /** Immediate value (sign- or zero-extended as iced reports it) or branch target. */
  readonly value?: bigint;
}

export interface IcedMem {
  readonly base: string;
  readonly index: string;
  readonly scale: number;
  /** Displacement as iced reports it (for RIP-relative operands: the target with IP = 0). */
  readonly disp: bigint;
  readonly seg: string;
  /** Memory operand size in bytes (0 when iced gives none). */
  readonly size: number;
}

export interface IcedInsn {
  /** Address iced decoded the instruction at (branch targets and RIP-relative addresses include it). */
  readonly ip: bigint;
  readonly len: number;
  readonly invalid: boolean;
  readonly text: string;
  readonly mnemonic: string;
  readonly encoding: string;
  readonly cpuid: readonly string[];
  readonly ops: readonly IcedOp[];
  readonly mem?: IcedMem;
  /** Size in bytes of the memory operand of any kind (string operands included), 0 if none. */
  readonly memSize: number;
  readonly farSelector?: number;
}

const IMM_KINDS = new Set([
  'Immediate8', 'Immediate8_2nd', 'Immediate16', 'Immediate32', 'Immediate64', 'Immediate8to16', 'Immediate8to32',
  'Immediate8to64', 'Immediate32to64',
]);

/** Reads one instruction out of iced's WASM object into plain data. */
function snapshot(i: Instruction, fmt: Formatter): IcedInsn {
  const ops: IcedOp[] = [];
  let mem: IcedMem | undefined;
  let farSelector: number | undefined;
  const invalid = i.isInvalid;
  if (!invalid) {
    for (let k = 0; k < i.opCount; k++) {
      const kind = OpKind[i.opKind(k)];
      if (kind === 'Register') ops.push({ kind, reg: Register[i.opRegister(k)] });
      else if (IMM_KINDS.has(kind)) ops.push({ kind, value: i.immediate(k) });
      else if (kind === 'NearBranch16' || kind === 'NearBranch32' || kind === 'NearBranch64') {
        ops.push({ kind, value: i.nearBranchTarget });
      } else if (kind === 'FarBranch16' || kind === 'FarBranch32') {
        ops.push({ kind, value: BigInt(kind === 'FarBranch16' ? i.farBranch16 : i.farBranch32) });
        farSelector = i.farBranchSelector;
      } else {
        ops.push({ kind });
        if (kind === 'Memory') {
          mem = {
            base: Register[i.memoryBase], index: Register[i.memoryIndex], scale: i.memoryIndexScale,
            disp: i.memoryDisplacement, seg: Register[i.memorySegment], size: MemorySizeExt.size(i.memorySize),
          };
        }
      }
    }
  }
  return {
    ip: i.ip, len: i.length, invalid, text: fmt.format(i), mnemonic: Mnemonic[i.mnemonic], encoding: EncodingKind[i.encoding],
    cpuid: Array.from(i.cpuidFeatures(), (f) => CpuidFeature[f]), ops, mem, farSelector,
    memSize: invalid ? 0 : MemorySizeExt.size(i.memorySize),
  };
}

/** Decodes a whole code section sequentially (iced's lengths), with each instruction's offset. */
export function icedDecodeAll(bytes: Uint8Array, mode: Mode): { off: number; ins: IcedInsn }[] {
  const d = new Decoder(BITS[mode], bytes, ICED_OPTIONS);
  const fmt = new Formatter(FormatterSyntax.Intel);
  const insn = new Instruction();
  const out: { off: number; ins: IcedInsn }[] = [];
  try {
    while (d.canDecode) {
      const off = d.position;
      d.decodeOut(insn);
      out.push({ off, ins: snapshot(insn, fmt) });
    }
  } finally {
    insn.free();
    fmt.free();
    d.free();
  }
  return out;
}

/**
 * A reusable iced decoder over one buffer, positioned per call (for the fuzzer: one WASM decoder for
 * many sequences laid side by side). `quick` reads only length, validity and mnemonic.
 */
export class IcedAt {
  private readonly d: Decoder;
  private readonly fmt = new Formatter(FormatterSyntax.Intel);
  private readonly insn = new Instruction();
  constructor(bytes: Uint8Array, mode: Mode) {
    this.d = new Decoder(BITS[mode], bytes, ICED_OPTIONS);
  }
  quick(pos: number): { len: number; invalid: boolean } {
    this.d.position = pos;
    this.d.ip = 0n;
    this.d.decodeOut(this.insn);
    return { len: this.insn.length, invalid: this.insn.isInvalid };
  }
  full(pos: number): IcedInsn {
    this.d.position = pos;
    this.d.ip = 0n;
    this.d.decodeOut(this.insn);
    return snapshot(this.insn, this.fmt);
  }
  free(): void {
    this.insn.free();
    this.fmt.free();
    this.d.free();
  }
}

// --- classification ----------------------------------------------------------------------------

/** Why an instruction valid for iced is outside what our decoder covers, or undefined if it is in. */
export function outOfScope(ic: IcedInsn): string | undefined {
  if (ic.encoding !== 'Legacy') return ic.encoding; // VEX / EVEX / XOP / 3DNow!
  const x87 = ic.cpuid.some((f) => f === 'FPU' || f === 'FPU287' || f === 'FPU387' || f === 'FPU287XL_ONLY');
  if (x87 && ic.mnemonic !== 'Wait') return 'x87';
  return undefined;
}

/** The name under which a missing instruction is listed: iced's mnemonic, tagged when MMX. */
export function missingKey(ic: IcedInsn): string {
  if (ic.ops.some((o) => o.reg?.startsWith('MM'))) return `${ic.mnemonic} (mmx)`;
  // CMPSD / MOVSD name both a string instruction and an SSE2 one.
  if ((ic.mnemonic === 'Cmpsd' || ic.mnemonic === 'Movsd') && ic.ops.some((o) => o.reg?.startsWith('XMM'))) {
    return `${ic.mnemonic} (sse)`;
  }
  return ic.mnemonic;
}

// --- comparison --------------------------------------------------------------------------------

const BYTE_REGS = ['AL', 'CL', 'DL', 'BL', 'SPL', 'BPL', 'SIL', 'DIL'];
const HIGH_BYTE_REGS = ['AH', 'CH', 'DH', 'BH'];

/** Register as our decoder numbers it (byte registers: AH..BH = 16..19), or undefined. */
export function ourRegNumber(name: string): number | undefined {
  const r = (Register as unknown as Record<string, number>)[name];
  if (r === undefined) return undefined;
  const h = HIGH_BYTE_REGS.indexOf(name);
  if (h >= 0) return 16 + h;
  const b = BYTE_REGS.indexOf(name);
  if (b >= 0) return b;
  if (RegisterExt.isGPR8(r)) return RegisterExt.number(r) - 4; // R8L..R15L come after AH..BH and SPL..DIL
  if (RegisterExt.isGPR(r) || RegisterExt.isXMM(r)) return RegisterExt.number(r);
  return undefined;
}

function regSize(name: string): number {
  return RegisterExt.size((Register as unknown as Record<string, number>)[name]);
}
function isGpr(name: string | undefined): boolean {
  return name !== undefined && RegisterExt.isGPR((Register as unknown as Record<string, number>)[name]);
}
function isGprOrXmm(name: string | undefined): boolean {
  if (name === undefined) return false;
  const r = (Register as unknown as Record<string, number>)[name];
  return RegisterExt.isGPR(r) || RegisterExt.isXMM(r);
}

const mask = (bits: number): bigint => (1n << BigInt(bits)) - 1n;
const hex = (v: bigint | number): string => (typeof v === 'bigint' ? (v < 0n ? '-0x' + (-v).toString(16) : '0x' + v.toString(16)) : v < 0 ? '-0x' + (-v).toString(16) : '0x' + v.toString(16));

/**
 * Operand facts of `ours` that disagree with iced's `ic`. Both must be valid decodes of the same
 * bytes. Returns human-readable problems; empty when everything compared agrees.
 */
export function compareInsn(ours: Insn, ic: IcedInsn, mode: Mode): string[] {
  const bad: string[] = [];
  if (ours.len !== ic.len) bad.push(`length ${ours.len} != iced ${ic.len}`);
  const names = expectedMnemonics(ours);
  if (!names.includes(ic.mnemonic.toUpperCase()) && !names.some((n) => n.endsWith('*') && ic.mnemonic.toUpperCase().startsWith(n.slice(0, -1)))) {
    bad.push(`operation ${OP_NAMES[ours.op]}.${ours.sub} (${names.join('/')}) != iced ${ic.mnemonic}`);
  }

  // Memory operand.
  const memOurs = ours.mod >= 0 && ours.mod !== 3;
  if (ic.mem && !IMPLICIT_MEM.has(ic.mnemonic)) {
    const m = ic.mem;
    if (!memOurs) bad.push(`iced has a memory operand, ours mod=${ours.mod}`);
    else if (ours.base === 17) {
      // moffs: absolute address in imm/immHi.
      const addr = (BigInt(ours.immHi >>> 0) << 32n) | BigInt(ours.imm >>> 0);
      if (m.base !== 'None' || m.index !== 'None' || ((addr - m.disp) & mask(ours.asz * 8)) !== 0n) {
        bad.push(`moffs ${hex(addr)} != iced [${m.base}+${m.index}+${hex(m.disp)}]`);
      }
    } else {
      const rip = m.base === 'RIP' || m.base === 'EIP';
      const base = m.base === 'None' ? -1 : rip ? 16 : ourRegNumber(m.base);
      if (ours.base !== base) bad.push(`base ${ours.base} != iced ${m.base}`);
      const index = m.index === 'None' ? -1 : ourRegNumber(m.index);
      if (ours.index !== index) bad.push(`index ${ours.index} != iced ${m.index}`);
      if (index !== -1 && 1 << ours.scale !== m.scale) bad.push(`scale ${1 << ours.scale} != iced ${m.scale}`);
      const bits = ours.asz * 8;
      const want = rip ? m.disp - ic.ip - BigInt(ours.len) : m.disp;
      if (((BigInt(ours.disp) - want) & mask(bits)) !== 0n) bad.push(`disp ${hex(ours.disp)} != iced ${hex(want)}`);
      // Address size: visible in the size of the base / index register.
      const areg = m.base !== 'None' ? m.base : m.index !== 'None' ? m.index : undefined;
      if (areg !== undefined && regSize(areg) !== ours.asz) bad.push(`asz ${ours.asz} != iced ${areg}`);
      // In long mode iced reports ignored ES/CS/SS/DS overrides as the segment; compare FS/GS only.
      const seg = SEG_NAMES[ours.seg]?.toUpperCase();
      const segRelevant = mode !== MODE.M64 || m.seg === 'FS' || m.seg === 'GS' || seg === 'FS' || seg === 'GS';
      if (segRelevant && seg !== m.seg) bad.push(`seg ${seg} != iced ${m.seg}`);
    }
  } else if (memOurs) {
    bad.push(`ours has a memory operand (mod=${ours.mod} base=${ours.base}), iced has none`);
  }

  // Immediates and branch targets.
  const imms = ic.ops.filter((o) => IMM_KINDS.has(o.kind));
  if (ours.form === FORM.E1) {
    if (imms.length !== 1 || imms[0].value !== 1n) bad.push('form E1 but iced has no immediate 1');
  } else {
    // SSE/3-operand rows keep their Ib in imm as well; ENTER's second immediate goes to imm2.
    const first = imms.find((o) => o.kind !== 'Immediate8_2nd');
    if (first) {
      const v = first.value!;
      // iced sign-extends imm8 to 64 bits whatever the operand size; we keep operand-size bits.
      const bits = first.kind === 'Immediate8to16' ? 16 : 32;
      if ((BigInt(ours.imm >>> 0) & mask(bits)) !== (v & mask(bits))) bad.push(`imm ${hex(ours.imm >>> 0)} != iced ${hex(v)}`);
      const wide = first.kind === 'Immediate64' || first.kind === 'Immediate32to64' || first.kind === 'Immediate8to64';
      if (wide && (ours.immHi >>> 0) !== Number((v >> 32n) & 0xffffffffn)) {
        bad.push(`immHi ${hex(ours.immHi >>> 0)} != iced ${hex(v)}`);
      }
    }
    const second = imms.find((o) => o.kind === 'Immediate8_2nd');
    if (second && (ours.imm2 >>> 0) !== Number(second.value!)) bad.push(`imm2 ${ours.imm2} != iced ${second.value}`);
  }
  for (const o of ic.ops) {
    if (o.kind.startsWith('NearBranch')) {
      const bits = o.kind === 'NearBranch16' ? 16 : o.kind === 'NearBranch32' ? 32 : 64;
      const target = (ic.ip + BigInt(ours.len + ours.imm)) & mask(bits);
      if (target !== o.value) bad.push(`branch target ${hex(target)} (rel ${ours.imm}) != iced ${hex(o.value!)}`);
    } else if (o.kind.startsWith('FarBranch')) {
      if ((ours.imm >>> 0) !== Number(o.value) || ours.imm2 !== ic.farSelector) {
        bad.push(`far pointer ${hex(ours.imm2)}:${hex(ours.imm >>> 0)} != iced ${hex(ic.farSelector ?? 0)}:${hex(o.value!)}`);
      }
    }
  }

  // Operand size: the first operand's size when it is a GPR or integer memory (no XMM involved).
  const hasXmm = ic.ops.some((o) => o.reg?.startsWith('XMM'));
  const op0 = ic.ops[0];
  // NOP: hint-space encodings that newer CPUs gave meaning to (RDSSPD, ENDBR64, ...) are NOPs here.
  const sizeExempt = SIZE_EXEMPT.has(ic.mnemonic) || ours.op === OP.NOP;
  if (op0 && !sizeExempt) {
    if (op0.kind === 'Register' && isGpr(op0.reg)) {
      if (regSize(op0.reg!) !== ours.osz) bad.push(`osz ${ours.osz} != iced ${op0.reg}`);
    } else if (op0.kind === 'Memory' && !hasXmm && ic.mem && [1, 2, 4, 8].includes(ic.mem.size) && ic.ops.length > 1) {
      if (ic.mem.size !== ours.osz) bad.push(`osz ${ours.osz} != iced memory size ${ic.mem.size}`);
    } else if (op0.kind.startsWith('Memory') && op0.kind !== 'Memory' && ic.memSize !== ours.osz) {
      bad.push(`osz ${ours.osz} != iced string operand size ${ic.memSize}`); // MOVS / STOS / CMPS / INS
    }
  }

  // Register operands of ModRM forms: GPR and XMM numbers (with REX, byte-register numbering).
  const regOf: Record<number, readonly ('rm' | 'reg')[]> = {
    [FORM.EG]: ['rm', 'reg'], [FORM.GE]: ['reg', 'rm'], [FORM.EI]: ['rm', 'reg'], [FORM.ECL]: ['rm', 'reg'],
    [FORM.E1]: ['rm'], [FORM.E]: ['rm'],
  };
  const slots = regOf[ours.form];
  if (slots && !REG_EXEMPT.has(ic.mnemonic)) {
    slots.forEach((slot, k) => {
      const o = ic.ops[k];
      if (!o || o.kind !== 'Register' || !isGprOrXmm(o.reg)) return;
      if (slot === 'rm' && ours.mod !== 3) return;
      if (ours.form === FORM.ECL && k === 1 && o.reg === 'CL') return;
      const want = ourRegNumber(o.reg!);
      const got = slot === 'rm' ? ours.rm : ours.reg;
      if (want !== got) bad.push(`${slot} ${got} != iced ${o.reg}`);
    });
  }

  // Prefix bits the executor reads.
  if (/^(\w+ )*lock /.test(ic.text) !== !!(ours.pfx & PFX.LOCK)) {
    bad.push(`LOCK prefix ${!!(ours.pfx & PFX.LOCK)} != iced`);
  }
  return bad;
}

/**
 * Mnemonics whose first operand does not give the operation size: OUT's port; LTR / LLDT / VERR /
 * VERW / LMSW read 16 bits even from a register iced names as r32 (our osz is 2, Ew).
 */
const SIZE_EXEMPT = new Set(['Out', 'Outsb', 'Outsw', 'Outsd', 'Ltr', 'Lldt', 'Verr', 'Verw', 'Lmsw']);
/** Implicit memory operands (iced lists them as Memory; we have no ModRM for them). */
const IMPLICIT_MEM = new Set(['Xlatb']);
/** Mnemonics whose iced operand order does not follow ModRM forms. */
const REG_EXEMPT = new Set<string>([]);

/** Other iced mnemonics (upper case; '*' = any suffix) an op may stand for. */
const OP_ALIASES: Record<string, readonly string[]> = {
  MOV: ['MOV'], MOVFROMSEG: ['MOV'], MOVTOSEG: ['MOV'], MOVFROMCR: ['MOV'], MOVTOCR: ['MOV'], MOVFROMDR: ['MOV'],
  MOVTODR: ['MOV'], IMUL1: ['IMUL'], IMUL2: ['IMUL'], IMUL3: ['IMUL'], PUSHSEG: ['PUSH'], POPSEG: ['POP'],
  PUSHA: ['PUSHA', 'PUSHAD'], POPA: ['POPA', 'POPAD'], PUSHF: ['PUSHF*'], POPF: ['POPF*'],
  CBW: ['CBW', 'CWDE', 'CDQE'], CWD: ['CWD', 'CDQ', 'CQO'], CALLF: ['CALL'], JMPF: ['JMP'], IRET: ['IRET*'],
  JCXZ: ['JCXZ', 'JECXZ', 'JRCXZ'], INS: ['INS*'], OUTS: ['OUTS*'], MOVS: ['MOVS*'], CMPS: ['CMPS*'], STOS: ['STOS*'],
  LODS: ['LODS*'], SCAS: ['SCAS*'], XLAT: ['XLATB'], FWAIT: ['WAIT'], CMPXCHG8B: ['CMPXCHG8B', 'CMPXCHG16B'],
  SYSRET: ['SYSRET*'], SYSEXIT: ['SYSEXIT*'], FXSAVE: ['FXSAVE*'], FXRSTOR: ['FXRSTOR*'], XSAVE: ['XSAVE', 'XSAVE64'],
  XRSTOR: ['XRSTOR', 'XRSTOR64'], XSAVEOPT: ['XSAVEOPT', 'XSAVEOPT64'], FENCE: ['LFENCE', 'MFENCE', 'SFENCE'],
  PREFETCH: ['PREFETCH*'], FSGSBASE: ['RDFSBASE', 'RDGSBASE', 'WRFSBASE', 'WRGSBASE'],
  // 0F 0D, 0F 18-1F: the hint-NOP space (prefetches, ENDBR, CET and MPX forms execute as NOPs here).
  NOP: ['NOP', 'RESERVEDNOP', 'PREFETCH*', 'ENDBR*', 'RDSSP*', 'BND*', 'CLDEMOTE', 'NOP*'],
  MOVUPS: ['MOVUPS', 'MOVUPD', 'MOVAPS', 'MOVAPD', 'MOVDQA', 'MOVDQU', 'MOVNTPS', 'MOVNTPD', 'MOVNTDQ'],
  MOVLPS: ['MOVLPS', 'MOVLPD', 'MOVHLPS'], MOVHPS: ['MOVHPS', 'MOVHPD', 'MOVLHPS'], MOVD: ['MOVD', 'MOVQ'],
  // F3 0F 09 is WBNOINVD where implemented; elsewhere the prefix is ignored.
  WBINVD: ['WBINVD', 'WBNOINVD'], UNPCKLPS: ['UNPCKLPS'], UNPCKHPS: ['UNPCKHPS'], BSF: ['BSF'], BSR: ['BSR'], X87: ['F*'],
};
const SSE_ALIASES: Record<string, readonly string[]> = {
  PAND: ['ANDPS', 'ANDPD'], PANDN: ['ANDNPS', 'ANDNPD'], POR: ['ORPS', 'ORPD'], PXOR: ['XORPS', 'XORPD'],
  PUNPCKLQDQ: ['UNPCKLPD'], PUNPCKHQDQ: ['UNPCKHPD'],
};

/** The iced mnemonics (upper case) our (op, sub) may stand for. */
export function expectedMnemonics(d: Insn): readonly string[] {
  const name = OP_NAMES[d.op];
  switch (d.op) {
    case OP.ALU: return [ALU_NAMES[d.sub]];
    case OP.SHIFT: return d.sub === 4 ? ['SHL', 'SAL'] : [SHIFT_NAMES[d.sub]];
    case OP.JCC: return ['J' + CC_NAMES[d.sub]];
    case OP.SETCC: return ['SET' + CC_NAMES[d.sub]];
    case OP.CMOVCC: return ['CMOV' + CC_NAMES[d.sub]];
    case OP.BT: return [BT_NAMES[d.sub]];
    case OP.SSEINT: return [SSEINT_NAMES[d.sub], ...(SSE_ALIASES[SSEINT_NAMES[d.sub]] ?? [])];
    case OP.SSESHIFTI: return [SSESHIFTI_NAMES[d.sub]];
    case OP.PSHUF: return [PSHUF_NAMES[d.sub]];
    case OP.SSEFP: return [SSEFP_NAMES[d.sub]];
    default: return OP_ALIASES[name] ?? [name];
  }
}

/** One-line dump of our Insn for failure messages. */
export function fmtInsn(d: Insn): string {
  const pf = Object.entries(PFX).filter(([, b]) => d.pfx & b).map(([n]) => n).join('|') || '-';
  const form = Object.entries(FORM).find(([, v]) => v === d.form)?.[0] ?? String(d.form);
  return `${OP_NAMES[d.op]}.${d.sub} ${form} len=${d.len} osz=${d.osz} asz=${d.asz} mod=${d.mod} reg=${d.reg} rm=${d.rm} ` +
    `base=${d.base} index=${d.index} scale=${d.scale} disp=${hex(d.disp)} seg=${SEG_NAMES[d.seg] ?? d.seg} ` +
    `imm=${hex(d.imm >>> 0)} immHi=${hex(d.immHi >>> 0)} imm2=${d.imm2} pfx=${pf}`;
}

export function hexBytes(buf: Uint8Array, pos: number, len: number): string {
  return Array.from(buf.subarray(pos, pos + len), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

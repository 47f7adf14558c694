// The interpreter's dispatch: one switch over decoded operation ids, routing to the families.

import type { Cpu } from '../cpu.js';
import { Fault } from '../cpu.js';
import { FAST, type Insn } from '../decode/insn.js';
import { OP } from '../decode/ops.js';
import { EXC, FLAG } from '../defs/arch.js';
import * as A from './alu.js';
import * as C from './control.js';
import * as D from './data.js';
import * as F from './fast.js';
import * as S from './system.js';
import * as X from './sse.js';
import { execSseFp } from './ssefloat.js';
import { execString } from './string.js';
import { execX87 } from './x87.js';
import { execIret } from './interrupts.js';
import { loadDataSeg } from './segments.js';
import { SEG } from '../defs/arch.js';

export function execute(c: Cpu, i: Insn): void {
  // Small on purpose, so that V8 inlines it into the run loop (with the handlers of the hottest forms
  // when they are small enough); the rest goes through the jump table of executeFast.
  switch (i.fast) {
    case FAST.JCC: C.execJcc(c, i); return;
    case FAST.ADD64: F.add64(c, i); return;
    case FAST.MOV_RR: F.movRR(c, i); return;
    case FAST.CMP32: F.cmp32(c, i); return;
    case FAST.CMP64: F.cmp64(c, i); return;
    case FAST.MOV32_LOAD: F.mov32Load(c, i); return;
    default: executeFast(c, i); return;
  }
}

/** The decoder's handler id (a jump table, see FAST); ops without one go by op (executeOp). */
function executeFast(c: Cpu, i: Insn): void {
  switch (i.fast) {
    case FAST.ALU32_R: A.alu32Reg(c, i, i.sub); return;
    case FAST.ALU64_R: A.alu64Reg(c, i, i.sub); return;
    case FAST.MOV_RR: F.movRR(c, i); return;
    case FAST.MOV_RI: F.movRI(c, i); return;
    case FAST.MOV32_LOAD: F.mov32Load(c, i); return;
    case FAST.MOV64_LOAD: F.mov64Load(c, i); return;
    case FAST.MOV32_STORE: F.mov32Store(c, i); return;
    case FAST.MOV64_STORE: F.mov64Store(c, i); return;
    case FAST.ADD32: F.add32(c, i); return;
    case FAST.OR32: F.or32(c, i); return;
    case FAST.AND32: F.and32(c, i); return;
    case FAST.SUB32: F.sub32(c, i); return;
    case FAST.XOR32: F.xor32(c, i); return;
    case FAST.CMP32: F.cmp32(c, i); return;
    case FAST.ADD64: F.add64(c, i); return;
    case FAST.OR64: F.or64(c, i); return;
    case FAST.AND64: F.and64(c, i); return;
    case FAST.SUB64: F.sub64(c, i); return;
    case FAST.XOR64: F.xor64(c, i); return;
    case FAST.CMP64: F.cmp64(c, i); return;
    case FAST.TEST32: F.test32(c, i); return;
    case FAST.TEST64: F.test64(c, i); return;
    case FAST.CMP_MI: F.cmpMI(c, i); return;
    case FAST.ALU_RM: F.aluRM(c, i); return;
    case FAST.LEA32: F.lea32(c, i); return;
    case FAST.LEA64: F.lea64(c, i); return;
    case FAST.MOVZX_R: F.movzxR(c, i); return;
    case FAST.MOVZX_M: F.movzxM(c, i); return;
    case FAST.ALU: A.execAlu(c, i); return;
    case FAST.MOV: D.execMov(c, i); return;
    case FAST.JCC: C.execJcc(c, i); return;
    case FAST.TEST: A.execTest(c, i); return;
    case FAST.LEA: D.execLea(c, i); return;
    case FAST.PUSH: D.execPush(c, i); return;
    case FAST.POP: D.execPop(c, i); return;
    case FAST.CALL: C.execCall(c, i); return;
    case FAST.RET: C.execRet(c, i); return;
    case FAST.JMP: C.execJmp(c, i); return;
    case FAST.MOVZX: D.execMovExtend(c, i, false); return;
    case FAST.MOVSX: D.execMovExtend(c, i, true); return;
    case FAST.SHIFT: A.execShift(c, i); return;
    case FAST.INC: A.execIncDec(c, i, false); return;
    case FAST.DEC: A.execIncDec(c, i, true); return;
    case FAST.SETCC: D.execSetcc(c, i); return;
    case FAST.CMOVCC: D.execCmovcc(c, i); return;
    case FAST.NOT: A.execNotNeg(c, i, false); return;
    case FAST.NEG: A.execNotNeg(c, i, true); return;
    case FAST.MUL: A.execMulWide(c, i, false); return;
    case FAST.IMUL1: A.execMulWide(c, i, true); return;
    case FAST.IMUL2: A.execImul(c, i, false); return;
    case FAST.IMUL3: A.execImul(c, i, true); return;
    case FAST.DIV: A.execDiv(c, i, false); return;
    case FAST.IDIV: A.execDiv(c, i, true); return;
    case FAST.XCHG: D.execXchg(c, i); return;
    case FAST.XADD: A.execXadd(c, i); return;
    case FAST.CMPXCHG: A.execCmpxchg(c, i); return;
    case FAST.BT: A.execBt(c, i); return;
    case FAST.BSF: A.execBitScan(c, i, false); return;
    case FAST.BSR: A.execBitScan(c, i, true); return;
    case FAST.SHLD: A.execShiftDouble(c, i, false); return;
    case FAST.SHRD: A.execShiftDouble(c, i, true); return;
    case FAST.BSWAP: D.execBswap(c, i); return;
    case FAST.CBW: D.execCbw(c, i); return;
    case FAST.CWD: D.execCwd(c, i); return;
    case FAST.NOP: return;
    case FAST.LEAVE: C.execLeave(c, i); return;
    case FAST.MOVS: execString(c, i, 'movs'); return;
    case FAST.STOS: execString(c, i, 'stos'); return;
    case FAST.LODS: execString(c, i, 'lods'); return;
    case FAST.CMPS: execString(c, i, 'cmps'); return;
    case FAST.SCAS: execString(c, i, 'scas'); return;
    case FAST.SSEMOVE: X.execSseMove(c, i); return;
    case FAST.SSEINT: X.execSseInt(c, i); return;
    case FAST.SSESHIFTI: X.execSseShiftImm(c, i); return;
    case FAST.PSHUF: X.execPshuf(c, i); return;
    case FAST.PMOVMSKB: X.execPmovmskb(c, i); return;
    case FAST.UNPCKLPS: X.execUnpckps(c, i, false); return;
    case FAST.UNPCKHPS: X.execUnpckps(c, i, true); return;
    case FAST.SSEFP: execSseFp(c, i); return;
    default: executeOp(c, i); return;
  }
}

/** Dispatch by operation id: the instructions without a FAST id (system, rare and invalid ones). */
function executeOp(c: Cpu, i: Insn): void {
  switch (i.op) {
    case OP.ALU: A.execAlu(c, i); return;
    case OP.MOV: D.execMov(c, i); return;
    case OP.JCC: C.execJcc(c, i); return;
    case OP.TEST: A.execTest(c, i); return;
    case OP.LEA: D.execLea(c, i); return;
    case OP.PUSH: D.execPush(c, i); return;
    case OP.POP: D.execPop(c, i); return;
    case OP.CALL: C.execCall(c, i); return;
    case OP.RET: C.execRet(c, i); return;
    case OP.JMP: C.execJmp(c, i); return;
    case OP.MOVZX: D.execMovExtend(c, i, false); return;
    case OP.MOVSX: case OP.MOVSXD: D.execMovExtend(c, i, true); return;
    case OP.SHIFT: A.execShift(c, i); return;
    case OP.INC: A.execIncDec(c, i, false); return;
    case OP.DEC: A.execIncDec(c, i, true); return;
    case OP.SETCC: D.execSetcc(c, i); return;
    case OP.CMOVCC: D.execCmovcc(c, i); return;
    case OP.NOT: A.execNotNeg(c, i, false); return;
    case OP.NEG: A.execNotNeg(c, i, true); return;
    case OP.MUL: A.execMulWide(c, i, false); return;
    case OP.IMUL1: A.execMulWide(c, i, true); return;
    case OP.IMUL2: A.execImul(c, i, false); return;
    case OP.IMUL3: A.execImul(c, i, true); return;
    case OP.DIV: A.execDiv(c, i, false); return;
    case OP.IDIV: A.execDiv(c, i, true); return;
    case OP.XCHG: D.execXchg(c, i); return;
    case OP.XADD: A.execXadd(c, i); return;
    case OP.CMPXCHG: A.execCmpxchg(c, i); return;
    case OP.CMPXCHG8B: A.execCmpxchg8b(c, i); return;
    case OP.BT: A.execBt(c, i); return;
    case OP.BSF: A.execBitScan(c, i, false); return;
    case OP.BSR: A.execBitScan(c, i, true); return;
    case OP.POPCNT: A.execPopcnt(c, i); return;
    case OP.SHLD: A.execShiftDouble(c, i, false); return;
    case OP.SHRD: A.execShiftDouble(c, i, true); return;
    case OP.BSWAP: D.execBswap(c, i); return;
    case OP.CBW: D.execCbw(c, i); return;
    case OP.CWD: D.execCwd(c, i); return;
    case OP.NOP: case OP.PREFETCH: case OP.FENCE: case OP.FWAIT: return;
    case OP.PAUSE: return;
    case OP.LEAVE: C.execLeave(c, i); return;
    case OP.ENTER: C.execEnter(c, i); return;
    case OP.LOOP: C.execLoop(c, i, 'loop'); return;
    case OP.LOOPE: C.execLoop(c, i, 'loope'); return;
    case OP.LOOPNE: C.execLoop(c, i, 'loopne'); return;
    case OP.JCXZ: C.execLoop(c, i, 'jcxz'); return;
    case OP.MOVS: execString(c, i, 'movs'); return;
    case OP.STOS: execString(c, i, 'stos'); return;
    case OP.LODS: execString(c, i, 'lods'); return;
    case OP.CMPS: execString(c, i, 'cmps'); return;
    case OP.SCAS: execString(c, i, 'scas'); return;
    case OP.INS: execString(c, i, 'ins'); return;
    case OP.OUTS: execString(c, i, 'outs'); return;
    case OP.XLAT: D.execXlat(c, i); return;
    case OP.SAHF: D.execLahfSahf(c, true); return;
    case OP.LAHF: D.execLahfSahf(c, false); return;
    case OP.CMC: c.materialize(); c.st.flags ^= FLAG.CF; return;
    case OP.CLC: c.materialize(); c.st.flags &= ~FLAG.CF; return;
    case OP.STC: c.materialize(); c.st.flags |= FLAG.CF; return;
    case OP.CLD: c.st.flags &= ~FLAG.DF; return;
    case OP.STD: c.st.flags |= FLAG.DF; return;
    case OP.CLI: S.execCliSti(c, false); return;
    case OP.STI: S.execCliSti(c, true); return;
    case OP.PUSHF: S.execPushf(c, i); return;
    case OP.POPF: S.execPopf(c, i); return;
    case OP.PUSHSEG: D.execPushSeg(c, i); return;
    case OP.POPSEG: D.execPopSeg(c, i); return;
    case OP.MOVTOSEG: D.execMovToSeg(c, i); return;
    case OP.MOVFROMSEG: D.execMovFromSeg(c, i); return;
    case OP.LES: case OP.LDS: case OP.LSS: case OP.LFS: case OP.LGS: execLoadFar(c, i); return;
    case OP.CALLF: C.execFar(c, i, true); return;
    case OP.JMPF: C.execFar(c, i, false); return;
    case OP.RETF: C.execRetf(c, i); return;
    case OP.INT: C.execInt(c, i.imm & 0xff); return;
    case OP.INT3: C.execInt(c, EXC.BP); return;
    case OP.INTO: C.execInto(c); return;
    case OP.INT1: throw new Fault(EXC.DB);
    case OP.IRET: execIret(c, i.osz); return;
    case OP.HLT: S.execHlt(c); return;
    case OP.IN: S.execIn(c, i); return;
    case OP.OUT: S.execOut(c, i); return;
    case OP.MOVFROMCR: S.execMovFromCr(c, i); return;
    case OP.MOVTOCR: S.execMovToCr(c, i); return;
    case OP.MOVFROMDR: S.execMovDr(c, i, false); return;
    case OP.MOVTODR: S.execMovDr(c, i, true); return;
    case OP.RDMSR: S.execRdmsr(c); return;
    case OP.WRMSR: S.execWrmsr(c); return;
    case OP.CPUID: S.execCpuid(c); return;
    case OP.RDTSC: S.execRdtsc(c, false); return;
    case OP.RDTSCP: S.execRdtsc(c, true); return;
    case OP.RDPID: c.setReg(c.long ? 8 : 4, i.rm, c.st.tscAux, 0); return;
    case OP.LGDT: S.execDescTable(c, i, 'lgdt'); return;
    case OP.LIDT: S.execDescTable(c, i, 'lidt'); return;
    case OP.SGDT: S.execDescTable(c, i, 'sgdt'); return;
    case OP.SIDT: S.execDescTable(c, i, 'sidt'); return;
    case OP.LLDT: S.execSystemSeg(c, i, 'lldt'); return;
    case OP.LTR: S.execSystemSeg(c, i, 'ltr'); return;
    case OP.SLDT: S.execSystemSeg(c, i, 'sldt'); return;
    case OP.STR: S.execSystemSeg(c, i, 'str'); return;
    case OP.SMSW: S.execSmsw(c, i); return;
    case OP.LMSW: S.execLmsw(c, i); return;
    case OP.CLTS: S.execClts(c); return;
    case OP.INVLPG: S.execInvlpg(c, i); return;
    case OP.INVD: case OP.WBINVD: if (c.st.cpl !== 0) throw new Fault(EXC.GP, 0); return;
    case OP.CLFLUSH: c.ea(i); c.readMem(1); return;
    case OP.SWAPGS: S.execSwapgs(c); return;
    case OP.SYSCALL: S.execSyscall(c); return;
    case OP.SYSRET: S.execSysret(c, i); return;
    case OP.SYSENTER: S.execSysenter(c); return;
    case OP.SYSEXIT: S.execSysexit(c, i); return;
    case OP.XGETBV: S.execXgetbv(c); return;
    case OP.XSETBV: S.execXsetbv(c); return;
    case OP.VMCALL: case OP.VMMCALL: S.execVmcall(c); return;
    case OP.FSGSBASE: S.execFsgsbase(c, i); return;
    case OP.LAR: S.execLarLsl(c, i, false); return;
    case OP.LSL: S.execLarLsl(c, i, true); return;
    case OP.VERR: S.execVerrVerw(c, i, false); return;
    case OP.VERW: S.execVerrVerw(c, i, true); return;
    case OP.MOVNTI: D.execMov(c, i); return;
    case OP.FXSAVE: X.execFxsave(c, i, false); return;
    case OP.FXRSTOR: X.execFxsave(c, i, true); return;
    case OP.XSAVE: case OP.XSAVEOPT: X.execXsave(c, i, false); return;
    case OP.XRSTOR: X.execXsave(c, i, true); return;
    case OP.LDMXCSR: X.execMxcsr(c, i, true); return;
    case OP.STMXCSR: X.execMxcsr(c, i, false); return;
    case OP.MOVUPS: case OP.MOVSS: case OP.MOVSD: case OP.MOVLPS: case OP.MOVHPS: case OP.MOVD: case OP.MOVQ:
      X.execSseMove(c, i); return;
    case OP.SSEINT: X.execSseInt(c, i); return;
    case OP.SSESHIFTI: X.execSseShiftImm(c, i); return;
    case OP.PSHUF: X.execPshuf(c, i); return;
    case OP.PMOVMSKB: X.execPmovmskb(c, i); return;
    case OP.PINSRW: X.execPinsrw(c, i); return;
    case OP.PEXTRW: X.execPextrw(c, i); return;
    case OP.UNPCKLPS: X.execUnpckps(c, i, false); return;
    case OP.UNPCKHPS: X.execUnpckps(c, i, true); return;
    case OP.SSEFP: execSseFp(c, i); return;
    case OP.X87:
      if (!execX87(c, i)) { c.reportUnimplemented(); throw new Fault(EXC.UD); }
      return;
    case OP.BADLEN: throw new Fault(EXC.GP, 0);
    case OP.UD2: throw new Fault(EXC.UD);
    case OP.UD: throw new Fault(EXC.UD);
    default:
      // Decoded but not implemented (MONITOR/MWAIT, RDRAND, AAM/AAD, PUSHA/POPA, ...): report, then #UD.
      c.reportUnimplemented();
      throw new Fault(EXC.UD);
  }
}

/** LDS/LES/LSS/LFS/LGS: load a far pointer into a segment register and a general register. */
function execLoadFar(c: Cpu, i: Insn): void {
  c.ea(i);
  const size = i.osz;
  const off = c.readMem(size === 8 ? 8 : size);
  const offHi = c.vhi;
  const eaLo = c.eaLo;
  c.eaLo = (eaLo + size) | 0;
  const sel = c.readMem(2);
  const seg = i.op === OP.LES ? SEG.ES : i.op === OP.LDS ? SEG.DS : i.op === OP.LSS ? SEG.SS : i.op === OP.LFS ? SEG.FS : SEG.GS;
  loadDataSeg(c, seg, sel);
  c.setReg(size, i.reg, off, offHi);
}

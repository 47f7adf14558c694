// SSE/SSE2 floating-point arithmetic, comparisons, conversions and shuffles (the instructions gcc
// emits for C float/double code on the x86-64 baseline): ADD/SUB/MUL/DIV/MIN/MAX/SQRT in SS/SD/PS/PD
// forms, RCP/RSQRT (PS/SS), CMPccPS/PD/SS/SD, (U)COMISS/SD, CVT* between int32/int64/float/double,
// SHUFPS/PD and MOVMSKPS/PD. The bitwise ANDPS/ANDNPS/ORPS/XORPS (and PD) and UNPCKLPD/UNPCKHPD are
// the integer PAND/PANDN/POR/PXOR and PUNPCKLQDQ/PUNPCKHQDQ handlers (sse.ts): same bits.
//
// What is exact (checked bit for bit against the host CPU by test/x86/ssefloat.test.ts):
// - Results in every MXCSR rounding mode (RC, bits 13-14). JS arithmetic rounds to nearest-even
//   only; the directed modes are derived from the round-to-nearest result and the sign of its
//   rounding error (computed exactly: TwoSum / Dekker products / BigInt), stepping one ulp.
//   float32 results are computed in double and rounded with Math.fround (double rounding is harmless
//   for + - * / sqrt of float32 operands, since 53 >= 2*24 + 2).
// - The sticky flags IE, DE, ZE, OE, UE, PE with x86 priorities (SNaN invalid > QNaN operand >
//   other invalid / divide-by-zero > denormal operand > overflow / underflow > inexact); underflow
//   uses tininess after rounding, UE only when also inexact while UM is masked.
// - DAZ (denormal operands read as zero, no DE) and FTZ (tiny results flushed to zero, UE|PE).
// - NaNs: the first operand's NaN (quieted) if it is a NaN, else the second's; invalid operations
//   give the default NaN (negative QNaN 0xFFC00000 / 0xFFF8000000000000); MIN/MAX return the second
//   operand, unchanged, when either is a NaN or both are zero; conversions to integer give the
//   integer indefinite (0x80000000 / 0x8000000000000000) for NaN and out-of-range values.
// - Unmasked exceptions: no destination or RFLAGS update, the detected flags are set, then #XM
//   (vector 19) if CR4.OSXMMEXCPT else #UD. Pre-computation exceptions (IE, DE, ZE) of any lane win
//   over the post-computation ones (OE, UE, PE), which are then not reported. An unmasked overflow
//   or underflow reports PE only if rounding to the format's precision with an unbounded exponent
//   was inexact; an unmasked underflow is reported for exact tiny results too.
// Not exact:
// - RCPPS/RCPSS/RSQRTPS/RSQRTSS return the correctly rounded 1/x and 1/sqrt(x), more precise than
//   the hardware's 12-bit approximation (relative error <= 1.5 * 2^-12): results differ from real
//   CPUs in the low bits. Their special cases (zeros and denormals give infinities, tiny results
//   flush to zero, NaNs, negatives) match, and like the hardware they never touch MXCSR.
//
// Performance: the exact rounding-error machinery runs only when its answer matters: a directed
// rounding mode, PE not yet set (or unmasked), or a result near the underflow / overflow thresholds.
// Once PE is set (the first inexact operation of a program), ordinary operations take the fast path.

import type { Cpu } from '../cpu.js';
import { Fault } from '../cpu.js';
import type { Insn } from '../decode/insn.js';
import { PFX } from '../decode/insn.js';
import { SSEFP_NAMES } from '../decode/ops.js';
import { CR4, EXC, FLAG } from '../defs/arch.js';
import { sseAvailable } from './sse.js';

// ---- MXCSR ------------------------------------------------------------------------------------------

/** MXCSR exception flags; the masks are the same bits shifted left by 7. */
const IE = 1, DE = 2, ZE = 4, OE = 8, UE = 0x10, PE = 0x20;
const MXCSR_DAZ = 0x40, MXCSR_FTZ = 0x8000;
const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;

/**
 * Per-instruction scratch state of the SSE floating-point handlers, one per CPU (Cpu.fpu): core/ keeps
 * no module-level mutable state. The MXCSR-derived fields are reset by begin() and never carried
 * between instructions; the buffers are scratch, meaningful only within one helper call.
 */
export class SseFloatState {
  /** MXCSR.RC of the instruction. */
  rc = RC_NEAREST;
  daz = false;
  ftz = false;
  /** Masked exceptions (mask bits moved down to flag positions). */
  masks = 0x3f;
  /** Exceptions detected before (IE, DE, ZE) and after (OE, UE, PE) computing, over all lanes. */
  pre = 0;
  post = 0;
  /** Whether the rounding error must be computed (directed rounding, or PE may need setting). */
  wantErr = false;
  /** High half of a 64-bit result whose low half a helper returned (bits64, lane64, toInt, ...). */
  outHi = 0;
  /** Bit views: 8 bytes seen as float32, float64 and int32 lanes. */
  readonly sf32 = new Float32Array(2);
  readonly sf64 = new Float64Array(this.sf32.buffer);
  readonly si32 = new Int32Array(this.sf32.buffer);
  /** Source operand lanes (int32 bit patterns). */
  readonly src = new Int32Array(4);
  /** Result lanes. */
  readonly res = new Int32Array(4);
}

function begin(c: Cpu): void {
  const fp = c.fpu;
  const mx = c.st.mxcsr;
  fp.rc = (mx >> 13) & 3;
  fp.daz = (mx & MXCSR_DAZ) !== 0;
  fp.ftz = (mx & MXCSR_FTZ) !== 0;
  fp.masks = (mx >> 7) & 0x3f;
  fp.pre = 0; fp.post = 0;
  fp.wantErr = fp.rc !== RC_NEAREST || (mx & PE) === 0 || (fp.masks & PE) === 0;
}

/**
 * Merge the detected exceptions into MXCSR. Throws #XM (#UD without CR4.OSXMMEXCPT) for an unmasked
 * one, in which case the caller must not write its results.
 */
function commit(c: Cpu): void {
  const st = c.st, fp = c.fpu;
  if (fp.pre & ~fp.masks) { st.mxcsr |= fp.pre; raiseXm(c); }
  if (fp.post & ~fp.masks) { st.mxcsr |= fp.pre | fp.post; raiseXm(c); }
  st.mxcsr |= fp.pre | fp.post;
}

function raiseXm(c: Cpu): never {
  throw new Fault(c.st.cr4 & CR4.OSXMMEXCPT ? EXC.XM : EXC.UD);
}

// ---- Bit views ----------------------------------------------------------------------------------------

/** Value of a non-NaN float32 bit pattern. */
function f32(fp: SseFloatState, bits: number): number { fp.si32[0] = bits; return fp.sf32[0]; }
/** Bits of a non-NaN float32 value (int32). */
function bits32(fp: SseFloatState, v: number): number { fp.sf32[0] = v; return fp.si32[0]; }
/** Value of a non-NaN float64 bit pattern. */
function f64(fp: SseFloatState, lo: number, hi: number): number { fp.si32[0] = lo; fp.si32[1] = hi; return fp.sf64[0]; }
/** Bits of a non-NaN float64 value: low half returned, high half in fp.outHi. */
function bits64(fp: SseFloatState, v: number): number { fp.sf64[0] = v; fp.outHi = fp.si32[1]; return fp.si32[0]; }

const isNaN32 = (b: number): boolean => (b & 0x7fffffff) > 0x7f800000;
const isSNaN32 = (b: number): boolean => isNaN32(b) && (b & 0x400000) === 0;
const isDen32 = (b: number): boolean => (b & 0x7f800000) === 0 && (b & 0x7fffff) !== 0;
const isNaN64 = (lo: number, hi: number): boolean => (hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) | lo) !== 0;
const isSNaN64 = (lo: number, hi: number): boolean => isNaN64(lo, hi) && (hi & 0x80000) === 0;
const isDen64 = (lo: number, hi: number): boolean => (hi & 0x7ff00000) === 0 && ((hi & 0xfffff) | lo) !== 0;

const QNAN32 = 0xffc00000 | 0;
const QNAN64_HI = 0xfff80000 | 0;
const INDEF32 = 0x80000000 | 0;

const MIN_NORMAL32 = 2 ** -126, MAX32 = (2 - 2 ** -23) * 2 ** 127;
const MIN_NORMAL64 = 2 ** -1022, MAX64 = Number.MAX_VALUE;

// ---- Exact comparisons ----------------------------------------------------------------------------------

/** Operations whose results are rounded by finish(). CVT: the value itself (a narrowing conversion). */
const ADD = 0, SUB = 1, MUL = 2, DIV = 3, SQRT = 4, CVT = 5;

const sign = (v: number): number => (v > 0 ? 1 : v < 0 ? -1 : 0);

/** x = m * 2^e exactly (x finite). */
function exact(fp: SseFloatState, x: number): [bigint, number] {
  fp.sf64[0] = x;
  const lo = fp.si32[0] >>> 0, hi = fp.si32[1];
  const ex = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e = -1074;
  if (ex !== 0) { m |= 1n << 52n; e = ex - 1075; }
  return [hi < 0 ? -m : m, e];
}

/** sign(a*2^ae - b*2^be) */
function cmpBig(a: bigint, ae: number, b: bigint, be: number): number {
  if (ae > be) a <<= BigInt(ae - be); else b <<= BigInt(be - ae);
  return a > b ? 1 : a < b ? -1 : 0;
}

/** sign(exact(x op y) - t*2^te), all in BigInt (the slow path; t is an integer). */
function cmpExactBig(fp: SseFloatState, op: number, x: number, y: number, t: bigint, te: number): number {
  const [xm, xe] = exact(fp, x);
  const [ym, ye] = exact(fp, y);
  switch (op) {
    case ADD: case SUB: {
      const yy = op === SUB ? -ym : ym;
      const e = Math.min(xe, ye);
      const s = (xm << BigInt(xe - e)) + (yy << BigInt(ye - e));
      return cmpBig(s, e, t, te);
    }
    case MUL: return cmpBig(xm * ym, xe + ye, t, te);
    case DIV: return cmpBig(xm, xe, t * ym, te + ye) * (ym < 0n ? -1 : 1);
    case SQRT: return t < 0n ? 1 : cmpBig(ym, ye, t * t, 2 * te);
    default: return cmpBig(xm, xe, t, te);
  }
}

const bitLength = (m: bigint): number => (m === 0n ? 0 : m.toString(2).length);
/** m without its trailing zero bits (m > 0). */
function oddPart(m: bigint): bigint {
  while ((m & 0xffffffffn) === 0n) m >>= 32n;
  while ((m & 1n) === 0n) m >>= 1n;
  return m;
}

/**
 * Whether exact(x op y) needs more than the format's significand bits (24 or 53) with an unbounded
 * exponent: what PE reports alongside an unmasked overflow or underflow.
 */
function inexactUnbounded(fp: SseFloatState, op: number, x: number, y: number, single: boolean): boolean {
  const p = single ? 24 : 53;
  let [m] = exact(fp, x);
  const [ym, ye] = exact(fp, y);
  const [, xe] = exact(fp, x);
  switch (op) {
    case ADD: case SUB: {
      const e = Math.min(xe, ye);
      m = (m << BigInt(xe - e)) + ((op === SUB ? -ym : ym) << BigInt(ye - e));
      break;
    }
    case MUL: m *= ym; break;
    case DIV: {
      const d = oddPart(ym < 0n ? -ym : ym);
      if (m % d !== 0n) return true;
      m /= d;
      break;
    }
    case SQRT: return true; // never overflows or underflows
    default: break; // CVT: x itself
  }
  if (m < 0n) m = -m;
  return m !== 0n && bitLength(oddPart(m)) > p;
}

/** sign(exact(x op y) - t) for a double t. */
function cmpExactNum(fp: SseFloatState, op: number, x: number, y: number, t: number): number {
  const [tm, te] = exact(fp, t);
  return cmpExactBig(fp, op, x, y, tm, te);
}

const SPLIT = 134217729; // 2^27 + 1
/** Exact x*y - p for p = fl(x*y), valid without overflow or underflow in the partial products. */
function twoProdErr(x: number, y: number, p: number): number {
  let t = SPLIT * x;
  const xh = t - (t - x), xl = x - xh;
  t = SPLIT * y;
  const yh = t - (t - y), yl = y - yh;
  return ((xh * yh - p) + xh * yl + xl * yh) + xl * yl;
}

/** |v| within [2^-480, 2^480]: Dekker's products are exact there. */
const safe = (v: number): boolean => { const a = Math.abs(v); return a >= 2 ** -480 && a <= 2 ** 480; };

/**
 * sign(exact(x op y) - d) where d is the double result (the correctly rounded double, or the value
 * itself for CVT). x, y are finite.
 */
function errSign64(fp: SseFloatState, op: number, x: number, y: number, d: number): number {
  if (d === Infinity) return -1;
  if (d === -Infinity) return 1;
  switch (op) {
    case ADD: case SUB: {
      const b = op === SUB ? -y : y;
      const bb = d - x;
      return sign((x - (d - bb)) + (b - bb));
    }
    case MUL:
      if (x === 0 || y === 0) return 0;
      if (safe(x) && safe(y) && safe(d)) return sign(twoProdErr(x, y, d));
      break;
    case DIV:
      if (x === 0) return 0;
      if (safe(d) && safe(y)) {
        const p = d * y;
        return sign((x - p) - twoProdErr(d, y, p)) * sign(y);
      }
      break;
    case SQRT:
      if (y === 0) return 0;
      if (safe(d)) {
        const p = d * d;
        return sign((y - p) - twoProdErr(d, d, p));
      }
      break;
    default: return 0;
  }
  return cmpExactNum(fp, op, x, y, d);
}

/**
 * sign(exact(x op y) - t) for float32 operands x, y, d = the double result, and t a double of at most
 * 26 significant bits (a float32 result or a float32 threshold): products with t are exact.
 */
function cmpT32(op: number, x: number, y: number, d: number, t: number): number {
  if (d !== t) return sign(d - t);
  switch (op) {
    case ADD: case SUB: {
      const b = op === SUB ? -y : y;
      const bb = d - x;
      return sign((x - (d - bb)) + (b - bb));
    }
    case DIV: return x === 0 ? 0 : sign(x - t * y) * sign(y);
    case SQRT: return sign(y - t * t);
    default: return 0; // MUL (exact in double), CVT
  }
}

/** sign(exact(x op y) - t) for either format (t a double). */
function cmpT(fp: SseFloatState, op: number, x: number, y: number, d: number, t: number, single: boolean): number {
  if (single) return cmpT32(op, x, y, d, t);
  if (t === d) return errSign64(fp, op, x, y, d);
  if (op === CVT) return sign(x - t);
  return cmpExactNum(fp, op, x, y, t);
}

/** Move a finite-or-infinite value one ulp away from (+1) or toward (-1) zero. */
function bump(fp: SseFloatState, v: number, dir: number, single: boolean): number {
  if (single) { fp.sf32[0] = v; fp.si32[0] += dir; return fp.sf32[0]; }
  fp.sf64[0] = v;
  let lo = fp.si32[0] >>> 0, hi = fp.si32[1];
  lo += dir;
  if (lo > 0xffffffff) { lo = 0; hi++; } else if (lo < 0) { lo = 0xffffffff; hi--; }
  fp.si32[0] = lo | 0; fp.si32[1] = hi;
  return fp.sf64[0];
}

// ---- Rounding of one result ------------------------------------------------------------------------------

/**
 * Round the result of x op y to the destination format and MXCSR.RC and record OE/UE/PE. d is the
 * double result (round-to-nearest); the operands are finite and the exact result is not an exact
 * infinity or NaN. Returns the value to store.
 */
function finish(fp: SseFloatState, op: number, x: number, y: number, d: number, single: boolean): number {
  let r = single ? Math.fround(d) : d;
  const ar = Math.abs(r);
  const minN = single ? MIN_NORMAL32 : MIN_NORMAL64;
  // Fast path: a normal result, rounding to nearest, PE already set and masked.
  if (!fp.wantErr && ar > minN && ar !== Infinity) return r;
  // cmp = sign(exact - r), kept up to date when r moves.
  let cmp = cmpT(fp, op, x, y, d, r, single);
  if (cmp !== 0 && fp.rc !== RC_NEAREST) {
    // Directed rounding: the exact value lies between r and its neighbour on the side of cmp.
    const neg = r < 0 || Object.is(r, -0);
    const step = fp.rc === RC_DOWN ? cmp < 0 : fp.rc === RC_UP ? cmp > 0 : neg ? cmp > 0 : cmp < 0;
    if (step) {
      r = bump(fp, r, (cmp > 0) !== neg ? 1 : -1, single);
      cmp = -cmp;
    }
  }
  const inexact = cmp !== 0;
  const a = Math.abs(r);
  const neg = r < 0 || Object.is(r, -0);
  let f = 0;
  if (a === Infinity) f = OE | PE;
  else if (a === (single ? MAX32 : MAX64) && inexact && (neg ? cmp < 0 : cmp > 0)) {
    // Rounded toward zero to the largest finite value: an overflow iff |exact| >= 2^(emax+1).
    const lim = neg ? -1 : 1;
    const c = single ? cmpT32(op, x, y, d, lim * 2 ** 128) : cmpExactBig(fp, op, x, y, BigInt(lim), 1024);
    if (neg ? c <= 0 : c >= 0) f = OE | PE;
  }
  if (f) {
    // Unmasked: OE, and PE only if rounding to the format's precision (exponent unbounded) was inexact.
    fp.post |= fp.masks & OE ? f : OE | (inexactUnbounded(fp, op, x, y, single) ? PE : 0);
    return r;
  }
  if (a <= minN && (a !== 0 || inexact)) {
    let tiny = a < minN;
    if (!tiny && inexact) {
      // The result rounded to the smallest normal: tiny iff rounding with an unbounded exponent
      // would have stayed below it.
      const away = fp.rc === RC_NEAREST ? 0 : fp.rc === RC_ZERO ? -1 : (fp.rc === RC_UP) !== neg ? 1 : -1;
      if (away >= 0) {
        // Thresholds minNormal - ulp/2 (nearest: tiny below it) or minNormal - ulp (away: tiny at or below),
        // where ulp is that of the unbounded-exponent format just below minNormal.
        const s = neg ? -1 : 1;
        let c: number;
        if (single) c = cmpT32(op, x, y, d, s * (MIN_NORMAL32 - (away ? 2 ** -150 : 2 ** -151)));
        else c = cmpExactBig(fp, op, x, y, BigInt(s) * ((1n << 54n) - (away ? 2n : 1n)), -1076);
        tiny = away ? (neg ? c >= 0 : c <= 0) : (neg ? c > 0 : c < 0);
      }
    }
    if (tiny) {
      if (!(fp.masks & UE)) { fp.post |= UE | (inexactUnbounded(fp, op, x, y, single) ? PE : 0); return r; }
      if (fp.ftz) { fp.post |= UE | PE; return neg ? -0 : 0; }
      if (inexact) fp.post |= UE;
    }
  }
  if (inexact) fp.post |= PE;
  return r;
}

// ---- Lane operations --------------------------------------------------------------------------------------

/** Arithmetic on values that are not NaNs (after DAZ): invalid / divide-by-zero / denormal checks, then finish(). */
function arith(fp: SseFloatState, op: number, x: number, y: number, xDen: boolean, yDen: boolean, single: boolean): number {
  switch (op) {
    case ADD: case SUB: {
      const yy = op === SUB ? -y : y;
      if (x === -yy && Math.abs(x) === Infinity) { fp.pre |= IE; return NaN; }
      if (xDen || yDen) fp.pre |= DE;
      if (Math.abs(x) === Infinity || Math.abs(y) === Infinity) return x + yy;
      const d = x + yy;
      // A zero sum is exact (sums of doubles are multiples of 2^-1074). Opposite signs give +0,
      // or -0 when rounding down (x + -x, +0 + -0); JS rounds to nearest.
      if (d === 0) return fp.rc === RC_DOWN && !(Object.is(x, 0) && Object.is(yy, 0)) ? -0 : d;
      return finish(fp, ADD, x, yy, d, single);
    }
    case MUL:
      if ((x === 0 && Math.abs(y) === Infinity) || (y === 0 && Math.abs(x) === Infinity)) { fp.pre |= IE; return NaN; }
      if (xDen || yDen) fp.pre |= DE;
      if (Math.abs(x) === Infinity || Math.abs(y) === Infinity) return x * y;
      return finish(fp, MUL, x, y, x * y, single);
    case DIV:
      if ((x === 0 && y === 0) || (Math.abs(x) === Infinity && Math.abs(y) === Infinity)) { fp.pre |= IE; return NaN; }
      if (y === 0) {
        if (Math.abs(x) !== Infinity) fp.pre |= ZE;
        return x / y;
      }
      if (xDen || yDen) fp.pre |= DE;
      if (Math.abs(x) === Infinity || Math.abs(y) === Infinity) return x / y;
      return finish(fp, DIV, x, y, x / y, single);
    default: // SQRT of y
      if (y < 0) { fp.pre |= IE; return NaN; }
      if (y === Infinity || y === 0) return y;
      if (yDen) fp.pre |= DE;
      return finish(fp, SQRT, 0, y, Math.sqrt(y), single);
  }
}

const MIN = 6, MAX = 7;

/** A float32 binary operation on bit patterns (op one of ADD..SQRT, MIN, MAX). */
function lane32(fp: SseFloatState, op: number, a: number, b: number): number {
  if (fp.daz) {
    if (isDen32(a)) a &= 0x80000000;
    if (isDen32(b)) b &= 0x80000000;
  }
  const unary = op === SQRT;
  const aN = !unary && isNaN32(a), bN = isNaN32(b);
  if (op >= MIN) {
    if (aN || bN) { fp.pre |= IE; return b; }
    if (isDen32(a) || isDen32(b)) fp.pre |= DE;
    const x = f32(fp, a), y = f32(fp, b);
    return (op === MIN ? x < y : x > y) ? a : b;
  }
  if (aN || bN) {
    if ((!unary && isSNaN32(a)) || isSNaN32(b)) fp.pre |= IE;
    return (aN ? a : b) | 0x400000;
  }
  const v = arith(fp, op, unary ? 0 : f32(fp, a), f32(fp, b), !unary && isDen32(a), isDen32(b), true);
  return v !== v ? QNAN32 : bits32(fp, v);
}

/** A float64 binary operation on bit patterns; returns the low half, the high half in outHi. */
function lane64(fp: SseFloatState, op: number, alo: number, ahi: number, blo: number, bhi: number): number {
  if (fp.daz) {
    if (isDen64(alo, ahi)) { alo = 0; ahi &= 0x80000000; }
    if (isDen64(blo, bhi)) { blo = 0; bhi &= 0x80000000; }
  }
  const unary = op === SQRT;
  const aN = !unary && isNaN64(alo, ahi), bN = isNaN64(blo, bhi);
  if (op >= MIN) {
    if (aN || bN) { fp.pre |= IE; fp.outHi = bhi; return blo; }
    if (isDen64(alo, ahi) || isDen64(blo, bhi)) fp.pre |= DE;
    const x = f64(fp, alo, ahi), y = f64(fp, blo, bhi);
    if (op === MIN ? x < y : x > y) { fp.outHi = ahi; return alo; }
    fp.outHi = bhi; return blo;
  }
  if (aN || bN) {
    if ((!unary && isSNaN64(alo, ahi)) || isSNaN64(blo, bhi)) fp.pre |= IE;
    if (aN) { fp.outHi = ahi | 0x80000; return alo; }
    fp.outHi = bhi | 0x80000; return blo;
  }
  const v = arith(fp, op, unary ? 0 : f64(fp, alo, ahi), f64(fp, blo, bhi), !unary && isDen64(alo, ahi), isDen64(blo, bhi), false);
  if (v !== v) { fp.outHi = QNAN64_HI; return 0; }
  return bits64(fp, v);
}

/** Ordered comparison outcome: 0 less, 1 equal, 2 greater. */
const order = (x: number, y: number): number => (x < y ? 0 : x === y ? 1 : 2);

/**
 * Compare for CMPcc (predicate 0-7) and (U)COMIS: returns 0 less, 1 equal, 2 greater, 3 unordered.
 * `signalQnan`: a QNaN operand is invalid too (LT, LE, NLT, NLE and COMIS); an SNaN always is.
 */
function cmp32(fp: SseFloatState, a: number, b: number, signalQnan: boolean): number {
  if (fp.daz) {
    if (isDen32(a)) a &= 0x80000000;
    if (isDen32(b)) b &= 0x80000000;
  }
  if (isNaN32(a) || isNaN32(b)) {
    if (signalQnan || isSNaN32(a) || isSNaN32(b)) fp.pre |= IE;
    return 3;
  }
  if (isDen32(a) || isDen32(b)) fp.pre |= DE;
  return order(f32(fp, a), f32(fp, b));
}

function cmp64(fp: SseFloatState, alo: number, ahi: number, blo: number, bhi: number, signalQnan: boolean): number {
  if (fp.daz) {
    if (isDen64(alo, ahi)) { alo = 0; ahi &= 0x80000000; }
    if (isDen64(blo, bhi)) { blo = 0; bhi &= 0x80000000; }
  }
  if (isNaN64(alo, ahi) || isNaN64(blo, bhi)) {
    if (signalQnan || isSNaN64(alo, ahi) || isSNaN64(blo, bhi)) fp.pre |= IE;
    return 3;
  }
  if (isDen64(alo, ahi) || isDen64(blo, bhi)) fp.pre |= DE;
  return order(f64(fp, alo, ahi), f64(fp, blo, bhi));
}

/** CMPcc predicate (imm8 bits 2:0) applied to a comparison outcome (0 less, 1 equal, 2 greater, 3 unordered). */
function predicate(p: number, o: number): boolean {
  switch (p) {
    case 0: return o === 1; // EQ
    case 1: return o === 0; // LT
    case 2: return o <= 1; // LE
    case 3: return o === 3; // UNORD
    case 4: return o !== 1; // NEQ
    case 5: return o !== 0; // NLT
    case 6: return o >= 2; // NLE
    default: return o !== 3; // ORD
  }
}
/** Predicates that signal invalid on QNaN operands. */
const signals = (p: number): boolean => p === 1 || p === 2 || p === 5 || p === 6;

/** float32 → float64 (exact); low half returned, high half in outHi. */
function cvt32to64(fp: SseFloatState, a: number): number {
  if (fp.daz && isDen32(a)) a &= 0x80000000;
  if (isNaN32(a)) {
    if (isSNaN32(a)) fp.pre |= IE;
    fp.outHi = (a & 0x80000000) | 0x7ff80000 | ((a & 0x7fffff) >>> 3);
    return (a & 7) << 29;
  }
  if (isDen32(a)) fp.pre |= DE;
  return bits64(fp, f32(fp, a));
}

/** float64 → float32, rounded per MXCSR. */
function cvt64to32(fp: SseFloatState, lo: number, hi: number): number {
  if (fp.daz && isDen64(lo, hi)) { lo = 0; hi &= 0x80000000; }
  if (isNaN64(lo, hi)) {
    if (isSNaN64(lo, hi)) fp.pre |= IE;
    return (hi & 0x80000000) | 0x7fc00000 | ((hi & 0xfffff) << 3) | (lo >>> 29);
  }
  const x = f64(fp, lo, hi);
  if (Math.abs(x) === Infinity || x === 0) return bits32(fp, x);
  if (isDen64(lo, hi)) fp.pre |= DE;
  return bits32(fp, finish(fp, CVT, x, 0, x, true));
}

/** Integer (exact double, or a bigint beyond 2^53) → float32/float64 per MXCSR.RC. */
function fromInt(fp: SseFloatState, v: number, single: boolean): number {
  if (!single) return v; // |v| <= 2^53
  const r = Math.fround(v);
  if (r === v) return r;
  return finish(fp, CVT, v, 0, v, true);
}

/** int64 (hi:lo halves) → float per MXCSR.RC. */
function fromInt64(fp: SseFloatState, lo: number, hi: number, single: boolean): number {
  if (hi >= -0x200000 && hi < 0x200000) return fromInt(fp, hi * 4294967296 + (lo >>> 0), single);
  // Beyond 2^53: round the magnitude to p bits by hand.
  const v = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo >>> 0));
  const neg = v < 0n;
  const m = neg ? -v : v;
  const p = single ? 24 : 53;
  const shift = m.toString(2).length - p;
  let q = m >> BigInt(shift);
  const rem = m - (q << BigInt(shift));
  const half = 1n << BigInt(shift - 1);
  if (rem !== 0n) {
    fp.post |= PE;
    const up = fp.rc === RC_NEAREST ? rem > half || (rem === half && (q & 1n) === 1n)
      : fp.rc === RC_ZERO ? false : fp.rc === RC_UP ? !neg : neg;
    if (up) q++;
  }
  const r = Number(q) * 2 ** shift;
  return neg ? -r : r;
}

/**
 * Float → integer (non-NaN value x) with truncation or MXCSR.RC. Returns the low 32 bits; for 64-bit
 * results the high half in outHi. Out of range: integer indefinite and IE.
 */
function toInt(fp: SseFloatState, x: number, wide: boolean, truncate: boolean): number {
  const mode = truncate ? RC_ZERO : fp.rc;
  const neg = x < 0;
  const ax = Math.abs(x);
  let r = Math.floor(ax);
  const frac = ax - r; // exact
  if (frac !== 0) {
    const up = mode === RC_NEAREST ? frac > 0.5 || (frac === 0.5 && r % 2 === 1)
      : mode === RC_ZERO ? false : mode === RC_UP ? !neg : neg;
    if (up) r += 1;
  }
  if (neg) r = -r;
  const ok = wide ? r >= -(2 ** 63) && r < 2 ** 63 : r >= -(2 ** 31) && r <= 2 ** 31 - 1;
  if (!ok || ax === Infinity) { fp.pre |= IE; fp.outHi = INDEF32; return wide ? 0 : INDEF32; }
  if (frac !== 0) fp.post |= PE;
  const h = Math.floor(r / 4294967296);
  fp.outHi = h | 0;
  return (r - h * 4294967296) | 0;
}

function toIntFrom32(fp: SseFloatState, a: number, wide: boolean, truncate: boolean): number {
  if (fp.daz && isDen32(a)) a &= 0x80000000;
  if (isNaN32(a)) { fp.pre |= IE; fp.outHi = INDEF32; return wide ? 0 : INDEF32; }
  return toInt(fp, f32(fp, a), wide, truncate);
}

function toIntFrom64(fp: SseFloatState, lo: number, hi: number, wide: boolean, truncate: boolean): number {
  if (fp.daz && isDen64(lo, hi)) { lo = 0; hi &= 0x80000000; }
  if (isNaN64(lo, hi)) { fp.pre |= IE; fp.outHi = INDEF32; return wide ? 0 : INDEF32; }
  return toInt(fp, f64(fp, lo, hi), wide, truncate);
}

/** RCPSS/RSQRTSS on one float32: correctly rounded (see the file comment); never sets MXCSR flags. */
function recip32(fp: SseFloatState, a: number, rsqrt: boolean): number {
  if (isNaN32(a)) return a | 0x400000;
  const neg = a < 0;
  if ((a & 0x7f800000) === 0) return neg ? 0xff800000 | 0 : 0x7f800000; // zeros and denormals read as zero
  if (rsqrt && neg) return QNAN32;
  if ((a & 0x7fffffff) === 0x7f800000) return a & 0x80000000;
  const x = f32(fp, a);
  const r = Math.fround(rsqrt ? 1 / Math.sqrt(x) : 1 / x);
  if (Math.abs(r) < MIN_NORMAL32) return neg ? 0x80000000 | 0 : 0; // tiny results flush to zero
  return bits32(fp, r);
}

// ---- Operand access ---------------------------------------------------------------------------------------

/**
 * Load `n` dwords (1, 2 or 4) of the r/m operand into c.fpu.src. 16-byte memory operands must be
 * aligned unless `unaligned`.
 */
function loadSrc(c: Cpu, i: Insn, n: number, unaligned = false): void {
  const S = c.fpu.src;
  if (i.mod === 3) {
    const b = i.rm * 4;
    for (let k = 0; k < n; k++) S[k] = c.st.xmm[b + k];
    return;
  }
  c.ea(i);
  if (n === 1) { S[0] = c.readMem(4); return; }
  if (n === 2) { S[0] = c.readMem(8); S[1] = c.vhi; return; }
  if (!unaligned && (c.eaLo & 15)) throw new Fault(EXC.GP, 0);
  const lo = c.eaLo, hi = c.eaHi;
  c.mmu.probe(lo, hi, 16, 0);
  S[0] = c.readMem(8); S[1] = c.vhi;
  c.eaLo = (lo + 8) | 0; c.eaHi = (lo >>> 0) + 8 > 0xffffffff ? (hi + 1) | 0 : hi;
  S[2] = c.readMem(8); S[3] = c.vhi;
  c.eaLo = lo; c.eaHi = hi;
}

/** Copy the destination register into c.fpu.res (so scalar forms keep the upper lanes). */
function loadDest(c: Cpu, i: Insn): void {
  const R = c.fpu.res;
  const b = i.reg * 4;
  for (let k = 0; k < 4; k++) R[k] = c.st.xmm[b + k];
}

function storeDest(c: Cpu, i: Insn): void {
  const R = c.fpu.res;
  const b = i.reg * 4;
  for (let k = 0; k < 4; k++) c.st.xmm[b + k] = R[k];
}

// ---- Instruction handlers ---------------------------------------------------------------------------------

type Handler = (c: Cpu, i: Insn) => void;

/** ADD/SUB/MUL/DIV/MIN/MAX/SQRT: op, float32?, scalar? */
function arithHandler(op: number, single: boolean, scalar: boolean): Handler {
  const n = scalar ? (single ? 1 : 2) : 4;
  return (c, i) => {
    const fp = c.fpu, S = fp.src, R = fp.res;
    sseAvailable(c);
    loadSrc(c, i, n);
    begin(c);
    loadDest(c, i);
    if (single) for (let k = 0; k < n; k++) R[k] = lane32(fp, op, R[k], S[k]);
    else for (let k = 0; k < n; k += 2) { R[k] = lane64(fp, op, R[k], R[k + 1], S[k], S[k + 1]); R[k + 1] = fp.outHi; }
    commit(c);
    storeDest(c, i);
  };
}

function recipHandler(rsqrt: boolean, scalar: boolean): Handler {
  const n = scalar ? 1 : 4;
  return (c, i) => {
    const fp = c.fpu, S = fp.src, R = fp.res;
    sseAvailable(c);
    loadSrc(c, i, n);
    loadDest(c, i);
    for (let k = 0; k < n; k++) R[k] = recip32(fp, S[k], rsqrt);
    storeDest(c, i);
  };
}

function cmpHandler(single: boolean, scalar: boolean): Handler {
  const n = scalar ? (single ? 1 : 2) : 4;
  return (c, i) => {
    const fp = c.fpu, S = fp.src, R = fp.res;
    sseAvailable(c);
    loadSrc(c, i, n);
    begin(c);
    loadDest(c, i);
    const p = i.imm & 7;
    const sig = signals(p);
    if (single) for (let k = 0; k < n; k++) R[k] = predicate(p, cmp32(fp, R[k], S[k], sig)) ? -1 : 0;
    else for (let k = 0; k < n; k += 2) R[k] = R[k + 1] = predicate(p, cmp64(fp, R[k], R[k + 1], S[k], S[k + 1], sig)) ? -1 : 0;
    commit(c);
    storeDest(c, i);
  };
}

/** COMISS/COMISD/UCOMISS/UCOMISD: ZF, PF, CF from the comparison; OF, SF, AF cleared. */
function comisHandler(single: boolean, signalQnan: boolean): Handler {
  return (c, i) => {
    const fp = c.fpu, S = fp.src;
    sseAvailable(c);
    loadSrc(c, i, single ? 1 : 2);
    begin(c);
    const x = c.st.xmm, g = i.reg * 4;
    const o = single ? cmp32(fp, x[g], S[0], signalQnan) : cmp64(fp, x[g], x[g + 1], S[0], S[1], signalQnan);
    commit(c);
    c.materialize();
    const f = o === 3 ? FLAG.ZF | FLAG.PF | FLAG.CF : o === 0 ? FLAG.CF : o === 1 ? FLAG.ZF : 0;
    c.st.flags = (c.st.flags & ~(FLAG.OF | FLAG.SF | FLAG.AF | FLAG.ZF | FLAG.PF | FLAG.CF)) | f;
  };
}

const handlers: Handler[] = []; // immutable after load: filled by the def() calls below, at module load only
function def(name: (typeof SSEFP_NAMES)[number], h: Handler): void {
  handlers[SSEFP_NAMES.indexOf(name)] = h;
}

const ARITH: readonly (readonly [string, number])[] = [['ADD', ADD], ['SUB', SUB], ['MUL', MUL], ['DIV', DIV], ['MIN', MIN], ['MAX', MAX], ['SQRT', SQRT]];
for (const [name, op] of ARITH) {
  def(`${name}PS` as (typeof SSEFP_NAMES)[number], arithHandler(op, true, false));
  def(`${name}PD` as (typeof SSEFP_NAMES)[number], arithHandler(op, false, false));
  def(`${name}SS` as (typeof SSEFP_NAMES)[number], arithHandler(op, true, true));
  def(`${name}SD` as (typeof SSEFP_NAMES)[number], arithHandler(op, false, true));
}
def('RCPPS', recipHandler(false, false));
def('RCPSS', recipHandler(false, true));
def('RSQRTPS', recipHandler(true, false));
def('RSQRTSS', recipHandler(true, true));
def('CMPPS', cmpHandler(true, false));
def('CMPPD', cmpHandler(false, false));
def('CMPSS', cmpHandler(true, true));
def('CMPSD', cmpHandler(false, true));
def('COMISS', comisHandler(true, true));
def('COMISD', comisHandler(false, true));
def('UCOMISS', comisHandler(true, false));
def('UCOMISD', comisHandler(false, false));

// CVTSI2SS / CVTSI2SD xmm, r/m32|64 (REX.W).
for (const single of [true, false]) {
  def(single ? 'CVTSI2SS' : 'CVTSI2SD', (c, i) => {
    const fp = c.fpu;
    sseAvailable(c);
    const wide = (i.pfx & PFX.REXW) !== 0;
    const lo = c.readE(i, wide ? 8 : 4);
    const hi = wide ? c.vhi : lo >> 31;
    begin(c);
    const v = wide ? fromInt64(fp, lo, hi, single) : fromInt(fp, lo, single);
    commit(c);
    const x = c.st.xmm, g = i.reg * 4;
    if (single) x[g] = bits32(fp, v);
    else { x[g] = bits64(fp, v); x[g + 1] = fp.outHi; }
  });
}

// CVT(T)SS2SI / CVT(T)SD2SI r32|64, xmm/m32|64.
for (const single of [true, false]) {
  for (const truncate of [true, false]) {
    const name = `CVT${truncate ? 'T' : ''}${single ? 'SS' : 'SD'}2SI` as (typeof SSEFP_NAMES)[number];
    def(name, (c, i) => {
      const fp = c.fpu, S = fp.src;
      sseAvailable(c);
      loadSrc(c, i, single ? 1 : 2);
      begin(c);
      const wide = i.osz === 8;
      const lo = single ? toIntFrom32(fp, S[0], wide, truncate) : toIntFrom64(fp, S[0], S[1], wide, truncate);
      const hi = fp.outHi;
      commit(c);
      c.setReg(wide ? 8 : 4, i.reg, lo, hi);
    });
  }
}

def('CVTSS2SD', (c, i) => {
  const fp = c.fpu, S = fp.src, R = fp.res;
  sseAvailable(c); loadSrc(c, i, 1); begin(c); loadDest(c, i);
  R[0] = cvt32to64(fp, S[0]); R[1] = fp.outHi;
  commit(c); storeDest(c, i);
});
def('CVTSD2SS', (c, i) => {
  const fp = c.fpu, S = fp.src, R = fp.res;
  sseAvailable(c); loadSrc(c, i, 2); begin(c); loadDest(c, i);
  R[0] = cvt64to32(fp, S[0], S[1]);
  commit(c); storeDest(c, i);
});
def('CVTPS2PD', (c, i) => {
  const fp = c.fpu, S = fp.src, R = fp.res;
  sseAvailable(c); loadSrc(c, i, 2); begin(c);
  const a = S[0], b = S[1];
  R[0] = cvt32to64(fp, a); R[1] = fp.outHi;
  R[2] = cvt32to64(fp, b); R[3] = fp.outHi;
  commit(c); storeDest(c, i);
});
def('CVTPD2PS', (c, i) => {
  const fp = c.fpu, S = fp.src, R = fp.res;
  sseAvailable(c); loadSrc(c, i, 4); begin(c);
  R[0] = cvt64to32(fp, S[0], S[1]); R[1] = cvt64to32(fp, S[2], S[3]); R[2] = 0; R[3] = 0;
  commit(c); storeDest(c, i);
});
def('CVTDQ2PS', (c, i) => {
  const fp = c.fpu, S = fp.src, R = fp.res;
  sseAvailable(c); loadSrc(c, i, 4); begin(c);
  for (let k = 0; k < 4; k++) R[k] = bits32(fp, fromInt(fp, S[k], true));
  commit(c); storeDest(c, i);
});
def('CVTDQ2PD', (c, i) => {
  const fp = c.fpu, S = fp.src, R = fp.res;
  sseAvailable(c); loadSrc(c, i, 2);
  const a = S[0], b = S[1];
  R[0] = bits64(fp, a); R[1] = fp.outHi; R[2] = bits64(fp, b); R[3] = fp.outHi;
  storeDest(c, i);
});
for (const truncate of [true, false]) {
  def(truncate ? 'CVTTPS2DQ' : 'CVTPS2DQ', (c, i) => {
    const fp = c.fpu, S = fp.src, R = fp.res;
    sseAvailable(c); loadSrc(c, i, 4); begin(c);
    for (let k = 0; k < 4; k++) R[k] = toIntFrom32(fp, S[k], false, truncate);
    commit(c); storeDest(c, i);
  });
  def(truncate ? 'CVTTPD2DQ' : 'CVTPD2DQ', (c, i) => {
    const fp = c.fpu, S = fp.src, R = fp.res;
    sseAvailable(c); loadSrc(c, i, 4); begin(c);
    R[0] = toIntFrom64(fp, S[0], S[1], false, truncate); R[1] = toIntFrom64(fp, S[2], S[3], false, truncate);
    R[2] = 0; R[3] = 0;
    commit(c); storeDest(c, i);
  });
}

def('SHUFPS', (c, i) => {
  const fp = c.fpu, S = fp.src, R = fp.res;
  sseAvailable(c); loadSrc(c, i, 4);
  const x = c.st.xmm, g = i.reg * 4, m = i.imm;
  const r0 = x[g + (m & 3)], r1 = x[g + ((m >> 2) & 3)];
  R[0] = r0; R[1] = r1; R[2] = S[(m >> 4) & 3]; R[3] = S[(m >> 6) & 3];
  storeDest(c, i);
});
def('SHUFPD', (c, i) => {
  const fp = c.fpu, S = fp.src, R = fp.res;
  sseAvailable(c); loadSrc(c, i, 4);
  const x = c.st.xmm, g = i.reg * 4, m = i.imm;
  const d = (m & 1) * 2, s = ((m >> 1) & 1) * 2;
  R[0] = x[g + d]; R[1] = x[g + d + 1]; R[2] = S[s]; R[3] = S[s + 1];
  storeDest(c, i);
});
def('MOVMSKPS', (c, i) => {
  sseAvailable(c);
  const x = c.st.xmm, b = i.rm * 4;
  c.setReg(4, i.reg, (x[b] >>> 31) | ((x[b + 1] >>> 31) << 1) | ((x[b + 2] >>> 31) << 2) | ((x[b + 3] >>> 31) << 3), 0);
});
def('MOVMSKPD', (c, i) => {
  sseAvailable(c);
  const x = c.st.xmm, b = i.rm * 4;
  c.setReg(4, i.reg, (x[b + 1] >>> 31) | ((x[b + 3] >>> 31) << 1), 0);
});

for (let k = 0; k < SSEFP_NAMES.length; k++) {
  if (!handlers[k]) throw new Error(`ssefloat: no handler for ${SSEFP_NAMES[k]}`);
}

/** Execute an OP.SSEFP instruction (sub = index in SSEFP_NAMES). */
export function execSseFp(c: Cpu, i: Insn): void {
  handlers[i.sub](c, i);
}

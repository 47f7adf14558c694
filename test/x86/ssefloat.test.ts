// Differential tests of the SSE/SSE2 floating-point instructions (core/x86/exec/ssefloat.ts) against
// the host CPU. A small C harness (compiled with gcc into a temp dir) runs each case natively: it
// copies the instruction bytes into an executable page, loads XMM1/XMM9 (destination), XMM2/XMM10
// (source), RAX, RBX (pointer to a memory operand), RFLAGS and MXCSR, executes the instruction and
// prints XMM1, XMM9, RAX, RFLAGS and MXCSR (from the signal context when it faults: SIGFPE = #XM,
// SIGSEGV = #GP, SIGILL = #UD). The same case runs in the emulator and the results are compared bit
// for bit. Cases come from a fixed seed and include the special values (zeros, infinities, QNaNs and
// SNaNs with payloads, denormals, the largest and smallest normals, integer boundaries, rounding ties),
// every rounding mode, DAZ and FTZ, preset sticky flags and unmasked exceptions.
//
// RCPPS/RCPSS/RSQRTPS/RSQRTSS are compared with a tolerance (the emulator returns the correctly
// rounded value, the hardware a 12-bit approximation): within 2^-11 relative, special values exact.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../helpers/prng.js';
import { haveTool, scratchDir } from '../helpers/toolchain.js';
import { CODE_BASE, DATA_BASE, InsnRunner } from './run-insn.js';

const HARNESS = String.raw`
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

struct st { uint32_t x[16][4]; uint64_t rax, rbx, flags; uint32_t mxcsr; uint32_t pad; };
_Static_assert(__builtin_offsetof(struct st, rax) == 256, "layout");
_Static_assert(__builtin_offsetof(struct st, mxcsr) == 280, "layout");

void tramp(struct st *s, void *code);
__asm__(
  ".text\n.globl tramp\ntramp:\n"
  "push %rbx\npush %rbp\npush %r12\npush %r13\npush %r14\npush %r15\n"
  "mov %rdi, %r15\nmov %rsi, %r14\n"
  "ldmxcsr 280(%r15)\n"
  "movdqu 0(%r15), %xmm0\nmovdqu 16(%r15), %xmm1\nmovdqu 32(%r15), %xmm2\nmovdqu 48(%r15), %xmm3\n"
  "movdqu 64(%r15), %xmm4\nmovdqu 80(%r15), %xmm5\nmovdqu 96(%r15), %xmm6\nmovdqu 112(%r15), %xmm7\n"
  "movdqu 128(%r15), %xmm8\nmovdqu 144(%r15), %xmm9\nmovdqu 160(%r15), %xmm10\nmovdqu 176(%r15), %xmm11\n"
  "movdqu 192(%r15), %xmm12\nmovdqu 208(%r15), %xmm13\nmovdqu 224(%r15), %xmm14\nmovdqu 240(%r15), %xmm15\n"
  "mov 256(%r15), %rax\nmov 264(%r15), %rbx\n"
  "pushq 272(%r15)\npopfq\n"
  "call *%r14\n"
  "pushfq\npopq 272(%r15)\n"
  "stmxcsr 280(%r15)\n"
  "movdqu %xmm0, 0(%r15)\nmovdqu %xmm1, 16(%r15)\nmovdqu %xmm2, 32(%r15)\nmovdqu %xmm3, 48(%r15)\n"
  "movdqu %xmm4, 64(%r15)\nmovdqu %xmm5, 80(%r15)\nmovdqu %xmm6, 96(%r15)\nmovdqu %xmm7, 112(%r15)\n"
  "movdqu %xmm8, 128(%r15)\nmovdqu %xmm9, 144(%r15)\nmovdqu %xmm10, 160(%r15)\nmovdqu %xmm11, 176(%r15)\n"
  "movdqu %xmm12, 192(%r15)\nmovdqu %xmm13, 208(%r15)\nmovdqu %xmm14, 224(%r15)\nmovdqu %xmm15, 240(%r15)\n"
  "mov %rax, 256(%r15)\nmov %rbx, 264(%r15)\n"
  "pop %r15\npop %r14\npop %r13\npop %r12\npop %rbp\npop %rbx\nret\n");

static sigjmp_buf jb;
static struct st S;
static int fsig;

static void on_sig(int sig, siginfo_t *si, void *ctx) {
  ucontext_t *uc = ctx;
  (void)si;
  fsig = sig;
  S.mxcsr = uc->uc_mcontext.fpregs->mxcsr;
  S.flags = uc->uc_mcontext.gregs[REG_EFL];
  S.rax = uc->uc_mcontext.gregs[REG_RAX];
  memcpy(S.x[1], &uc->uc_mcontext.fpregs->_xmm[1], 16);
  memcpy(S.x[9], &uc->uc_mcontext.fpregs->_xmm[9], 16);
  siglongjmp(jb, 1);
}

static unsigned hexbyte(const char *p) { unsigned v; sscanf(p, "%2x", &v); return v; }

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sig;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGFPE, &sa, 0); sigaction(SIGSEGV, &sa, 0); sigaction(SIGILL, &sa, 0); sigaction(SIGBUS, &sa, 0);
  uint8_t *code = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) { perror("mmap"); return 2; }
  static uint8_t mem[64] __attribute__((aligned(64)));
  char line[512], hex[64], memhex[160];
  unsigned mx, fl, off, x1[4], x2[4];
  unsigned long long rax;
  setvbuf(stdout, 0, _IOFBF, 1 << 16);
  while (fgets(line, sizeof line, stdin)) {
    if (sscanf(line, "%63s %x %x %x.%x.%x.%x %x.%x.%x.%x %llx %u %159s", hex, &mx, &fl, &x1[0], &x1[1], &x1[2], &x1[3],
               &x2[0], &x2[1], &x2[2], &x2[3], &rax, &off, memhex) != 14) { fprintf(stderr, "bad line: %s", line); return 2; }
    size_t n = strlen(hex) / 2;
    for (size_t k = 0; k < n; k++) code[k] = hexbyte(hex + 2 * k);
    code[n] = 0xc3;
    for (size_t k = 0; k < sizeof mem; k++) mem[k] = hexbyte(memhex + 2 * k);
    memset(&S, 0, sizeof S);
    memcpy(S.x[1], x1, 16); memcpy(S.x[9], x1, 16);
    memcpy(S.x[2], x2, 16); memcpy(S.x[10], x2, 16);
    S.rax = rax; S.rbx = (uint64_t)(uintptr_t)(mem + off); S.flags = fl; S.mxcsr = mx;
    fsig = 0;
    if (sigsetjmp(jb, 1) == 0) tramp(&S, code);
    __asm__ volatile("ldmxcsr %0" : : "m"((uint32_t){0x1f80}));
    printf("%d %08x %08x %08x.%08x.%08x.%08x %08x.%08x.%08x.%08x %016llx\n", fsig == SIGFPE ? 19 : fsig == SIGILL ? 6 : fsig ? 13 : -1,
           S.mxcsr, (unsigned)S.flags & 0x8d5, S.x[1][0], S.x[1][1], S.x[1][2], S.x[1][3],
           S.x[9][0], S.x[9][1], S.x[9][2], S.x[9][3], (unsigned long long)S.rax);
  }
  return 0;
}
`;

// ---- Case generation --------------------------------------------------------------------------------

type Lane = 'f32' | 'f64' | 'i32';

interface Form {
  name: string;
  /** Mandatory prefix (0 none) and the opcode byte after 0F. */
  pfx: number;
  op: number;
  /** Lane types of the destination and source XMM operands. */
  dst: Lane;
  src: Lane;
  /** Source is a general register / memory integer (CVTSI2Sx) or destination is one (CVT*2SI, MOVMSK). */
  gprSrc?: boolean;
  gprDst?: boolean;
  /** Bytes of the memory operand: 4, 8 or 16 (16 = must be aligned unless `unaligned`); 0: register only. */
  memSize: 4 | 8 | 16 | 0;
  imm?: 'cmp' | 'shuf';
  /** Compare lanes with a tolerance (RCP/RSQRT). */
  approx?: boolean;
  /** REX.W is meaningful (integer conversions). */
  wide?: boolean;
}

const FORMS: Form[] = [];
const arith: [string, number][] = [['ADD', 0x58], ['MUL', 0x59], ['SUB', 0x5c], ['MIN', 0x5d], ['DIV', 0x5e], ['MAX', 0x5f], ['SQRT', 0x51]];
for (const [m, op] of arith) {
  FORMS.push({ name: `${m}PS`, pfx: 0, op, dst: 'f32', src: 'f32', memSize: 16 });
  FORMS.push({ name: `${m}PD`, pfx: 0x66, op, dst: 'f64', src: 'f64', memSize: 16 });
  FORMS.push({ name: `${m}SS`, pfx: 0xf3, op, dst: 'f32', src: 'f32', memSize: 4 });
  FORMS.push({ name: `${m}SD`, pfx: 0xf2, op, dst: 'f64', src: 'f64', memSize: 8 });
}
FORMS.push(
  { name: 'CMPPS', pfx: 0, op: 0xc2, dst: 'f32', src: 'f32', memSize: 16, imm: 'cmp' },
  { name: 'CMPPD', pfx: 0x66, op: 0xc2, dst: 'f64', src: 'f64', memSize: 16, imm: 'cmp' },
  { name: 'CMPSS', pfx: 0xf3, op: 0xc2, dst: 'f32', src: 'f32', memSize: 4, imm: 'cmp' },
  { name: 'CMPSD', pfx: 0xf2, op: 0xc2, dst: 'f64', src: 'f64', memSize: 8, imm: 'cmp' },
  { name: 'COMISS', pfx: 0, op: 0x2f, dst: 'f32', src: 'f32', memSize: 4 },
  { name: 'UCOMISS', pfx: 0, op: 0x2e, dst: 'f32', src: 'f32', memSize: 4 },
  { name: 'COMISD', pfx: 0x66, op: 0x2f, dst: 'f64', src: 'f64', memSize: 8 },
  { name: 'UCOMISD', pfx: 0x66, op: 0x2e, dst: 'f64', src: 'f64', memSize: 8 },
  { name: 'CVTSI2SS', pfx: 0xf3, op: 0x2a, dst: 'f32', src: 'i32', gprSrc: true, memSize: 4, wide: true },
  { name: 'CVTSI2SD', pfx: 0xf2, op: 0x2a, dst: 'f64', src: 'i32', gprSrc: true, memSize: 4, wide: true },
  { name: 'CVTTSS2SI', pfx: 0xf3, op: 0x2c, dst: 'f32', src: 'f32', gprDst: true, memSize: 4, wide: true },
  { name: 'CVTSS2SI', pfx: 0xf3, op: 0x2d, dst: 'f32', src: 'f32', gprDst: true, memSize: 4, wide: true },
  { name: 'CVTTSD2SI', pfx: 0xf2, op: 0x2c, dst: 'f64', src: 'f64', gprDst: true, memSize: 8, wide: true },
  { name: 'CVTSD2SI', pfx: 0xf2, op: 0x2d, dst: 'f64', src: 'f64', gprDst: true, memSize: 8, wide: true },
  { name: 'CVTSS2SD', pfx: 0xf3, op: 0x5a, dst: 'f64', src: 'f32', memSize: 4 },
  { name: 'CVTSD2SS', pfx: 0xf2, op: 0x5a, dst: 'f32', src: 'f64', memSize: 8 },
  { name: 'CVTPS2PD', pfx: 0, op: 0x5a, dst: 'f64', src: 'f32', memSize: 8 },
  { name: 'CVTPD2PS', pfx: 0x66, op: 0x5a, dst: 'f32', src: 'f64', memSize: 16 },
  { name: 'CVTDQ2PS', pfx: 0, op: 0x5b, dst: 'f32', src: 'i32', memSize: 16 },
  { name: 'CVTPS2DQ', pfx: 0x66, op: 0x5b, dst: 'i32', src: 'f32', memSize: 16 },
  { name: 'CVTTPS2DQ', pfx: 0xf3, op: 0x5b, dst: 'i32', src: 'f32', memSize: 16 },
  { name: 'CVTDQ2PD', pfx: 0xf3, op: 0xe6, dst: 'f64', src: 'i32', memSize: 8 },
  { name: 'CVTPD2DQ', pfx: 0xf2, op: 0xe6, dst: 'i32', src: 'f64', memSize: 16 },
  { name: 'CVTTPD2DQ', pfx: 0x66, op: 0xe6, dst: 'i32', src: 'f64', memSize: 16 },
  { name: 'SHUFPS', pfx: 0, op: 0xc6, dst: 'f32', src: 'f32', memSize: 16, imm: 'shuf' },
  { name: 'SHUFPD', pfx: 0x66, op: 0xc6, dst: 'f64', src: 'f64', memSize: 16, imm: 'shuf' },
  { name: 'MOVMSKPS', pfx: 0, op: 0x50, dst: 'f32', src: 'f32', gprDst: true, memSize: 0 },
  { name: 'MOVMSKPD', pfx: 0x66, op: 0x50, dst: 'f64', src: 'f64', gprDst: true, memSize: 0 },
  { name: 'RCPPS', pfx: 0, op: 0x53, dst: 'f32', src: 'f32', memSize: 16, approx: true },
  { name: 'RCPSS', pfx: 0xf3, op: 0x53, dst: 'f32', src: 'f32', memSize: 4, approx: true },
  { name: 'RSQRTPS', pfx: 0, op: 0x52, dst: 'f32', src: 'f32', memSize: 16, approx: true },
  { name: 'RSQRTSS', pfx: 0xf3, op: 0x52, dst: 'f32', src: 'f32', memSize: 4, approx: true },
  // Bitwise and unpack forms (shared with the integer handlers).
  { name: 'ANDPS', pfx: 0, op: 0x54, dst: 'f32', src: 'f32', memSize: 16 },
  { name: 'ANDNPD', pfx: 0x66, op: 0x55, dst: 'f64', src: 'f64', memSize: 16 },
  { name: 'ORPS', pfx: 0, op: 0x56, dst: 'f32', src: 'f32', memSize: 16 },
  { name: 'XORPD', pfx: 0x66, op: 0x57, dst: 'f64', src: 'f64', memSize: 16 },
  { name: 'UNPCKLPD', pfx: 0x66, op: 0x14, dst: 'f64', src: 'f64', memSize: 16 },
  { name: 'UNPCKHPD', pfx: 0x66, op: 0x15, dst: 'f64', src: 'f64', memSize: 16 },
);

const u32 = (v: number): number => v >>> 0;
const F32_SPECIAL = [
  0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fc12345, 0xffe00001, // zeros, infs, QNaNs
  0x7f800001, 0x7fa00000, 0xff812345, 0x7fbfffff, // SNaNs
  1, 0x80000001, 0x007fffff, 0x807fffff, 0x00400000, 0x00000100, // denormals
  0x00800000, 0x80800000, 0x00800001, 0x7f7fffff, 0xff7fffff, 0x7f000000, 0x01000000, // normal extremes
  0x3f800000, 0xbf800000, 0x3f000000, 0xbf000000, 0x3fc00000, 0xbfc00000, 0x40200000, 0xc0200000, 0x3f7fffff, 0x3f800001,
  0x4f000000, 0xcf000000, 0x4effffff, 0xceffffff, 0xcf000001, // ±2^31 boundary
  0x5f000000, 0xdf000000, 0x5effffff, 0xdeffffff, 0xdf000001, // ±2^63 boundary
  0x4b800000, 0x4b800001, 0x4b000001, 0x3eaaaaab, 0x40490fdb,
].map(u32);
const F64_SPECIAL: [number, number][] = [
  [0, 0], [0, 0x80000000], [0, 0x7ff00000], [0, 0xfff00000], [0, 0x7ff80000], [0, 0xfff80000], [0x12345678, 0x7ff91234], [1, 0xfffc0000],
  [1, 0x7ff00000], [0, 0x7ff40000], [0xffffffff, 0x7ff7ffff], [0x9abc, 0xfff01234], // SNaNs
  [1, 0], [1, 0x80000000], [0xffffffff, 0x000fffff], [0xffffffff, 0x800fffff], [0, 0x00080000], [0x100, 0], // denormals
  [0, 0x00100000], [0, 0x80100000], [1, 0x00100000], [0xffffffff, 0x7fefffff], [0xffffffff, 0xffefffff], [0, 0x7fe00000], [0, 0x00200000],
  [0, 0x3ff00000], [0, 0xbff00000], [0, 0x3fe00000], [0, 0xbfe00000], [0, 0x3ff80000], [0, 0xbff80000], [0, 0x40040000], [0, 0xc0040000],
  [0xffffffff, 0x3fefffff], [1, 0x3ff00000],
  [0, 0x41e00000], [0, 0xc1e00000], [0xffc00000, 0x41dfffff], [0x00200000, 0xc1e00000], [0x00100000, 0xc1e00000], [0xffe00000, 0xc1dfffff], // 2^31
  [0, 0x43e00000], [0, 0xc3e00000], [0xffffffff, 0x43dfffff], [1, 0xc3e00000], // 2^63
  [0, 0x43400000], [1, 0x43400000], [0x55555555, 0x3fd55555], [0x54442d18, 0x400921fb],
  [0, 0x47efffff], [0xe0000000, 0x47efffff], [0xf0000000, 0x47efffff], [0x10000000, 0x36a00000], [0, 0x36a00000], [0, 0x38100000], // float32 limits
];
const I32_SPECIAL = [0, 1, -1, 0x7fffffff, -0x80000000, 0x01000001, 0x00ffffff, 0x01000003, -0x01000001, 0x7fffffc0, 0x7fffffbf, 0x40000041, 16777217, 3, -3].map(u32);

const sbuf = new DataView(new ArrayBuffer(8));
const f32bits = (v: number): number => { sbuf.setFloat32(0, v, true); return sbuf.getUint32(0, true); };
const f64bits = (v: number): [number, number] => { sbuf.setFloat64(0, v, true); return [sbuf.getUint32(0, true), sbuf.getUint32(4, true)]; };

class Gen {
  constructor(readonly r: Prng) {}

  f32(): number {
    const r = this.r;
    switch (r.below(9)) {
      case 0: case 1: return r.pick(F32_SPECIAL);
      case 2: return r.u32();
      case 3: return u32((r.u32() & 0x807fffff) | ((r.below(8) + (r.chance(0.5) ? 0 : 247)) << 23)); // near under/overflow
      case 4: return u32(r.u32() & 0x807fffff); // denormal
      case 5: return f32bits((r.below(2000) - 1000) / 4); // quarters: ties for conversions
      case 6: return f32bits((r.chance(0.5) ? -1 : 1) * (r.u32() % 2 ** (r.below(40))));
      default: return u32((r.u32() & 0x807fffff) | ((127 - 20 + r.below(40)) << 23)); // moderate
    }
  }

  f64(): [number, number] {
    const r = this.r;
    switch (r.below(9)) {
      case 0: case 1: return r.pick(F64_SPECIAL);
      case 2: return [r.u32(), r.u32()];
      case 3: return [r.u32(), u32((r.u32() & 0x800fffff) | ((r.below(8) + (r.chance(0.5) ? 0 : 2039)) << 20))];
      case 4: return [r.u32(), u32(r.u32() & 0x800fffff)];
      case 5: return f64bits((r.below(2000) - 1000) / 4);
      case 6: {
        // Near the float32 / int32 / int64 limits (conversions) or float32-exact values.
        const e = r.pick([-150, -149, -127, -126, -125, 30, 31, 32, 62, 63, 64, 127, 128]);
        const [lo, hi] = f64bits(2 ** e * (1 + (r.u32() / 2 ** 32) * (r.chance(0.5) ? 2 ** -20 : 1)));
        return [r.chance(0.5) ? lo & 0xf0000000 : lo, u32(hi | (r.chance(0.3) ? 0x80000000 : 0))];
      }
      default: return [r.u32(), u32((r.u32() & 0x800fffff) | ((1023 - 30 + r.below(60)) << 20))];
    }
  }

  i32(): number {
    const r = this.r;
    switch (r.below(4)) {
      case 0: return r.pick(I32_SPECIAL);
      case 1: return u32(r.u32() >> r.below(32));
      default: return r.u32();
    }
  }

  lanes(t: Lane): number[] {
    if (t === 'f64') return [...this.f64(), ...this.f64()];
    return [0, 1, 2, 3].map(() => (t === 'f32' ? this.f32() : this.i32()));
  }

  /** A source related to the destination (same values, negated, one ulp apart): cancellation, equality. */
  related(t: Lane, d: number[]): number[] {
    const r = this.r;
    const out = d.slice();
    if (t === 'f64') {
      for (const k of [0, 2]) {
        const m = r.below(4);
        if (m === 1) out[k + 1] = u32(out[k + 1] ^ 0x80000000);
        else if (m === 2) out[k] = u32(out[k] + 1);
        else if (m === 3) out[k] = u32(out[k] - 1);
      }
    } else {
      for (let k = 0; k < 4; k++) {
        const m = r.below(4);
        if (m === 1) out[k] = u32(out[k] ^ 0x80000000);
        else if (m === 2) out[k] = u32(out[k] + 1);
        else if (m === 3) out[k] = u32(out[k] - 1);
      }
    }
    return out;
  }

  mxcsr(): number {
    const r = this.r;
    const rc = r.below(4) << 13;
    switch (r.below(12)) {
      case 0: case 1: case 2: case 3: case 4: return 0x1f80;
      case 5: case 6: return 0x1f80 | rc;
      case 7: return 0x1f80 | rc | (r.u32() & 0x3f);
      case 8: case 9: return 0x1f80 | rc | (r.chance(0.5) ? 0x40 : 0) | (r.chance(0.5) ? 0x8000 : 0) | (r.u32() & 0x3f & -r.below(2));
      default: return (0x1f80 & ~((r.u32() & 0x3f) << 7)) | rc | (r.chance(0.2) ? 0x8040 : 0);
    }
  }
}

interface Case {
  form: Form;
  bytes: number[];
  mxcsr: number;
  flags: number;
  x1: number[];
  x2: number[];
  rax: bigint;
  memOff: number;
  mem: number[];
  desc: string;
}

const hex = (v: number, n = 8): string => (v >>> 0).toString(16).padStart(n, '0');

/**
 * Pick sources so that x1 * x2 or x1 / x2 lands within a few ulps of the smallest normal or the
 * largest finite value (tininess and overflow boundaries, in every rounding mode).
 */
function nearLimit(g: Gen, form: Form, x1: number[], x2: number[]): void {
  const r = g.r;
  const single = form.dst === 'f32';
  const step = single ? 4 : 8;
  for (let k = 0; k < 16; k += step) {
    const t = r.pick(single ? [2 ** -126, 2 ** -126 * (1 - 2 ** -25), 3.4028234663852886e38, 2 ** 128 * (1 - 2 ** -25)]
      : [2 ** -1022, 2 ** -1022 * (1 - 2 ** -54), Number.MAX_VALUE, 2 ** -1000]) * (r.chance(0.5) ? -1 : 1);
    const a = (1 + r.u32() / 2 ** 32) * 2 ** (r.below(40) - 20) * (r.chance(0.5) ? -1 : 1);
    const xa = single ? Math.fround(a) : a;
    let b = form.name.startsWith('MUL') ? t / xa : xa / t;
    if (single) b = Math.fround(b);
    if (!Number.isFinite(b) || b === 0) continue;
    const nudge = r.below(5) - 2;
    if (single) {
      x1[k >> 2] = f32bits(xa);
      x2[k >> 2] = u32(f32bits(b) + nudge);
    } else {
      [x1[k >> 2], x1[(k >> 2) + 1]] = f64bits(xa);
      const [lo, hi] = f64bits(b);
      x2[k >> 2] = u32(lo + nudge); x2[(k >> 2) + 1] = hi;
    }
  }
}

interface Fixed { x1: number[]; x2: number[]; mxcsr: number }

function makeCase(g: Gen, form: Form, imm?: number, fixed?: Fixed): Case {
  const r = g.r;
  const x1 = fixed ? fixed.x1 : g.lanes(form.dst);
  const x2 = fixed ? fixed.x2 : form.gprSrc ? g.lanes('i32') : r.chance(0.15) && form.src === form.dst ? g.related(form.src, x1) : g.lanes(form.src);
  if (!fixed && /^(MUL|DIV)/.test(form.name) && r.chance(0.3)) nearLimit(g, form, x1, x2);
  const useMem = form.memSize !== 0 && !fixed && r.chance(0.25);
  const high = r.below(4); // bit 0: XMM destination is XMM9 (REX.R); bit 1: XMM register source is XMM10 (REX.B)
  const wide = form.wide && r.chance(0.5);
  // Memory: the source operand (first memSize bytes of x2, or a 64-bit integer) at mem + memOff.
  const mem = Array.from({ length: 64 }, () => r.byte());
  let memOff = 0;
  let rax = (BigInt(r.u32()) << 32n) | BigInt(r.u32());
  if (form.gprSrc) {
    // Integer source: RAX or memory; 64-bit values from the int64 boundary set half the time.
    let v = BigInt.asIntN(32, BigInt(x2[0] | 0));
    if (wide) {
      const big = [0n, 1n, -1n, (1n << 63n) - 1n, -(1n << 63n), (1n << 53n) + 1n, (1n << 54n) + 3n, -(1n << 55n) - 5n,
        (1n << 24n) + 1n, 0x7fffffbfffffffffn, 0x123456789abcdefn];
      v = r.chance(0.4) ? r.pick(big) : BigInt.asIntN(64, (BigInt(r.u32()) << 32n | BigInt(r.u32())) >> BigInt(r.below(40)));
    }
    const raw = BigInt.asUintN(64, v);
    if (useMem) {
      memOff = r.pick([0, 4, 8, 12]);
      for (let k = 0; k < 8; k++) mem[memOff + k] = Number((raw >> BigInt(8 * k)) & 0xffn);
    } else rax = raw;
  } else if (useMem) {
    memOff = form.memSize === 16 ? (r.chance(0.05) ? r.pick([4, 8]) : r.pick([0, 16])) : r.pick([0, 4, 8, 12, 20]);
    for (let k = 0; k < form.memSize; k++) mem[memOff + k] = (x2[k >> 2] >>> (8 * (k & 3))) & 0xff;
  }
  // Encoding: [pfx] [REX] 0F op ModRM [imm8].
  const dstHigh = form.gprDst ? 0 : high & 1;
  const srcHigh = useMem || form.gprSrc ? 0 : (high >> 1) & 1;
  const regField = form.gprDst ? 0 : 1 + 8 * dstHigh; // RAX or XMM1/XMM9
  const rmReg = form.gprSrc ? 0 : 2 + 8 * srcHigh; // RAX or XMM2/XMM10
  const modrm = useMem ? ((regField & 7) << 3) | 3 : 0xc0 | ((regField & 7) << 3) | (rmReg & 7);
  const rex = (wide ? 8 : 0) | (regField & 8 ? 4 : 0) | (!useMem && rmReg & 8 ? 1 : 0);
  const bytes = [...(form.pfx ? [form.pfx] : []), ...(rex ? [0x40 | rex] : []), 0x0f, form.op, modrm];
  if (imm !== undefined) bytes.push(imm);
  const flags = 0x202 | (r.u32() & 0x8d5);
  const mxcsr = fixed ? fixed.mxcsr : g.mxcsr();
  const desc = `${form.name}${imm !== undefined ? ` imm=${imm}` : ''} ${bytes.map((b) => hex(b, 2)).join(' ')}` +
    `${useMem ? ` mem@+${memOff}` : ''}${wide ? ' (REX.W)' : ''}`;
  return { form, bytes, mxcsr, flags, x1, x2, rax, memOff, mem, desc };
}

/** SSEFLOAT_SEED / SSEFLOAT_SCALE override the seed and multiply the case count (for longer local runs). */
const SEED = Number(process.env.SSEFLOAT_SEED ?? 0x5e5f1047);
const SCALE = Number(process.env.SSEFLOAT_SCALE ?? 1);

function generate(): Case[] {
  const g = new Gen(new Prng(SEED));
  const cases: Case[] = [];
  for (const form of FORMS) {
    const n = form.imm === 'cmp' ? 0 : form.name.startsWith('AND') || form.name.startsWith('OR') || form.name.startsWith('XOR') ||
      form.name.startsWith('UNPCK') || form.name.startsWith('MOVMSK') ? 20 * SCALE : 110 * SCALE;
    for (let k = 0; k < n; k++) cases.push(makeCase(g, form, form.imm === 'shuf' ? g.r.byte() : undefined));
    if (form.imm === 'cmp') {
      for (let p = 0; p < 8; p++) for (let k = 0; k < 28 * SCALE; k++) cases.push(makeCase(g, form, p | (k === 0 ? 0x08 : 0)));
    }
  }
  return cases.concat(edgeCases(g));
}

/** Every pair of special operands through the scalar forms, under a few MXCSR settings. */
function edgeCases(g: Gen): Case[] {
  const E32 = [0, 0x80000000, 1, 0x807fffff, 0x00800000, 0x00800001, 0x3f800000, 0xbf800000, 0x7f7fffff, 0x7f800000, 0xff800000, 0x7fc01234, 0xff800001].map(u32);
  const E64: [number, number][] = [[0, 0], [0, 0x80000000], [1, 0], [0xffffffff, 0x800fffff], [0, 0x00100000], [1, 0x00100000], [0, 0x3ff00000], [0, 0xbff00000],
    [0xffffffff, 0x7fefffff], [0, 0x7ff00000], [0, 0xfff00000], [0x1234, 0x7ff80000], [1, 0xfff00000]];
  // Default; DAZ+FTZ; everything unmasked; round toward zero; FTZ alone; FTZ with UM unmasked.
  const MXCSRS = [0x1f80, 0x1f80 | 0x8040, 0x0000, 0x1f80 | 0x6000, 0x9f80, 0x9780];
  const scalar = FORMS.filter((f) => /^(ADD|SUB|MUL|DIV|MIN|MAX|SQRT|CMP)S[SD]$|^U?COMIS[SD]$|^CVTS[SD]2S[SD]$|^CVTT?S[SD]2SI$/.test(f.name));
  const out: Case[] = [];
  for (const form of scalar) {
    const f64 = form.src === 'f64';
    const n = f64 ? E64.length : E32.length;
    const lanes = (k: number): number[] => (f64 ? [...E64[k], 0x11111111, 0x22222222] : [E32[k], 0x11111111, 0x22222222, 0x33333333]);
    // Unary forms (SQRT, conversions): the destination's value does not matter.
    const unary = form.name.startsWith('SQRT') || form.name.startsWith('CVT');
    const filler = [0x44444444, 0x55555555, 0x66666666, 0x77777777];
    for (const mxcsr of MXCSRS) {
      for (let a = 0; a < (unary ? 1 : n); a++) {
        for (let b = 0; b < n; b++) {
          const x1 = unary ? filler : lanes(a);
          for (const imm of form.imm === 'cmp' ? [1, 3] : [undefined]) out.push(makeCase(g, form, imm, { x1, x2: lanes(b), mxcsr }));
        }
      }
    }
  }
  return out;
}

// ---- Running --------------------------------------------------------------------------------------

interface Outcome { fault: number; mxcsr: number; flags: number; x1: number[]; x9: number[]; rax: bigint }

const lanesHex = (l: number[]): string => l.map((v) => hex(v)).join('.');

function caseLine(c: Case): string {
  return `${c.bytes.map((b) => hex(b, 2)).join('')} ${hex(c.mxcsr)} ${hex(c.flags)} ${lanesHex(c.x1)} ${lanesHex(c.x2)} ` +
    `${c.rax.toString(16).padStart(16, '0')} ${c.memOff} ${c.mem.map((b) => hex(b, 2)).join('')}`;
}

function parseOutcome(line: string): Outcome {
  const [f, mx, fl, a, b, rax] = line.trim().split(' ');
  const lanes = (s: string) => s.split('.').map((v) => parseInt(v, 16));
  return { fault: Number(f), mxcsr: parseInt(mx, 16), flags: parseInt(fl, 16), x1: lanes(a), x9: lanes(b), rax: BigInt(`0x${rax}`) };
}

const toBytes = (lanes: number[]): Uint8Array => {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  lanes.forEach((v, k) => dv.setUint32(k * 4, v >>> 0, true));
  return b;
};
const fromBytes = (b: Uint8Array): number[] => {
  const dv = new DataView(b.buffer, b.byteOffset, 16);
  return [0, 1, 2, 3].map((k) => dv.getUint32(k * 4, true));
};

function emulate(run: InsnRunner, c: Case): Outcome {
  run.reset();
  run.setXmm(1, toBytes(c.x1)); run.setXmm(9, toBytes(c.x1));
  run.setXmm(2, toBytes(c.x2)); run.setXmm(10, toBytes(c.x2));
  run.setGpr(0, c.rax);
  run.write(DATA_BASE, Uint8Array.from(c.mem));
  run.setGpr(3, BigInt(DATA_BASE + c.memOff));
  run.setFlags(c.flags);
  run.cpu.st.mxcsr = c.mxcsr;
  const res = run.runBytes(Uint8Array.from(c.bytes), 1);
  return {
    fault: res.fault, mxcsr: run.cpu.st.mxcsr, flags: run.flags() & 0x8d5, x1: fromBytes(run.xmm(1)), x9: fromBytes(run.xmm(9)),
    rax: run.gpr(0),
  };
}

/** RCP/RSQRT lanes: special values exact, finite results within 2^-11 relative. */
function approxEqual(a: number, b: number): boolean {
  if (a === b) return true;
  const fa = new Float32Array(new Uint32Array([a]).buffer)[0], fb = new Float32Array(new Uint32Array([b]).buffer)[0];
  if (!Number.isFinite(fa) || !Number.isFinite(fb) || fa === 0 || fb === 0) return false;
  return Math.abs(fa - fb) <= Math.abs(fb) * 2 ** -11;
}

function same(c: Case, e: Outcome, g: Outcome): boolean {
  if (e.fault !== g.fault || e.mxcsr !== g.mxcsr || e.flags !== g.flags || e.rax !== g.rax) return false;
  if (c.form.approx && e.fault < 0) return e.x1.every((v, k) => approxEqual(v, g.x1[k])) && e.x9.every((v, k) => approxEqual(v, g.x9[k]));
  return lanesHex(e.x1) === lanesHex(g.x1) && lanesHex(e.x9) === lanesHex(g.x9);
}

const fmtOutcome = (o: Outcome): string =>
  `fault=${o.fault} mxcsr=${hex(o.mxcsr, 4)} flags=${hex(o.flags, 3)} xmm1=${lanesHex(o.x1)} xmm9=${lanesHex(o.x9)} rax=${o.rax.toString(16)}`;

// ---- Tests ----------------------------------------------------------------------------------------------

const haveGcc = haveTool('gcc') && process.arch === 'x64';

describe.skipIf(!haveGcc)('SSE floating point vs the host CPU', () => {
  let dir: { dir: string; dispose: () => void };
  let exe = '';
  beforeAll(() => {
    dir = scratchDir('ssefloat');
    writeFileSync(join(dir.dir, 'harness.c'), HARNESS);
    exe = join(dir.dir, 'harness');
    execFileSync('gcc', ['-O1', '-o', exe, join(dir.dir, 'harness.c')], { stdio: ['ignore', 'ignore', 'pipe'] });
  });
  afterAll(() => dir?.dispose());

  it('matches bit for bit (results, MXCSR, RFLAGS, faults)', () => {
    const cases = generate();
    const out = execFileSync(exe, { input: cases.map(caseLine).join('\n') + '\n', maxBuffer: 64 << 20 }).toString().trim().split('\n');
    expect(out.length).toBe(cases.length);
    const run = new InsnRunner(64);
    const bad: string[] = [];
    const perForm = new Map<string, number>();
    for (let k = 0; k < cases.length; k++) {
      const c = cases[k];
      const want = parseOutcome(out[k]);
      const got = emulate(run, c);
      perForm.set(c.form.name, (perForm.get(c.form.name) ?? 0) + 1);
      if (!same(c, want, got)) {
        bad.push(`#${k} ${c.desc}\n    in:   mxcsr=${hex(c.mxcsr, 4)} flags=${hex(c.flags, 3)} x1=${lanesHex(c.x1)} x2=${lanesHex(c.x2)} ` +
          `rax=${c.rax.toString(16)}\n    host: ${fmtOutcome(want)}\n    emu:  ${fmtOutcome(got)}`);
      }
    }
    expect(run.host.unimpl.length).toBe(0);
    console.log(`${cases.length} cases over ${perForm.size} instruction forms, ${bad.length} mismatched`);
    if (bad.length) console.log(`${bad.length} of ${cases.length} mismatched; first ones:\n${bad.slice(0, 40).join('\n')}`);
    expect(bad.length).toBe(0);
    expect(cases.length).toBeGreaterThan(3000);
  });
});

describe('SSE floating point: emulator-only checks', () => {
  it('raises #GP for misaligned packed memory operands and #UD for unmasked exceptions without OSXMMEXCPT', () => {
    const run = new InsnRunner(64);
    run.setGpr(3, BigInt(DATA_BASE + 8));
    expect(run.runBytes(Uint8Array.from([0x0f, 0x58, 0x0b])).fault).toBe(13); // addps xmm1, [rbx+8]
    expect(run.runBytes(Uint8Array.from([0xf3, 0x0f, 0x58, 0x0b])).fault).toBe(-1); // addss: scalar, unaligned ok
    run.reset();
    run.cpu.st.mxcsr = 0x1f80 & ~0x200; // ZM clear
    run.setXmm(1, toBytes([f32bits(1), 0, 0, 0]));
    expect(run.runBytes(Uint8Array.from([0xf3, 0x0f, 0x5e, 0xca])).fault).toBe(19); // divss xmm1, xmm2 (1/0)
    expect(run.cpu.st.mxcsr & 0x3f).toBe(4);
    expect(fromBytes(run.xmm(1))[0]).toBe(f32bits(1));
    run.cpu.st.cr4 &= ~(1 << 10);
    expect(run.runBytes(Uint8Array.from([0xf3, 0x0f, 0x5e, 0xca])).fault).toBe(6);
  });
});

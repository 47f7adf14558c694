/*
 * cpu-mix.c - CPU-bound, self-checking workload covering many instruction
 * forms gcc -O2 emits: 64/32/16/8-bit ALU, shifts and rotates, signed and
 * unsigned mul/div, 128-bit arithmetic, bit operations, SETcc/CMOVcc,
 * string instructions, struct copies, jump tables, recursion, indirect
 * calls, locked atomics and (with SSE) vectorized loops and scalar FP.
 *
 * Every test returns a 64-bit digest. The expected digests come from the
 * same file compiled for and run on the host CPU (`make expected` writes
 * examples/cpu-mix-expected.h; `make check-expected` verifies it). The
 * code avoids undefined behaviour so that any compiler flags give the same
 * digests. A few tests also cross-check two independent computations.
 *
 * Built twice: cpu-mix.elf (SSE allowed) and cpu-mix-gpr.elf
 * (-mgeneral-regs-only: no SSE/x87 at all; the FP test is skipped).
 */
#ifdef HOST_BUILD
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <stdbool.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;
#define __noinline __attribute__((noinline))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#else
#include "vsmrr.h"
#endif

/* Read through a volatile so gcc cannot fold the workloads at compile time. */
static volatile u64 seed_source = 0x0123456789abcdefull;
/* Set by tests whose two independent computations disagree. */
static int cross_check_failures;

#define CROSS_CHECK(cond) do { if (!(cond)) cross_check_failures++; } while (0)

static u64 lcg(u64 *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s ^ (*s >> 29);
}

/* FNV-1a over bytes: digest for buffers. */
static u64 fnv(const void *p, size_t n, u64 h)
{
	const u8 *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static u64 mix(u64 h, u64 v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h;
}

/* ---- integer ALU ---- */

static __noinline u64 t_arith64(void)
{
	u64 s = seed_source, acc = 1;

	for (u64 i = 0; i < 4000; i++) {
		u64 y = lcg(&s);
		acc += y;
		acc ^= acc << 7;
		acc -= y & 0xff00ff00ff00ffull;
		acc |= y >> 60;
		acc &= ~(y << 3) | 0xffff;
		acc = acc * 31 + i;
		acc += -y;
		acc = ~acc + (acc >> 33);
	}
	return acc;
}

static __noinline u64 t_arith32(void)
{
	u32 a = (u32)seed_source, acc32 = 7;
	u64 acc64 = 0;

	for (int i = 0; i < 4000; i++) {
		a = a * 1664525u + 1013904223u;
		s32 s = (s32)(a ^ (a >> 16));
		acc32 += (u32)s;
		acc32 ^= (u32)(s >> 3);         /* arithmetic shift */
		acc32 = acc32 * 9 - (a >> 5);
		acc64 += (u64)(s64)s;           /* sign extension */
		acc64 += a;                     /* zero extension */
		acc64 ^= (u64)(s64)(s8)a << 8;  /* byte sign extension */
		acc64 += (u16)(a >> 3);
		acc64 -= (u64)(s64)(s16)(a >> 7);
	}
	return acc64 ^ ((u64)acc32 << 32);
}

static __noinline u64 t_bytes(void)
{
	u8 b = (u8)seed_source, c = 3;
	u16 w = (u16)(seed_source >> 8);
	u64 h = 0;

	for (int i = 0; i < 3000; i++) {
		b = (u8)(b * 13 + 7);
		c ^= (u8)(b << 1);
		c = (u8)(c + (b >> 3));
		w = (u16)(w * 31 + b);
		w ^= (u16)(w >> 5);
		s8 sb = (s8)b;
		s16 sw = (s16)w;
		h = mix(h, (u64)(s64)sb + (u64)(s64)sw + c);
		h += (b > 128) + (sb < -5) + (sw > 1000) + (w < 3000);
	}
	return h;
}

/* ---- shifts and rotates ---- */

static inline u64 rotl64(u64 x, unsigned r) { return (x << (r & 63)) | (x >> ((64 - r) & 63)); }
static inline u32 rotr32(u32 x, unsigned r) { return (x >> (r & 31)) | (x << ((32 - r) & 31)); }

static __noinline u64 t_shift_rotate(void)
{
	u64 s = seed_source, h = 0;

	for (int i = 0; i < 3000; i++) {
		u64 x = lcg(&s);
		unsigned n = (unsigned)(x >> 58);       /* 0..63 */
		s64 sx = (s64)x;

		h = mix(h, x << n);
		h = mix(h, x >> (63 - n));
		h = mix(h, (u64)(sx >> n));             /* sar */
		h = mix(h, rotl64(x, n));
		h = mix(h, rotr32((u32)x, n));
		h = mix(h, rotl64(x, 13) ^ rotl64(x, 51));
		h = mix(h, (u32)x << (n & 31));
		h = mix(h, (u64)((s32)x >> (n & 31)));
		/* double-precision shifts (SHLD/SHRD) through 128-bit values */
		unsigned __int128 w = ((unsigned __int128)h << 64) | x;
		h = mix(h, (u64)(w >> (n | 1)));
		h = mix(h, (u64)((w << (n | 1)) >> 64));
		CROSS_CHECK(rotl64(rotl64(x, n), 64 - n) == x);
	}
	return h;
}

/* ---- multiply and divide ---- */

static __noinline u64 t_muldiv(void)
{
	u64 s = seed_source, h = 0;

	for (int i = 0; i < 2000; i++) {
		u64 a = lcg(&s), b = lcg(&s) >> (i & 31);
		u64 d = b ? b : 1;
		u64 q = a / d, r = a % d;
		CROSS_CHECK(q * d + r == a && r < d);
		h = mix(h, q);
		h = mix(h, r);

		u32 a32 = (u32)a, d32 = (u32)(b >> 7) | 1;
		h = mix(h, a32 / d32);
		h = mix(h, a32 % d32);

		s64 sa = (s64)(a >> 2) - (1ll << 61);   /* never INT64_MIN */
		s64 sd = (s64)(b % 2001) - 1000;
		if (!sd)
			sd = 7;
		s64 sq = sa / sd, sr = sa % sd;
		CROSS_CHECK(sq * sd + sr == sa);
		h = mix(h, (u64)sq);
		h = mix(h, (u64)sr);
		s32 sa32 = (s32)(a >> 33) - (1 << 30);
		h = mix(h, (u64)(s64)(sa32 / (s32)sd));
		h = mix(h, (u64)(s64)(sa32 % (s32)sd));

		/* division by constants (multiply by reciprocal) */
		h = mix(h, a / 10 + a % 7 + a / 1000003);
		h = mix(h, (u64)(sa / 3 + sa % 10));
		h = mix(h, a32 / 5 + a32 % 12);

		/* 64x64 -> 128 multiplies (MUL/IMUL one-operand forms) */
		unsigned __int128 p = (unsigned __int128)a * b;
		__int128 sp = (__int128)sa * sd;
		h = mix(h, (u64)(p >> 64));
		h = mix(h, (u64)p);
		h = mix(h, (u64)((unsigned __int128)sp >> 64));
		h = mix(h, a * 0x5851f42d4c957f2dull);
		h = mix(h, (u64)((s64)a32 * (s64)sa32));
	}
	return h;
}

static __noinline u64 t_int128(void)
{
	unsigned __int128 acc = 1, x = seed_source;
	u64 s = seed_source;

	for (int i = 0; i < 2000; i++) {
		unsigned __int128 y = ((unsigned __int128)lcg(&s) << 64) | lcg(&s);
		acc += y;                       /* ADD/ADC */
		acc -= x >> 3;                  /* SUB/SBB */
		x ^= acc * 3;                   /* MUL + IMUL + ADD */
		acc = (acc << 1) | (acc >> 127);
		if (acc < x)                    /* 128-bit compare */
			acc += 1;
	}
	return (u64)acc ^ (u64)(acc >> 64) ^ (u64)x;
}

/* ---- bit operations ---- */

static int popcount_loop(u64 x)
{
	int n = 0;

	for (int i = 0; i < 64; i++)
		n += (x >> i) & 1;
	return n;
}

static __noinline u64 t_bitops(void)
{
	u64 s = seed_source, h = 0;
	u64 bitmap[16] = { 0 };

	for (int i = 0; i < 3000; i++) {
		u64 x = lcg(&s), nz = x | 1;
		int pc = __builtin_popcountll(x);

		CROSS_CHECK(pc == popcount_loop(x));
		h = mix(h, pc);
		h = mix(h, __builtin_popcount((u32)x));
		h = mix(h, __builtin_clzll(nz) + 64 * __builtin_ctzll(x | (1ull << 63)));
		h = mix(h, __builtin_clz((u32)nz) + 32 * __builtin_ctz((u32)x | 0x80000000u));
		h = mix(h, __builtin_bswap64(x));
		h = mix(h, __builtin_bswap32((u32)x));
		h = mix(h, __builtin_bswap16((u16)x));
		h = mix(h, __builtin_parityll(x) + 2 * __builtin_parity((u32)x >> 3));
		h = mix(h, __builtin_ffsll(x >> 40));

		unsigned bit = x & 1023;
		bitmap[bit / 64] ^= 1ull << (bit % 64);         /* BTC */
		bitmap[(bit * 7) % 16] |= 1ull << (x >> 58);    /* BTS */
		bitmap[(bit * 3) % 16] &= ~(1ull << ((x >> 20) & 63)); /* BTR */
		h += (bitmap[(x >> 30) & 15] >> ((x >> 10) & 63)) & 1; /* BT */
		h = mix(h, x & -x);                             /* lowest set bit */
		h = mix(h, x & (x - 1));
	}
	return fnv(bitmap, sizeof(bitmap), h);
}

/* ---- SETcc / CMOVcc ---- */

static __noinline u64 t_setcc_cmov(void)
{
	u64 s = seed_source, h = 0;
	s64 smin = 0, smax = 0;
	u64 umin = ~0ull, umax = 0;

	for (int i = 0; i < 4000; i++) {
		u64 a = lcg(&s), b = lcg(&s);
		s64 sa = (s64)a, sb = (s64)b;
		s32 ia = (s32)a;

		h = mix(h, (a < b) | (sa < sb) << 1 | (a == b) << 2 | (sa >= sb) << 3 |
			   (a > b) << 4 | (sa <= sb) << 5 | ((a & 0xff) == 0) << 6 |
			   (ia < 0) << 7 | ((u32)a > 0x80000000u) << 8);
		smin = sa < smin ? sa : smin;
		smax = sa > smax ? sa : smax;
		umin = a < umin ? a : umin;
		umax = a > umax ? a : umax;
		s64 m = (s64)(a >> 1) - (s64)(b >> 1);
		h = mix(h, (u64)(m < 0 ? -m : m));              /* abs */
		h = mix(h, sa > sb ? a : b ^ 0x55);
		h = mix(h, (u64)(ia > 100 ? ia : -ia));
		h += (a & 1) ? 3 : 11;
	}
	return mix(mix(h, (u64)smin ^ (u64)smax), umin ^ umax);
}

/* ---- string instructions and memory functions ---- */

static u8 sbuf_a[4096], sbuf_b[4096];

static void rep_movsb(void *d, const void *s, size_t n)
{
	asm volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) :: "memory");
}

static void rep_stosb(void *d, u8 v, size_t n)
{
	asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(v) : "memory");
}

static void rep_movsq(void *d, const void *s, size_t n)
{
	asm volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(n) :: "memory");
}

static void rep_stosq(void *d, u64 v, size_t n)
{
	asm volatile("rep stosq" : "+D"(d), "+c"(n) : "a"(v) : "memory");
}

/* Backwards copy with DF=1: d and s point at the last byte. */
static void rep_movsb_back(void *d, const void *s, size_t n)
{
	asm volatile("std\n\trep movsb\n\tcld" : "+D"(d), "+S"(s), "+c"(n) :: "memory");
}

/* Index of the first difference (n if none), with REPE CMPSB. */
static size_t repe_cmpsb(const void *a, const void *b, size_t n)
{
	size_t left = n;

	if (!n)
		return 0;
	asm volatile("repe cmpsb" : "+D"(a), "+S"(b), "+c"(left) :: "memory", "cc");
	/* RDI stopped one past the last compared byte. */
	return ((const u8 *)a)[-1] == ((const u8 *)b)[-1] ? n : n - left - 1;
}

/* Length via REPNE SCASB. */
static size_t repne_scasb_len(const char *s)
{
	size_t c = ~(size_t)0;
	const char *p = s;

	asm volatile("repne scasb" : "+D"(p), "+c"(c) : "a"(0) : "memory", "cc");
	return ~c - 1;
}

static __noinline u64 t_string(void)
{
	u64 s = seed_source, h = 0;

	for (size_t i = 0; i < sizeof(sbuf_a); i++)
		sbuf_a[i] = (u8)lcg(&s);

	for (int i = 0; i < 300; i++) {
		u64 r = lcg(&s);
		size_t off = r & 255, off2 = (r >> 8) & 255, len = (r >> 16) & 1023;

		memcpy(sbuf_b + off, sbuf_a + off2, len);
		memset(sbuf_b + ((r >> 26) & 511), (int)(r >> 40), (r >> 32) & 255);
		memmove(sbuf_b + off + 3, sbuf_b + off, len);   /* overlap, backward */
		memmove(sbuf_b + off2, sbuf_b + off2 + 5, len); /* overlap, forward */
		int c = memcmp(sbuf_a + off, sbuf_b + off, len);
		h = mix(h, (u64)(c < 0 ? 1 : c > 0 ? 2 : 3));

		rep_movsb(sbuf_b + off2 + 1024, sbuf_a + off, len);
		CROSS_CHECK(memcmp(sbuf_b + off2 + 1024, sbuf_a + off, len) == 0);
		rep_stosb(sbuf_b + 2048 + off, (u8)r, len);
		rep_movsq(sbuf_b + 3072, sbuf_a + (off & ~7ul), 64);
		rep_stosq(sbuf_b + (off & ~7ul), r, 16);
		rep_movsb_back(sbuf_b + 2048 + off + len, sbuf_b + 2048 + off + len - 2, len);
		size_t d = repe_cmpsb(sbuf_a + off, sbuf_b + off, len);
		size_t d2 = 0;
		while (d2 < len && sbuf_a[off + d2] == sbuf_b[off + d2])
			d2++;
		CROSS_CHECK(d == d2);
		h = mix(h, d);

		char str[300];
		size_t sl = (r >> 48) % 299;
		for (size_t k = 0; k < sl; k++)
			str[k] = (char)('a' + (k * 7 + r) % 26);
		str[sl] = '\0';
		CROSS_CHECK(strlen(str) == sl && repne_scasb_len(str) == sl);
		h = mix(h, strlen(str) + fnv(str, sl, 0));
	}
	return fnv(sbuf_b, sizeof(sbuf_b), h);
}

/* ---- struct copies (SSE moves or REP MOVS / GPR moves) ---- */

struct small { u32 a; u16 b; u8 c, d; u64 e; };             /* 16 bytes */
struct mid { u64 v[5]; };                                   /* 40 bytes */
struct big { u32 id; u8 tag[60]; u64 w[8]; };               /* 128 bytes */

static struct big bigs[32];
static struct mid mids[32];

static __noinline struct big make_big(u64 x)
{
	struct big b;

	b.id = (u32)x;
	for (int i = 0; i < 60; i++)
		b.tag[i] = (u8)(x >> (i % 57));
	for (int i = 0; i < 8; i++)
		b.w[i] = x * (i + 1);
	return b;                       /* returned through memory */
}

static __noinline struct small make_small(u64 x)
{
	return (struct small){ (u32)x, (u16)(x >> 32), (u8)(x >> 48), (u8)(x >> 56), ~x };
}

static __noinline u64 t_struct(void)
{
	u64 s = seed_source, h = 0;

	for (int i = 0; i < 32; i++) {
		bigs[i] = make_big(lcg(&s));
		mids[i] = (struct mid){ { lcg(&s), 1, 2, (u64)i, 4 } };
	}
	for (int i = 0; i < 2000; i++) {
		u64 r = lcg(&s);
		int x = r & 31, y = (r >> 5) & 31;
		struct big t = bigs[x];         /* struct copy */
		bigs[x] = bigs[y];
		t.w[r & 7] += r;
		bigs[y] = t;
		struct mid m = mids[y];
		m.v[(r >> 10) % 5] ^= r;
		mids[x] = m;
		struct small sm = make_small(r);
		h = mix(h, sm.a + sm.b + sm.c + sm.d + sm.e);
	}
	h = fnv(bigs, sizeof(bigs), h);
	return fnv(mids, sizeof(mids), h);
}

/* ---- switch (jump table) ---- */

static __noinline u64 step_switch(u64 x, unsigned k)
{
	switch (k) {
	case 0: return x + 1;
	case 1: return x * 3;
	case 2: return x ^ 0xdeadbeef;
	case 3: return x >> 3;
	case 4: return x << 5;
	case 5: return ~x;
	case 6: return x - 12345;
	case 7: return x | 0x8000;
	case 8: return x & 0xffffffff0fffffffull;
	case 9: return rotl64(x, 17);
	case 10: return x * x;
	case 11: return x + (x >> 7);
	case 12: return x / 3;
	case 13: return x % 1000;
	case 14: return __builtin_bswap64(x);
	case 15: return x - (x << 2);
	default: return x + k;
	}
}

static __noinline u64 t_switch(void)
{
	u64 s = seed_source, x = 1;

	for (int i = 0; i < 20000; i++)
		x = step_switch(x, (unsigned)(lcg(&s) % 18));
	return x;
}

/* ---- recursion ---- */

static __noinline u64 fib(unsigned n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static __noinline u64 ackermann(u64 m, u64 n)
{
	if (m == 0)
		return n + 1;
	if (n == 0)
		return ackermann(m - 1, 1);
	return ackermann(m - 1, ackermann(m, n - 1));
}

static bool is_odd(unsigned n);
static __noinline bool is_even(unsigned n) { return n == 0 ? true : is_odd(n - 1); }
static __noinline bool is_odd(unsigned n) { return n == 0 ? false : is_even(n - 1); }

static void quicksort(u32 *a, int lo, int hi)
{
	while (lo < hi) {
		u32 pivot = a[(lo + hi) / 2];
		int i = lo, j = hi;

		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j) {
				u32 t = a[i];
				a[i++] = a[j];
				a[j--] = t;
			}
		}
		/* recurse into the smaller half, loop on the larger */
		if (j - lo < hi - i) {
			quicksort(a, lo, j);
			lo = i;
		} else {
			quicksort(a, i, hi);
			hi = j;
		}
	}
}

static u32 sort_buf[2000];

static __noinline u64 t_recursion(void)
{
	u64 s = seed_source, h = 0;
	unsigned n = 20 + (unsigned)(seed_source & 1);  /* 21: not foldable */

	h = mix(h, fib(n));
	CROSS_CHECK(fib(21) == 10946);
	h = mix(h, ackermann(2, 300));
	CROSS_CHECK(ackermann(2, 300) == 603);
	h = mix(h, is_even(1001) + 2 * is_odd(777));

	for (size_t i = 0; i < ARRAY_SIZE(sort_buf); i++)
		sort_buf[i] = (u32)lcg(&s);
	quicksort(sort_buf, 0, ARRAY_SIZE(sort_buf) - 1);
	for (size_t i = 1; i < ARRAY_SIZE(sort_buf); i++)
		CROSS_CHECK(sort_buf[i - 1] <= sort_buf[i]);
	return fnv(sort_buf, sizeof(sort_buf), h);
}

/* ---- indirect calls ---- */

static __noinline u64 op_add(u64 a, u64 b) { return a + b; }
static __noinline u64 op_sub(u64 a, u64 b) { return a - b; }
static __noinline u64 op_xor(u64 a, u64 b) { return a ^ b; }
static __noinline u64 op_mul(u64 a, u64 b) { return a * (b | 1); }
static __noinline u64 op_rot(u64 a, u64 b) { return rotl64(a, b & 63); }
static __noinline u64 op_div(u64 a, u64 b) { return a / ((b >> 40) | 1); }
static __noinline u64 op_min(u64 a, u64 b) { return a < b ? a : b; }
static __noinline u64 op_mix(u64 a, u64 b) { return mix(a, b); }

static u64 (*const ops[8])(u64, u64) = {
	op_add, op_sub, op_xor, op_mul, op_rot, op_div, op_min, op_mix,
};

static __noinline u64 t_funcptr(void)
{
	u64 s = seed_source, x = 42;
	u64 (*volatile chosen)(u64, u64);

	for (int i = 0; i < 10000; i++) {
		u64 r = lcg(&s);
		chosen = ops[r & 7];
		x = chosen(x, r);
	}
	return x;
}

/* ---- locked read-modify-write instructions ---- */

static __noinline u64 t_atomic(void)
{
	u64 s = seed_source, v = 0, h = 0;
	u32 v32 = 0;

	for (int i = 0; i < 3000; i++) {
		u64 r = lcg(&s);
		h = mix(h, __atomic_fetch_add(&v, r, __ATOMIC_SEQ_CST));    /* XADD */
		h = mix(h, __atomic_exchange_n(&v32, (u32)r, __ATOMIC_SEQ_CST)); /* XCHG */
		u64 expect = (r & 1) ? v : r;
		bool ok = __atomic_compare_exchange_n(&v, &expect, r ^ 0x1111,
						      false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		h = mix(h, ok + 2 * expect);                               /* CMPXCHG */
		__atomic_fetch_or(&v32, (u32)(r >> 7), __ATOMIC_SEQ_CST);   /* LOCK OR */
		__atomic_fetch_and(&v, ~(r << 3), __ATOMIC_SEQ_CST);        /* LOCK AND */
		h += __atomic_sub_fetch(&v32, 3, __ATOMIC_SEQ_CST) == 0;     /* LOCK SUB */
	}
	return mix(h, v ^ v32);
}

/* ---- array loops (vectorized when SSE is allowed) ---- */

static u32 va[1024], vb[1024], vc[1024];
static u16 vs[1024];

static __noinline u64 t_arrays(void)
{
	u64 s = seed_source, h = 0;

	for (int i = 0; i < 1024; i++) {
		va[i] = (u32)lcg(&s);
		vb[i] = (u32)lcg(&s);
		vs[i] = (u16)lcg(&s);
	}
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 1024; i++)
			vc[i] = va[i] * 3 + (vb[i] ^ (va[i] >> 2));
		for (int i = 0; i < 1024; i++)
			va[i] = vc[i] > vb[i] ? vc[i] - vb[i] : vb[i] - vc[i];
		for (int i = 0; i < 1024; i++)
			vs[i] = (u16)(vs[i] + (u16)va[i]) >> 1;
		u64 sum = 0;
		u32 mx = 0;
		for (int i = 0; i < 1024; i++) {
			sum += vc[i];
			mx = va[i] > mx ? va[i] : mx;
		}
		h = mix(h, sum + mx);
	}
	h = fnv(va, sizeof(va), h);
	return fnv(vs, sizeof(vs), h);
}

/* ---- scalar floating point (SSE2); not in the -mgeneral-regs-only build ---- */

#ifdef __SSE2__
static __noinline double newton_sqrt(double x)
{
	double r = x > 1 ? x / 2 : 1;

	for (int i = 0; i < 60; i++)
		r = 0.5 * (r + x / r);
	return r;
}

static __noinline u64 t_float(void)
{
	u64 s = seed_source, h = 0;
	double harmonic = 0, prod = 1;
	float f = 1.5f;

	for (int i = 1; i <= 2000; i++) {
		harmonic += 1.0 / i;
		prod *= 1.0 + 1.0 / (i * 8.0);
		f = f * 1.001f + 0.25f;
	}
	for (int i = 0; i < 200; i++) {
		u64 r = lcg(&s);
		double x = (double)(r >> 11) / 9007199254740992.0 * 1e6;    /* [0, 1e6) */
		double q = newton_sqrt(x);
		s64 t = (s64)(q * 1000.0);                                  /* CVTTSD2SI */
		h = mix(h, (u64)t);
		h = mix(h, (u64)(s64)((double)(s64)r / 3.0));               /* CVTSI2SD */
		h = mix(h, (u64)(s32)(float)(s32)r);
		h = mix(h, x < q ? 1 : x == q ? 2 : 3);                     /* UCOMISD */
	}
	u64 bits;
	memcpy(&bits, &harmonic, 8);
	h = mix(h, bits);
	memcpy(&bits, &prod, 8);
	h = mix(h, bits);
	u32 fbits;
	memcpy(&fbits, &f, 4);
	return mix(h, fbits);
}
#endif

struct test {
	const char *name;
	u64 (*fn)(void);
};

static const struct test tests[] = {
	{ "arith64", t_arith64 },
	{ "arith32", t_arith32 },
	{ "bytes", t_bytes },
	{ "shift_rotate", t_shift_rotate },
	{ "muldiv", t_muldiv },
	{ "int128", t_int128 },
	{ "bitops", t_bitops },
	{ "setcc_cmov", t_setcc_cmov },
	{ "string", t_string },
	{ "struct", t_struct },
	{ "switch", t_switch },
	{ "recursion", t_recursion },
	{ "funcptr", t_funcptr },
	{ "atomic", t_atomic },
	{ "arrays", t_arrays },
#ifdef __SSE2__
	{ "float", t_float },
#endif
};

#ifdef HOST_BUILD

/* Print the expected-results header. */
int main(void)
{
	printf("/* Generated by `make expected` from examples/cpu-mix.c run on the host CPU.\n"
	       " * Do not edit; regenerate after changing cpu-mix.c. */\n"
	       "static const struct { const char *name; unsigned long long value; } expected[] = {\n");
	for (size_t i = 0; i < ARRAY_SIZE(tests); i++)
		printf("\t{ \"%s\", 0x%016llxull },\n", tests[i].name,
		       (unsigned long long)tests[i].fn());
	printf("};\n");
	if (cross_check_failures) {
		fprintf(stderr, "cpu-mix: %d cross-check failures on the host\n",
			cross_check_failures);
		return 1;
	}
	return 0;
}

#else

#include "cpu-mix-expected.h"

int main(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(tests); i++) {
		u64 got = tests[i].fn(), want = 0;
		bool found = false;

		for (size_t j = 0; j < ARRAY_SIZE(expected); j++) {
			if (!strcmp(expected[j].name, tests[i].name)) {
				want = expected[j].value;
				found = true;
			}
		}
		if (!found)
			report(false, "%s: no expected value (run make expected)", tests[i].name);
		else if (!report(got == want, "%s = %016lx", tests[i].name, got))
			printf("  expected %016lx\n", want);
	}
#ifndef __SSE2__
	report_skip("float: built with -mgeneral-regs-only");
#endif
	report(cross_check_failures == 0, "internal cross-checks (%d failed)",
	       cross_check_failures);
	return report_summary();
}

#endif

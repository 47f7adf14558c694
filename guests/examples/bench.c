/*
 * bench.c - CPU-bound benchmark: table-driven CRC32, quicksort of 64K
 * ints, 64x64 integer matrix multiply and string work, repeated `iters`
 * times (command line "iters=N"). Prints a checksum that depends on every
 * result; "expect=0x..." on the command line makes it a pass/fail check.
 *
 * The same file builds as a host program (make host; build/host/bench N)
 * that prints the checksum for N iterations, and is the base for the
 * instruction count estimate in the README.
 */
#ifdef HOST_BUILD
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdbool.h>
typedef uint8_t u8;
typedef uint32_t u32;
typedef uint64_t u64;
#define __noinline __attribute__((noinline))
#else
#include "vsmrr.h"
#endif

#define DEFAULT_ITERS   20
#define CRC_BYTES       (64 * 1024)
#define SORT_N          (64 * 1024)
#define MAT_N           64
#define STR_N           256

static u32 crc_table[256];
static u8 crc_buf[CRC_BYTES];
static u32 sort_buf[SORT_N];
static u32 mat_a[MAT_N][MAT_N], mat_b[MAT_N][MAT_N], mat_c[MAT_N][MAT_N];
static char strs[STR_N][64];
static bool sane = true;

static u32 lcg32(u64 *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (u32)(*s >> 32);
}

/* ---- CRC32 (IEEE, reflected, polynomial 0xEDB88320) ---- */

static void crc_init(void)
{
	for (u32 i = 0; i < 256; i++) {
		u32 c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static __noinline u32 crc32(const u8 *p, size_t n)
{
	u32 c = 0xffffffffu;

	while (n--)
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

/* ---- quicksort ---- */

static void qsort_u32(u32 *a, long lo, long hi)
{
	while (hi - lo > 16) {
		u32 pivot = a[lo + (hi - lo) / 2];
		long i = lo, j = hi;

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
		if (j - lo < hi - i) {
			qsort_u32(a, lo, j);
			lo = i;
		} else {
			qsort_u32(a, i, hi);
			hi = j;
		}
	}
	for (long i = lo + 1; i <= hi; i++) {     /* insertion sort for the rest */
		u32 v = a[i];
		long j = i - 1;
		while (j >= lo && a[j] > v) {
			a[j + 1] = a[j];
			j--;
		}
		a[j + 1] = v;
	}
}

static __noinline u64 bench_sort(u64 seed)
{
	u64 s = seed, sum = 0;

	for (long i = 0; i < SORT_N; i++)
		sort_buf[i] = lcg32(&s);
	qsort_u32(sort_buf, 0, SORT_N - 1);
	for (long i = 1; i < SORT_N; i++)
		if (sort_buf[i - 1] > sort_buf[i])
			sane = false;
	for (long i = 0; i < SORT_N; i += 97)
		sum = sum * 31 + sort_buf[i];
	return sum;
}

/* ---- matrix multiply ---- */

static __noinline void matmul(u32 c[MAT_N][MAT_N], u32 a[MAT_N][MAT_N], u32 b[MAT_N][MAT_N])
{
	for (int i = 0; i < MAT_N; i++) {
		for (int j = 0; j < MAT_N; j++)
			c[i][j] = 0;
		for (int k = 0; k < MAT_N; k++) {
			u32 aik = a[i][k];
			for (int j = 0; j < MAT_N; j++)
				c[i][j] += aik * b[k][j];
		}
	}
}

static __noinline u64 bench_matrix(u64 seed)
{
	u64 s = seed, sum = 0;

	for (int i = 0; i < MAT_N; i++)
		for (int j = 0; j < MAT_N; j++) {
			mat_a[i][j] = lcg32(&s) & 0xffff;
			mat_b[i][j] = lcg32(&s) & 0xffff;
		}
	matmul(mat_c, mat_a, mat_b);
	for (int i = 0; i < MAT_N; i++)
		for (int j = 0; j < MAT_N; j++)
			sum = sum * 33 + mat_c[i][j];
	return sum;
}

/* ---- strings ---- */

static __noinline u64 bench_strings(u64 seed)
{
	u64 s = seed, sum = 0;
	char tmp[64];

	for (int i = 0; i < STR_N; i++) {
		u32 len = 8 + lcg32(&s) % 48;
		for (u32 k = 0; k < len; k++)
			strs[i][k] = (char)('a' + lcg32(&s) % 4);  /* many shared prefixes */
		strs[i][len] = '\0';
	}
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < STR_N; i++) {
			size_t li = strlen(strs[i]);
			for (int j = i + 1; j < STR_N; j += 7) {
				size_t lj = strlen(strs[j]);
				int c = memcmp(strs[i], strs[j], li < lj ? li : lj);
				sum = sum * 3 + (u64)(c < 0 ? 1 : c > 0 ? 2 : 0) + li;
			}
			memcpy(tmp, strs[i], li + 1);
			memcpy(strs[i], strs[(i + 1) % STR_N], strlen(strs[(i + 1) % STR_N]) + 1);
			memcpy(strs[(i + 1) % STR_N], tmp, li + 1);
		}
	}
	return sum;
}

static u64 run(unsigned long iters, u64 parts[4])
{
	u64 total = 0;

	crc_init();
	for (unsigned long it = 0; it < iters; it++) {
		u64 seed = 0x5eed0000ull + it, s = seed;
		for (size_t i = 0; i < CRC_BYTES; i += 4) {
			u32 v = lcg32(&s);
			memcpy(crc_buf + i, &v, 4);
		}
		for (int pass = 0; pass < 4; pass++)
			parts[0] += crc32(crc_buf + pass, CRC_BYTES - pass);
		parts[1] += bench_sort(seed);
		parts[2] += bench_matrix(seed);
		parts[3] += bench_strings(seed);
	}
	for (int i = 0; i < 4; i++)
		total = total * 0x100000001b3ull ^ parts[i];
	return total;
}

/* Known answers, so a broken emulator cannot just produce "a" checksum. */
static void self_test(void)
{
	/* CRC-32 check value of "123456789" */
	crc_init();
	if (crc32((const u8 *)"123456789", 9) != 0xcbf43926u)
		sane = false;
	/* A * I == A */
	u64 s = 1;
	for (int i = 0; i < MAT_N; i++)
		for (int j = 0; j < MAT_N; j++) {
			mat_a[i][j] = lcg32(&s);
			mat_b[i][j] = i == j;
		}
	matmul(mat_c, mat_a, mat_b);
	if (memcmp(mat_c, mat_a, sizeof(mat_a)))
		sane = false;
}

#ifdef HOST_BUILD

int main(int argc, char **argv)
{
	unsigned long iters = argc > 1 ? strtoul(argv[1], NULL, 0) : DEFAULT_ITERS;
	u64 parts[4] = { 0 }, sum;

	self_test();
	sum = run(iters, parts);
	printf("bench: iters=%lu crc=%016llx sort=%016llx matrix=%016llx strings=%016llx\n",
	       iters, (unsigned long long)parts[0], (unsigned long long)parts[1],
	       (unsigned long long)parts[2], (unsigned long long)parts[3]);
	printf("bench: checksum=%016llx%s\n", (unsigned long long)sum, sane ? "" : " (self-test FAILED)");
	return sane ? 0 : 1;
}

#else

int main(void)
{
	unsigned long iters = cmdline_ulong("iters", DEFAULT_ITERS);
	u64 parts[4] = { 0 }, sum, start, cycles;
	char expect[32];

	self_test();
	report(sane, "self-test: CRC-32 check value and A * I == A");
	printf("bench: iters=%lu\n", iters);
	start = rdtsc();
	sum = run(iters, parts);
	cycles = rdtsc() - start;
	printf("bench: iters=%lu crc=%016lx sort=%016lx matrix=%016lx strings=%016lx\n",
	       iters, parts[0], parts[1], parts[2], parts[3]);
	printf("bench: checksum=%016lx\n", sum);
	printf("bench: TSC cycles %lu\n", cycles);
	report(sane, "sorted output and self-tests still hold after the run");
	if (cmdline_str("expect", expect, sizeof(expect)))
		report(sum == strtoul(expect, NULL, 16), "checksum matches expect=%s", expect);
	return report_summary();
}

#endif

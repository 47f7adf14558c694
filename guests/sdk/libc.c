/*
 * libc.c - memory and string functions. Compiled like the rest (so gcc may
 * vectorize the loops with SSE) but with -fno-tree-loop-distribute-patterns
 * (see the Makefile): otherwise gcc turns the loops below into calls to
 * memcpy/memset themselves.
 */
#include "libc.h"

/* A u64 that may alias anything and may be unaligned. */
typedef u64 __attribute__((may_alias, aligned(1))) u64_any;

void *memcpy(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;

	for (; n >= 8; n -= 8, d += 8, s += 8)
		*(u64_any *)d = *(const u64_any *)s;
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;

	if (d <= s || d >= s + n) {
		while (n--)
			*d++ = *s++;
	} else {
		while (n--)
			d[n] = s[n];
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	u8 *d = dst;
	u64 pattern = 0x0101010101010101ull * (u8)c;

	for (; n >= 8; n -= 8, d += 8)
		*(u64_any *)d = pattern;
	while (n--)
		*d++ = (u8)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (u8)*a - (u8)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (u8)*a - (u8)*b;
		if (!*a)
			break;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

char *strstr(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);

	for (; *haystack; haystack++)
		if (!strncmp(haystack, needle, n))
			return (char *)haystack;
	return n ? NULL : (char *)haystack;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/* base 0: "0x" prefix means 16, leading "0" means 8, else 10. */
unsigned long strtoul(const char *s, char **end, int base)
{
	unsigned long v = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
	} else if (base == 0) {
		base = s[0] == '0' ? 8 : 10;
	}
	while (digit_value(*s) < base)
		v = v * base + digit_value(*s++);
	if (end)
		*end = (char *)s;
	return v;
}

long strtol(const char *s, char **end, int base)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '-')
		return -(long)strtoul(s + 1, end, base);
	if (*s == '+')
		s++;
	return (long)strtoul(s, end, base);
}

/*
 * Compiler support routines. Without -mpopcnt, gcc implements
 * __builtin_popcount* with calls to these (normally found in libgcc,
 * which we do not link: it is built with the red zone).
 */
int __popcountdi2(u64 x);
int __popcountsi2(u32 x);

int __popcountdi2(u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (int)((x * 0x0101010101010101ull) >> 56);
}

int __popcountsi2(u32 x)
{
	return __popcountdi2(x);
}

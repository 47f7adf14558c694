/*
 * report.c - PASS/FAIL bookkeeping. Counters are atomic because several
 * CPUs may report at the same time; each line is one printf() call so it
 * is never interleaved with another CPU's output.
 */
#include "report.h"
#include "libc.h"
#include "layout.h"

static int passed, failed, skipped;

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	printf("%s: %s\n", prefix, msg);
}

bool report(bool cond, const char *fmt, ...)
{
	va_list ap;

	__atomic_add_fetch(cond ? &passed : &failed, 1, __ATOMIC_RELAXED);
	va_start(ap, fmt);
	vreport(cond ? "PASS" : "FAIL", fmt, ap);
	va_end(ap);
	return cond;
}

void report_skip(const char *fmt, ...)
{
	va_list ap;

	__atomic_add_fetch(&skipped, 1, __ATOMIC_RELAXED);
	va_start(ap, fmt);
	vreport("SKIP", fmt, ap);
	va_end(ap);
}

void report_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("INFO", fmt, ap);
	va_end(ap);
}

int report_failures(void)
{
	return __atomic_load_n(&failed, __ATOMIC_RELAXED);
}

int report_summary(void)
{
	int p = __atomic_load_n(&passed, __ATOMIC_RELAXED);
	int f = report_failures();
	int s = __atomic_load_n(&skipped, __ATOMIC_RELAXED);

	if (s)
		printf("SUMMARY: %d passed, %d failed, %d skipped\n", p, f, s);
	else
		printf("SUMMARY: %d passed, %d failed\n", p, f);
	return f ? EXIT_FAIL : EXIT_PASS;
}

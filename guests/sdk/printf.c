/*
 * printf.c - formatted output. One formatter (format()) feeds either a
 * buffer (vsnprintf) or the serial port (vprintf).
 */
#include "libc.h"
#include "serial.h"
#include "desc.h"
#include "x86.h"

struct sink {
	char *buf;              /* NULL: write to the serial port */
	size_t size;
	size_t len;             /* characters produced so far */
};

static void emit(struct sink *o, char c)
{
	if (!o->buf)
		serial_putc(c);
	else if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void emit_padding(struct sink *o, char c, int n)
{
	while (n-- > 0)
		emit(o, c);
}

struct spec {
	bool left;              /* '-' */
	bool zero;              /* '0' */
	bool plus;              /* '+' */
	int width;
	int precision;          /* -1: none */
};

static void emit_string(struct sink *o, const char *s, struct spec *sp)
{
	int n = 0;

	if (!s)
		s = "(null)";
	while (s[n] && (sp->precision < 0 || n < sp->precision))
		n++;
	if (!sp->left)
		emit_padding(o, ' ', sp->width - n);
	for (int i = 0; i < n; i++)
		emit(o, s[i]);
	if (sp->left)
		emit_padding(o, ' ', sp->width - n);
}

static void emit_number(struct sink *o, u64 v, bool negative, int base,
			bool upper, const char *prefix, struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, plen = 0, len;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	while (n < sp->precision)
		tmp[n++] = '0';
	if (negative)
		prefix = "-";
	else if (sp->plus && base == 10)
		prefix = "+";
	if (prefix)
		plen = strlen(prefix);
	len = n + plen;

	if (!sp->left && !sp->zero)
		emit_padding(o, ' ', sp->width - len);
	for (int i = 0; i < plen; i++)
		emit(o, prefix[i]);
	if (!sp->left && sp->zero)
		emit_padding(o, '0', sp->width - len);
	while (n)
		emit(o, tmp[--n]);
	if (sp->left)
		emit_padding(o, ' ', sp->width - len);
}

static void format(struct sink *o, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		struct spec sp = { .precision = -1 };
		int lng = 0;            /* number of 'l' (z and j count as 2) */
		int shrt = 0;           /* number of 'h' */

		if (*fmt != '%') {
			emit(o, *fmt);
			continue;
		}
		for (;;) {
			char f = *++fmt;
			if (f == '-')
				sp.left = true;
			else if (f == '0')
				sp.zero = true;
			else if (f == '+')
				sp.plus = true;
			else
				break;
		}
		if (*fmt == '*') {
			sp.width = va_arg(ap, int);
			if (sp.width < 0) {
				sp.left = true;
				sp.width = -sp.width;
			}
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			sp.width = sp.width * 10 + (*fmt++ - '0');
		if (*fmt == '.') {
			sp.precision = 0;
			if (*++fmt == '*') {
				sp.precision = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				sp.precision = sp.precision * 10 + (*fmt++ - '0');
		}
		for (;; fmt++) {
			if (*fmt == 'l')
				lng++;
			else if (*fmt == 'z' || *fmt == 'j')
				lng = 2;
			else if (*fmt == 'h')
				shrt++;
			else
				break;
		}

		switch (*fmt) {
		case 'd':
		case 'i': {
			s64 v = lng ? va_arg(ap, long) : va_arg(ap, int);
			if (shrt == 1)
				v = (short)v;
			else if (shrt >= 2)
				v = (signed char)v;
			emit_number(o, v < 0 ? -(u64)v : (u64)v, v < 0, 10, false, NULL, &sp);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o': {
			u64 v = lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
			int base = *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16;
			if (shrt == 1)
				v = (unsigned short)v;
			else if (shrt >= 2)
				v = (unsigned char)v;
			emit_number(o, v, false, base, *fmt == 'X', NULL, &sp);
			break;
		}
		case 'p':
			emit_number(o, (u64)va_arg(ap, void *), false, 16, false, "0x", &sp);
			break;
		case 's':
			emit_string(o, va_arg(ap, const char *), &sp);
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);
			if (!sp.left)
				emit_padding(o, ' ', sp.width - 1);
			emit(o, c);
			if (sp.left)
				emit_padding(o, ' ', sp.width - 1);
			break;
		}
		case '%':
			emit(o, '%');
			break;
		case '\0':
			return;
		default:                /* unknown: print it literally */
			emit(o, '%');
			emit(o, *fmt);
			break;
		}
	}
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	static char dummy;
	struct sink o = { .buf = size ? buf : &dummy, .size = size };

	format(&o, fmt, ap);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/*
 * Console lock: keeps one printf() call's output together when several
 * CPUs print. It records the owner CPU so that an exception handler that
 * prints while its CPU already holds the lock does not deadlock.
 */
static volatile int console_owner = -1;
static int console_depth;

static u64 console_lock(void)
{
	u64 flags = irq_save();
	int me = smp_id();

	if (console_owner != me) {
		while (!__atomic_compare_exchange_n(&console_owner, &(int){ -1 }, me,
						    false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			pause();
	}
	console_depth++;
	return flags;
}

static void console_unlock(u64 flags)
{
	if (--console_depth == 0)
		__atomic_store_n(&console_owner, -1, __ATOMIC_RELEASE);
	irq_restore(flags);
}

int vprintf(const char *fmt, va_list ap)
{
	struct sink o = { 0 };
	u64 flags = console_lock();

	format(&o, fmt, ap);
	console_unlock(flags);
	return (int)o.len;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int puts(const char *s)
{
	return printf("%s\n", s);
}

int putchar(int c)
{
	printf("%c", c);
	return (u8)c;
}

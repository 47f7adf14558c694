/*
 * libc.h - the small subset of a C library the guests need: memory and
 * string functions, formatted output to COM1, and exit().
 */
#ifndef VSMRR_LIBC_H
#define VSMRR_LIBC_H

#include "types.h"

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strstr(const char *haystack, const char *needle);
unsigned long strtoul(const char *s, char **end, int base);
long strtol(const char *s, char **end, int base);

/* Formatting: %d %i %u %x %X %o %p %s %c %%, flags '-' '0', a width
 * (also '*'), a precision for %s, and the length modifiers l ll z h hh. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
/* printf writes to COM1; one call is never interleaved with another CPU's. */
int vprintf(const char *fmt, va_list ap);
int printf(const char *fmt, ...) __printf(1, 2);
int puts(const char *s);
int putchar(int c);

/* Stop the machine through the debug-exit port 0xF4 (see README). */
void __noreturn exit(int code);
/* Print a message and exit with EXIT_PANIC. */
void __noreturn panic(const char *fmt, ...) __printf(1, 2);

#define assert(cond) do { \
	if (!(cond)) panic("assertion failed: %s (%s:%d)", #cond, __FILE__, __LINE__); \
} while (0)

#endif

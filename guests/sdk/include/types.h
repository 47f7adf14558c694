/*
 * types.h - fixed-width types and small compiler helpers. Uses only the
 * freestanding headers that gcc itself ships (no libc).
 */
#ifndef VSMRR_TYPES_H
#define VSMRR_TYPES_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdarg.h>

typedef uint8_t  u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t   s8;
typedef int16_t  s16;
typedef int32_t  s32;
typedef int64_t  s64;

#define __packed        __attribute__((packed))
#define __aligned(n)    __attribute__((aligned(n)))
#define __noreturn      __attribute__((noreturn))
#define __noinline      __attribute__((noinline))
#define __printf(a, b)  __attribute__((format(printf, a, b)))
#define __unused        __attribute__((unused))

#define ARRAY_SIZE(a)   (sizeof(a) / sizeof((a)[0]))
#define barrier()       asm volatile("" ::: "memory")
#define READ_ONCE(x)    (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

#endif

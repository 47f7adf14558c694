/*
 * Native side of the instruction-semantics tests (test/x86/semantics*.test.ts).
 *
 * Reads fixed-size case records from stdin, runs each on the host CPU through a generated assembly
 * stub (tests.S, one function per instruction form: load every GPR, XMM register and RFLAGS from the
 * state, execute the form's instructions, store everything back), and writes the resulting state
 * records to stdout. No instruction bytes are ever executed from data.
 *
 * Record: u32 form, u32 pointer-register mask, then the first 912 bytes of struct state (output: the
 * 912 bytes only). Registers in the mask hold offsets into state.mem on input and output; they are
 * turned into real addresses around the call.
 * A fault (SIGFPE for #DE, ...) ends the case: the output is the input state with fault = vector+1.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MEMSIZE 512

struct state {
  uint64_t r[16];
  uint64_t flags;
  uint64_t fault;
  uint8_t xmm[16][16];
  uint8_t mem[MEMSIZE];
} __attribute__((aligned(64)));


_Static_assert(__builtin_offsetof(struct state, flags) == 128, "layout");
_Static_assert(__builtin_offsetof(struct state, xmm) == 144, "layout");
_Static_assert(__builtin_offsetof(struct state, mem) == 400, "layout");
_Static_assert(sizeof(struct state) == 960, "layout"); /* 912 rounded up to 64 */

typedef void (*testfn)(struct state *);
extern testfn vsm_tests[];
extern uint64_t vsm_ntests;

static struct state S, IN;
static uint32_t hdr[2];
static sigjmp_buf jb;

static void on_signal(int sig) { siglongjmp(jb, sig); }

static int read_full(void *p, size_t n) {
  uint8_t *b = p;
  while (n) {
    ssize_t k = read(0, b, n);
    if (k <= 0) return 0;
    b += k; n -= (size_t)k;
  }
  return 1;
}

static void write_full(const void *p, size_t n) {
  const uint8_t *b = p;
  while (n) {
    ssize_t k = write(1, b, n);
    if (k <= 0) exit(3);
    b += k; n -= (size_t)k;
  }
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGFPE, &sa, 0);
  sigaction(SIGSEGV, &sa, 0);
  sigaction(SIGBUS, &sa, 0);
  sigaction(SIGILL, &sa, 0);
  /* The input is kept in IN; the state runs in S (64-byte aligned, so mem is 16-byte aligned). */
  while (read_full(hdr, 8) && read_full(&IN, 912)) {
    if (hdr[0] >= vsm_ntests) return 2;
    memcpy(&S, &IN, 912);
    uint64_t base = (uint64_t)(uintptr_t)S.mem;
    for (int k = 0; k < 16; k++) if (hdr[1] >> k & 1) S.r[k] += base;
    int sig = sigsetjmp(jb, 1);
    if (sig == 0) {
      vsm_tests[hdr[0]](&S);
      S.fault = 0;
      for (int k = 0; k < 16; k++) if (hdr[1] >> k & 1) S.r[k] -= base;
    } else {
      /* The instruction faulted: architecturally nothing changed. */
      memcpy(&S, &IN, 912);
      S.fault = 1 + (sig == SIGFPE ? 0 : sig == SIGILL ? 6 : sig == SIGBUS ? 17 : 13);
    }
    write_full(&S, 912);
  }
  return 0;
}

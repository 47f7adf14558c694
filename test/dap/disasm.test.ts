// disassemble() against objdump -d -M intel on gcc-compiled code: instruction boundaries (address and
// length) must match exactly in 16-, 32- and 64-bit code, and so must the mnemonic (formatting of
// operands may differ); undecodable bytes come out as one-byte "(bad)" entries.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disassemble } from '../../dap/disasm.js';
import { executableSections } from '../helpers/elf.js';
import { GUEST_DIR } from '../helpers/guests.js';
import { scratchDir } from '../helpers/toolchain.js';

interface ObjdumpInsn { section: string; addr: bigint; len: number; text: string }

/** objdump's instructions, per executable section of an object file (addresses from 0). */
function objdump(obj: string, extra: string[] = []): ObjdumpInsn[] {
  const out = execFileSync('objdump', ['-d', '-z', '-M', 'intel', '--insn-width=16', ...extra, obj], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const res: ObjdumpInsn[] = [];
  let section = '';
  for (const l of out.split('\n')) {
    const s = /^Disassembly of section (\S+):$/.exec(l);
    if (s) section = s[1];
    const m = /^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*\t?(.*)$/.exec(l);
    if (m) res.push({ section, addr: BigInt('0x' + m[1]), len: m[2].trim().split(' ').length, text: m[3].trim() });
  }
  return res;
}

const PREFIXES = new Set(['rep', 'repz', 'repe', 'repnz', 'repne', 'lock', 'data16', 'data32', 'addr16', 'addr32',
  'cs', 'ds', 'ss', 'es', 'fs', 'gs', 'bnd', 'notrack']);
const STRING_OPS = /^(movs|stos|lods|cmps|scas|ins|outs)[bwdq]?$/;
/** objdump spellings that iced writes differently (same instruction). */
const ALIASES: Record<string, string> = { movabs: 'mov' };

/** The mnemonic with prefixes dropped and known aliases folded. */
function mnemonic(text: string): string {
  const words = text.split(/[\s,]+/).filter((w) => w && !PREFIXES.has(w) && !/^rex(\.[WRXB]+)?$/.test(w));
  const m = words[0] ?? '';
  const s = STRING_OPS.exec(m);
  return s ? s[1] : ALIASES[m] ?? m;
}

/** Equal, or equal but for an operand-size suffix one side spells out (pushfq/pushf, lgdtw/lgdt). */
function sameMnemonic(a: string, b: string): boolean {
  return a === b || (a.length > b.length ? a.startsWith(b) && /^[wlqd]$/.test(a.slice(b.length))
    : b.startsWith(a) && /^[wlqd]$/.test(b.slice(a.length)));
}

function compare(obj: string, bitness: 16 | 32 | 64, objdumpArgs: string[] = []): number {
  const want = objdump(obj, objdumpArgs);
  const sections = new Map(executableSections(readFileSync(obj)).map((s) => [s.name, s.bytes]));
  let n = 0;
  for (const name of new Set(want.map((w) => w.section))) {
    const bytes = sections.get(name)!;
    const exp = want.filter((w) => w.section === name);
    const got = disassemble(bytes, 0n, bitness);
    const fmt = (i: { addr: bigint; len: number }) => `${i.addr.toString(16)}+${i.len}`;
    expect(got.map(fmt), `${obj} ${name}`).toEqual(exp.map(fmt));
    got.forEach((g, i) => {
      const [a, b] = [mnemonic(g.text), mnemonic(exp[i].text)];
      expect(sameMnemonic(a, b), `${name}+${g.addr.toString(16)}: '${g.text}' vs objdump '${exp[i].text}'`).toBe(true);
      expect(g.bytes).toEqual(bytes.subarray(Number(g.addr), Number(g.addr) + g.len));
    });
    n += got.length;
  }
  return n;
}

const SAMPLE = `
#include <stdint.h>
struct node { struct node *next; int64_t key; double w; };
double walk(struct node *n, double s) { for (; n; n = n->next) s += n->w * (double)n->key; return s; }
uint64_t mix(uint64_t a, uint32_t b, int c) {
  switch (c & 7) {
  case 0: return a * 0x9e3779b97f4a7c15ull;
  case 1: return (a >> (b & 63)) | (a << (64 - (b & 63)));
  case 2: return a / (b | 1);
  case 3: return (uint64_t)__builtin_popcountll(a) + __builtin_ctzll(a | 1);
  case 4: return (int64_t)(int32_t)b < 0 ? ~a : -a;
  default: return a ^ b ^ (uint64_t)c;
  }
}
void fill(char *p, int v, unsigned n) { while (n--) *p++ = (char)v; }
float dot(const float *a, const float *b, int n) { float s = 0; for (int i = 0; i < n; i++) s += a[i] * b[i]; return s; }
`;

const CODE16 = `
\t.code16
\t.text
start16:
\tcli
\txor %ax, %ax
\tmov %ax, %ds
\tmov $0x7c00, %sp
\tmovl $0x12345678, %eax
\tlgdt gdt_desc
\tmov %cr0, %eax
\tor $1, %eax
\tmov %eax, %cr0
\tljmp $0x08, $0x1000
\tint $0x10
\tret
gdt_desc:
\t.word 0
\t.long 0
`;

describe('disassemble', () => {
  const scratch = scratchDir('disasm');
  const obj: Record<string, string> = {};

  beforeAll(() => {
    const d = scratch.dir;
    writeFileSync(join(d, 'sample.c'), SAMPLE);
    writeFileSync(join(d, 'code16.S'), CODE16);
    const cc = (name: string, args: string[]) => {
      obj[name] = join(d, `${name}.o`);
      execFileSync('gcc', [...args, '-c', '-o', obj[name]], { stdio: ['ignore', 'ignore', 'pipe'] });
    };
    const guest = ['-m64', '-std=gnu11', '-O2', '-ffreestanding', '-fno-pic', '-mno-red-zone', '-fno-stack-protector',
      '-fcf-protection=none', `-I${join(GUEST_DIR, 'sdk', 'include')}`];
    cc('printf', [...guest, join(GUEST_DIR, 'sdk', 'printf.c')]);
    cc('cpu-mix', [...guest, join(GUEST_DIR, 'examples', 'cpu-mix.c')]);
    cc('sample64', ['-m64', '-O2', '-ffreestanding', '-march=haswell', join(d, 'sample.c')]);
    cc('sample32', ['-m32', '-O2', '-ffreestanding', '-fno-pic', join(d, 'sample.c')]);
    cc('sample32-O0', ['-m32', '-O0', '-ffreestanding', join(d, 'sample.c')]);
    obj.code16 = join(d, 'code16.o');
    execFileSync('as', ['--32', join(d, 'code16.S'), '-o', obj.code16]);
  });
  afterAll(() => scratch.dispose());

  it.each([['printf', 64], ['cpu-mix', 64], ['sample64', 64], ['sample32', 32], ['sample32-O0', 32]] as const)(
    '%s (%i-bit): same instructions as objdump', (name, bits) => {
      expect(compare(obj[name], bits)).toBeGreaterThan(bits === 64 && name !== 'sample64' ? 300 : 40);
    });

  it('16-bit code: same instructions as objdump -m i8086', () => {
    expect(compare(obj.code16, 16, ['-m', 'i8086'])).toBeGreaterThanOrEqual(12);
  });

  it('writes Intel syntax with addresses, operands and branch targets', () => {
    // mov rbp, rsp; mov eax, [rbp-4]; jmp to the start; call rel32
    const code = Uint8Array.from([0x48, 0x89, 0xe5, 0x8b, 0x45, 0xfc, 0xeb, 0xf8, 0xe8, 0x00, 0x00, 0x00, 0x00]);
    const got = disassemble(code, 0xffff800000100000n, 64);
    expect(got.map((i) => [i.addr, i.len, i.text])).toEqual([
      [0xffff800000100000n, 3, 'mov rbp, rsp'],
      [0xffff800000100003n, 3, 'mov eax, [rbp-4]'],
      [0xffff800000100006n, 2, 'jmp 0xffff800000100000'],
      [0xffff800000100008n, 5, 'call 0xffff80000010000d'],
    ]);
  });

  it('turns undecodable and cut-off bytes into one-byte (bad) entries and resynchronises', () => {
    // 06 (push es) does not exist in 64-bit mode; 48 89 at the end is cut off before its ModRM.
    const got = disassemble(Uint8Array.from([0x06, 0x90, 0x0f, 0x0b, 0xc3, 0x48, 0x89]), 0x1000n, 64);
    expect(got.map((i) => [Number(i.addr - 0x1000n), i.len, i.text])).toEqual([
      [0, 1, '(bad)'], [1, 1, 'nop'], [2, 2, 'ud2'], [4, 1, 'ret'], [5, 1, '(bad)'], [6, 1, '(bad)'],
    ]);
    expect(disassemble(Uint8Array.from([0x06]), 0n, 32)[0].text).toBe('push es');
    expect(disassemble(new Uint8Array(0), 0n, 64)).toEqual([]);
    // 32-bit addresses wrap at 4 GiB.
    expect(disassemble(Uint8Array.from([0x90, 0x90]), 0xffffffffn, 32).map((i) => i.addr)).toEqual([0xffffffffn, 0n]);
  });
});

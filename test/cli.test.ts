// The `vsmrr` command end to end (dist/cli/main.js as `npm test` builds it): help texts, exit
// statuses, and one clear stderr line naming the file and the problem for every bad input.
// Fixture guests (test/fixtures/*.S) are assembled in beforeAll into a scratch directory; images
// with malformed headers are made here from bytes.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from './helpers/toolchain.js';
import {
  buildAsmFixtures, describeRun, elf32, guestImage, haltingCode, multibootHeader, requireBuilt, ROOT, vsmrr,
  type ProcResult,
} from './helpers/guests.js';

/** Per-test timeout: runs queue for the two job slots, and CI machines are slow. */
const SLOW = 180_000;

const scratch = scratchDir('cli');
const path = (name: string) => join(scratch.dir, name);
let fx: Record<string, string> = {};

beforeAll(() => {
  requireBuilt([guestImage('hello'), guestImage('hello', 'elf64')]);
  fx = buildAsmFixtures(join(scratch.dir, 'asm'));

  // Malformed images.
  writeFileSync(path('text.txt'), 'This is not a kernel image.\n'.repeat(50));
  writeFileSync(path('empty.bin'), Buffer.alloc(0));
  mkdirSync(path('a-directory'));
  const code = haltingCode();
  // A good ELF32 Multiboot image at 1 MiB, to show the others fail for the reason the test names.
  writeFileSync(path('good.elf'), elf32([{ paddr: 0x100000, data: code }], 0x100000 + 12));
  // A second PT_LOAD at 0x7ff00000: outside the RAM of --mem 16 (and of the default 128 MiB).
  writeFileSync(path('high-segment.elf'), elf32([
    { paddr: 0x100000, data: code },
    { paddr: 0x7ff00000, data: Buffer.from('data'), memsz: 0x1000 },
  ], 0x100000 + 12));
  // A segment that fits in 128 MiB but not in 16 MiB, through its BSS (memsz > filesz).
  writeFileSync(path('big-bss.elf'), elf32([{ paddr: 0x100000, data: code, memsz: 32 << 20 }], 0x100000 + 12));
  // The Multiboot magic with a checksum that is off by one.
  writeFileSync(path('bad-checksum.elf'),
    elf32([{ paddr: 0x100000, data: haltingCode(multibootHeader({ checksumDelta: 1 })) }], 0x100000 + 12));
  // A PT_LOAD whose file bytes extend past the end of the file.
  const truncated = elf32([{ paddr: 0x100000, data: Buffer.concat([code, Buffer.alloc(4096)]) }], 0x100000 + 12);
  writeFileSync(path('truncated.elf'), truncated.subarray(0, truncated.length - 2048));
  // A raw (non-ELF) image whose header has address fields (flag 16) loading at 0x7ff00000.
  const hdrAddr = 0x7ff00000;
  writeFileSync(path('raw-high.bin'), haltingCode(multibootHeader({
    flags: 0x10000, addr: [hdrAddr, hdrAddr, 0, 0, hdrAddr + 32],
  })));
  // The same raw image loading at 1 MiB boots (and halts): the format itself is accepted.
  writeFileSync(path('raw-good.bin'), haltingCode(multibootHeader({
    flags: 0x10000, addr: [0x100000, 0x100000, 0, 0, 0x100000 + 32],
  })));
  return scratch.dispose;
});

/** Exit 2, nothing on stdout, exactly one stderr line, matching every pattern given. */
function expectUsageError(r: ProcResult, ...patterns: RegExp[]): void {
  const ctx = describeRun(r);
  expect(r.status, ctx).toBe(2);
  expect(r.stdout.length, `stdout should be empty\n${ctx}`).toBe(0);
  const lines = r.stderr.split('\n').filter((l, k, all) => l !== '' || k < all.length - 1);
  expect(lines.length, `want exactly one stderr line\n${ctx}`).toBe(1);
  expect(r.stderr.endsWith('\n'), ctx).toBe(true);
  for (const p of patterns) expect(lines[0], ctx).toMatch(p);
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The message names the file: "vsmrr: FILE: problem". */
const names = (file: string) => new RegExp(`^vsmrr: ${esc(file)}: \\S`);

// ---- help ------------------------------------------------------------------------------------

/** Every option `vsmrr run` parses, read from the parser itself so a new one cannot go undocumented. */
function parsedRunOptions(): string[] {
  const src = readFileSync(join(ROOT, 'cli', 'run.ts'), 'utf8');
  const body = src.slice(src.indexOf('export function parseRunArgs'));
  const opts = new Set<string>();
  for (const m of body.slice(0, body.indexOf('\n}\n')).matchAll(/case '(--?[\w-]+)'/g)) opts.add(m[1]);
  return [...opts].sort();
}

describe.concurrent('help', { timeout: SLOW }, () => {
  const documented = ['--smp', '--mem', '--cmdline', '--serial-in', '--max-insns', '--quantum', '--hash', '--help'];

  it('the options read from the parser include every documented one (so the scan works)', () => {
    // New options may appear; the tests below check that run --help describes them too.
    expect(parsedRunOptions()).toEqual(expect.arrayContaining([...documented, '-h']));
  });

  for (const args of [['run', '--help'], ['run', '-h'], ['help', 'run'], ['run', 'x.elf', '--help']]) {
    it(`vsmrr ${args.join(' ')} describes every option and exit status`, async () => {
      const r = await vsmrr(args);
      expect(r.status, describeRun(r)).toBe(0);
      expect(r.stderr).toBe('');
      const text = r.stdout.toString();
      expect(text).toMatch(/^usage: vsmrr run IMAGE/);
      for (const o of parsedRunOptions()) expect(text, `option ${o} in 'vsmrr ${args.join(' ')}'`).toMatch(new RegExp(`(^|[\\s,])${esc(o)}\\b`, 'm'));
      for (const status of ['2', '3', '4', '5']) expect(text).toMatch(new RegExp(`^\\s+${status}\\s+\\S`, 'm'));
      expect(text).toMatch(/0xF4/);
    });
  }

  for (const args of [['--help'], ['-h'], ['help']]) {
    it(`vsmrr ${args.join(' ')} lists the commands and where run's options are`, async () => {
      const r = await vsmrr(args);
      expect(r.status, describeRun(r)).toBe(0);
      expect(r.stderr).toBe('');
      const text = r.stdout.toString();
      expect(text).toMatch(/^usage: vsmrr <command>/);
      expect(text).toMatch(/^\s+run IMAGE/m);
      expect(text).toMatch(/^\s+help/m);
      expect(text).toContain('vsmrr run --help');
    });
  }

  for (const [cmd, opts] of [['record', ['-o', '--hash-every', '--checkpoint-every']], ['replay', ['--verify', '--quiet']],
    ['info', ['--json']], ['events', ['--kind', '--vp', '--vtl', '--from', '--to', '--limit', '--json']]] as const) {
    it(`vsmrr ${cmd} --help describes its options`, async () => {
      const r = await vsmrr([cmd, '--help']);
      expect(r.status, describeRun(r)).toBe(0);
      const text = r.stdout.toString();
      expect(text).toMatch(new RegExp(`^usage: vsmrr ${cmd} `));
      for (const o of opts) expect(text, `option ${o}`).toContain(o);
      const main = (await vsmrr(['--help'])).stdout.toString();
      expect(main).toMatch(new RegExp(`^\\s+${cmd} `, 'm'));
    });
  }

  it('vsmrr without a command prints the usage and exits 2', async () => {
    const r = await vsmrr([]);
    expect(r.status, describeRun(r)).toBe(2);
    expect(r.stdout.toString()).toMatch(/^usage: vsmrr/);
  });
});

// ---- bad command lines and images ------------------------------------------------------------

describe.concurrent('bad input: exit 2 and one stderr line naming the problem', { timeout: SLOW }, () => {
  const cases: [string, () => string[], () => RegExp[]][] = [
    ['a file that does not exist', () => ['run', path('does-not-exist.elf')],
      () => [names(path('does-not-exist.elf')), /no such file/i]],
    ['a directory', () => ['run', path('a-directory')], () => [names(path('a-directory')), /directory/i]],
    ['an empty file', () => ['run', path('empty.bin')], () => [names(path('empty.bin')), /too small|empty/i]],
    ['a text file (neither ELF nor Multiboot)', () => ['run', path('text.txt')],
      () => [names(path('text.txt')), /no Multiboot header/i]],
    ['an ELF64 image', () => ['run', guestImage('hello', 'elf64')],
      () => [names(guestImage('hello', 'elf64')), /ELF64/, /ELF32/]],
    ['a Multiboot header with a bad checksum', () => ['run', path('bad-checksum.elf')],
      () => [names(path('bad-checksum.elf')), /checksum/i]],
    ['an ELF segment outside RAM (--mem 16)', () => ['run', path('high-segment.elf'), '--mem', '16'],
      () => [names(path('high-segment.elf')), /segment/i, /0x7ff00000/i, /outside guest RAM/i, /16 MiB/]],
    ['an ELF segment outside RAM (default 128 MiB)', () => ['run', path('high-segment.elf')],
      () => [names(path('high-segment.elf')), /0x7ff00000/i, /outside guest RAM/i]],
    ['an ELF segment outside RAM, options before the image', () => ['run', '--mem', '16', path('high-segment.elf')],
      () => [names(path('high-segment.elf')), /outside guest RAM/i]],
    ['a BSS that does not fit in --mem=16', () => ['run', '--mem=16', '--smp', '2', path('big-bss.elf')],
      () => [names(path('big-bss.elf')), /outside guest RAM/i]],
    ['an ELF segment past the end of the file', () => ['run', path('truncated.elf')],
      () => [names(path('truncated.elf')), /past the end/i]],
    ['a Multiboot load address outside RAM (address fields)', () => ['run', path('raw-high.bin'), '--mem', '16'],
      () => [names(path('raw-high.bin')), /0x7ff00000/i, /outside guest RAM/i]],
    ['an unknown option', () => ['run', guestImage('hello'), '--bogus'], () => [/unknown option '--bogus'/]],
    ['an unknown command', () => ['frobnicate'], () => [/unknown command 'frobnicate'/]],
    ['no image', () => ['run', '--smp', '2'], () => [/no image/i]],
    ['two images', () => ['run', guestImage('hello'), path('good.elf')], () => [/more than one image/i]],
    ['--smp 0', () => ['run', guestImage('hello'), '--smp', '0'], () => [/--smp/, /1 and 64/, /\b0\b/]],
    ['--smp 65', () => ['run', guestImage('hello'), '--smp', '65'], () => [/--smp/, /1 and 64/, /\b65\b/]],
    ['--smp abc', () => ['run', guestImage('hello'), '--smp', 'abc'], () => [/--smp/, /'abc'/]],
    ['--smp=-1', () => ['run', guestImage('hello'), '--smp=-1'], () => [/--smp/, /-1/]],
    ['--smp without a value', () => ['run', guestImage('hello'), '--smp'], () => [/--smp needs a value/]],
    ['--mem 1', () => ['run', guestImage('hello'), '--mem', '1'], () => [/--mem/, /2 and 3072/, /\b1\b/]],
    ['--mem 3073', () => ['run', guestImage('hello'), '--mem', '3073'], () => [/--mem/, /3073/]],
    ['--mem 1.5', () => ['run', guestImage('hello'), '--mem', '1.5'], () => [/--mem/, /'1\.5'/]],
    ['--max-insns 0', () => ['run', guestImage('hello'), '--max-insns', '0'], () => [/--max-insns/]],
    ['--quantum 0', () => ['run', guestImage('hello'), '--quantum', '0'], () => [/--quantum/]],
    ['--serial-in naming a missing file', () => ['run', guestImage('hello'), '--serial-in', path('no-input.bin')],
      () => [new RegExp(esc(path('no-input.bin'))), /no such file/i]],
  ];
  for (const [what, args, patterns] of cases) {
    it(what, async () => expectUsageError(await vsmrr(args()), ...patterns()));
  }

  it('the control images are accepted (so the cases above fail for the reason they name)', async () => {
    for (const img of [path('good.elf'), path('raw-good.bin')]) {
      const r = await vsmrr(['run', img, '--mem', '16']);
      expect(r.status, `${img} should boot and halt\n${describeRun(r)}`).toBe(4);
    }
  });
});

// ---- how runs end ----------------------------------------------------------------------------

describe.concurrent('exit statuses', { timeout: SLOW }, () => {
  it('a triple fault: exit 3 and a message saying so', async () => {
    const r = await vsmrr(['run', fx['triple-fault']]);
    expect(r.status, describeRun(r)).toBe(3);
    expect(r.stderr).toMatch(/triple fault/i);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout.length).toBe(0);
  });

  it('an endless loop: exit 5 at --max-insns, after exactly that many instructions', async () => {
    const r = await vsmrr(['run', fx.spin, '--max-insns', '250000', '--hash']);
    expect(r.status, describeRun(r)).toBe(5);
    expect(r.stderr).toMatch(/--max-insns/);
    expect(r.stderr).toMatch(/at icount 250000$/m);
  });

  it('cli; hlt: exit 4 and a message that the VPs halted', async () => {
    const r = await vsmrr(['run', fx.halt]);
    expect(r.status, describeRun(r)).toBe(4);
    expect(r.stderr).toMatch(/halted/i);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('cli; hlt on the BSP while the APs never get a SIPI: exit 4 with --smp 4', async () => {
    const r = await vsmrr(['run', fx.halt, '--smp', '4']);
    expect(r.status, describeRun(r)).toBe(4);
    expect(r.stderr).toMatch(/halted/i);
  });

  it('the debug-exit value & 0xFF is the exit status; serial output goes to stdout', async () => {
    const r = await vsmrr(['run', fx['exit-code']]);
    expect(r.status, describeRun(r)).toBe(0xa7);
    expect(r.stdout.toString()).toBe('bye\n');
    expect(r.stderr).toBe('');
  });

  it('--max-insns larger than the run: the guest exits normally', async () => {
    const r = await vsmrr(['run', guestImage('hello'), '--max-insns', '50000000']);
    expect(r.status, describeRun(r)).toBe(0);
    expect(r.stdout.toString()).toMatch(/^SUMMARY: \d+ passed, 0 failed$/m);
  });

  it('--mem=64 and --cmdline=... (inline values) reach the guest', async () => {
    const r = await vsmrr(['run', guestImage('hello'), '--mem=64', '--cmdline=one two']);
    expect(r.status, describeRun(r)).toBe(0);
    const out = r.stdout.toString();
    expect(out).toMatch(/^fw_cfg: RAM 64 MiB, 1 CPU\(s\)$/m);
    expect(out).toContain('cmdline: "one two"');
  });
});

// ---- serial input ----------------------------------------------------------------------------

describe.concurrent('--serial-in', { timeout: SLOW }, () => {
  // Every byte value but EOT, which ends the echo, and more of them than the 16-byte FIFO holds.
  const bytes = Buffer.from(Array.from({ length: 3000 }, (_, k) => (k * 7 + (k >> 8)) & 0xff).filter((b) => b !== 4));
  const withEot = Buffer.concat([bytes, Buffer.from([4]), Buffer.from('after EOT, never read')]);

  it('feeds a file to COM1: the echo guest prints it back byte for byte', async () => {
    writeFileSync(path('serial.in'), withEot);
    const r = await vsmrr(['run', fx.echo, '--serial-in', path('serial.in'), '--max-insns', '100000000']);
    expect(r.status, describeRun(r, 200)).toBe(0);
    expect(r.stdout.length).toBe(bytes.length);
    expect(r.stdout.equals(bytes)).toBe(true);
  });

  it('--serial-in=- reads standard input', async () => {
    const r = await vsmrr(['run', fx.echo, '--serial-in=-', '--max-insns', '100000000'], { input: withEot });
    expect(r.status, describeRun(r, 200)).toBe(0);
    expect(r.stdout.equals(bytes)).toBe(true);
  });

  it('input that runs out: the guest keeps polling until --max-insns', async () => {
    writeFileSync(path('short.in'), 'abc');
    const r = await vsmrr(['run', fx.echo, '--serial-in', path('short.in'), '--max-insns', '200000']);
    expect(r.status, describeRun(r)).toBe(5);
    expect(r.stdout.toString()).toBe('abc');
  });
});

describe('vsmrr demo (npm start)', { timeout: SLOW }, () => {
  it('records the secure-intercept guest, shows its summary and intercepts, says how to debug it; the trace replays', async () => {
    requireBuilt([guestImage('vsm-intercept')]);
    const r = await vsmrr(['demo']); // in the repository root, as npm start runs it
    const out = r.stdout.toString('utf8');
    expect(r.status, describeRun(r)).toBe(0);
    expect(out).toMatch(/SUMMARY: \d+ passed, 0 failed/);
    expect(out).toMatch(/trace\s+demo\.vsmtrace \(complete\)/);
    expect(out).toMatch(/^\s+\d+\s+VP0\s+intercept\s+vtl=0 type=0x8001000[16]/m);
    expect(out).toContain('node dist/cli/main.js gdb demo.vsmtrace');
    expect(out).toContain('monitor break-on intercept');
    const v = await vsmrr(['replay', 'demo.vsmtrace', '--verify', '--quiet']);
    expect(v.status, describeRun(v)).toBe(0);
    expect(v.stderr).toMatch(/replay verified/);
  });
});

// Running vsmrr (the built CLI) and QEMU on guest images from tests, reading the guests' PASS/FAIL
// reports, and building the small fixture images in test/fixtures/.
//
// The tests use what `npm test` builds first (dist/ by `npm run build`, guests/build/ by
// `npm run guests`) and never rebuild it: requireBuilt() fails with a message that says which
// command to run. Child processes go through one limiter so that `describe.concurrent` suites keep
// at most JOBS emulators busy at a time (the CI machine has two cores).

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');
export const GUEST_DIR = join(ROOT, 'guests');
export const GUEST_BUILD = join(GUEST_DIR, 'build');
export const RUN_QEMU = join(GUEST_DIR, 'run-qemu.sh');
export const FIXTURES = join(ROOT, 'test', 'fixtures');

/** Path of a built example guest. */
export function guestImage(name: string, ext = 'elf'): string {
  return join(GUEST_BUILD, `${name}.${ext}`);
}

/**
 * Throw a readable error unless the CLI and the given guest images are built. Call from beforeAll,
 * so that every test of the suite reports the same message instead of a spawn failure.
 */
export function requireBuilt(images: readonly string[] = []): void {
  const missing: string[] = [];
  if (!existsSync(CLI)) missing.push(`${relative(ROOT, CLI)} (run 'npm run build')`);
  for (const img of images) if (!existsSync(img)) missing.push(`${relative(ROOT, img)} (run 'npm run guests')`);
  if (missing.length) {
    throw new Error(`not built: ${missing.join(', ')}. 'npm test' builds both before running vitest; ` +
      'the tests do not rebuild them.');
  }
}

/** The example guests the Makefile builds (EXAMPLES := ...), so a new guest cannot go untested. */
export function makefileExamples(): string[] {
  // Join backslash-continued lines first: the list may span several.
  const mk = readFileSync(join(GUEST_DIR, 'Makefile'), 'utf8').replace(/\\\n/g, ' ');
  const m = /^EXAMPLES\s*:=\s*(.+)$/m.exec(mk);
  if (!m) throw new Error('guests/Makefile has no "EXAMPLES := ..." line');
  return m[1].trim().split(/\s+/);
}

// ---- child processes -------------------------------------------------------------------------

/** Parallel emulator runs allowed at once (VSMRR_TEST_JOBS overrides). */
export const JOBS = Math.max(1, Number(process.env.VSMRR_TEST_JOBS) || Math.min(2, availableParallelism()));

let running = 0;
const waiting: (() => void)[] = [];

/** Run fn when fewer than JOBS limited tasks are running. */
export async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= JOBS) await new Promise<void>((res) => waiting.push(res));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export interface ProcResult {
  /** Exit status, or null when killed by a signal. */
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  /** The command line, for failure messages. */
  command: string;
  timedOut: boolean;
}

export interface SpawnOptions {
  /** Bytes for standard input (otherwise it is empty). */
  input?: Uint8Array;
  /** Kill the process after this many ms (default 150 s). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

const shellQuote = (a: string) => (/^[\w./=:,+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/** Spawn a process, collect its output; never rejects for a non-zero status. */
export function spawnCollect(cmd: string, args: readonly string[], opts: SpawnOptions = {}): Promise<ProcResult> {
  return limited(() => new Promise<ProcResult>((resolve, reject) => {
    const command = [cmd, ...args].map(shellQuote).join(' ');
    const child = spawn(cmd, args, { cwd: ROOT, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [], err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, opts.timeoutMs ?? 150_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => { /* the child may exit without reading its input */ });
    child.stdin.end(opts.input ? Buffer.from(opts.input) : undefined);
    child.on('error', (e) => { clearTimeout(timer); reject(new Error(`${command}: ${e.message}`)); });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), command, timedOut });
    });
  }));
}

/** `node dist/cli/main.js ARGS` — the vsmrr command. */
export function vsmrr(args: readonly string[], opts?: SpawnOptions): Promise<ProcResult> {
  return spawnCollect(process.execPath, [CLI, ...args], opts);
}

/** Whether qemu-system-x86_64 (or $QEMU) runs. */
export function haveQemu(): boolean {
  try {
    execFileSync(process.env.QEMU ?? 'qemu-system-x86_64', ['--version'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/** guests/run-qemu.sh IMAGE ARGS: status = the guest's exit code, 124 timeout, 125 QEMU failure. */
export function qemu(image: string, args: readonly string[] = [], opts?: SpawnOptions): Promise<ProcResult> {
  return spawnCollect('sh', [RUN_QEMU, image, ...args], opts);
}

/** A multi-line description of a run, for assertion messages. */
export function describeRun(r: ProcResult, maxOut = 3000): string {
  const out = r.stdout.toString('utf8');
  return `$ ${r.command}\nexit status ${r.status}${r.signal ? ` (signal ${r.signal})` : ''}` +
    `${r.timedOut ? ' (timed out)' : ''}\n--- stdout ---\n${out.length > maxOut ? `...${out.slice(-maxOut)}` : out}` +
    `\n--- stderr ---\n${r.stderr}`;
}

// ---- guest reports ---------------------------------------------------------------------------

export interface GuestReport {
  pass: string[];
  fail: string[];
  skip: string[];
  /** The SUMMARY line's numbers, or null when there is none. */
  summary: { passed: number; failed: number; skipped: number } | null;
}

/** PASS/FAIL/SKIP lines (text after the prefix) and the SUMMARY of a guest's serial output. */
export function parseReport(stdout: Buffer | string): GuestReport {
  const r: GuestReport = { pass: [], fail: [], skip: [], summary: null };
  for (const line of stdout.toString().split(/\r?\n/)) {
    let m: RegExpExecArray | null;
    if ((m = /^PASS: (.*)$/.exec(line))) r.pass.push(m[1]);
    else if ((m = /^FAIL: (.*)$/.exec(line))) r.fail.push(m[1]);
    else if ((m = /^SKIP: (.*)$/.exec(line))) r.skip.push(m[1]);
    else if ((m = /^SUMMARY: (\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/.exec(line))) {
      r.summary = { passed: Number(m[1]), failed: Number(m[2]), skipped: Number(m[3] ?? 0) };
    }
  }
  return r;
}

/** Marks of a check that took the path accepting QEMU 7.2's deviation (guests/README.md). */
const QUIRK = /\s*\(QEMU quirk[^)]*\)|,\s*QEMU quirk[^,)]*/g;

export function isQuirk(text: string): boolean {
  return /QEMU quirk/.test(text);
}

/**
 * The name of a check: its PASS/FAIL text without the values it prints (numbers, in decimal or hex,
 * become '#') and without a "QEMU quirk" remark. Two machines that pass the same checks give the
 * same names even though RAM sizes, counts and error codes in the text differ.
 */
export function checkName(text: string): string {
  return text.replace(QUIRK, '').replace(/\b(?:0x)?[0-9a-f]*[0-9][0-9a-f]*\b/gi, '#').replace(/\s+/g, ' ').trim();
}

/** Sorted check names of the PASS lines. */
export function passNames(r: GuestReport): string[] {
  return [...new Set(r.pass.map(checkName))].sort();
}

// ---- fixture images --------------------------------------------------------------------------

/**
 * Assemble every test/fixtures/NAME.S (32-bit, Multiboot header from multiboot.inc) and link it at
 * 1 MiB into DIR/NAME.elf. Returns NAME -> path.
 */
export function buildAsmFixtures(dir: string): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  const out: Record<string, string> = {};
  for (const f of readdirSync(FIXTURES).filter((n) => n.endsWith('.S')).sort()) {
    const name = f.slice(0, -2);
    const obj = join(dir, `${name}.o`), elf = join(dir, `${name}.elf`);
    try {
      execFileSync('as', ['--32', '-I', FIXTURES, '-o', obj, join(FIXTURES, f)], { stdio: ['ignore', 'ignore', 'pipe'] });
      execFileSync('ld', ['-m', 'elf_i386', '-nostdlib', '-static', '-z', 'max-page-size=0x1000',
        '-Ttext=0x100000', '-e', '_start', '-o', elf, obj], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`building fixture ${f} with as/ld failed:\n${stderr || (e as Error).message}`);
    }
    if (!statSync(elf).isFile()) throw new Error(`fixture ${elf} was not produced`);
    out[name] = elf;
  }
  return out;
}

export const MULTIBOOT_MAGIC = 0x1badb002;

export interface Segment {
  paddr: number;
  data: Uint8Array;
  /** Defaults to data.length. */
  memsz?: number;
}

/**
 * A Multiboot v1 header: magic, flags, checksum (+ the address fields when flags has bit 16).
 * `checksumDelta` makes the checksum wrong on purpose.
 */
export function multibootHeader(opts: { flags?: number; checksumDelta?: number; addr?: number[] } = {}): Buffer {
  const flags = opts.flags ?? 0;
  const addr = opts.addr ?? [];
  const b = Buffer.alloc(12 + addr.length * 4);
  b.writeUInt32LE(MULTIBOOT_MAGIC, 0);
  b.writeUInt32LE(flags >>> 0, 4);
  b.writeUInt32LE((-(MULTIBOOT_MAGIC + flags) + (opts.checksumDelta ?? 0)) >>> 0, 8);
  addr.forEach((v, k) => b.writeUInt32LE(v >>> 0, 12 + k * 4));
  return b;
}

/**
 * A minimal little-endian ELF32 i386 executable: header, one program header per segment, then the
 * segments' bytes, in file order. Put a Multiboot header in the first segment to make it bootable.
 */
export function elf32(segments: readonly Segment[], entry: number): Buffer {
  const EHSIZE = 52, PHENTSIZE = 32;
  let off = EHSIZE + PHENTSIZE * segments.length;
  const offsets = segments.map((s) => { const o = off; off += s.data.length; return o; });
  const b = Buffer.alloc(off);
  b.set([0x7f, 0x45, 0x4c, 0x46, 1 /* ELFCLASS32 */, 1 /* little-endian */, 1 /* EV_CURRENT */], 0);
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(3, 18); // EM_386
  b.writeUInt32LE(1, 20); // e_version
  b.writeUInt32LE(entry >>> 0, 24);
  b.writeUInt32LE(EHSIZE, 28); // e_phoff
  b.writeUInt32LE(0, 32); // e_shoff
  b.writeUInt16LE(EHSIZE, 40);
  b.writeUInt16LE(PHENTSIZE, 42);
  b.writeUInt16LE(segments.length, 44);
  segments.forEach((s, k) => {
    const p = EHSIZE + k * PHENTSIZE;
    b.writeUInt32LE(1, p); // PT_LOAD
    b.writeUInt32LE(offsets[k], p + 4);
    b.writeUInt32LE(s.paddr >>> 0, p + 8); // p_vaddr
    b.writeUInt32LE(s.paddr >>> 0, p + 12); // p_paddr
    b.writeUInt32LE(s.data.length, p + 16);
    b.writeUInt32LE((s.memsz ?? s.data.length) >>> 0, p + 20);
    b.writeUInt32LE(7, p + 24); // RWX
    b.writeUInt32LE(0x1000, p + 28);
    b.set(s.data, offsets[k]);
  });
  return b;
}

/** Multiboot header followed by `cli; hlt; jmp .` — a loadable image that halts at once. */
export function haltingCode(header: Buffer = multibootHeader()): Buffer {
  return Buffer.concat([header, Buffer.from([0xfa, 0xf4, 0xeb, 0xfe])]);
}

// Builds test objects with the host toolchain (gcc, GNU as) into a scratch directory.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { type CodeSection, executableSections } from './elf.js';

export function haveTool(name: string): boolean {
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A scratch directory removed by dispose(). */
export function scratchDir(tag: string): { dir: string; dispose: () => void } {
  mkdirSync(tmpdir(), { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), `vsmrr-${tag}-`));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Compile one C source to an object file and return its executable sections. */
export function compileC(src: string, outDir: string, flags: readonly string[], tag: string): CodeSection[] {
  const out = join(outDir, `${basename(src, '.c')}-${tag}.o`);
  execFileSync('gcc', [...flags, '-c', src, '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  return executableSections(readFileSync(out));
}

/** Assemble a GNU as source (32-bit object; the file picks its own .code16/.code32). */
export function assemble32(src: string, outDir: string): CodeSection[] {
  const out = join(outDir, `${basename(src)}.o`);
  execFileSync('as', ['--32', src, '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  return executableSections(readFileSync(out));
}

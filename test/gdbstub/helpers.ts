// Running `vsmrr gdb` as a child process on a free port and driving real gdb against it in batch
// mode. gdb's monitor output and several messages go to stderr in batch mode, so both streams are
// kept, and `all` is the two interleaved as they arrived.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, guestImage, requireBuilt } from '../helpers/guests.js';

export const GDB = '/usr/bin/gdb';

export function gdbAvailable(): boolean { return existsSync(GDB); }

export interface StubProcess {
  port: number;
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  stop(): Promise<void>;
}

/** Start `vsmrr gdb ARGS --port 0` and wait for the line naming its port. */
export async function startStub(args: string[]): Promise<StubProcess> {
  requireBuilt(args.filter((a) => a.endsWith('.elf')));
  const proc = spawn(process.execPath, [CLI, 'gdb', ...args, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  proc.stdout!.on('data', (d) => { out += d; });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vsmrr gdb did not start: ${err}`)), 30_000);
    proc.stderr!.on('data', (d) => {
      err += d;
      const m = /target remote 127\.0\.0\.1:(\d+)/.exec(err);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`vsmrr gdb exited (${code}): ${err}`)); });
  });
  return {
    port, proc, stdout: () => out, stderr: () => err,
    stop: () => new Promise<void>((res) => {
      if (proc.exitCode !== null) { res(); return; }
      proc.once('exit', () => res());
      proc.kill('SIGTERM');
    }),
  };
}

export interface GdbResult { stdout: string; stderr: string; all: string; code: number | null }

export interface GdbOptions {
  /** ELF to load for symbols (the guest's .elf64). */
  elf?: string;
  /** Kill gdb after this many ms (the test then fails on its output). */
  timeout?: number;
  /** Called once gdb's output contains this text (for Ctrl-C tests). */
  onOutput?: { match: RegExp; then: (p: ChildProcess) => void };
}

/**
 * Run gdb in batch mode: `commands` go into a script file run after connecting (a script stops at
 * the first error; pass `-ex`-style independent commands with `exCommands`).
 */
export function runGdb(port: number, commands: string[], opts: GdbOptions = {}): Promise<GdbResult> {
  const dir = mkdtempSync(join(tmpdir(), 'vsmrr-gdb-'));
  const script = join(dir, 'cmds.gdb');
  writeFileSync(script, ['set pagination off', 'set confirm off', 'set remotetimeout 30', `target remote 127.0.0.1:${port}`, ...commands, ''].join('\n'));
  const args = ['-batch', '-nx', ...(opts.elf ? [opts.elf] : []), '-x', script];
  return new Promise((resolve) => {
    const p = spawn(GDB, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '', all = '';
    let fired = false;
    const seen = () => {
      if (opts.onOutput && !fired && opts.onOutput.match.test(all)) { fired = true; opts.onOutput.then(p); }
    };
    p.stdout!.on('data', (d) => { stdout += d; all += d; seen(); });
    p.stderr!.on('data', (d) => { stderr += d; all += d; seen(); });
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeout ?? 45_000);
    p.on('close', (code) => { clearTimeout(timer); resolve({ stdout, stderr, all, code }); });
  });
}

export const PINGPONG = guestImage('vsm-pingpong');
export const PINGPONG_SYMS = guestImage('vsm-pingpong', 'elf64');

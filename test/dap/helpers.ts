// Driving the built adapter (`vsmrr dap`, a child process) with @vscode/debugadapter-testsupport's
// DebugClient, plus oracles that do not go through the adapter: the guest ELF's own bytes and objdump.

import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CLI, ROOT } from '../helpers/guests.js';

export async function client(): Promise<DebugClient> {
  // DebugClient spawns `runtime executable`: the CLI script (executable, with a shebang) and `dap`.
  const dc = new DebugClient(CLI, 'dap', 'vsmrr', { cwd: ROOT });
  dc.defaultTimeout = 60_000;
  await dc.start();
  return dc;
}

export interface Position { icount: number; vp: number; vtl: number; threadId: number; livePosition: number; endPosition: number | null; kind: string }

export async function position(dc: DebugClient): Promise<Position> {
  return (await dc.customRequest('vsmrr/position')).body as Position;
}

/** Start a request that resumes and wait for the stop it causes. */
export async function resumeAndStop(dc: DebugClient, f: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
  const stopped = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  await f();
  return stopped;
}

/** initialize (with progress reporting) + launch + configurationDone, up to the entry stop. */
export async function launch(dc: DebugClient, args: Record<string, unknown>, caps?: (c: DebugProtocol.Capabilities) => void): Promise<DebugProtocol.StoppedEvent> {
  const stopped = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  const init = await dc.initializeRequest({ adapterID: 'vsmrr', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true, supportsProgressReporting: true });
  if (!init.body?.supportsConfigurationDoneRequest) throw new Error('the adapter must want configurationDone');
  caps?.(init.body);
  // (DebugClient.configurationSequence() only sends configurationDone after its own launch() helper.)
  await Promise.all([dc.waitForEvent('initialized').then(() => dc.configurationDoneRequest()), dc.launchRequest(args as DebugProtocol.LaunchRequestArguments)]);
  return stopped;
}

export async function topFrame(dc: DebugClient, threadId: number): Promise<DebugProtocol.StackFrame> {
  return (await dc.stackTraceRequest({ threadId })).body.stackFrames[0];
}

export async function scopeVars(dc: DebugClient, frameId: number, scope: string): Promise<Map<string, string>> {
  const scopes = (await dc.scopesRequest({ frameId })).body.scopes;
  const s = scopes.find((x) => x.name === scope);
  if (!s) throw new Error(`no scope ${scope} (have ${scopes.map((x) => x.name).join(', ')})`);
  const vars = (await dc.variablesRequest({ variablesReference: s.variablesReference })).body.variables;
  return new Map(vars.map((v) => [v.name, v.value]));
}

export async function readMemory(dc: DebugClient, addr: bigint, count: number): Promise<Buffer> {
  const r = await dc.customRequest('readMemory', { memoryReference: `0x${addr.toString(16)}`, count });
  return Buffer.from(r.body.data, 'base64');
}

export async function evaluate(dc: DebugClient, expression: string, frameId?: number): Promise<string> {
  return (await dc.evaluateRequest({ expression, frameId, context: 'watch' })).body.result;
}

/** The bytes an ELF64 file loads at [addr, addr+len) (from its PT_LOAD segments). */
export function elfBytes(path: string, addr: bigint, len: number): Buffer {
  const f = readFileSync(path);
  if (f.readUInt32BE(0) !== 0x7f454c46 || f[4] !== 2) throw new Error(`${path}: not an ELF64 file`);
  const phoff = Number(f.readBigUInt64LE(0x20)), phentsize = f.readUInt16LE(0x36), phnum = f.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (f.readUInt32LE(p) !== 1) continue;
    const off = f.readBigUInt64LE(p + 8), vaddr = f.readBigUInt64LE(p + 16), filesz = f.readBigUInt64LE(p + 32);
    if (addr >= vaddr && addr + BigInt(len) <= vaddr + filesz) return f.subarray(Number(off + addr - vaddr), Number(off + addr - vaddr) + len);
  }
  throw new Error(`${path}: 0x${addr.toString(16)} is not in a loaded segment`);
}

const PREFIXES = new Set(['cs', 'ds', 'es', 'ss', 'fs', 'gs', 'data16', 'addr32', 'rex', 'rex.w', 'notrack', 'bnd', 'lock', 'rep', 'repz', 'repe', 'repnz', 'repne']);

/** The mnemonic of an Intel-syntax instruction text, prefixes left out. */
export function mnemonic(text: string): string {
  const m = text.trim().split(/\s+/).find((t) => !PREFIXES.has(t.toLowerCase())) ?? '';
  // objdump's name for mov with a 64-bit immediate or moffs.
  return m === 'movabs' ? 'mov' : m;
}

/** objdump's Intel-syntax mnemonic of the instruction at addr. */
export function objdumpMnemonic(path: string, addr: bigint): string {
  const out = execFileSync('objdump', ['-d', '-M', 'intel', `--start-address=0x${addr.toString(16)}`, `--stop-address=0x${(addr + 16n).toString(16)}`, path], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => new RegExp(`^\\s*${addr.toString(16)}:`).test(l));
  if (!line) throw new Error(`objdump printed no instruction at 0x${addr.toString(16)}`);
  return mnemonic(line.split('\t')[2]);
}

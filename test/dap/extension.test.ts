// The VS Code extension without VS Code: the .vsix is built as `npm run package:extension` builds it
// (tsc + vsce package, offline), unpacked, its manifest checked, and the packaged extension.js is
// loaded with a stand-in `vscode` module to check what activate() registers and does.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/guests.js';

const TMP = join(ROOT, 'test', '.tmp', 'vsix');
const VSIX = join(TMP, 'vsmrr-debug.vsix');
const OUT = join(TMP, 'unpacked');

/** A minimal stand-in for the parts of the vscode API the extension uses, recording the calls. */
function fakeVscode(settings: Record<string, unknown>) {
  const calls = {
    providers: [] as [string, unknown][], factories: [] as [string, { createDebugAdapterDescriptor: (s: unknown) => unknown }][],
    commands: new Map<string, (...a: unknown[]) => unknown>(), customRequests: [] as [string, unknown][],
    onCustomEvent: [] as ((e: unknown) => void)[], status: { text: '', shown: false, command: '' }, inputs: [] as string[],
  };
  class DebugAdapterExecutable { constructor(readonly command: string, readonly args: string[]) {} }
  class DebugAdapterServer { constructor(readonly port: number, readonly host?: string) {} }
  const disposable = { dispose() {} };
  const vscode = {
    DebugAdapterExecutable, DebugAdapterServer,
    StatusBarAlignment: { Left: 1, Right: 2 },
    window: {
      createStatusBarItem: () => ({
        ...disposable,
        set text(t: string) { calls.status.text = t; }, get text() { return calls.status.text; },
        set command(c: string) { calls.status.command = c; }, tooltip: '',
        show() { calls.status.shown = true; }, hide() { calls.status.shown = false; },
      }),
      showInputBox: async () => calls.inputs.shift(),
      showErrorMessage: async () => undefined,
      showInformationMessage: async () => undefined,
    },
    workspace: { getConfiguration: (section: string) => ({ get: (k: string) => settings[`${section}.${k}`] }) },
    debug: {
      registerDebugConfigurationProvider: (type: string, p: unknown) => { calls.providers.push([type, p]); return disposable; },
      registerDebugAdapterDescriptorFactory: (type: string, f: never) => { calls.factories.push([type, f]); return disposable; },
      onDidReceiveDebugSessionCustomEvent: (f: (e: unknown) => void) => { calls.onCustomEvent.push(f); return disposable; },
      onDidTerminateDebugSession: () => disposable,
      activeDebugSession: { type: 'vsmrr', customRequest: async (c: string, a: unknown) => { calls.customRequests.push([c, a]); return {}; } },
    },
    commands: { registerCommand: (name: string, f: (...a: unknown[]) => unknown) => { calls.commands.set(name, f); return disposable; } },
  };
  return { vscode, calls, DebugAdapterExecutable, DebugAdapterServer };
}

/** Load the packaged extension with `vscode` resolved to the stand-in. */
function loadExtension(vscode: unknown): { activate: (ctx: unknown) => void } {
  const req = createRequire(join(OUT, 'extension', 'out', 'extension.js'));
  const Module = req('node:module') as { _load: (r: string, ...rest: unknown[]) => unknown };
  const orig = Module._load;
  Module._load = function (r: string, ...rest: unknown[]) { return r === 'vscode' ? vscode : orig.call(this, r, ...rest); };
  try {
    const path = req.resolve(join(OUT, 'extension', 'out', 'extension.js'));
    delete (req.cache as Record<string, unknown>)[path];
    return req(path);
  } finally { Module._load = orig; }
}

describe('the VS Code extension package', () => {
  let manifest: Record<string, any>;

  beforeAll(() => {
    rmSync(TMP, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    // What `npm run package:extension` runs, written elsewhere.
    execFileSync('npx', ['tsc', '-p', 'vscode-extension'], { cwd: ROOT, stdio: 'pipe' });
    execFileSync(join(ROOT, 'node_modules', '.bin', 'vsce'), ['package', '--no-dependencies', '-o', VSIX], { cwd: join(ROOT, 'vscode-extension'), stdio: 'pipe' });
    execFileSync('unzip', ['-q', '-o', VSIX, '-d', OUT]);
    manifest = JSON.parse(readFileSync(join(OUT, 'extension', 'package.json'), 'utf8'));
  }, 120_000);

  it('the .vsix holds the manifest, the compiled extension and no sources', () => {
    const files = execFileSync('unzip', ['-Z1', VSIX], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(files).toContain('extension.vsixmanifest');
    expect(files).toContain('extension/package.json');
    expect(files).toContain(`extension/${manifest.main.replace(/^\.\//, '')}`);
    expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
    const xml = readFileSync(join(OUT, 'extension.vsixmanifest'), 'utf8');
    expect(xml).toMatch(/<Identity [^>]*Id="vsmrr-debug"[^>]*Version="0\.1\.0"[^>]*Publisher="vsmrr"/);
    expect(xml).toContain('Microsoft.VisualStudio.Code.Engine" Value="^1.66.0"');
  });

  it('contributes the vsmrr debug type with both launch forms, activates on it, and declares its commands', () => {
    const dbg = manifest.contributes.debuggers;
    expect(dbg.map((d: { type: string }) => d.type)).toEqual(['vsmrr']);
    expect(manifest.activationEvents).toContain('onDebugResolve:vsmrr');
    const props = dbg[0].configurationAttributes.launch.properties;
    for (const k of ['program', 'trace', 'symbols', 'smp', 'stopOnEntry']) expect(props[k], k).toBeDefined();
    for (const c of dbg[0].initialConfigurations) {
      expect(c).toMatchObject({ type: 'vsmrr', request: 'launch' });
      expect(c.program ?? c.trace).toBeTruthy();
    }
    const snippets = dbg[0].configurationSnippets.map((s: { body: Record<string, string> }) => s.body);
    expect(snippets.some((b: Record<string, string>) => b.program && !b.trace)).toBe(true);
    expect(snippets.some((b: Record<string, string>) => b.trace && !b.program)).toBe(true);
    const titles = manifest.contributes.commands.map((c: { category: string; title: string }) => `${c.category}: ${c.title}`);
    expect(titles).toContain('vsmrr: Go to Event');
    expect(titles).toContain('vsmrr: Go to Instruction Count');
  });

  it('activate() registers the debug type\'s provider and adapter factory, the commands, and the status bar item', async () => {
    const { vscode, calls, DebugAdapterExecutable, DebugAdapterServer } = fakeVscode({ 'vsmrr.command': '', 'vsmrr.adapterPort': 0 });
    const ext = loadExtension(vscode);
    ext.activate({ subscriptions: [] });
    expect(calls.providers.map(([t]) => t)).toEqual(['vsmrr']);
    expect(calls.factories.map(([t]) => t)).toEqual(['vsmrr']);
    expect([...calls.commands.keys()].sort()).toEqual(manifest.contributes.commands.map((c: { command: string }) => c.command).sort());

    // The adapter: `vsmrr dap` from PATH by default, `node <script> dap` for a .js, a port when set.
    const factory = calls.factories[0][1];
    const d1 = factory.createDebugAdapterDescriptor({}) as InstanceType<typeof DebugAdapterExecutable>;
    expect(d1).toBeInstanceOf(DebugAdapterExecutable);
    expect([d1.command, ...d1.args]).toEqual(['vsmrr', 'dap']);
    const other = fakeVscode({ 'vsmrr.command': '/opt/vsmrr/dist/cli/main.js', 'vsmrr.nodePath': '/usr/bin/node' });
    loadExtension(other.vscode).activate({ subscriptions: [] });
    const d2 = other.calls.factories[0][1].createDebugAdapterDescriptor({}) as InstanceType<typeof DebugAdapterExecutable>;
    expect([d2.command, ...d2.args]).toEqual(['/usr/bin/node', '/opt/vsmrr/dist/cli/main.js', 'dap']);
    const third = fakeVscode({ 'vsmrr.adapterPort': 4711 });
    loadExtension(third.vscode).activate({ subscriptions: [] });
    const d3 = third.calls.factories[0][1].createDebugAdapterDescriptor({}) as InstanceType<typeof DebugAdapterServer>;
    expect(d3).toBeInstanceOf(third.DebugAdapterServer);
    expect(d3.port).toBe(4711);

    // The status bar follows the adapter's position event.
    calls.onCustomEvent[0]({ session: { type: 'vsmrr' }, event: 'vsmrr/position', body: { icount: 1234567, vp: 0, vtl: 1, livePosition: 1234567, endPosition: null, kind: 'live' } });
    expect(calls.status.shown).toBe(true);
    expect(calls.status.text).toContain('1,234,567');
    expect(calls.status.text).toContain('VP0 VTL1');

    // The commands send the adapter's custom requests.
    calls.inputs.push('42', '0x1000');
    await calls.commands.get('vsmrr.gotoEvent')!();
    await calls.commands.get('vsmrr.gotoInstructionCount')!();
    expect(calls.customRequests).toEqual([['vsmrr/gotoEvent', { index: 42 }], ['vsmrr/gotoInstructionCount', { icount: 4096 }]]);

    // A configuration is given the workspace folder as cwd; one without program or trace is refused.
    const provider = calls.providers[0][1] as { resolveDebugConfiguration: (f: unknown, c: Record<string, unknown>) => unknown };
    expect(provider.resolveDebugConfiguration({ uri: { fsPath: '/ws' } }, { type: 'vsmrr', request: 'launch', name: 'x', program: 'a.elf' })).toMatchObject({ cwd: '/ws', program: 'a.elf' });
    expect(provider.resolveDebugConfiguration(undefined, { type: 'vsmrr', request: 'launch', name: 'x' })).toBeUndefined();
  });
});

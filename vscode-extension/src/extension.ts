// The vsmrr VS Code extension: contributes the `vsmrr` debug type and starts the debug adapter as a
// separate process, `vsmrr dap` (the emulator is CPU-heavy and must not run in the extension host),
// or connects to one already serving with `vsmrr dap --port P`. It shows the current instruction count
// and VTL in the status bar (from the adapter's `vsmrr/position` event) and offers commands that send
// the adapter's custom time-travel requests.

import * as vscode from 'vscode';

export const DEBUG_TYPE = 'vsmrr';

interface PositionBody { icount: number; vp: number; vtl: number; livePosition: number; endPosition: number | null; kind: 'live' | 'replay' }

/** How to start the adapter, from the `vsmrr.*` settings. */
export function adapterDescriptor(): vscode.DebugAdapterDescriptor {
  const cfg = vscode.workspace.getConfiguration('vsmrr');
  const port = cfg.get<number>('adapterPort') ?? 0;
  if (port) return new vscode.DebugAdapterServer(port, '127.0.0.1');
  const command = cfg.get<string>('command') || 'vsmrr';
  if (command.endsWith('.js')) return new vscode.DebugAdapterExecutable(cfg.get<string>('nodePath') || 'node', [command, 'dap']);
  return new vscode.DebugAdapterExecutable(command, ['dap']);
}

class ConfigurationProvider implements vscode.DebugConfigurationProvider {
  resolveDebugConfiguration(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.ProviderResult<vscode.DebugConfiguration> {
    // F5 without a launch.json: nothing says what to boot.
    if (!config.type && !config.request && !config.name) {
      void vscode.window.showInformationMessage('vsmrr: add a launch configuration with "program" (a guest to boot) or "trace" (a recording to replay).');
      return undefined;
    }
    if (!config.program && !config.trace) {
      void vscode.window.showErrorMessage('vsmrr: the launch configuration needs "program" (a Multiboot ELF to boot) or "trace" (a .vsmtrace to replay).');
      return undefined;
    }
    if (!config.cwd && folder) config.cwd = folder.uri.fsPath;
    return config;
  }
}

async function askNumber(prompt: string, placeHolder: string): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
    prompt, placeHolder,
    validateInput: (v) => (/^\s*(0x[0-9a-f]+|\d+)\s*$/i.test(v) ? null : 'a whole number (decimal or 0x…)'),
  });
  return text === undefined ? undefined : Number(text.trim());
}

function vsmrrSession(): vscode.DebugSession | undefined {
  const s = vscode.debug.activeDebugSession;
  if (!s || s.type !== DEBUG_TYPE) { void vscode.window.showErrorMessage('vsmrr: no vsmrr debug session is active'); return undefined; }
  return s;
}

async function send(command: string, args: Record<string, unknown>): Promise<void> {
  const s = vsmrrSession();
  if (!s) return;
  try { await s.customRequest(command, args); } catch (e) { void vscode.window.showErrorMessage(`vsmrr: ${(e as Error).message}`); }
}

export function statusText(b: PositionBody): string {
  return `$(history) vsmrr ${b.icount.toLocaleString('en-US')} · VP${b.vp} VTL${b.vtl}${b.kind === 'replay' ? ' (replay)' : ''}`;
}

export function activate(context: vscode.ExtensionContext): void {
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 100);
  status.command = 'vsmrr.gotoInstructionCount';
  status.tooltip = 'vsmrr: instruction count and VTL of the stopped thread (click to go to an instruction count)';
  context.subscriptions.push(
    status,
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new ConfigurationProvider()),
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, { createDebugAdapterDescriptor: () => adapterDescriptor() }),
    vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => {
      if (e.session.type !== DEBUG_TYPE || e.event !== 'vsmrr/position') return;
      status.text = statusText(e.body as PositionBody);
      status.show();
    }),
    vscode.debug.onDidTerminateDebugSession((s) => { if (s.type === DEBUG_TYPE) status.hide(); }),
    vscode.commands.registerCommand('vsmrr.gotoEvent', async () => {
      const index = await askNumber('Go to event number (as listed in the Events scope or by `vsmrr events`)', 'event index, e.g. 42');
      if (index !== undefined) await send('vsmrr/gotoEvent', { index });
    }),
    vscode.commands.registerCommand('vsmrr.gotoInstructionCount', async () => {
      const icount = await askNumber('Go to instruction count', 'instruction count, e.g. 100000');
      if (icount !== undefined) await send('vsmrr/gotoInstructionCount', { icount });
    }),
    vscode.commands.registerCommand('vsmrr.reverseToVtlTransition', () => send('vsmrr/reverseToEvent', { kind: 'vtl-transition' })),
  );
}

export function deactivate(): void {}

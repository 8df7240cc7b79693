/** The status-bar item: the active `.kvmmu` file's kernel, as the server resolved it ("KVM v6.4"). */
import * as vscode from 'vscode';
import type { KernelResult, Requester } from '../../core/src/protocol.js';
import { KernelRequest, LANGUAGE_ID } from '../../core/src/protocol.js';
import { SETTINGS_SECTION } from '../../core/src/settings.js';
import { COMMANDS } from './command_ids.js';

export class KernelStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('kvmmu.kernel', vscode.StatusBarAlignment.Right, 100);
  private readonly listeners: vscode.Disposable[];
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Each refresh gets a number; only the newest may write the item. */
  private generation = 0;

  constructor(private readonly server: Requester) {
    this.item.name = 'KVM MMU kernel';
    this.item.command = COMMANDS.compareWithKernel;
    this.listeners = [
      vscode.window.onDidChangeActiveTextEditor(() => this.refresh()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === vscode.window.activeTextEditor?.document) this.refreshSoon();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(SETTINGS_SECTION)) this.refreshSoon();
      }),
    ];
  }

  /** The file's kernel as the server resolved it, or undefined when the server cannot tell. */
  async kernelOf(document: vscode.TextDocument): Promise<KernelResult | undefined> {
    return this.server.request(KernelRequest, { uri: document.uri.toString() }).catch(() => undefined);
  }

  refresh(): void {
    const generation = ++this.generation;
    const doc = vscode.window.activeTextEditor?.document;
    if (!doc || doc.languageId !== LANGUAGE_ID) {
      this.item.hide();
      return;
    }
    void this.kernelOf(doc).then((kernel) => {
      if (generation !== this.generation) return;
      if (!kernel) return this.item.hide();
      this.item.text = `$(circuit-board) KVM ${kernel.label}`;
      this.item.tooltip = `kvmmu models this file on kernel ${kernel.label} (${kernel.era}), ${sourceText(kernel)}. Click to compare with another kernel.`;
      this.item.show();
    });
  }

  private refreshSoon(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), 300);
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const l of this.listeners) l.dispose();
    this.item.dispose();
  }
}

/** Where the kernel comes from, for the tooltip. */
export function sourceText(k: KernelResult): string {
  switch (k.source) {
    case 'file':
      return `from its kernel line (line ${(k.line ?? 0) + 1})`;
    case 'setting':
      return 'from the setting kvmmu.kernel.default';
    case 'default':
      return 'the default for files without a kernel line';
  }
}

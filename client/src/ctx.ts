/**
 * The extension's one context: it owns the language client, the settings view, the status-bar item
 * and every disposable. Commands and the root panel reach the server only through it.
 */
import * as vscode from 'vscode';
import type { LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';
import { LanguageClient, TransportKind } from 'vscode-languageclient/node';
import type { Settings } from '../../core/src/settings.js';
import { SETTINGS_SECTION, readSettings } from '../../core/src/settings.js';
import { LANGUAGE_ID } from './command_ids.js';
import type { PanelHost } from './panel/index.js';
import { KernelStatusBar } from './status_bar.js';

export class Ctx implements PanelHost, vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly restarted = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly output = vscode.window.createOutputChannel('KVM MMU Language Server', { log: true });
  readonly onDidRestartClient = this.restarted.event;
  readonly statusBar: KernelStatusBar;

  constructor(readonly context: vscode.ExtensionContext) {
    this.statusBar = new KernelStatusBar(this);
    this.disposables.push(this.output, this.restarted, this.statusBar);
  }

  settings(scope?: vscode.Uri): Settings {
    const config = vscode.workspace.getConfiguration(undefined, scope);
    return readSettings((key) => config.get(key));
  }

  async start(): Promise<void> {
    const module = this.context.asAbsolutePath('dist/server.js');
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
    };
    const clientOptions: LanguageClientOptions = {
      // No scheme: also untitled and virtual-workspace documents.
      documentSelector: [{ language: LANGUAGE_ID }],
      synchronize: { configurationSection: SETTINGS_SECTION },
      outputChannel: this.output,
    };
    // The id `kvmmu` makes the client honour `kvmmu.trace.server`.
    this.client = new LanguageClient('kvmmu', 'KVM MMU Language Server', serverOptions, clientOptions);
    await this.client.start();
  }

  async restart(): Promise<void> {
    if (!this.client) return this.start();
    await this.client.restart();
    this.restarted.fire();
    this.statusBar.refresh();
  }

  async sendRequest<R>(method: string, params: unknown): Promise<R> {
    if (!this.client) throw new Error('the kvmmu language server is not running');
    return this.client.sendRequest<R>(method, params);
  }

  push(...d: vscode.Disposable[]): void {
    this.disposables.push(...d);
  }

  async dispose(): Promise<void> {
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
    await this.client?.stop();
    this.client = undefined;
  }
}

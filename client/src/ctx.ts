/**
 * The extension's one context: it owns the language client, the settings view, the status-bar item
 * and every disposable. Commands and the root panel reach the server only through it.
 */
import * as vscode from 'vscode';
import type { BaseLanguageClient, LanguageClientOptions } from 'vscode-languageclient/node';
import type { RequestType } from '../../core/src/protocol.js';
import { LANGUAGE_ID } from '../../core/src/protocol.js';
import type { Settings } from '../../core/src/settings.js';
import { SETTINGS_SECTION, readSettings } from '../../core/src/settings.js';
import type { PanelHost } from './panel/index.js';
import { KernelStatusBar } from './status_bar.js';

/** Makes the language client: the server as a Node process (extension.ts) or in a web worker (browser.ts). */
export type ClientFactory = (context: vscode.ExtensionContext, options: LanguageClientOptions) => BaseLanguageClient;

export class Ctx implements PanelHost, vscode.Disposable {
  private client: BaseLanguageClient | undefined;
  private readonly restarted = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly output = vscode.window.createOutputChannel('KVM MMU Language Server', { log: true });
  readonly onDidRestartClient = this.restarted.event;
  readonly statusBar: KernelStatusBar;

  constructor(
    readonly context: vscode.ExtensionContext,
    private readonly createClient: ClientFactory,
  ) {
    this.statusBar = new KernelStatusBar(this);
    this.disposables.push(this.output, this.restarted, this.statusBar);
  }

  settings(scope?: vscode.Uri): Settings {
    const config = vscode.workspace.getConfiguration(undefined, scope);
    return readSettings((key) => config.get(key));
  }

  async start(): Promise<void> {
    const clientOptions: LanguageClientOptions = {
      // No scheme: also untitled and virtual-workspace documents.
      documentSelector: [{ language: LANGUAGE_ID }],
      synchronize: { configurationSection: SETTINGS_SECTION },
      outputChannel: this.output,
    };
    this.client = this.createClient(this.context, clientOptions);
    await this.client.start();
  }

  async restart(): Promise<void> {
    if (!this.client) return this.start();
    // A fresh client rather than `restart()`: a web worker, once its client stopped, is gone.
    const stopping = this.client;
    this.client = undefined;
    await stopping.dispose();
    await this.start();
    this.restarted.fire();
    this.statusBar.refresh();
  }

  async request<P, R>(request: RequestType<P, R>, params: P): Promise<R> {
    if (!this.client) throw new Error('the kvmmu language server is not running');
    return this.client.sendRequest<R>(request.method, params);
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

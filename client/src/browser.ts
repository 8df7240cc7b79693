/**
 * The web extension's entry (vscode.dev, github.dev): the same extension as extension.ts, with the language
 * server in a web worker (dist/web/server.js, the browser build of the same server). Everything in the
 * extension works there: nothing it does needs Node.
 */
import * as vscode from 'vscode';
import type { LanguageClientOptions } from 'vscode-languageclient/browser';
import { LanguageClient } from 'vscode-languageclient/browser';
import { CLIENT_ID, CLIENT_NAME } from './client_names.js';
import { registerCommands } from './commands.js';
import { Ctx } from './ctx.js';
import { activateRootPanel } from './panel/index.js';

/** The web extension host runs in a web worker, which can start workers of its own. */
declare const Worker: new (scriptUrl: string) => ConstructorParameters<typeof LanguageClient>[3];

let ctx: Ctx | undefined;

function startWorkerClient(context: vscode.ExtensionContext, options: LanguageClientOptions): LanguageClient {
  const serverMain = vscode.Uri.joinPath(context.extensionUri, 'dist/web/server.js');
  const worker = new Worker(serverMain.toString(true));
  return new LanguageClient(CLIENT_ID, CLIENT_NAME, options, worker);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  ctx = new Ctx(context, startWorkerClient);
  registerCommands(ctx);
  ctx.push(activateRootPanel(ctx));
  await ctx.start();
  ctx.statusBar.refresh();
}

export async function deactivate(): Promise<void> {
  await ctx?.dispose();
  ctx = undefined;
}

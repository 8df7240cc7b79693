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

/** What the extension host's worker scope offers (the client's tsconfig has no DOM library). */
interface ServerWorker {
  terminate(): void;
}
declare const Worker: new (scriptUrl: string) => ServerWorker;
declare const URL: { createObjectURL(blob: unknown): string };
declare const Blob: new (parts: Uint8Array[], options: { type: string }) => unknown;

let ctx: Ctx | undefined;

/**
 * Where the server's script is. VS Code's web extension host refuses to start a worker from an extension that is
 * installed on a remote (code-server, Codespaces in the browser: `vscode-remote:` URIs); there the script is read
 * through the file system API and started from a blob URL instead.
 */
async function serverScriptUrl(context: vscode.ExtensionContext): Promise<string> {
  const serverMain = vscode.Uri.joinPath(context.extensionUri, 'dist/web/server.js');
  if (serverMain.scheme !== 'vscode-remote') return serverMain.toString(true);
  const script = await vscode.workspace.fs.readFile(serverMain);
  return URL.createObjectURL(new Blob([script], { type: 'text/javascript' }));
}

/**
 * A fresh worker for every client (Restart Language Server makes a new client and ends the previous worker). The
 * worker itself is the client's transport: a function returning it would be checked with `instanceof Worker`,
 * which VS Code's wrapped `Worker` in the extension host fails.
 */
function workerClient(scriptUrl: string) {
  let current: ServerWorker | undefined;
  return (_context: vscode.ExtensionContext, options: LanguageClientOptions): LanguageClient => {
    current?.terminate();
    current = new Worker(scriptUrl);
    return new LanguageClient(CLIENT_ID, CLIENT_NAME, current, options);
  };
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  ctx = new Ctx(context, workerClient(await serverScriptUrl(context)));
  registerCommands(ctx);
  ctx.push(activateRootPanel(ctx));
  await ctx.start();
  ctx.statusBar.refresh();
}

export async function deactivate(): Promise<void> {
  await ctx?.dispose();
  ctx = undefined;
}

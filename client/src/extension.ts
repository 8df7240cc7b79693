import type * as vscode from 'vscode';
import { registerCommands } from './commands.js';
import { Ctx } from './ctx.js';
import { startNodeClient } from './node_client.js';
import { activateRootPanel } from './panel/index.js';
import { KvmmuTests } from './testing.js';

let ctx: Ctx | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  ctx = new Ctx(context, startNodeClient);
  registerCommands(ctx);
  ctx.push(activateRootPanel(ctx), new KvmmuTests(ctx));
  await ctx.start();
  ctx.statusBar.refresh();
}

export async function deactivate(): Promise<void> {
  await ctx?.dispose();
  ctx = undefined;
}

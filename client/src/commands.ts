/** Every command, registered from one table. */
import * as vscode from 'vscode';
import type { CommandId } from './command_ids.js';
import { COMMANDS } from './command_ids.js';
import { COMPARE_SCHEME, CompareDocuments, compareWithKernel } from './compare.js';
import type { Ctx } from './ctx.js';
import { exportTimeline } from './export_timeline.js';
import { openRootPanel } from './panel/index.js';

export function registerCommands(ctx: Ctx): void {
  const compareDocuments = new CompareDocuments();
  const table: Record<CommandId, () => Promise<void>> = {
    [COMMANDS.openRootPanel]: () => openRootPanel(ctx),
    [COMMANDS.compareWithKernel]: () => compareWithKernel(ctx, compareDocuments),
    [COMMANDS.exportTimeline]: () => exportTimeline(ctx),
    [COMMANDS.restartServer]: () => ctx.restart(),
  };
  ctx.push(vscode.workspace.registerTextDocumentContentProvider(COMPARE_SCHEME, compareDocuments));
  for (const [id, run] of Object.entries(table)) {
    ctx.push(
      vscode.commands.registerCommand(id, async () => {
        try {
          await run();
        } catch (e) {
          void vscode.window.showErrorMessage(`KVM MMU: ${e instanceof Error ? e.message : String(e)}`);
        }
      }),
    );
  }
}

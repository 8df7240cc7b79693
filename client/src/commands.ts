/** Every command, registered from one table. */
import * as vscode from 'vscode';
import type { CommandId } from './command_ids.js';
import { COMMANDS } from './command_ids.js';
import { compareWithKernel, whyDiffers } from './compare.js';
import type { Ctx } from './ctx.js';
import { exportTimeline } from './export_timeline.js';
import { openRootPanel } from './panel/index.js';

export function registerCommands(ctx: Ctx): void {
  const table: Record<CommandId, (...args: unknown[]) => Promise<void>> = {
    [COMMANDS.openRootPanel]: () => openRootPanel(ctx),
    [COMMANDS.compareWithKernel]: () => compareWithKernel(ctx),
    [COMMANDS.whyDiffers]: (...args) => whyDiffers(ctx, ...args),
    [COMMANDS.exportTimeline]: () => exportTimeline(ctx),
    [COMMANDS.restartServer]: () => ctx.restart(),
  };
  for (const [id, run] of Object.entries(table)) {
    ctx.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          await run(...args);
        } catch (e) {
          void vscode.window.showErrorMessage(`KVM MMU: ${e instanceof Error ? e.message : String(e)}`);
        }
      }),
    );
  }
}

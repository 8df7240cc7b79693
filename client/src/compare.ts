/**
 * Comparing kernels has one design: the root panel's compare mode. "Compare With Kernel…" picks a profile and opens
 * the panel comparing the cursor's line with it; the CodeLens "differs on … · why?" opens it on its line with the
 * kernel it names. In compare mode the panel lists the differing lines and, for the cursor's line, the behaviours
 * (commits) that explain the difference (`kvmmu/explain`).
 */
import * as vscode from 'vscode';
import { LANGUAGE_ID, ProfilesRequest } from '../../core/src/protocol.js';
import type { Ctx } from './ctx.js';
import { openRootPanelCompare } from './panel/index.js';

export async function compareWithKernel(ctx: Ctx): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== LANGUAGE_ID) {
    void vscode.window.showInformationMessage('Open a .kvmmu scenario to compare kernels.');
    return;
  }
  const doc = editor.document;
  const own = (await ctx.statusBar.kernelOf(doc))?.label ?? ctx.settings(doc.uri).kernelDefault;
  const { profiles } = await ctx.request(ProfilesRequest, {});
  const pick = await vscode.window.showQuickPick(
    profiles
      .filter((p) => p.name !== own)
      .map((p) => ({ label: p.name, description: p.release, detail: `era ${p.era}` })),
    { title: `Compare ${own} with…`, placeHolder: 'kernel profile (the root panel opens in compare mode)' },
  );
  if (!pick) return;
  await openRootPanelCompare(ctx, doc.uri, editor.selection.active.line, pick.label);
}

/** The CodeLens's command: (uri, 0-based line, kernel), as the server put them; checked, since any caller may run it. */
export async function whyDiffers(ctx: Ctx, ...args: unknown[]): Promise<void> {
  const [uri, line, kernel] = args;
  if (typeof uri !== 'string' || typeof line !== 'number' || !Number.isInteger(line) || line < 0) return;
  if (typeof kernel !== 'string' || kernel.length > 200) return;
  const target = vscode.Uri.parse(uri);
  const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri);
  if (editor) {
    const at = new vscode.Position(Math.min(line, editor.document.lineCount - 1), 0);
    editor.selection = new vscode.Selection(at, at);
  }
  await openRootPanelCompare(ctx, target, line, kernel);
}

/** KVM MMU: Export Timeline as JSON — the `kvmmu/timeline` result in an untitled JSON document. */
import * as vscode from 'vscode';
import { LANGUAGE_ID, TimelineRequest } from '../../core/src/protocol.js';
import type { Ctx } from './ctx.js';

export async function exportTimeline(ctx: Ctx): Promise<void> {
  const doc = vscode.window.activeTextEditor?.document;
  if (!doc || doc.languageId !== LANGUAGE_ID) {
    void vscode.window.showInformationMessage('Open a .kvmmu scenario to export its timeline.');
    return;
  }
  const timeline = await ctx.request(TimelineRequest, { uri: doc.uri.toString() });
  // Untitled: works in virtual and untrusted workspaces; the user saves it where they like.
  const json = await vscode.workspace.openTextDocument({
    language: 'json',
    content: `${JSON.stringify(timeline, null, 2)}\n`,
  });
  await vscode.window.showTextDocument(json, { preview: false });
}

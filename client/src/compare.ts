/** KVM MMU: Compare With Kernel… — pick a profile, read the lines whose outcome differs, read-only. */
import * as vscode from 'vscode';
import type { CompareResult, ProfilesResult } from '../../core/src/protocol.js';
import { CompareRequest, ProfilesRequest } from '../../core/src/protocol.js';
import type { Ctx } from './ctx.js';

export const COMPARE_SCHEME = 'kvmmu-compare';

/** Virtual documents holding comparison reports, read-only by construction. */
export class CompareDocuments implements vscode.TextDocumentContentProvider {
  private readonly reports = new Map<string, string>();

  add(uri: vscode.Uri, text: string): void {
    this.reports.set(uri.toString(), text);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.reports.get(uri.toString()) ?? '';
  }
}

export function renderComparison(file: string, r: CompareResult): string {
  const head = [`# ${file}: ${r.kernelA} vs ${r.kernelB}`, ''];
  if (r.lines.length === 0)
    return [...head, `No line's outcome differs between ${r.kernelA} and ${r.kernelB}.`, ''].join('\n');
  const width = Math.max(r.kernelA.length, r.kernelB.length);
  const body = r.lines.flatMap((l) => [
    `line ${l.line + 1}: ${l.text}`,
    `  ${r.kernelA.padEnd(width)}  ${l.a || '(nothing)'}`,
    `  ${r.kernelB.padEnd(width)}  ${l.b || '(nothing)'}`,
    '',
  ]);
  return [...head, `${r.lines.length} line${r.lines.length === 1 ? '' : 's'} differ:`, '', ...body].join('\n');
}

export async function compareWithKernel(ctx: Ctx, documents: CompareDocuments): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== 'kvmmu') {
    void vscode.window.showInformationMessage('Open a .kvmmu scenario to compare kernels.');
    return;
  }
  const doc = editor.document;
  const own = (await ctx.statusBar.kernelOf(doc)) ?? ctx.settings(doc.uri).kernelDefault;
  const { profiles } = await ctx.sendRequest<ProfilesResult>(ProfilesRequest, {});
  const pick = await vscode.window.showQuickPick(
    profiles
      .filter((p) => p.name !== own)
      .map((p) => ({ label: p.name, description: p.release, detail: `era ${p.era}` })),
    { title: `Compare ${own} with…`, placeHolder: 'kernel profile' },
  );
  if (!pick) return;
  const result = await ctx.sendRequest<CompareResult>(CompareRequest, {
    uri: doc.uri.toString(),
    kernelA: own,
    kernelB: pick.label,
  });
  const name = doc.uri.path.split('/').pop() ?? 'scenario';
  const uri = vscode.Uri.from({
    scheme: COMPARE_SCHEME,
    path: `/${name} (${result.kernelA} vs ${result.kernelB}).txt`,
    query: String(Date.now()),
  });
  documents.add(uri, renderComparison(name, result));
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), {
    viewColumn: vscode.ViewColumn.Beside,
    preview: true,
  });
}

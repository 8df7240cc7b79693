import type { CodeAction, CodeActionParams } from 'vscode-languageserver/node';
import { CodeActionKind } from 'vscode-languageserver/node';
import { codeActions } from '../../../core/src/features/code_actions.js';
import type { ServerContext } from '../context.js';
import { guard } from '../context.js';
import { toLspDiagnostic, toLspEdit } from '../convert.js';

export function registerCodeActions(ctx: ServerContext): void {
  ctx.connection.onCodeAction(
    guard(ctx, 'codeAction', [] as CodeAction[], (p: CodeActionParams): CodeAction[] => {
      const uri = p.textDocument.uri;
      const analysis = ctx.store.analysis(uri);
      if (!analysis || !p.range) return [];
      const range = {
        startLine: p.range.start.line,
        startCharacter: p.range.start.character,
        endLine: p.range.end.line,
        endCharacter: p.range.end.character,
      };
      return codeActions(analysis.diagnostics, range).map((a) => ({
        title: a.title,
        kind: CodeActionKind.QuickFix,
        isPreferred: a.preferred,
        diagnostics: [toLspDiagnostic(a.diagnostic)],
        edit: { changes: { [uri]: a.edits.map(toLspEdit) } },
      }));
    }),
  );
}

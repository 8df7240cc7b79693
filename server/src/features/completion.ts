import type { CompletionItem, CompletionParams } from 'vscode-languageserver/node';
import { CompletionItemKind, InsertTextFormat, MarkupKind } from 'vscode-languageserver/node';
import type { CompletionKind } from '../../../core/src/features/completion.js';
import { complete } from '../../../core/src/features/completion.js';
import type { ServerContext } from '../context.js';
import { guard } from '../context.js';
import { safeLine } from '../convert.js';

const KIND: Record<CompletionKind, CompletionItemKind> = {
  keyword: CompletionItemKind.Keyword,
  register: CompletionItemKind.Variable,
  flag: CompletionItemKind.EnumMember,
  profile: CompletionItemKind.Module,
  behaviour: CompletionItemKind.Property,
  key: CompletionItemKind.Property,
  value: CompletionItemKind.Value,
  path: CompletionItemKind.Field,
  operator: CompletionItemKind.Operator,
  snippet: CompletionItemKind.Snippet,
};

export function registerCompletion(ctx: ServerContext): void {
  ctx.connection.onCompletion(
    guard(ctx, 'completion', [] as CompletionItem[], (p: CompletionParams): CompletionItem[] => {
      const analysis = ctx.store.analysis(p.textDocument.uri);
      const line = safeLine(p.position?.line);
      if (!analysis || line < 0) return [];
      const text = analysis.lines.line(line);
      if (text === undefined) return [];
      const character = Math.min(Math.max(0, safeLine(p.position.character)), text.length);
      const firstEvent = analysis.steps.at(0)?.line ?? Number.POSITIVE_INFINITY;
      const items = complete(analysis.kernel, text, character, line > firstEvent);
      // A client without snippet support would insert `${1:…}` literally: it gets no snippets.
      const usable = ctx.clientSupports.snippets ? items : items.filter((item) => item.kind !== 'snippet');
      return usable.map((item, i) => ({
        label: item.label,
        kind: KIND[item.kind],
        ...(item.kind === 'snippet' ? { insertTextFormat: InsertTextFormat.Snippet } : {}),
        sortText: String(i).padStart(4, '0'),
        ...(item.detail ? { detail: item.detail } : {}),
        ...(item.documentation ? { documentation: { kind: MarkupKind.Markdown, value: item.documentation } } : {}),
        textEdit: {
          range: { start: { line, character: item.replace.start }, end: { line, character: item.replace.end } },
          newText: item.insertText ?? item.label,
        },
      }));
    }),
  );
}

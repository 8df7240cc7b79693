import type { DocumentSymbol as LspSymbol, DocumentSymbolParams } from 'vscode-languageserver/node';
import { SymbolKind } from 'vscode-languageserver/node';
import type { DocumentSymbol, SymbolKind as CoreKind } from '../../../core/src/features/outline.js';
import { documentSymbols } from '../../../core/src/features/outline.js';
import type { ServerContext } from '../context.js';
import { guard } from '../context.js';
import { spanToRange } from '../convert.js';

const KIND: Record<CoreKind, SymbolKind> = {
  header: SymbolKind.Namespace,
  kernel: SymbolKind.Constant,
  vm: SymbolKind.Object,
  vcpu: SymbolKind.Class,
  nested: SymbolKind.Struct,
  event: SymbolKind.Event,
  expect: SymbolKind.Boolean,
  decode: SymbolKind.Number,
};

function toLsp(s: DocumentSymbol): LspSymbol {
  return {
    name: s.name || '(statement)',
    ...(s.detail ? { detail: s.detail } : {}),
    kind: KIND[s.kind],
    range: {
      start: { line: s.range.startLine, character: s.range.startCharacter },
      end: { line: s.range.endLine, character: s.range.endCharacter },
    },
    selectionRange: spanToRange(s.selection),
    children: s.children.map(toLsp),
  };
}

export function registerSymbols(ctx: ServerContext): void {
  ctx.connection.onDocumentSymbol(
    guard(ctx, 'documentSymbol', [] as LspSymbol[], (p: DocumentSymbolParams): LspSymbol[] => {
      const analysis = ctx.store.analysis(p.textDocument.uri);
      if (!analysis) return [];
      return documentSymbols(analysis.parse, analysis.lines).map(toLsp);
    }),
  );
}

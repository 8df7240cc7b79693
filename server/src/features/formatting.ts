import type { DocumentFormattingParams, TextEdit } from 'vscode-languageserver/node';
import { formatDocument } from '../../../core/src/features/format.js';
import type { ServerContext } from '../context.js';
import { guard } from '../context.js';
import { toLspEdit } from '../convert.js';

export function registerFormatting(ctx: ServerContext): void {
  ctx.connection.onDocumentFormatting(
    guard(ctx, 'formatting', [] as TextEdit[], (p: DocumentFormattingParams): TextEdit[] => {
      const analysis = ctx.store.analysis(p.textDocument.uri);
      if (!analysis) return [];
      return formatDocument(analysis.parse, analysis.lines).map(toLspEdit);
    }),
  );
}

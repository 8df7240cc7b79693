import type { FoldingRange, FoldingRangeParams } from 'vscode-languageserver/node';
import { FoldingRangeKind } from 'vscode-languageserver/node';
import { foldingRanges } from '../../../core/src/features/outline.js';
import type { ServerContext } from '../context.js';
import { guard } from '../context.js';

export function registerFolding(ctx: ServerContext): void {
  ctx.connection.onFoldingRanges(
    guard(ctx, 'foldingRange', [] as FoldingRange[], (p: FoldingRangeParams): FoldingRange[] => {
      const analysis = ctx.store.analysis(p.textDocument.uri);
      if (!analysis) return [];
      return foldingRanges(analysis.parse, analysis.lines).map((f) => ({
        startLine: f.startLine,
        endLine: f.endLine,
        kind: f.kind === 'comment' ? FoldingRangeKind.Comment : FoldingRangeKind.Region,
      }));
    }),
  );
}

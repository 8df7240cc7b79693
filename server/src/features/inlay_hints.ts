import type { InlayHint, InlayHintLabelPart, InlayHintParams } from 'vscode-languageserver/node';
import { inlayHints } from '../../../core/src/features/hints.js';
import type { ServerContext } from '../context.js';
import { guard } from '../context.js';
import { spanToRange } from '../convert.js';

export function registerInlayHints(ctx: ServerContext): void {
  ctx.connection.languages.inlayHint.on(
    guard(ctx, 'inlayHint', [] as InlayHint[], (p: InlayHintParams): InlayHint[] => {
      const uri = p.textDocument.uri;
      if (!ctx.settings.get(uri).inlayHintsEnabled) return [];
      const analysis = ctx.store.analysis(uri);
      if (!analysis) return [];
      const range = p.range ? { startLine: p.range.start.line, endLine: p.range.end.line } : undefined;
      return inlayHints(analysis, range).map((h) => {
        const label: InlayHintLabelPart[] = h.parts.map((part) => {
          const allocatedAt = part.root === undefined ? undefined : analysis.rootLines(part.root)[0];
          const span = allocatedAt === undefined ? undefined : analysis.parse.lines[allocatedAt]?.statement?.span;
          return span
            ? {
                value: part.text,
                location: { uri, range: spanToRange(span) },
                tooltip: `root #${part.root} — allocated on line ${span.line + 1}`,
              }
            : { value: part.text };
        });
        return {
          position: { line: h.line, character: h.character },
          label,
          paddingLeft: true,
          tooltip: h.tooltip || undefined,
        };
      });
    }),
  );
}

/** Asks the client to re-request hints (settings changed). */
export function refreshInlayHints(ctx: ServerContext): void {
  if (ctx.clientSupports.inlayHintRefresh) ctx.connection.languages.inlayHint.refresh().catch(() => undefined);
}

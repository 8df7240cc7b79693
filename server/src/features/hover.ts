import type { Hover, HoverParams } from 'vscode-languageserver/node';
import { MarkupKind } from 'vscode-languageserver/node';
import { hover } from '../../../core/src/features/hover.js';
import type { ServerContext } from '../context.js';
import { guard } from '../context.js';
import { safeLine } from '../convert.js';

export function registerHover(ctx: ServerContext): void {
  ctx.connection.onHover(
    guard(ctx, 'hover', null, (p: HoverParams): Hover | null => {
      const analysis = ctx.store.analysis(p.textDocument.uri);
      if (!analysis) return null;
      const h = hover(analysis, safeLine(p.position?.line), safeLine(p.position?.character));
      if (!h) return null;
      return {
        contents: { kind: MarkupKind.Markdown, value: h.markdown },
        range: { start: { line: h.line, character: h.start }, end: { line: h.line, character: h.end } },
      };
    }),
  );
}

import type {
  DefinitionParams,
  DocumentHighlight,
  DocumentHighlightParams,
  Location,
  ReferenceParams,
} from 'vscode-languageserver/node';
import { DocumentHighlightKind } from 'vscode-languageserver/node';
import { definition, references } from '../../../core/src/features/navigation.js';
import type { ServerContext } from '../context.js';
import { guard } from '../context.js';
import { safeLine, spanToRange } from '../convert.js';

export function registerNavigation(ctx: ServerContext): void {
  ctx.connection.onDefinition(
    guard(ctx, 'definition', [] as Location[], (p: DefinitionParams): Location[] => {
      const uri = p.textDocument.uri;
      const analysis = ctx.store.analysis(uri);
      if (!analysis) return [];
      return definition(analysis, safeLine(p.position?.line), safeLine(p.position?.character)).map((s) => ({
        uri,
        range: spanToRange(s),
      }));
    }),
  );
  ctx.connection.onReferences(
    guard(ctx, 'references', [] as Location[], (p: ReferenceParams): Location[] => {
      const uri = p.textDocument.uri;
      const analysis = ctx.store.analysis(uri);
      if (!analysis) return [];
      const include = p.context?.includeDeclaration ?? true;
      return references(analysis, safeLine(p.position?.line), safeLine(p.position?.character), include).map((s) => ({
        uri,
        range: spanToRange(s),
      }));
    }),
  );
  ctx.connection.onDocumentHighlight(
    guard(ctx, 'documentHighlight', [] as DocumentHighlight[], (p: DocumentHighlightParams): DocumentHighlight[] => {
      const analysis = ctx.store.analysis(p.textDocument.uri);
      if (!analysis) return [];
      return references(analysis, safeLine(p.position?.line), safeLine(p.position?.character), true).map((s, i) => ({
        range: spanToRange(s),
        kind: i === 0 ? DocumentHighlightKind.Write : DocumentHighlightKind.Read,
      }));
    }),
  );
}

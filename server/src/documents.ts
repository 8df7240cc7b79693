/**
 * Open documents and their analyses. One analysis per (document text, the document's default kernel): keyed on the content, not
 * only the version, because a client may reuse a version number (a re-didOpen, a buggy didChange) and must still
 * get the analysis of what it sent. Requests for an older version are answered from the newest. Documents over the size cap get one diagnostic and no
 * analysis, so nothing downstream ever sees them.
 */
import { TextDocument } from 'vscode-languageserver-textdocument';
import { TextDocuments } from 'vscode-languageserver/node';
import type { Analysis, AnalyzeOptions } from '../../core/src/engine/analysis.js';
import type { Diagnostic } from '../../core/src/syntax/ast.js';

export const MAX_DOCUMENT_CHARS = 20_000_000;
export const MAX_DOCUMENT_LINES = 2_000_000;

/**
 * The engine. `previous` is the last analysis of the same document (an older version): the engine may reuse it
 * (core's `reanalyze` re-parses from the first changed line and resumes from a model checkpoint).
 */
export type Analyzer = (text: string, options: AnalyzeOptions, previous?: Analysis) => Analysis;

export type DocumentState =
  | { kind: 'analysed'; document: TextDocument; analysis: Analysis }
  | { kind: 'too_large'; document: TextDocument; diagnostic: Diagnostic };

interface CacheEntry {
  /** The text analysed (compared by identity first: an unchanged document keeps the same string). */
  text: string;
  key: string;
  state: DocumentState;
}

export class DocumentStore {
  readonly documents = new TextDocuments(TextDocument);
  private readonly cache = new Map<string, CacheEntry>();
  /** Analyses under other kernels (stateAt with `kernel`, compare): a few per document. */
  private readonly alternates = new Map<string, Map<string, Analysis>>();

  constructor(
    private readonly analyzer: Analyzer,
    /** `kvmmu.kernel.default` as it applies to the document. */
    private readonly defaultKernel: (uri: string) => string,
  ) {
    this.documents.onDidClose((e) => this.forget(e.document.uri));
  }

  get(uri: string): TextDocument | undefined {
    return this.documents.get(uri);
  }

  forget(uri: string): void {
    this.cache.delete(uri);
    this.alternates.delete(uri);
  }

  /** Drops every analysis (settings changed). */
  invalidateAll(): void {
    this.cache.clear();
    this.alternates.clear();
  }

  /** The document's state at its current version, analysing it if needed. Undefined for unknown URIs. */
  state(uri: string): DocumentState | undefined {
    const document = this.documents.get(uri);
    if (!document) return undefined;
    const key = this.defaultKernel(uri);
    const text = document.getText();
    const hit = this.cache.get(uri);
    if (hit && hit.text === text && hit.key === key) {
      // Same text, maybe a newer document object or version: answer with the current one.
      if (hit.state.document !== document) hit.state = { ...hit.state, document };
      return hit.state;
    }
    const previous = hit?.key === key && hit.state.kind === 'analysed' ? hit.state.analysis : undefined;
    const state = this.compute(document, { defaultKernel: key }, previous);
    this.cache.set(uri, { text, key, state });
    this.alternates.delete(uri);
    return state;
  }

  analysis(uri: string): Analysis | undefined {
    const s = this.state(uri);
    return s?.kind === 'analysed' ? s.analysis : undefined;
  }

  /** The analysis of the current text under another kernel (e.g. "v6.3 +tdp_mmu_root_ref"). */
  analysisUnder(uri: string, kernel: string): Analysis | undefined {
    const own = this.state(uri);
    if (own?.kind !== 'analysed') return undefined;
    let perDoc = this.alternates.get(uri);
    if (!perDoc) {
      perDoc = new Map<string, Analysis>();
      this.alternates.set(uri, perDoc);
    }
    const cached = perDoc.get(kernel);
    if (cached) return cached;
    const a = this.analyzer(own.document.getText(), {
      defaultKernel: this.defaultKernel(uri),
      kernelOverride: kernel,
    });
    if (perDoc.size >= 4) perDoc.delete(perDoc.keys().next().value as string);
    perDoc.set(kernel, a);
    return a;
  }

  private compute(document: TextDocument, options: AnalyzeOptions, previous?: Analysis): DocumentState {
    const text = document.getText();
    if (text.length > MAX_DOCUMENT_CHARS || document.lineCount > MAX_DOCUMENT_LINES) {
      return {
        kind: 'too_large',
        document,
        diagnostic: {
          span: { line: 0, start: 0, end: 0 },
          severity: 'error',
          code: 'too-large',
          message: `document too large to analyse (${document.lineCount} lines, ${text.length} characters; the limit is ${MAX_DOCUMENT_LINES} lines and ${MAX_DOCUMENT_CHARS} characters)`,
        },
      };
    }
    return { kind: 'analysed', document, analysis: this.analyzer(text, options, previous) };
  }
}

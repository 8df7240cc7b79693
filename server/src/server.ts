/**
 * The language server: wires core features to an LSP connection. Only this package knows LSP; every
 * answer comes from core/src/features over the document's Analysis.
 */
import type { Connection, InitializeParams, InitializeResult } from 'vscode-languageserver/node';
import { TextDocumentSyncKind } from 'vscode-languageserver/node';
import type { ServerContext } from './context.js';
import { DiagnosticsPublisher } from './diagnostics.js';
import type { Analyzer } from './documents.js';
import { DocumentStore } from './documents.js';
import { registerCodeActions } from './features/code_actions.js';
import { registerCompletion } from './features/completion.js';
import { registerCrossKernel } from './features/cross_kernel.js';
import { registerCustomRequests } from './features/custom_requests.js';
import { registerFolding } from './features/folding.js';
import { registerFormatting } from './features/formatting.js';
import { registerHover } from './features/hover.js';
import { refreshInlayHints, registerInlayHints } from './features/inlay_hints.js';
import { registerNavigation } from './features/navigation.js';
import { registerSymbols } from './features/symbols.js';
import { SettingsHolder } from './settings.js';

export const SERVER_NAME = 'kvmmu-language-server';
export const SERVER_VERSION = '0.1.0';
/** `=` opens a `vm` key's values, `|` the next flag; nothing else pops the list up unasked. */
export const COMPLETION_TRIGGERS = ['=', '|'];

export interface ServerOptions {
  /** Diagnostics debounce; tests use 0. */
  debounceMs?: number;
  /** The engine (core's `analyze`; main.ts passes it, tests may wrap it). */
  analyzer: Analyzer;
}

export interface RunningServer {
  /** Whether the client sent `shutdown` (the exit code says so when the transport closes). */
  readonly shutdownReceived: boolean;
}

export function startServer(connection: Connection, options: ServerOptions): RunningServer {
  const running = { shutdownReceived: false };
  const settings = new SettingsHolder(connection);
  const store = new DocumentStore(options.analyzer, (uri) => settings.get(uri).kernelDefault);
  const ctx: ServerContext = {
    connection,
    store,
    settings,
    initialized: false,
    clientSupports: { inlayHintRefresh: false, hierarchicalSymbols: true, snippets: false },
  };
  const diagnostics = new DiagnosticsPublisher(ctx, options.debounceMs ?? 150);

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    const caps = params.capabilities ?? {};
    settings.canPull = !!caps.workspace?.configuration;
    ctx.clientSupports.inlayHintRefresh = !!caps.workspace?.inlayHint?.refreshSupport;
    ctx.clientSupports.snippets = !!caps.textDocument?.completion?.completionItem?.snippetSupport;
    ctx.initialized = true;
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        inlayHintProvider: { resolveProvider: false },
        // Few trigger characters: a list that pops up after every space is one Enter away from swallowing the
        // line break (typing `kernel v6.3⏎vm …` made one line). Words trigger completion as they are typed anyway.
        completionProvider: { triggerCharacters: COMPLETION_TRIGGERS },
        documentSymbolProvider: true,
        foldingRangeProvider: true,
        documentFormattingProvider: true,
        codeActionProvider: { codeActionKinds: ['quickfix'] },
        definitionProvider: true,
        referencesProvider: true,
        documentHighlightProvider: true,
        codeLensProvider: { resolveProvider: false },
      },
      serverInfo: { name: SERVER_NAME, version: SERVER_VERSION },
    };
  });

  const openUris = (): string[] => store.documents.all().map((d) => d.uri);
  connection.onInitialized(() => {
    void settings.refresh(openUris()).then(() => diagnostics.scheduleAll());
  });

  connection.onDidChangeConfiguration((change) => {
    void settings.refresh(openUris(), change?.settings).then(() => {
      store.invalidateAll();
      diagnostics.scheduleAll();
      refreshInlayHints(ctx);
    });
  });

  // A document's first diagnostics wait for its own settings (a folder may name another default kernel).
  store.documents.onDidOpen((e) => {
    const uri = e.document.uri;
    if (settings.known(uri)) return;
    void settings.load(uri).then((changed) => {
      diagnostics.schedule(uri);
      if (changed) refreshInlayHints(ctx);
    });
  });
  store.documents.onDidChangeContent((e) => {
    if (settings.known(e.document.uri)) diagnostics.schedule(e.document.uri);
  });
  store.documents.onDidClose((e) => {
    diagnostics.clear(e.document.uri);
    settings.forget(e.document.uri);
  });
  connection.onShutdown(() => {
    running.shutdownReceived = true;
    diagnostics.dispose();
  });

  registerHover(ctx);
  registerInlayHints(ctx);
  registerCompletion(ctx);
  registerSymbols(ctx);
  registerFolding(ctx);
  registerFormatting(ctx);
  registerCodeActions(ctx);
  registerNavigation(ctx);
  registerCustomRequests(ctx);
  // Its runs are keyed on the document version and the default kernel: a settings change starts them over.
  registerCrossKernel(ctx);

  store.documents.listen(connection);
  return running;
}

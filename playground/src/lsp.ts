/**
 * The playground's language client: @codemirror/lsp-client talking to the browser build of the kvmmu
 * language server (server.js) in a dedicated web worker, JSON-RPC objects over postMessage.
 */
import { LSPClient, languageServerExtensions, type Transport } from '@codemirror/lsp-client';
import DOMPurify from 'dompurify';
import type { RequestType } from '../../core/src/protocol.js';
import { SETTINGS_SECTION } from '../../core/src/settings.js';

/** The one document the playground edits. */
export const DOCUMENT_URI = 'file:///playground/scenario.kvmmu';
/** Large scenarios take longer than lsp-client's default 3 s on a slow machine. */
const REQUEST_TIMEOUT_MS = 15_000;

export interface ClientHooks {
  /** The server published diagnostics for a version: its analysis of that version is done. */
  onAnalysed(version: number | undefined): void;
  /** The worker failed (script error, out of memory): the editor keeps working without the server. */
  onWorkerError(message: string): void;
}

/** Messages the worker posts are JSON-RPC objects; lsp-client speaks JSON strings. */
function workerTransport(worker: Worker, hooks: ClientHooks): Transport {
  let handlers: ((value: string) => void)[] = [];
  worker.addEventListener('message', (e: MessageEvent<unknown>) => {
    const text = JSON.stringify(e.data);
    for (const h of handlers) h(text);
  });
  worker.addEventListener('error', (e: ErrorEvent) => hooks.onWorkerError(e.message || 'the language server stopped'));
  return {
    send: (message) => worker.postMessage(JSON.parse(message)),
    subscribe: (handler) => handlers.push(handler),
    unsubscribe: (handler) => (handlers = handlers.filter((h) => h !== handler)),
  };
}

// Links in hovers (elixir.bootlin.com identifiers) open beside the playground, never in place of it.
DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

export function startClient(workerUrl: string, hooks: ClientHooks): LSPClient {
  const worker = new Worker(workerUrl);
  const client = new LSPClient({
    timeout: REQUEST_TIMEOUT_MS,
    // Hovers are Markdown from the server and quote the scenario: the HTML marked makes of them goes through
    // DOMPurify, so no scenario text ever becomes markup (the page's CSP would stop scripts regardless).
    sanitizeHTML: (html) => DOMPurify.sanitize(html, { ALLOWED_URI_REGEXP: /^https:\/\//i, FORBID_ATTR: ['style'] }),
    notificationHandlers: {
      'textDocument/publishDiagnostics': (_client, params: { uri?: unknown; version?: unknown }) => {
        if (params.uri === DOCUMENT_URI)
          hooks.onAnalysed(typeof params.version === 'number' ? params.version : undefined);
        return false; // lsp-client's own handler shows them
      },
    },
    extensions: languageServerExtensions(),
  });
  client.connect(workerTransport(worker, hooks));
  return client;
}

/** Settings are pushed (lsp-client answers no `workspace/configuration`); the server reads this shape. */
export function pushSettings(client: LSPClient, kernelDefault: string): void {
  client.notification('workspace/didChangeConfiguration', {
    settings: { [SETTINGS_SECTION]: { kernel: { default: kernelDefault }, inlayHints: { enabled: true } } },
  });
}

/** The version lsp-client last sent for the document (the server answers custom requests for it). */
export function syncedVersion(client: LSPClient): number | undefined {
  client.sync();
  return client.workspace.getFile(DOCUMENT_URI)?.version;
}

/** A custom request (core/src/protocol.ts) with its params and result typed. */
export function request<P, R>(client: LSPClient, type: RequestType<P, R>, params: P): Promise<R> {
  return client.request<P, R>(type.method, params);
}

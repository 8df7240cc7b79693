/**
 * The real server in-process over a pair of streams, driven by a bare JSON-RPC client with real LSP
 * messages. No sleeps: tests wait for the notifications themselves.
 */
import { PassThrough } from 'node:stream';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import { StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';
import type { Diagnostic, PublishDiagnosticsParams } from 'vscode-languageserver/node';
import { createConnection } from 'vscode-languageserver/node';
import { LANGUAGE_ID, type RequestType } from '../../core/src/protocol.js';
import type { Analyzer } from '../src/documents.js';
import { startServer } from '../src/server.js';
import { TRANSPORT, browserTransport } from './transport.js';
import { createStreamTransport } from '../src/transport.js';

export interface TestClient {
  rpc: MessageConnection;
  /** Settings the client answers `workspace/configuration` with (mutable). */
  settings: Record<string, unknown>;
  /**
   * Per scope: when set, an item with a `scopeUri` is answered with this function's result instead (a folder's or
   * a file's own settings). Every item asked for is recorded in `asked`.
   */
  scoped?: (scopeUri: string) => Record<string, unknown> | undefined;
  asked: { scopeUri?: string; section?: string }[];
  open(uri: string, text: string, version?: number): Promise<Diagnostic[]>;
  change(uri: string, version: number, text: string): void;
  /** Resolves with the next diagnostics published for `uri`, whatever their version. */
  nextDiagnostics(uri: string): Promise<PublishDiagnosticsParams>;
  /** Resolves with the first diagnostics published for `uri` at `version` or later. */
  diagnostics(uri: string, version: number): Promise<PublishDiagnosticsParams>;
  request<R>(method: string, params: unknown): Promise<R>;
  /** A custom request of core/src/protocol.ts, typed. */
  call<P, R>(request: RequestType<P, R>, params: P): Promise<R>;
  /** Changes the settings the client reports and resolves when the server has asked for hints again. */
  configure(settings: Record<string, unknown>): Promise<void>;
  stop(): Promise<void>;
}

export async function startClient(analyzer: Analyzer, settings: Record<string, unknown> = {}): Promise<TestClient> {
  const { server, rpc } = TRANSPORT === 'browser' ? browserTransport(analyzer) : streamTransport(analyzer);
  const published: PublishDiagnosticsParams[] = [];
  const waiters: { uri: string; version: number; resolve: (p: PublishDiagnosticsParams) => void }[] = [];
  const refreshWaiters: (() => void)[] = [];
  const client: TestClient = {
    rpc,
    settings,
    asked: [],
    async open(uri, text, version = 1) {
      const wait = client.diagnostics(uri, version);
      await rpc.sendNotification('textDocument/didOpen', {
        textDocument: { uri, languageId: LANGUAGE_ID, version, text },
      });
      return (await wait).diagnostics;
    },
    change(uri, version, text) {
      void rpc.sendNotification('textDocument/didChange', {
        textDocument: { uri, version },
        contentChanges: [{ text }],
      });
    },
    nextDiagnostics(uri) {
      return new Promise((resolve) => waiters.push({ uri, version: Number.NEGATIVE_INFINITY, resolve }));
    },
    diagnostics(uri, version) {
      const done = published.find((p) => p.uri === uri && (p.version ?? 0) >= version);
      if (done) return Promise.resolve(done);
      return new Promise((resolve) => waiters.push({ uri, version, resolve }));
    },
    request: <R>(method: string, params: unknown) => rpc.sendRequest<R>(method, params),
    call: <P, R>(request: RequestType<P, R>, params: P) => rpc.sendRequest<R>(request.method, params),
    async configure(next) {
      client.settings = next;
      const refreshed = new Promise<void>((resolve) => refreshWaiters.push(resolve));
      await rpc.sendNotification('workspace/didChangeConfiguration', { settings: null });
      await refreshed;
    },
    async stop() {
      await rpc.sendRequest('shutdown');
      rpc.dispose();
      server.dispose();
    },
  };
  rpc.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
    published.push(p);
    for (const w of [...waiters]) {
      if (w.uri === p.uri && (p.version ?? 0) >= w.version) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(p);
      }
    }
  });
  rpc.onRequest('workspace/configuration', (p: { items: { scopeUri?: string; section?: string }[] }) =>
    p.items.map((item) => {
      client.asked.push(item);
      return (item.scopeUri !== undefined ? client.scoped?.(item.scopeUri) : undefined) ?? client.settings;
    }),
  );
  rpc.onRequest('workspace/inlayHint/refresh', () => {
    for (const resolve of refreshWaiters.splice(0)) resolve();
    return null;
  });
  rpc.onNotification('window/logMessage', () => undefined);
  rpc.listen();
  await rpc.sendRequest('initialize', {
    processId: null,
    rootUri: null,
    capabilities: {
      workspace: { configuration: true, inlayHint: { refreshSupport: true } },
      textDocument: { documentSymbol: { hierarchicalDocumentSymbolSupport: true } },
    },
  });
  await rpc.sendNotification('initialized', {});
  return client;
}

/** The Node build's transport: byte streams with Content-Length framing. */
function streamTransport(analyzer: Analyzer): { server: { dispose(): void }; rpc: MessageConnection } {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  // The server reads through the hardened stdio reader (src/transport.ts), as `--stdio` does.
  const transport = createStreamTransport(toServer, toClient);
  const server = createConnection(transport.reader, transport.writer);
  startServer(server, { analyzer, debounceMs: 0 });
  server.listen();
  const rpc = createMessageConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
  return { server, rpc };
}

/** Position helpers for requests. */
export const at = (uri: string, line: number, character: number) => ({
  textDocument: { uri },
  position: { line, character },
});

/** A diagnostic's message as text (LSP 3.18 allows MarkupContent). */
export function messageOf(d: { message: string | { value: string } } | undefined): string {
  if (!d) return '';
  return typeof d.message === 'string' ? d.message : d.message.value;
}

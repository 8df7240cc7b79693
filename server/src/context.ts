/** What every feature handler gets: the connection, the documents with their analyses, the settings. */
import type { CancellationToken, Connection } from 'vscode-languageserver/node';
import { ErrorCodes, LSPErrorCodes, ResponseError } from 'vscode-languageserver/node';
import type { DocumentStore } from './documents.js';
import type { SettingsHolder } from './settings.js';

export interface ServerContext {
  connection: Connection;
  store: DocumentStore;
  settings: SettingsHolder;
  /** Set once `initialize` was answered: requests before it get ServerNotInitialized. */
  initialized: boolean;
  /** Client capabilities that change what we send. */
  clientSupports: { inlayHintRefresh: boolean; hierarchicalSymbols: boolean; snippets: boolean };
}

/**
 * Runs a handler so that no request can take the server down: a thrown error is logged and answered with
 * `fallback` (an empty result). A request before `initialize` is answered ServerNotInitialized (-32002) and a
 * cancelled one RequestCancelled (-32800), as LSP says, without running.
 */
export function guard<P, R>(
  ctx: ServerContext,
  name: string,
  fallback: R,
  handler: (params: P, token: CancellationToken) => R,
): (params: P, token: CancellationToken) => R | ResponseError<void> {
  return (params, token) => {
    if (!ctx.initialized) return new ResponseError(ErrorCodes.ServerNotInitialized, 'the server is not initialized');
    if (token?.isCancellationRequested) return new ResponseError(LSPErrorCodes.RequestCancelled, `${name} cancelled`);
    try {
      return handler(params, token);
    } catch (e) {
      ctx.connection.console.error(`${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return fallback;
    }
  };
}

/** What every feature handler gets: the connection, the documents with their analyses, the settings. */
import type { CancellationToken, Connection } from 'vscode-languageserver/node';
import type { DocumentStore } from './documents.js';
import type { SettingsHolder } from './settings.js';

export interface ServerContext {
  connection: Connection;
  store: DocumentStore;
  settings: SettingsHolder;
  /** Client capabilities that change what we send. */
  clientSupports: { inlayHintRefresh: boolean; hierarchicalSymbols: boolean; snippets: boolean };
}

/**
 * Runs a handler so that no request can take the server down: a thrown error is logged and answered with
 * `fallback` (an empty result), a cancelled request gets the fallback without running.
 */
export function guard<P, R>(
  ctx: ServerContext,
  name: string,
  fallback: R,
  handler: (params: P, token: CancellationToken) => R,
): (params: P, token: CancellationToken) => R {
  return (params, token) => {
    if (token?.isCancellationRequested) return fallback;
    try {
      return handler(params, token);
    } catch (e) {
      ctx.connection.console.error(`${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return fallback;
    }
  };
}

/**
 * The language server over message passing instead of byte streams: the browser build (a web worker)
 * and the browser-transport test suite both start it here. The same `startServer` as the Node build.
 *
 * `createConnection` comes from `vscode-languageserver/node` like every other server import; the browser
 * bundle maps that module to `vscode-languageserver/browser` (scripts/build.mjs), whose `createConnection`
 * takes the same reader/writer pair.
 */
import type { MessageReader, MessageWriter } from 'vscode-languageserver/node';
import { createConnection, type Connection } from 'vscode-languageserver/node';
import { analyze, reanalyze } from '../../core/src/engine/analyze.js';
import type { ServerOptions } from './server.js';
import { startServer } from './server.js';

/** The analyzer both builds use: incremental when the store has a previous analysis. */
export const defaultAnalyzer: ServerOptions['analyzer'] = (text, options, previous) =>
  previous ? reanalyze(previous, text, options) : analyze(text, options);

export function startOverMessages(
  reader: MessageReader,
  writer: MessageWriter,
  options?: Partial<ServerOptions>,
): Connection {
  const connection = createConnection(reader, writer);
  startServer(connection, { analyzer: defaultAnalyzer, ...options });
  connection.listen();
  return connection;
}

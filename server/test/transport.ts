/**
 * Which transport the in-process LSP suites run over. One suite, two transports: `npm test` runs the
 * server suites over byte streams (the Node build's transport) and again with `KVMMU_LSP_TRANSPORT=browser`
 * over the browser build's: JSON-RPC objects posted on a MessageChannel, as between a page and a web worker,
 * through the browser entry's `startOverMessages`.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { MessageConnection, MessageReader, MessageWriter } from 'vscode-jsonrpc/node';
import { createMessageConnection } from 'vscode-jsonrpc/node';
import { startOverMessages } from '../src/browser_connection.js';
import type { Analyzer } from '../src/documents.js';

export type Transport = 'node' | 'browser';

export const TRANSPORT: Transport = process.env['KVMMU_LSP_TRANSPORT'] === 'browser' ? 'browser' : 'node';

type PortCtor<T> = new (port: InstanceType<typeof MessagePort>) => T;

/**
 * vscode-jsonrpc exports its browser entry only under the `browser` condition; loading it by path gives the
 * very reader and writer the worker uses. (Loading it installs the browser runtime layer process-wide, so it
 * happens only in a run that asked for this transport.)
 */
function browserJsonRpc(): { reader: PortCtor<MessageReader>; writer: PortCtor<MessageWriter> } {
  const require = createRequire(import.meta.url);
  const common = require.resolve('vscode-jsonrpc'); // …/lib/common/api.js
  const browser = require(join(dirname(common), '..', 'browser', 'main.js')) as {
    BrowserMessageReader: PortCtor<MessageReader>;
    BrowserMessageWriter: PortCtor<MessageWriter>;
  };
  return { reader: browser.BrowserMessageReader, writer: browser.BrowserMessageWriter };
}

export function browserTransport(analyzer: Analyzer): { server: { dispose(): void }; rpc: MessageConnection } {
  const { reader, writer } = browserJsonRpc();
  const channel = new MessageChannel();
  const server = startOverMessages(new reader(channel.port1), new writer(channel.port1), { analyzer, debounceMs: 0 });
  const rpc = createMessageConnection(new reader(channel.port2), new writer(channel.port2));
  return {
    server: {
      dispose() {
        server.dispose();
        channel.port1.close();
        channel.port2.close();
      },
    },
    rpc,
  };
}

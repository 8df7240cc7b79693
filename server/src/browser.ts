/**
 * kvmmu-language-server for the browser: runs in a dedicated web worker (the playground, vscode.dev) and
 * speaks LSP over postMessage. Nothing here needs Node; whatever needs it (files, the real-kernel runner)
 * is not part of the server.
 */
import { BrowserMessageReader, BrowserMessageWriter } from 'vscode-languageserver/browser';
import { startOverMessages } from './browser_connection.js';

declare const self: ConstructorParameters<typeof BrowserMessageReader>[0];

startOverMessages(new BrowserMessageReader(self), new BrowserMessageWriter(self));

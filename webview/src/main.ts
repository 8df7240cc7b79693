/** Root panel entry: wires the VS Code webview API and core's role decoder into the panel. */
import { startPanel, type WebviewApi } from './app.js';
import { coreDecoder } from './core_decoder.js';

declare function acquireVsCodeApi(): WebviewApi;

const root = document.getElementById('app');
if (root) startPanel(acquireVsCodeApi(), root, coreDecoder);

/**
 * kvmmu-language-server: LSP over `--stdio` or `--node-ipc` (also `--socket=N`, `--pipe=NAME`).
 * Never write to stdout here: with --stdio it is the transport.
 */
import { ProposedFeatures, createConnection } from 'vscode-languageserver/node';
import { analyze, reanalyze } from '../../core/src/engine/analyze.js';
import { SERVER_NAME, SERVER_VERSION, startServer } from './server.js';

const args = process.argv.slice(2);
if (args.includes('--version')) {
  process.stderr.write(`${SERVER_NAME} ${SERVER_VERSION}\n`);
  process.exit(0);
}
if (!args.some((a) => a === '--stdio' || a === '--node-ipc' || a.startsWith('--socket') || a.startsWith('--pipe'))) {
  process.stderr.write(`usage: ${SERVER_NAME} --stdio | --node-ipc | --socket=PORT | --pipe=NAME\n`);
  process.exit(2);
}

const connection = createConnection(ProposedFeatures.all);
startServer(connection, {
  analyzer: (text, options, previous) => (previous ? reanalyze(previous, text, options) : analyze(text, options)),
});
connection.listen();

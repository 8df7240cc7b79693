/**
 * kvmmu-language-server: LSP over `--stdio` or `--node-ipc` (also `--socket=N`, `--pipe=NAME`).
 * Never write to stdout here: with --stdio it is the transport.
 */
import { ProposedFeatures, createConnection } from 'vscode-languageserver/node';
import { analyze, reanalyze } from '../../core/src/engine/analyze.js';
import { SERVER_NAME, SERVER_VERSION, startServer } from './server.js';
import { createStreamTransport } from './transport.js';

const args = process.argv.slice(2);
if (args.includes('--version')) {
  process.stderr.write(`${SERVER_NAME} ${SERVER_VERSION}\n`);
  process.exit(0);
}
if (!args.some((a) => a === '--stdio' || a === '--node-ipc' || a.startsWith('--socket') || a.startsWith('--pipe'))) {
  process.stderr.write(`usage: ${SERVER_NAME} --stdio | --node-ipc | --socket=PORT | --pipe=NAME\n`);
  process.exit(2);
}

// Over stdio, our own reader: it answers malformed frames and messages instead of waiting or only logging.
const stdio = args.includes('--stdio') ? createStreamTransport(process.stdin, process.stdout) : undefined;
const connection = stdio
  ? createConnection(ProposedFeatures.all, stdio.reader, stdio.writer)
  : createConnection(ProposedFeatures.all);
const running = startServer(connection, {
  analyzer: (text, options, previous) => (previous ? reanalyze(previous, text, options) : analyze(text, options)),
});
if (stdio) {
  // As vscode-languageserver does for the stdio it opens itself: the server ends with its input. (It also sends
  // console output to the client's log; here nothing writes to the console — eslint's no-console holds it.)
  const exit = (): never => process.exit(running.shutdownReceived ? 0 : 1);
  process.stdin.on('end', exit);
  process.stdin.on('close', exit);
}
connection.listen();

// The browser bundles: the language server in a web worker (shared by the playground and the web extension),
// the web extension's client (vscode.dev, github.dev), and the playground, a static site in dist/playground.
// Imported by scripts/build.mjs, so `npm run build` builds them with everything else.
/** The server's files import `vscode-languageserver/node` (types, enums, TextDocuments); in a worker the same
 * names come from its browser entry. Anything Node-only the server grew would fail this build loudly. */
const serverInBrowser = {
  'vscode-languageserver/node': 'vscode-languageserver/browser',
  'vscode-languageserver-protocol/node': 'vscode-languageserver-protocol/browser',
  'vscode-jsonrpc/node': 'vscode-jsonrpc/browser',
};

export function webBundles({ root, production }) {
  const browser = {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    sourcemap: !production,
    minify: production,
    logLevel: 'warning',
    absWorkingDir: root,
  };
  return [
    // One worker bundle for every browser host; it is self-contained (no imports at run time).
    {
      ...browser,
      format: 'iife',
      entryPoints: ['server/src/browser.ts'],
      outfile: 'dist/web/server.js',
      alias: serverInBrowser,
    },
    {
      ...browser,
      format: 'cjs',
      entryPoints: ['client/src/browser.ts'],
      outfile: 'dist/web/client.js',
      external: ['vscode'],
      alias: { 'vscode-languageclient/node': 'vscode-languageclient/browser' },
    },
  ];
}

// The browser bundles: the language server in a web worker, the web extension's client (vscode.dev,
// github.dev), and the playground, a static site in dist/playground (page, worker, stylesheets, examples).
// scripts/build.mjs builds them with everything else; the playground's browser test and the bench build the
// playground alone into a directory of their own with `buildPlayground`.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The server's files import `vscode-languageserver/node` (types, enums, TextDocuments, createConnection); in a
 * worker the same names come from its browser entry. Anything Node-only the server grew fails this build. */
const SERVER_IN_BROWSER = {
  'vscode-languageserver/node': 'vscode-languageserver/browser',
  'vscode-languageserver-protocol/node': 'vscode-languageserver-protocol/browser',
  'vscode-jsonrpc/node': 'vscode-jsonrpc/browser',
};

function browserOptions({ root, production }) {
  return {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    sourcemap: !production,
    minify: production,
    logLevel: 'warning',
    absWorkingDir: root,
  };
}

/** The worker: one self-contained script, the same server as dist/server.js. */
function serverWorker(options, outfile) {
  return {
    ...options,
    format: 'iife',
    entryPoints: ['server/src/browser.ts'],
    outfile,
    alias: SERVER_IN_BROWSER,
  };
}

/** The web extension: package.json's `browser` entry and its worker. */
export function webBundles({ root, production }) {
  const options = browserOptions({ root, production });
  return [
    serverWorker(options, 'dist/web/server.js'),
    {
      ...options,
      format: 'cjs',
      entryPoints: ['client/src/browser.ts'],
      outfile: 'dist/web/client.js',
      external: ['vscode'],
    },
  ];
}

/** The playground's two scripts: the page and its worker. */
export function playgroundBundles({ root, production, outdir = 'dist/playground' }) {
  const options = browserOptions({ root, production });
  return [
    serverWorker(options, join(outdir, 'server.js')),
    { ...options, format: 'iife', entryPoints: ['playground/src/main.ts'], outfile: join(outdir, 'playground.js') },
  ];
}

/** The playground's static files beside its scripts. */
export function writePlaygroundFiles({ root, outdir = 'dist/playground' }) {
  const out = resolve(root, outdir);
  mkdirSync(out, { recursive: true });
  copyFileSync(join(root, 'playground/src/index.html'), join(out, 'index.html'));
  copyFileSync(join(root, 'playground/src/playground.css'), join(out, 'playground.css'));
  copyFileSync(join(root, 'webview/src/panel.css'), join(out, 'panel.css'));
  copyFileSync(join(root, 'images/icon.png'), join(out, 'icon.png'));
  const examples = readdirSync(join(root, 'examples'))
    .filter((f) => f.endsWith('.kvmmu'))
    .sort()
    .map((name) => ({ name, text: readFileSync(join(root, 'examples', name), 'utf8') }));
  writeFileSync(join(out, 'examples.json'), JSON.stringify(examples));
}

/** Builds the playground alone into `outdir` (absolute, or relative to the repository). */
export async function buildPlayground({ root, production = true, outdir = 'dist/playground' }) {
  await Promise.all(playgroundBundles({ root, production, outdir }).map((b) => esbuild.build(b)));
  writePlaygroundFiles({ root, outdir });
}

#!/usr/bin/env node
// One build for every bundle: the CLI, the language server, the VS Code client and the root panel, and their
// browser twins (the language server in a web worker, the web extension, the playground: scripts/build-web.mjs).
// esbuild does not type-check; `tsc -b` (npm run typecheck / npm test) does.
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, copyFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { playgroundBundles, webBundles, writePlaygroundFiles } from './build-web.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  absWorkingDir: root,
};

const bundles = [
  { ...node, entryPoints: ['cli/src/main.ts'], outfile: 'dist/cli.js' },
  { ...node, entryPoints: ['server/src/main.ts'], outfile: 'dist/server.js' },
  { ...node, entryPoints: ['client/src/extension.ts'], outfile: 'dist/client.js', external: ['vscode'] },
  {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: !production,
    minify: production,
    logLevel: 'warning',
    absWorkingDir: root,
    entryPoints: ['webview/src/main.ts'],
    outfile: 'dist/webview/webview.js',
  },
  ...webBundles({ root, production }),
  ...playgroundBundles({ root, production }),
];

mkdirSync(join(root, 'dist'), { recursive: true });
const present = bundles.filter((b) => existsSync(join(root, b.entryPoints[0])));
for (const b of bundles)
  if (!present.includes(b)) console.warn(`build: skipping ${b.entryPoints[0]} (not written yet)`);

if (watch) {
  for (const b of present) await (await esbuild.context(b)).watch();
  console.log('build: watching');
} else {
  await Promise.all(present.map((b) => esbuild.build(b)));
  buildDriver();
  if (existsSync(join(root, 'webview/src/panel.css'))) {
    mkdirSync(join(root, 'dist/webview'), { recursive: true });
    copyFileSync(join(root, 'webview/src/panel.css'), join(root, 'dist/webview/panel.css'));
  }
  if (existsSync(join(root, 'playground/src/index.html'))) writePlaygroundFiles({ root });
}

/**
 * The static C driver `kvmmu real` runs inside the guest kernel (real/driver/driver.c). Built when a C compiler is
 * present; without one, everything else still builds and `kvmmu real` says how to get one.
 */
function buildDriver() {
  const source = join(root, 'real/driver/driver.c');
  const out = join(root, 'dist/real/kvmmu-driver');
  if (!existsSync(source)) return;
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs) return;
  const cc = ['gcc', 'cc'].find((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
  if (!cc) {
    console.warn('build: no C compiler: skipping the kvmmu real driver (apt-get install build-essential)');
    return;
  }
  mkdirSync(join(root, 'dist/real'), { recursive: true });
  const r = spawnSync(cc, ['-O2', '-Wall', '-static', '-o', out, source], { stdio: 'inherit' });
  if (r.status !== 0)
    console.warn('build: the kvmmu real driver did not build (a static libc is needed: build-essential)');
}

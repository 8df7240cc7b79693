// The packaged extension under test. The e2e suite installs the real .vsix, so it tests what users get
// (the .vscodeignore allowlist, bundled dist/ files), not the checkout.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './process.mjs';

// Inputs whose change makes an existing kvmmu.vsix stale.
const SOURCES = [
  'package.json',
  '.vscodeignore',
  'core/src',
  'server/src',
  'client/src',
  'webview/src',
  'syntaxes',
  'dist',
  'vsix',
  'docs/images',
];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Returns the path of an up-to-date kvmmu.vsix, running `npm run package` when it is missing or stale. */
export async function ensureVsix(root, { force = false } = {}) {
  const vsix = join(root, 'kvmmu.vsix');
  const stale = !existsSync(vsix) || SOURCES.some((s) => newestMtime(join(root, s)) > statSync(vsix).mtimeMs);
  if (!force && !stale) return vsix;
  const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts ?? {};
  console.log(`e2e: packaging ${vsix}`);
  if (scripts.package) {
    await run('npm', ['run', '--silent', 'package'], { cwd: root, timeoutMs: 5 * 60_000 });
  } else {
    // Until the manifest has a `package` script: build, then package the way the README says.
    await run('npm', ['run', '--silent', 'build'], { cwd: root, timeoutMs: 5 * 60_000 });
    await run('npx', ['vsce', 'package', '--allow-missing-repository', '--skip-license', '-o', vsix], {
      cwd: root,
      timeoutMs: 5 * 60_000,
    });
  }
  if (!existsSync(vsix)) throw new Error(`packaging did not produce ${vsix}`);
  return vsix;
}

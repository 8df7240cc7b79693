#!/usr/bin/env node
// The extension as a web extension (what vscode.dev and github.dev run), end to end: code-server with the
// packaged kvmmu.vsix, told to run kvmmu in the browser's web worker extension host (`remote.extensionKind`
// "web"), so package.json's `browser` entry starts and the language server runs in a web worker. Checked: the
// hints, a hover and the root panel work, and no Node process runs the server (it would be dist/server.js).
//
//   node e2e/web.mjs [--keep]          # npm run e2e:web; .ci/run runs it after npm run e2e
//
// Prints `e2e-web: N passed, N failed` last and exits non-zero on any failure; code-server's process group is
// killed at the end.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { launchBrowser } from './lib/browser.mjs';
import {
  ensureCodeServer,
  installExtension,
  isolatedDirs,
  startCodeServer,
  writeUserSettings,
} from './lib/code-server.mjs';
import { ensureVsix } from './lib/vsix.mjs';
import { EDITOR, SEL, openFile, openWorkbench, panelFrame, plain, runCommand } from './lib/workbench.mjs';
import { prepareWorkspace } from './lib/workspace.mjs';

const E2E = dirname(fileURLToPath(import.meta.url));
const ROOT = join(E2E, '..');
const INSTALL_DIR = join(ROOT, '.vscode-test', 'code-server');
const TEST_DIR = join(ROOT, '.vscode-test', 'e2e-web');
const SCENARIO = 'smm-root-thrash.kvmmu';
const { values: opts } = parseArgs({ options: { keep: { type: 'boolean', default: false } } });

const results = { passed: 0, failed: 0 };
async function check(name, body) {
  try {
    await body();
    results.passed++;
    console.log(`  ✔ ${name}`);
  } catch (e) {
    results.failed++;
    console.log(
      `  ✘ ${name}\n    ${String(e?.stack ?? e)
        .split('\n')
        .join('\n    ')}`,
    );
  }
}

/** Command lines of the processes in code-server's process group (its own session: setsid). */
function groupCommands(pgid) {
  const out = execFileSync('ps', ['-eo', 'pgid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim().match(/^(\d+)\s+(.*)$/))
    .filter((m) => m && Number(m[1]) === pgid)
    .map((m) => m[2]);
}

const cleanups = [];
try {
  await ensureCodeServer(INSTALL_DIR, join(E2E, 'bootstrap-code-server.sh'));
  const vsix = process.env.KVMMU_E2E_VSIX || (await ensureVsix(ROOT));
  rmSync(TEST_DIR, { recursive: true, force: true });
  const iso = isolatedDirs(TEST_DIR);
  const manifest = prepareWorkspace(ROOT, TEST_DIR);
  await installExtension(INSTALL_DIR, iso, vsix);
  // The web worker extension host, as on vscode.dev (code-server would otherwise pick its Node host).
  writeUserSettings(iso, { 'remote.extensionKind': { 'kvmmu.kvmmu': ['web'] } });
  const server = await startCodeServer(INSTALL_DIR, iso, manifest.folder);
  cleanups.push(() => server.stop());
  console.log(`e2e-web: code-server on ${server.url} (pid ${server.pid})`);
  const browser = await launchBrowser(iso);
  cleanups.push(() => browser.close());
  const page = await openWorkbench(browser, server, manifest.folder);
  const workerErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /kvmmu/i.test(m.text())) workerErrors.push(m.text());
  });
  await openFile(page, SCENARIO);

  await check('the language server answers from a web worker: outcome hints', async () => {
    await page
      .locator(EDITOR.inlayHint)
      .filter({ hasText: /alloc|reuse|unload/ })
      .first()
      .waitFor({ timeout: 60_000 });
  });

  await check('a statement hover with the call path', async () => {
    const smi = page.locator(`${SEL.activeEditor} .view-line span`, { hasText: /^smi$/ }).first();
    let text = '';
    for (let i = 0; i < 8 && !/kvm_smm_changed/.test(text); i++) {
      await page.mouse.move(5, 5);
      await smi.hover();
      text = await page
        .locator(SEL.hover)
        .first()
        .innerText({ timeout: 3_000 })
        .catch(() => '');
    }
    assert.match(plain(text), /kvm_smm_changed/);
    await page.mouse.move(5, 5);
  });

  await check('the root panel', async () => {
    await runCommand(page, 'KVM MMU: Open Root Panel to the Side');
    await panelFrame(page)
      .getByText(/Roots \(\d+\)/)
      .waitFor({ timeout: 60_000 });
  });

  await check('no Node process runs the language server', async () => {
    const commands = groupCommands(server.pid);
    assert.ok(commands.length > 0, 'code-server has no processes?');
    const nodeServers = commands.filter((c) => /kvmmu.*dist[/\\]server\.js/.test(c));
    assert.deepEqual(nodeServers, [], 'the server should run in the web worker, not as a process');
  });

  await check('no error from the extension in the browser console', async () => {
    assert.deepEqual(workerErrors, []);
  });
  await page.screenshot({ path: join(TEST_DIR, 'web-extension.png') });
} catch (e) {
  results.failed++;
  console.error(`e2e-web: ${e?.stack ?? e}`);
} finally {
  for (const fn of cleanups.reverse()) await fn().catch((e) => console.error(`e2e-web: cleanup: ${e.message}`));
  if (!opts.keep && results.failed === 0) rmSync(join(TEST_DIR, 'chromium-profile'), { recursive: true, force: true });
}
console.log(`e2e-web: ${results.passed} passed, ${results.failed} failed`);
process.exit(results.failed === 0 && results.passed > 0 ? 0 : 1);

#!/usr/bin/env node
// End-to-end suite in real VS Code: code-server (VS Code for the browser) with the packaged kvmmu.vsix
// installed, driven by playwright-core in Debian's Chromium. See e2e/README.md.
//
//   node e2e/run.mjs [--only api|ui] [--grep TEXT] [--repackage] [--keep]
//   KVMMU_E2E_VSIX=path/to.vsix node e2e/run.mjs     # test a given package
//
// Prints `e2e: N passed, N failed` last and exits non-zero on any failure. Every wait is bounded and
// code-server's process group is killed at the end, on failure and on SIGINT/SIGTERM too.
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ensureCodeServer,
  installExtension,
  isolatedDirs,
  startCodeServer,
  writeUserSettings,
} from './lib/code-server.mjs';
import { launchBrowser, runExtensionHostTests } from './lib/browser.mjs';
import { ensureVsix } from './lib/vsix.mjs';
import { prepareWorkspace } from './lib/workspace.mjs';
import { runUiTests } from './lib/ui-runner.mjs';

const E2E = dirname(fileURLToPath(import.meta.url));
const ROOT = join(E2E, '..');
const INSTALL_DIR = join(ROOT, '.vscode-test', 'code-server');
const TEST_DIR = join(ROOT, '.vscode-test', 'e2e');
const SUITE_TIMEOUT_MS = 15 * 60_000; // the install of code-server and packaging are not counted; the panel tests walk 21 lines and 3 themes

const { values: opts } = parseArgs({
  options: {
    only: { type: 'string' },
    grep: { type: 'string' },
    repackage: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});

const cleanups = [];
let cleaning = null;
function cleanup() {
  cleaning ??= (async () => {
    for (const fn of cleanups.reverse()) await fn().catch((e) => console.error(`e2e: cleanup: ${e.message}`));
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.error(`e2e: ${sig}, cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

const totals = { passed: 0, failed: 0 };

async function main() {
  await ensureCodeServer(INSTALL_DIR, join(E2E, 'bootstrap-code-server.sh'));
  // KVMMU_E2E_VSIX: test a given package instead of building kvmmu.vsix from the checkout.
  const vsix = process.env.KVMMU_E2E_VSIX || (await ensureVsix(ROOT, { force: opts.repackage }));

  const watchdog = setTimeout(() => {
    console.error(`e2e: suite exceeded ${SUITE_TIMEOUT_MS / 60_000} minutes, aborting`);
    totals.failed++;
    void cleanup().finally(() => finish(1));
  }, SUITE_TIMEOUT_MS);
  cleanups.push(async () => clearTimeout(watchdog));

  rmSync(TEST_DIR, { recursive: true, force: true });
  const iso = isolatedDirs(TEST_DIR);
  const manifest = prepareWorkspace(ROOT, TEST_DIR);
  const manifestPath = join(TEST_DIR, 'manifest.json');
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  iso.env.KVMMU_E2E_MANIFEST = manifestPath;
  if (opts.grep) iso.env.KVMMU_E2E_GREP = opts.grep;

  await installExtension(INSTALL_DIR, iso, vsix);
  writeUserSettings(iso);
  const server = await startCodeServer(INSTALL_DIR, iso, manifest.folder);
  cleanups.push(() => server.stop());
  console.log(`e2e: code-server on ${server.url} (pid ${server.pid}), workspace ${manifest.folder}`);

  const browser = await launchBrowser(iso);
  cleanups.push(() => browser.close());

  if (!opts.only || opts.only === 'api') {
    console.log('\ne2e: extension-host API tests');
    const { code, result } = await runExtensionHostTests(browser, server, {
      workspace: manifest.folder,
      developmentPath: join(E2E, 'host'),
      testsPath: join(E2E, 'host', 'index.js'),
      timeoutMs: 3 * 60_000,
      logFile: join(TEST_DIR, 'logs', 'api-console.log'),
    });
    if (result) {
      totals.passed += result.passed;
      totals.failed += result.failed;
    }
    // A non-zero exit without results means the test module itself failed to load or run.
    if (code !== 0 && (!result || result.failed === 0)) {
      console.error(
        `e2e: extension-host tests exited with code ${code} and ${result ? 'no failed test' : 'no results'}`,
      );
      totals.failed++;
    }
  }

  if (!opts.only || opts.only === 'ui') {
    console.log('\ne2e: workbench UI tests');
    const ui = await runUiTests({
      files: [join(E2E, 'ui')],
      grep: opts.grep,
      context: { browser, server, manifest, root: ROOT, testDir: TEST_DIR },
    });
    totals.passed += ui.passed;
    totals.failed += ui.failed;
  }
}

function finish(code) {
  console.log(`e2e: ${totals.passed} passed, ${totals.failed} failed`);
  process.exit(code);
}

try {
  await main();
} catch (e) {
  console.error(`e2e: ${e.stack ?? e}`);
  totals.failed++;
} finally {
  await cleanup();
  if (!opts.keep && totals.failed === 0) rmSync(join(TEST_DIR, 'chromium-profile'), { recursive: true, force: true });
}
finish(totals.failed === 0 && totals.passed > 0 ? 0 : 1);

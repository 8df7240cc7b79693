// Debian's Chromium driven by playwright-core, with its profile and XDG dirs inside the run's test dir.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.KVMMU_E2E_CHROMIUM || '/usr/bin/chromium';

// `--headless` itself is added by Playwright (headless: true).
export const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser({ dirs, env }) {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  const context = await chromium.launchPersistentContext(join(dirs.testDir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    env,
    viewport: { width: 1400, height: 860 },
    timeout: 60_000,
  });
  context.setDefaultTimeout(30_000);
  return context;
}

/**
 * Opens a workbench window whose extension host runs the extension-host tests (the model
 * @vscode/test-electron uses) and resolves with their exit code, results and console log.
 */
export async function runExtensionHostTests(
  context,
  server,
  { workspace, developmentPath, testsPath, timeoutMs, logFile },
) {
  const page = await context.newPage();
  const log = [];
  let result = null;
  let resolveExit;
  const exited = new Promise((r) => (resolveExit = r));
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const text = (Array.isArray(args) ? args : [args])
      .map((a) => (typeof a === 'string' ? a : JSON.stringify(a)))
      .join(' ');
    log.push(text);
    const m = /E2E-API-RESULT (\{.*\})/.exec(text);
    if (m) result = JSON.parse(m[1]);
    else if (text.startsWith('[e2e] ')) process.stdout.write(`${text.slice(6)}\n`);
  });
  await page.exposeFunction('codeAutomationExit', (code) => resolveExit(code));
  const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
  const payload = [
    ['extensionDevelopmentPath', remote(developmentPath)],
    ['extensionTestsPath', remote(testsPath)],
  ];
  const url = `${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  let timer;
  const timeout = new Promise((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
  try {
    await page.goto(url, { timeout: 90_000 }); // a cold workbench on a loaded host can take longer than 30 s
    const code = await Promise.race([exited, timeout]);
    if (code === 'timeout') throw new Error(`extension-host tests did not finish within ${timeoutMs} ms`);
    return { code, result, log };
  } finally {
    clearTimeout(timer);
    if (logFile) writeFileSync(logFile, log.join('\n'));
    await page.close().catch(() => {});
  }
}

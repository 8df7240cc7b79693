// code-server (VS Code for the browser, from npm): install once into .vscode-test/, then one isolated,
// throwaway instance per run — its own user data, extensions, XDG dirs and config, loopback only.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fatal, run, stopGroup, waitFor } from './process.mjs';

export const CODE_SERVER_VERSION = '4.100.3';

export function codeServerBin(installDir) {
  return join(installDir, 'node_modules', '.bin', 'code-server');
}

/** Installs the pinned code-server with the bootstrap script beside this harness (idempotent). */
export async function ensureCodeServer(installDir, bootstrapScript) {
  if (existsSync(codeServerBin(installDir))) {
    const version = await run(codeServerBin(installDir), ['--version'], { quiet: true, timeoutMs: 60_000 }).catch(
      () => '',
    );
    if (version.startsWith(CODE_SERVER_VERSION)) return;
  }
  console.log(`e2e: installing code-server ${CODE_SERVER_VERSION} into ${installDir} (once; a few minutes)`);
  await run('sh', [bootstrapScript, installDir], { timeoutMs: 20 * 60_000 });
}

/** The directories of one run, all under `testDir`, and the environment that points tools at them. */
export function isolatedDirs(testDir) {
  const dirs = {
    testDir,
    userData: join(testDir, 'user-data'),
    extensions: join(testDir, 'extensions'),
    xdgConfig: join(testDir, 'xdg', 'config'),
    xdgData: join(testDir, 'xdg', 'data'),
    xdgCache: join(testDir, 'xdg', 'cache'),
    logs: join(testDir, 'logs'),
    config: join(testDir, 'code-server.yaml'),
  };
  for (const d of Object.values(dirs)) if (d !== dirs.config) mkdirSync(d, { recursive: true });
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: dirs.xdgConfig,
    XDG_DATA_HOME: dirs.xdgData,
    XDG_CACHE_HOME: dirs.xdgCache,
    // code-server reads these as defaults for flags; make sure none leak in from the caller.
    PASSWORD: '',
    HASHED_PASSWORD: '',
    VSCODE_PROXY_URI: '',
    // No extension marketplace: this machine reaches no gallery, and the workbench should not look one up.
    EXTENSIONS_GALLERY: JSON.stringify({
      serviceUrl: 'http://127.0.0.1:9/gallery',
      itemUrl: 'http://127.0.0.1:9/item',
    }),
  };
  return { dirs, env };
}

export async function installExtension(installDir, { dirs, env }, vsixPath) {
  const out = await run(
    codeServerBin(installDir),
    ['--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions, '--install-extension', vsixPath],
    { env, quiet: true, timeoutMs: 120_000 },
  );
  if (!/successfully installed/i.test(out)) throw new Error(`installing ${vsixPath} failed:\n${out}`);
}

export function writeUserSettings({ dirs }, extra = {}) {
  const userDir = join(dirs.userData, 'User');
  mkdirSync(userDir, { recursive: true });
  const settings = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'editor.hover.delay': 100,
    'editor.inlayHints.enabled': 'on',
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'security.workspace.trust.enabled': false,
    'git.enabled': false,
    'files.autoSave': 'off',
    'window.restoreWindows': 'none',
    'chat.commandCenter.enabled': false,
    // The UI suites click into the editor by line; a "differs on … · why?" CodeLens above a line would take the
    // click and open compare mode. The API suite asks the CodeLens provider directly, which this does not affect.
    'editor.codeLens': false,
    ...extra,
  };
  writeFileSync(join(userDir, 'settings.json'), JSON.stringify(settings, null, 2));
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts code-server in its own session (detached = setsid), so that `stop()` can kill the whole
 * process group: server, extension hosts, language servers.
 */
export async function startCodeServer(installDir, { dirs, env }, workspace) {
  const port = await freePort();
  writeFileSync(dirs.config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const log = openSync(join(dirs.logs, 'code-server.log'), 'a');
  const child = spawn(
    codeServerBin(installDir),
    [
      '--config',
      dirs.config,
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--user-data-dir',
      dirs.userData,
      '--extensions-dir',
      dirs.extensions,
      workspace,
    ],
    { env, detached: true, stdio: ['ignore', log, log] },
  );
  let exited = null;
  child.on('exit', (code, signal) => (exited = code ?? signal));
  const server = {
    port,
    pid: child.pid,
    url: `http://127.0.0.1:${port}`,
    stop: () => stopGroup(child.pid),
  };
  try {
    await waitFor(
      async () => {
        if (exited !== null) throw fatal(`code-server exited (${exited}); see ${join(dirs.logs, 'code-server.log')}`);
        const res = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(2000) });
        return res.ok;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: `code-server /healthz on port ${port}` },
    );
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

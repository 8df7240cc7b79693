// What the UI tests share with the runner: the browser, the code-server instance and the workspace
// manifest. The runner sets it before mocha loads the test files.
export const e2e = {
  /** @type {import('playwright-core').BrowserContext} */ browser: null,
  /** @type {{ url: string, port: number }} */ server: null,
  /** @type {ReturnType<typeof import('./workspace.mjs').prepareWorkspace>} */ manifest: null,
  root: '',
  testDir: '',
};

export function setUiContext(context) {
  Object.assign(e2e, context);
}

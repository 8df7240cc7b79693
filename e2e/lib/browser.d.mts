// Types for browser.mjs where TypeScript code imports it (webview/test/browser.test.ts).
export const CHROMIUM: string;
export const FLAGS: readonly string[];
export function launchBrowser(options: {
  dirs: { testDir: string };
  env?: Record<string, string>;
}): Promise<import('playwright-core').BrowserContext>;

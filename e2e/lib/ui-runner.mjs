// Runs the Playwright UI tests (e2e/ui/*.test.mjs) with mocha in this process. A failing test leaves a
// screenshot of every open page in <testDir>/failures/.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';
import { setUiContext } from './ui-context.mjs';

export async function runUiTests({ files, grep, context }) {
  setUiContext(context);
  const mocha = new Mocha({ ui: 'bdd', timeout: 90_000, reporter: 'spec', color: false });
  if (grep) mocha.grep(grep);
  const failuresDir = join(context.testDir, 'failures');
  mocha.rootHooks({
    async afterEach() {
      if (this.currentTest?.state !== 'failed') return;
      mkdirSync(failuresDir, { recursive: true });
      const name = this.currentTest
        .fullTitle()
        .replace(/[^a-z0-9]+/gi, '-')
        .slice(0, 100);
      for (const [i, page] of context.browser.pages().entries()) {
        const path = join(failuresDir, `${name}-${i}.png`);
        await page.screenshot({ path, timeout: 10_000 }).then(
          () => console.log(`      screenshot: ${path}`),
          () => {},
        );
      }
    },
  });
  for (const f of files) {
    const list = statSync(f).isDirectory()
      ? readdirSync(f)
          .filter((n) => n.endsWith('.test.mjs'))
          .sort()
          .map((n) => join(f, n))
      : [f];
    for (const file of list) mocha.addFile(file);
  }
  await mocha.loadFilesAsync();
  const stats = await new Promise((resolve) => {
    const runner = mocha.run(() => resolve(runner.stats));
  });
  return { passed: stats.passes, failed: stats.failures };
}

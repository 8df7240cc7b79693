// Editor features as a person sees them in the workbench (the API tests in host/ check the same providers
// through the vscode API): inlay hints on screen, a failed expectation as a squiggle and a Problems entry,
// keyword completion in the suggest widget.
import assert from 'node:assert/strict';
import { e2e } from '../lib/ui-context.mjs';
import { EDITOR, closeAllEditors, goToLine, openWorkbench, plain, quickOpen, runCommand } from '../lib/workbench.mjs';

describe('editor features in the workbench', function () {
  let page;

  before(async function () {
    page = await openWorkbench(e2e.browser, e2e.server, e2e.manifest.folder);
    await closeAllEditors(page); // the workspace restores what an earlier window of this run left open
  });
  after(async () => {
    await page?.close();
  });

  it('shows inlay hints with each statement outcome', async function () {
    await quickOpen(page, e2e.manifest.smm.file);
    await page
      .locator(EDITOR.inlayHint)
      .filter({ hasText: /alloc|reuse|cache_hit|unload/ })
      .first()
      .waitFor({ timeout: 30_000 });
    const hints = (await page.locator(EDITOR.inlayHint).allTextContents()).map(plain);
    assert.ok(
      hints.some((h) => h.includes('→')),
      `hints: ${JSON.stringify(hints)}`,
    );
  });

  it('shows a failed expectation as an error squiggle and in Problems', async function () {
    const { file, line } = e2e.manifest.failing;
    await quickOpen(page, file);
    await goToLine(page, line); // squiggles are drawn only for lines on screen
    await page.locator(EDITOR.squigglyError).first().waitFor({ timeout: 30_000 });
    await page.keyboard.press('Control+Shift+M');
    const row = page
      .locator(EDITOR.problemsRow)
      .filter({ hasText: `[Ln ${line},` })
      .first();
    await row.waitFor({ timeout: 30_000 });
    assert.match(plain(await row.innerText()), /roots\.live|123456|expect/i);
    await page.keyboard.press('Control+Shift+M');
  });

  it('offers statement keywords in the suggest widget', async function () {
    await quickOpen(page, e2e.manifest.failing.file);
    await page.keyboard.press('Control+End');
    await page.keyboard.type('r'); // narrows the virtualised list so both keywords are rendered
    await page.keyboard.press('Control+Space');
    await page.locator(EDITOR.suggestRow).first().waitFor({ timeout: 30_000 });
    const labels = await page
      .locator(EDITOR.suggestRow)
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label') ?? ''));
    for (const keyword of ['run', 'rsm']) {
      assert.ok(
        labels.some((l) => l.split(/[\s,]/)[0] === keyword),
        `no \`${keyword}\` in ${JSON.stringify(labels)}`,
      );
    }
    await page.keyboard.press('Escape');
    // Leave the file as it was: a dirty editor would raise "Do you want to save…" when a later suite closes it.
    await runCommand(page, 'File: Revert File');
    await page.locator('.tabs-container .tab.active.dirty').waitFor({ state: 'detached' });
  });
});

// The Testing view as a new user checks it (issue 18): the Test Explorer lists each example .kvmmu file as a test,
// with the file's kernel as a child and each `expect` line as a leaf; running an example from the Test Explorer
// passes; running a file with an expectation that cannot hold fails, with the message on its line in the editor and
// expected vs actual in the test's peek.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2e } from '../lib/ui-context.mjs';
import { SEL, closeAllEditors, goToLine, openWorkbench, plain, quickOpen, runCommand } from '../lib/workbench.mjs';

const TREE = '.test-explorer-tree .monaco-list-row';
const SCENARIO = 'smm-root-thrash.kvmmu';

/** The Test Explorer row whose label is exactly `label` (its aria-label is "label (State)" once it has run). */
function row(page, label) {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return page.locator(TREE).filter({ has: page.locator('.label', { hasText: new RegExp(`^\\s*${escaped}\\s*$`) }) });
}

/** Waits until `label`'s row says `state` (Passed, Failed, …) in its aria-label. */
async function stateOf(page, label, state, timeout = 60_000) {
  await page.locator(`${TREE}[aria-label="${label} (${state})"]`).first().waitFor({ state: 'attached', timeout });
}

async function expand(page, label) {
  const r = row(page, label).first();
  await r.waitFor({ state: 'visible' });
  if ((await r.getAttribute('aria-expanded')) === 'false') await r.locator('.monaco-tl-twistie').click();
  await page
    .locator(`${TREE}[aria-expanded="true"]`)
    .filter({ has: page.locator('.label', { hasText: label }) })
    .first()
    .waitFor({ state: 'visible' });
}

/** Shows the Testing view from its activity bar icon, as a person would (a second click would close the side bar). */
async function showTesting(page) {
  const item = page.locator('.activitybar .action-item', { has: page.locator('a[aria-label="Testing"]') });
  await item.waitFor({ state: 'visible', timeout: 60_000 }); // there once the extension has activated
  if (!(await item.evaluate((el) => el.classList.contains('checked')))) await item.click();
  await page.locator('.test-explorer-tree').waitFor({ state: 'visible' });
}

/** Clicks the row's inline "Run Test" action (shown on hover). */
async function runFromExplorer(page, label) {
  const r = row(page, label).first();
  await r.hover();
  await r.locator('.action-label[aria-label^="Run Test"]').click();
}

/** `expect` lines of a workspace file as the Test Explorer labels them ("11: expect root.id == 1"). */
function expectLeaves(file) {
  return readFileSync(join(e2e.manifest.folder, file), 'utf8')
    .split('\n')
    .map((l, i) => [i, /^\s*(?:vcpu\s+\d+\s*:\s*)?(expect\b[^#]*)/.exec(l)?.[1]?.trim()])
    .filter(([, text]) => text)
    .map(([i, text]) => `${i + 1}: ${text}`);
}

describe('the Testing view', function () {
  let page;

  before(async function () {
    this.timeout(180_000);
    page = await openWorkbench(e2e.browser, e2e.server, e2e.manifest.folder);
    await closeAllEditors(page);
    // No .kvmmu file is open: the extension activates on the workspace's .kvmmu files and discovers them itself.
    // Tall enough that the Test Explorer shows every example file without scrolling its virtualised list.
    await page.setViewportSize({ width: 1400, height: 1500 });
    await showTesting(page);
    await row(page, SCENARIO).first().waitFor({ state: 'visible', timeout: 60_000 });
  });

  after(async function () {
    this.timeout(60_000);
    if (page) {
      await page.keyboard.press('Escape');
      await runCommand(page, 'View: Show Explorer'); // the next page of this workspace opens on the Explorer
      await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ state: 'visible' });
    }
    await page?.close();
  });

  it('lists each example file as a test, its kernel as a child and each expect as a leaf', async function () {
    const files = e2e.manifest.files.map((f) => f.split('/').pop());
    await page
      .locator(`${TREE}[aria-level="1"]`)
      .nth(files.length - 1)
      .waitFor({ state: 'attached' });
    const top = (await page.locator(`${TREE}[aria-level="1"] .label`).allTextContents()).map((t) => plain(t).trim());
    assert.deepEqual([...top].sort(), [...files].sort(), 'one top-level test per .kvmmu file');

    await expand(page, SCENARIO);
    const kernel = "v6.4 (the file's kernel)";
    await expand(page, kernel);
    const leaves = (await page.locator(`${TREE}[aria-level="3"] .label`).allTextContents()).map((t) => plain(t).trim());
    assert.deepEqual(leaves, expectLeaves(SCENARIO));
  });

  it('runs an example from the Test Explorer: it passes', async function () {
    await runFromExplorer(page, SCENARIO);
    await stateOf(page, SCENARIO, 'Passed');
    await stateOf(page, "v6.4 (the file's kernel)", 'Passed');
    for (const leaf of expectLeaves(SCENARIO)) await stateOf(page, leaf, 'Passed', 10_000);
    // Fold it again: the next test expands another file, whose kernel row has the same label.
    await row(page, SCENARIO).first().locator('.monaco-tl-twistie').click();
    await page.locator(`${TREE}[aria-level="3"]`).first().waitFor({ state: 'detached' });
  });

  it('fails a file whose expectation cannot hold: the message on its line, expected vs actual', async function () {
    const { file, line, text } = e2e.manifest.failing;
    const name = file.split('/').pop();
    await quickOpen(page, file);
    await showTesting(page);
    await runFromExplorer(page, name);
    await stateOf(page, name, 'Failed');
    await expand(page, name);
    const leaf = `${line}: ${text}`;
    await expand(page, "v6.4 (the file's kernel)");
    await stateOf(page, leaf, 'Failed');
    // The other expectations of the file still pass.
    await stateOf(page, expectLeaves(file)[0], 'Passed', 10_000);

    // In the editor, at the end of its line: actual != expected (the hint on the line says what the run found).
    await page.locator(SEL.activeEditor).click({ position: { x: 200, y: 10 } });
    await goToLine(page, line);
    const failingLine = page.locator(`${SEL.activeEditor} .view-line`, { hasText: text }).first();
    const widget = page
      .locator(`${SEL.activeEditor} .test-error-content-widget`)
      .filter({ hasText: /\d+\s!=\s123456/ })
      .first();
    await widget.waitFor({ state: 'visible', timeout: 30_000 });
    const actual = /(\d+)\s!=\s123456/.exec(plain(await widget.innerText()))?.[1];
    const [lineBox, widgetBox] = [await failingLine.boundingBox(), await widget.boundingBox()];
    const middle = widgetBox.y + widgetBox.height / 2;
    assert.ok(middle > lineBox.y && middle < lineBox.y + lineBox.height, 'the message sits on the failing line');
    assert.ok(widgetBox.x >= lineBox.x, 'after the statement');
    const shown = plain(await failingLine.innerText());
    assert.match(shown, new RegExp(`got ${actual}\\b`), `the line's hint and the test message agree: ${shown}`);

    // Clicking the message shows expected (the value after ==) against actual, side by side.
    await widget.click();
    const peek = page.locator('.peekview-widget').filter({ hasText: 'expected roots.live == 123456' }).first();
    await peek.waitFor({ state: 'visible', timeout: 30_000 });
    const diff = peek.locator('.monaco-diff-editor').first();
    await diff.waitFor({ state: 'visible' });
    await peek.getByText('Expected', { exact: true }).waitFor({ state: 'visible' });
    await peek.getByText('Actual', { exact: true }).waitFor({ state: 'visible' });
    const sides = await diff.locator('.editor.original .view-lines, .editor.modified .view-lines').allInnerTexts();
    assert.deepEqual(
      sides.map((s) => plain(s).trim()),
      ['123456', actual],
      `diff sides: ${JSON.stringify(sides)}`,
    );
    assert.match(
      plain(await peek.innerText()),
      new RegExp(`found ${actual} \\(v6\\.4`),
      'the message names the kernel',
    );
    await page.screenshot({ path: join(e2e.testDir, 'testing-failure.png') });
    await page.keyboard.press('Escape');
  });
});

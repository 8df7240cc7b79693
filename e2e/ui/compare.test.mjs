// One design for comparing kernels (issue 18), as a new user reaches it: the "differs on … · why?" CodeLens above a
// differing line of examples/smm-root-thrash.kvmmu (v6.4) opens the root panel's compare mode with v6.3, and the
// panel names the behaviour that explains the cursor's line with its commit (tdp_mmu_root_ref, edbdb43f). The
// "Compare With Kernel…" command leads to the same compare mode. The other UI suites run with CodeLens off (a lens
// takes the clicks they aim at lines); this one turns it on in the user settings and off again.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2e } from '../lib/ui-context.mjs';
import { SEL, closeAllEditors, goToLine, openFile, openWorkbench, panelFrame, plain } from '../lib/workbench.mjs';

const SCENARIO = 'smm-root-thrash.kvmmu';
const WHY = /-tdp_mmu_root_ref edbdb43f[0-9a-f]* \(v6\.4\)/;

/** Sets one user setting in this run's settings.json (the workbench watches the file and applies it). */
function setUserSetting(key, value) {
  const path = join(e2e.testDir, 'user-data', 'User', 'settings.json');
  const settings = JSON.parse(readFileSync(path, 'utf8'));
  settings[key] = value;
  writeFileSync(path, JSON.stringify(settings, null, 2));
}

function lineOf(re) {
  const i = readFileSync(join(e2e.manifest.folder, SCENARIO), 'utf8')
    .split('\n')
    .findIndex((l) => re.test(l));
  assert.ok(i >= 0, `no line matching ${re} in ${SCENARIO}`);
  return i + 1;
}

/** Waits for the panel to compare with `kernel` after `line`, and returns the explanation it shows. */
async function explanationAt(panel, line, kernel) {
  await panel
    .locator('.subtitle', { hasText: new RegExp(`after line ${line}\\b.*${kernel.replace('.', '\\.')}`) })
    .waitFor({ state: 'visible', timeout: 30_000 });
  await panel.locator('button.difference.current', { hasText: `L${line}` }).waitFor({ state: 'visible' });
  const why = panel.locator('.differences .why');
  await why.first().waitFor({ state: 'visible', timeout: 30_000 });
  return plain(await why.first().innerText());
}

/** Gives the keyboard back to the scenario's editor (the panel's group may be the active one). */
async function focusEditor(page) {
  const editor = page.locator('.editor-group-container .monaco-editor', { has: page.locator('.view-lines') }).first();
  await editor.click({ position: { x: 400, y: 10 } });
}

/** Back to no comparison, so the suites after this one start from a panel that compares nothing. */
async function compareNothing(panel) {
  const picker = panel.locator('#compare');
  await picker.click();
  await picker.getByText('nothing', { exact: true }).filter({ visible: true }).first().click();
  await panel.locator('.differences').waitFor({ state: 'hidden' });
}

describe('comparing kernels: the why? CodeLens and Compare With Kernel…', function () {
  let page;

  before(async function () {
    this.timeout(180_000);
    setUserSetting('editor.codeLens', true);
    page = await openWorkbench(e2e.browser, e2e.server, e2e.manifest.folder);
    await closeAllEditors(page);
    await openFile(page, SCENARIO);
  });

  after(async function () {
    this.timeout(60_000);
    setUserSetting('editor.codeLens', false);
    if (page) {
      await closeAllEditors(page).catch(() => {});
      await page.close();
    }
  });

  it('opens compare mode from the "differs on … · why?" lens, naming the commit for that line', async function () {
    const smi = lineOf(/^smi\b/);
    await goToLine(page, smi);
    const lens = page
      .locator(`${SEL.activeEditor} .codelens-decoration a`, { hasText: /^differs on .*v6\.3.* · why\?$/ })
      .first();
    await lens.waitFor({ state: 'visible', timeout: 60_000 });
    // The lens sits above `smi`: the one nearest above the cursor's line (lenses of lines 10, 14, 16 … are shown).
    const lenses = page.locator(`${SEL.activeEditor} .codelens-decoration`);
    const cursorTop = await page.locator(`${SEL.activeEditor} .cursor`).first().boundingBox();
    const tops = await lenses.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().top));
    const above = tops.filter((t) => t < cursorTop.y).sort((a, b) => b - a)[0];
    assert.ok(above !== undefined && cursorTop.y - above < 40, `a lens just above line ${smi}: ${tops}`);
    const mine = lenses.nth(tops.indexOf(above)).locator('a', { hasText: /· why\?$/ });
    const title = plain(await mine.innerText());
    assert.match(title, /^differs on .*v6\.3.* · why\?$/);
    await mine.click();

    const panel = panelFrame(page);
    await panel.locator('#roots').waitFor({ state: 'visible', timeout: 60_000 });
    const why = await explanationAt(panel, smi, 'v6.3');
    assert.match(why, /^Why:/);
    assert.match(why, WHY);
    // The differing lines are listed for jumping; the cursor's is current.
    assert.ok((await panel.locator('button.difference').count()) >= 5);
    await page.screenshot({ path: join(e2e.testDir, 'why-codelens.png') });
    await panel.locator('.differences').screenshot({ path: join(e2e.testDir, 'why-differences.png') });
  });

  it('follows the cursor: another differing line shows its own explanation', async function () {
    const panel = panelFrame(page);
    const rsm = lineOf(/^rsm\b/);
    await focusEditor(page);
    await goToLine(page, rsm);
    assert.match(await explanationAt(panel, rsm, 'v6.3'), WHY);
    // Clicking a listed line moves the editor there.
    await panel.locator('button.difference', { hasText: /^L20$/ }).click();
    await page.locator('[id="status.editor.selection"]', { hasText: /Ln 20\b/ }).waitFor({ state: 'visible' });
    assert.match(await explanationAt(panel, 20, 'v6.3'), WHY);
    await compareNothing(panel);
  });

  it('"Compare With Kernel…" leads to the same compare mode', async function () {
    const panel = panelFrame(page);
    const run = lineOf(/^run\b/);
    await focusEditor(page);
    await goToLine(page, run);
    // Not runCommand: the command's own kernel picker reuses the quick input, which therefore never closes between.
    const input = page.locator(SEL.quickInput);
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible' });
    await input.fill('>KVM MMU: Compare With Kernel…');
    await page.locator(SEL.quickInputRow, { hasText: 'KVM MMU: Compare With Kernel…' }).first().waitFor();
    await page.keyboard.press('Enter');
    await page.locator(`${SEL.quickInput}[placeholder^="kernel profile"]`).waitFor({ state: 'visible' });
    await input.fill('v6.3');
    await page
      .locator(SEL.quickInputRow)
      .filter({ has: page.locator('.label-name', { hasText: /^v6\.3$/ }) })
      .first()
      .click();
    await input.waitFor({ state: 'hidden' });
    // No text diff editor: the panel compares, with the explanation for the cursor's line.
    assert.equal(await page.locator('.monaco-diff-editor').count(), 0, 'a diff editor opened');
    assert.match(await explanationAt(panel, run, 'v6.3'), WHY);
    await compareNothing(panel);
  });
});

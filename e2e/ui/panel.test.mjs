// The root panel as a new user checks it (issue 17): open examples/smm-root-thrash.kvmmu, open the panel beside it
// at a side width of about 400 px, move the cursor across lines 10–30 and check from bounding boxes that every value
// sits under its header, that nothing essential needs horizontal scrolling and that the counters do not scroll in a
// box; the state picture shows the TDP MMU holding each root and the vCPU's root slot moving between them on
// SMI/RSM; the lifetime picture shows v6.4's two long-lived roots and, compared with v6.3, the short-lived ones.
// Also maximised and in light and high-contrast themes. Screenshots for README.md and docs/panel.md come from here.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { e2e } from '../lib/ui-context.mjs';
import { ESSENTIAL, ESSENTIAL_COMPARE, assertGeometry, panelGeometry } from '../lib/geometry.mjs';
import { closeAllEditors, goToLine, openFile, openWorkbench, panelFrame, runCommand, SEL } from '../lib/workbench.mjs';

const SCENARIO = 'smm-root-thrash.kvmmu';
/** The side width the issue asks for, and the viewport that gives it with the side bar closed (two equal groups). */
const SIDE = 400;
const ACTIVITY_BAR = 48;

/** Gives the keyboard back to the scenario's editor (after a click inside the panel, keys go to the webview). */
async function focusEditor(page) {
  const editor = page.locator('.editor-group-container .monaco-editor', { has: page.locator('.view-lines') }).first();
  await editor.click({ position: { x: 200, y: 10 } });
}

async function panelAt(page, panel, line) {
  await focusEditor(page);
  await goToLine(page, line);
  await panel.locator('.subtitle', { hasText: new RegExp(`after line ${line}\\b`) }).waitFor({ state: 'visible' });
  // The pictures are drawn in the same task as the tables; wait for the state picture of this view.
  await panel.locator('#state-picture .root-node, #state-picture .state-figure').first().waitFor({ state: 'attached' });
}

/** Scrolls the panel back to its top, for screenshots that show it as it opens. */
async function scrollPanelTop(panel) {
  await panel.locator('#app').evaluate((app) => {
    app.scrollTop = 0;
  });
}

async function geometry(panel) {
  return panel.locator('body').evaluate(panelGeometry);
}

/** Holder → root edges of the first state picture, as "holder→#id". */
async function edges(panel) {
  return panel
    .locator('#state-picture .state-figure')
    .first()
    .locator('.edge')
    .evaluateAll((list) => list.map((e) => `${e.dataset.holder}→#${e.dataset.root}`).sort());
}

/** Switches the colour theme with the theme picker (Ctrl+K Ctrl+T, or the command palette if the chord is not heard). */
async function setTheme(page, panel, label, bodyClass) {
  await focusEditor(page);
  const input = page.locator(SEL.quickInput);
  await page.keyboard.press('Control+K');
  await page.keyboard.press('Control+T');
  const opened = await input
    .waitFor({ state: 'visible', timeout: 10_000 })
    .then(() => true)
    .catch(() => false);
  if (!opened) {
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible' });
    await input.fill('>Preferences: Color Theme');
    await page
      .locator(SEL.quickInputRow, { hasText: /^Preferences: Color Theme/ })
      .first()
      .click();
  }
  await page.locator(SEL.quickInputRow, { hasText: 'Light Modern' }).first().waitFor({ state: 'visible' });
  await input.fill(label);
  await page.locator(SEL.quickInputRow, { hasText: label }).first().waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden' });
  await panel.locator(`body.${bodyClass}`).waitFor({ state: 'attached', timeout: 30_000 });
}

describe('the root panel: correct, roomy, drawn', function () {
  let page;
  let panel;
  const images = () => join(e2e.root, 'docs', 'images');

  before(async function () {
    this.timeout(240_000);
    const step = (what) => console.log(`      · ${what}`);
    page = await openWorkbench(e2e.browser, e2e.server, e2e.manifest.folder);
    await closeAllEditors(page);
    step('workbench open');
    await openFile(page, SCENARIO);
    await runCommand(page, 'KVM MMU: Open Root Panel to the Side');
    panel = panelFrame(page);
    await panel.locator('#roots').waitFor({ state: 'visible', timeout: 60_000 });
    // An earlier suite in this code-server (the why? CodeLens) may have left the panel comparing: compare nothing.
    const picker = panel.locator('#compare');
    await picker.click();
    await picker.getByText('nothing', { exact: true }).filter({ visible: true }).first().click();
    await panel.locator('#lifetimes .lifetime-figure[data-kernel="v6.3"]').waitFor({ state: 'detached' });
    step('panel open');
    // Two equal editor groups without the side bar: the panel gets about SIDE px.
    await runCommand(page, 'View: Close Primary Side Bar');
    await page.setViewportSize({ width: 2 * SIDE + ACTIVITY_BAR + 8, height: 900 });
    step('side width set');
    mkdirSync(images(), { recursive: true });
  });

  after(async function () {
    this.timeout(60_000);
    // The workbench keeps its layout for the next page of this workspace: give the side bar back.
    if (page) {
      await focusEditor(page);
      await runCommand(page, 'View: Show Explorer');
      await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ state: 'visible' });
    }
    await page?.close();
  });

  it('keeps every value under its header at a side width across lines 10–30', async function () {
    this.timeout(180_000);
    for (let line = 10; line <= 30; line++) {
      await panelAt(page, panel, line);
      const report = await geometry(panel);
      assert.ok(report.width >= SIDE - 30 && report.width <= 600, `the panel is ${report.width} px wide`);
      assertGeometry(report, { essential: ESSENTIAL });
      assert.ok(report.grids.find((g) => g.id === 'roots')?.cells > 0, `line ${line}: root cells measured`);
    }
  });

  it('draws the TDP MMU holding each root and the vCPU root slot moving on SMI/RSM', async function () {
    // After the first run: #1, held by the vCPU's root slot and by the TDP MMU.
    await panelAt(page, panel, 10);
    assert.deepEqual(await edges(panel), ['tdp_mmu→#1', 'vcpu0.root_mmu.root→#1']);
    // After smi: the vCPU's reference is put; the TDP MMU keeps #1 (v6.4).
    await panelAt(page, panel, 14);
    assert.deepEqual(await edges(panel), ['tdp_mmu→#1']);
    // After the run in SMM: the slot points at the SMM root #2, the TDP MMU holds both; #2 is this line's change.
    await panelAt(page, panel, 16);
    assert.deepEqual(await edges(panel), ['tdp_mmu→#1', 'tdp_mmu→#2', 'vcpu0.root_mmu.root→#2']);
    await panel.locator('#state-picture .root-node.changed[data-root="2"]').waitFor({ state: 'attached' });
    // After rsm and run: the slot is back on #1.
    await panelAt(page, panel, 20);
    assert.deepEqual(await edges(panel), ['tdp_mmu→#1', 'tdp_mmu→#2', 'vcpu0.root_mmu.root→#1']);
    // The edge really joins the slot to the root box (drawn, not only listed).
    const joined = await panel.locator('#state-picture').evaluate((root) => {
      const slot = root.querySelector('[data-slot="0/root_mmu/root"] rect').getBoundingClientRect();
      const box = root.querySelector('.root-node[data-root="1"] rect').getBoundingClientRect();
      const edge = root.querySelector('.edge[data-holder="vcpu0.root_mmu.root"]').getBoundingClientRect();
      return { slot: slot.right, edgeLeft: edge.left, edgeRight: edge.right, box: box.left };
    });
    assert.ok(
      Math.abs(joined.edgeLeft - joined.slot) < 8 && Math.abs(joined.edgeRight - joined.box) < 8,
      JSON.stringify(joined),
    );
    await panelAt(page, panel, 16);
    await scrollPanelTop(panel);
    await page.screenshot({ path: join(images(), 'panel.png') });
  });

  it('shows v6.4’s two long-lived roots over the scenario; a mark reveals its line', async function () {
    await panelAt(page, panel, 20);
    const bars = panel.locator('#lifetimes .lifetime-figure').first().locator('.lifetime-row');
    assert.equal(await bars.count(), 2);
    assert.deepEqual(await bars.evaluateAll((rows) => rows.map((r) => r.classList.contains('open'))), [true, true]);
    const rule = await panel.locator('#lifetimes .lifetime-svg .cursor-rule').boundingBox();
    const bar1 = await panel.locator('#lifetimes .lifetime-row[data-root="1"] .bar').boundingBox();
    const bar2 = await panel.locator('#lifetimes .lifetime-row[data-root="2"] .bar').boundingBox();
    assert.ok(bar1.x < bar2.x, 'root #1 starts before #2');
    assert.ok(Math.abs(bar1.x + bar1.width - (bar2.x + bar2.width)) < 1, 'both live to the last line');
    assert.ok(rule.x > bar2.x && rule.x < bar2.x + bar2.width, 'the cursor rule crosses the bars');
    // #1 is found again at line 30 (the last run): clicking the mark moves the editor's cursor there.
    await panel.locator('#lifetimes .lifetime-row[data-root="1"] .mark-found[data-line="30"]').click({ force: true });
    await page.locator('[id="status.editor.selection"]', { hasText: /Ln 30\b/ }).waitFor({ state: 'visible' });
    await panel.locator('#lifetimes').screenshot({ path: join(images(), 'panel-lifetimes.png') });
  });

  it('reveals a line from a lifetime bar and a root box, by click and by keyboard', async function () {
    const cursorAt = (line) =>
      page.locator('[id="status.editor.selection"]', { hasText: new RegExp(`Ln ${line}\\b`) }).waitFor({
        state: 'visible',
      });
    await panelAt(page, panel, 30);
    // A bar (not a mark): its left end is the line that allocated the root (#2: the run in SMM, line 16).
    const bar = panel.locator('#lifetimes .lifetime-row[data-root="2"] .bar');
    const box = await bar.boundingBox();
    await bar.click({ position: { x: 1, y: box.height / 2 }, force: true });
    await cursorAt(16);

    // The keyboard: Tab from the top of the panel reaches the lifetimes; ↓ selects #2's bar, → its first mark, Enter
    // reveals the mark's line (and gives the editor the focus).
    await panelAt(page, panel, 30);
    const scroller = panel.locator('#lifetimes .lifetime-scroller').first();
    const focused = () => panel.locator(':focus').evaluate((el) => el.className?.baseVal ?? el.className);
    await panel.locator('.subtitle').click();
    let reached = false;
    for (let i = 0; i < 60 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await scroller.evaluate((el) => el === document.activeElement);
    }
    assert.ok(reached, `Tab never reached the lifetimes (focus on ${await focused().catch(() => '?')})`);
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown');
    await panel.locator('#lifetimes .lifetime-row.selected[data-root="2"]').waitFor({ state: 'attached' });
    await page.keyboard.press('ArrowRight');
    const mark = panel.locator('#lifetimes .lifetime-row[data-root="2"] .mark.focus');
    await mark.waitFor({ state: 'attached' });
    const markLine = Number(await mark.getAttribute('data-line'));
    assert.ok(markLine > 16, `#2's first mark is after its allocation (line ${markLine})`);
    await page.keyboard.press('Enter');
    await cursorAt(markLine);

    // The state picture's root boxes are reachable by Tab too; Enter reveals the line that allocated the root.
    await panelAt(page, panel, 30);
    const node = panel.locator('#state-picture .root-node[data-root="2"]').first();
    await panel.locator('.subtitle').click();
    reached = false;
    for (let i = 0; i < 60 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await node.evaluate((el) => el === document.activeElement);
    }
    assert.ok(reached, `Tab never reached root #2 in the state picture (focus on ${await focused().catch(() => '?')})`);
    await page.keyboard.press('Enter');
    await cursorAt(16);
  });

  it('stays aligned in the dark, high-contrast and light themes', async function () {
    this.timeout(120_000);
    for (const [theme, bodyClass, shot] of [
      ['Dark Modern', 'vscode-dark', 'panel-dark.png'],
      ['Dark High Contrast', 'vscode-high-contrast', 'panel-high-contrast.png'],
      ['Light Modern', 'vscode-light', null],
    ]) {
      await setTheme(page, panel, theme, bodyClass);
      await panelAt(page, panel, 16);
      assertGeometry(await geometry(panel), { essential: ESSENTIAL });
      await scrollPanelTop(panel);
      if (shot) await page.screenshot({ path: join(images(), shot) });
    }
  });

  it('compares with v6.3: short-lived roots, aligned, labels clear of their text', async function () {
    this.timeout(120_000);
    const picker = panel.locator('#compare');
    await picker.click();
    await picker.getByText('v6.3', { exact: true }).filter({ visible: true }).first().click();
    await panel.locator('button.difference').first().waitFor({ state: 'visible', timeout: 30_000 });
    for (const line of [14, 16, 20]) {
      await panelAt(page, panel, line);
      await panel.locator('#lifetimes .lifetime-figure[data-kernel="v6.3"]').waitFor({ state: 'attached' });
      assertGeometry(await geometry(panel), { essential: ESSENTIAL_COMPARE });
    }
    const v63 = panel.locator('#lifetimes .lifetime-figure[data-kernel="v6.3"] .lifetime-row');
    const closed = await v63.evaluateAll((rows) => rows.filter((r) => !r.classList.contains('open')).length);
    assert.ok((await v63.count()) > 2 && closed >= 2, `v6.3: ${await v63.count()} roots, ${closed} freed`);
    await panel.locator('#lifetimes').screenshot({ path: join(images(), 'panel-compare-lifetimes.png') });
    await scrollPanelTop(panel);
    await page.screenshot({ path: join(images(), 'panel-compare.png') });
    await picker.click();
    await picker.getByText('nothing', { exact: true }).filter({ visible: true }).first().click();
    await panel.locator('#lifetimes .lifetime-figure[data-kernel="v6.3"]').waitFor({ state: 'detached' });
  });

  it('shows every column when maximised, still aligned', async function () {
    await page.setViewportSize({ width: 1400, height: 900 });
    await panelAt(page, panel, 20);
    // Double-clicking a tab expands its group to the whole editor area (workbench.editor.doubleClickTabToToggleEditorGroupSizes).
    const tab = page.locator('.tabs-container .tab', { hasText: /Roots:/ }).first();
    await tab.dblclick();
    await panel.locator('#roots').waitFor({ state: 'visible' });
    await page.waitForFunction(
      () => (document.querySelector('iframe.webview.ready')?.getBoundingClientRect().width ?? 0) > 1000,
      null,
      { timeout: 15_000 },
    );
    await panel
      .locator('body')
      .evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const report = await geometry(panel);
    assert.ok(report.width > 1000, `maximised panel is ${report.width} px wide`);
    assertGeometry(report, { essential: ESSENTIAL });
    assert.equal(report.grids.find((g) => g.id === 'roots')?.hiddenColumns, 0, 'every roots column shown');
    await scrollPanelTop(panel);
    await page.screenshot({ path: join(images(), 'panel-wide.png') });
    await tab.dblclick();
  });
});

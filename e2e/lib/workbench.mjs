// Small helpers over the VS Code workbench in code-server (selectors verified on VS Code 1.100).
export const SEL = {
  workbench: '.monaco-workbench',
  quickInput: '.quick-input-widget input',
  quickInputRow: '.quick-input-widget .monaco-list-row',
  languageStatus: '[id="status.editor.mode"]',
  hover: '.monaco-hover:not(.hidden)',
  activeEditor: '.editor-group-container.active .monaco-editor',
};

/** Opens the workbench on `folder` and waits until it is usable. */
export async function openWorkbench(browser, server, folder) {
  const page = await browser.newPage();
  // A cold workbench on a loaded two-core host can take longer than Playwright's default 30 s to load.
  await page.goto(`${server.url}/?folder=${encodeURIComponent(folder)}`, { timeout: 90_000 });
  await page.waitForSelector(SEL.workbench, { timeout: 60_000 });
  const explorer = page.locator('.explorer-folders-view .monaco-list-row').first();
  try {
    await explorer.waitFor({ state: 'visible', timeout: 20_000 });
  } catch {
    // The workbench keeps its layout per workspace: an earlier suite may have left the side bar closed.
    await runCommand(page, 'View: Show Explorer');
    await explorer.waitFor({ state: 'visible', timeout: 60_000 });
  }
  return page;
}

/** Runs a command from the command palette by its title. */
export async function runCommand(page, title) {
  await page.keyboard.press('F1');
  const input = page.locator(SEL.quickInput);
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  await page.locator(SEL.quickInputRow, { hasText: title }).first().waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden' });
}

/**
 * Opens a top-level workspace file by its exact name: by clicking its Explorer row when the row is rendered, else
 * through Quick Open (the Explorer's list is virtualised: with enough examples a row is not in the DOM until
 * scrolled to). Neither alone is steady everywhere: Quick Open's list can re-render under the click.
 */
export async function openFile(page, name) {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const row = page
    .locator('.explorer-folders-view .monaco-list-row', { hasText: new RegExp(`^\\s*${escaped}\\s*$`) })
    .first();
  const rendered = await row
    .waitFor({ state: 'visible', timeout: 3_000 })
    .then(() => true)
    .catch(() => false);
  // A tab already open for it is the steadiest way back (Quick Open's list can re-render under the click).
  const tab = page.locator(`.tabs-container .tab[data-resource-name="${name}"]`).first();
  if (await tab.count()) await tab.click();
  else if (rendered) await row.click();
  else await quickOpen(page, name);
  // By resource name: a root panel's tab ("Roots: name") is active in its own group too.
  await page.locator(`.tabs-container .tab.active[data-resource-name="${name}"]`).waitFor({ state: 'visible' });
  await page.locator(SEL.activeEditor).click({ position: { x: 200, y: 10 } });
}

/** Moves the cursor to a 1-based line with Go to Line. */
export async function goToLine(page, line) {
  await page.keyboard.press('Control+G');
  const input = page.locator(SEL.quickInput);
  await input.waitFor({ state: 'visible' });
  await input.fill(`:${line}`);
  await page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden' });
}

/** The root panel's document, inside the webview's two iframes. */
export function panelFrame(page) {
  return page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

// Editor feature selectors (VS Code 1.100). Inlay hints render as injected text: spans with a generated
// `dyn-rule-*` class inside a view line.
export const EDITOR = {
  viewLine: '.editor-group-container.active .monaco-editor .view-line',
  inlayHint: '.editor-group-container.active .monaco-editor .view-line span[class*="dyn-rule"]',
  squigglyError: '.editor-group-container.active .monaco-editor .squiggly-error',
  problemsRow: '.markers-panel .monaco-list-row',
  suggestRow: '.suggest-widget.visible .monaco-list-row',
};

/** Text as a person reads it (Monaco renders spaces as U+00A0). */
export const plain = (s) => (s ?? '').replace(/\u00a0/g, ' ');

/** Opens a workspace-relative file (also in a subfolder) with Quick Open and waits for its editor. */
export async function quickOpen(page, relative) {
  const input = page.locator(SEL.quickInput);
  const base = relative.split('/').pop();
  // The row whose file name is exactly `base`: on a cold search index the first row can be another file.
  const escaped = base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const row = page
    .locator(SEL.quickInputRow)
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escaped}$`) }) })
    .first();
  const opened = () =>
    page
      .waitForFunction(
        ([sel, rel]) => document.querySelector(`${sel}[data-uri]`)?.getAttribute('data-uri')?.endsWith(`/${rel}`),
        [SEL.activeEditor, relative],
        { timeout: 5_000 },
      )
      .then(() => true)
      .catch(() => false);
  // The list may re-render under the click while results come in (recently opened files first, then the search),
  // so the click can close Quick Open on a neighbouring file: check what opened, and try again until it is ours.
  for (let attempt = 1; ; attempt++) {
    if (!(await input.isVisible())) await page.keyboard.press('Control+P');
    await input.waitFor({ state: 'visible' });
    await input.fill(relative);
    await row.waitFor({ state: 'visible' });
    await row.click().catch(() => {});
    const closed = await input
      .waitFor({ state: 'hidden', timeout: 5_000 })
      .then(() => true)
      .catch(() => false);
    if (closed && (await opened())) break;
    if (attempt === 6) throw new Error(`Quick Open did not open ${relative}`);
  }
  await page.locator(EDITOR.viewLine).first().waitFor({ state: 'visible' });
}

/**
 * Closes every editor and editor group (webview panels included) and waits until none is left. The workspace is a
 * throwaway copy: unsaved changes an earlier window left (restored from its backups) are discarded, with a note; any
 * other dialog fails with its text.
 */
export async function closeAllEditors(page) {
  await runCommand(page, 'View: Close All Editor Groups');
  const dialog = page.locator('.monaco-dialog-box');
  for (let discarded = 0; ; discarded++) {
    const outcome = await Promise.race([
      page
        .locator('.tabs-container .tab')
        .first()
        .waitFor({ state: 'detached' })
        .then(() => 'closed'),
      dialog.waitFor({ state: 'visible' }).then(() => 'dialog'),
    ]);
    if (outcome === 'closed') return;
    const text = await dialog.innerText();
    if (!/Do you want to save/.test(text) || discarded === 10)
      throw new Error(`closing the editors raised a dialog: ${text}`);
    console.log(
      `      · discarding unsaved changes an earlier window left: ${text.split('\n').find((l) => /save/.test(l))}`,
    );
    await dialog.getByRole('button', { name: "Don't Save" }).click();
    await dialog.waitFor({ state: 'hidden' });
  }
}

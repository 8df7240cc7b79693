// Workbench UI tests: what a person sees in VS Code (code-server) with kvmmu.vsix installed — the language mode,
// a hover that decodes a role word, and the root panel following the cursor across an SMI and an RSM, with compare
// mode. Screenshots go to docs/images/ for the README (and are looked at by whoever changes the UI).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2e } from '../lib/ui-context.mjs';
import { SEL, closeAllEditors, goToLine, openFile, openWorkbench, panelFrame, runCommand } from '../lib/workbench.mjs';

const SCENARIO = 'smm-root-thrash.kvmmu';

/** 1-based line of the first line of `file` matching `re`. */
function lineOf(file, re) {
  const lines = readFileSync(join(e2e.manifest.folder, file), 'utf8').split('\n');
  const i = lines.findIndex((l) => re.test(l));
  assert.ok(i >= 0, `no line matching ${re} in ${file}`);
  return i + 1;
}

async function hoverUntil(page, target, re, tries = 8) {
  for (let i = 0; i < tries; i++) {
    await page.mouse.move(5, 5);
    await target.hover();
    const hover = page.locator(SEL.hover).first();
    try {
      await hover.waitFor({ state: 'visible', timeout: 3_000 });
      const text = await hover.innerText();
      if (re.test(text)) {
        // Let the hover's fade-in finish so screenshots show it opaque.
        await hover.evaluate((el) => Promise.all(el.getAnimations({ subtree: true }).map((a) => a.finished)));
        return text;
      }
    } catch {
      // a hover right after opening may not come: move away and back
    }
  }
  throw new Error(`no hover matching ${re}`);
}

/** Moves the cursor and waits until the panel shows the state after exactly that line (not a stale one). */
async function panelAt(page, panel, line) {
  await goToLine(page, line);
  await panel.locator('.subtitle', { hasText: new RegExp(`after line ${line}\\b`) }).waitFor({ state: 'visible' });
}

describe('kvmmu in the workbench', function () {
  let page;
  const images = () => join(e2e.root, 'docs', 'images');

  before(async function () {
    assert.ok(e2e.manifest.files.includes(SCENARIO), `${SCENARIO} missing from the workspace`);
    page = await openWorkbench(e2e.browser, e2e.server, e2e.manifest.folder);
    await closeAllEditors(page); // the workspace restores what an earlier window of this run left open
    await openFile(page, SCENARIO);
  });

  after(async () => {
    await page?.close();
  });

  it('shows the kvmmu language mode for a .kvmmu file', async function () {
    await page.locator(SEL.languageStatus).waitFor({ state: 'visible' });
    await assert.doesNotReject(
      page.locator(SEL.languageStatus, { hasText: /KVM MMU scenario|kvmmu/ }).waitFor({ state: 'visible' }),
    );
  });

  it('decodes a role word on hover, in the file kernel layout', async function () {
    const decode = 'roles-per-gfn.kvmmu';
    await openFile(page, decode);
    const line = lineOf(decode, /^decode role 0x01003784/);
    await goToLine(page, line);
    const word = page.locator(`${SEL.activeEditor} .view-line span`, { hasText: /^0x01003784$/ }).first();
    const text = await hoverUntil(page, word, /smm/);
    assert.match(text, /level/);
    assert.match(text, /24.31|24–31|24-31/, 'bit positions');
    mkdirSync(images(), { recursive: true });
    await page.screenshot({ path: join(images(), 'hover.png') });
    await page.mouse.move(5, 5);
  });

  it('shows inlay hints and a statement hover with the call path', async function () {
    await openFile(page, SCENARIO);
    const smi = lineOf(SCENARIO, /^smi\b/);
    await goToLine(page, smi);
    const word = page.locator(`${SEL.activeEditor} .view-line span`, { hasText: /^smi$/ }).first();
    const text = await hoverUntil(page, word, /kvm_smm_changed/);
    assert.match(text, /put/);
    assert.match(text, /kvm_mmu_reset_context/);
    await page.screenshot({ path: join(images(), 'editor.png') });
    await page.mouse.move(5, 5);
  });

  it('opens the root panel and follows the cursor across SMI and RSM', async function () {
    await runCommand(page, 'KVM MMU: Open Root Panel to the Side');
    const panel = panelFrame(page);
    await panel.locator('#roots').waitFor({ state: 'visible', timeout: 30_000 });

    // After the first `run`: root #1 exists; refcount 2 (the vCPU's and the TDP MMU's reference).
    const run = lineOf(SCENARIO, /^run\b/);
    await panelAt(page, panel, run);
    const root1 = panel.locator('#roots .grid-row[data-key="#1"]');
    await root1.waitFor({ state: 'visible' });
    await assert.doesNotReject(panel.locator('#roots .grid-row.changed[data-key="#1"]').waitFor({ state: 'visible' }));
    assert.match(await root1.innerText(), /tdp_mmu|TDP/);

    // After `smi`: #1 stays (v6.4), its row changed (the vCPU's reference went away).
    const smi = lineOf(SCENARIO, /^smi\b/);
    await panelAt(page, panel, smi);
    await panel.locator('#roots .grid-row.changed[data-key="#1"]').waitFor({ state: 'visible' });
    assert.equal(await panel.locator('#roots .grid-row[data-key="#2"]').count(), 0, 'no SMM root before the next run');

    // After the `run` following it: the SMM root #2 is new and highlighted.
    await panelAt(page, panel, smi + 2);
    await panel.locator('#roots .grid-row.changed[data-key="#2"]').waitFor({ state: 'visible' });

    // After `rsm`: #2's row changes (put), and the following run reuses #1.
    const rsm = lineOf(SCENARIO, /^rsm\b/);
    await panelAt(page, panel, rsm);
    await panel.locator('#roots .grid-row.changed[data-key="#2"]').waitFor({ state: 'visible' });
    await panelAt(page, panel, rsm + 1);
    await panel.locator('#roots .grid-row.changed[data-key="#1"]').waitFor({ state: 'visible' });
    assert.equal(await panel.locator('#roots .grid-row[data-key="#3"]').count(), 0, 'v6.4 allocates no third root');
    // The panel's screenshots come from panel.test.mjs (at a side width, with its geometry asserted).
  });

  it('compares with another kernel side by side', async function () {
    const panel = panelFrame(page);
    const picker = panel.locator('#compare');
    await picker.click();
    // The dropdown is rendered in the element's shadow root; pick the visible entry like a person would.
    await picker.getByText('v6.3', { exact: true }).filter({ visible: true }).first().click();
    // v6.3 frees roots on SMI/RSM: the lines whose outcome differs are listed.
    await panel.locator('button.difference').first().waitFor({ state: 'visible', timeout: 30_000 });
    assert.ok((await panel.locator('button.difference').count()) > 0);
  });
});

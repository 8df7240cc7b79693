/**
 * The built root panel in headless Chromium with a stub host: the page is the host's own HTML
 * (webview/src/html.ts, strict CSP, nonce'd script), the bundle is built from webview/src with
 * the build script's settings, and messages go in with postMessage as VS Code delivers them.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { panelHtml } from '../../core/src/panel/html.js';
import type { HostToWebview, WebviewToHost } from '../../core/src/panel/messages.js';
import { CHROMIUM, FLAGS } from '../../e2e/lib/browser.mjs';
import { manyRootsView, root, smallView, snapshot, stateAt, step, vcpu, mmu, view, lifetimesOf } from './fixtures.js';
import { ESSENTIAL, ESSENTIAL_COMPARE, geometryProblems, panelGeometry } from '../../e2e/lib/geometry.mjs';
import type { PanelView } from '../../core/src/panel/messages.js';

const ORIGIN = 'https://panel.test';
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

declare global {
  interface Window {
    __posted: WebviewToHost[];
    __saved: unknown;
    __csp: string[];
    __pwned?: boolean;
  }
}

describe('root panel in Chromium', function () {
  this.timeout(60_000);
  let browser: Browser | undefined;
  let page: Page;
  let outDir: string;
  let consoleErrors: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      const message = `\n  !!! ${CHROMIUM} is missing: the root panel's browser tests did NOT run (apt-get install -y chromium) !!!\n`;
      console.warn(message);
      if (process.env['CI'] === 'true') throw new Error(message);
      this.skip();
    }
    outDir = mkdtempSync(join(tmpdir(), 'kvmmu-webview-'));
    await esbuild.build({
      absWorkingDir: repo,
      entryPoints: ['webview/src/main.ts'],
      outfile: join(outDir, 'webview.js'),
      bundle: true,
      platform: 'browser',
      target: 'es2022',
      format: 'iife',
      logLevel: 'warning',
    });
    // The same Chromium and flags as the end-to-end suite (Playwright adds --headless itself).
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...FLAGS] });
  });

  after(async () => {
    await browser?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  async function open(saved: unknown = undefined, viewport = { width: 1000, height: 700 }): Promise<void> {
    const context = await browser!.newContext({ viewport });
    page = await context.newPage();
    consoleErrors = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await page.route(`${ORIGIN}/**`, async (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === '/index.html') {
        const html = panelHtml({
          cspSource: ORIGIN,
          nonce: randomBytes(16).toString('base64'),
          scriptUri: `${ORIGIN}/webview.js`,
          styleUri: `${ORIGIN}/panel.css`,
        });
        return route.fulfill({ contentType: 'text/html', body: html });
      }
      if (path === '/webview.js')
        return route.fulfill({ contentType: 'text/javascript', body: readFileSync(join(outDir, 'webview.js')) });
      if (path === '/panel.css')
        return route.fulfill({ contentType: 'text/css', body: readFileSync(join(repo, 'webview/src/panel.css')) });
      return route.fulfill({ status: 404, body: '' });
    });
    // The stub host: what acquireVsCodeApi gives a webview. Init scripts run outside the page's CSP.
    // A string, not a function: tsx would wrap named functions in its `__name` helper, absent in the page;
    // the identity `__name` serves the callbacks given to page.evaluate below for the same reason.
    await page.addInitScript(`
      globalThis.__name = (f) => f;
      window.__posted = [];
      window.__saved = ${JSON.stringify(saved ?? null)} ?? undefined;
      window.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
      window.acquireVsCodeApi = () => ({
        postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))),
        getState: () => window.__saved,
        setState: (s) => { window.__saved = s; },
      });
    `);
    await page.goto(`${ORIGIN}/index.html`);
    await page.waitForFunction(() => window.__posted.some((m) => m.type === 'ready'));
  }

  async function post(message: HostToWebview): Promise<void> {
    await page.evaluate((m) => window.postMessage(m, '*'), message);
  }

  async function posted(): Promise<WebviewToHost[]> {
    return page.evaluate(() => window.__posted);
  }

  async function rootRowTexts(): Promise<string[]> {
    return page.$$eval('#roots .grid-body .grid-row:not([hidden])', (rows) =>
      rows
        .sort((a, b) => Number((a as HTMLElement).dataset['index']) - Number((b as HTMLElement).dataset['index']))
        .map((r) => (r.firstElementChild as HTMLElement).textContent ?? ''),
    );
  }

  afterEach(async function () {
    if (!page) return;
    const csp = await page.evaluate(() => window.__csp).catch(() => ['page gone']);
    const errors = consoleErrors.slice();
    await page.context().close();
    assert.deepEqual(csp, [], 'CSP violations');
    assert.deepEqual(errors, [], 'console errors');
  });

  it('says ready first, then renders the rows a view message brings', async () => {
    await open();
    const first = (await posted())[0];
    assert.deepEqual(first, { type: 'ready', compareKernel: null });
    await post({ type: 'init', profiles: [{ name: 'v6.3', release: 'mainline v6.3.0' }], compareKernel: null });
    await post({ type: 'view', view: smallView() });
    await page.waitForSelector('#roots .grid-body .grid-row');
    assert.deepEqual(await rootRowTexts(), ['#1', '#2']);
    const decoded = await page.$$eval('#roots .grid-body .grid-row', (rows) =>
      rows.map((r) => (r.children[3] as HTMLElement).textContent),
    );
    assert.ok(decoded.includes('4-level direct SMM'), `decoded: ${decoded.join(' / ')}`);
    const roleTitle = await page.$eval(
      '#roots .grid-body .grid-row[data-key="#2"] .grid-cell:nth-child(3)',
      (c) => (c as HTMLElement).title,
    );
    assert.match(roleTitle, /smm = 1/);
    assert.equal(await page.textContent('.subtitle'), 'after line 5 · v6.4');
    assert.match((await page.textContent('.step-heading')) ?? '', /L5 vCPU 0: smi → SMI: alloc #2/);
    assert.equal(
      await page.getAttribute('#roots .grid-row[data-key="#2"]', 'class').then((c) => c?.includes('changed')),
      true,
    );
    assert.equal(
      await page.getAttribute('#roots .grid-row[data-key="#1"]', 'class').then((c) => c?.includes('changed')),
      false,
    );
    assert.equal(await page.textContent('#vcpus .grid-body .grid-row .grid-cell:nth-child(4)'), '#2');
    assert.equal(
      await page.textContent('#counters .grid-row[data-key="roots_allocated"] .grid-cell:nth-child(3)'),
      '+1',
    );
  });

  it('follows messages: a new line replaces the state, noDocument clears it, errors keep it', async () => {
    await open();
    await post({ type: 'view', view: smallView() });
    await page.waitForSelector('#roots .grid-row[data-key="#2"]');
    const next = view(
      stateAt(
        snapshot(
          [root(1), root(2, { state: 'freed', refcount: 0, holders: [], freedAt: 6 }), root(3)],
          [vcpu(0, [mmu({ root: 3 })])],
        ),
        { line: 5, changedRoots: [2, 3] },
      ),
    );
    await post({ type: 'view', view: next });
    await page.waitForSelector('#roots .grid-row[data-key="#3"]');
    assert.equal(await page.textContent('.subtitle'), 'after line 6 · v6.4');
    assert.equal(await page.textContent('#roots .grid-row[data-key="#2"] .grid-cell:nth-child(9)'), 'freed');
    assert.equal(await page.isHidden('.step'), true, 'no statement on that line');
    await post({ type: 'error', message: 'The language server is restarting' });
    await page.waitForSelector('.banner.error');
    assert.equal(await page.isVisible('#roots .grid-row[data-key="#3"]'), true);
    await post({ type: 'noDocument' });
    await page.waitForSelector('.banner.info');
    assert.equal(await page.isHidden('.table-section.roots'), true);
    assert.match((await page.textContent('.banners')) ?? '', /Open a \.kvmmu file/);
  });

  it('keeps scenario text as text: markup in a comment or statement is never interpreted', async () => {
    await open();
    const evil = '<img src=x onerror="window.__pwned=true">';
    const v = smallView();
    v.fileName = `${evil}.kvmmu`;
    v.primary.step = step(4, `smi # ${evil}`, { summary: evil, actions: [{ op: 'warn', path: [evil], detail: evil }] });
    const r = v.primary.snapshot.roots[0];
    if (r) r.holders = [evil];
    await post({ type: 'view', view: v });
    await page.waitForSelector('.step-heading');
    assert.equal(await page.$$eval('img', (imgs) => imgs.length), 0);
    assert.equal(await page.evaluate(() => window.__pwned ?? false), false);
    assert.match((await page.textContent('.step-heading')) ?? '', /<img src=x onerror=/);
    assert.equal(await page.textContent('.action .detail'), evil);
    assert.equal(await page.textContent('.title'), `${evil}.kvmmu`);
    // aria-colindex is the column's index in the table, whichever columns the width leaves out.
    assert.equal(await page.textContent('#roots .grid-row[data-key="#1"] .grid-cell[aria-colindex="8"]'), evil);
    // The state picture draws an unknown holder as a node named by it: as text.
    assert.equal(await page.textContent('#state-picture .holder title'), evil);
  });

  it('reveals the allocating line on click and on Enter, and moves with the keyboard', async () => {
    await open();
    await post({ type: 'view', view: smallView() });
    await page.click('#roots .grid-row[data-key="#2"] .grid-cell:nth-child(4)');
    await page.waitForFunction(() => window.__posted.some((m) => m.type === 'revealLine'));
    assert.deepEqual(
      (await posted()).filter((m) => m.type === 'revealLine'),
      [{ type: 'revealLine', uri: 'file:///w/a.kvmmu', line: 4 }],
    );
    await page.focus('#roots');
    await page.keyboard.press('Home');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => window.__posted.filter((m) => m.type === 'revealLine').length === 2);
    assert.deepEqual((await posted()).filter((m) => m.type === 'revealLine')[1], {
      type: 'revealLine',
      uri: 'file:///w/a.kvmmu',
      line: 2,
    });
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.getAttribute('#roots', 'aria-activedescendant'), 'roots-row-1');
    assert.equal(await page.evaluate(() => window.__saved && (window.__saved as { version: number }).version), 1);
    assert.equal(await page.getAttribute('#roots-row-1', 'aria-selected'), 'true');
    await page.keyboard.press('Control+c');
    await page.waitForFunction(() => window.__posted.some((m) => m.type === 'copy'));
    const copy = (await posted()).find((m) => m.type === 'copy');
    assert.equal(copy?.type === 'copy' && copy.format, 'tsv');
    assert.match(copy?.type === 'copy' ? copy.text : '', /^Root\tKind\tRole/);
  });

  it('sorts by a column header and persists the sort with setState', async () => {
    await open();
    await post({ type: 'view', view: smallView() });
    await page.waitForSelector('#roots .grid-row[data-key="#2"]');
    await page.click('#roots .grid-header button:has-text("Refs")');
    await page.waitForFunction(() => document.querySelector('#roots .grid-header [aria-sort="ascending"]') !== null);
    assert.deepEqual(await rootRowTexts(), ['#2', '#1']);
    await page.click('#roots .grid-header button:has-text("Refs")');
    await page.waitForFunction(() => document.querySelector('#roots .grid-header [aria-sort="descending"]') !== null);
    assert.deepEqual(await rootRowTexts(), ['#1', '#2']);
    const saved = (await page.evaluate(() => window.__saved)) as { sort: unknown; uri: string };
    assert.deepEqual(saved.sort, { key: 'refcount', dir: 'desc' });
    assert.equal(saved.uri, 'file:///w/a.kvmmu');
  });

  it('restores its saved state after a reload and tells the host its comparison', async () => {
    await open({
      version: 1,
      uri: 'file:///w/a.kvmmu',
      line: 4,
      compareKernel: 'v6.3',
      sort: { key: 'id', dir: 'desc' },
    });
    assert.deepEqual((await posted())[0], { type: 'ready', compareKernel: 'v6.3' });
    await post({ type: 'view', view: smallView() });
    await page.waitForSelector('#roots .grid-row[data-key="#2"]');
    assert.deepEqual(await rootRowTexts(), ['#2', '#1']);
  });

  it('compares with another kernel side by side and asks the host for it', async () => {
    await open();
    await post({
      type: 'init',
      profiles: [
        { name: 'v6.1', release: 'mainline v6.1.0' },
        { name: 'v6.3', release: 'mainline v6.3.0' },
      ],
      compareKernel: null,
    });
    await post({ type: 'view', view: smallView() });
    await page.waitForSelector('#roots .grid-row');
    // Open the picker's dropdown once: its styles must pass the CSP too (checked after each test).
    await page.click('#compare');
    await page.waitForFunction(
      () =>
        !!document
          .getElementById('compare')
          ?.shadowRoot?.querySelector(
            '[popover]:popover-open vscode-option, [popover]:popover-open li, [popover]:popover-open',
          ),
    );
    assert.match(
      (await page
        .locator('#compare')
        .evaluate((e) => e.shadowRoot?.querySelector('[popover]:popover-open')?.textContent)) ?? '',
      /v6\.3/,
    );
    await page.keyboard.press('Escape');
    await page.evaluate(() => {
      const select = document.getElementById('compare') as HTMLElement & { value: string };
      select.value = 'v6.3';
      select.dispatchEvent(new Event('change'));
    });
    await page.waitForFunction(() => window.__posted.some((m) => m.type === 'setCompare'));
    assert.deepEqual(
      (await posted()).find((m) => m.type === 'setCompare'),
      { type: 'setCompare', kernel: 'v6.3' },
    );
    const base = smallView();
    const b = stateAt(
      snapshot(
        [
          root(1, { refcount: 1, holders: ['vcpu0.root_mmu.prev_roots[0]'] }),
          root(2, { allocatedAt: 5, role: '0x01000784', smm: true }),
        ],
        base.primary.snapshot.vcpus,
      ),
      { line: 4 },
      { profile: 'v6.3', label: 'v6.3' },
    );
    const differingLines = [
      { line: 4, text: 'smi', a: 'alloc #2', b: 'alloc #2, put #1' },
      { line: 8, text: 'rsm # <b>not bold</b>', a: 'reuse #1', b: 'alloc #3' },
    ];
    await post({
      type: 'view',
      view: { ...base, compare: { kind: 'state', kernel: 'v6.3', result: b }, differingLines },
    });
    await page.waitForSelector('#roots .grid-cell.diff');
    assert.equal(await page.textContent('.subtitle'), 'after line 5 · v6.4 vs v6.3');
    const diffs = await page.$$eval('#roots .grid-cell.diff', (cells) => cells.map((c) => c.textContent));
    assert.deepEqual(diffs, ['2', 'vcpu0.root_mmu.prev_roots[0], tdp_mmu', '1', 'vcpu0.root_mmu.prev_roots[0]']);
    assert.equal(await page.$$eval('#roots .grid-header .side-start', (c) => c.length), 2);
    assert.equal(await page.textContent('.differences-heading'), 'Outcome differs on 2 lines:');
    assert.deepEqual(await page.$$eval('button.difference', (b) => b.map((x) => x.textContent)), ['L5', 'L9']);
    assert.equal(await page.getAttribute('button.difference.current', 'aria-current'), 'true');
    assert.match(
      (await page.getAttribute('button.difference:has-text("L9")', 'title')) ?? '',
      /<b>not bold<\/b>\nv6\.4: reuse #1\nv6\.3: alloc #3/,
    );
    await page.click('button.difference:has-text("L9")');
    await page.waitForFunction(() => window.__posted.some((m) => m.type === 'revealLine'));
    assert.deepEqual(
      (await posted()).find((m) => m.type === 'revealLine'),
      { type: 'revealLine', uri: 'file:///w/a.kvmmu', line: 8 },
    );
    await page.click('#copy-markdown');
    await page.waitForFunction(() => window.__posted.some((m) => m.type === 'copy'));
    const copy = (await posted()).find((m) => m.type === 'copy');
    assert.match(copy?.type === 'copy' ? copy.text : '', /\| Kind \| Role \| Decoded \| Allocated \| Root \(v6\.4\)/);
  });

  /** Long holders, an invalid root awaiting the zap worker, every counter and long action names. */
  function busyView(compare = false): PanelView {
    const base = smallView();
    const roots = [
      ...base.primary.snapshot.roots,
      root(3, {
        state: 'invalid',
        refcount: 3,
        allocatedAt: 7,
        holders: ['vcpu0.root_mmu.root', 'vcpu0.guest_mmu.prev_roots[2]', 'zap_worker'],
      }),
    ];
    const vcpus = [
      vcpu(
        0,
        [
          mmu({ root: 2, prevRoots: [1, null, null] }),
          mmu({ name: 'guest_mmu', root: null, prevRoots: [null, null, 3] }),
        ],
        {
          smm: true,
          requests: ['KVM_REQ_MMU_FREE_OBSOLETE_ROOTS', 'KVM_REQ_TLB_FLUSH_CURRENT'],
        },
      ),
    ];
    const stats = Object.fromEntries(
      [
        'roots_allocated',
        'roots_freed',
        'root_reuses',
        'prev_root_hits',
        'mmu_cache_miss',
        'mmu_shadow_zapped',
        'remote_tlb_flush_requests',
        'mmu_pde_zapped',
        'mmu_flooded',
        'mmu_recycled',
      ].map((n, i) => [n, i * 3]),
    );
    const actions = [
      {
        op: 'invalidate' as const,
        path: ['kvm_tdp_mmu_invalidate_all_roots'],
        detail: 'root #3 invalidated; the TDP MMU’s reference passes to the zap worker',
        root: 3,
      },
      {
        op: 'queue_zap' as const,
        path: ['kvm_tdp_mmu_invalidate_all_roots'],
        detail: 'root #3 queued on tdp_mmu_zap_wq',
        root: 3,
      },
      {
        op: 'reinit_skipped' as const,
        path: ['kvm_init_mmu'],
        detail: 'cpu role unchanged: kvm_init_mmu keeps the context',
      },
    ];
    const primary = stateAt(snapshot(roots, vcpus, stats), {
      line: 6,
      step: step(6, 'invalidate all', { actions }),
      changedRoots: [3],
      changedVcpus: [0],
    });
    const v: PanelView = { ...base, primary, line: 6, lifetimes: { primary: lifetimesOf(primary, 12), compare: null } };
    if (!compare) return v;
    const b = stateAt(
      snapshot(roots.slice(0, 2), vcpus, stats),
      { line: 6, step: step(6, 'invalidate all', { actions }) },
      { profile: 'v6.3', label: 'v6.3' },
    );
    return {
      ...v,
      compare: { kind: 'state', kernel: 'v6.3', result: b },
      differingLines: [],
      lifetimes: { primary: lifetimesOf(primary, 12), compare: lifetimesOf(b, 12) },
    };
  }

  for (const [width, compare] of [
    [400, false],
    [600, false],
    [1400, false],
    [400, true],
    [1400, true],
  ] as const) {
    it(`puts every cell under its header at ${width} px${compare ? ' in compare mode' : ''}, nothing essential off screen`, async () => {
      await open(undefined, { width, height: 900 });
      await post({ type: 'view', view: busyView(compare) });
      await page.waitForSelector('#roots .grid-body .grid-row[data-key]');
      await page.waitForSelector('#counters .grid-body .grid-row');
      const report = await page.locator('body').evaluate(panelGeometry);
      // KVMMU_PANEL_SHOTS=dir keeps a picture of each width to look at.
      const shots = process.env['KVMMU_PANEL_SHOTS'];
      if (shots)
        await page.screenshot({ path: join(shots, `panel-${width}${compare ? '-compare' : ''}.png`), fullPage: true });
      const problems = geometryProblems(report, { essential: compare ? ESSENTIAL_COMPARE : ESSENTIAL });
      assert.deepEqual(problems, []);
      assert.ok(report.grids.length === 3, `grids measured: ${report.grids.map((g) => g.id).join(', ')}`);
      const roots = report.grids.find((g) => g.id === 'roots');
      if (width >= 1400 && !compare) assert.equal(roots?.hiddenColumns, 0, 'every column shown when wide');
      if (width === 400) {
        assert.ok((roots?.hiddenColumns ?? 0) > 0, 'columns left out at 400 px');
        // What is left out is one click away: the active row's values below the grid.
        await page.click('#roots .grid-row[data-key]:first-child');
        assert.match((await page.textContent('#roots-detail')) ?? '', compare ? /Decoded/ : /Role 0x/);
      }
    });
  }

  it('draws the state at the cursor: slots and holders point at roots, changes and states visible', async () => {
    await open();
    await post({ type: 'view', view: busyView() });
    await page.waitForSelector('#state-picture .root-node');
    const edges = await page.$$eval('#state-picture .edge', (e) =>
      e.map((x) => `${(x as SVGElement).dataset['holder']}→#${(x as SVGElement).dataset['root']}`),
    );
    // One edge per holder of a reference: vCPU slots, the TDP MMU, the zap worker.
    assert.deepEqual(edges.sort(), [
      'tdp_mmu→#1',
      'vcpu0.guest_mmu.prev_roots[2]→#3',
      'vcpu0.root_mmu.prev_roots[0]→#1',
      'vcpu0.root_mmu.root→#2',
      'vcpu0.root_mmu.root→#3',
      'zap_worker→#3',
    ]);
    assert.deepEqual(await page.$$eval('#state-picture .holder text', (h) => h.map((x) => x.textContent)), [
      'TDP MMU',
      'zap worker',
    ]);
    assert.equal(
      await page.getAttribute('#state-picture .root-node[data-root="3"]', 'class'),
      'root-node look-invalid changed',
    );
    assert.equal(await page.$$eval('#state-picture .edge.changed', (e) => e.length), 3);
    // Edges start at their slot and end at their root (geometry, not only data).
    const ends = await page.evaluate(() => {
      const slot = document
        .querySelector('#state-picture [data-slot="0/root_mmu/prev_roots[0]"] rect')!
        .getBoundingClientRect();
      const root = document.querySelector('#state-picture .root-node[data-root="1"] rect')!.getBoundingClientRect();
      const edge = document
        .querySelector('#state-picture .edge[data-holder="vcpu0.root_mmu.prev_roots[0]"]')!
        .getBoundingClientRect();
      return { slotRight: slot.right, rootLeft: root.left, edgeLeft: edge.left, edgeRight: edge.right };
    });
    assert.ok(
      Math.abs(ends.edgeLeft - ends.slotRight) < 6 && Math.abs(ends.edgeRight - ends.rootLeft) < 6,
      JSON.stringify(ends),
    );
    await page.focus('#state-picture .root-node[data-root="2"]');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => window.__posted.some((m) => m.type === 'revealLine'));
    assert.deepEqual(
      (await posted()).find((m) => m.type === 'revealLine'),
      { type: 'revealLine', uri: 'file:///w/a.kvmmu', line: 4 },
    );
  });

  it('draws root lifetimes with marks and the cursor rule; a click or Enter reveals a line', async () => {
    await open(undefined, { width: 400, height: 900 });
    await post({ type: 'view', view: smallView() });
    await page.waitForSelector('#lifetimes .bar');
    assert.equal(await page.$$eval('#lifetimes .bar', (b) => b.length), 2);
    assert.deepEqual(
      await page.$$eval('#lifetimes .lifetime-svg .mark', (m) =>
        m.map((x) => `${x.getAttribute('class')}@${(x as SVGElement).dataset['line']}`),
      ),
      ['mark mark-cached@5', 'mark mark-found@9'],
    );
    const g = await page.evaluate(() => {
      const box = (s: string): DOMRect => document.querySelector(s)!.getBoundingClientRect();
      const bars = [...document.querySelectorAll('#lifetimes .bar')].map((b) => b.getBoundingClientRect());
      return {
        bars: bars.map((b) => [b.left, b.right]),
        rule: box('#lifetimes .lifetime-svg .cursor-rule').left,
        svg: box('#lifetimes .lifetime-svg').width,
      };
    });
    // 12 lines; #1 from line 3 (allocated) to the end, #2 from line 5; the cursor after line 5 (0-based 4).
    assert.ok(g.svg <= 400, `picture ${g.svg} px wide at a 400 px panel`);
    const [b1, b2] = g.bars as [number[], number[]];
    assert.ok(
      (b1[0] as number) < (b2[0] as number) && Math.abs((b1[1] as number) - (b2[1] as number)) < 1,
      JSON.stringify(g),
    );
    assert.ok(g.rule > (b2[0] as number) && g.rule < (b2[1] as number), JSON.stringify(g));
    await page.click('#lifetimes .lifetime-svg .mark-found', { force: true });
    await page.waitForFunction(() => window.__posted.some((m) => m.type === 'revealLine'));
    assert.deepEqual(
      (await posted()).filter((m) => m.type === 'revealLine'),
      [{ type: 'revealLine', uri: 'file:///w/a.kvmmu', line: 8 }],
    );
    // The click selected #1's `found` mark; one step left is its `cached` mark.
    await page.focus('#lifetimes-0');
    await page.keyboard.press('ArrowLeft');
    assert.match((await page.textContent('#lifetimes-0-status')) ?? '', /#1: cached in prev_roots at line 5/);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => window.__posted.filter((m) => m.type === 'revealLine').length === 2);
    assert.deepEqual((await posted()).filter((m) => m.type === 'revealLine')[1], {
      type: 'revealLine',
      uri: 'file:///w/a.kvmmu',
      line: 4,
    });
  });

  it('renders 5,000 roots virtualised and scrolls through them (timings printed)', async () => {
    await open();
    const big = manyRootsView(5000);
    // Timed inside the page: from postMessage to the first frame painted after the panel's handler ran
    // (a listener added after the panel's runs right after it).
    const firstRender = await page.evaluate(async (v) => {
      const t = performance.now();
      const handled = new Promise<number>((resolve) =>
        window.addEventListener('message', () => resolve(performance.now()), { once: true }),
      );
      window.postMessage({ type: 'view', view: v }, '*');
      const done = await handled;
      await new Promise((r) => requestAnimationFrame(r));
      return { handler: done - t, painted: performance.now() - t };
    }, big);
    await page.waitForSelector('#roots .grid-row[data-key="#1"]');
    const rendered = await page.$$eval('#roots .grid-body .grid-row:not([hidden])', (r) => r.length);
    assert.ok(rendered > 10 && rendered < 120, `rendered ${rendered} rows for 5,000`);
    const timing = await page.evaluate(async () => {
      const scroller = document.querySelector('#roots .grid-scroller') as HTMLElement;
      const frame = (): Promise<number> => new Promise((r) => requestAnimationFrame(r));
      const steps: number[] = [];
      for (let i = 1; i <= 40; i++) {
        const t = performance.now();
        scroller.scrollTop = (scroller.scrollHeight * i) / 40;
        await frame();
        await frame();
        steps.push(performance.now() - t);
      }
      steps.sort((a, b) => a - b);
      return { median: steps[20] ?? 0, worst: steps[steps.length - 1] ?? 0 };
    });
    await page.waitForSelector('#roots .grid-row[data-key="#5000"]');
    const last = await page.$$eval('#roots .grid-body .grid-row:not([hidden])', (r) => r.length);
    assert.ok(last < 120, `after scrolling: ${last} rows in the DOM`);
    console.log(
      `      5,000 roots in Chromium: message handled in ${firstRender.handler.toFixed(0)} ms, first frame ${firstRender.painted.toFixed(0)} ms; scroll step median ${timing.median.toFixed(1)} ms, worst ${timing.worst.toFixed(1)} ms (two frames each)`,
    );
    const bars = await page.$$eval('#lifetimes .lifetime-row', (r) => r.length);
    assert.ok(bars > 5 && bars < 120, `${bars} lifetime rows drawn for 5,000 roots`);
    await page.focus('#roots');
    await page.keyboard.press('End');
    assert.equal(await page.getAttribute('#roots', 'aria-activedescendant'), 'roots-row-4999');
  });
});

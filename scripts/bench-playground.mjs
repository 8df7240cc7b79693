#!/usr/bin/env node
// The playground's benchmark rows (scripts/bench.mjs runs them; `node scripts/bench-playground.mjs` alone prints
// them): the production build served from a local static server, headless Chromium with a cold cache each time.
//  - first paint with an example: navigation start → the example's text on screen in the editor;
//  - first hints: → the outcome hints of the server in the worker drawn beside it;
//  - transferred: the bytes the page loads (the server compresses nothing; the gzip size is what a host that
//    compresses would send);
//  - edit → fresh hints on a 1,000-line scenario: a key press (the page's own clock) → the hints on screen
//    belong to the new text (the editor's data-hints="fresh"), for an edit at the end and one at the top.
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildPlayground } from './build-web.mjs';
import { generate } from './gen-scenario.mjs';
import { servePlayground } from './serve-playground.mjs';

export async function benchPlayground({ root, tmp, record, quick = false }) {
  const outdir = join(tmp, 'playground');
  mkdirSync(outdir, { recursive: true });
  await buildPlayground({ root, production: true, outdir });
  const { chromium } = await import('playwright-core');
  const { CHROMIUM, FLAGS } = await import(pathToFileURL(join(root, 'e2e/lib/browser.mjs')).href);
  const { encodeFragment } = await import(pathToFileURL(join(root, 'playground/src/permalink.ts')).href);
  const served = await servePlayground({ dir: outdir });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  try {
    const paints = [];
    const firstHints = [];
    let transferred = 0;
    for (let i = 0; i < (quick ? 2 : 5); i++) {
      const context = await browser.newContext({ viewport: { width: 1300, height: 850 } }); // a cold cache
      const page = await context.newPage();
      const before = served.sent.bytes;
      await page.goto(served.url);
      paints.push(
        await page.evaluate(
          () =>
            new Promise((resolve) => {
              const painted = () => document.getElementById('editor')?.shadowRoot?.querySelector('.cm-line');
              const check = () => (painted() ? resolve(performance.now()) : requestAnimationFrame(check));
              check();
            }),
        ),
      );
      await page.locator('.cm-editor[data-hints="fresh"] .cm-kvmmu-hint').first().waitFor({ timeout: 30_000 });
      firstHints.push(await page.evaluate(() => performance.now()));
      transferred = served.sent.bytes - before;
      await context.close();
    }
    record('browser', 'playground: first paint with an example', 'cold cache', paints, { limit: 1000 });
    record('browser', 'playground: first outcome hints', 'cold cache', firstHints);
    record('browser', 'playground: transferred on first load', 'bytes', [transferred / 1024], { unit: 'KiB' });
    const gzip = readdirSync(outdir)
      .filter((f) => !f.endsWith('.map'))
      .reduce((sum, f) => sum + gzipSync(readFileSync(join(outdir, f))).length, 0);
    record('browser', 'playground: the same, gzip-compressed', 'bytes', [gzip / 1024], { unit: 'KiB' });

    // Edits on a 1,000-line scenario, opened from a link.
    const text = `${generate(1000).text}cr3 = 0x1000\n`;
    const page = await (await browser.newContext({ viewport: { width: 1300, height: 850 } })).newPage();
    const fragment = await encodeFragment({ text, kernel: 'latest', line: 0, panelOpen: false, compareKernel: null });
    await page.goto(`${served.url}#${fragment}`);
    const fresh = page.locator('.cm-editor[data-hints="fresh"] .cm-kvmmu-hint').first();
    await fresh.waitFor({ timeout: 30_000 });
    await page.evaluate(() => {
      const editor = document.getElementById('editor').shadowRoot.querySelector('.cm-editor');
      window.__edits = [];
      document
        .getElementById('editor')
        .shadowRoot.addEventListener('keydown', () => (window.__keyAt = performance.now()), true);
      new MutationObserver(() => {
        if (editor.dataset.hints === 'fresh' && window.__keyAt !== undefined) {
          window.__edits.push(performance.now() - window.__keyAt);
          window.__keyAt = undefined;
        }
      }).observe(editor, { attributes: true, attributeFilter: ['data-hints'] });
    });
    const edits = async (keys) => {
      const samples = [];
      for (const key of keys) {
        const count = await page.evaluate(() => window.__edits.length);
        await page.keyboard.press(key);
        await page.waitForFunction((n) => window.__edits.length > n, count, { timeout: 30_000 });
        samples.push(await page.evaluate(() => window.__edits.at(-1)));
      }
      return samples;
    };
    const n = quick ? 5 : 20;
    const digits = Array.from({ length: n }, (_, i) => String((i % 9) + 1));
    // At the end: the last line is `cr3 = 0x1000`; each digit changes the value, a real statement change.
    await page.locator('.cm-content').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('End');
    const atEnd = await edits(digits);
    record('browser', 'playground: edit at the end → fresh hints', '1k lines', atEnd, { limit: 50 });
    // At the top: the `vm` line's vcpus=4 → 49, 4, …: every statement after it runs again.
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('End');
    const atTop = await edits(Array.from({ length: n }, (_, i) => (i % 2 ? 'Backspace' : '9')));
    record('browser', 'playground: edit at the top → fresh hints', '1k lines', atTop);
  } finally {
    await browser.close();
    await served.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const tmp = join(tmpdir(), `kvmmu-bench-playground-${process.pid}`);
  await benchPlayground({
    root,
    tmp,
    quick: process.argv.includes('--quick'),
    record: (section, operation, size, samples, extra = {}) =>
      console.log(
        `${section} ${operation.padEnd(46)} ${String(size).padEnd(12)} median ${median(samples).toFixed(1)} ${extra.unit ?? 'ms'}  max ${Math.max(...samples).toFixed(1)}  n ${samples.length}${extra.limit ? `  (target ≤ ${extra.limit})` : ''}`,
      ),
  });
  statSync(tmp) && (await import('node:fs')).rmSync(tmp, { recursive: true, force: true });
}

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyze } from '../../core/src/engine/analyze.js';
import { stateAt as coreStateAt, timeline } from '../../core/src/features/timeline.js';
import { lifetimes } from '../../core/src/panel/lifetimes.js';
import type { Lifetimes } from '../../core/src/panel/messages.js';
import { LIFETIME_GEOMETRY, lifetimePicture, statePicture } from '../src/pictures.js';
import { coreDecoder, kernelFromLabel } from '../src/core_decoder.js';
import { visibleWindow, ROW_HEIGHT, fitColumns } from '../src/grid.js';
import { isHostToWebview, parsePersistedState } from '../../core/src/panel/messages.js';
import { NO_DECODER } from '../src/roles.js';
import { exportPanel, initialState, panelModel, persistedState, reduce, type PanelState } from '../src/state.js';
import { alignRoots, rootTable, tableToMarkdown, tableToTsv, vcpuTable } from '../src/tables.js';
import { timeRootTable } from '../src/bench.js';
import { panelHtml } from '../../core/src/panel/html.js';
import { manyRootsView, mmu, role, root, smallView, snapshot, stateAt, TDP_ROLE, vcpu, view } from './fixtures.js';

function showing(v = smallView()): PanelState {
  return reduce(initialState(null), { type: 'view', view: v });
}

function column(t: { columns: { label: string }[] }, label: string): number {
  const i = t.columns.findIndex((c) => c.label === label);
  assert.ok(i >= 0, `no column ${label}`);
  return i;
}

describe('panel state', () => {
  it('starts waiting, shows a view, and goes idle without a document', () => {
    let s = initialState(null);
    assert.equal(s.phase, 'waiting');
    assert.deepEqual(
      panelModel(s, NO_DECODER).banners.map((b) => b.text),
      ['Waiting for the language server…'],
    );
    s = reduce(s, { type: 'view', view: smallView() });
    assert.equal(s.phase, 'showing');
    assert.equal(panelModel(s, NO_DECODER).roots?.rows.length, 2);
    s = reduce(s, { type: 'noDocument' });
    assert.equal(s.phase, 'idle');
    assert.equal(s.view, null);
    assert.equal(panelModel(s, NO_DECODER).roots, null);
  });

  it('keeps the last view on an error and clears the error with the next view', () => {
    let s = showing();
    s = reduce(s, { type: 'error', message: 'server restarting' });
    assert.ok(s.view);
    assert.deepEqual(panelModel(s, NO_DECODER).banners, [{ kind: 'error', text: 'server restarting' }]);
    s = reduce(s, { type: 'view', view: smallView() });
    assert.equal(s.error, null);
  });

  it('toggles sort direction on the same key and resets it on another', () => {
    let s = showing();
    s = reduce(s, { type: 'ui.sort', key: 'id' });
    assert.deepEqual(s.sort, { key: 'id', dir: 'desc' });
    let t = panelModel(s, NO_DECODER).roots;
    assert.deepEqual(
      t?.rows.map((r) => r.key),
      ['#2', '#1'],
    );
    s = reduce(s, { type: 'ui.sort', key: 'refcount' });
    assert.deepEqual(s.sort, { key: 'refcount', dir: 'asc' });
    t = panelModel(s, NO_DECODER).roots;
    assert.deepEqual(
      t?.rows.map((r) => r.key),
      ['#2', '#1'],
    );
  });

  it('persists uri, line, comparison and sort, and restores only well-formed state', () => {
    let s = showing();
    s = reduce(s, { type: 'ui.compare', kernel: 'v6.3' });
    s = reduce(s, { type: 'ui.sort', key: 'state' });
    const saved = persistedState(s);
    assert.deepEqual(saved, {
      version: 1,
      uri: 'file:///w/a.kvmmu',
      line: 4,
      compareKernel: 'v6.3',
      sort: { key: 'state', dir: 'asc' },
    });
    const restored = initialState(parsePersistedState(JSON.parse(JSON.stringify(saved))));
    assert.equal(restored.compareKernel, 'v6.3');
    assert.deepEqual(restored.sort, { key: 'state', dir: 'asc' });
    assert.equal(parsePersistedState({ version: 2 }), null);
    assert.deepEqual(parsePersistedState({ version: 1, sort: { key: 'bogus', dir: 'up' }, line: -3 })?.sort, {
      key: 'id',
      dir: 'asc',
    });
    assert.equal(parsePersistedState({ version: 1, line: -3 })?.line, null);
  });

  it('accepts only known host messages', () => {
    assert.ok(isHostToWebview({ type: 'noDocument' }));
    assert.ok(!isHostToWebview({ type: 'eval', code: '1' }));
    assert.ok(!isHostToWebview('view'));
  });
});

describe('panel tables', () => {
  it('shows every root field, decoded in the profile layout, with holders and lines', () => {
    const m = panelModel(showing(), coreDecoder);
    const t = m.roots;
    assert.ok(t);
    const r1 = t.rows[0];
    assert.ok(r1);
    const cell = (label: string): string => r1.cells[column(t, label)]?.text ?? '';
    assert.equal(cell('Root'), '#1');
    assert.equal(cell('Kind'), 'TDP MMU');
    assert.equal(cell('Role'), '0x00000784');
    assert.equal(cell('Decoded'), '4-level direct !SMM');
    assert.equal(cell('Refs'), '2');
    assert.equal(cell('Holders'), 'vcpu0.root_mmu.prev_roots[0], tdp_mmu');
    assert.equal(cell('State'), 'valid');
    assert.equal(cell('Allocated'), 'L3');
    assert.equal(cell('Freed'), '—');
    assert.equal(r1.revealLine, 2, 'allocatedAt is 1-based, revealLine 0-based');
    const r2 = t.rows[1];
    assert.equal(r2?.cells[column(t, 'Decoded')]?.text, '4-level direct SMM');
    assert.equal(r2?.changed, true);
    assert.equal(r1.changed, false);
    assert.match(r1.cells[column(t, 'Role')]?.title ?? '', /bits 3:0\s+level = 4/);
  });

  it('says nothing about a role it cannot decode', () => {
    const t = panelModel(showing(), NO_DECODER).roots;
    assert.equal(t?.rows[0]?.cells[column(t, 'Decoded')]?.text, '');
    assert.equal(coreDecoder.pageRoleSummary('v9.99', '0x784'), null);
    assert.equal(coreDecoder.pageRoleSummary('v6.4', '<img>'), null);
    assert.equal(kernelFromLabel('v6.3 +tdp_mmu_root_ref')?.has('tdp_mmu_root_ref'), true);
    assert.equal(kernelFromLabel('v6.3 +nonsense'), null);
  });

  it('lists each vCPU MMU with current root, prev_roots and cpu role, marking changed vCPUs', () => {
    const t = panelModel(showing(), coreDecoder).vcpus;
    assert.ok(t);
    assert.equal(t.rows.length, 1);
    const cells = t.rows[0]?.cells.map((c) => c.text);
    assert.deepEqual(cells, ['0', 'SMM', 'root_mmu ●', '#2', '#1', '—', '—', '0x0000000000000784', '']);
    assert.equal(t.rows[0]?.changed, true);
  });

  it('shows a guest_mmu that holds roots beside the active one, and pae_root entries', () => {
    const v = vcpu(0, [
      mmu({ name: 'guest_mmu', root: 3 }),
      mmu({
        name: 'root_mmu',
        root: null,
        rootSpecial: 'pae_root',
        paeRoots: [4, 5, null, null],
        prevRoots: [null, null, null],
      }),
      mmu({ name: 'nested_mmu', root: null }),
    ]);
    const t = panelModel(showing(view(stateAt(snapshot([root(3)], [v])))), NO_DECODER).vcpus;
    assert.deepEqual(
      t?.rows.map((r) => [r.cells[2]?.text, r.cells[3]?.text]),
      [
        ['guest_mmu ●', '#3'],
        ['root_mmu', 'pae_root [#4 #5 — —]'],
      ],
    );
  });

  it('counts what changed at this line', () => {
    const t = panelModel(showing(), NO_DECODER).counters;
    const allocated = t?.rows.find((r) => r.key === 'roots_allocated');
    assert.deepEqual(
      allocated?.cells.map((c) => c.text),
      ['roots_allocated', '2', '+1'],
    );
    assert.equal(allocated?.changed, true);
    assert.equal(t?.rows.find((r) => r.key === 'roots_freed')?.changed, false);
    assert.equal(t?.rows[0]?.key, 'roots_allocated', 'model counters come first');
  });

  it('exports Markdown and TSV with scenario text escaped, never split', () => {
    const v = smallView();
    const r = v.primary.snapshot.roots[0];
    assert.ok(r);
    r.holders = ['a|b', 'tab\there', 'new\nline'];
    const m = panelModel(showing(v), NO_DECODER);
    assert.ok(m.roots);
    const md = tableToMarkdown(m.roots);
    assert.match(md, /\| a\\\|b, tab\there, new line \|/);
    assert.equal(md.split('\n').length, 2 + 2 + 2, 'title, blank, header, rule, two rows');
    const tsv = tableToTsv(m.roots);
    const lines = tsv.split('\n');
    assert.equal(lines.length, 3);
    assert.equal(lines[1]?.split('\t').length, m.roots.columns.length);
    const all = exportPanel(m, 'markdown');
    assert.match(all, /^## a\.kvmmu — after line 5 · v6\.4/);
    assert.ok(
      all.indexOf('### vCPUs') < all.indexOf('### Counters') &&
        all.indexOf('### Counters') < all.indexOf('### Roots (2)'),
    );
  });
});

describe('compare mode', () => {
  const kernelB = { profile: 'v6.3', label: 'v6.3' };

  it('aligns roots by allocation line, kind and role, not by id', () => {
    const a = [root(1, { allocatedAt: 3 }), root(2, { allocatedAt: 5 }), root(3, { allocatedAt: 7 })];
    const b = [
      root(1, { allocatedAt: 3 }),
      root(2, { allocatedAt: 4 }),
      root(3, { allocatedAt: 5 }),
      root(4, { allocatedAt: 7 }),
    ];
    const pairs = alignRoots(a, b).map((p) => [p.a?.id ?? null, p.b?.id ?? null]);
    assert.deepEqual(pairs, [
      [1, 1],
      [2, 3],
      [3, 4],
      [null, 2],
    ]);
  });

  it('marks differing values on both sides and rows present under one kernel only', () => {
    const base = smallView();
    const bRoots = [
      root(1, { holders: ['vcpu0.root_mmu.prev_roots[0]'], refcount: 1 }),
      root(2, { role: role(TDP_ROLE | 0x01000000), smm: true, allocatedAt: 5 }),
      root(3, { allocatedAt: 9 }),
    ];
    const b = stateAt(snapshot(bRoots, base.primary.snapshot.vcpus, { roots_allocated: 3 }), { line: 4 }, kernelB);
    const s = showing({ ...base, compare: { kind: 'state', kernel: 'v6.3', result: b } });
    const m = panelModel(s, NO_DECODER);
    assert.equal(m.subtitle, 'after line 5 · v6.4 vs v6.3');
    const t = m.roots;
    assert.ok(t);
    const refsA = t.columns.findIndex((c) => c.label === 'Refs' && c.side === 'a');
    const refsB = t.columns.findIndex((c) => c.label === 'Refs' && c.side === 'b');
    const row1 = t.rows.find((r) => r.cells[column(t, 'Allocated')]?.text === 'L3');
    assert.equal(row1?.cells[refsA]?.text, '2');
    assert.equal(row1?.cells[refsB]?.text, '1');
    assert.equal(row1?.cells[refsA]?.diff, true);
    assert.equal(row1?.cells[refsB]?.diff, true);
    const row2 = t.rows.find((r) => r.cells[column(t, 'Allocated')]?.text === 'L5');
    assert.equal(row2?.cells[refsA]?.diff, false);
    const only = t.rows.find((r) => r.onlyIn);
    assert.equal(only?.onlyIn, 'b');
    assert.equal(only?.cells[refsA]?.text, '');
    const counters = m.counters;
    const allocated = counters?.rows.find((r) => r.key === 'roots_allocated');
    assert.deepEqual(
      allocated?.cells.map((c) => [c.text, c.diff ?? false]),
      [
        ['roots_allocated', false],
        ['2', true],
        ['3', true],
        ['+1', false],
      ],
    );
    const md = exportPanel(m, 'markdown');
    assert.match(md, /Refs \(v6\.4\) \| Holders \(v6\.4\)/);
  });

  it('compares vCPU slots through the alignment, so shifted ids are not differences', () => {
    const a = stateAt(snapshot([root(1, { allocatedAt: 3 })], [vcpu(0, [mmu({ root: 1 })])]));
    const b = stateAt(
      snapshot([root(1, { allocatedAt: 2 }), root(2, { allocatedAt: 3 })], [vcpu(0, [mmu({ root: 2 })])]),
      {},
      kernelB,
    );
    const s = showing(view(a, { compare: { kind: 'state', kernel: 'v6.3', result: b } }));
    const t = panelModel(s, NO_DECODER).vcpus;
    const row = t?.rows[0];
    assert.equal(row?.cells[2]?.text, '#1');
    assert.equal(row?.cells[7]?.text, '#2');
    assert.equal(row?.cells[2]?.diff, false, 'same root under both kernels');
    assert.equal(row?.cells[3]?.diff, false);
  });

  it('lists the lines whose outcome differs, marking the cursor line', () => {
    const base = smallView();
    const b = stateAt(base.primary.snapshot, { line: 4 }, kernelB);
    const lines = Array.from({ length: 60 }, (_, i) => ({ line: i, text: `l${i}`, a: 'x', b: 'y' }));
    const m = panelModel(
      showing({ ...base, compare: { kind: 'state', kernel: 'v6.3', result: b }, differingLines: lines }),
      NO_DECODER,
    );
    assert.equal(m.differences?.heading, 'Outcome differs on 60 lines:');
    assert.equal(m.differences?.lines.length, 50);
    assert.equal(m.differences?.more, 10);
    assert.deepEqual(
      m.differences?.lines.filter((d) => d.current).map((d) => d.label),
      ['L5'],
    );
    assert.equal(m.differences?.lines[0]?.title, 'l0\nv6.4: x\nv6.3: y');
    const none = panelModel(
      showing({ ...base, compare: { kind: 'state', kernel: 'v6.3', result: b }, differingLines: [] }),
      NO_DECODER,
    );
    assert.equal(none.differences?.heading, "No line's outcome differs between v6.4 and v6.3.");
    assert.equal(panelModel(showing(base), NO_DECODER).differences, null, 'not comparing: no list');
  });

  it('shows why a comparison failed', () => {
    const s = showing({ ...smallView(), compare: { kind: 'error', kernel: 'v9', message: 'unknown kernel profile' } });
    assert.deepEqual(panelModel(s, NO_DECODER).banners, [
      { kind: 'error', text: 'Cannot compare with v9: unknown kernel profile' },
    ]);
  });
});

describe('grid virtualisation', () => {
  it('renders only the rows in view plus overscan', () => {
    assert.deepEqual(visibleWindow(0, 10 * ROW_HEIGHT, 5000, 2), { first: 0, last: 12 });
    assert.deepEqual(visibleWindow(1000 * ROW_HEIGHT, 10 * ROW_HEIGHT, 5000, 2), { first: 998, last: 1012 });
    assert.deepEqual(visibleWindow(4995 * ROW_HEIGHT, 10 * ROW_HEIGHT, 5000, 2), { first: 4993, last: 5000 });
    assert.deepEqual(visibleWindow(0, 0, 0), { first: 0, last: 0 });
  });

  it('keeps the essential root columns at a side width and fills the row exactly', () => {
    const t = rootTable(manyRootsView(3).primary, [], { key: 'id', dir: 'asc' }, NO_DECODER);
    const natural = t.columns.map((c) => (c.label === 'Holders' ? 240 : 70));
    const label = (i: number): string => t.columns[i]?.label ?? '';
    // 400 px: Root, Refs, Holders, State (priority 1) need 450 at full width: nothing else is added, and the
    // holders column gives back the 50 px.
    const narrow = fitColumns(natural, t.columns, 400);
    assert.deepEqual(narrow.visible.map(label), ['Root', 'Refs', 'Holders', 'State']);
    assert.deepEqual(narrow.widths, [70, 70, 190, 70]);
    // 560 px: Kind (priority 2) fits beside them at full width; the holders column takes the rest.
    const side = fitColumns(natural, t.columns, 560);
    assert.deepEqual(side.visible.map(label), ['Root', 'Kind', 'Refs', 'Holders', 'State']);
    assert.equal(
      side.widths.reduce((a, b) => a + b, 0),
      560,
    );
    // Wide: everything, the holders column takes the rest.
    const wide = fitColumns(natural, t.columns, 2000);
    assert.equal(wide.visible.length, t.columns.length);
    assert.equal(
      wide.widths.reduce((a, b) => a + b, 0),
      2000,
    );
    assert.equal(wide.widths[7], 2000 - 70 * 10);
    // Unknown width (not laid out): everything at its natural width.
    assert.deepEqual(fitColumns(natural, t.columns, 0).widths, natural);
  });

  it('keeps every priority-1 column even when they alone overflow', () => {
    const t = rootTable(manyRootsView(1).primary, [], { key: 'id', dir: 'asc' }, NO_DECODER);
    const natural = t.columns.map(() => 100);
    const { visible } = fitColumns(natural, t.columns, 150);
    assert.deepEqual(
      visible.map((i) => t.columns[i]?.label),
      ['Root', 'Refs', 'Holders', 'State'],
    );
    // …and the widest give up width rather than make the grid scroll, down to a floor.
    const squeezed = fitColumns([60, 70, 80, 200, 60, 60, 60, 300, 90, 60, 60], t.columns, 300);
    assert.deepEqual(squeezed.widths, [60, 60, 90, 90]);
  });

  it('derives, sorts and exports 5,000 roots (timing printed, not asserted)', () => {
    const t = timeRootTable(5000);
    assert.equal(t.rows, 5000);
    console.log(
      `      5,000 roots: derive ${t.deriveMs.toFixed(1)} ms, sort ${t.sortMs.toFixed(1)} ms, export ${t.exportMs.toFixed(1)} ms`,
    );
  });
});

describe('panel HTML', () => {
  it('allows one nonce’d script and the extension’s styles, nothing inline or remote', () => {
    const html = panelHtml({
      cspSource: 'https://ext.vscode-cdn.net',
      nonce: 'bm9uY2U=',
      scriptUri: 'https://ext.vscode-cdn.net/dist/webview/webview.js',
      styleUri: 'https://ext.vscode-cdn.net/dist/webview/panel.css',
    });
    const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1] ?? '';
    assert.equal(
      csp,
      "default-src 'none'; script-src 'nonce-bm9uY2U='; style-src https://ext.vscode-cdn.net; font-src https://ext.vscode-cdn.net; img-src https://ext.vscode-cdn.net",
    );
    assert.doesNotMatch(html, /unsafe-inline|unsafe-eval/);
    assert.equal(html.match(/<script/g)?.length, 1);
    assert.match(
      html,
      /<script nonce="bm9uY2U=" src="https:\/\/ext\.vscode-cdn\.net\/dist\/webview\/webview\.js"><\/script>/,
    );
    assert.doesNotMatch(html, /style="/);
  });

  it('escapes what it puts into attributes', () => {
    const html = panelHtml({ cspSource: 'x', nonce: 'n', scriptUri: 'a"><script>', styleUri: 's' });
    assert.equal(html.match(/<script/g)?.length, 1);
    assert.match(html, /a&quot;&gt;&lt;script&gt;/);
  });
});

describe('root lifetimes from the timeline', () => {
  const text = readFileSync(
    join(dirname(fileURLToPath(import.meta.url)), '../../examples/smm-root-thrash.kvmmu'),
    'utf8',
  );
  const lastLine = text.split('\n').length;
  const under = (kernel: string): Lifetimes => {
    const a = analyze(text, { kernelOverride: kernel });
    return lifetimes(coreStateAt(a, 'file:///x', 1, lastLine - 1), timeline(a, 'file:///x', 1), lastLine);
  };

  it('v6.4 keeps two roots for the whole scenario and finds them again on every RSM/SMI', () => {
    const l = under('v6.4');
    assert.equal(l.kernel, 'v6.4');
    assert.deepEqual(
      l.roots.map((r) => [r.id, r.allocatedAt, r.freedAt, r.state]),
      [
        [1, 10, null, 'valid'],
        [2, 16, null, 'valid'],
      ],
    );
    const found = (id: number): number[] =>
      (l.roots.find((r) => r.id === id)?.marks ?? []).filter((m) => m.kind === 'found').map((m) => m.line);
    assert.deepEqual(found(1), [20, 30]);
    assert.deepEqual(found(2), [27]);
    assert.ok(
      l.roots.every((r) => r.marks.some((m) => m.kind === 'put')),
      'the vCPU puts each root on SMI/RSM',
    );
  });

  it('v6.3 frees each root when the vCPU unloads it: short lives, one per SMI/RSM phase', () => {
    const l = under('v6.3');
    assert.ok(l.roots.length >= 4, `${l.roots.length} roots`);
    const freed = l.roots.filter((r) => r.freedAt !== null);
    assert.ok(freed.length >= 3);
    for (const r of freed)
      assert.ok((r.freedAt as number) - r.allocatedAt <= 6, `#${r.id} lives ${r.allocatedAt}–${r.freedAt}`);
  });

  it('lays bars out from allocation to free, the cursor as a rule, within the width', () => {
    const l = under('v6.3');
    const p = lifetimePicture(l, 400, 20);
    assert.equal(p.width, 400);
    for (const r of p.rows) {
      assert.ok(r.x0 >= LIFETIME_GEOMETRY.gutter && r.x1 <= 400 - LIFETIME_GEOMETRY.right + 0.01 && r.x1 > r.x0);
      for (const m of r.marks)
        assert.ok(m.x >= r.x0 - 0.01 && m.x <= r.x1 + 0.01, `mark at ${m.line} inside #${r.id}'s bar`);
    }
    assert.ok(p.cursorX > LIFETIME_GEOMETRY.gutter && p.cursorX < 400);
    assert.ok(p.ticks.length >= 2 && p.ticks.every((t, i) => i === 0 || t.x > (p.ticks[i - 1]?.x ?? 0)));
  });

  it('shows a dummy root (v6.6, CR3 outside every memslot) as such in the vCPU table and the picture', () => {
    const a = analyze(
      'kernel v6.6\nvm tdp=off memory=slots\nmemslot create 0 gfn=0 pages=0x10\nsregs cr0=PE|ET|PG|WP cr4=PAE efer=LME|LMA|NX cr3=0x200000\nrun',
    );
    const s = coreStateAt(a, 'file:///x', 1, 4);
    const md = tableToMarkdown(vcpuTable(s, s.changedVcpus, NO_DECODER));
    assert.match(md, /dummy root \(zero page\)/);
    const p = statePicture(s, 400, NO_DECODER);
    assert.ok(JSON.stringify(p.mmus).includes('dummy root (zero page)'));
    assert.equal(p.edges.length, 0, 'a dummy root is no page: nothing to draw an edge to');
  });

  it('draws one edge per holder in the state picture, from the holding slot', () => {
    const a = analyze(text, { kernelOverride: 'v6.4' });
    const s = coreStateAt(a, 'file:///x', 1, 16); // after the `run` following the first smi (0-based 16 = line 17)
    const p = statePicture(s, 400, NO_DECODER);
    const holders = s.snapshot.roots.filter((r) => r.state !== 'freed').flatMap((r) => r.holders);
    assert.equal(p.edges.length, holders.length);
    assert.deepEqual(
      p.holders.map((h) => h.label),
      ['TDP MMU'],
    );
    assert.ok(p.edges.some((e) => e.holder === 'vcpu0.root_mmu.root' && e.root === 2));
    assert.ok(p.edges.filter((e) => e.holder === 'tdp_mmu').length === 2, 'the TDP MMU holds both roots');
    for (const n of [...p.mmus, ...p.roots, ...p.holders]) assert.ok(n.x >= 0 && n.x + n.w <= 400);
  });
});

// Geometry of the root panel as a person sees it, measured from bounding boxes inside the panel's document:
// every grid cell must lie within its column header's x-range, nothing essential may need horizontal scrolling,
// the counters must not scroll inside a box, and a step's action names must not overlap their sentences.
// `panelGeometry` runs in the page (Playwright serialises it: no closures, no imports); `geometryProblems` turns
// its report into readable failures. Shared by the webview's browser tests and the end-to-end UI tests.
import assert from 'node:assert/strict';

/** Runs inside the panel's document. */
export function panelGeometry(root) {
  const doc = root.ownerDocument ?? root;
  const r = (e) => e.getBoundingClientRect();
  const grids = [];
  for (const grid of doc.querySelectorAll('.grid')) {
    if (grid.closest('[hidden]') || grid.offsetParent === null) continue;
    const headers = [...grid.querySelectorAll('.grid-header > [role="columnheader"]')];
    const columns = headers.map((h) => ({ label: h.textContent.trim(), left: r(h).left, right: r(h).right }));
    const misaligned = [];
    let cells = 0;
    for (const row of grid.querySelectorAll('.grid-body .grid-row')) {
      if (row.hidden) continue;
      [...row.children].forEach((cell, k) => {
        cells++;
        const c = r(cell);
        const h = columns[k];
        if (!h || c.left < h.left - 0.5 || c.right > h.right + 0.5)
          misaligned.push({
            row: row.dataset.key,
            column: h?.label ?? `#${k}`,
            text: cell.textContent,
            cell: [Math.round(c.left), Math.round(c.right)],
            header: h ? [Math.round(h.left), Math.round(h.right)] : null,
          });
      });
    }
    const scroller = grid.querySelector('.grid-scroller');
    grids.push({
      id: grid.id,
      columns: columns.map((c) => c.label),
      cells,
      misaligned: misaligned.slice(0, 8),
      misalignedCount: misaligned.length,
      scrollWidth: scroller.scrollWidth,
      clientWidth: scroller.clientWidth,
      scrollHeight: scroller.scrollHeight,
      clientHeight: scroller.clientHeight,
      hiddenColumns: Number(grid.dataset.hiddenColumns ?? 0),
    });
  }
  const overlaps = [];
  for (const action of doc.querySelectorAll('.action')) {
    const op = action.querySelector('.op');
    const detail = action.querySelector('.detail');
    if (!op || !detail) continue;
    const a = r(op);
    const b = r(detail);
    if (a.right > b.left + 0.5 && a.top < b.bottom && b.top < a.bottom)
      overlaps.push({
        op: op.textContent,
        detail: detail.textContent.slice(0, 40),
        op_right: a.right,
        detail_left: b.left,
      });
  }
  const blocks = [...doc.querySelectorAll('.step-block')].map(r);
  for (let i = 1; i < blocks.length; i++) {
    const a = blocks[i - 1];
    const b = blocks[i];
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
      overlaps.push({ op: 'step blocks', detail: `${i - 1} and ${i}` });
  }
  return { width: doc.documentElement.clientWidth, grids, overlaps };
}

/** What is wrong with a panelGeometry report, one sentence each (empty when nothing is). */
export function geometryProblems(report, { essential = {} } = {}) {
  const problems = [];
  for (const g of report.grids) {
    if (g.misalignedCount > 0)
      problems.push(
        `${g.id}: ${g.misalignedCount} cell(s) outside their header, e.g. ${JSON.stringify(g.misaligned.slice(0, 3))}`,
      );
    if (g.cells === 0) problems.push(`${g.id}: no cells measured`);
    if (g.scrollWidth > g.clientWidth + 1)
      problems.push(`${g.id}: scrolls horizontally (${g.scrollWidth} > ${g.clientWidth}) at ${report.width} px`);
    for (const label of essential[g.id] ?? [])
      if (!g.columns.some((c) => c.replace(/[▲▼]/g, '').trim() === label))
        problems.push(`${g.id}: essential column ${label} not shown at ${report.width} px (${g.columns.join(', ')})`);
  }
  const counters = report.grids.find((g) => g.id === 'counters');
  if (counters && counters.scrollHeight > counters.clientHeight + 1)
    problems.push(`counters scroll inside their box (${counters.scrollHeight} > ${counters.clientHeight})`);
  for (const o of report.overlaps) problems.push(`overlap: ${JSON.stringify(o)}`);
  return problems;
}

export function assertGeometry(report, options) {
  const problems = geometryProblems(report, options);
  assert.deepEqual(problems, [], `panel geometry at ${report.width} px:\n  ${problems.join('\n  ')}`);
}

/** The columns a person needs at any width. */
export const ESSENTIAL = {
  roots: ['Root', 'Refs', 'Holders', 'State'],
  vcpus: ['vCPU', 'MMU', 'Root', 'prev[0]', 'prev[1]', 'prev[2]'],
  counters: ['Counter'],
};

/** The same in compare mode (each side's first column is headed by its kernel). */
export const ESSENTIAL_COMPARE = {
  roots: ['Refs', 'State'],
  vcpus: ['vCPU', 'MMU'],
  counters: ['Counter'],
};

/**
 * A keyboard-navigable, virtualised table (ARIA grid). Only the rows in view exist in the DOM, so
 * thousands of roots cost what forty do. All text goes through `textContent`/`title`: scenario text
 * is never parsed as HTML. Styles are set through CSSOM only (the CSP allows no inline styles).
 */
import type { RootSortKey } from '../../core/src/panel/messages.js';
import type { Column, Row, Table } from './tables.js';

/** Must match `--row-height` in panel.css. */
export const ROW_HEIGHT = 22;
const OVERSCAN = 8;

/** First and last (exclusive) row index to render for a scroll position: pure, unit-tested. */
export function visibleWindow(
  scrollTop: number,
  viewportHeight: number,
  rowCount: number,
  overscan = OVERSCAN,
): { first: number; last: number } {
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - overscan);
  const last = Math.min(
    rowCount,
    Math.ceil((scrollTop + Math.max(viewportHeight, ROW_HEIGHT)) / ROW_HEIGHT) + overscan,
  );
  return { first, last: Math.max(first, last) };
}

/** Horizontal padding of a cell (`.grid-cell` in panel.css), both sides together. */
const CELL_PADDING = 10;
/** No column is wider than this (one long cell cannot push the rest away); its text is then ellipsised. */
const MAX_COLUMN = 320;
/** A growing column (holders) is not squeezed below this before columns of lower priority go. */
const MIN_GROW = 96;
/** When even the priority-1 columns overflow, the widest give up width down to this (their text is ellipsised). */
const MIN_SQUEEZED = 44;

/**
 * Which columns to show in `available` pixels, and how wide: every priority-1 column, then priority 2 and 3 ones in
 * table order while they fit beside the others at their full width (an essential column's text is not cut to make
 * room for an optional one); the growing column takes what is left, or gives back down to MIN_GROW. Pure (natural widths are measured by the
 * caller), so the choice is unit-tested. Returns indices into `columns` in table order and their widths in px.
 */
export function fitColumns(
  natural: readonly number[],
  columns: readonly Column[],
  available: number,
): { visible: number[]; widths: number[] } {
  const priority = (c: Column): number => c.priority ?? 2;
  const shown = new Set<number>();
  let used = 0;
  columns.forEach((c, i) => {
    if (priority(c) === 1) {
      shown.add(i);
      used += natural[i] ?? 0;
    }
  });
  // Without a known width (hidden, not laid out yet) show everything.
  const room = available > 0 ? available : Number.POSITIVE_INFINITY;
  for (const level of [2, 3]) {
    columns.forEach((c, i) => {
      if (priority(c) !== level) return;
      const w = natural[i] ?? 0;
      if (used + w <= room) {
        shown.add(i);
        used += w;
      }
    });
  }
  const visible = [...shown].sort((a, b) => a - b);
  const widths = visible.map((i) => natural[i] ?? 0);
  let total = widths.reduce((a, b) => a + b, 0);
  const grow = visible.findIndex((i) => columns[i]?.grow);
  if (Number.isFinite(room)) {
    const target = grow >= 0 ? grow : widths.length - 1;
    if (target >= 0 && total !== room) {
      // Fill the row exactly; a growing column may also give back down to MIN_GROW.
      const floor = grow >= 0 ? Math.min(widths[target] as number, MIN_GROW) : (widths[target] as number);
      const next = Math.max(floor, (widths[target] as number) + room - total);
      total += next - (widths[target] as number);
      widths[target] = next;
    }
  }
  // Still too wide (only essential columns left): take the excess from the widest columns rather than scroll.
  if (Number.isFinite(room) && total > room) {
    let excess = total - room;
    while (excess > 0.5) {
      let widest = -1;
      widths.forEach((w, k) => {
        if (w > MIN_SQUEEZED && (widest < 0 || w > (widths[widest] as number))) widest = k;
      });
      if (widest < 0) break;
      const top = widths[widest] as number;
      const second = widths.reduce((m, w, k) => (k !== widest && w < top && w > m ? w : m), MIN_SQUEEZED);
      const take = Math.min(excess, Math.max(1, (widths[widest] as number) - second));
      widths[widest] = (widths[widest] as number) - take;
      excess -= take;
    }
  }
  return { visible, widths: widths.map((w) => Math.floor(w)) };
}

/** Text metrics for the grid's three fonts (bold header, UI body, editor-font mono cells). */
class TextMeasure {
  private readonly context = document.createElement('canvas').getContext('2d');

  width(text: string, font: string): number {
    if (!this.context) return text.length * 8;
    this.context.font = font;
    return this.context.measureText(text).width;
  }
}

function cssFont(el: Element): string {
  const s = getComputedStyle(el);
  return `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
}

export interface GridCallbacks {
  /** Enter, Space or a click on a row. */
  onActivate?(row: Row): void;
  onSort?(key: RootSortKey): void;
  /** The active row changed (keyboard or click). */
  onActiveChange?(key: string | null): void;
  /** Ctrl/Cmd+C inside the grid. */
  onCopy?(table: Table): void;
}

export class GridView {
  readonly element: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly header: HTMLElement;
  private readonly body: HTMLElement;
  private table: Table | null = null;
  private sort: { key: RootSortKey; dir: 'asc' | 'desc' } | null = null;
  private activeIndex = -1;
  private pool: HTMLElement[] = [];
  private frame = 0;
  private renderedRange = { first: 0, last: 0 };
  /** Natural width of every column of the current table, in px (measured once per table). */
  private natural: number[] = [];
  /** Indices of the columns shown at the current width, in table order. */
  private visible: number[] = [];
  private fittedWidth = -1;
  private readonly detail: HTMLElement;
  private readonly measure = new TextMeasure();
  private readonly probe: HTMLElement;

  constructor(
    private readonly id: string,
    label: string,
    private readonly callbacks: GridCallbacks,
  ) {
    this.element = document.createElement('div');
    this.element.className = 'grid';
    this.element.id = id;
    this.element.setAttribute('role', 'grid');
    this.element.setAttribute('aria-label', label);
    this.element.tabIndex = 0;
    this.scroller = document.createElement('div');
    this.scroller.className = 'grid-scroller';
    this.header = document.createElement('div');
    this.header.className = 'grid-row grid-header';
    this.header.setAttribute('role', 'row');
    this.header.setAttribute('aria-rowindex', '1');
    this.body = document.createElement('div');
    this.body.className = 'grid-body';
    this.body.setAttribute('role', 'rowgroup');
    this.probe = document.createElement('div');
    this.probe.className = 'grid-cell mono grid-probe';
    this.probe.setAttribute('aria-hidden', 'true');
    this.scroller.append(this.header, this.body);
    this.detail = document.createElement('div');
    this.detail.className = 'grid-detail';
    this.detail.id = `${id}-detail`;
    this.detail.setAttribute('aria-live', 'polite');
    this.element.append(this.scroller, this.detail, this.probe);
    this.scroller.addEventListener('scroll', () => this.scheduleRender(), { passive: true });
    this.element.addEventListener('keydown', (e) => this.onKeyDown(e));
    this.element.addEventListener('focus', () => {
      if (this.activeIndex < 0 && this.table && this.table.rows.length > 0) this.setActive(0);
    });
    this.body.addEventListener('click', (e) => this.onClick(e));
    if (typeof ResizeObserver !== 'undefined')
      new ResizeObserver(() => {
        if (this.scroller.clientWidth !== this.fittedWidth) this.fit(false);
        this.scheduleRender();
      }).observe(this.scroller);
  }

  /** Replaces the table; the active row follows its key. */
  setTable(table: Table, sort: { key: RootSortKey; dir: 'asc' | 'desc' } | null, activeKey: string | null): void {
    const previousKey = activeKey ?? this.activeKey();
    const headerChanged =
      this.table === null || !sameColumns(this.table.columns, table.columns) || this.sortChanged(sort);
    this.table = table;
    this.sort = sort;
    this.activeIndex = previousKey === null ? -1 : table.rows.findIndex((r) => r.key === previousKey);
    this.natural = this.naturalWidths(table);
    this.element.setAttribute('aria-rowcount', String(table.rows.length + 1));
    this.element.setAttribute('aria-colcount', String(table.columns.length));
    this.body.style.height = `${table.rows.length * ROW_HEIGHT}px`;
    // A new set of columns redraws the rows already; otherwise draw them here.
    if (!this.fit(headerChanged)) this.renderRows(true);
  }

  activeKey(): string | null {
    return this.table?.rows[this.activeIndex]?.key ?? null;
  }

  /** Renders the rows now (the benchmark and tests call it to time a scroll step synchronously). */
  renderNow(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.renderRows(false);
  }

  get renderedRowCount(): number {
    return this.renderedRange.last - this.renderedRange.first;
  }

  private sortChanged(sort: { key: RootSortKey; dir: 'asc' | 'desc' } | null): boolean {
    return this.sort?.key !== sort?.key || this.sort?.dir !== sort?.dir;
  }

  /** Each column's width for its widest text (header in the bold UI font, cells in theirs), in px. */
  private naturalWidths(table: Table): number[] {
    const headerFont = cssFont(this.header);
    const bodyFont = cssFont(this.body);
    const monoFont = cssFont(this.probe);
    return table.columns.map((c, i) => {
      const header = this.measure.width(headerText(c) + (c.sortKey ? ' ▼' : ''), headerFont);
      // The longest texts by length are the widest in practice; measuring a few keeps 5,000 rows cheap.
      const longest: string[] = [];
      for (const r of table.rows) {
        const t = r.cells[i]?.text ?? '';
        if (longest.length < 3) longest.push(t);
        else {
          let k = 0;
          for (let j = 1; j < longest.length; j++)
            if ((longest[j] as string).length < (longest[k] as string).length) k = j;
          if (t.length > (longest[k] as string).length) longest[k] = t;
        }
      }
      let body = 0;
      for (const t of longest) body = Math.max(body, this.measure.width(t, c.mono ? monoFont : bodyFont));
      return Math.min(MAX_COLUMN, Math.ceil(Math.max(header, body)) + CELL_PADDING + 2);
    });
  }

  /**
   * Chooses the columns for the grid's current width and sets one template for the header and every row, in px
   * (so a bold header cannot resolve its widths differently from the cells). Returns whether the header was redrawn.
   */
  private fit(forceHeader: boolean): boolean {
    const table = this.table;
    if (!table) return false;
    this.fittedWidth = this.scroller.clientWidth;
    const { visible, widths } = fitColumns(this.natural, table.columns, this.fittedWidth);
    const changed =
      forceHeader || visible.length !== this.visible.length || visible.some((v, i) => v !== this.visible[i]);
    this.visible = visible;
    this.element.style.setProperty('--grid-columns', widths.map((w) => `${w}px`).join(' '));
    const total = `${widths.reduce((a, b) => a + b, 0)}px`;
    this.header.style.width = total;
    this.body.style.width = total;
    this.element.dataset['hiddenColumns'] = String(table.columns.length - visible.length);
    if (changed) {
      this.renderHeader();
      this.renderRows(true);
    }
    this.renderDetail();
    return changed;
  }

  /** Columns left out at this width: their values for the active row, or which they are. */
  private renderDetail(): void {
    const table = this.table;
    const hidden = table ? table.columns.map((_, i) => i).filter((i) => !this.visible.includes(i)) : [];
    this.detail.hidden = !table || hidden.length === 0 || table.rows.length === 0;
    if (!table || this.detail.hidden) {
      this.detail.replaceChildren();
      return;
    }
    const row = table.rows[this.activeIndex];
    if (!row) {
      this.detail.textContent = `Narrow panel: ${hidden.map((i) => table.columns[i]?.label ?? '').join(', ')} left out. Select a row to see them.`;
      return;
    }
    const parts: HTMLElement[] = [];
    const head = document.createElement('span');
    head.className = 'detail-row';
    head.textContent = `${row.cells[this.visible[0] ?? 0]?.text ?? ''}:`;
    parts.push(head);
    for (const i of hidden) {
      const item = document.createElement('span');
      item.className = 'detail-item';
      const label = document.createElement('span');
      label.className = 'detail-label';
      label.textContent = `${headerText(table.columns[i] as Column)} `;
      const value = document.createElement('span');
      value.className = table.columns[i]?.mono ? 'detail-value mono' : 'detail-value';
      value.textContent = row.cells[i]?.text || '—';
      item.append(label, value);
      parts.push(item);
    }
    this.detail.replaceChildren(...parts);
  }

  private renderHeader(): void {
    const table = this.table;
    if (!table) return;
    this.header.replaceChildren(
      ...this.visible.map((i) => {
        const c = table.columns[i] as Column;
        const cell = document.createElement('div');
        cell.className = cellClass(c, i, table.columns).replace(' mono', '');
        if (c.title || c.group) cell.title = c.title ?? `${c.group}: ${c.label}`;
        cell.setAttribute('role', 'columnheader');
        cell.setAttribute('aria-colindex', String(i + 1));
        if (c.sortKey) {
          const key = c.sortKey;
          const active = this.sort?.key === key;
          cell.setAttribute('aria-sort', active ? (this.sort?.dir === 'asc' ? 'ascending' : 'descending') : 'none');
          const button = document.createElement('button');
          button.className = 'sort';
          button.type = 'button';
          button.textContent = `${headerText(c)}${active ? (this.sort?.dir === 'asc' ? ' ▲' : ' ▼') : ''}`;
          button.title = `Sort by ${c.label}`;
          button.addEventListener('click', () => this.callbacks.onSort?.(key));
          cell.append(button);
        } else {
          cell.textContent = headerText(c);
        }
        return cell;
      }),
    );
  }

  private scheduleRender(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.renderRows(false);
    });
  }

  private renderRows(force: boolean): void {
    const table = this.table;
    if (!table) return;
    const headerHeight = this.header.offsetHeight;
    const top = Math.max(0, this.scroller.scrollTop - headerHeight);
    const range = visibleWindow(top, this.scroller.clientHeight, table.rows.length);
    if (!force && range.first === this.renderedRange.first && range.last === this.renderedRange.last) return;
    this.renderedRange = range;
    const count = range.last - range.first;
    while (this.pool.length < count) {
      const el = document.createElement('div');
      el.setAttribute('role', 'row');
      this.pool.push(el);
      this.body.append(el);
    }
    for (let i = 0; i < this.pool.length; i++) {
      const el = this.pool[i] as HTMLElement;
      const index = range.first + i;
      const row = i < count ? table.rows[index] : undefined;
      if (!row) {
        el.hidden = true;
        el.removeAttribute('id');
        continue;
      }
      el.hidden = false;
      this.fillRow(el, row, index, table.columns);
    }
    this.updateActiveDescendant();
  }

  private fillRow(el: HTMLElement, row: Row, index: number, columns: Column[]): void {
    el.id = `${this.id}-row-${index}`;
    el.dataset['index'] = String(index);
    el.dataset['key'] = row.key;
    el.setAttribute('aria-rowindex', String(index + 2));
    el.className = [
      'grid-row',
      row.changed ? 'changed' : '',
      row.onlyIn ? `only-${row.onlyIn}` : '',
      index === this.activeIndex ? 'active' : '',
      row.revealLine !== undefined ? 'revealable' : '',
    ]
      .filter(Boolean)
      .join(' ');
    el.setAttribute('aria-selected', index === this.activeIndex ? 'true' : 'false');
    if (row.onlyIn) el.title = `only under ${row.onlyIn === 'a' ? 'the first' : 'the second'} kernel`;
    else el.removeAttribute('title');
    el.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
    const visible = this.visible;
    while (el.childElementCount > visible.length) el.lastElementChild?.remove();
    while (el.childElementCount < visible.length) {
      const cell = document.createElement('div');
      cell.setAttribute('role', 'gridcell');
      el.append(cell);
    }
    for (let k = 0; k < visible.length; k++) {
      const i = visible[k] as number;
      const cell = el.children[k] as HTMLElement;
      const data = row.cells[i];
      const column = columns[i] as Column;
      cell.className = cellClass(column, i, columns) + (data?.diff ? ' diff' : '');
      cell.setAttribute('aria-colindex', String(i + 1));
      cell.textContent = data?.text ?? '';
      if (data?.title) cell.title = data.title;
      else cell.removeAttribute('title');
    }
  }

  private setActive(index: number, reveal = true): void {
    const table = this.table;
    if (!table || table.rows.length === 0) return;
    this.activeIndex = Math.max(0, Math.min(table.rows.length - 1, index));
    if (reveal) this.scrollToActive();
    this.renderRows(true);
    this.renderDetail();
    this.callbacks.onActiveChange?.(this.activeKey());
  }

  private scrollToActive(): void {
    const headerHeight = this.header.offsetHeight;
    const rowTop = this.activeIndex * ROW_HEIGHT;
    const viewTop = this.scroller.scrollTop;
    const viewHeight = this.scroller.clientHeight - headerHeight;
    if (rowTop < viewTop) this.scroller.scrollTop = rowTop;
    else if (rowTop + ROW_HEIGHT > viewTop + viewHeight) this.scroller.scrollTop = rowTop + ROW_HEIGHT - viewHeight;
  }

  private updateActiveDescendant(): void {
    const inRange = this.activeIndex >= this.renderedRange.first && this.activeIndex < this.renderedRange.last;
    if (inRange) this.element.setAttribute('aria-activedescendant', `${this.id}-row-${this.activeIndex}`);
    else this.element.removeAttribute('aria-activedescendant');
  }

  private onClick(e: MouseEvent): void {
    const rowEl = (e.target as Element | null)?.closest<HTMLElement>('.grid-row');
    const index = Number(rowEl?.dataset['index']);
    const row = this.table?.rows[index];
    if (!rowEl || !row) return;
    this.setActive(index, false);
    this.callbacks.onActivate?.(row);
  }

  private onKeyDown(e: KeyboardEvent): void {
    const table = this.table;
    // Keys on a header's sort button belong to the button.
    if (!table || e.target !== this.element) return;
    const page = Math.max(1, Math.floor((this.scroller.clientHeight - this.header.offsetHeight) / ROW_HEIGHT) - 1);
    const at = this.activeIndex;
    let next: number | null = null;
    switch (e.key) {
      case 'ArrowDown':
        next = at + 1;
        break;
      case 'ArrowUp':
        next = at - 1;
        break;
      case 'PageDown':
        next = at + page;
        break;
      case 'PageUp':
        next = at - page;
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = table.rows.length - 1;
        break;
      case 'Enter':
      case ' ': {
        const row = table.rows[at];
        if (row) this.callbacks.onActivate?.(row);
        e.preventDefault();
        return;
      }
      case 'c':
      case 'C':
        if (e.ctrlKey || e.metaKey) {
          this.callbacks.onCopy?.(table);
          e.preventDefault();
        }
        return;
      default:
        return;
    }
    e.preventDefault();
    this.setActive(next);
  }
}

/** A side's first column (compare mode) is headed by its kernel; the full label is the header's hover text. */
function headerText(c: Column): string {
  return c.group ?? c.label;
}

function sameColumns(a: Column[], b: Column[]): boolean {
  return (
    a.length === b.length &&
    a.every((c, i) => headerText(c) === (b[i] ? headerText(b[i]) : undefined) && c.side === b[i]?.side)
  );
}

function cellClass(c: Column, index: number, columns: Column[]): string {
  const first = c.side !== undefined && columns[index - 1]?.side !== c.side;
  return ['grid-cell', c.mono ? 'mono' : '', c.side ? `side-${c.side}` : '', first ? 'side-start' : '']
    .filter(Boolean)
    .join(' ');
}

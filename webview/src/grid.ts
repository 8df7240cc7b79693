/**
 * A keyboard-navigable, virtualised table (ARIA grid). Only the rows in view exist in the DOM, so
 * thousands of roots cost what forty do. All text goes through `textContent`/`title`: scenario text
 * is never parsed as HTML. Styles are set through CSSOM only (the CSP allows no inline styles).
 */
import type { RootSortKey } from './messages.js';
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

/** Column widths in `ch`, from the longest text in each column (bounded so one cell cannot push the rest away). */
export function columnWidths(table: Table, maxCh = 48): number[] {
  return table.columns.map((c, i) => {
    // Headers are bold UI font; `ch` is the UI font's "0", narrower than capitals and bold text.
    const header = Math.ceil((headerText(c).length + (c.sortKey ? 2 : 0)) * 1.15) + 3;
    let w = 0;
    for (const r of table.rows) w = Math.max(w, r.cells[i]?.text.length ?? 0);
    // Mono cells use the editor font, whose `ch` is wider than the UI font's that sizes the grid.
    const body = Math.ceil(w * (c.mono ? 1.25 : 1.1)) + 3;
    return Math.min(maxCh, Math.max(6, header, body));
  });
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
    this.scroller.append(this.header, this.body);
    this.element.append(this.scroller);
    this.scroller.addEventListener('scroll', () => this.scheduleRender(), { passive: true });
    this.element.addEventListener('keydown', (e) => this.onKeyDown(e));
    this.element.addEventListener('focus', () => {
      if (this.activeIndex < 0 && this.table && this.table.rows.length > 0) this.setActive(0);
    });
    this.body.addEventListener('click', (e) => this.onClick(e));
    if (typeof ResizeObserver !== 'undefined') new ResizeObserver(() => this.scheduleRender()).observe(this.scroller);
  }

  /** Replaces the table; the active row follows its key. */
  setTable(table: Table, sort: { key: RootSortKey; dir: 'asc' | 'desc' } | null, activeKey: string | null): void {
    const previousKey = activeKey ?? this.activeKey();
    const headerChanged =
      this.table === null || !sameColumns(this.table.columns, table.columns) || this.sortChanged(sort);
    this.table = table;
    this.sort = sort;
    this.activeIndex = previousKey === null ? -1 : table.rows.findIndex((r) => r.key === previousKey);
    this.applyWidths(table);
    if (headerChanged) this.renderHeader();
    this.element.setAttribute('aria-rowcount', String(table.rows.length + 1));
    this.element.setAttribute('aria-colcount', String(table.columns.length));
    this.body.style.height = `${table.rows.length * ROW_HEIGHT}px`;
    this.renderRows(true);
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

  private applyWidths(table: Table): void {
    const widths = columnWidths(table);
    this.element.style.setProperty('--grid-columns', widths.map((w) => `${w}ch`).join(' '));
    const total = `${widths.reduce((a, b) => a + b, 0)}ch`;
    this.header.style.width = total;
    this.body.style.width = total;
  }

  private renderHeader(): void {
    const table = this.table;
    if (!table) return;
    this.header.replaceChildren(
      ...table.columns.map((c, i) => {
        const cell = document.createElement('div');
        cell.className = cellClass(c, i, table.columns).replace(' mono', '');
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
    while (el.childElementCount > columns.length) el.lastElementChild?.remove();
    while (el.childElementCount < columns.length) {
      const cell = document.createElement('div');
      cell.setAttribute('role', 'gridcell');
      el.append(cell);
    }
    for (let i = 0; i < columns.length; i++) {
      const cell = el.children[i] as HTMLElement;
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

function headerText(c: Column): string {
  return c.group ? `${c.group}: ${c.label}` : c.label;
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

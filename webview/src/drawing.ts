/**
 * Draws the two pictures of pictures.ts as SVG: elements from createElementNS, text only through `textContent`
 * (a scenario's text is never markup), colours only from classes in panel.css (theme variables; the CSP allows no
 * inline styles). Both are keyboard reachable and reveal a line in the editor on Enter or click.
 */
import type { StateAtResult } from '../../core/src/protocol.js';
import type { Lifetimes } from '../../core/src/panel/messages.js';
import {
  LIFETIME_GEOMETRY,
  lifetimePicture,
  markWord,
  statePicture,
  type LifetimePicture,
  type LifetimeRow,
  type StatePicture,
} from './pictures.js';
import type { RoleDecoder } from './roles.js';

const SVG = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  className?: string,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (className) e.setAttribute('class', className);
  return e;
}

function text(x: number, y: number, content: string, className: string, anchor?: 'end' | 'middle'): SVGTextElement {
  const t = svg('text', anchor ? { x, y, 'text-anchor': anchor } : { x, y }, className);
  t.textContent = content;
  return t;
}

function hover(parent: SVGElement, content: string): void {
  const t = svg('title', {});
  t.textContent = content;
  parent.append(t);
}

/** Measures text in the picture's fonts so labels can be cut to fit their boxes (SVG text does not ellipsise). */
class Fitter {
  private readonly context = document.createElement('canvas').getContext('2d');
  constructor(private readonly probe: Element) {}

  font(className: string): string {
    const el = document.createElementNS(SVG, 'text');
    el.setAttribute('class', className);
    this.probe.append(el);
    const s = getComputedStyle(el);
    const font = `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
    el.remove();
    return font;
  }

  fit(content: string, width: number, font: string): string {
    if (!this.context || width <= 0) return content;
    this.context.font = font;
    if (this.context.measureText(content).width <= width) return content;
    let lo = 0;
    let hi = content.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.context.measureText(`${content.slice(0, mid)}…`).width <= width) lo = mid;
      else hi = mid - 1;
    }
    return `${content.slice(0, lo)}…`;
  }
}

export interface PictureHost {
  revealLine(line: number): void;
}

// ---------------------------------------------------------------------------------------------
// The state at the cursor

export class StateDrawing {
  readonly element: HTMLElement;
  private readonly body: HTMLElement;
  private data: { results: StateAtResult[] } | null = null;
  private width = 0;

  constructor(
    private readonly decoder: RoleDecoder,
    private readonly host: PictureHost,
  ) {
    this.element = document.createElement('section');
    this.element.className = 'picture state-picture';
    this.element.id = 'state-picture';
    const heading = document.createElement('h2');
    heading.className = 'section-title';
    heading.id = 'state-picture-title';
    heading.textContent = 'State at the cursor';
    this.element.setAttribute('aria-labelledby', heading.id);
    this.body = document.createElement('div');
    this.body.className = 'picture-body';
    this.element.append(heading, this.body);
    this.body.addEventListener('click', (e) => this.activate(e.target));
    this.body.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        if (this.activate(e.target)) e.preventDefault();
      }
    });
    if (typeof ResizeObserver !== 'undefined')
      new ResizeObserver(() => {
        if (this.body.clientWidth !== this.width) this.draw();
      }).observe(this.body);
  }

  /** One picture per kernel (two in compare mode); null hides the section. */
  setData(results: StateAtResult[] | null): void {
    this.data = results && results.length > 0 ? { results } : null;
    this.element.hidden = this.data === null;
    this.draw();
  }

  private activate(target: EventTarget | null): boolean {
    const node = (target as Element | null)?.closest?.('[data-line]');
    const line = Number(node?.getAttribute('data-line'));
    if (!node || !Number.isInteger(line) || line < 0) return false;
    this.host.revealLine(line);
    return true;
  }

  private draw(): void {
    if (!this.data) {
      this.body.replaceChildren();
      return;
    }
    this.width = this.body.clientWidth;
    const labelled = this.data.results.length > 1;
    this.body.replaceChildren();
    for (const r of this.data.results) this.figure(statePicture(r, this.width || 600, this.decoder), labelled);
  }

  private figure(p: StatePicture, labelled: boolean): HTMLElement {
    const figure = document.createElement('figure');
    figure.className = 'state-figure';
    figure.dataset['kernel'] = p.kernel;
    // In the document first: the text measurements below need computed styles.
    this.body.append(figure);
    if (labelled) {
      const caption = document.createElement('figcaption');
      caption.textContent = p.kernel;
      figure.append(caption);
    }
    const root = svg('svg', { width: p.width, height: p.height, viewBox: `0 0 ${p.width} ${p.height}` }, 'state-svg');
    root.setAttribute('role', 'group');
    root.setAttribute(
      'aria-label',
      `${p.kernel}: ${p.mmus.length} vCPU MMU${p.mmus.length === 1 ? '' : 's'}, ${p.roots.length} root${p.roots.length === 1 ? '' : 's'}, ${p.edges.length} reference${p.edges.length === 1 ? '' : 's'}`,
    );
    figure.append(root);
    const fitter = new Fitter(root);
    const fonts = { title: fitter.font('node-title'), text: fitter.font('node-text'), mono: fitter.font('node-mono') };

    const edges = svg('g', {}, 'edges');
    for (const e of p.edges) {
      const dx = Math.max(16, (e.to.x - e.from.x) / 2);
      const path = svg(
        'path',
        { d: `M${e.from.x} ${e.from.y} C${e.from.x + dx} ${e.from.y} ${e.to.x - dx} ${e.to.y} ${e.to.x} ${e.to.y}` },
        `edge${e.changed ? ' changed' : ''}`,
      );
      path.dataset['holder'] = e.holder;
      path.dataset['root'] = String(e.root);
      hover(path, `${e.holder} holds a reference to #${e.root}`);
      edges.append(path);
      edges.append(svg('circle', { cx: e.to.x, cy: e.to.y, r: 2.5 }, `edge-end${e.changed ? ' changed' : ''}`));
    }

    const mmus = svg('g', {}, 'mmus');
    for (const m of p.mmus) {
      const g = svg('g', {}, `mmu${m.active ? ' active' : ''}${m.changed ? ' changed' : ''}`);
      g.dataset['key'] = m.key;
      g.append(svg('rect', { x: m.x + 0.5, y: m.y + 0.5, width: m.w - 1, height: m.h - 1, rx: 3 }, 'mmu-box'));
      g.append(text(m.x + 6, m.y + 15, fitter.fit(m.title, m.w - 12, fonts.title), 'node-title'));
      for (const s of m.slots) {
        const slot = svg('g', {}, `slot${s.root !== null ? ' holds' : ''}`);
        slot.dataset['slot'] = s.key;
        slot.append(svg('rect', { x: s.x + 4.5, y: s.y + 1.5, width: s.w - 9, height: s.h - 3 }, 'slot-box'));
        slot.append(text(s.x + 10, s.y + s.h / 2 + 4, s.label, 'node-mono slot-label'));
        slot.append(
          text(
            s.x + s.w - 10,
            s.y + s.h / 2 + 4,
            fitter.fit(s.value, s.w / 2, fonts.mono),
            'node-mono slot-value',
            'end',
          ),
        );
        g.append(slot);
      }
      if (m.changed) hover(g, `${m.title}: changed at this line`);
      mmus.append(g);
    }

    const holders = svg('g', {}, 'holders');
    for (const h of p.holders) {
      const g = svg('g', {}, 'holder');
      g.dataset['holder'] = h.key;
      g.append(svg('rect', { x: h.x + 0.5, y: h.y + 0.5, width: h.w - 1, height: h.h - 1, rx: 10 }, 'holder-box'));
      g.append(text(h.x + 10, h.y + h.h / 2 + 4, fitter.fit(h.label, h.w - 20, fonts.title), 'node-title'));
      hover(g, h.title);
      holders.append(g);
    }

    const roots = svg('g', {}, 'roots');
    for (const r of p.roots) {
      const g = svg('g', {}, `root-node look-${r.look}${r.changed ? ' changed' : ''}`);
      g.dataset['root'] = String(r.id);
      g.dataset['line'] = String(r.revealLine);
      g.setAttribute('tabindex', '0');
      g.setAttribute('role', 'button');
      g.setAttribute(
        'aria-label',
        `${r.title.split('\n')[0]}${r.changed ? '; changed at this line' : ''}. Enter reveals the allocating line.`,
      );
      g.append(svg('rect', { x: r.x + 0.5, y: r.y + 0.5, width: r.w - 1, height: r.h - 1, rx: 3 }, 'root-box'));
      if (r.changed) g.append(svg('rect', { x: r.x, y: r.y, width: 4, height: r.h }, 'changed-bar'));
      g.append(text(r.x + 10, r.y + 15, fitter.fit(r.label, r.w - 16, fonts.title), 'node-title'));
      g.append(text(r.x + 10, r.y + 31, fitter.fit(r.detail, r.w - 16, fonts.text), 'node-text'));
      hover(g, r.title);
      roots.append(g);
    }
    root.append(edges, mmus, holders, roots);
    if (p.more > 0) {
      const more = document.createElement('p');
      more.className = 'picture-note';
      more.textContent = `and ${p.more} more root${p.more === 1 ? '' : 's'} (the Roots table lists them all)`;
      figure.append(more);
    }
    return figure;
  }
}

// ---------------------------------------------------------------------------------------------
// Root lifetimes

const OVERSCAN_ROWS = 10;

class LifetimeBlock {
  readonly element: HTMLElement;
  private readonly axis: SVGSVGElement;
  private readonly scroller: HTMLElement;
  private readonly body: SVGSVGElement;
  private readonly status: HTMLElement;
  private picture: LifetimePicture | null = null;
  private selected = { row: -1, mark: -1 };
  private drawn = { first: -1, last: -1 };
  private frame = 0;

  constructor(
    private readonly host: PictureHost,
    label: string | null,
    private readonly index: number,
  ) {
    this.element = document.createElement('figure');
    this.element.className = 'lifetime-figure';
    if (label !== null) {
      const caption = document.createElement('figcaption');
      caption.textContent = label;
      this.element.append(caption);
    }
    this.axis = svg('svg', { height: LIFETIME_GEOMETRY.axisHeight }, 'lifetime-axis');
    this.axis.setAttribute('aria-hidden', 'true');
    this.scroller = document.createElement('div');
    this.scroller.className = 'lifetime-scroller';
    this.scroller.tabIndex = 0;
    this.scroller.setAttribute('role', 'group');
    this.scroller.id = `lifetimes-${index}`;
    this.body = svg('svg', {}, 'lifetime-svg');
    this.scroller.append(this.body);
    this.status = document.createElement('div');
    this.status.className = 'lifetime-status';
    this.status.id = `lifetimes-${index}-status`;
    this.status.setAttribute('aria-live', 'polite');
    this.scroller.setAttribute('aria-describedby', this.status.id);
    this.element.append(this.axis, this.scroller, this.status);
    this.scroller.addEventListener('scroll', () => this.schedule(), { passive: true });
    this.scroller.addEventListener('keydown', (e) => this.onKey(e));
    this.body.addEventListener('click', (e) => {
      const target = (e.target as Element | null)?.closest?.('[data-row]');
      if (!target) return;
      const row = Number(target.getAttribute('data-row'));
      const mark = Number(target.getAttribute('data-mark') ?? '-1');
      this.select(row, mark, false);
      const line = Number(target.getAttribute('data-line'));
      if (Number.isInteger(line) && line >= 1) this.host.revealLine(line - 1);
    });
  }

  set(picture: LifetimePicture): void {
    const previous = this.picture?.rows[this.selected.row]?.id;
    this.picture = picture;
    const rows = picture.rows.length;
    const height = Math.max(rows, 1) * LIFETIME_GEOMETRY.rowHeight;
    for (const e of [this.axis, this.body]) e.setAttribute('width', String(picture.width));
    this.body.setAttribute('height', String(height));
    this.scroller.setAttribute(
      'aria-label',
      `${picture.kernel}: lifetimes of ${rows} root${rows === 1 ? '' : 's'} over ${picture.lastLine} lines; the cursor is at line ${picture.cursorLine}. Arrow keys choose a root and its marks, Enter reveals the line.`,
    );
    this.selected.row = previous === undefined ? -1 : picture.rows.findIndex((r) => r.id === previous);
    if (this.selected.row < 0) this.selected.mark = -1;
    this.drawAxis(picture);
    this.drawn = { first: -1, last: -1 };
    this.drawRows(true);
    this.describe();
  }

  /** Draws the rows in view now (tests and the benchmark call it after scrolling). */
  renderNow(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.drawRows(false);
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.drawRows(false);
    });
  }

  private drawAxis(p: LifetimePicture): void {
    const h = LIFETIME_GEOMETRY.axisHeight;
    const parts: SVGElement[] = [
      svg(
        'line',
        { x1: LIFETIME_GEOMETRY.gutter, x2: p.width - LIFETIME_GEOMETRY.right, y1: h - 0.5, y2: h - 0.5 },
        'axis-line',
      ),
    ];
    for (const t of p.ticks) {
      parts.push(svg('line', { x1: t.x, x2: t.x, y1: h - 5, y2: h }, 'axis-tick'));
      parts.push(text(t.x, h - 8, t.label, 'axis-label', 'middle'));
    }
    parts.push(svg('line', { x1: p.cursorX, x2: p.cursorX, y1: 0, y2: h }, 'cursor-rule'));
    this.axis.replaceChildren(...parts);
  }

  private drawRows(force: boolean): void {
    const p = this.picture;
    if (!p) return;
    const g = LIFETIME_GEOMETRY;
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / g.rowHeight) - OVERSCAN_ROWS);
    const last = Math.min(
      p.rows.length,
      Math.ceil((this.scroller.scrollTop + Math.max(this.scroller.clientHeight, g.rowHeight * 8)) / g.rowHeight) +
        OVERSCAN_ROWS,
    );
    if (!force && first === this.drawn.first && last === this.drawn.last) return;
    this.drawn = { first, last };
    const height = Math.max(p.rows.length, 1) * g.rowHeight;
    const parts: SVGElement[] = [];
    for (const t of p.ticks) parts.push(svg('line', { x1: t.x, x2: t.x, y1: 0, y2: height }, 'grid-line'));
    for (let i = first; i < last; i++) parts.push(this.row(p.rows[i] as LifetimeRow, i));
    parts.push(svg('line', { x1: p.cursorX, x2: p.cursorX, y1: 0, y2: height }, 'cursor-rule'));
    this.body.replaceChildren(...parts);
  }

  private row(r: LifetimeRow, i: number): SVGGElement {
    const g = LIFETIME_GEOMETRY;
    const y = i * g.rowHeight;
    const mid = y + g.rowHeight / 2;
    const selected = this.selected.row === i;
    const row = svg('g', {}, `lifetime-row state-${r.state}${r.open ? ' open' : ''}${selected ? ' selected' : ''}`);
    row.dataset['root'] = String(r.id);
    if (selected) row.append(svg('rect', { x: 0, y, width: '100%', height: g.rowHeight }, 'row-highlight'));
    row.append(text(g.gutter - 6, mid + 4, r.label, 'row-label', 'end'));
    const bar = svg(
      'rect',
      { x: r.x0, y: mid - g.barHeight / 2, width: Math.max(2, r.x1 - r.x0), height: g.barHeight, rx: 2 },
      `bar${selected && this.selected.mark < 0 ? ' focus' : ''}`,
    );
    bar.dataset['row'] = String(i);
    bar.dataset['line'] = String(r.allocatedAt);
    hover(bar, `${r.title} — click to reveal line ${r.allocatedAt}`);
    row.append(bar);
    r.marks.forEach((m, k) => {
      const focus = selected && this.selected.mark === k ? ' focus' : '';
      const shape = markShape(m.kind, m.x, mid);
      shape.setAttribute('class', `mark mark-${m.kind}${focus}`);
      shape.dataset['row'] = String(i);
      shape.dataset['mark'] = String(k);
      shape.dataset['line'] = String(m.line);
      hover(shape, `#${r.id} ${markWord(m.kind)} at line ${m.line} — click to reveal it`);
      row.append(shape);
    });
    return row;
  }

  private onKey(e: KeyboardEvent): void {
    const p = this.picture;
    if (!p || p.rows.length === 0) return;
    let { row, mark } = this.selected;
    const marks = (i: number): number => p.rows[i]?.marks.length ?? 0;
    switch (e.key) {
      case 'ArrowDown':
        row = Math.min(p.rows.length - 1, row + 1);
        mark = -1;
        break;
      case 'ArrowUp':
        row = Math.max(0, row - 1);
        mark = -1;
        break;
      case 'Home':
        row = 0;
        mark = -1;
        break;
      case 'End':
        row = p.rows.length - 1;
        mark = -1;
        break;
      case 'ArrowRight':
        if (row < 0) row = 0;
        mark = Math.min(marks(row) - 1, mark + 1);
        break;
      case 'ArrowLeft':
        if (row < 0) row = 0;
        mark = Math.max(-1, mark - 1);
        break;
      case 'Enter':
      case ' ': {
        const r = p.rows[Math.max(0, row)];
        if (!r) return;
        const line = mark >= 0 ? (r.marks[mark]?.line ?? r.allocatedAt) : r.allocatedAt;
        this.host.revealLine(line - 1);
        e.preventDefault();
        return;
      }
      default:
        return;
    }
    e.preventDefault();
    this.select(row, mark, true);
  }

  private select(row: number, mark: number, reveal: boolean): void {
    this.selected = { row, mark };
    if (reveal) {
      const g = LIFETIME_GEOMETRY;
      const top = row * g.rowHeight;
      if (top < this.scroller.scrollTop) this.scroller.scrollTop = top;
      else if (top + g.rowHeight > this.scroller.scrollTop + this.scroller.clientHeight)
        this.scroller.scrollTop = top + g.rowHeight - this.scroller.clientHeight;
    }
    this.drawRows(true);
    this.describe();
  }

  private describe(): void {
    const p = this.picture;
    const r = p?.rows[this.selected.row];
    if (!p || !r) {
      this.status.textContent = p && p.rows.length === 0 ? `${p.kernel}: no root was allocated.` : '';
      return;
    }
    const m = r.marks[this.selected.mark];
    const marks = r.marks.map((x) => `L${x.line} ${markWord(x.kind)}`).join(', ');
    this.status.textContent = m
      ? `#${r.id}: ${markWord(m.kind)} at line ${m.line}. Enter reveals it.`
      : `${r.title}${marks ? `; ${marks}` : ''}. Enter reveals line ${r.allocatedAt}.`;
  }
}

function markShape(kind: Lifetimes['roots'][number]['marks'][number]['kind'], x: number, y: number): SVGElement {
  switch (kind) {
    case 'found':
      return svg('path', { d: `M${x} ${y - 6}L${x + 5} ${y}L${x} ${y + 6}L${x - 5} ${y}Z` });
    case 'cached':
      return svg('circle', { cx: x, cy: y, r: 4 });
    case 'evicted':
      return svg('path', { d: `M${x - 4} ${y - 4}L${x + 4} ${y - 4}L${x} ${y + 4}Z` });
    case 'put':
      return svg('rect', { x: x - 1.5, y: y - 7, width: 3, height: 14 });
    case 'invalidated':
      return svg('path', { d: `M${x - 4} ${y - 4}L${x + 4} ${y + 4}M${x + 4} ${y - 4}L${x - 4} ${y + 4}` });
  }
}

export class LifetimeDrawing {
  readonly element: HTMLElement;
  private readonly body: HTMLElement;
  private blocks: LifetimeBlock[] = [];
  private data: { sets: Lifetimes[]; cursorLine: number } | null = null;
  private width = 0;

  constructor(private readonly host: PictureHost) {
    this.element = document.createElement('section');
    this.element.className = 'picture lifetimes';
    this.element.id = 'lifetimes';
    const heading = document.createElement('h2');
    heading.className = 'section-title';
    heading.id = 'lifetimes-title';
    heading.textContent = 'Root lifetimes';
    this.element.setAttribute('aria-labelledby', heading.id);
    const legend = document.createElement('div');
    legend.className = 'lifetime-legend';
    legend.setAttribute('aria-hidden', 'true');
    for (const kind of ['found', 'cached', 'evicted', 'put', 'invalidated'] as const) {
      const item = document.createElement('span');
      item.className = 'legend-item';
      const icon = svg('svg', { width: 14, height: 14, viewBox: '-7 -7 14 14' });
      const shape = markShape(kind, 0, 0);
      shape.setAttribute('class', `mark mark-${kind}`);
      icon.append(shape);
      const label = document.createElement('span');
      label.textContent = markWord(kind);
      item.append(icon, label);
      legend.append(item);
    }
    const rule = document.createElement('span');
    rule.className = 'legend-item legend-cursor';
    rule.textContent = '┃ the cursor’s line';
    legend.append(rule);
    this.body = document.createElement('div');
    this.body.className = 'picture-body';
    this.element.append(heading, legend, this.body);
    if (typeof ResizeObserver !== 'undefined')
      new ResizeObserver(() => {
        if (this.body.clientWidth !== this.width) this.draw();
      }).observe(this.body);
  }

  /** One block per kernel (two in compare mode); null hides the section. */
  setData(sets: Lifetimes[] | null, cursorLine: number): void {
    this.data = sets && sets.length > 0 ? { sets, cursorLine } : null;
    this.element.hidden = this.data === null;
    this.draw();
  }

  /** The rows in view, drawn now (for the benchmark and tests). */
  renderNow(): void {
    for (const b of this.blocks) b.renderNow();
  }

  private draw(): void {
    const data = this.data;
    if (!data) {
      this.blocks = [];
      this.body.replaceChildren();
      return;
    }
    this.width = this.body.clientWidth;
    const labelled = data.sets.length > 1;
    if (this.blocks.length !== data.sets.length) {
      this.blocks = data.sets.map((s, i) => new LifetimeBlock(this.host, labelled ? s.kernel : null, i));
      this.body.replaceChildren(...this.blocks.map((b) => b.element));
    }
    data.sets.forEach((s, i) => {
      const block = this.blocks[i] as LifetimeBlock;
      const caption = block.element.querySelector('figcaption');
      if (caption) caption.textContent = s.kernel;
      block.element.dataset['kernel'] = s.kernel;
      block.set(lifetimePicture(s, this.width || 600, data.cursorLine));
    });
  }
}

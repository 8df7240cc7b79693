/**
 * Draws the panel from the state: a toolbar, banners, the step at the cursor's line, and three
 * grids (vCPUs, counters, roots). Builds every node with createElement/textContent.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import { LifetimeDrawing, StateDrawing } from './drawing.js';
import { GridView } from './grid.js';
import type { CopyFormat, WebviewToHost } from '../../core/src/panel/messages.js';
import type { RoleDecoder } from './roles.js';
import {
  exportPanel,
  panelModel,
  type DifferenceModel,
  type PanelModel,
  type PanelState,
  type StepModel,
  type UiEvent,
} from './state.js';
import { tableToTsv, type Table } from './tables.js';

export interface PanelUiHost {
  send(message: WebviewToHost): void;
  dispatch(event: UiEvent): void;
}

/** The compare picker's value for "no comparison" (vscode-single-select needs a string). */
const NO_COMPARE = '';

export class PanelUi {
  private readonly title = el('h1', 'title');
  private readonly subtitle = el('span', 'subtitle');
  private readonly compare = document.createElement('vscode-single-select');
  private readonly banners = el('div', 'banners');
  private readonly stepSection = el('section', 'step');
  private readonly differences = el('nav', 'differences');
  private readonly vcpus: GridView;
  private readonly counters: GridView;
  private readonly roots: GridView;
  private readonly statePicture: StateDrawing;
  private readonly lifetimes: LifetimeDrawing;
  private readonly sections: Record<'vcpus' | 'counters' | 'roots', { section: HTMLElement; heading: HTMLElement }>;
  private state: PanelState | null = null;
  private model: PanelModel | null = null;
  private profilesShown: unknown = null;

  constructor(
    root: HTMLElement,
    private readonly decoder: RoleDecoder,
    private readonly host: PanelUiHost,
  ) {
    this.vcpus = new GridView('vcpus', 'vCPUs', { onCopy: (t) => this.copyTable(t) });
    this.counters = new GridView('counters', 'Counters', { onCopy: (t) => this.copyTable(t) });
    this.roots = new GridView('roots', 'Roots', {
      onCopy: (t) => this.copyTable(t),
      onSort: (key) => this.host.dispatch({ type: 'ui.sort', key }),
      onActiveChange: (key) => this.host.dispatch({ type: 'ui.select', key }),
      onActivate: (row) => {
        const uri = this.state?.view?.uri;
        if (uri !== undefined && row.revealLine !== undefined && row.revealLine >= 0) {
          this.host.send({ type: 'revealLine', uri, line: row.revealLine });
        }
      },
    });
    const pictureHost = {
      revealLine: (line: number): void => {
        const uri = this.state?.view?.uri;
        if (uri !== undefined && line >= 0) this.host.send({ type: 'revealLine', uri, line });
      },
    };
    this.statePicture = new StateDrawing(decoder, pictureHost);
    this.lifetimes = new LifetimeDrawing(pictureHost);
    this.sections = {
      vcpus: this.gridSection('vcpus', this.vcpus),
      counters: this.gridSection('counters', this.counters),
      roots: this.gridSection('roots', this.roots),
    };
    this.banners.setAttribute('role', 'status');
    this.banners.setAttribute('aria-live', 'polite');
    this.stepSection.setAttribute('aria-label', 'Statement at the cursor');
    this.differences.setAttribute('aria-label', 'Lines whose outcome differs between the kernels');
    root.replaceChildren(
      this.toolbar(),
      this.banners,
      this.stepSection,
      this.differences,
      this.statePicture.element,
      this.sections.vcpus.section,
      this.sections.counters.section,
      this.sections.roots.section,
      this.lifetimes.element,
    );
    root.removeAttribute('aria-busy');
  }

  render(state: PanelState): void {
    const previous = this.state;
    this.state = state;
    if (
      !previous ||
      previous.view !== state.view ||
      previous.sort !== state.sort ||
      previous.error !== state.error ||
      previous.phase !== state.phase
    ) {
      this.model = panelModel(state, this.decoder);
      this.renderModel(this.model, state);
    }
    if (this.profilesShown !== state.profiles || previous?.compareKernel !== state.compareKernel)
      this.renderCompareOptions(state);
    this.renderBanners(this.model, state);
  }

  /** The lifetime picture (the benchmark scrolls it). */
  get lifetimeDrawing(): LifetimeDrawing {
    return this.lifetimes;
  }

  /** The roots grid (the benchmark scrolls it). */
  get rootGrid(): GridView {
    return this.roots;
  }

  exportText(format: CopyFormat): string | null {
    return this.model?.roots ? exportPanel(this.model, format) : null;
  }

  private toolbar(): HTMLElement {
    const bar = el('header', 'toolbar');
    const heading = el('div', 'heading');
    heading.append(this.title, this.subtitle);
    const actions = el('div', 'actions');
    const label = el('label', 'compare-label');
    label.textContent = 'Compare with';
    label.htmlFor = 'compare';
    this.compare.id = 'compare';
    this.compare.setAttribute('aria-label', 'Compare with kernel profile');
    this.compare.addEventListener('change', () => {
      const value = (this.compare as HTMLElement & { value: string }).value;
      const kernel = value === NO_COMPARE ? null : value;
      if (kernel === (this.state?.compareKernel ?? null)) return;
      this.host.dispatch({ type: 'ui.compare', kernel });
      this.host.send({ type: 'setCompare', kernel });
    });
    actions.append(
      label,
      this.compare,
      this.copyButton('markdown', 'Copy Markdown'),
      this.copyButton('tsv', 'Copy TSV'),
    );
    bar.append(heading, actions);
    return bar;
  }

  private copyButton(format: CopyFormat, text: string): HTMLElement {
    const b = document.createElement('vscode-button');
    b.id = `copy-${format}`;
    b.setAttribute('secondary', '');
    b.textContent = text;
    b.title = `Copy the vCPU, counter and root tables as ${format === 'markdown' ? 'Markdown' : 'tab-separated values'}`;
    b.addEventListener('click', () => {
      const text = this.exportText(format);
      if (text !== null) this.host.send({ type: 'copy', format, text });
    });
    return b;
  }

  private copyTable(table: Table): void {
    this.host.send({ type: 'copy', format: 'tsv', text: tableToTsv(table, this.model?.kernels) + '\n' });
  }

  private gridSection(id: string, grid: GridView): { section: HTMLElement; heading: HTMLElement } {
    const section = el('section', `table-section ${id}`);
    const heading = el('h2', 'section-title');
    heading.id = `${id}-title`;
    grid.element.setAttribute('aria-labelledby', heading.id);
    section.append(heading, grid.element);
    return { section, heading };
  }

  private renderCompareOptions(state: PanelState): void {
    this.profilesShown = state.profiles;
    const choices = [
      { value: NO_COMPARE, label: 'nothing' },
      ...state.profiles.map((p) => ({ value: p.name, label: p.name, description: p.release })),
    ];
    if (state.compareKernel !== null && !choices.some((c) => c.value === state.compareKernel)) {
      choices.push({ value: state.compareKernel, label: state.compareKernel });
    }
    this.compare.replaceChildren(
      ...choices.map((c) => {
        const o = document.createElement('vscode-option');
        o.setAttribute('value', c.value);
        if ('description' in c && c.description) o.setAttribute('description', c.description);
        if (c.value === (state.compareKernel ?? NO_COMPARE)) o.setAttribute('selected', '');
        o.textContent = c.label;
        return o;
      }),
    );
    (this.compare as HTMLElement & { value: string }).value = state.compareKernel ?? NO_COMPARE;
  }

  private renderBanners(model: PanelModel | null, state: PanelState): void {
    const items = [...(model?.banners ?? [])];
    if (state.notice) items.push({ kind: 'info', text: state.notice });
    this.banners.replaceChildren(
      ...items.map((b) => {
        const d = el('div', `banner ${b.kind}`);
        d.textContent = b.text;
        return d;
      }),
    );
  }

  private renderModel(model: PanelModel, state: PanelState): void {
    this.title.textContent = model.title;
    this.subtitle.textContent = model.subtitle;
    document.title = model.subtitle ? `${model.title} — ${model.subtitle}` : model.title;
    this.renderSteps(model.step, model.compareStep);
    this.renderDifferences(model.differences, state.view?.uri);
    this.renderPictures(state);
    const grids = [
      ['vcpus', this.vcpus, model.vcpus, null],
      ['counters', this.counters, model.counters, null],
      ['roots', this.roots, model.roots, state.sort],
    ] as const;
    for (const [id, grid, table, sort] of grids) {
      const { section, heading } = this.sections[id];
      section.hidden = table === null;
      if (!table) continue;
      heading.textContent = table.title;
      grid.setTable(table, sort, id === 'roots' ? state.selectedRoot : null);
    }
  }

  private renderPictures(state: PanelState): void {
    const view = state.view;
    const compare = view?.compare?.kind === 'state' ? view.compare.result : null;
    this.statePicture.setData(view ? (compare ? [view.primary, compare] : [view.primary]) : null);
    const sets = view?.lifetimes;
    const shown = sets ? [sets.primary, compare ? sets.compare : null].filter((s) => s !== null) : [];
    this.lifetimes.setData(view && shown.length > 0 ? shown : null, (view?.line ?? 0) + 1);
  }

  private renderDifferences(model: DifferenceModel | null, uri: string | undefined): void {
    this.differences.hidden = model === null;
    if (!model || uri === undefined) {
      this.differences.replaceChildren();
      return;
    }
    const heading = el('span', 'differences-heading');
    heading.textContent = model.heading;
    const buttons = model.lines.map((d) => {
      const b = el('button', `difference${d.current ? ' current' : ''}`);
      b.type = 'button';
      b.textContent = d.label;
      b.title = d.title;
      if (d.current) b.setAttribute('aria-current', 'true');
      b.addEventListener('click', () => this.host.send({ type: 'revealLine', uri, line: d.line }));
      return b;
    });
    const more = el('span', 'differences-more');
    more.textContent = model.more > 0 ? `and ${model.more} more (kvmmu diff lists them all)` : '';
    // Text only (textContent): behaviour titles come from the table, but nothing here is markup.
    const why = (model.why ?? []).map((w) => {
      const block = el('div', 'why');
      const h = el('span', 'why-heading');
      h.textContent = w.heading;
      block.append(
        h,
        ...w.behaviours.map((b) => {
          const row = el('span', 'why-behaviour');
          row.textContent = `${b.name} ${b.commit} (${b.version})`;
          row.title = b.title;
          return row;
        }),
      );
      return block;
    });
    this.differences.replaceChildren(heading, ...buttons, more, ...why);
  }

  private renderSteps(step: StepModel | null, compareStep: StepModel | null): void {
    const parts: HTMLElement[] = [];
    if (step) parts.push(stepBlock(step, compareStep !== null));
    if (compareStep) parts.push(stepBlock(compareStep, true));
    this.stepSection.hidden = parts.length === 0;
    this.stepSection.classList.toggle('compare', compareStep !== null);
    this.stepSection.replaceChildren(...parts);
  }
}

function stepBlock(step: StepModel, labelled: boolean): HTMLElement {
  const block = el('div', `step-block outcome-${step.outcome}`);
  const heading = el('div', 'step-heading');
  heading.textContent = labelled ? `${step.kernel}: ${step.heading}` : step.heading;
  const list = el('ul', 'actions-list');
  for (const a of step.actions) {
    const li = el('li', `action op-${a.op}`);
    const op = el('span', 'op');
    op.textContent = a.op;
    const detail = el('span', 'detail');
    detail.textContent = a.detail;
    li.title = a.path;
    li.append(op, detail);
    list.append(li);
  }
  block.append(heading, list);
  return block;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = className;
  return e;
}

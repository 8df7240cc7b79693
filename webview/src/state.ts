/**
 * The panel's state as a pure function of the messages it received and the user's choices:
 * `reduce(state, event)`. Rendering reads `panelModel(state)`; nothing else mutates anything.
 */
import type { TimelineStep } from '../../core/src/protocol.js';
import type {
  HostToWebview,
  PanelView,
  PersistedPanelState,
  ProfileChoice,
  RootSort,
  RootSortKey,
} from '../../core/src/panel/messages.js';
import type { RoleDecoder } from './roles.js';
import {
  compareCounterTable,
  compareRootTable,
  compareVcpuTable,
  counterTable,
  rootTable,
  tableToMarkdown,
  tableToTsv,
  vcpuTable,
  type Table,
} from './tables.js';

export interface PanelState {
  /** waiting: before the first answer; idle: no .kvmmu editor to follow; showing: a view is on screen. */
  phase: 'waiting' | 'idle' | 'showing';
  view: PanelView | null;
  /** The last request failed; the view on screen (if any) is older than the editor. */
  error: string | null;
  profiles: ProfileChoice[];
  compareKernel: string | null;
  sort: RootSort;
  /** Key of the selected roots-table row. */
  selectedRoot: string | null;
  /** A short transient message ("Copied as Markdown"). */
  notice: string | null;
}

/** What the user does inside the panel (local events, some also sent to the host). */
export type UiEvent =
  | { type: 'ui.sort'; key: RootSortKey }
  | { type: 'ui.select'; key: string | null }
  | { type: 'ui.compare'; kernel: string | null }
  | { type: 'ui.clearNotice' };

export type PanelEvent = HostToWebview | UiEvent;

export function initialState(persisted: PersistedPanelState | null): PanelState {
  return {
    phase: 'waiting',
    view: null,
    error: null,
    profiles: [],
    compareKernel: persisted?.compareKernel ?? null,
    sort: persisted?.sort ?? { key: 'id', dir: 'asc' },
    selectedRoot: null,
    notice: null,
  };
}

export function reduce(state: PanelState, event: PanelEvent): PanelState {
  switch (event.type) {
    case 'init':
      return { ...state, profiles: event.profiles, compareKernel: event.compareKernel };
    case 'view':
      // The host's comparison is the truth (it may come from a restore or a command, not the picker).
      return {
        ...state,
        phase: 'showing',
        view: event.view,
        error: null,
        compareKernel: event.view.compare?.kernel ?? null,
      };
    case 'noDocument':
      return { ...state, phase: 'idle', view: null, error: null, selectedRoot: null };
    case 'error':
      return { ...state, error: event.message };
    case 'copied':
      return { ...state, notice: event.format === 'markdown' ? 'Copied as Markdown' : 'Copied as TSV' };
    case 'ui.sort': {
      const dir = state.sort.key === event.key && state.sort.dir === 'asc' ? 'desc' : 'asc';
      return { ...state, sort: { key: event.key, dir } };
    }
    case 'ui.select':
      return { ...state, selectedRoot: event.key };
    case 'ui.compare':
      return { ...state, compareKernel: event.kernel };
    case 'ui.clearNotice':
      return { ...state, notice: null };
  }
}

export function persistedState(state: PanelState): PersistedPanelState {
  return {
    version: 1,
    uri: state.view?.uri ?? null,
    line: state.view?.line ?? null,
    compareKernel: state.compareKernel,
    sort: state.sort,
  };
}

/** Everything the renderer draws, derived from the state. */
export interface PanelModel {
  title: string;
  /** "after line 7 · v6.3" */
  subtitle: string;
  /** Shown above the tables: no document, errors, a failed comparison. */
  banners: { kind: 'info' | 'error'; text: string }[];
  step: StepModel | null;
  compareStep: StepModel | null;
  vcpus: Table | null;
  counters: Table | null;
  roots: Table | null;
  kernels: { a: string; b: string } | undefined;
  /** Compare mode: lines whose outcome differs, for jumping between them. */
  differences: DifferenceModel | null;
}

export interface DifferenceModel {
  heading: string;
  lines: { line: number; label: string; title: string; current: boolean }[];
  /** Differences beyond the ones listed. */
  more: number;
  /** The cursor's line differs: why, one entry per explaining set of behaviours (null until the server says). */
  why: { heading: string; behaviours: { name: string; commit: string; version: string; title: string }[] }[] | null;
}

/** "-tdp_mmu_root_ref" sets as the panel words them (the CLI's `kvmmu diff` says the same). */
function whyModel(view: PanelView): DifferenceModel['why'] {
  const e = view.explanation;
  if (!e) return null;
  if (e.explanations.length === 0)
    return [
      {
        heading:
          e.status === 'not-searched'
            ? 'No single behaviour explains this line (too many differ to try every pair).'
            : 'No single behaviour nor pair explains this line.',
        behaviours: [],
      },
    ];
  return e.explanations.map((x, i) => ({
    heading: `${i === 0 ? 'Why' : 'Or'}${x.behaviours.length > 1 ? ' (together)' : ''}:`,
    behaviours: x.behaviours.map((b) => ({
      name: `${b.change === 'add' ? '+' : '-'}${b.name}`,
      commit: /^[0-9a-f]{12,}$/.test(b.commits[0] ?? '') ? b.commits[0]!.slice(0, 12) : (b.commits[0] ?? ''),
      version: b.version,
      title: b.title,
    })),
  }));
}

/** Enough to jump around; the CLI's `kvmmu diff` lists them all. */
const MAX_DIFFERENCES = 50;

function differenceModel(view: PanelView, kernels: { a: string; b: string }): DifferenceModel | null {
  const lines = view.differingLines;
  if (!lines) return null;
  return {
    heading:
      lines.length === 0
        ? `No line's outcome differs between ${kernels.a} and ${kernels.b}.`
        : `Outcome differs on ${lines.length} line${lines.length === 1 ? '' : 's'}:`,
    lines: lines.slice(0, MAX_DIFFERENCES).map((d) => ({
      line: d.line,
      label: `L${d.line + 1}`,
      title: `${d.text}\n${kernels.a}: ${d.a || '-'}\n${kernels.b}: ${d.b || '-'}`,
      current: d.line === view.line,
    })),
    more: Math.max(0, lines.length - MAX_DIFFERENCES),
    why: whyModel(view),
  };
}

export interface StepModel {
  kernel: string;
  heading: string;
  outcome: TimelineStep['outcome'];
  actions: { op: string; detail: string; path: string }[];
}

function stepModel(kernel: string, step: TimelineStep | null): StepModel | null {
  if (!step) return null;
  return {
    kernel,
    heading: `L${step.line + 1} vCPU ${step.vcpu}: ${step.text} → ${step.summary}`,
    outcome: step.outcome,
    actions: step.actions.map((a) => ({ op: a.op, detail: a.detail, path: a.path.join(' → ') })),
  };
}

export function panelModel(state: PanelState, decoder: RoleDecoder): PanelModel {
  const banners: PanelModel['banners'] = [];
  if (state.error) banners.push({ kind: 'error', text: state.error });
  const view = state.view;
  if (!view) {
    if (state.phase === 'idle') banners.push({ kind: 'info', text: 'Open a .kvmmu file to see its MMU state here.' });
    if (state.phase === 'waiting') banners.push({ kind: 'info', text: 'Waiting for the language server…' });
    return {
      title: 'KVM MMU',
      subtitle: '',
      banners,
      step: null,
      compareStep: null,
      vcpus: null,
      counters: null,
      roots: null,
      kernels: undefined,
      differences: null,
    };
  }
  const a = view.primary;
  const cmp = view.compare;
  const b = cmp?.kind === 'state' ? cmp.result : null;
  if (cmp?.kind === 'error') banners.push({ kind: 'error', text: `Cannot compare with ${cmp.kernel}: ${cmp.message}` });
  const kernels = b ? { a: a.kernel.label, b: b.kernel.label } : undefined;
  return {
    title: view.fileName,
    subtitle: `after line ${view.line + 1} · ${a.kernel.label}${b ? ` vs ${b.kernel.label}` : ''}`,
    banners,
    step: stepModel(a.kernel.label, a.step),
    compareStep: b ? stepModel(b.kernel.label, b.step) : null,
    vcpus: b ? compareVcpuTable(a, b, a.changedVcpus) : vcpuTable(a, a.changedVcpus, decoder),
    counters: b ? compareCounterTable(view, b) : counterTable(view),
    roots: b
      ? compareRootTable(a, b, a.changedRoots, state.sort, decoder)
      : rootTable(a, a.changedRoots, state.sort, decoder),
    kernels,
    differences: kernels ? differenceModel(view, kernels) : null,
  };
}

/** The whole panel (vCPUs, counters, roots) in one text, in the order the panel shows them. */
export function exportPanel(model: PanelModel, format: 'markdown' | 'tsv'): string {
  const tables = [model.vcpus, model.counters, model.roots].filter((t): t is Table => t !== null);
  if (format === 'markdown') {
    const head = `## ${model.title} — ${model.subtitle}`;
    return [head, ...tables.map((t) => tableToMarkdown(t, model.kernels))].join('\n\n') + '\n';
  }
  return tables.map((t) => `${t.title}\n${tableToTsv(t, model.kernels)}`).join('\n\n') + '\n';
}

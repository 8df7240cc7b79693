/**
 * The messages between the root panel webview and its host (client/src/panel). Both sides import
 * this module; every message is a member of a discriminated union and every handler switches on
 * `type` exhaustively. Data only crosses as messages after the webview said `ready`: nothing is
 * ever interpolated into the panel's HTML.
 */
import type { CompareLine, ExplainedLine, RootKind, RootState, StateAtResult } from '../protocol.js';

/** A kernel profile offered in the compare picker (from `kvmmu/profiles`). */
export interface ProfileChoice {
  name: string;
  release: string;
}

/** The comparison side of a view: another kernel's state after the same line, or why it failed. */
export type CompareSide =
  { kind: 'state'; kernel: string; result: StateAtResult } | { kind: 'error'; kernel: string; message: string };

/** Everything the panel shows for one cursor position of one document version. */
export interface PanelView {
  uri: string;
  /** Workspace-relative or base name, for the title. */
  fileName: string;
  version: number;
  /** 0-based line the cursor is on; the state shown is the state after it. */
  line: number;
  primary: StateAtResult;
  /** Counters after the line before (null on the first line): what changed at this line. */
  previousStats: Record<string, number> | null;
  compare: CompareSide | null;
  /** Compare mode: the lines whose outcome differs between the two kernels (`kvmmu/compare`), 0-based. */
  differingLines: CompareLine[] | null;
  /**
   * Every root's lifetime over the whole scenario, for the lifetime picture: under the document's kernel and, in
   * compare mode, under the other one. Absent (older hosts) or null when the server could not say.
   */
  lifetimes?: { primary: Lifetimes | null; compare: Lifetimes | null };
  /**
   * Compare mode, when the cursor's line differs: the behaviours (commits) that explain it (`kvmmu/explain`).
   * Absent until the search is done (the view is posted again with it).
   */
  explanation?: ExplainedLine | null;
}

/** What marks a root's lifetime bar: the line's statement found it again, cached it, evicted, put or invalidated it. */
export type LifetimeMarkKind = 'found' | 'cached' | 'evicted' | 'put' | 'invalidated';

/** Root lifetimes under one kernel (built by `lifetimes()` in core/src/panel/lifetimes.ts from `kvmmu/timeline`). */
export interface Lifetimes {
  kernel: string;
  /** 1-based last line of the document: the right end of the axis. */
  lastLine: number;
  roots: LifetimeRoot[];
}

export interface LifetimeRoot {
  id: number;
  kind: RootKind;
  role: string;
  /** 1-based lines, as in RootSnapshot. */
  allocatedAt: number;
  freedAt: number | null;
  /** The root's state after the last line. */
  state: RootState;
  marks: { line: number; kind: LifetimeMarkKind }[];
}

export type HostToWebview =
  /** Answer to `ready`: what the compare picker offers and which comparison is active. */
  | { type: 'init'; profiles: ProfileChoice[]; compareKernel: string | null }
  /** A new state to show. */
  | { type: 'view'; view: PanelView }
  /** No `.kvmmu` document to follow (the panel keeps nothing stale on screen). */
  | { type: 'noDocument' }
  /** A request failed (server starting, restarted, crashed); the last view stays, marked. */
  | { type: 'error'; message: string }
  /** The host put the text on the clipboard. */
  | { type: 'copied'; format: CopyFormat };

export type CopyFormat = 'markdown' | 'tsv';

export type WebviewToHost =
  /** The script is running and listening; `compareKernel` is what the webview's own saved state holds. */
  | { type: 'ready'; compareKernel: string | null }
  /** Reveal a 0-based line of a document in its editor (clicking a root reveals its allocation). */
  | { type: 'revealLine'; uri: string; line: number }
  /** Compare with another kernel (null: stop comparing). */
  | { type: 'setCompare'; kernel: string | null }
  /** Put this text on the clipboard (webviews cannot always reach it themselves). */
  | { type: 'copy'; format: CopyFormat; text: string };

/** What the webview persists with `setState` (and the serializer hands back after a reload). */
export interface PersistedPanelState {
  version: 1;
  uri: string | null;
  line: number | null;
  compareKernel: string | null;
  sort: RootSort;
}

export type RootSortKey = 'id' | 'kind' | 'role' | 'level' | 'refcount' | 'state' | 'allocatedAt' | 'freedAt';
export interface RootSort {
  key: RootSortKey;
  dir: 'asc' | 'desc';
}

export const ROOT_SORT_KEYS: readonly RootSortKey[] = [
  'id',
  'kind',
  'role',
  'level',
  'refcount',
  'state',
  'allocatedAt',
  'freedAt',
];

/** Accepts only a well-formed persisted state (it comes back from storage untyped). */
export function parsePersistedState(raw: unknown): PersistedPanelState | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  if (r['version'] !== 1) return null;
  const sort = r['sort'] as Record<string, unknown> | undefined;
  const key = sort?.['key'];
  const dir = sort?.['dir'];
  const validSort =
    typeof key === 'string' && (ROOT_SORT_KEYS as readonly string[]).includes(key) && (dir === 'asc' || dir === 'desc');
  return {
    version: 1,
    uri: typeof r['uri'] === 'string' ? r['uri'] : null,
    line: typeof r['line'] === 'number' && Number.isInteger(r['line']) && r['line'] >= 0 ? r['line'] : null,
    compareKernel: typeof r['compareKernel'] === 'string' ? r['compareKernel'] : null,
    sort: validSort ? { key: key as RootSortKey, dir } : { key: 'id', dir: 'asc' },
  };
}

/** Runtime check for messages arriving from the other side (postMessage is untyped at runtime). */
export function isHostToWebview(m: unknown): m is HostToWebview {
  if (typeof m !== 'object' || m === null) return false;
  const type = (m as { type?: unknown }).type;
  return type === 'init' || type === 'view' || type === 'noDocument' || type === 'error' || type === 'copied';
}

/** The most text the host puts on the clipboard for the webview (a table of every root is far smaller). */
export const MAX_COPY_CHARS = 4_000_000;
/** Longer than any kernel spec (a profile and every behaviour). */
export const MAX_KERNEL_SPEC_CHARS = 1_000;
/** As many lines as the language server analyses. */
export const MAX_LINE = 2_000_000;

/** What the host knows when a message arrives. */
export interface PanelContext {
  /** The document the panel shows (`uri.toString()`), or null: only its lines may be revealed. */
  documentUri: string | null;
}

/**
 * The webview's message as the host may act on it, or undefined: an unknown type, a field of the wrong type or out
 * of range, a reveal of any document but the panel's own, an oversized copy. A compromised webview can then do
 * nothing the panel's own buttons could not. Returns a fresh object holding only the known fields.
 */
export function parseWebviewMessage(raw: unknown, context: PanelContext): WebviewToHost | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  // Own properties only: nothing inherited counts as a field.
  const field = (key: string): unknown => (Object.hasOwn(raw, key) ? (raw as Record<string, unknown>)[key] : undefined);
  const type = field('type');
  switch (type) {
    case 'ready': {
      const compareKernel = kernelSpec(field('compareKernel'));
      return compareKernel === undefined ? undefined : { type, compareKernel };
    }
    case 'revealLine': {
      const uri = field('uri');
      const line = field('line');
      if (typeof uri !== 'string' || context.documentUri === null || uri !== context.documentUri) return undefined;
      if (typeof line !== 'number' || !Number.isInteger(line) || line < 0 || line > MAX_LINE) return undefined;
      return { type, uri, line };
    }
    case 'setCompare': {
      const kernel = kernelSpec(field('kernel'));
      return kernel === undefined ? undefined : { type, kernel };
    }
    case 'copy': {
      const format = field('format');
      const text = field('text');
      if (format !== 'markdown' && format !== 'tsv') return undefined;
      if (typeof text !== 'string' || text.length > MAX_COPY_CHARS) return undefined;
      return { type, format, text };
    }
    default:
      return undefined;
  }
}

/** A kernel spec or null (no comparison); undefined when it is neither. */
function kernelSpec(v: unknown): string | null | undefined {
  if (v === null) return null;
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_KERNEL_SPEC_CHARS ? v : undefined;
}

/**
 * Inlay hints: a short outcome at the end of every statement, derived only from the step's actions
 * (the model already decided everything; this only words it). The hover has the long form.
 */
import type { Analysis, Step } from '../engine/analysis.js';
import type { Kernel } from '../kernel/behaviours.js';
import type { Action, ActionOp } from '../kernel/types.js';
import { roleSummary } from './roles.js';

export const MAX_HINT_LENGTH = 48;

/** One piece of a hint; `root` lets a client link the piece to the line that allocated the root. */
export interface HintPart {
  text: string;
  root?: number;
}

export interface InlayHint {
  line: number;
  character: number;
  label: string;
  parts: HintPart[];
  tooltip: string;
}

/** Ops worth a word in the hint, in the order they happened; the rest only when nothing else happened. */
const PRIMARY: ReadonlySet<ActionOp> = new Set<ActionOp>([
  'alloc',
  'reuse',
  'cache_hit',
  'cache_miss',
  'evict',
  'unload',
  'invalidate',
  'queue_zap',
  'zap',
  'free',
  'fault',
  'no_exit',
  'reinit_skipped',
  'warn',
  'hazard',
]);
const SECONDARY: ReadonlySet<ActionOp> = new Set<ActionOp>(['reinit', 'request', 'flush']);

export function inlayHints(analysis: Analysis, range?: { startLine: number; endLine: number }): InlayHint[] {
  const hints: InlayHint[] = [];
  const inRange = (line: number): boolean => !range || (line >= range.startLine && line <= range.endLine);
  for (const step of analysis.steps) {
    if (!inRange(step.line)) continue;
    const parts = stepHintParts(analysis.kernel, step);
    if (parts.length === 0) continue;
    hints.push(makeHint(step.line, step.statement.span.end, parts, step.result.summary));
  }
  for (const r of analysis.expectations.results) {
    if (!inRange(r.line)) continue;
    const parts: HintPart[] = r.ok ? [{ text: '✓' }] : [{ text: `✗ got ${r.actual === null ? 'nothing' : r.actual}` }];
    hints.push(makeHint(r.line, r.span.end, parts, r.message));
  }
  for (const s of analysis.parse.statements) {
    if (s.kind !== 'decode' || s.what !== 'role' || !inRange(s.span.line)) continue;
    const summary = roleSummary(analysis.kernel, s.word);
    if (summary)
      hints.push(makeHint(s.span.line, s.span.end, [{ text: summary }], `page role on ${analysis.kernel.label}`));
  }
  return hints.sort((a, b) => a.line - b.line || a.character - b.character);
}

function makeHint(line: number, character: number, parts: HintPart[], tooltip: string): InlayHint {
  const all = [{ text: '→ ' }, ...parts];
  return { line, character, parts: all, label: all.map((p) => p.text).join(''), tooltip };
}

/** The words of one step's hint, already shortened to MAX_HINT_LENGTH. */
export function stepHintParts(kernel: Kernel, step: Step): HintPart[] {
  const { result } = step;
  if (result.outcome === 'error') return [];
  if (result.outcome === 'vmfail') return [{ text: 'VM-Enter fails' }];
  if (result.outcome === 'shutdown') return [{ text: 'triple fault' }];
  let chosen = result.actions.filter((a) => PRIMARY.has(a.op));
  if (chosen.length === 0) chosen = result.actions.filter((a) => SECONDARY.has(a.op));
  if (chosen.length === 0) chosen = result.actions.filter((a) => a.op === 'get' || a.op === 'put');
  if (chosen.length === 0)
    return [{ text: result.outcome === 'gp' ? '#GP' : result.outcome === 'no_exit' ? 'no exit' : 'no MMU change' }];
  return shorten(groupPieces(kernel, chosen));
}

interface Piece {
  op: ActionOp;
  head: string;
  roots: number[];
  tail: string;
}

/** Same-op actions in a row merge ("free #1 #3"); ops without roots collapse to one word. */
function groupPieces(kernel: Kernel, actions: readonly Action[]): Piece[] {
  const pieces: Piece[] = [];
  for (const a of actions) {
    const piece = pieceOf(kernel, a);
    const last = pieces[pieces.length - 1];
    if (last && last.op === a.op && mergeable(a.op) && last.tail === piece.tail) {
      for (const r of piece.roots) if (!last.roots.includes(r)) last.roots.push(r);
      continue;
    }
    if (
      !mergeable(a.op) &&
      pieces.some(
        (p) => p.op === a.op && p.head === piece.head && p.tail === piece.tail && p.roots.join() === piece.roots.join(),
      )
    )
      continue;
    pieces.push(piece);
  }
  return pieces;
}

function mergeable(op: ActionOp): boolean {
  return (
    op === 'unload' ||
    op === 'free' ||
    op === 'invalidate' ||
    op === 'zap' ||
    op === 'queue_zap' ||
    op === 'evict' ||
    op === 'put' ||
    op === 'get'
  );
}

function rootsOf(a: Action): number[] {
  if (a.roots && a.roots.length > 0) return [...a.roots];
  return a.root === undefined ? [] : [a.root];
}

function rc(a: Action): string {
  return a.refcount ? ` rc ${a.refcount[0]}→${a.refcount[1]}` : '';
}

function pieceOf(kernel: Kernel, a: Action): Piece {
  const roots = rootsOf(a);
  switch (a.op) {
    case 'alloc': {
      const summary = a.role ? roleSummary(kernel, a.role) : '';
      return { op: a.op, head: 'alloc', roots, tail: summary ? ` ${summary}` : '' };
    }
    case 'reuse':
      return { op: a.op, head: 'reuse', roots, tail: rc(a) };
    case 'cache_hit': {
      const slot = a.slot?.match(/prev_roots\[(\d+)\]/);
      return { op: a.op, head: 'hit', roots, tail: slot ? ` prev[${slot[1]}]` : '' };
    }
    case 'cache_miss':
      return { op: a.op, head: 'miss', roots, tail: a.root === undefined ? '' : '→prev[0]' };
    case 'evict':
      return { op: a.op, head: 'evict', roots, tail: '' };
    case 'unload':
      return { op: a.op, head: 'unload', roots, tail: '' };
    case 'invalidate':
      return { op: a.op, head: 'invalidate', roots, tail: '' };
    case 'queue_zap':
      return { op: a.op, head: 'queue zap', roots, tail: '' };
    case 'zap':
      return { op: a.op, head: 'zap', roots, tail: '' };
    case 'free':
      return { op: a.op, head: 'free', roots, tail: '' };
    case 'fault':
      return { op: a.op, head: '#GP', roots: [], tail: '' };
    case 'no_exit':
      return { op: a.op, head: 'no exit', roots: [], tail: '' };
    case 'reinit_skipped':
      return { op: a.op, head: 'role unchanged', roots: [], tail: '' };
    case 'reinit':
      return { op: a.op, head: 'reinit', roots: [], tail: '' };
    case 'request':
      return {
        op: a.op,
        head: a.request ? `req ${a.request.replace(/^KVM_REQ_/, '')}` : 'request',
        roots: [],
        tail: '',
      };
    case 'flush':
      return { op: a.op, head: 'flush', roots: [], tail: '' };
    case 'warn':
      return { op: a.op, head: '⚠ WARN', roots: [], tail: '' };
    case 'hazard':
      return { op: a.op, head: `⚠ ${a.detail}`, roots: [], tail: '' };
    case 'get':
      return { op: a.op, head: 'get', roots, tail: roots.length <= 1 ? rc(a) : '' };
    case 'put':
      return { op: a.op, head: 'put', roots, tail: roots.length <= 1 ? rc(a) : '' };
  }
}

/** Roots named per piece before "+N" stands for the rest. */
const MAX_ROOTS_PER_PIECE = 4;

function pieceParts(p: Piece): HintPart[] {
  const parts: HintPart[] = [{ text: p.head }];
  const shown = p.roots.length > MAX_ROOTS_PER_PIECE ? p.roots.slice(0, MAX_ROOTS_PER_PIECE - 1) : p.roots;
  for (const r of shown) parts.push({ text: ' ' }, { text: `#${r}`, root: r });
  if (shown.length < p.roots.length) parts.push({ text: ` +${p.roots.length - shown.length}` });
  if (p.tail) parts.push({ text: p.tail });
  return parts;
}

const width = (parts: readonly HintPart[]): number => parts.reduce((n, p) => n + p.text.length, 0);

/** What survives when a hint is too long (lower first): what the root ended up as beats how it got there. */
const KEEP_ORDER: Partial<Record<ActionOp, number>> = {
  alloc: 0,
  reuse: 0,
  cache_hit: 0,
  fault: 0,
  no_exit: 0,
  hazard: 0,
  warn: 0,
  free: 1,
  unload: 2,
  reinit_skipped: 2,
  evict: 3,
  invalidate: 3,
  zap: 4,
  queue_zap: 5,
};
const keep = (p: Piece): number => KEEP_ORDER[p.op] ?? 6;

function join(pieces: readonly Piece[]): HintPart[] {
  return pieces.flatMap((p, i) => [...(i === 0 ? [] : [{ text: ', ' }]), ...pieceParts(p)]);
}

/**
 * Fits the pieces in the budget ("→ " included), in the order they happened: drops the least telling
 * pieces first, then cuts the roots of the last one, and marks any cut with "…".
 */
function shorten(pieces: Piece[]): HintPart[] {
  const budget = MAX_HINT_LENGTH - 2;
  if (width(join(pieces)) <= budget) return join(pieces);
  const kept = [...pieces];
  const mark = { text: ' …' };
  while (kept.length > 1 && width(join(kept)) + mark.text.length > budget) {
    let victim = kept.length - 1;
    for (let i = kept.length - 1; i >= 0; i--) if (keep(kept[i] as Piece) > keep(kept[victim] as Piece)) victim = i;
    kept.splice(victim, 1);
  }
  const out = join(kept);
  // One piece may still be too long (many roots): keep as many whole root ids as fit.
  while (out.length > 1 && width(out) + mark.text.length > budget) out.pop();
  while (out.length > 1 && (out[out.length - 1]?.text === ' ' || out[out.length - 1]?.text === ', ')) out.pop();
  if (width(out) + mark.text.length > budget) {
    const only = out[0]?.text ?? '';
    return [{ text: `${only.slice(0, Math.max(1, budget - mark.text.length - 1))}…` }];
  }
  return [...out, mark];
}

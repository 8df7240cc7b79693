/**
 * Inlay hints: a short outcome at the end of every statement, derived only from the step's actions
 * (the model already decided everything; this only words it). The hover has the long form.
 */
import type { Analysis, Step } from '../engine/analysis.js';
import type { Kernel } from '../kernel/behaviours.js';
import type { ActionOp } from '../kernel/types.js';
import { formatOutcome, outcomePieces, quietOutcome, type OutcomePiece } from '../views/outcome.js';
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

export function inlayHints(analysis: Analysis, range?: { startLine: number; endLine: number }): InlayHint[] {
  const hints: InlayHint[] = [];
  const inRange = (line: number): boolean => !range || (line >= range.startLine && line <= range.endLine);
  for (const step of analysis.steps) {
    if (!inRange(step.line)) continue;
    const parts = stepHintParts(analysis.kernel, step);
    if (parts.length === 0) continue;
    hints.push(makeHint(step.line, step.statement.span.end, parts, formatOutcome(step.result, analysis.kernel)));
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

/** The words of one step's hint: the outcome's pieces (views/outcome.ts), shortened to MAX_HINT_LENGTH. */
export function stepHintParts(kernel: Kernel, step: Step): HintPart[] {
  const { result } = step;
  if (result.outcome === 'error') return [];
  if (result.outcome === 'vmfail') return [{ text: 'VM-Enter fails' }];
  const pieces = outcomePieces(result, kernel);
  if (pieces.length === 0) return [{ text: quietOutcome(result) }];
  return shorten(pieces);
}

type Piece = OutcomePiece;

/** Roots named per piece before "+N" stands for the rest. */
const MAX_ROOTS_PER_PIECE = 4;

function pieceParts(p: Piece): HintPart[] {
  const parts: HintPart[] = [{ text: p.head }];
  const shown = p.roots.length > MAX_ROOTS_PER_PIECE ? p.roots.slice(0, MAX_ROOTS_PER_PIECE - 1) : p.roots;
  for (const r of shown) parts.push({ text: ' ' }, { text: `#${r}`, root: r });
  if (shown.length < p.roots.length) parts.push({ text: ` +${p.roots.length - shown.length}` });
  if (p.tail) parts.push({ text: p.tail });
  if (p.times > 1) parts.push({ text: ` ×${p.times}` });
  return parts;
}

const width = (parts: readonly HintPart[]): number => parts.reduce((n, p) => n + p.text.length, 0);

/** What survives when a hint is too long (lower first): what the root ended up as beats how it got there. */
const KEEP_ORDER: Partial<Record<ActionOp, number>> = {
  alloc: 0,
  reuse: 0,
  cache_hit: 0,
  cache_miss: 3,
  fault: 0,
  no_exit: 0,
  hazard: 0,
  warn: 0,
  free: 1,
  unload: 2,
  reinit: 2,
  reinit_skipped: 2,
  evict: 3,
  invalidate: 3,
  zap: 4,
  pte_write: 4,
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

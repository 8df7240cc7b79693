/**
 * The one wording of what a step did, used by every view: the CLI (`run`, `diff`), inlay hints, the statement
 * hover and the root panel. Everything here is derived from the action list; nothing re-runs the model. Hints
 * shorten the same pieces to fit; they never word them differently.
 */
import type { Kernel } from '../kernel/behaviours.js';
import { summarizePageRole } from '../kernel/role_layout.js';
import type { Action, ActionOp, StepResult } from '../kernel/types.js';

/** One piece of an outcome: `head` then its roots (`#1 #3`) then `tail`, e.g. "put" [#1] " rc 2→1". */
export interface OutcomePiece {
  op: ActionOp;
  head: string;
  roots: number[];
  tail: string;
  /** How many times this piece happened in a row (the RSM path resets the MMU twice: "reinit root_mmu ×2"). */
  times: number;
}

const rc = (a: Action): string => (a.refcount ? ` rc ${a.refcount[0]}→${a.refcount[1]}` : '');

/** The async zap worker's own actions (E2/E3): its put is not the vCPU's, and says so. */
const byZapWorker = (a: Action): boolean => a.path[0] === 'tdp_mmu_zap_root_work';
/** A shadow page zapped to make room under n_max_mmu_pages (`mmu_recycled`), not because anything changed. */
const recycled = (a: Action): boolean => a.path.includes('kvm_mmu_zap_oldest_mmu_pages');

function rootsOf(a: Action): number[] {
  if (a.roots && a.roots.length > 0) return [...a.roots];
  return a.root === undefined ? [] : [a.root];
}

/** One action's words. With the kernel, an allocation says what it allocated in that kernel's role layout. */
export function actionPiece(a: Action, kernel?: Kernel): OutcomePiece {
  const roots = rootsOf(a);
  const piece = (head: string, tail = '', ids: number[] = roots): OutcomePiece => ({
    op: a.op,
    head,
    roots: ids,
    tail,
    times: 1,
  });
  switch (a.op) {
    case 'alloc': {
      const what = kernel && a.role ? ` ${summarizePageRole(kernel, Number.parseInt(a.role, 16))}` : '';
      return piece('alloc', `${what}${a.refcount ? ` rc ${a.refcount[1]}` : ''}`);
    }
    case 'reuse':
      return piece('reuse', rc(a));
    case 'cache_hit':
      return piece('hit', a.slot ? ` ${a.slot}` : '');
    case 'cache_miss':
      // The old current root (if any) rotates into prev_roots[0]; the new pgd's root is built at the next entry.
      return a.root === undefined ? piece('miss', '', []) : piece('miss,', ` → ${a.slot ?? 'prev_roots[0]'}`);
    case 'get':
      return piece('get', rc(a));
    case 'put':
      return piece('put', `${rc(a)}${byZapWorker(a) ? ' (zap worker)' : ''}`);
    case 'evict':
      return piece('evict');
    case 'unload':
      return roots.length > 0 ? piece('unload') : piece('unload (empty)', '', []);
    case 'invalidate':
      // E2: a put reaching 0 on a valid root invalidates it and re-arms one reference for the zap worker. Two
      // "rc 1→0" puts in a row read as a double put without it.
      return piece('invalidate', a.refcount ? ` rc re-armed ${a.refcount[0]}→${a.refcount[1]}` : '');
    case 'zap':
      return piece(recycled(a) ? 'recycle' : 'zap');
    case 'queue_zap':
      return piece('queue zap');
    case 'pte_write':
      // An emulated write to a shadowed page table: the page loses the written entry, or is zapped next.
      if (a.write === 'misaligned') return piece('misaligned write');
      if (a.write === 'flooded') return piece('flooded');
      return piece('pte write', a.flooding === undefined ? '' : ` flooding ${a.flooding}`);
    case 'free':
      return piece('free');
    case 'request':
      return piece(`${a.request ?? 'request'}${a.vcpu !== undefined ? `→vcpu${a.vcpu}` : ''}`, '', []);
    case 'flush':
      return piece('flush', '', []);
    case 'reinit':
      return piece(`reinit${a.mmu ? ` ${a.mmu}` : ''}`, '', []);
    case 'reinit_skipped':
      return piece(`role unchanged${a.mmu ? ` (${a.mmu})` : ''}`, '', []);
    case 'fault':
      return piece(faultHead(a.detail), '', []);
    case 'dummy_root':
      return piece(a.detail.includes('drops') ? 'drop dummy root' : 'dummy root', '', []);
    case 'no_exit':
      return piece('no VM-exit', '', []);
    case 'warn':
      return piece('⚠ WARN', '', []);
    case 'hazard':
      return piece('⚠ HAZARD', '', []);
  }
}

/** A fault action's few words: #GP (the usual), or the page fault a guest on a dummy root takes. */
function faultHead(detail: string): string {
  if (detail.startsWith('#PF')) return '#PF';
  if (detail.startsWith('EPT violation')) return 'EPT violation → L1';
  if (detail.startsWith('#NPF')) return '#NPF → L1';
  return '#GP';
}

export function pieceText(p: OutcomePiece): string {
  const ids = p.roots.map((r) => ` #${r}`).join('');
  return `${p.head}${ids}${p.tail}${p.times > 1 ? ` ×${p.times}` : ''}`;
}

/** One action as a few words, e.g. "put #1 rc 2→1", "hit #3 prev_roots[1]" (the CLI's --actions lines). */
export function formatAction(a: Action, kernel?: Kernel): string {
  return pieceText(actionPiece(a, kernel));
}

/** What a step's outcome names: every change of roots and MMU contexts; requests and flushes only when alone. */
const HEADLINE: ReadonlySet<ActionOp> = new Set<ActionOp>([
  'alloc',
  'reuse',
  'cache_hit',
  'cache_miss',
  'get',
  'put',
  'evict',
  'unload',
  'invalidate',
  'queue_zap',
  'zap',
  'pte_write',
  'free',
  'reinit',
  'reinit_skipped',
  'fault',
  'dummy_root',
  'no_exit',
  'warn',
  'hazard',
]);

/** Ops whose consecutive pieces merge into one ("free #1 #3"). */
const MERGEABLE: ReadonlySet<ActionOp> = new Set<ActionOp>([
  'unload',
  'free',
  'invalidate',
  'zap',
  'queue_zap',
  'evict',
]);

/**
 * The pieces of a step's outcome, in the order they happened. A `reinit_skipped` of an MMU that the same step
 * re-initialised is left out: RSM leaves SMM (a new role, `reinit`) and resets the MMU again on the way (CR4,
 * EFER: role unchanged by then) — "role unchanged" would say the opposite of what the line did.
 */
export function outcomePieces(result: StepResult, kernel?: Kernel): OutcomePiece[] {
  const actions = result.actions;
  let reinitialised: Set<string> | undefined;
  for (const a of actions) if (a.op === 'reinit') (reinitialised ??= new Set()).add(a.mmu ?? '');
  let chosen = actions.filter(
    (a) => HEADLINE.has(a.op) && !(a.op === 'reinit_skipped' && reinitialised?.has(a.mmu ?? '')),
  );
  if (chosen.length === 0) chosen = actions.filter((a) => a.op === 'request' || a.op === 'flush');
  const pieces: OutcomePiece[] = [];
  for (const a of chosen) {
    const p = actionPiece(a, kernel);
    const last = pieces[pieces.length - 1];
    if (last && last.op === p.op && last.head === p.head && last.tail === p.tail) {
      if (MERGEABLE.has(p.op) && last.times === 1) {
        for (const r of p.roots) if (!last.roots.includes(r)) last.roots.push(r);
        continue;
      }
      if (last.roots.join() === p.roots.join()) {
        last.times++;
        continue;
      }
    }
    pieces.push(p);
  }
  if (result.outcome === 'gp' && !pieces.some((p) => p.op === 'fault'))
    pieces.unshift({ op: 'fault', head: '#GP', roots: [], tail: '', times: 1 });
  return pieces;
}

/** The words for a step with no piece to name. */
export function quietOutcome(result: StepResult): string {
  return result.outcome === 'gp' ? '#GP' : result.outcome === 'no_exit' ? 'no VM-exit' : 'no MMU change';
}

/** The outcome of a step in one line: its pieces, or what failed, or that nothing changed. */
export function formatOutcome(result: StepResult, kernel?: Kernel): string {
  if (result.outcome === 'error') return `error: ${result.message ?? result.summary}`;
  if (result.outcome === 'vmfail') return `VM-Enter fails: ${result.message ?? result.summary}`;
  const pieces = outcomePieces(result, kernel);
  return pieces.length === 0 ? quietOutcome(result) : pieces.map(pieceText).join(', ');
}

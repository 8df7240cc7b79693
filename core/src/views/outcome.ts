/**
 * Compact renderings of a step's actions — the one vocabulary the CLI, diff and JSON summaries share.
 * Everything here is derived from the action list; nothing re-runs the model.
 */
import type { Kernel } from '../kernel/behaviours.js';
import { summarizePageRole } from '../kernel/role_layout.js';
import type { Action, StepResult } from '../kernel/types.js';

const rc = (a: Action): string => (a.refcount ? ` rc ${a.refcount[0]}→${a.refcount[1]}` : '');
const id = (n: number | undefined): string => (n === undefined ? '' : `#${n}`);

/**
 * One action as a few words, e.g. "put #1 rc 2→1", "hit #3 prev_roots[1]". With the kernel, allocations say
 * what they allocated in that kernel's role layout ("alloc #2 4-level direct SMM rc 2").
 */
export function formatAction(a: Action, kernel?: Kernel): string {
  switch (a.op) {
    case 'alloc': {
      const what = kernel && a.role ? ` ${summarizePageRole(kernel, Number.parseInt(a.role, 16))}` : '';
      return `alloc ${id(a.root)}${what}${a.refcount ? ` rc ${a.refcount[1]}` : ''}`;
    }
    case 'reuse':
      return `reuse ${id(a.root)}${rc(a)}`;
    case 'cache_hit':
      return `hit ${id(a.root)}${a.slot ? ` ${a.slot}` : ''}`;
    case 'cache_miss':
      return a.root === undefined ? 'miss' : `miss, #${a.root}→prev_roots[0]`;
    case 'get':
      return `get ${id(a.root)}${rc(a)}`;
    case 'put':
      return `put ${id(a.root)}${rc(a)}`;
    case 'evict':
      return `evict ${id(a.root)}`;
    case 'unload':
      return `unload${(a.roots ?? []).map((r) => ` #${r}`).join('') || ' (empty)'}`;
    case 'invalidate':
      return `invalidate ${id(a.root)}`;
    case 'zap':
      return `zap ${id(a.root)}`.trimEnd();
    case 'queue_zap':
      return `queue zap ${id(a.root)}`;
    case 'free':
      return `free ${id(a.root)}`;
    case 'request':
      return `${a.request ?? 'request'}${a.vcpu !== undefined ? `→vcpu${a.vcpu}` : ''}`;
    case 'flush':
      return 'flush';
    case 'reinit':
      return `reinit ${a.mmu ?? ''}`.trimEnd();
    case 'reinit_skipped':
      return `role unchanged${a.mmu ? ` (${a.mmu})` : ''}`;
    case 'fault':
      return '#GP';
    case 'no_exit':
      return 'no VM-exit';
    case 'warn':
      return 'WARN';
    case 'hazard':
      return 'HAZARD';
  }
}

/** Actions worth showing on the line itself (requests and flushes are in the detail view). */
const HEADLINE: ReadonlySet<Action['op']> = new Set([
  'alloc',
  'reuse',
  'cache_hit',
  'cache_miss',
  'put',
  'get',
  'evict',
  'unload',
  'invalidate',
  'queue_zap',
  'free',
  'fault',
  'no_exit',
  'warn',
  'hazard',
  'reinit_skipped',
]);

/** The outcome of a step in one line: the headline actions, or the model's summary when there are none. */
export function formatOutcome(result: StepResult, kernel?: Kernel): string {
  if (result.outcome === 'error') return `error: ${result.message ?? result.summary}`;
  if (result.outcome === 'vmfail') return `VM-Enter failed: ${result.message ?? result.summary}`;
  const parts: string[] = [];
  const counts: number[] = [];
  for (const a of result.actions) {
    if (!HEADLINE.has(a.op)) continue;
    const text = formatAction(a, kernel);
    // RSM and SMI reset the MMU several times; say "role unchanged ×2" rather than repeating it.
    if (parts[parts.length - 1] === text) counts[counts.length - 1]! += 1;
    else {
      parts.push(text);
      counts.push(1);
    }
  }
  if (result.outcome === 'gp' && !parts.includes('#GP')) {
    parts.unshift('#GP');
    counts.unshift(1);
  }
  if (result.outcome === 'shutdown') {
    parts.unshift('triple fault');
    counts.unshift(1);
  }
  if (parts.length === 0) return result.summary;
  return parts.map((p, i) => ((counts[i] ?? 1) > 1 ? `${p} ×${counts[i]}` : p)).join(', ');
}

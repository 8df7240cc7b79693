/**
 * Root lifetimes over a whole scenario, for the panel's lifetime picture: one entry per root with the line that
 * allocated it, the line that freed it, and marks where a statement found it again, cached it in a prev_roots slot,
 * evicted it from the cache, put a reference or invalidated it. Pure: the host builds it from `kvmmu/timeline`
 * and the state after the last line, the tests feed it plain data.
 */
import type { ActionOp, StateAtResult, TimelineResult } from '../protocol.js';
import type { LifetimeMarkKind, LifetimeRoot, Lifetimes } from './messages.js';

/** The actions that leave a mark on the root they are about. */
const MARK_OF: Partial<Record<ActionOp, LifetimeMarkKind>> = {
  reuse: 'found',
  cache_hit: 'found',
  evict: 'evicted',
  put: 'put',
  invalidate: 'invalidated',
};

/**
 * `final` is the state after the last line (it lists every root ever allocated, freed ones included);
 * `timeline` the same document's steps under the same kernel; `lastLine` the document's last line, 1-based.
 */
export function lifetimes(final: StateAtResult, timeline: TimelineResult, lastLine: number): Lifetimes {
  const marks = new Map<number, { line: number; kind: LifetimeMarkKind }[]>();
  const mark = (root: number | undefined, line: number, kind: LifetimeMarkKind): void => {
    if (root === undefined) return;
    let list = marks.get(root);
    if (!list) marks.set(root, (list = []));
    const last = list[list.length - 1];
    if (!last || last.line !== line || last.kind !== kind) list.push({ line, kind });
  };
  // The current root of each vCPU's MMU, followed through the actions that make a root current. A root that stops
  // being current without being unloaded, evicted or freed at that line went to a prev_roots slot: it was cached.
  const current = new Map<string, number>();
  for (const step of timeline.steps) {
    const line = step.line + 1;
    const dropped = new Set<number>();
    for (const a of step.actions) {
      if (a.op === 'unload' || a.op === 'evict' || a.op === 'free') {
        if (a.root !== undefined) dropped.add(a.root);
        for (const r of a.roots ?? []) dropped.add(r);
      }
    }
    for (const a of step.actions) {
      const kind = MARK_OF[a.op];
      // A cache hit on the current slot keeps the root current: nothing was found "again".
      if (kind && !(a.op === 'cache_hit' && a.slot === 'root')) mark(a.root, line, kind);
      if (a.op === 'unload')
        for (const [key, id] of current)
          if (key.startsWith(`${a.vcpu}/`) && (a.roots ?? []).includes(id)) current.delete(key);
      if ((a.op === 'alloc' || a.op === 'reuse' || a.op === 'cache_hit') && a.vcpu !== undefined && a.mmu) {
        if (a.root === undefined) continue;
        const key = `${a.vcpu}/${a.mmu}`;
        const before = current.get(key);
        if (before !== undefined && before !== a.root && !dropped.has(before)) mark(before, line, 'cached');
        current.set(key, a.root);
      }
    }
  }
  const roots = final.snapshot.roots.map((r): LifetimeRoot => ({
    id: r.id,
    kind: r.kind,
    role: r.role,
    allocatedAt: r.allocatedAt,
    freedAt: r.freedAt,
    state: r.state,
    marks: (marks.get(r.id) ?? []).sort((x, y) => x.line - y.line),
  }));
  roots.sort((x, y) => x.id - y.id);
  return { kernel: final.kernel.label, lastLine: Math.max(1, lastLine), roots };
}

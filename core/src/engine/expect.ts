/**
 * Expectation paths (SPEC §1.5): what `expect PATH OP VALUE` can look at, resolved against the state after the
 * previous statement for the current vCPU and its active MMU.
 */
import type { Kernel } from '../kernel/behaviours.js';
import { getRoleField, pageRoleLayout, type PageRoleField } from '../kernel/role_layout.js';
import type { Action, MmuSnapshot, RootSnapshot, Snapshot } from '../kernel/types.js';
import type { ExpectOp } from '../syntax/ast.js';

import { STAT_NAMES } from '../kernel/stats.js';

export { STAT_NAMES };

/** The fixed paths, for completion, validation and docs. `root.role.<field>` and `prev[N].id` are patterns. */
export const EXPECT_PATHS: readonly { path: string; doc: string }[] = [
  { path: 'roots.live', doc: 'roots not yet destroyed (valid or invalid), VM-wide' },
  { path: 'roots.valid', doc: 'live roots whose role.invalid is 0' },
  { path: 'roots.invalid', doc: 'live roots already invalidated (awaiting zap or last put)' },
  { path: 'root.id', doc: "id of the active MMU's current root (null when none)" },
  { path: 'root.level', doc: 'level of the current root' },
  { path: 'root.refcount', doc: 'tdp_mmu_root_count / root_count of the current root' },
  { path: 'root.role.<field>', doc: 'a page-role field of the current root, in the profile layout' },
  { path: 'root.dummy', doc: 'the current root is the dummy root (v6.6+: a guest root outside every memslot)' },
  { path: 'pae_roots.count', doc: 'valid pae_root[0..3] entries of the active MMU (PAE/32-bit shadow roots)' },
  { path: 'prev_roots.count', doc: 'valid prev_roots slots of the active MMU' },
  { path: 'prev[N].id', doc: 'root id in prev_roots[N] (N = 0..2) of the active MMU' },
  { path: 'line.allocated', doc: 'roots allocated by the previous statement' },
  { path: 'line.freed', doc: 'roots destroyed by the previous statement' },
  { path: 'line.reused', doc: 'roots reused (per-VM list/hash) or found in prev_roots by the previous statement' },
  { path: 'mmu_pages.used', doc: 'n_used_mmu_pages: shadow pages (not TDP MMU pages) not yet freed, VM-wide' },
  { path: 'mmu_pages.max', doc: 'n_max_mmu_pages as set by KVM_SET_NR_MMU_PAGES (no value while the default applies)' },
  { path: 'stats.<name>', doc: `a counter: ${STAT_NAMES.join(', ')}` },
  { path: 'warnings', doc: 'KVM WARNs and hazards recorded so far' },
];

export interface ExpectContext {
  kernel: Kernel;
  snapshot: Snapshot;
  vcpu: number;
  /** Actions of the previous statement (empty when there is none). */
  lineActions: readonly Action[];
  warnings: number;
}

export type Resolved = { ok: true; value: number | null } | { ok: false; message: string };

export function resolvePath(path: string, ctx: ExpectContext): Resolved {
  const v = ctx.snapshot.vcpus[ctx.vcpu];
  const mmu: MmuSnapshot | undefined = v?.mmus.find((m) => m.name === v.mmu);
  const rootOf = (id: number | null): RootSnapshot | undefined =>
    id === null ? undefined : ctx.snapshot.roots.find((r) => r.id === id);
  const live = ctx.snapshot.roots.filter((r) => r.state !== 'freed');
  const count = (ops: readonly string[]) => ctx.lineActions.filter((a) => ops.includes(a.op)).length;

  switch (path) {
    case 'roots.live':
      return { ok: true, value: live.length };
    case 'roots.valid':
      return { ok: true, value: live.filter((r) => r.state === 'valid').length };
    case 'roots.invalid':
      return { ok: true, value: live.filter((r) => r.state === 'invalid').length };
    case 'root.id':
      return { ok: true, value: mmu?.root ?? null };
    case 'root.level':
      return { ok: true, value: rootOf(mmu?.root ?? null)?.level ?? null };
    case 'root.refcount':
      return { ok: true, value: rootOf(mmu?.root ?? null)?.refcount ?? null };
    case 'root.dummy':
      return { ok: true, value: mmu?.rootSpecial === 'dummy' ? 1 : 0 };
    case 'pae_roots.count':
      return { ok: true, value: mmu ? mmu.paeRoots.filter((r) => r !== null).length : 0 };
    case 'prev_roots.count':
      return { ok: true, value: mmu ? mmu.prevRoots.filter((r) => r !== null).length : 0 };
    case 'line.allocated':
      return { ok: true, value: count(['alloc']) };
    case 'line.freed':
      return { ok: true, value: count(['free']) };
    case 'line.reused':
      return { ok: true, value: count(['reuse', 'cache_hit']) };
    case 'warnings':
      return { ok: true, value: ctx.warnings };
    case 'mmu_pages.used':
      return { ok: true, value: ctx.snapshot.mmuPages?.used ?? 0 };
    case 'mmu_pages.max':
      return { ok: true, value: ctx.snapshot.mmuPages?.max ?? null };
  }
  const stat = /^stats\.([a-z0-9_]+)$/.exec(path);
  if (stat) {
    const name = stat[1] ?? '';
    const value = ctx.snapshot.stats[name];
    if (value === undefined)
      return {
        ok: false,
        message: `unknown counter \`${name}\` (known: ${Object.keys(ctx.snapshot.stats).join(', ')})`,
      };
    return { ok: true, value };
  }
  const prev = /^prev\[(\d+)\]\.id$/.exec(path);
  if (prev) {
    const n = Number(prev[1]);
    if (n > 2) return { ok: false, message: 'prev_roots has 3 slots: prev[0] … prev[2]' };
    return { ok: true, value: mmu?.prevRoots[n] ?? null };
  }
  const role = /^root\.role\.([a-z0-9_]+)$/.exec(path);
  if (role) {
    const field = role[1] ?? '';
    const layout = pageRoleLayout(ctx.kernel);
    if (!layout.some((f) => f.name === field))
      return {
        ok: false,
        message: `\`${field}\` is not a page-role field on ${ctx.kernel.label} (fields: ${layout.map((f) => f.name).join(', ')})`,
      };
    const r = rootOf(mmu?.root ?? null);
    if (!r) return { ok: true, value: null };
    return { ok: true, value: getRoleField(ctx.kernel, Number.parseInt(r.role, 16), field as PageRoleField) };
  }
  return { ok: false, message: `unknown expectation path \`${path}\`` };
}

/** Path names a user can type, for "did you mean". */
export function knownPathExamples(): string[] {
  return [
    ...EXPECT_PATHS.map((p) => p.path).filter((p) => !p.includes('<') && !p.includes('[N]')),
    ...STAT_NAMES.map((s) => `stats.${s}`),
    'prev[0].id',
    'prev[1].id',
    'prev[2].id',
    'root.role.smm',
    'root.role.level',
    'root.role.guest_mode',
    'root.role.direct',
    'root.role.cr0_wp',
  ];
}

export function compare(actual: number, op: ExpectOp, expected: number): boolean {
  switch (op) {
    case '==':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
  }
}

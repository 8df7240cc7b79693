/**
 * TDP MMU roots (arch/x86/kvm/mmu/tdp_mmu.c): the per-VM `tdp_mmu_roots` list, root allocation/reuse,
 * reference counting and invalidation, per era of the root lifecycle (`kernel.eras.tdp_roots`, eras.ts):
 *   vcpu_refs (≤v5.17): refcount 1 at alloc, the last put zaps and frees;
 *   async_zap (v5.18–v6.3): a put reaching 0 on a valid root marks it invalid, re-arms refcount 1 for the
 *      worker and queues it on tdp_mmu_zap_wq;
 *   async_zap_own_ref (v6.4–v6.5): the TDP MMU holds its own reference (refcount 2 at alloc) until
 *      invalidation, which gifts it to the worker;
 *   sync_zap_own_ref (v6.6+): invalidation flags roots (tdp_mmu_scheduled_root_to_zap) and
 *      kvm_tdp_mmu_zap_invalidated_roots zaps them synchronously.
 * The what-if `invalidated_roots_off_list` (2021, never merged) replaces the invalidation path on top of any era.
 * Temporary references taken by the yield-safe root iterators are not recorded (they are dropped before
 * the walk returns); the references that outlive a statement are.
 */
import { SharedActions } from './actions.js';
import type { Kernel } from '../kernel/behaviours.js';
import { formatRole, setRoleField, summarizePageRole } from '../kernel/role_layout.js';
import type { MmuName } from '../kernel/types.js';
import type { Ctx, MmuPage, MmuState, VcpuState } from './state.js';
import { hex, page, roleAsId, stat } from './state.js';

export function tdp_mmu_enabled(c: Ctx): boolean {
  return c.vm.tdp && c.vm.tdp_mmu;
}

function describe(c: Ctx, p: MmuPage): string {
  return describeRole(c, p.role);
}

/** summarizePageRole, memoised per run (role words repeat endlessly in long scenarios). */
export function describeRole(c: Ctx, role: number): string {
  const texts = c.rec.caches.roleTexts;
  let text = texts.get(role);
  if (text === undefined) {
    if (texts.size >= 4096) texts.clear();
    texts.set(role, (text = summarizePageRole(c.kernel, role)));
  }
  return text;
}

/** `kvm_tdp_mmu_get_vcpu_root_hpa` (E1–E4) / `kvm_tdp_mmu_alloc_root` (E5): reuse by exact role, else allocate. */
export function kvm_tdp_mmu_get_vcpu_root_hpa(c: Ctx, v: VcpuState, mmu: MmuState): number {
  const fn = c.kernel.has('tdp_mmu_alloc_root') ? 'kvm_tdp_mmu_alloc_root' : 'kvm_tdp_mmu_get_vcpu_root_hpa';
  const saved = c.rec.enter(fn);
  const id = reuseOrAllocRoot(c, v, mmu);
  c.rec.leave(saved);
  return id;
}

/** The body of `kvm_tdp_mmu_get_vcpu_root_hpa`, in its frame. */
function reuseOrAllocRoot(c: Ctx, v: VcpuState, mmu: MmuState): number {
  const role = mmu.root_role;
  const asid = roleAsId(role);
  for (const id of c.s.tdp_mmu_roots) {
    const root = page(c, id);
    if (roleAsId(root.role) !== asid || root.role !== role) continue;
    // The invalid bit is part of the role word, so an invalid root never gets here.
    if (root.refcount === 0) continue;
    const before = root.refcount;
    root.refcount++;
    stat(c, 'root_reuses');
    c.rec.emitShared(REUSE, c.kernel, v.id, mmu.name, id, before, root.refcount, root.role);
    return id;
  }
  const era = c.kernel.eras.tdp_roots;
  const own = era === 'async_zap_own_ref' || era === 'sync_zap_own_ref';
  const root = newPage(c, {
    kind: 'tdp_mmu',
    role,
    gfn: null,
    tdp_mmu_page: true,
    refcount: own ? 2 : 1,
    tdp_mmu_ref: own,
  });
  root.on_list = true;
  c.s.tdp_mmu_roots.unshift(root.id);
  c.rec.emit(
    'alloc',
    `allocate TDP MMU root #${root.id} (${describe(c, root)}) for vCPU ${v.id}, tdp_mmu_root_count ${root.refcount}` +
      (own ? ' (one reference for the vCPU, one kept by the TDP MMU itself)' : ''),
    { vcpu: v.id, mmu: mmu.name, root: root.id, refcount: [0, root.refcount], role: formatRole(role) },
  );
  return root.id;
}

export function newPage(
  c: Ctx,
  init: Pick<MmuPage, 'kind' | 'role' | 'gfn' | 'tdp_mmu_page' | 'refcount' | 'tdp_mmu_ref'>,
): MmuPage {
  const id = c.s.next_root_id++;
  const p: MmuPage = {
    id,
    ...init,
    mmu_valid_gen: c.s.mmu_valid_gen,
    invalid: false,
    freed: false,
    allocatedAt: c.line,
    freedAt: null,
    zap_worker_ref: 0,
    scheduled_to_zap: false,
    on_list: false,
    has_sptes: false,
    unlinked: false,
    write_flooding_count: 0,
  };
  c.s.roots.set(id, p);
  c.s.live.add(id);
  // kvm_mod_used_mmu_pages: shadow pages count against n_max_mmu_pages, TDP MMU pages never do.
  if (!p.tdp_mmu_page) c.s.n_used_mmu_pages++;
  stat(c, 'roots_allocated');
  return p;
}

/** Marks a page invalid: `role.invalid = 1`. */
export function markInvalid(c: Ctx, p: MmuPage): void {
  p.invalid = true;
  p.role = setRoleField(c.kernel, p.role, 'invalid', 1);
}

/** The root is destroyed (RCU free of the page table). */
export function destroyRoot(c: Ctx, p: MmuPage, why: string): void {
  if (p.freed) {
    c.rec.emit('warn', `root #${p.id} would be freed a second time${why ? ` (${why})` : ''}: a model bug`, {
      root: p.id,
    });
    return;
  }
  p.freed = true;
  p.freedAt = c.line;
  c.s.live.delete(p.id);
  if (!p.tdp_mmu_page) c.s.n_used_mmu_pages--;
  tdp_mmu_unlink_root(c, p);
  stat(c, 'roots_freed');
  c.rec.emit('free', `root #${p.id} is destroyed${why ? ` (${why})` : ''}`, { root: p.id, refcount: [0, 0] });
}

/**
 * list_del_rcu from tdp_mmu_roots. The what-if patch (seed 003) unlinks only valid roots, since it assumes
 * every invalid root was already moved to the zapper's local list; a root invalidated in place (the E2
 * put path) then stays listed after it is freed.
 */
function tdp_mmu_unlink_root(c: Ctx, p: MmuPage): void {
  if (!p.on_list) return;
  if (c.kernel.has('invalidated_roots_off_list') && p.invalid) return;
  p.on_list = false;
  const i = c.s.tdp_mmu_roots.indexOf(p.id);
  if (i >= 0) c.s.tdp_mmu_roots.splice(i, 1);
}

/** `tdp_mmu_zap_root`: zap every SPTE under the root. */
export function tdp_mmu_zap_root(c: Ctx, p: MmuPage): void {
  c.rec.call('tdp_mmu_zap_root', () => {
    p.has_sptes = false;
    c.rec.emit('zap', `zap all SPTEs of TDP MMU root #${p.id}`, { root: p.id });
  });
}

/**
 * `kvm_tdp_mmu_get_root`: E1 refuses invalid roots; later eras only refuse refcount 0. The what-if
 * `invalidated_roots_off_list` WARNs on any attempt to reference an invalid root (seed 003).
 */
export function kvm_tdp_mmu_get_root(c: Ctx, p: MmuPage, holder: string): boolean {
  return c.rec.call('kvm_tdp_mmu_get_root', () => {
    if (p.invalid) {
      if (c.kernel.has('invalidated_roots_off_list')) {
        const dead = p.freed
          ? ', already freed but still on tdp_mmu_roots: the patched put only unlinks valid roots'
          : '';
        c.rec.emit(
          'warn',
          `WARN_ON_ONCE in kvm_tdp_mmu_get_root: ${holder} tries to reference invalid TDP MMU root #${p.id}${dead}`,
          { root: p.id },
        );
        return false;
      }
      // Callers in every era skip invalid roots (E1 inside this function, E2+ in the iterators).
      return false;
    }
    return p.refcount > 0;
  });
}

const PUT = new SharedActions((who: string, root: number, before: number, after: number) => ({
  op: 'put',
  detail: `${who} drops a reference to TDP MMU root #${root}`,
  fields: { root, refcount: [before, after] },
}));
const REUSE = new SharedActions(
  (kernel: Kernel, vcpu: number, mmu: MmuName, root: number, before: number, after: number, role: number) => ({
    op: 'reuse',
    detail: `vCPU ${vcpu} takes a reference to TDP MMU root #${root} (${summarizePageRole(kernel, role)}) found on tdp_mmu_roots`,
    fields: { vcpu, mmu, root, refcount: [before, after], role: formatRole(role) },
  }),
);

/** `kvm_tdp_mmu_put_root`: drop one reference; era rules for the last one. */
export function kvm_tdp_mmu_put_root(c: Ctx, p: MmuPage, who: string): void {
  const saved = c.rec.enter('kvm_tdp_mmu_put_root');
  putRoot(c, p, who);
  c.rec.leave(saved);
}

/** The body of `kvm_tdp_mmu_put_root`, in its frame. */
function putRoot(c: Ctx, p: MmuPage, who: string): void {
  if (p.refcount <= 0) {
    // refcount_t: a decrement at zero saturates and WARNs ("underflow; use-after-free"); nothing is freed again.
    c.rec.emit('warn', `refcount_t: underflow; use-after-free: ${who} puts TDP MMU root #${p.id} at refcount 0`, {
      root: p.id,
      refcount: [0, 0],
    });
    return;
  }
  const before = p.refcount;
  p.refcount--;
  c.rec.emitShared(PUT, who, p.id, before, p.refcount);
  if (p.refcount > 0) return;
  const era = c.kernel.eras.tdp_roots;
  if (era === 'async_zap_own_ref' || era === 'sync_zap_own_ref') {
    // The TDP MMU's own reference is only dropped at invalidation: reaching 0 on a valid root is a bug.
    if (!p.invalid) {
      c.rec.emit('warn', `KVM_BUG_ON: last reference to TDP MMU root #${p.id} put while the root is still valid`, {
        root: p.id,
      });
    }
    destroyRoot(c, p, 'last reference put');
    return;
  }
  if (era === 'async_zap') {
    if (!p.invalid) {
      // kvm_tdp_root_mark_invalid + re-arm one reference for the worker.
      markInvalid(c, p);
      p.refcount = 1;
      p.zap_worker_ref++;
      c.rec.emit('invalidate', `TDP MMU root #${p.id} marked invalid; refcount re-armed for the zap worker`, {
        root: p.id,
        refcount: [0, 1],
      });
      tdp_mmu_schedule_zap_root(c, p);
      return;
    }
    destroyRoot(c, p, 'last reference put');
    return;
  }
  // vcpu_refs: unlink, zap synchronously in the putting thread, free.
  tdp_mmu_unlink_root(c, p);
  tdp_mmu_zap_root(c, p);
  destroyRoot(c, p, 'last reference put');
}

function tdp_mmu_schedule_zap_root(c: Ctx, p: MmuPage): void {
  c.rec.call('tdp_mmu_schedule_zap_root', () => {
    c.s.zap_wq.push(p.id);
    c.rec.emit('queue_zap', `root #${p.id} queued on tdp_mmu_zap_wq`, { root: p.id });
  });
}

/** The async zap worker (E2/E3): runs when the workqueue is flushed or at the end of the statement. */
export function flush_tdp_mmu_zap_wq(c: Ctx): void {
  while (c.s.zap_wq.length > 0) {
    const id = c.s.zap_wq.shift()!;
    const p = page(c, id);
    c.rec.detached('tdp_mmu_zap_root_work', () => {
      if (!p.freed) {
        tdp_mmu_zap_root(c, p);
        p.zap_worker_ref--;
        kvm_tdp_mmu_put_root(c, p, 'the zap worker');
      }
    });
  }
}

/** `kvm_tdp_mmu_invalidate_all_roots` (kvm_mmu_zap_all_fast, VM teardown). */
export function kvm_tdp_mmu_invalidate_all_roots(c: Ctx): void {
  c.rec.call('kvm_tdp_mmu_invalidate_all_roots', () => {
    const k = c.kernel;
    if (k.has('invalidated_roots_off_list')) {
      // Seed 003 (not merged): take a reference, move each root to the caller-local list, mark it invalid.
      const local: number[] = [];
      for (const id of [...c.s.tdp_mmu_roots]) {
        const p = page(c, id);
        if (!kvm_tdp_mmu_get_root(c, p, 'kvm_tdp_mmu_invalidate_all_roots')) continue;
        if (p.freed) continue;
        const before = p.refcount;
        p.refcount++;
        p.zap_worker_ref++;
        c.rec.emit('get', `the zapper takes a reference to root #${id}`, { root: id, refcount: [before, p.refcount] });
        p.on_list = false;
        c.s.tdp_mmu_roots.splice(c.s.tdp_mmu_roots.indexOf(id), 1);
        markInvalid(c, p);
        local.push(id);
        c.rec.emit('invalidate', `root #${id} invalidated and moved off tdp_mmu_roots to the zapper's local list`, {
          root: id,
        });
      }
      if (local.length > 0) c.s.invalidated_roots = { roots: local, resumeAt: c.s.seq + 1 };
      return;
    }
    const era = k.eras.tdp_roots;
    for (const id of c.s.tdp_mmu_roots) {
      const p = page(c, id);
      switch (era) {
        case 'sync_zap_own_ref':
          if (p.invalid) continue;
          markInvalid(c, p);
          p.scheduled_to_zap = true;
          c.rec.emit('invalidate', `root #${id} invalidated and flagged tdp_mmu_scheduled_root_to_zap`, { root: id });
          break;
        case 'async_zap_own_ref':
          if (p.invalid) continue;
          markInvalid(c, p);
          // The worker is gifted the TDP MMU's own reference.
          p.tdp_mmu_ref = false;
          p.zap_worker_ref++;
          c.rec.emit('invalidate', `root #${id} invalidated; the TDP MMU's reference passes to the zap worker`, {
            root: id,
          });
          tdp_mmu_schedule_zap_root(c, p);
          break;
        case 'async_zap': {
          if (p.invalid) continue;
          const before = p.refcount;
          p.refcount++;
          p.zap_worker_ref++;
          c.rec.emit('get', `the zap worker takes a reference to root #${id}`, {
            root: id,
            refcount: [before, p.refcount],
          });
          markInvalid(c, p);
          c.rec.emit('invalidate', `root #${id} invalidated`, { root: id });
          tdp_mmu_schedule_zap_root(c, p);
          break;
        }
        case 'vcpu_refs': {
          // Every root whose refcount can be raised, already-invalid ones included.
          if (p.refcount === 0) continue;
          const before = p.refcount;
          p.refcount++;
          p.zap_worker_ref++;
          c.rec.emit('get', `the zapper takes a reference to root #${id}`, {
            root: id,
            refcount: [before, p.refcount],
          });
          if (!p.invalid) {
            markInvalid(c, p);
            c.rec.emit('invalidate', `root #${id} invalidated`, { root: id });
          }
          break;
        }
      }
    }
  });
}

/** `kvm_tdp_mmu_zap_invalidated_roots`: per era, zap the invalidated roots before zap_all_fast returns. */
export function kvm_tdp_mmu_zap_invalidated_roots(c: Ctx): void {
  c.rec.call('kvm_tdp_mmu_zap_invalidated_roots', () => {
    const k = c.kernel;
    if (k.has('invalidated_roots_off_list')) {
      const pending = c.s.invalidated_roots;
      if (pending) {
        c.rec.emit(
          'queue_zap',
          `the zapper yields mmu_lock with ${pending.roots.map((r) => `#${r}`).join(' ')} still holding SPTEs; ` +
            'it resumes after the next statement',
          { roots: pending.roots },
        );
      }
      return;
    }
    switch (k.eras.tdp_roots) {
      case 'sync_zap_own_ref':
        for (const id of [...c.s.tdp_mmu_roots]) {
          const p = page(c, id);
          if (!p.scheduled_to_zap) continue;
          p.scheduled_to_zap = false;
          tdp_mmu_zap_root(c, p);
          p.tdp_mmu_ref = false;
          kvm_tdp_mmu_put_root(c, p, 'the TDP MMU (its own reference)');
        }
        return;
      case 'async_zap':
      case 'async_zap_own_ref':
        c.rec.call('flush_workqueue', () => flush_tdp_mmu_zap_wq(c));
        return;
      case 'vcpu_refs':
        // Walk invalid roots that still have references, zap and put the zapper's reference.
        for (const id of [...c.s.tdp_mmu_roots]) {
          const p = page(c, id);
          if (!p.invalid || p.zap_worker_ref === 0) continue;
          tdp_mmu_zap_root(c, p);
          p.zap_worker_ref--;
          kvm_tdp_mmu_put_root(c, p, 'the zapper');
        }
    }
  });
}

/** What-if: the yielded zapper resumes and finishes its caller-local list. */
export function resume_yielded_zapper(c: Ctx): void {
  const pending = c.s.invalidated_roots;
  if (!pending || pending.resumeAt > c.s.seq) return;
  c.s.invalidated_roots = null;
  c.rec.detached('kvm_tdp_mmu_zap_invalidated_roots', () => {
    for (const id of pending.roots) {
      const p = page(c, id);
      if (p.freed) continue;
      tdp_mmu_zap_root(c, p);
      p.zap_worker_ref--;
      if (p.tdp_mmu_ref) {
        p.tdp_mmu_ref = false;
        kvm_tdp_mmu_put_root(c, p, 'the TDP MMU (its own reference)');
      }
      if (!p.freed) kvm_tdp_mmu_put_root(c, p, 'the zapper');
    }
  });
}

/** `kvm_mmu_uninit_tdp_mmu` (VM destruction). */
export function kvm_mmu_uninit_tdp_mmu(c: Ctx): void {
  c.rec.call('kvm_mmu_uninit_tdp_mmu', () => {
    const k = c.kernel;
    const era = k.eras.tdp_roots;
    if (era === 'async_zap_own_ref' || era === 'sync_zap_own_ref') {
      kvm_tdp_mmu_invalidate_all_roots(c);
      kvm_tdp_mmu_zap_invalidated_roots(c);
    } else if (era === 'async_zap') {
      c.rec.call('destroy_workqueue', () => flush_tdp_mmu_zap_wq(c));
    }
    if (k.has('invalidated_roots_off_list') && c.s.invalidated_roots) {
      c.s.invalidated_roots.resumeAt = c.s.seq;
      resume_yielded_zapper(c);
    }
    const left = [...c.s.tdp_mmu_roots];
    if (left.length > 0) {
      c.rec.emit('warn', `WARN_ON: tdp_mmu_roots not empty at teardown: ${left.map((r) => `#${r}`).join(' ')}`, {
        roots: left,
      });
    }
  });
}

/**
 * `kvm_tdp_mmu_unmap_gfn_range` (MMU notifier): zap leaf SPTEs of the range in every root of each address
 * space. Which roots it reaches is per era (facts §4.14); returns the number of roots whose SPTEs were
 * zapped (the caller flushes remote TLBs).
 */
export function kvm_tdp_mmu_unmap_gfn_range(c: Ctx, start: bigint, end: bigint): number {
  return c.rec.call('kvm_tdp_mmu_unmap_gfn_range', () => {
    let zapped = 0;
    const range = `[${hex(start)}, ${hex(end)})`;
    const skipInvalid = c.kernel.has('notifier_skips_invalid_roots');
    const offList = c.kernel.has('invalidated_roots_off_list');
    for (const id of c.s.tdp_mmu_roots) {
      const p = page(c, id);
      // What-if: the yield-safe iterator takes a reference on every listed root and WARNs on invalid ones.
      if (offList && p.invalid) {
        kvm_tdp_mmu_get_root(c, p, 'the MMU-notifier root iterator');
        continue;
      }
      if (p.freed) continue;
      if (p.invalid && skipInvalid) {
        if (p.has_sptes) {
          c.rec.emit(
            'hazard',
            `invalid root #${id} is skipped by the yield-safe iterator while it still holds SPTEs for ${range}: ` +
              'the notifier completes with mappings the zapper has not removed yet (use-after-free window)',
            { root: id },
          );
        }
        continue;
      }
      if (!p.has_sptes) continue;
      zapped++;
      c.rec.emit('zap', `zap leaf SPTEs of ${range} in TDP MMU root #${id}`, { root: id });
    }
    const off = c.s.invalidated_roots;
    if (off) {
      const live = off.roots.filter((id) => {
        const p = page(c, id);
        return !p.freed && p.has_sptes;
      });
      if (live.length > 0) {
        c.rec.emit(
          'hazard',
          `roots ${live.map((r) => `#${r}`).join(' ')} are off tdp_mmu_roots while the zapper has yielded: the notifier ` +
            `never sees their SPTEs for ${range}, so the pages can be freed while still mapped (use-after-free)`,
          { roots: live },
        );
      }
    }
    return zapped;
  });
}

/** `kvm_tdp_mmu_zap_all` (mm release): zap the contents of every root; roots stay listed and valid. */
export function kvm_tdp_mmu_zap_all(c: Ctx): void {
  c.rec.call('kvm_tdp_mmu_zap_all', () => {
    for (const id of c.s.tdp_mmu_roots) {
      const p = page(c, id);
      if (!p.freed && p.has_sptes) tdp_mmu_zap_root(c, p);
    }
  });
}

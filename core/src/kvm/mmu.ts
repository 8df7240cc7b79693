/**
 * Per-vCPU MMU context and root bookkeeping (arch/x86/kvm/mmu/mmu.c, facts §2.3.7, §3): kvm_init_mmu,
 * reset/unload/load, kvm_mmu_free_roots, the prev_roots LRU (fast_pgd_switch per era), obsolete-root
 * freeing and kvm_mmu_zap_all_fast.
 */
import {
  init_kvm_nested_mmu_roles,
  init_kvm_softmmu_roles,
  init_kvm_tdp_mmu_roles,
  kvm_mmu_calc_root_page_role,
  type MmuRoles,
  type RoleEnv,
  type RoleRegs,
} from './mmu_role.js';
import { SharedActions } from './actions.js';
import { FixedKeyTree } from '../util/key_tree.js';
import { formatCpuRole, getRoleField } from '../kernel/role_layout.js';
import {
  __kvm_mmu_prepare_zap_page,
  kvm_flush_remote_tlbs,
  kvm_mmu_commit_zap_page,
  kvm_zap_obsolete_pages,
  mmu_alloc_direct_roots,
  mmu_alloc_shadow_roots,
  is_obsolete_sp,
} from './shadow_mmu.js';
import type { Ctx, Hpa, MmuPage, MmuState, RootInfo, VcpuState } from './state.js';
import {
  hex,
  KVM_MMU_NUM_PREV_ROOTS,
  KVM_MMU_ROOT_CURRENT,
  KVM_MMU_ROOT_PREVIOUS,
  KVM_MMU_ROOTS_ALL,
  kvm_make_all_cpus_request,
  kvm_make_request,
  mmuOf,
  page,
  root_to_sp,
  roleDirect,
  stat,
  VALID_PAGE,
} from './state.js';
import {
  kvm_tdp_mmu_invalidate_all_roots,
  kvm_tdp_mmu_put_root,
  kvm_tdp_mmu_zap_invalidated_roots,
  tdp_mmu_enabled,
} from './tdp_mmu.js';
import type { MmuName } from '../kernel/types.js';

export function roleEnv(c: Ctx, v: VcpuState): RoleEnv {
  return { kernel: c.kernel, vm: c.vm, maxphyaddr: v.maxphyaddr, is_smm: v.is_smm, is_guest_mode: v.is_guest_mode };
}

export function roleRegs(v: VcpuState): RoleRegs {
  return { cr0: v.cr0, cr4: v.cr4, efer: v.efer };
}

export const activeMmu = (v: VcpuState): MmuState => mmuOf(v, v.mmu);

// ---------------------------------------------------------------------------------------------------
// Context (re)initialisation

/** Stores freshly computed roles unless they equal the stored ones (the early return of every init path). */
// Keyed by the role's two words, not its text: the text is formatted only when the action is first made.
const REINIT = new SharedActions((vcpu: number, mmu: MmuName, base: number, ext: number) => {
  const role = formatCpuRole(base, ext);
  return { op: 'reinit', detail: `vCPU ${vcpu} ${mmu} re-initialised: cpu role ${role}`, fields: { vcpu, mmu, role } };
});
const REINIT_SKIPPED = new SharedActions((vcpu: number, mmu: MmuName, base: number, ext: number) => {
  const role = formatCpuRole(base, ext);
  return {
    op: 'reinit_skipped',
    detail: `vCPU ${vcpu} ${mmu}: role unchanged (${role}), re-initialisation skipped`,
    fields: { vcpu, mmu, role },
  };
});
const UNLOAD = new SharedActions((vcpu: number, dropped: string) => {
  const roots = dropped.split(' ').map(Number);
  return {
    op: 'unload',
    detail: `vCPU ${vcpu} unloads ${roots.map((r) => `#${r}`).join(' ')}`,
    fields: { vcpu, roots },
  };
});
const FLUSH_AFTER_LOAD = new SharedActions((vcpu: number) => ({
  op: 'flush',
  detail: `vCPU ${vcpu}: flush the current TLB context after loading a root`,
  fields: { vcpu },
}));

export function applyRoles(c: Ctx, v: VcpuState, mmu: MmuState, roles: MmuRoles): void {
  const same =
    mmu.cpu_role.base === roles.cpu_role.base &&
    mmu.cpu_role.ext === roles.cpu_role.ext &&
    mmu.root_role === roles.root_role;
  const { base, ext } = roles.cpu_role;
  if (same) {
    c.rec.emitShared(REINIT_SKIPPED, v.id, mmu.name, base, ext);
    // Seed 001: the role does not capture the guest paging level (no EFER.LMA in the ext role), so the
    // stored level stays stale. Do not fix it up: that is the bug.
    if (mmu.guest_level !== roles.guest_level) {
      c.rec.emit(
        'hazard',
        `MMU context stale: root_level ${mmu.guest_level} but the guest now uses ${levelText(roles.guest_level)} ` +
          '(role unchanged, so kvm_init_mmu kept the old context)',
        { vcpu: v.id, mmu: mmu.name },
      );
    }
    return;
  }
  mmu.cpu_role = { base, ext };
  mmu.root_role = roles.root_role;
  mmu.guest_level = roles.guest_level;
  mmu.root_level = roles.root_level;
  c.rec.emitShared(REINIT, v.id, mmu.name, base, ext);
}

function levelText(level: number): string {
  return level === 0
    ? 'no paging'
    : level === 2
      ? '2-level (32-bit) paging'
      : level === 3
        ? 'PAE paging'
        : `${level}-level paging`;
}

/** `kvm_init_mmu`: recompute the role of the MMU in use; never allocates or frees roots. */
export function kvm_init_mmu(c: Ctx, v: VcpuState): void {
  const saved = c.rec.enter('kvm_init_mmu');
  if (v.walk_mmu === 'nested_mmu') {
    const inner = c.rec.enter('init_kvm_nested_mmu');
    applyRoles(c, v, v.nested_mmu, rolesOf(c, v, init_kvm_nested_mmu_roles));
    c.rec.leave(inner);
  } else if (c.vm.tdp) {
    const inner = c.rec.enter('init_kvm_tdp_mmu');
    applyRoles(c, v, v.root_mmu, rolesOf(c, v, init_kvm_tdp_mmu_roles));
    c.rec.leave(inner);
  } else {
    const inner = c.rec.enter('init_kvm_softmmu');
    applyRoles(c, v, v.root_mmu, rolesOf(c, v, init_kvm_softmmu_roles));
    c.rec.leave(inner);
  }
  c.rec.leave(saved);
}

/**
 * What `init` computes for the vCPU's current role inputs. Each init path is a pure function of the kernel, the
 * VM's configuration and the vCPU's MAXPHYADDR, SMM and guest-mode flags and CR0/CR4/EFER (RoleEnv, RoleRegs);
 * a scenario goes back and forth between a handful of these, re-initialising on every SMI, RSM and CR0.WP or
 * EFER write, so each combination is computed once and the (frozen) roles are shared after. Bounded (FixedKeyTree).
 */
function rolesOf(c: Ctx, v: VcpuState, init: InitRoles): MmuRoles {
  // The small inputs as one number: MAXPHYADDR (≤ 52), SMM, guest mode and which init path.
  const flags = (v.maxphyaddr << 4) | (v.is_smm ? 8 : 0) | (v.is_guest_mode ? 4 : 0) | INIT_PATHS.indexOf(init);
  const roleCache = c.rec.caches.roles as FixedKeyTree<MmuRoles>;
  const known = roleCache.getN(c.kernel, 5, c.vm, flags, v.cr0, v.cr4, v.efer);
  if (known) return known;
  const roles = init(roleEnv(c, v), roleRegs(v));
  Object.freeze(roles.cpu_role);
  roleCache.set(c.kernel, [c.vm, flags, v.cr0, v.cr4, v.efer], Object.freeze(roles));
  return roles;
}
type InitRoles = (env: RoleEnv, regs: RoleRegs) => MmuRoles;
const INIT_PATHS: readonly InitRoles[] = [init_kvm_nested_mmu_roles, init_kvm_tdp_mmu_roles, init_kvm_softmmu_roles];

/** `kvm_mmu_reset_context`: always unloads, even when the role does not change. */
export function kvm_mmu_reset_context(c: Ctx, v: VcpuState): void {
  const saved = c.rec.enter('kvm_mmu_reset_context');
  kvm_mmu_unload(c, v);
  kvm_init_mmu(c, v);
  c.rec.leave(saved);
}

/** `kvm_mmu_unload`: free every slot of root_mmu and guest_mmu. */
export function kvm_mmu_unload(c: Ctx, v: VcpuState): void {
  const saved = c.rec.enter('kvm_mmu_unload');
  const start = c.rec.mark();
  const fromRoot = kvm_mmu_free_roots(c, v, v.root_mmu, KVM_MMU_ROOTS_ALL);
  const fromGuest = kvm_mmu_free_roots(c, v, v.guest_mmu, KVM_MMU_ROOTS_ALL);
  const dropped = fromGuest.length === 0 ? fromRoot : fromRoot.concat(fromGuest);
  if (dropped.length > 0) {
    c.rec.emitSharedBefore(start, UNLOAD, v.id, dropped.join(' '));
  }
  c.rec.leave(saved);
}

// ---------------------------------------------------------------------------------------------------
// Freeing roots

/** `kvm_mmu_free_roots`: drop the vCPU's references in the requested slots; returns the roots dropped. */
export function kvm_mmu_free_roots(c: Ctx, v: VcpuState, mmu: MmuState, roots_to_free: number): readonly number[] {
  const wantCurrent = (roots_to_free & KVM_MMU_ROOT_CURRENT) !== 0 && VALID_PAGE(mmu.root.hpa);
  let any = wantCurrent;
  for (let i = 0; i < KVM_MMU_NUM_PREV_ROOTS; i++) {
    if (roots_to_free & KVM_MMU_ROOT_PREVIOUS(i) && VALID_PAGE(mmu.prev_roots[i]!.hpa)) any = true;
  }
  if (!any) return NOTHING_DROPPED;
  const saved = c.rec.enter('kvm_mmu_free_roots');
  const dropped: number[] = [];
  const invalid_list: MmuPage[] = [];
  for (let i = 0; i < KVM_MMU_NUM_PREV_ROOTS; i++) {
    const slot = mmu.prev_roots[i]!;
    if (roots_to_free & KVM_MMU_ROOT_PREVIOUS(i) && VALID_PAGE(slot.hpa)) {
      mmu_free_root_page(c, v, mmu, slot, PREV_ROOT_SLOTS[i] as string, invalid_list, dropped);
    }
  }
  if (wantCurrent) {
    const hpa = mmu.root.hpa;
    if (hpa === 'pae_root' || hpa === 'pml4_root' || hpa === 'pml5_root') {
      for (let i = 0; i < 4; i++) {
        const id = mmu.pae_root[i];
        if (id === null || id === undefined) continue;
        const entry: RootInfo = { hpa: id, pgd: 0n };
        mmu_free_root_page(c, v, mmu, entry, PAE_ROOT_SLOTS[i] as string, invalid_list, dropped);
        mmu.pae_root[i] = null;
      }
    } else if (typeof hpa === 'number') {
      mmu_free_root_page(c, v, mmu, mmu.root, 'root', invalid_list, dropped);
    } else if (hpa === 'dummy') {
      // v6.6+: nothing to clean up for a dummy root.
      c.rec.emitShared(DROP_DUMMY, v.id, mmu.name);
    }
    mmu.root = { hpa: null, pgd: 0n };
  }
  kvm_mmu_commit_zap_page(c, invalid_list);
  c.rec.leave(saved);
  return dropped;
}

const NOTHING_DROPPED: readonly number[] = Object.freeze([]);
const DROP_DUMMY = new SharedActions((vcpu: number, mmu: MmuName) => ({
  op: 'dummy_root',
  detail: `vCPU ${vcpu} ${mmu} drops the dummy root (no shadow page: nothing to clean up)`,
  fields: { vcpu, mmu },
}));
/** Slot names, made once: they go into the keys of shared actions (see whoHolds). */
const PREV_ROOT_SLOTS: readonly string[] = Array.from({ length: KVM_MMU_NUM_PREV_ROOTS }, (_, i) => `prev_roots[${i}]`);
const PAE_ROOT_SLOTS: readonly string[] = Array.from({ length: 4 }, (_, i) => `pae_root[${i}]`);

/**
 * `vCPU N (mmu.slot)`, the holder of a root reference: one string per holder, so that the shared actions keyed by
 * it compare one string by identity instead of building and comparing a new one per put.
 */
function whoHolds(c: Ctx, v: VcpuState, mmu: MmuState, slotName: string): string {
  const holders = c.rec.caches.holders;
  let who = holders.getN(v.id, 2, mmu.name, slotName);
  if (who === undefined) holders.set(v.id, [mmu.name, slotName], (who = `vCPU ${v.id} (${mmu.name}.${slotName})`));
  return who;
}

/** `mmu_free_root_page`: TDP MMU page → put; shadow page → --root_count, zap if it was already invalid. */
function mmu_free_root_page(
  c: Ctx,
  v: VcpuState,
  mmu: MmuState,
  slot: RootInfo,
  slotName: string,
  invalid_list: MmuPage[],
  dropped: number[],
): void {
  const saved = c.rec.enter('mmu_free_root_page');
  const sp = root_to_sp(c, slot.hpa);
  slot.hpa = null;
  if (sp) {
    dropped.push(sp.id);
    const who = whoHolds(c, v, mmu, slotName);
    if (sp.tdp_mmu_page) {
      kvm_tdp_mmu_put_root(c, sp, who);
    } else if (sp.refcount <= 0) {
      // root_count is a plain int in the kernel; mmu_free_root_page never sees it at 0 unless references leak.
      c.rec.emit('warn', `${who} drops a root reference to shadow page #${sp.id} whose root_count is already 0`, {
        vcpu: v.id,
        mmu: mmu.name,
        root: sp.id,
        slot: slotName,
      });
    } else {
      const before = sp.refcount;
      sp.refcount--;
      c.rec.emit('put', `${who} drops its root reference to shadow page #${sp.id}`, {
        vcpu: v.id,
        mmu: mmu.name,
        root: sp.id,
        slot: slotName,
        refcount: [before, sp.refcount],
      });
      if (sp.refcount === 0 && sp.invalid)
        c.rec.call('kvm_mmu_prepare_zap_page', () => __kvm_mmu_prepare_zap_page(c, sp, invalid_list));
    }
  }
  c.rec.leave(saved);
}

/** `is_obsolete_root`: roots without a page of their own count as obsolete. */
function is_obsolete_root(c: Ctx, hpa: Hpa): boolean {
  if (!VALID_PAGE(hpa)) return false;
  const sp = root_to_sp(c, hpa);
  if (!sp) return true;
  return is_obsolete_sp(c, sp);
}

/** `kvm_mmu_free_obsolete_roots` (E2+, KVM_REQ_MMU_FREE_OBSOLETE_ROOTS). */
export function kvm_mmu_free_obsolete_roots(c: Ctx, v: VcpuState): void {
  c.rec.call('kvm_mmu_free_obsolete_roots', () => {
    const dropped: number[] = [];
    for (const mmu of [v.root_mmu, v.guest_mmu]) {
      let mask = 0;
      if (is_obsolete_root(c, mmu.root.hpa)) mask |= KVM_MMU_ROOT_CURRENT;
      for (let i = 0; i < KVM_MMU_NUM_PREV_ROOTS; i++) {
        if (is_obsolete_root(c, mmu.prev_roots[i]!.hpa)) mask |= KVM_MMU_ROOT_PREVIOUS(i);
      }
      if (mask) dropped.push(...c.rec.call('__kvm_mmu_free_obsolete_roots', () => kvm_mmu_free_roots(c, v, mmu, mask)));
    }
    if (dropped.length > 0) {
      c.rec.emit('unload', `vCPU ${v.id} drops obsolete roots ${dropped.map((r) => `#${r}`).join(' ')}`, {
        vcpu: v.id,
        roots: dropped,
      });
    }
  });
}

/** `kvm_mmu_free_guest_mode_roots`: prev slots holding L2 (guest_mode) roots or no page at all. */
export function kvm_mmu_free_guest_mode_roots(c: Ctx, v: VcpuState, mmu: MmuState): void {
  c.rec.call('kvm_mmu_free_guest_mode_roots', () => {
    if (getRoleField(c.kernel, mmu.root_role, 'guest_mode')) {
      c.rec.emit('warn', `WARN_ON_ONCE: ${mmu.name} current role is guest_mode`, { vcpu: v.id, mmu: mmu.name });
    }
    let mask = 0;
    for (let i = 0; i < KVM_MMU_NUM_PREV_ROOTS; i++) {
      const hpa = mmu.prev_roots[i]!.hpa;
      if (!VALID_PAGE(hpa)) continue;
      const sp = root_to_sp(c, hpa);
      if (!sp || getRoleField(c.kernel, sp.role, 'guest_mode')) mask |= KVM_MMU_ROOT_PREVIOUS(i);
    }
    kvm_mmu_free_roots(c, v, mmu, mask);
  });
}

// ---------------------------------------------------------------------------------------------------
// The prev_roots LRU (facts §3.4, §3.5)

/** `is_root_usable`: a page-backed slot with the exact role, and (direct or the same pgd). */
export function is_root_usable(c: Ctx, slot: RootInfo, pgd: bigint, role: number): boolean {
  const sp = root_to_sp(c, slot.hpa);
  if (!sp) return false;
  if (!roleDirect(role) && slot.pgd !== pgd) return false;
  return sp.role === role;
}

function emitHit(c: Ctx, v: VcpuState, mmu: MmuState, slotName: string): void {
  const id = mmu.root.hpa as number;
  if (slotName !== 'root') stat(c, 'prev_root_hits');
  c.rec.emit(
    'cache_hit',
    slotName === 'root'
      ? `current root #${id} of ${mmu.name} is usable for the new pgd`
      : `root #${id} found in ${mmu.name}.${slotName} and made current`,
    { vcpu: v.id, mmu: mmu.name, root: id, slot: slotName },
  );
}

/**
 * A CR3 switch (or nested VM-Enter with a new EPTP/nCR3) that finds no usable cached root: say so, and where the
 * old current root went (`rotated`: its id, now in prev_roots[0]; null when the slot held no root).
 */
function emitMiss(c: Ctx, v: VcpuState, mmu: MmuState, pgd: bigint, rotated: Hpa): void {
  const sp = rotated === null ? undefined : root_to_sp(c, rotated);
  const where = sp ? `; root #${sp.id} moves to ${mmu.name}.prev_roots[0]` : '';
  const fields: Parameters<typeof c.rec.emit>[2] = { vcpu: v.id, mmu: mmu.name, slot: 'prev_roots[0]' };
  if (sp) fields.root = sp.id;
  c.rec.emit('cache_miss', `no cached root of ${mmu.name} for pgd ${hex(pgd)}${where}`, fields);
}

function emitEvict(c: Ctx, v: VcpuState, mmu: MmuState): void {
  const sp = root_to_sp(c, mmu.root.hpa);
  if (!sp) return;
  c.rec.emit('evict', `LRU victim: root #${sp.id} (was prev_roots[2]) leaves the ${mmu.name} cache`, {
    vcpu: v.id,
    mmu: mmu.name,
    root: sp.id,
    slot: 'prev_roots[2]',
  });
}

/** E1 `cached_root_available`: rotate the current slot through prev_roots until a usable root is found. */
function cached_root_available(c: Ctx, v: VcpuState, mmu: MmuState, pgd: bigint, role: number): boolean {
  return c.rec.call('cached_root_available', () => {
    const old = mmu.root.hpa;
    let root: RootInfo = { ...mmu.root };
    if (is_root_usable(c, root, pgd, role)) {
      emitHit(c, v, mmu, 'root');
      return true;
    }
    let i = 0;
    for (; i < KVM_MMU_NUM_PREV_ROOTS; i++) {
      const tmp = mmu.prev_roots[i]!;
      mmu.prev_roots[i] = root;
      root = tmp;
      if (is_root_usable(c, root, pgd, role)) break;
    }
    mmu.root = root;
    if (i < KVM_MMU_NUM_PREV_ROOTS) {
      emitHit(c, v, mmu, PREV_ROOT_SLOTS[i] as string);
      return true;
    }
    // Miss: the old LRU entry is now current and is freed by the caller. An invalid old current slot
    // was rotated into prev_roots[0] all the same, wasting a slot (the ≤v5.17 quirk).
    emitMiss(c, v, mmu, pgd, old);
    emitEvict(c, v, mmu);
    return false;
  });
}

/** E2+ `cached_root_find_and_keep_current`. */
function cached_root_find_and_keep_current(c: Ctx, v: VcpuState, mmu: MmuState, pgd: bigint, role: number): boolean {
  return c.rec.call('cached_root_find_and_keep_current', () => {
    if (is_root_usable(c, mmu.root, pgd, role)) {
      emitHit(c, v, mmu, 'root');
      return true;
    }
    const old = mmu.root.hpa;
    for (let i = 0; i < KVM_MMU_NUM_PREV_ROOTS; i++) {
      const tmp = mmu.root;
      mmu.root = mmu.prev_roots[i]!;
      mmu.prev_roots[i] = tmp;
      if (is_root_usable(c, mmu.root, pgd, role)) {
        emitHit(c, v, mmu, PREV_ROOT_SLOTS[i] as string);
        return true;
      }
    }
    emitMiss(c, v, mmu, pgd, old);
    emitEvict(c, v, mmu);
    kvm_mmu_free_roots(c, v, mmu, KVM_MMU_ROOT_CURRENT);
    return false;
  });
}

/** E2+ `cached_root_find_without_current`. */
function cached_root_find_without_current(c: Ctx, v: VcpuState, mmu: MmuState, pgd: bigint, role: number): boolean {
  return c.rec.call('cached_root_find_without_current', () => {
    let i = 0;
    for (; i < KVM_MMU_NUM_PREV_ROOTS; i++) if (is_root_usable(c, mmu.prev_roots[i]!, pgd, role)) break;
    if (i === KVM_MMU_NUM_PREV_ROOTS) {
      emitMiss(c, v, mmu, pgd, null);
      return false;
    }
    const hitIndex = i;
    const hit = mmu.prev_roots[i]!;
    mmu.prev_roots[i] = mmu.root;
    mmu.root = hit;
    for (; i < KVM_MMU_NUM_PREV_ROOTS - 1; i++) mmu.prev_roots[i] = mmu.prev_roots[i + 1]!;
    mmu.prev_roots[KVM_MMU_NUM_PREV_ROOTS - 1] = { hpa: null, pgd: mmu.prev_roots[KVM_MMU_NUM_PREV_ROOTS - 1]!.pgd };
    emitHit(c, v, mmu, `prev_roots[${hitIndex}]`);
    return true;
  });
}

/** `fast_pgd_switch` per era of the cached-root lookup (`kernel.eras.prev_roots`). */
function fast_pgd_switch(c: Ctx, v: VcpuState, mmu: MmuState, pgd: bigint, role: number): boolean {
  return c.rec.call('fast_pgd_switch', () => {
    if (c.kernel.eras.prev_roots === 'root_role_without_current') {
      // Roots without a page of their own (PAE/special) never enter the cache.
      if (VALID_PAGE(mmu.root.hpa) && !root_to_sp(c, mmu.root.hpa)) kvm_mmu_free_roots(c, v, mmu, KVM_MMU_ROOT_CURRENT);
      if (VALID_PAGE(mmu.root.hpa)) return cached_root_find_and_keep_current(c, v, mmu, pgd, role);
      return cached_root_find_without_current(c, v, mmu, pgd, role);
    }
    // Before 5499ea73e7db: only 64-bit hosts + 64-bit guests, judged by the MMU's current levels.
    if (mmu.root_level >= 4 && mmu.guest_level >= 4) return cached_root_available(c, v, mmu, pgd, role);
    return false;
  });
}

/** `kvm_mmu_new_pgd` on vcpu->arch.mmu (≤v5.17: `__kvm_mmu_new_pgd` with kvm_mmu_calc_root_page_role). */
export function kvm_mmu_new_pgd(c: Ctx, v: VcpuState, pgd: bigint, role?: number): void {
  c.rec.call('kvm_mmu_new_pgd', () => {
    const mmu = activeMmu(v);
    if (c.kernel.eras.prev_roots === 'base_role') {
      const new_role = role ?? kvm_mmu_calc_root_page_role(roleEnv(c, v), roleRegs(v));
      c.rec.call('__kvm_mmu_new_pgd', () => {
        if (!fast_pgd_switch(c, v, mmu, pgd, new_role)) {
          kvm_mmu_free_roots(c, v, mmu, KVM_MMU_ROOT_CURRENT);
          return;
        }
        kvm_make_request(c, v, 'KVM_REQ_LOAD_MMU_PGD');
        clearRootFlooding(c, mmu, new_role);
      });
      return;
    }
    const new_role = role ?? mmu.root_role;
    if (!fast_pgd_switch(c, v, mmu, pgd, new_role)) return;
    kvm_make_request(c, v, 'KVM_REQ_LOAD_MMU_PGD');
    clearRootFlooding(c, mmu, new_role);
  });
}

/** The end of a cached-root hit in kvm_mmu_new_pgd: an indirect root is in use again (__clear_sp_write_flooding_count). */
function clearRootFlooding(c: Ctx, mmu: MmuState, role: number): void {
  if (roleDirect(role)) return;
  const sp = root_to_sp(c, mmu.root.hpa);
  if (sp) sp.write_flooding_count = 0;
}

// ---------------------------------------------------------------------------------------------------
// Loading

/**
 * `kvm_mmu_reload` → `kvm_mmu_load`: build or find a root when the current slot is empty. False when the load
 * fails: a guest root outside every memslot before v6.6 (KVM_REQ_TRIPLE_FAULT is pending), or -ENOSPC (the
 * shadow-page budget is spent on held roots: KVM_RUN returns the error). A dummy root (v6.6+) is a successful
 * load: KVM goes on to load the PGD and flush.
 */
export function kvm_mmu_reload(c: Ctx, v: VcpuState): boolean {
  const mmu = activeMmu(v);
  if (VALID_PAGE(mmu.root.hpa)) return true;
  const saved = c.rec.enter('kvm_mmu_load');
  const loaded = roleDirect(mmu.root_role) ? mmu_alloc_direct_roots(c, v, mmu) : mmu_alloc_shadow_roots(c, v, mmu);
  if (loaded) c.rec.emitShared(FLUSH_AFTER_LOAD, v.id);
  c.rec.leave(saved);
  return loaded;
}

/**
 * The guest runs on the current root: leaf SPTEs get populated (used by MMU-notifier zaps), and the shadow page
 * faults that populate them walk the root, which clears its write-flooding count (paging_tmpl.h FNAME(fetch) →
 * clear_sp_write_flooding_count on every level it walks).
 */
export function markRunning(c: Ctx, v: VcpuState): void {
  const mmu = activeMmu(v);
  if (typeof mmu.root.hpa === 'number') {
    const p = page(c, mmu.root.hpa);
    p.has_sptes = true;
    p.write_flooding_count = 0;
    return;
  }
  for (const id of mmu.pae_root)
    if (id !== null) {
      const p = page(c, id);
      p.has_sptes = true;
      p.write_flooding_count = 0;
    }
}

// ---------------------------------------------------------------------------------------------------
// Fast zap of everything (memslot DELETE/MOVE, MMIO generation wrap)

/** `kvm_mmu_zap_all_fast`. */
export function kvm_mmu_zap_all_fast(c: Ctx): void {
  c.rec.call('kvm_mmu_zap_all_fast', () => {
    // slots_lock serialises zappers: a yielded zapper (what-if) finishes before another can start.
    if (c.s.invalidated_roots) c.s.invalidated_roots.resumeAt = c.s.seq;
    c.s.mmu_valid_gen = c.s.mmu_valid_gen ? 0 : 1;
    if (tdp_mmu_enabled(c)) kvm_tdp_mmu_invalidate_all_roots(c);
    if (c.kernel.has('free_obsolete_roots')) {
      kvm_make_all_cpus_request(c, 'KVM_REQ_MMU_FREE_OBSOLETE_ROOTS', 'kvm_mmu_zap_all_fast');
    } else {
      c.rec.call('kvm_reload_remote_mmus', () =>
        kvm_make_all_cpus_request(c, 'KVM_REQ_MMU_RELOAD', 'kvm_mmu_zap_all_fast'),
      );
    }
    kvm_zap_obsolete_pages(c);
    if (tdp_mmu_enabled(c)) kvm_tdp_mmu_zap_invalidated_roots(c);
  });
}

/**
 * `kvm_zap_gfn_range(kvm, 0, ~0)`: zap the leaf SPTEs of every gfn, through the rmaps (shadow MMU) and in every
 * TDP MMU root; roots themselves are neither freed nor invalidated, and nothing asks a vCPU to reload.
 */
export function kvm_zap_gfn_range_all(c: Ctx): void {
  c.rec.call('kvm_zap_gfn_range', () => {
    let flush = false;
    for (const id of c.s.live) {
      const p = page(c, id);
      if (!p.has_sptes) continue;
      flush = true;
      c.rec.emit('zap', `zap the leaf SPTEs of every gfn under root #${id}; the root stays`, { root: id });
    }
    if (flush) kvm_flush_remote_tlbs(c);
  });
}

export { mmuOf };

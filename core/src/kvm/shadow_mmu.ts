/**
 * Shadow pages used as roots (arch/x86/kvm/mmu/mmu.c, facts §6): the per-VM hash, root_count, obsolete
 * generations, zapping, and root allocation for shadow paging, nested EPT/NPT (guest_mmu) and the legacy
 * direct MMU (tdp_mmu=off).
 *
 * Model limits (documented in the report and docs):
 *   - Only root pages are modelled; children, unsync pages and leaf SPTEs are not. An emulated guest write
 *     (kvm_mmu_track_write) therefore reaches only the root shadow pages of the written frame, and the model does
 *     not know whether the entry it covers was present (no TLB flush for a write that zaps no page).
 *   - Guest memory is modelled only as far as roots need it: which gfns are in a visible memslot (`vm memory=`,
 *     `memslot create N gfn= pages=`) and the four PDPTEs of a PAE PDPT (`pdpt ADDR = …`). A PDPT the scenario
 *     does not declare holds four present PDPTEs pointing to distinct page directories determined by its address:
 *     PDPTE i of the PDPT at CR3 maps the directory at gfn (CR3 >> 5) * 4 + i, so two different PDPT addresses
 *     never share a directory.
 *   - The shadow-page budget (n_max_mmu_pages) counts root pages only, since nothing else is modelled; its default
 *     (memslot pages / 50, at least 64) is taken as out of reach until KVM_SET_NR_MMU_PAGES sets a limit.
 */
import { formatRole, getRoleField, setRoleField } from '../kernel/role_layout.js';
import type { Ctx, MmuPage, MmuState, VcpuState } from './state.js';
import {
  hex,
  kvm_make_all_cpus_request,
  kvm_make_request,
  kvm_vcpu_is_visible_gfn,
  page,
  roleDirect,
  roleLevel,
  stat,
} from './state.js';
import { X86_CR4_PAE } from '../kernel/regs.js';
import {
  describeRole,
  destroyRoot,
  kvm_tdp_mmu_get_vcpu_root_hpa,
  markInvalid,
  newPage,
  tdp_mmu_enabled,
} from './tdp_mmu.js';
import type { RootKind } from '../kernel/types.js';
import type { Kernel } from '../kernel/behaviours.js';

const PT32_ROOT_LEVEL = 2;

const hashKey = (gfn: bigint, role: number): string => `${gfn}:${role}`;

/** `is_obsolete_sp`: zapped, or (shadow MMU only) from a previous mmu_valid_gen. */
export function is_obsolete_sp(c: Ctx, p: MmuPage): boolean {
  return p.invalid || (!p.tdp_mmu_page && p.mmu_valid_gen !== c.s.mmu_valid_gen);
}

/**
 * `kvm_mmu_get_shadow_page` (before v6.0 `kvm_mmu_get_page`): hash lookup by gfn + exact role (skipping zapped and
 * obsolete pages), else allocate and count `mmu_cache_miss`.
 */
export function kvm_mmu_get_shadow_page(
  c: Ctx,
  gfn: bigint,
  role: number,
  kind: RootKind,
): { p: MmuPage; created: boolean } {
  const bucket = c.s.mmu_page_hash.get(hashKey(gfn, role));
  if (bucket) {
    for (const id of bucket) {
      const p = page(c, id);
      if (!p.freed && !is_obsolete_sp(c, p)) {
        // The page is used again: forget the emulated writes it saw (unsync and flooding are indirect-only).
        if (!getRoleField(c.kernel, role, 'direct')) p.write_flooding_count = 0;
        return { p, created: false };
      }
    }
  }
  stat(c, 'mmu_cache_miss');
  const p = newPage(c, { kind, role, gfn, tdp_mmu_page: false, refcount: 0, tdp_mmu_ref: false });
  if (bucket) bucket.push(p.id);
  else c.s.mmu_page_hash.set(hashKey(gfn, role), [p.id]);
  return { p, created: true };
}

/** The kernel's name for the lookup: 876546436db9 (v6.0) renamed kvm_mmu_get_page to kvm_mmu_get_shadow_page. */
export function shadowPageLookupName(k: Kernel): 'kvm_mmu_get_shadow_page' | 'kvm_mmu_get_page' {
  return k.has('get_shadow_page_rename') ? 'kvm_mmu_get_shadow_page' : 'kvm_mmu_get_page';
}

/** `mmu_alloc_root`: the shadow page for the root role at this gfn/level/quadrant, then `++root_count`. */
export function mmu_alloc_root(
  c: Ctx,
  v: VcpuState,
  mmu: MmuState,
  gfn: bigint,
  quadrant: number,
  level: number,
  kind: RootKind,
): number {
  return c.rec.call('mmu_alloc_root', () => {
    const k = c.kernel;
    let role = setRoleField(k, mmu.root_role, 'level', level);
    role = setRoleField(k, role, 'quadrant', quadrant);
    // v5.15 kvm_mmu_get_page: a direct page always gets gpte_is_8_bytes = 1, whatever the MMU role says (with
    // paging off it says 0). Removed in v5.17 (41e35604eaff, with `has_4_byte_gpte`), where the role is 0 anyway.
    if (!k.has('has_4_byte_gpte') && getRoleField(k, role, 'direct'))
      role = setRoleField(k, role, 'gpte_is_8_bytes', 1);
    const { p, created } = c.rec.call(shadowPageLookupName(k), () => kvm_mmu_get_shadow_page(c, gfn, role, kind));
    const before = p.refcount;
    p.refcount++;
    const what = `shadow page #${p.id} (gfn ${hex(gfn)}, ${describeRole(c, role)})`;
    const fields = {
      vcpu: v.id,
      mmu: mmu.name,
      root: p.id,
      refcount: [before, p.refcount] as [number, number],
      role: formatRole(role),
    };
    if (created) {
      c.rec.emit('alloc', `allocate ${what} as a root for vCPU ${v.id}, root_count ${p.refcount}`, fields);
    } else {
      stat(c, 'root_reuses');
      c.rec.emit('reuse', `${what} found in mmu_page_hash; vCPU ${v.id} takes a root reference`, fields);
    }
    return p.id;
  });
}

function shadowKind(c: Ctx, mmu: MmuState, pae: boolean): RootKind {
  if (mmu.name === 'guest_mmu') return c.vm.vendor === 'intel' ? 'nested_ept' : 'nested_npt';
  return pae ? 'pae' : 'shadow';
}

/**
 * `mmu_alloc_direct_roots`: TDP MMU root, or legacy direct shadow pages (tdp_mmu=off, paging off). False when
 * make_mmu_pages_available found no room (-ENOSPC): nothing is allocated.
 */
export function mmu_alloc_direct_roots(c: Ctx, v: VcpuState, mmu: MmuState): boolean {
  const saved = c.rec.enter('mmu_alloc_direct_roots');
  const level = roleLevel(mmu.root_role);
  // dab285e4ec73 (v6.9) moved the TDP MMU's root allocation ahead of make_mmu_pages_available; before it, loading
  // a TDP root could recycle shadow pages (nested guest_mmu roots) although TDP MMU pages never count.
  const tdpFirst = tdp_mmu_enabled(c) && c.kernel.has('tdp_mmu_alloc_root');
  if (!tdpFirst && !make_mmu_pages_available(c)) {
    c.rec.leave(saved);
    return false;
  }
  if (tdp_mmu_enabled(c)) {
    mmu.root = { hpa: kvm_tdp_mmu_get_vcpu_root_hpa(c, v, mmu), pgd: 0n };
  } else if (level >= 4) {
    mmu.root = { hpa: mmu_alloc_root(c, v, mmu, 0n, 0, level, 'shadow'), pgd: 0n };
  } else {
    // Four direct PAE roots, each covering 1 GiB of guest physical memory.
    for (let i = 0; i < 4; i++) {
      mmu.pae_root[i] = mmu_alloc_root(c, v, mmu, BigInt(i) << 18n, 0, PT32_ROOT_LEVEL, 'pae');
    }
    mmu.root = { hpa: 'pae_root', pgd: 0n };
  }
  c.rec.leave(saved);
  return true;
}

/** The guest table root the MMU shadows: L1/L2 CR3 for root_mmu, the EPTP / nCR3 for guest_mmu. */
export function guestPgd(v: VcpuState, mmu: MmuState): bigint {
  if (mmu.name === 'guest_mmu' && v.nested) return v.nested.ept ? v.nested.eptp : v.nested.ncr3;
  return v.cr3;
}

/** Page directory behind PDPTE i of an undeclared PDPT (model assumption, see the file comment). */
export function pae_pdpte_gfn(cr3: bigint, i: number): bigint {
  return ((cr3 & 0xffffffe0n) >> 5n) * 4n + BigInt(i);
}

export const PT_PRESENT_MASK = 1n;
const PDPTE_ADDR_MASK = 0x000ffffffffff000n;

/** The guest-physical address of the PDPT a PAE CR3 points to (bits 4:0 are ignored). */
export const pdptAddress = (cr3: bigint): bigint => cr3 & ~0x1fn;

/**
 * The four PDPTEs in guest memory at the PDPT `cr3` points to: the ones a `pdpt` statement declared, else four
 * present entries for the model's default directories (`declared` false: no reserved bits are checked on those).
 */
export function guestPdptes(c: Ctx, cr3: bigint): { entries: readonly bigint[]; declared: boolean } {
  const declared = c.s.pdpts.get(pdptAddress(cr3));
  if (declared) return { entries: declared, declared: true };
  const entries: bigint[] = [];
  for (let i = 0; i < 4; i++) entries.push((pae_pdpte_gfn(cr3, i) << 12n) | PT_PRESENT_MASK);
  return { entries, declared: false };
}

/** `mmu->get_pdptr`: root_mmu reads the PDPTRs load_pdptrs cached (when cached for this CR3); guest_mmu reads L1 memory. */
function get_pdptrs(c: Ctx, v: VcpuState, mmu: MmuState, pgd: bigint): readonly bigint[] {
  if (mmu.name === 'root_mmu' && v.pdptrs && v.pdptrs.cr3 === pgd) return v.pdptrs.entries;
  return guestPdptes(c, pgd).entries;
}

/**
 * A guest root outside every visible memslot: up to v6.5 `mmu_check_root` raises KVM_REQ_TRIPLE_FAULT and the load
 * fails (false); from v6.6 (`dummy_root`) the root slot gets the dummy root and the load succeeds (true).
 */
function invisibleRoot(c: Ctx, v: VcpuState, mmu: MmuState, gfn: bigint, what: string): boolean {
  if (c.kernel.has('dummy_root')) {
    mmu.root = { hpa: 'dummy', pgd: 0n };
    c.rec.emit(
      'dummy_root',
      `${what} at gfn ${hex(gfn)} is outside every memslot: vCPU ${v.id} ${mmu.name} gets the dummy root (the zero page, no shadow page)`,
      { vcpu: v.id, mmu: mmu.name },
    );
    return true;
  }
  c.rec.call('mmu_check_root', () =>
    kvm_make_request(c, v, 'KVM_REQ_TRIPLE_FAULT', `${what} at gfn ${hex(gfn)} is outside every memslot`),
  );
  return false;
}

/**
 * `mmu_alloc_shadow_roots`: one root for 4/5-level guest tables, else four PAE roots (a non-present PDPTE gets
 * none). False when the guest root (or a PAE PDPTE's directory) is outside every memslot and, before v6.6, the
 * load fails (KVM_REQ_TRIPLE_FAULT); from v6.6 such a root is the dummy root. Also false on -ENOSPC (the
 * shadow-page budget is spent on held roots: make_mmu_pages_available runs after the root checks, as in the kernel).
 */
export function mmu_alloc_shadow_roots(c: Ctx, v: VcpuState, mmu: MmuState): boolean {
  return c.rec.call('mmu_alloc_shadow_roots', () => {
    const pgd = guestPgd(v, mmu);
    const gfn = (pgd & 0x000ffffffffff000n) >> 12n;
    if (!kvm_vcpu_is_visible_gfn(c, gfn)) return invisibleRoot(c, v, mmu, gfn, rootWhat(v, mmu));
    const pae = mmu.guest_level === 3;
    let pdptrs: readonly bigint[] = NO_PDPTRS;
    if (pae) {
      pdptrs = get_pdptrs(c, v, mmu, pgd);
      let copy: bigint[] | undefined;
      for (let i = 0; i < 4; i++) {
        const e = pdptrs[i] ?? 0n;
        if (!(e & PT_PRESENT_MASK)) continue;
        const g = (e & PDPTE_ADDR_MASK) >> 12n;
        if (kvm_vcpu_is_visible_gfn(c, g)) continue;
        // v6.6+: such a PDPTE is treated as not present; before, mmu_check_root fails the whole load.
        if (!c.kernel.has('dummy_root')) return invisibleRoot(c, v, mmu, g, `PDPTE ${i}'s page directory`);
        copy ??= [...pdptrs];
        copy[i] = 0n;
      }
      if (copy) pdptrs = copy;
    }
    if (!make_mmu_pages_available(c)) return false;
    if (mmu.guest_level >= 4) {
      mmu.root = { hpa: mmu_alloc_root(c, v, mmu, gfn, 0, mmu.root_level, shadowKind(c, mmu, false)), pgd };
      return true;
    }
    for (let i = 0; i < 4; i++) {
      let g = gfn;
      if (pae) {
        const e = pdptrs[i] ?? 0n;
        if (!(e & PT_PRESENT_MASK)) {
          mmu.pae_root[i] = null;
          continue;
        }
        g = (e & PDPTE_ADDR_MASK) >> 12n;
      }
      mmu.pae_root[i] = mmu_alloc_root(c, v, mmu, g, pae ? 0 : i, PT32_ROOT_LEVEL, shadowKind(c, mmu, true));
    }
    // Shadowing 32-bit/PAE tables with a 4/5-level root (nested NPT) goes through pml4/pml5 special roots.
    const special = mmu.root_level >= 5 ? 'pml5_root' : mmu.root_level === 4 ? 'pml4_root' : 'pae_root';
    mmu.root = { hpa: special, pgd };
    return true;
  });
}

// ---------------------------------------------------------------------------------------------------
// The shadow-page budget (n_max_mmu_pages)

/** `KVM_MIN_ALLOC_MMU_PAGES`: the smallest limit KVM_SET_NR_MMU_PAGES accepts (and the default's floor). */
export const KVM_MIN_ALLOC_MMU_PAGES = 64;
/** `KVM_MIN_FREE_MMU_PAGES`: make_mmu_pages_available recycles when fewer pages than this are left. */
const KVM_MIN_FREE_MMU_PAGES = 5;
/** `KVM_REFILL_PAGES`: it recycles until this many are free. */
const KVM_REFILL_PAGES = 25;

/** `kvm_mmu_available_pages`; null while the limit is the (unreachable) default. */
function kvm_mmu_available_pages(c: Ctx): number | null {
  const max = c.s.n_max_mmu_pages;
  if (max === null) return null;
  return max > c.s.n_used_mmu_pages ? max - c.s.n_used_mmu_pages : 0;
}

/**
 * `make_mmu_pages_available` (mmu.c, v5.15 … v6.18): before a root is allocated, recycle the oldest unreferenced
 * shadow pages when fewer than KVM_MIN_FREE_MMU_PAGES are left. False is -ENOSPC: not even one page is free,
 * because every shadow page is a root some vCPU still holds.
 */
export function make_mmu_pages_available(c: Ctx): boolean {
  const avail = kvm_mmu_available_pages(c);
  if (avail === null || avail >= KVM_MIN_FREE_MMU_PAGES) return true;
  return c.rec.call('make_mmu_pages_available', () => {
    kvm_mmu_zap_oldest_mmu_pages(c, KVM_REFILL_PAGES - avail);
    return kvm_mmu_available_pages(c) !== 0;
  });
}

/**
 * `kvm_mmu_zap_oldest_mmu_pages` (v5.10+): walk active_mmu_pages from the oldest, skipping pages with a
 * root_count (zapping an active root would only make vCPUs reload it), and zap until `nr_to_zap` are gone;
 * counts `mmu_recycled`. The model has no child pages, so each zap frees exactly one page.
 */
export function kvm_mmu_zap_oldest_mmu_pages(c: Ctx, nr_to_zap: number): number {
  return c.rec.call('kvm_mmu_zap_oldest_mmu_pages', () => {
    const list: MmuPage[] = [];
    for (const p of activeShadowPages(c)) {
      if (list.length >= nr_to_zap) break;
      if (p.refcount > 0) continue;
      __kvm_mmu_prepare_zap_page(c, p, list);
    }
    kvm_mmu_commit_zap_page(c, list);
    stat(c, 'mmu_recycled', list.length);
    return list.length;
  });
}

/** `kvm_mmu_change_mmu_pages`: a limit below what is in use first recycles down to it, then keeps what is left. */
export function kvm_mmu_change_mmu_pages(c: Ctx, goal: number): void {
  c.rec.call('kvm_mmu_change_mmu_pages', () => {
    if (c.s.n_used_mmu_pages > goal) {
      kvm_mmu_zap_oldest_mmu_pages(c, c.s.n_used_mmu_pages - goal);
      goal = c.s.n_used_mmu_pages;
    }
    c.s.n_max_mmu_pages = goal;
  });
}
const NO_PDPTRS: readonly bigint[] = Object.freeze([]);

function rootWhat(v: VcpuState, mmu: MmuState): string {
  if (mmu.name === 'guest_mmu' && v.nested)
    return v.nested.ept ? "L1's EPT root (EPTP)" : "L1's nested page table (nCR3)";
  return "the guest's CR3";
}

/** `__kvm_mmu_prepare_zap_page` for a root page; pages with no root reference go to `invalid_list`. */
export function __kvm_mmu_prepare_zap_page(c: Ctx, p: MmuPage, invalid_list: MmuPage[]): void {
  c.rec.call('__kvm_mmu_prepare_zap_page', () => {
    stat(c, 'mmu_shadow_zapped');
    let zapped_root = false;
    if (p.refcount === 0) {
      invalid_list.push(p);
    } else {
      p.unlinked = true;
      zapped_root = !is_obsolete_sp(c, p);
    }
    const wasInvalid = p.invalid;
    markInvalid(c, p);
    p.has_sptes = false;
    c.rec.emit(
      'zap',
      `zap shadow page #${p.id}` +
        (p.refcount > 0 ? ` (still a root of ${p.refcount} slot(s): kept until the last root reference goes)` : ''),
      { root: p.id },
    );
    if (!wasInvalid && p.refcount > 0) {
      c.rec.emit('invalidate', `shadow page #${p.id} is now role.invalid`, { root: p.id });
    }
    if (zapped_root) {
      if (c.kernel.has('free_obsolete_roots')) {
        kvm_make_all_cpus_request(c, 'KVM_REQ_MMU_FREE_OBSOLETE_ROOTS', `root #${p.id} zapped`);
      } else {
        c.rec.call('kvm_reload_remote_mmus', () =>
          kvm_make_all_cpus_request(c, 'KVM_REQ_MMU_RELOAD', `root #${p.id} zapped`),
        );
      }
    }
  });
}

/** `kvm_mmu_commit_zap_page`: remote TLB flush, then free every page on the list. */
export function kvm_mmu_commit_zap_page(c: Ctx, invalid_list: MmuPage[]): void {
  if (invalid_list.length === 0) return;
  c.rec.call('kvm_mmu_commit_zap_page', () => {
    kvm_flush_remote_tlbs(c);
    for (const p of invalid_list) {
      destroyShadowPage(c, p);
    }
  });
}

/** Unhash and destroy (the hash key is the role the page was created with, i.e. without `invalid`). */
export function destroyShadowPage(c: Ctx, p: MmuPage): void {
  const key = hashKey(p.gfn ?? 0n, setRoleField(c.kernel, p.role, 'invalid', 0));
  const bucket = c.s.mmu_page_hash.get(key);
  if (bucket) {
    const i = bucket.indexOf(p.id);
    if (i >= 0) bucket.splice(i, 1);
    if (bucket.length === 0) c.s.mmu_page_hash.delete(key);
  }
  destroyRoot(c, p, 'shadow page freed');
}

export function kvm_flush_remote_tlbs(c: Ctx): void {
  c.rec.call('kvm_flush_remote_tlbs', () => {
    stat(c, 'remote_tlb_flush_requests');
    c.rec.emit('flush', 'remote TLB flush on every vCPU');
  });
}

/** Live shadow pages still on active_mmu_pages, oldest first. */
function activeShadowPages(c: Ctx): MmuPage[] {
  const out: MmuPage[] = [];
  for (const id of c.s.live) {
    const p = page(c, id);
    if (!p.tdp_mmu_page && !p.unlinked && !p.invalid) out.push(p);
  }
  return out;
}

/** `kvm_zap_obsolete_pages`: zap every shadow page of the old generation, then commit. */
export function kvm_zap_obsolete_pages(c: Ctx): void {
  c.rec.call('kvm_zap_obsolete_pages', () => {
    const list: MmuPage[] = [];
    for (const p of activeShadowPages(c)) {
      if (is_obsolete_sp(c, p)) __kvm_mmu_prepare_zap_page(c, p, list);
    }
    kvm_mmu_commit_zap_page(c, list);
  });
}

/** `kvm_mmu_zap_all` (mm release / teardown): zap every shadow page. */
export function kvm_mmu_zap_all_shadow(c: Ctx): void {
  const list: MmuPage[] = [];
  for (const p of activeShadowPages(c)) __kvm_mmu_prepare_zap_page(c, p, list);
  kvm_mmu_commit_zap_page(c, list);
}

/** Shadow-MMU side of an MMU-notifier unmap: leaf SPTEs through the rmaps; count roots that had SPTEs. */
export function kvm_handle_gfn_range_shadow(c: Ctx): number {
  let n = 0;
  for (const id of c.s.live) {
    const p = page(c, id);
    if (!p.tdp_mmu_page && p.has_sptes) n++;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------
// Emulated guest writes to shadowed page tables (mmu.c kvm_mmu_pte_write ≤ v6.5, kvm_mmu_track_write v6.6+)

const PAGE_SIZE = 4096;
const PT32_ROOT_LEVEL_4BYTE = 2;

/** The page's guest entries are 4 bytes (`role.has_4_byte_gpte`; before v5.17 `!role.gpte_is_8_bytes`). */
function has4ByteGpte(c: Ctx, role: number): boolean {
  return c.kernel.has('has_4_byte_gpte')
    ? getRoleField(c.kernel, role, 'has_4_byte_gpte') === 1
    : getRoleField(c.kernel, role, 'gpte_is_8_bytes') === 0;
}

/** `detect_write_misaligned`: a write that spans two guest entries, or is shorter than 4 bytes (not a 1-byte flag update). */
export function detect_write_misaligned(pteSize: 4 | 8, offset: number, bytes: number): boolean {
  if ((offset & (pteSize - 1)) === 0 && bytes === 1) return false;
  return ((offset ^ (offset + bytes - 1)) & ~(pteSize - 1)) !== 0 || bytes < 4;
}

/** `detect_write_flooding`: a non-4K page counts the write and floods at 3. */
function detect_write_flooding(p: MmuPage): boolean {
  if (roleLevel(p.role) === 1) return false;
  p.write_flooding_count++;
  return p.write_flooding_count >= 3;
}

/**
 * `get_written_sptes`: the index of the first shadow entry the write covers and how many (a 32-bit PDE maps 4 MiB,
 * two shadow PDEs); null when a 4-byte-gpte page's quadrant does not cover the offset.
 */
export function get_written_sptes(
  four: boolean,
  level: number,
  quadrant: number,
  offset: number,
): { index: number; count: number } | null {
  if (!four) return { index: offset >> 3, count: 1 };
  let pageOffset = offset << 1;
  let count = 1;
  if (level === PT32_ROOT_LEVEL_4BYTE) {
    pageOffset &= ~7;
    pageOffset <<= 1;
    count = 2;
  }
  if (pageOffset >> 12 !== quadrant) return null;
  return { index: (pageOffset & (PAGE_SIZE - 1)) >> 3, count };
}

/** `account_shadowed` pages: indirect shadow pages not yet zapped (kvm->arch.indirect_shadow_pages). */
function indirect_shadow_pages(c: Ctx): number {
  let n = 0;
  for (const id of c.s.live) {
    const p = page(c, id);
    if (!p.tdp_mmu_page && !p.invalid && !roleDirect(p.role)) n++;
  }
  return n;
}

/** What one emulated write did, for the step's outcome. */
export interface TrackWriteResult {
  /** Shadow pages of the written frame (valid, with guest entries). */
  pages: number;
  /** Of those, zapped as misaligned or flooded. */
  zapped: number;
}

/**
 * An emulated write of `bytes` at L1 guest-physical `gpa`, as `emulator_write_phys` reports it through
 * `kvm_page_track_write`: every valid shadow page with guest entries for that frame either loses the entry the
 * write covers (`mmu_page_zap_pte`) or, when the write is misaligned or the page is flooded, is zapped
 * (`kvm_mmu_prepare_zap_page`): a zapped root becomes role.invalid and every vCPU is asked to drop it.
 */
export function kvm_mmu_track_write(c: Ctx, v: VcpuState, gpa: bigint, bytes: number): TrackWriteResult {
  const name = c.kernel.has('mmu_track_write') ? 'kvm_mmu_track_write' : 'kvm_mmu_pte_write';
  return c.rec.call(name, () => {
    const result: TrackWriteResult = { pages: 0, zapped: 0 };
    // "No indirect shadow pages: nothing is write-protected" — the early return, before the counter.
    if (indirect_shadow_pages(c) === 0) return result;
    const gfn = gpa >> 12n;
    // mmu_pte_write_fetch_gpte: a PAE (or 64-bit) guest writing 4 bytes writes half of an 8-byte entry.
    if (v.cr4 & X86_CR4_PAE && bytes === 4) {
      gpa &= ~7n;
      bytes = 8;
    }
    const offset = Number(gpa & 0xfffn);
    stat(c, 'mmu_pte_write');
    // for_each_gfn_valid_sp_with_gptes (≤ v5.18 for_each_gfn_indirect_valid_sp): the hash bucket, newest first.
    const sps: MmuPage[] = [];
    for (const id of c.s.live) {
      const p = page(c, id);
      if (p.tdp_mmu_page || p.gfn !== gfn || roleDirect(p.role) || is_obsolete_sp(c, p)) continue;
      sps.push(p);
    }
    sps.reverse();
    const invalid_list: MmuPage[] = [];
    for (const p of sps) {
      result.pages++;
      const four = has4ByteGpte(c, p.role);
      const level = roleLevel(p.role);
      const where = `shadow page #${p.id} (gfn ${hex(gfn)}, level ${level})`;
      const misaligned = detect_write_misaligned(four ? 4 : 8, offset, bytes);
      if (misaligned || detect_write_flooding(p)) {
        c.rec.emit(
          'pte_write',
          misaligned
            ? `${bytes}-byte write at offset ${hex(offset)} is misaligned for ${where}'s ${four ? 4 : 8}-byte entries: zap it`
            : `${where}: write-flooding count ${p.write_flooding_count} (3 writes without the page being used): zap it`,
          misaligned
            ? { root: p.id, write: 'misaligned' }
            : { root: p.id, write: 'flooded', flooding: p.write_flooding_count },
        );
        c.rec.call('kvm_mmu_prepare_zap_page', () => __kvm_mmu_prepare_zap_page(c, p, invalid_list));
        stat(c, 'mmu_flooded');
        result.zapped++;
        continue;
      }
      const fields: Parameters<typeof c.rec.emit>[2] = { root: p.id, write: 'pte' };
      if (level !== 1) fields.flooding = p.write_flooding_count;
      const count = level === 1 ? '' : `; write-flooding count ${p.write_flooding_count}`;
      const covered = get_written_sptes(four, level, getRoleField(c.kernel, p.role, 'quadrant'), offset);
      c.rec.emit(
        'pte_write',
        covered
          ? `${where}: zap ${covered.count === 2 ? `entries ${covered.index} and ${covered.index + 1}` : `entry ${covered.index}`} (mmu_page_zap_pte)${count}`
          : `${where}: quadrant ${getRoleField(c.kernel, p.role, 'quadrant')} does not cover offset ${hex(offset)}${count}`,
        fields,
      );
    }
    // kvm_mmu_remote_flush_or_zap: free what had no root reference (after a remote flush).
    kvm_mmu_commit_zap_page(c, invalid_list);
    return result;
  });
}

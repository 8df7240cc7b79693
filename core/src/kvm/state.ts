/**
 * The model's state as plain data (structuredClone-able, no cycles): per-VM root pages keyed by id,
 * per-vCPU MMUs whose slots hold root ids. Field names follow struct kvm_arch / kvm_vcpu_arch / kvm_mmu.
 */
import { SharedActions, type Recorder } from './actions.js';
import type { Kernel } from '../kernel/behaviours.js';
import type { CpuidFeature } from '../kernel/regs.js';
import type { CpuRole } from './mmu_role.js';
import type { MmuName, RootKind, RootSnapshot, VmConfig } from '../kernel/types.js';
import type { StatName } from '../kernel/stats.js';

/** INVALID_PAGE is `null`; special roots without a shadow page of their own are named. */
export type Hpa = number | 'pae_root' | 'pml4_root' | 'pml5_root' | 'dummy' | null;

/** struct kvm_mmu_root_info */
export interface RootInfo {
  hpa: Hpa;
  pgd: bigint;
}

/** `pgd = INVALID_PAGE` of a never-used slot (__kvm_mmu_create). */
export const INVALID_PGD = -1n;

export const KVM_MMU_NUM_PREV_ROOTS = 3;
export const KVM_MMU_ROOT_CURRENT = 1;
export const KVM_MMU_ROOT_PREVIOUS = (i: number): number => 1 << (1 + i);
export const KVM_MMU_ROOTS_ALL = 0xf;

/** struct kvm_mmu (only what concerns roles and roots). */
export interface MmuState {
  name: MmuName;
  /** E1 mmu_role / E2+ cpu_role. `ext.valid` = 0 until the first kvm_init_mmu. */
  cpu_role: CpuRole;
  root_role: number;
  /** E1 root_level / E2+ cpu_role.base.level. */
  guest_level: number;
  /** E1 shadow_root_level / E2+ root_role.level. */
  root_level: number;
  root: RootInfo;
  prev_roots: RootInfo[];
  /** mmu->pae_root[0..3] (root ids) when root.hpa is a special root. */
  pae_root: (number | null)[];
}

/** struct kvm_mmu_page, for roots (TDP MMU roots and shadow pages used as roots). */
export interface MmuPage {
  id: number;
  kind: RootKind;
  /** Page-role word; the `invalid` bit is set in it once the page is invalidated/zapped. */
  role: number;
  /** Guest frame shadowed (shadow pages); null for direct pages. */
  gfn: bigint | null;
  tdp_mmu_page: boolean;
  /** tdp_mmu_root_count or root_count. */
  refcount: number;
  mmu_valid_gen: number;
  invalid: boolean;
  freed: boolean;
  allocatedAt: number;
  freedAt: number | null;
  /** edbdb43f: the TDP MMU's own reference. */
  tdp_mmu_ref: boolean;
  /** References held by the async zap worker (E2/E3) or by a yielded zapper (what-if). */
  zap_worker_ref: number;
  /** E4+ tdp_mmu_scheduled_root_to_zap. */
  scheduled_to_zap: boolean;
  /** On kvm->arch.tdp_mmu_roots (TDP MMU pages only). */
  on_list: boolean;
  /** Leaf SPTEs may be present (set when a vCPU runs on it, cleared by a zap). */
  has_sptes: boolean;
  /** Unlinked from the shadow-page hash / active list (zapped while still a root). */
  unlinked: boolean;
  /**
   * `sp->write_flooding_count` (indirect shadow pages): emulated writes to the shadowed frame since the page was
   * last used; at 3 the page is zapped (detect_write_flooding).
   */
  write_flooding_count: number;
}

export interface Regs {
  cr0: bigint;
  cr3: bigint;
  cr4: bigint;
  efer: bigint;
}

/** What nested VM-Enter saved / set up (vmcs12 / vmcb12 essentials). */
export interface NestedState {
  l1: Regs;
  ept: boolean;
  eptp: bigint;
  npt: boolean;
  ncr3: bigint;
  vpid: number;
}

export interface VcpuState {
  id: number;
  cr0: bigint;
  cr3: bigint;
  cr4: bigint;
  efer: bigint;
  maxphyaddr: number;
  is_smm: boolean;
  is_guest_mode: boolean;
  /** vcpu->arch.mmu / walk_mmu */
  mmu: MmuName;
  walk_mmu: MmuName;
  root_mmu: MmuState;
  guest_mmu: MmuState;
  nested_mmu: MmuState;
  /** Pending KVM_REQ_* in raise order (a request bit is set once). */
  requests: string[];
  nested: NestedState | null;
  /** State saved in SMRAM by enter_smm (registers, and the L2 state when an SMI left guest mode). */
  smram: { regs: Regs; nested: { nested: NestedState; l2: Regs } | null } | null;
  last_vpid: number;
  /** `vmx->nested.vmxon`: L1 executed VMXON (VMX root operation, or non-root while in guest mode). */
  vmxon: boolean;
  /** `vmx->nested.smm.vmxon`: VMX operation saved by an SMI and restored by RSM. */
  smm_vmxon: boolean;
  /** `vmx->nested.current_vmptr`; null is INVALID_GPA. */
  current_vmptr: bigint | null;
  /** Guest CPUID feature bits (`guest_cpuid_has`) the MMU depends on. */
  cpuid: Record<CpuidFeature, boolean>;
  /** SVM global interrupt flag (`gif_set`). */
  gif: boolean;
  /** `vcpu->arch.last_vmentry_cpu != -1`: the vCPU has entered the guest at least once (kvm_vcpu_has_run). */
  has_run: boolean;
  /**
   * `walk_mmu->pdptrs` as the last `load_pdptrs` read them, with the CR3 they were read at (null: never loaded, the
   * kernel's zeroes). Frozen.
   */
  pdptrs: { readonly cr3: bigint; readonly entries: readonly bigint[] } | null;
  destroyed: boolean;
}

/** A memslot with a layout: gfns [base_gfn, base_gfn + npages). */
export interface Memslot {
  readonly base_gfn: bigint;
  readonly npages: bigint;
}

export interface VmState {
  /** Pages by id, in id order: live ones, and freed ones not yet retired (see `retireFreedRoots`). */
  roots: Map<number, MmuPage>;
  /** Freed pages nothing in the state refers to any more: frozen, shared by every clone of the state. */
  retired: RetiredRoots | null;
  next_root_id: number;
  /** Roots not yet destroyed. */
  live: Set<number>;
  /** kvm->arch.tdp_mmu_roots, head first. */
  tdp_mmu_roots: number[];
  /** mmu_page_hash: "gfn:role" → shadow page ids. */
  mmu_page_hash: Map<string, number[]>;
  mmu_valid_gen: number;
  /** kvm->arch.n_used_mmu_pages: shadow pages (not TDP MMU pages) allocated and not yet freed. */
  n_used_mmu_pages: number;
  /** kvm->arch.n_max_mmu_pages; null is the memslot-based default, which roots alone never reach (see mmu budget). */
  n_max_mmu_pages: number | null;
  /** The `nx_huge_pages` module parameter (global in the kernel; the model has one VM). */
  nx_huge_pages: boolean;
  stats: Record<string, number>;
  vcpus: VcpuState[];
  /** Roots queued on tdp_mmu_zap_wq (E2/E3). */
  zap_wq: number[];
  /** What-if `invalidated_roots_off_list`: the zapper's caller-local list while it has yielded. */
  invalidated_roots: { roots: number[]; resumeAt: number } | null;
  /** Statements executed (for the yielded zapper). */
  seq: number;
  /** Memslots created with a layout, by slot id (slots without one cover no known range). */
  memslots: Map<number, Memslot>;
  /** Guest memory the scenario declared: the four PDPTEs at each 32-byte aligned guest-physical address (frozen). */
  pdpts: Map<bigint, readonly bigint[]>;
  destroyed: boolean;
}

/**
 * Freed pages, retired in batches: a persistent list (each batch points to the one before it and is never
 * changed), so a clone of the state shares every batch instead of copying every page ever allocated. A freed page
 * never changes, and once nothing in the state names its id, the model never looks it up again; only snapshots
 * (which list freed roots too) read it.
 */
export interface RetiredRoots {
  /** Ascending ids. */
  readonly pages: readonly MmuPage[];
  readonly prev: RetiredRoots | null;
  /** The pages as snapshot rows, made the first time a snapshot needs them (they cannot change). */
  rows?: readonly RootSnapshot[];
}

/** Everything a model function needs: the immutable config, the state and the recorder. */
export interface Ctx {
  readonly kernel: Kernel;
  readonly vm: Readonly<VmConfig>;
  readonly s: VmState;
  readonly rec: Recorder;
  readonly line: number;
}

export function stat(c: Ctx, name: StatName, by = 1): void {
  c.s.stats[name] = (c.s.stats[name] ?? 0) + by;
}

export function mmuOf(v: VcpuState, name: MmuName): MmuState {
  return name === 'root_mmu' ? v.root_mmu : name === 'guest_mmu' ? v.guest_mmu : v.nested_mmu;
}

export function page(c: Ctx, id: number): MmuPage {
  const p = c.s.roots.get(id) ?? retiredPage(c.s.retired, id);
  if (!p) throw new Error(`model bug: no root #${id}`);
  return p;
}

/** A retired page (frozen: a model function that changes it fails loudly instead of changing every clone). */
function retiredPage(r: RetiredRoots | null, id: number): MmuPage | undefined {
  for (; r; r = r.prev) for (const p of r.pages) if (p.id === id) return p;
  return undefined;
}

/**
 * Moves the freed pages that nothing in the state refers to (no vCPU slot, list, hash bucket or queue) from
 * `roots` to a new retired batch. Called before the state is cloned: a clone then copies only what a replay
 * can change, and memory stays linear in the scenario however many roots come and go.
 */
export function retireFreedRoots(s: VmState): void {
  let freed: MmuPage[] | undefined;
  for (const p of s.roots.values()) if (p.freed) (freed ??= []).push(p);
  if (!freed) return;
  const held = new Set<number>(s.tdp_mmu_roots);
  for (const id of s.zap_wq) held.add(id);
  for (const id of s.invalidated_roots?.roots ?? []) held.add(id);
  for (const ids of s.mmu_page_hash.values()) for (const id of ids) held.add(id);
  for (const v of s.vcpus)
    for (const m of [v.root_mmu, v.guest_mmu, v.nested_mmu]) {
      if (typeof m.root.hpa === 'number') held.add(m.root.hpa);
      for (const r of m.prev_roots) if (typeof r.hpa === 'number') held.add(r.hpa);
      for (const id of m.pae_root) if (id !== null) held.add(id);
    }
  const pages: MmuPage[] = [];
  for (const p of freed)
    if (!held.has(p.id)) {
      s.roots.delete(p.id);
      pages.push(Object.freeze(p));
    }
  if (pages.length > 0) s.retired = { pages: Object.freeze(pages), prev: s.retired };
}

/**
 * `kvm_vcpu_is_visible_gfn`: is the gfn in a memslot the vCPU can see? With `vm memory=all` (the default) every gfn
 * is; with `memory=slots` only those of the memslots the scenario created with a layout.
 */
export function kvm_vcpu_is_visible_gfn(c: Ctx, gfn: bigint): boolean {
  if (c.vm.memory !== 'slots') return true;
  for (const m of c.s.memslots.values()) if (gfn >= m.base_gfn && gfn < m.base_gfn + m.npages) return true;
  return false;
}

/** `root_to_sp()`: the page behind an hpa, null for INVALID and special/dummy roots. */
export function root_to_sp(c: Ctx, hpa: Hpa): MmuPage | null {
  return typeof hpa === 'number' ? page(c, hpa) : null;
}

export const VALID_PAGE = (hpa: Hpa): boolean => hpa !== null;

export function hex(v: bigint | number): string {
  return `0x${v.toString(16)}`;
}

export function rootName(id: number): string {
  return `#${id}`;
}

export function slotName(v: VcpuState, mmu: MmuState, slot: string): string {
  return `vcpu${v.id}.${mmu.name}.${slot}`;
}

export function newMmu(name: MmuName): MmuState {
  return {
    name,
    cpu_role: { base: 0, ext: 0 },
    root_role: 0,
    guest_level: 0,
    root_level: 0,
    root: { hpa: null, pgd: INVALID_PGD },
    prev_roots: [0, 1, 2].map(() => ({ hpa: null, pgd: INVALID_PGD })),
    pae_root: [null, null, null, null],
  };
}

/** KVM raises a request once; raising a pending one changes nothing. */
export function kvm_make_request(c: Ctx, v: VcpuState, req: string, why = ''): void {
  if (v.destroyed) return;
  if (!v.requests.includes(req)) v.requests.push(req);
  c.rec.emitShared(REQUEST, v.id, req, why);
}
const REQUEST = new SharedActions((vcpu: number, request: string, why: string) => ({
  op: 'request',
  detail: `vCPU ${vcpu}: ${request}${why ? ` (${why})` : ''}`,
  fields: { vcpu, request },
}));

export function kvm_check_request(v: VcpuState, req: string): boolean {
  if (v.requests.length === 0) return false;
  const i = v.requests.indexOf(req);
  if (i < 0) return false;
  v.requests.splice(i, 1);
  return true;
}

export function kvm_make_all_cpus_request(c: Ctx, req: string, why = ''): void {
  c.rec.call('kvm_make_all_cpus_request', () => {
    for (const v of c.s.vcpus) kvm_make_request(c, v, req, why);
  });
}

function cloneMmu(m: MmuState): MmuState {
  return {
    ...m,
    cpu_role: { ...m.cpu_role },
    root: { ...m.root },
    prev_roots: m.prev_roots.map((r) => ({ ...r })),
    pae_root: [...m.pae_root],
  };
}

function cloneNested(n: NestedState | null): NestedState | null {
  return n ? { ...n, l1: { ...n.l1 } } : null;
}

/**
 * A deep copy of what the model can change (core has no structuredClone: no DOM or Node types here); retired
 * pages are shared (call `retireFreedRoots` first to keep the copy small).
 */
export function cloneState(s: VmState): VmState {
  return {
    ...s,
    roots: new Map([...s.roots].map(([id, p]) => [id, { ...p }])),
    live: new Set(s.live),
    tdp_mmu_roots: [...s.tdp_mmu_roots],
    mmu_page_hash: new Map([...s.mmu_page_hash].map(([k, ids]) => [k, [...ids]])),
    stats: { ...s.stats },
    vcpus: s.vcpus.map((v) => ({
      ...v,
      root_mmu: cloneMmu(v.root_mmu),
      guest_mmu: cloneMmu(v.guest_mmu),
      nested_mmu: cloneMmu(v.nested_mmu),
      requests: [...v.requests],
      nested: cloneNested(v.nested),
      smram: v.smram
        ? {
            regs: { ...v.smram.regs },
            nested: v.smram.nested
              ? { nested: cloneNested(v.smram.nested.nested)!, l2: { ...v.smram.nested.l2 } }
              : null,
          }
        : null,
    })),
    zap_wq: [...s.zap_wq],
    memslots: new Map(s.memslots),
    pdpts: new Map(s.pdpts),
    invalidated_roots: s.invalidated_roots ? { ...s.invalidated_roots, roots: [...s.invalidated_roots.roots] } : null,
  };
}

/*
 * Page-role fields whose position is the same in every era's layout (facts §1.1: level 0–3, quadrant 5–6,
 * direct 7, invalid 11, guest_mode 17, smm 24–31). Hot paths read them directly; everything era-dependent
 * goes through role.ts.
 */
export const roleLevel = (role: number): number => role & 0xf;
export const roleDirect = (role: number): boolean => (role & (1 << 7)) !== 0;
export const roleGuestMode = (role: number): boolean => (role & (1 << 17)) !== 0;
export const roleAsId = (role: number): number => ((role >>> 24) & 0xff ? 1 : 0);

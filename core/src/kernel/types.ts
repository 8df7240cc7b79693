/**
 * The contract between the scenario engine and the MMU model: the VM configuration, the lowered
 * operations the model executes, the actions it records and the snapshots it produces.
 * Everything here is plain data (structured-clone and JSON friendly once bigints are formatted).
 */
import type { Kernel } from './behaviours.js';
import type { CpuidFeature } from './regs.js';

export type Vendor = 'intel' | 'amd';

/** `vm` header line (SPEC §1.1). */
export interface VmConfig {
  vendor: Vendor;
  /** Two-dimensional paging (EPT on Intel, NPT on AMD); false = shadow paging. */
  tdp: boolean;
  /** The TDP MMU (tdp_mmu module parameter); false = legacy shadow-page based direct MMU. */
  tdp_mmu: boolean;
  /** Host capability: 5 = the CPU supports 5-level EPT (VMX) / host uses LA57 paging (SVM). */
  max_tdp_level: 4 | 5;
  /** Guest CPUID.0x80000008.EAX[7:0]. */
  maxphyaddr: number;
  vcpus: number;
  nested: boolean;
  /** EPT accessed/dirty bits (ept_ad module parameter); NPT always has A/D. */
  ad: boolean;
  /** KVM_X86_QUIRK_SLOT_ZAP_ALL (v6.12+; enabled by default). */
  slot_zap_all: boolean;
  /**
   * Which guest frames are backed: 'all' (every gfn counts as in a visible memslot, the default) or 'slots' (only
   * the gfn ranges of the memslots the scenario creates with `gfn=`/`pages=`).
   */
  memory: 'all' | 'slots';
  /** The `nx_huge_pages` module parameter when the VM is created (`nx_huge_pages` statements change it). */
  nx_huge_pages: boolean;
  /** A non-coherent DMA device is assigned (`kvm_arch_register_noncoherent_dma`, e.g. VFIO without snooping). */
  noncoherent_dma: boolean;
  /** KVM_X86_QUIRK_CD_NW_CLEARED (enabled by default; userspace may disable it with KVM_CAP_DISABLE_QUIRKS). */
  cd_nw_cleared: boolean;
}

export const DEFAULT_VM: Readonly<VmConfig> = {
  vendor: 'intel',
  tdp: true,
  tdp_mmu: true,
  max_tdp_level: 4,
  maxphyaddr: 46,
  vcpus: 1,
  nested: false,
  ad: true,
  slot_zap_all: true,
  memory: 'all',
  nx_huge_pages: false,
  noncoherent_dma: false,
  cd_nw_cleared: true,
};

export const MAX_VCPUS = 64;

export type MmuName = 'root_mmu' | 'guest_mmu' | 'nested_mmu';

/**
 * A statement lowered for the model. Register values are bigints (architectural 64-bit registers);
 * flags were already resolved to bits by the parser.
 */
export type ModelOp =
  /** MOV to CR0/CR4 or WRMSR EFER. For `&=` the value is the mask that is kept (already inverted). */
  | { op: 'write_cr'; reg: 'cr0' | 'cr4' | 'efer'; mode: '=' | '|=' | '&='; value: bigint; emulate: boolean }
  /** MOV to CR3; `value` includes the PCID in bits 11:0; `noflush` is CR3 bit 63. */
  | { op: 'write_cr3'; value: bigint; noflush: boolean; emulate: boolean }
  | { op: 'run' }
  | { op: 'smi' }
  | { op: 'rsm' }
  /** KVM_SET_SREGS: only the registers given change. */
  | { op: 'sregs'; cr0?: bigint; cr3?: bigint; cr4?: bigint; efer?: bigint }
  | { op: 'init' }
  | { op: 'invpcid'; type: 'addr' | 'single' | 'all' | 'all-global'; pcid: number; addr: bigint }
  | { op: 'invlpg'; addr: bigint }
  /**
   * Nested VM-Enter (VMLAUNCH/VMRUN). Intel: `ept` + `eptp`; AMD: `npt` + `ncr3`. L2 registers
   * default to L1's when absent. `vpid` is vmcs12's VPID (0 = none).
   */
  | {
      op: 'vmenter';
      ept: boolean;
      eptp: bigint;
      npt: boolean;
      ncr3: bigint;
      cr0?: bigint;
      cr3?: bigint;
      cr4?: bigint;
      efer?: bigint;
      vpid: number;
    }
  | { op: 'vmexit' }
  | { op: 'invept'; type: 'single' | 'global'; eptp: bigint }
  | { op: 'invvpid'; type: 'single' | 'all'; vpid: number }
  /** VMX operation (Intel): VMXON, VMXOFF, and VMCLEAR/VMPTRLD of the vmcs12 at guest-physical `vmptr`. */
  | { op: 'vmxon' }
  | { op: 'vmxoff' }
  | { op: 'vmclear'; vmptr: bigint }
  | { op: 'vmptrld'; vmptr: bigint }
  /** SVM global interrupt flag (AMD): STGI sets GIF, CLGI clears it. */
  | { op: 'stgi' }
  | { op: 'clgi' }
  /**
   * A guest write KVM's emulator performs (`emulate write GPA BYTES`): `bytes` (1…16) at L1 guest-physical `gpa`,
   * reported to the MMU through kvm_page_track_write.
   */
  | { op: 'guest_write'; gpa: bigint; bytes: number }
  /**
   * KVM_SET_USER_MEMORY_REGION on slot `slot`. `gfn`/`pages` give the layout (base gfn, number of pages): both for
   * `create`, `gfn` alone (the new base) for `move`; absent, the slot has no layout (it covers no known range).
   */
  | { op: 'memslot'; action: 'delete' | 'move' | 'create'; slot: number; gfn?: bigint; pages?: bigint }
  /** Guest memory: the four PAE PDPTEs at guest-physical `addr` (32-byte aligned), as the guest or userspace wrote them. */
  | { op: 'pdpt'; addr: bigint; entries: readonly bigint[] }
  /** KVM_SET_NR_MMU_PAGES: the VM's shadow-page limit (n_max_mmu_pages). */
  | { op: 'set_nr_mmu_pages'; pages: number }
  /** A write of the `nx_huge_pages` module parameter (/sys/module/kvm/parameters/nx_huge_pages). */
  | { op: 'nx_huge_pages'; on: boolean }
  /** A memslot update whose new generation wraps the MMIO-SPTE generation to 0 (kvm_mmu_invalidate_mmio_sptes). */
  | { op: 'mmio_gen_wrap' }
  /** MMU-notifier invalidation of guest frame numbers [start, end). */
  | { op: 'notifier_unmap'; start: bigint; end: bigint }
  /** KVM_SET_CPUID2: a new MAXPHYADDR and/or feature bits (absent ones keep their value; all start exposed). */
  | { op: 'cpuid'; maxphyaddr?: number; features?: Partial<Record<CpuidFeature, boolean>> }
  | { op: 'destroy_vcpu' }
  | { op: 'destroy_vm' };

export type ModelOpName = ModelOp['op'];

/** SPEC §3 action kinds. Views (hints, hover, CLI, panel) render these; nothing recomputes them. */
export type ActionOp =
  | 'alloc'
  | 'reuse'
  | 'cache_hit'
  | 'cache_miss'
  | 'get'
  | 'put'
  | 'evict'
  | 'unload'
  | 'invalidate'
  | 'zap'
  | 'queue_zap'
  | 'pte_write'
  | 'free'
  | 'request'
  | 'flush'
  | 'reinit'
  | 'reinit_skipped'
  | 'fault'
  | 'dummy_root'
  | 'no_exit'
  | 'warn'
  | 'hazard';

export interface Action {
  op: ActionOp;
  /**
   * Kernel call path, outermost first, e.g. ["kvm_smm_changed", "kvm_mmu_reset_context", "kvm_mmu_unload"].
   * Frozen and shared between actions recorded at the same path.
   */
  path: readonly string[];
  /** One readable sentence, e.g. "vCPU 0 drops its reference to root #1". */
  detail: string;
  vcpu?: number;
  mmu?: MmuName;
  /** The root this action is about (id as in Snapshot.roots). */
  root?: number;
  /** For unload: every root the unload dropped. */
  roots?: number[];
  /** The per-vCPU slot involved: "root" or "prev_roots[0]".."prev_roots[2]". */
  slot?: string;
  /** Reference count before → after (get/put/alloc/reuse/free). */
  refcount?: [number, number];
  /** KVM_REQ_* for request actions. */
  request?: string;
  /** Page-role word (0x%08x) for alloc/reuse/reinit, or the 64-bit cpu role (0x%016x) for reinit. */
  role?: string;
  /**
   * For pte_write: what an emulated write did to a shadow page of the written frame — `pte` (the written entry
   * zapped, the page kept), `misaligned` or `flooded` (the page is zapped next: detect_write_misaligned /
   * detect_write_flooding).
   */
  write?: 'pte' | 'misaligned' | 'flooded';
  /** For pte_write: the page's write_flooding_count after the write (absent for 4K-level pages, never counted). */
  flooding?: number;
}

export type StepOutcome = 'ok' | 'gp' | 'no_exit' | 'vmfail' | 'shutdown' | 'error';

export interface StepResult {
  outcome: StepOutcome;
  /** One line: what KVM did, e.g. "SMI: unload #1; cpu role smm=1". */
  summary: string;
  actions: Action[];
  /**
   * For outcome 'error': the event cannot happen in this state (e.g. vmexit outside guest mode,
   * an event on a destroyed vCPU). The engine turns it into an error diagnostic. For 'gp',
   * 'vmfail' and 'shutdown' (a triple fault: a failed RSM, and the KVM_RUN that then exits with
   * KVM_EXIT_SHUTDOWN) the reason, shown as a warning.
   */
  message?: string;
}

export type RootKind = 'tdp_mmu' | 'shadow' | 'nested_ept' | 'nested_npt' | 'pae';
export type RootState = 'valid' | 'invalid' | 'freed';

export interface RootSnapshot {
  id: number;
  kind: RootKind;
  /** Page-role word, "0x%08x". */
  role: string;
  level: number;
  smm: boolean;
  guestMode: boolean;
  /** tdp_mmu_root_count for TDP MMU roots, root_count for shadow pages. */
  refcount: number;
  state: RootState;
  /** Shadow page of a stale mmu_valid_gen (shadow MMU) — invisible to lookups. */
  obsolete: boolean;
  /** 1-based line of the statement that allocated / destroyed it. */
  allocatedAt: number;
  freedAt: number | null;
  /** Guest frame the shadow root shadows ("0x…"), null for direct roots. */
  gfn: string | null;
  /**
   * Who holds each reference, e.g. "vcpu0.root_mmu.root", "vcpu1.guest_mmu.prev_roots[0]",
   * "tdp_mmu" (edbdb43f's own reference), "zap_worker", "pae_root[2]" (via vcpu0.root_mmu).
   */
  holders: string[];
}

export interface MmuSnapshot {
  name: MmuName;
  root: number | null;
  /** root.pgd, "0x…" */
  rootPgd: string;
  prevRoots: (number | null)[];
  prevPgds: string[];
  /** 64-bit cpu role (E1: mmu_role), "0x%016x"; ext in the high half. */
  cpuRole: string;
  /** Page-role word of the root role, "0x%08x". */
  rootRole: string;
  /** Guest paging level the MMU was configured for (E1 root_level, E2+ cpu_role.base.level). */
  guestLevel: number;
  /** Level of KVM's root (E1 shadow_root_level, E2+ root_role.level). */
  rootLevel: number;
  /**
   * When the current slot holds a root with no shadow page of its own: 'pae_root' (mmu->pae_root, whose four
   * entries are `paeRoots`), 'pml4_root'/'pml5_root' (special roots for shadowing 32-bit/PAE NPT), 'dummy'.
   * `root` is null then.
   */
  rootSpecial: 'pae_root' | 'pml4_root' | 'pml5_root' | 'dummy' | null;
  /** The four pae_root[i] entries (root ids or null) when rootSpecial is set; otherwise []. */
  paeRoots: (number | null)[];
}

export interface VcpuSnapshot {
  id: number;
  /** vcpu->arch.mmu */
  mmu: MmuName;
  /** vcpu->arch.walk_mmu */
  walkMmu: MmuName;
  root: number | null;
  prevRoots: (number | null)[];
  smm: boolean;
  guestMode: boolean;
  regs: { cr0: string; cr3: string; cr4: string; efer: string };
  mmus: MmuSnapshot[];
  /** Pending KVM_REQ_* names. */
  requests: string[];
  destroyed: boolean;
}

export interface Snapshot {
  roots: RootSnapshot[];
  vcpus: VcpuSnapshot[];
  stats: Record<string, number>;
  mmuValidGen: number;
  /** kvm->arch.n_used_mmu_pages and n_max_mmu_pages (null: the memslot-based default, see docs/language.md). */
  mmuPages?: { used: number; max: number | null };
  vmDestroyed: boolean;
}

/** The model: created once per scenario, fed one op at a time, cloneable for checkpoints. */
export interface KvmModel {
  readonly kernel: Kernel;
  readonly vm: Readonly<VmConfig>;
  /** Executes one statement on one vCPU. `line` is 1-based (recorded as allocatedAt/freedAt). */
  execute(vcpu: number, op: ModelOp, line: number): StepResult;
  snapshot(): Snapshot;
  /** A deep, independent copy; cost proportional to the state, not to the history. */
  clone(): KvmModel;
  /** True when the vCPU is in guest mode (L2) — used for semantic checks. */
  isGuestMode(vcpu: number): boolean;
}

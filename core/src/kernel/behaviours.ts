/**
 * Kernel behaviours and profiles: the one place where "which kernel does what" lives.
 *
 * A behaviour is one upstream change (or a removal, or a what-if that was never merged) that the model can tell
 * apart. Each declares its neighbours: what it `requires` (a later commit built on an earlier one), what it
 * `replaces` (a rework whose revert brings the old code back) and what it `excludes` (code that cannot coexist
 * with it). `resolveKernel` (resolve.ts) checks a profile plus `+`/`-` modifications against them, and
 * `makeKernel` resolves the eras (eras.ts) once, so the model asks per subsystem rather than walking `has()`
 * chains. Where each fact was read is recorded in docs/kernel-notes.md.
 */
import { type Eras, resolveEras } from './eras.js';
import { type RoleLayouts, resolveRoleLayouts } from './role_layout.js';

export type { Eras } from './eras.js';

interface BehaviourEntry<N extends string> {
  readonly name: N;
  /** Upstream commit id(s) (12+ hex digits) or a Message-Id/Link where the hash is not known. */
  readonly commits: readonly string[];
  /** Commit title (or, for a behaviour later removed, the title of what removed it). */
  readonly title: string;
  /** First mainline version with the behaviour, e.g. "v6.4"; for removed behaviours "≤v5.15 … v5.15". */
  readonly version: string;
  /** One sentence: what the model does differently when the behaviour is present. */
  readonly description: string;
  /** Where this comes from: kernel file/function and the versions compared, and how the commit was confirmed. */
  readonly source: string;
  /** A proposal that was never merged: in no profile, only reachable with `+name`. */
  readonly whatIf?: boolean;
  /** Stable-backport note shown in hover and `kvmmu behaviours`. */
  readonly stable?: string;
  /** Commits this one was built on: each must be present, or replaced by a present behaviour. */
  readonly requires?: readonly NoInfer<N>[];
  /** Code this rework replaced: never present together; reverting this brings them back. */
  readonly replaces?: readonly NoInfer<N>[];
  /** Code this one cannot coexist with (it was written on top of their removal). */
  readonly excludes?: readonly NoInfer<N>[];
  /** Set when the model never consults the behaviour: why (the table still lists it for the record). */
  readonly notModelled?: string;
}

/** Ties the table's names into one literal type; `requires`/`replaces`/`excludes` can only name entries. */
function defineBehaviours<const N extends string>(entries: readonly BehaviourEntry<N>[]): readonly BehaviourEntry<N>[] {
  return entries;
}

/*
 * The table. Order: roughly chronological. A commit id is recorded only when it was verified (the rule and the
 * evidence for each are in docs/kernel-notes.md).
 */
export const BEHAVIOURS = defineBehaviours([
  {
    name: 'pge_role_bit',
    commits: ['a91a7c7096005113d8e749fd8dfdd3e1eecee263'],
    title: "KVM: X86: Don't reset mmu context when toggling X86_CR4_PGE (removal)",
    version: '≤v5.15 (removed in v5.16)',
    description:
      'CR4.PGE is in KVM_MMU_CR4_ROLE_BITS, so toggling it resets the MMU (unloads every root) instead of only flushing the guest TLB.',
    source:
      'mmu.h KVM_MMU_CR4_ROLE_BITS, v5.15 vs v5.17; a91a7c709600 is named by the Fixes: tag of 2c5653caecc4 (docs/kernel-notes.md)',
  },
  {
    name: 'pcid0_frees_prev_roots',
    commits: ['509bfe3d979672cd69c318d520420cf95b474fd9'],
    title: 'KVM: X86: Cache CR3 in prev_roots when PCID is disabled (removal; introduced by 21823fbda552)',
    version: '≤v5.15 (removed in v5.16)',
    description:
      'A flushing MOV CR3 or single-context INVPCID frees every prev_roots slot whose PGD has the same PCID; with PCIDE=0 every PGD has PCID 0, so every CR3 write empties prev_roots, TDP included.',
    source:
      'x86.c kvm_invalidate_pcid, v5.15; 509bfe3d9796 undoes the prev_roots wipe that 21823fbda552 "Invalidate all PGDs for the current PCID on MOV CR3 w/ flush" caused with PCIDE=0',
  },
  {
    name: 'flush_guest_unloads_shadow',
    commits: ['61b05a9fd4aec2dff0bbdf9d16ee000b24b33f41'],
    title: "KVM: X86: Don't unload MMU in kvm_vcpu_flush_tlb_guest() (removal)",
    version: '≤v5.15 (removed in v5.16)',
    description:
      'With shadow paging a guest TLB flush (INVPCID all-context, nested transitions without VPID) unloads every root instead of syncing them.',
    source: 'x86.c kvm_vcpu_flush_tlb_guest, v5.15 vs v5.17; 61b05a9fd4ae is in the v5.16 linux-next batch',
  },
  {
    name: 'has_4_byte_gpte',
    commits: ['bb3b394d35e80d7a58ce015191e4960a13f54ba5', '41e35604eaff2266ba8523787ebe99c5ca4c4045'],
    title:
      'KVM: X86: Rename gpte_is_8_bytes to has_4_byte_gpte and invert the direction (with: Remove useless code to set role.gpte_is_8_bytes when role.direct)',
    version: 'v5.17',
    description:
      'Page-role bit 4 is has_4_byte_gpte = CR0.PG && !CR4.PAE (0 with paging off and for every direct page); before, it was gpte_is_8_bytes = CR0.PG && CR4.PAE in the MMU role, which kvm_mmu_get_page forced to 1 for direct pages — not the plain inverse, the two differ with paging off.',
    source:
      'mmu.c kvm_calc_shadow_root_page_role_common and kvm_mmu_get_page, v5.15 vs v5.17; both commits are in the kvm.git next push of 2021-12-08 and the "First batch of KVM changes for Linux 5.17" pull (docs/kernel-notes.md §5)',
  },
  {
    name: 'pdptrs_change_frees_root',
    commits: ['6b123c3a89a90ac6418e4d64b1e23f09d458a77d'],
    title: 'KVM: x86/mmu: Reconstruct shadow page root if the guest PDPTEs is changed',
    version: 'v5.17',
    description:
      'With shadow paging, load_pdptrs frees the current root when the four PDPTEs it reads differ from the cached ones, so a CR3 reload of the same PDPT (or a CR0/CR4 write that reloads it) rebuilds the PAE roots; before, the old roots kept shadowing the old page directories.',
    source:
      'x86.c load_pdptrs, v5.15 (no free) vs v6.1, v6.6 and v6.12 (kvm_mmu_free_roots of KVM_MMU_ROOT_CURRENT when !tdp_enabled and the PDPTEs differ); hash and title in a revlist of the KVM 5.17 merge window, title in the 5.17 KVM pull (docs/kernel-notes.md §1, §7)',
  },
  {
    name: 'efer_lma_ext_role',
    commits: ['b8453cdcf26020030da182f0156d7bf59ae5719f'],
    title: 'KVM: x86/mmu: include EFER.LMA in extended mmu role',
    version: 'v5.16 (v5.16-rc2)',
    description:
      'EFER.LMA is an extended-role bit, so a switch between PAE and 64-bit paging that changes nothing else still re-initialises the MMU; without it the re-init is skipped and the guest root level goes stale.',
    source:
      'mmu.c kvm_calc_mmu_role_ext, v5.15 vs v5.17; the bug report and fix by Maxim Levitsky (2021-11); the 5.15.5 stable backport names b8453cdcf260 upstream',
    stable: '5.15.y carries it from 5.15.5 (stable review of 2021-11-24); mainline v5.15.0 does not.',
  },
  {
    name: 'pcide_clear_resets',
    commits: ['552617382c197949ff965a3559da8952bf3c1fa5'],
    title:
      'KVM: X86: Don\'t reset mmu context when X86_CR4_PCIDE 1->0 (removal; the reset dates from ad756a1603c5 "KVM: VMX: Implement PCID/INVPCID for guests with EPT")',
    version: '≤v5.15 (removed in v5.16)',
    description:
      'Clearing CR4.PCIDE resets the MMU (kvm_mmu_reset_context, every root unloaded) like a role-bit change; later kernels request a reload (v5.16) or only flush the guest TLB.',
    source: 'x86.c kvm_post_set_cr4, v5.15; stable backports name 552617382c19 upstream',
  },
  {
    name: 'pcide_reload',
    commits: ['509bfe3d979672cd69c318d520420cf95b474fd9'],
    title:
      'KVM: X86: Cache CR3 in prev_roots when PCID is disabled (its kvm_post_set_cr4 part; ended by f6d0a2521ce1 "KVM: x86: Invoke kvm_mmu_unload() directly on CR4.PCIDE change")',
    version: 'v5.16 (v5.16/v5.17 only; ended in v5.18)',
    description: 'Any CR4.PCIDE toggle requests KVM_REQ_MMU_RELOAD (a full unload at the next entry).',
    source:
      'x86.c kvm_post_set_cr4, v5.17; 509bfe3d9796 adds the request and f6d0a2521ce1 ends it (both in torvalds/linux master pushes)',
    replaces: ['pcid0_frees_prev_roots'],
    excludes: ['pcide_clear_resets'],
  },
  {
    name: 'tlb_flush_split',
    commits: ['b5f61c035d49a9724015ae5003109113d0914720'],
    title: 'KVM: x86: flush TLB separately from MMU reset',
    version: 'v5.18',
    description:
      'CR0/CR4 writes raise their own TLB-flush requests instead of relying on the MMU reset: KVM_REQ_TLB_FLUSH_GUEST when CR0.PG is cleared or CR4.PGE/PCIDE change, KVM_REQ_TLB_FLUSH_CURRENT when CR4.PAE changes or CR4.SMEP is set, and shadow paging unloads on CR4.PCIDE 0→1.',
    source: 'x86.c kvm_post_set_cr0 and kvm_post_set_cr4, v5.17 vs v5.19; torvalds/linux master push of 2022-03-24',
    excludes: ['pcide_reload', 'pcide_clear_resets', 'pge_role_bit'],
  },
  {
    name: 'new_pgd_base_only_role',
    commits: ['d2e5f3334169ab1bbbf13902e9fc8ef605ba824d'],
    title: "KVM: x86/mmu: Always use current mmu's role when loading new PGD (removal)",
    version: '≤v5.17 (removed in v5.18)',
    description:
      'The fast PGD switch compares cached roots against a base-only role in which smep_andnot_wp/smap_andnot_wp are always 0, and only switches when both the old guest and KVM root levels are ≥4.',
    source: 'mmu.c __kvm_mmu_new_pgd, v5.15 and v5.17; d2e5f3334169 is in the kvm/next push of 2022-03-06',
  },
  {
    name: 'cached_root_find_without_current',
    commits: ['5499ea73e7db5113bb6f60c9122495ddcd900940'],
    title: 'KVM: x86/mmu: look for a cached PGD when going from 32-bit to 64-bit',
    version: 'v5.18',
    description:
      'fast_pgd_switch uses mmu->root_role, frees PAE/special current roots first, and looks in prev_roots even when the current root is invalid (cached_root_find_without_current).',
    source: 'mmu.c fast_pgd_switch, v5.19 through v6.19; kvm/next push of 2022-03-06, after d2e5f3334169',
    excludes: ['new_pgd_base_only_role'],
  },
  {
    name: 'efer_lme_role_bit',
    commits: ['d6174299365ddbbf491620c0b8c5ca1a6ef2eea5'],
    title: 'KVM: x86: Reinitialize context if host userspace toggles EFER.LME',
    version: 'v5.18',
    description: 'KVM_MMU_EFER_ROLE_BITS = LME|NX: an EFER.LME change resets the MMU, not only an EFER.NX change.',
    source: 'x86.c set_efer and mmu.h KVM_MMU_EFER_ROLE_BITS; the 5.15.y backport names d6174299365d upstream',
    stable: 'Backported to 5.15.y (stable review of 2022-04-05; present in 5.15.100).',
  },
  {
    name: 'free_obsolete_roots',
    commits: ['527d5cd7eece9f9f5e9c5b6692cd6814a46df6fe'],
    title: 'KVM: x86/mmu: Zap only obsolete roots if a root shadow page is zapped',
    version: 'v5.18',
    description:
      'Zapping roots requests KVM_REQ_MMU_FREE_OBSOLETE_ROOTS (drop only obsolete/invalid roots) instead of KVM_REQ_MMU_RELOAD (unload everything).',
    source:
      'x86.c vcpu_enter_guest, v5.17 vs v5.19; named by the Fixes: tag of a later prev_roots fix, which says it "escaped into v5.18"',
  },
  {
    name: 'notifier_skips_invalid_roots',
    commits: ['d62007edf01f5c11f75d0f4b1e538fc52a5b1982'],
    title:
      'tdp_mmu_next_root skips invalid roots for MMU-notifier unmaps (ended by d62007edf01f "KVM: x86/mmu: Zap _all_ roots when unmapping gfn range in TDP MMU")',
    version: 'v5.17 (ended in v5.18)',
    description:
      'MMU-notifier unmaps walk only valid TDP MMU roots, so a root that was invalidated but is still being zapped keeps SPTEs the notifier should have zapped (the hazard Sean Christopherson described in 2021-12).',
    source:
      'tdp_mmu.c kvm_tdp_mmu_unmap_gfn_range, v5.17-rc5; d62007edf01f is in the torvalds/linux master push of 2022-03-24',
  },
  {
    name: 'async_root_zap',
    commits: ['22b94c4b63ebf2cf976d6f4eba230105984a7eb6'],
    title: 'KVM: x86/mmu: Zap invalidated roots via asynchronous worker',
    version: 'v5.18 … v6.5',
    description:
      'Invalidated TDP MMU roots are zapped by a per-VM workqueue (tdp_mmu_zap_wq) that holds its own reference; a put that reaches 0 on a valid root marks it invalid and queues it.',
    source:
      'tdp_mmu.c kvm_tdp_mmu_put_root and tdp_mmu_schedule_zap_root, v5.19 through v6.5; named by the Fixes: tag of a later tdp_mmu_zap_wq fix',
    excludes: ['notifier_skips_invalid_roots'],
  },
  {
    name: 'cpu_role_split',
    commits: [
      'e5ed0fb01004f93ddf8a0c632cbc8a3f1ea5b518',
      '2ba676774dfc9369f67f30cd3b4f58ccda907c24',
      '7a458f0e1ba150a6ea012171a43c4b947f1d825d',
      'faf729621c9609367a0714f5383df67fdd8d021c',
      '362505deb8e2ce27993a1dee0b3c5755d4d6646e',
      'daed87b8767c005cb2b385c80e265edf82a2f64b',
    ],
    title:
      'KVM: x86/mmu: split cpu_role from mmu_role (with: cleanup computation of MMU roles for two-dimensional paging; remove extended bits from mmu_role, rename field; remove redundant bits from extended role; store shadow EFER.NX in the MMU role; nested EPT cannot be used in SMM)',
    version: 'v5.19',
    description:
      'Each MMU has cpu_role (guest paging mode) and a separate root_role; the TDP root role no longer contains guest CR0.WP/EFER.NX (constants 1), nested-EPT roles have smm=0, and the ext role loses cr0_pg/cr4_pae.',
    source:
      "mmu.c kvm_calc_cpu_role and kvm_calc_tdp_mmu_root_page_role, v5.19; Paolo Bonzini's series, kvm/queue 2022-04-29 and next-20220513",
    requires: ['has_4_byte_gpte', 'efer_lma_ext_role'],
  },
  {
    name: 'passthrough_role',
    commits: ['84e5ffd045f33e4fa32370135436d987478d0bf7', '767d8d8d503f946c7a67735e77dea7e1c9cb6b51'],
    title: 'KVM: X86/MMU: Fix shadowing 5-level NPT for 4-level NPT L1 guest (with: KVM: X86/MMU: Add sp_has_gptes())',
    version: 'v5.19',
    description: 'Page-role bit 18 is passthrough, set for a 5-level nested-NPT root that shadows a 4-level L1 NPT.',
    source: 'kvm_host.h union kvm_mmu_page_role, v5.19; kvm/queue 2022-04-29, next-20220513',
  },
  {
    name: 'tdp_mmu_root_ref',
    commits: ['edbdb43fc96b11b3bfa531be306a1993d9fe89ec'],
    title: 'KVM: x86: Preserve TDP MMU roots until they are explicitly invalidated',
    version: 'v6.4',
    description:
      'The TDP MMU holds its own reference to every root it allocates (refcount starts at 2) until the root is invalidated, so vCPUs unloading roots (SMI/RSM, resets) no longer free them.',
    source:
      'tdp_mmu.c kvm_tdp_mmu_get_vcpu_root_hpa, kvm_tdp_mmu_put_root and kvm_tdp_mmu_invalidate_all_roots, v6.3 vs v6.4; the commit message',
    stable: '6.3.8 and later 6.3.y, and Debian 6.1.y from 6.1.52-1, carry it.',
    requires: ['async_root_zap'],
  },
  {
    name: 'cr0_wp_fast_path',
    commits: ['01b31714bd90be2784f7145bf93b7f78f3d081e1'],
    title: 'KVM: x86: Do not unload MMU roots when only toggling CR0.WP with TDP enabled',
    version: 'v6.4',
    description:
      'With TDP, a CR0 write that toggles only WP re-initialises the MMU (kvm_init_mmu) without unloading roots, whether or not paging is on.',
    source:
      'x86.c kvm_post_set_cr0, v6.3 vs v6.4; the 6.3.y backport names 01b31714bd90 upstream (docs/kernel-notes.md)',
    stable:
      '6.3.8 and Debian 6.1.y from 6.1.37-1 carry it without e40bcf9f3a18 (cr0_wp_nonpaging_ignored): a WP-only toggle with paging off still resets the MMU under shadow paging there.',
  },
  {
    name: 'cr0_wp_nonpaging_ignored',
    commits: ['e40bcf9f3a187126ce74a05d3b177fc16874446f'],
    title: 'KVM: x86: Ignore CR0.WP toggles in non-paging mode',
    version: 'v6.4',
    description:
      'A CR0 write that toggles only WP while CR0.PG=0 does nothing at all (no re-init, and no reset under shadow paging).',
    source: 'x86.c kvm_post_set_cr0, v6.4 (the early return for !CR0.PG inside the WP-only branch)',
    stable: 'Not in 6.3.y nor in Debian 6.1.y (their CR0.WP backports stop before it).',
    requires: ['cr0_wp_fast_path'],
  },
  {
    name: 'cr0_wp_guest_owned',
    commits: ['fb509f76acc8d42bed11bca308404f81c2be856a'],
    title: 'KVM: VMX: Make CR0.WP a guest owned bit',
    version: 'v6.4',
    description: 'With EPT, CR0.WP is guest-owned on VMX: a guest MOV CR0 that flips only WP (and TS) does not exit.',
    source:
      'kvm_cache_regs.h KVM_POSSIBLE_CR0_GUEST_BITS and vmx.c, v6.4; hash from the linux-next push before the v6.4 merge window',
    stable: '6.3.8 and Debian 6.1.y from 6.1.37-1 carry it.',
    requires: ['cr0_wp_fast_path'],
  },
  {
    name: 'roots_all_mask',
    commits: ['f94db0c8b9fa50296d00e236e2416aea11186e18'],
    title:
      'KVM: x86/mmu: Sanity check input to kvm_mmu_free_roots() (KVM_MMU_ROOTS_ALL = BIT(1 + KVM_MMU_NUM_PREV_ROOTS) - 1)',
    version: 'v6.4',
    description: 'KVM_MMU_ROOTS_ALL is 0xF instead of ~0UL; no change in which roots are freed.',
    source: 'kvm_host.h KVM_MMU_ROOTS_ALL, v6.4; its diff turns ~0UL into BIT(1 + KVM_MMU_NUM_PREV_ROOTS) - 1',
    notModelled: 'the mask selects the same roots either way, so nothing the model shows depends on it',
  },
  {
    name: 'sync_invalidated_zap',
    commits: ['0df9dab891ff0d9b646d82e4fe038229e4c02451'],
    title: 'KVM: x86/mmu: Stop zapping invalidated TDP MMU roots asynchronously',
    version: 'v6.6',
    description:
      'The zap workqueue is gone: invalidation flags roots (tdp_mmu_scheduled_root_to_zap) and kvm_tdp_mmu_zap_invalidated_roots zaps them synchronously, then puts the TDP MMU reference.',
    source: 'tdp_mmu.c kvm_tdp_mmu_invalidate_all_roots and kvm_tdp_mmu_zap_invalidated_roots, v6.6',
    stable: 'Debian 6.1.y carries it from 6.1.64-1.',
    requires: ['tdp_mmu_root_ref'],
    replaces: ['async_root_zap'],
  },
  {
    name: 'dummy_root',
    commits: ['0e3223d8d00ac05849661f1b8b476d3caca251cf'],
    title: 'KVM: x86/mmu: Use dummy root, backed by zero page, for !visible guest roots',
    version: 'v6.6',
    description:
      'A shadowed guest root (CR3, EPTP, nCR3) outside every visible memslot gets a dummy root (the zero page, no shadow page) instead of KVM_REQ_TRIPLE_FAULT, and a PAE PDPTE pointing outside one counts as not present; the dummy root is freed as obsolete at the next KVM_REQ_MMU_FREE_OBSOLETE_ROOTS, which a guest fault raises once the root is visible.',
    source:
      'mmu.c mmu_alloc_shadow_roots (mmu_check_root in v5.15 and v6.1; kvm_mmu_get_dummy_root in v6.6), is_obsolete_root and kvm_mmu_free_roots, paging_tmpl.h FNAME(fetch), v6.6; torvalds/linux master push of 2023-09-07',
    requires: ['free_obsolete_roots'],
  },
  {
    name: 'tdp_mmu_alloc_root',
    commits: ['dab285e4ec736d964cfa6c7fd6eebd22666b5ebc'],
    title: 'KVM: x86/mmu: Alloc TDP MMU roots while holding mmu_lock for read',
    version: 'v6.9',
    description:
      'Root lookup/allocation is kvm_tdp_mmu_alloc_root under mmu_lock held for read; kvm_mmu_free_roots takes the read lock for TDP MMU roots.',
    source: 'tdp_mmu.c kvm_tdp_mmu_alloc_root, v6.9 through v6.12; in the "KVM x86 MMU changes for 6.9" merge',
    requires: ['tdp_mmu_root_ref'],
  },
  {
    name: 'cpuid_invalid_root_role',
    commits: ['1bc26cb9090246190e8c540f5aa201cea2f895a1'],
    title: 'KVM: x86/mmu: Precisely invalidate MMU root_role during CPUID update',
    version: 'v6.9',
    description:
      'KVM_SET_CPUID marks root_role invalid (role.invalid=1) instead of zeroing it, forcing the next re-init.',
    source: 'mmu.c kvm_mmu_after_set_cpuid, v6.12; the diff sets root_role.invalid = 1',
  },
  {
    name: 'sregs_flush_guest',
    commits: ['4346db6e6e7a63c25a2f6dd93f4613d6a17dbd4e'],
    title: 'KVM: x86: Force TLB flush on userspace changes to special registers',
    version: 'v6.7',
    description: 'After KVM_SET_SREGS resets the MMU, KVM also requests KVM_REQ_TLB_FLUSH_GUEST.',
    source: 'x86.c __set_sregs_common, v6.6 vs v6.12; torvalds/linux master push of 2023-11-03',
  },
  {
    name: 'slot_zap_all_quirk',
    commits: ['aa8d1f48d353b0469bff357183ee9df137d15ef0'],
    title: 'KVM: x86/mmu: Introduce a quirk to control memslot zap behavior (KVM_X86_QUIRK_SLOT_ZAP_ALL)',
    version: 'v6.12',
    description:
      'Memslot DELETE/MOVE zaps everything (kvm_mmu_zap_all_fast) only while the quirk is enabled (the default); with `vm slot_zap_all=off` it zaps only the slot and invalidates no root.',
    source: 'x86.c kvm_arch_flush_shadow_memslot, v6.12; kvm.git queue push of 2024-08-14',
  },
  {
    name: 'nnpt_guest_mode_first',
    commits: ['46d6c6f3ef0eaff71c2db6d77d4e2ebb7adac34f'],
    title: 'KVM: nSVM: Enter guest mode before initializing nested NPT MMU',
    version: 'v6.14',
    description: 'nSVM enters guest mode before building the nested NPT MMU, so nested-NPT roles have guest_mode=1.',
    source:
      'svm/nested.c nested_svm_vmrun → enter_svm_guest_mode, v6.12 vs v6.18; the 6.13.y stable review names 46d6c6f3ef0e upstream',
    stable: 'Debian 6.1.y carries it from 6.1.129-1 and 6.12.y from 6.12.16-1 (their changelogs list it).',
  },
  {
    name: 'is_mirror_role',
    commits: ['6961ab0bae5282de221fed5fc3e9db2b9180c4d6'],
    title: 'KVM: x86/mmu: Add an is_mirror member for union kvm_mmu_page_role (TDX mirror roots)',
    version: 'v6.14',
    description: 'Page-role bit 19 is is_mirror (TDX mirror roots); layout only for non-TDX VMs.',
    source: 'kvm_host.h union kvm_mmu_page_role, v6.18',
    requires: ['passthrough_role'],
  },
  {
    name: 'invept_precise',
    commits: ['ce8fe7b77bd8ee405295e349c82d0ef8c9788200'],
    title: 'KVM: nVMX: Free only the affected contexts when emulating INVEPT',
    version: '≤v5.15 (believed v5.8)',
    description:
      'Single-context INVEPT frees only guest_mmu roots whose EPTP matches; without it (the 2020 f8aa7e3958bc behaviour) every guest_mmu root is freed.',
    source: 'vmx/nested.c handle_invept, v5.15 through v6.19',
  },
  {
    name: 'invalidated_roots_off_list',
    commits: ['20211120045046.3940942-16-seanjc@google.com'],
    title: 'KVM: x86/mmu: Take TDP MMU roots off list when invalidating all roots (proposed, not merged)',
    version: 'never merged (posted 2021-11-20, withdrawn 2021-12-14)',
    description:
      'What-if: invalidating all roots moves them to a caller-local list and WARNs on any reference to an invalid root, so MMU-notifier unmaps no longer reach roots still being zapped (the use-after-free hazard that got it withdrawn).',
    source:
      "the patch (15/28 of the 2021-11-20 TDP MMU series) and Sean Christopherson's reply of 2021-12-14 withdrawing it",
    whatIf: true,
  },
  // Other all-roots invalidations (issue 19, item 5).
  {
    name: 'cr0_cd_noncoherent_zap',
    commits: ['0a7b73559b39497fae1b7b3d4bab69895097c37e'],
    title: 'KVM: x86: Remove VMX support for virtualizing guest MTRR memtypes (removed the CR0.CD zap)',
    version: '≤v5.15 … v6.10',
    description:
      'A guest CR0.CD toggle with non-coherent DMA assigned and KVM_X86_QUIRK_CD_NW_CLEARED disabled zaps the leaf SPTEs of every gfn (kvm_zap_gfn_range(0, ~0)) under every root; no root is freed or invalidated.',
    source:
      'x86.c kvm_post_set_cr0, v5.15 (read) and v6.6; removed by 0a7b73559b39 in the "KVM x86 MTRR virtualization removal" pull for 6.11 (kvm-x86-mtrrs-6.11)',
  },
  {
    name: 'cr0_cd_zap_honors_guest_mtrrs',
    commits: ['20230616023524.7203-1-yan.y.zhao@intel.com'],
    title: 'KVM: x86/mmu: Use KVM honors guest MTRRs helper when CR0.CD toggles',
    version: 'v6.7 (believed; merged with the "refine memtype related mmu zap" series)',
    description:
      'The CR0.CD zap needs kvm_mmu_honors_guest_mtrrs instead of only non-coherent DMA: TDP on and a non-zero shadow_memtype_mask, i.e. EPT (never NPT or shadow paging).',
    source:
      'x86.c kvm_post_set_cr0, the v3 patch of 2023-06-16 (the diff swaps kvm_arch_has_noncoherent_dma for kvm_mmu_honors_guest_mtrrs); no profile has it alone (v6.6 predates it, v6.12 has neither)',
    requires: ['cr0_cd_noncoherent_zap'],
  },
  // Model corrections (issue 14, item 5): each read in the kernel source named in `source` (kernel-notes §5).
  {
    name: 'nnpt_strips_pke',
    commits: ['28f091bc2f8c23b7eac2402956b692621be7f9f4'],
    title: 'KVM: MMU: shadow nested paging does not have PKU',
    version: 'v5.16',
    description:
      "kvm_init_shadow_npt_mmu clears CR4.PKE from L1's CR4 before computing the nested-NPT role, so cr4_pke is 0 in the guest_mmu extended role; without it a PKE toggle in L1 changes the guest_mmu role.",
    source:
      'mmu.c kvm_init_shadow_npt_mmu, v5.15 vs v5.16; the 5.15 stable review of 2021-12-06 names 28f091bc2f8c upstream',
    stable: '5.15.y carries it from 5.15.7 (Debian 5.15.15-1); mainline v5.15.0 does not.',
  },
  {
    name: 'nvmx_vpid12_flush_guest',
    commits: ['712494de96f35f3e146b36b752c2afe0fdc0f0cc'],
    title: 'KVM: nVMX: Emulate guest TLB flush on nested VM-Enter with new vpid12',
    version: 'v5.16',
    description:
      'A nested VM-Enter with a new non-zero vpid12 requests KVM_REQ_TLB_FLUSH_GUEST; before, nested_vmx_transition_tlb_flush only flushed vpid02 in hardware (vpid_sync_context) and raised no request.',
    source:
      'vmx/nested.c nested_vmx_transition_tlb_flush, v5.15 vs v5.16; the 5.15 stable review of 2021-12-06 names 712494de96f3 upstream, and it is in the kvm.git queue push of 2021-11-26',
    stable: '5.15.y carries it from 5.15.7 (Debian 5.15.15-1); mainline v5.15.0 does not.',
  },
  {
    name: 'cpuid_after_run_rejected',
    commits: ['feb627e8d6f69c9a319fe279710959efb3eba873', 'c6617c61e8fe44b9e9fdfede921f61cac6b5149d'],
    title:
      'KVM: x86: Forbid KVM_SET_CPUID{,2} after KVM_RUN (relaxed by: KVM: x86: Partially allow KVM_SET_CPUID{,2} after KVM_RUN)',
    version: 'v5.16 (identical CPUID accepted again from v5.17)',
    description:
      'KVM_SET_CPUID after the vCPU has run fails with -EINVAL and changes nothing unless the CPUID is identical (the model compares MAXPHYADDR), which succeeds without touching the MMU; before, it was applied and reset the MMU.',
    source:
      'x86.c kvm_arch_vcpu_ioctl (v5.16) and cpuid.c kvm_set_cpuid / kvm_cpuid_check_equal (v5.17); the 5.16 stable review of 2022-01-24 names c6617c61e8fe upstream, and its Fixes: tag names feb627e8d6f6',
    stable: '5.16.y carries the relaxation (stable review of 2022-01-24); 5.15.y keeps accepting the change.',
  },
  {
    name: 'get_shadow_page_rename',
    commits: ['876546436db9775caee4cadf78edd2b5bf72ac84'],
    title: 'KVM: x86/mmu: Rename shadow MMU functions that deal with shadow pages',
    version: 'v6.0',
    description:
      'The shadow-page lookup that roots go through is kvm_mmu_get_shadow_page instead of kvm_mmu_get_page; a name in the call path only, nothing else changes.',
    source:
      'mmu.c mmu_alloc_root, v5.19 vs v6.0; in the kvm.git queue push of 2022-06-24 and in a tree tracking mainline during the 6.0 merge window (2022-08-05)',
  },
  {
    name: 'mmu_track_write',
    commits: ['932844462ae310493d0d21b1c5d7464d59702b4d'],
    title: "KVM: x86/mmu: Don't bounce through page-track mechanism for guest PTEs",
    version: 'v6.6',
    description:
      'An emulated guest write reaches the MMU directly (kvm_page_track_write → kvm_mmu_track_write) instead of through the page-track notifier KVM registered for itself (kvm_mmu_pte_write); a name in the call path only: write-flooding and misaligned-write zapping are the same.',
    source:
      'mmu/page_track.h kvm_page_track_write and mmu.c kvm_mmu_track_write, v6.1 vs v6.6.0; in a tree tracking mainline after the 6.6 merge window (jgg/iommufd push of 2023-10-31); the kvm-x86 copy was f1c58cdb8e04',
  },
]);

/** A behaviour name: exactly the table's names. */
export type BehaviourName = (typeof BEHAVIOURS)[number]['name'];
export type Behaviour = BehaviourEntry<BehaviourName>;

export interface Profile {
  readonly name: string;
  /** The kernel it stands for, e.g. "mainline v6.3.0" or "Debian 6.1.y (checked against 6.1.192)". */
  readonly release: string;
  readonly behaviours: readonly BehaviourName[];
  readonly note?: string;
  /** The kernel tag its source is read at (elixir.bootlin.com), when not the profile's name. */
  readonly tag?: string;
  /** For a stable line: the mainline profile it starts from and each backport with the package version that brought it. */
  readonly stable?: {
    readonly base: string;
    readonly backports: readonly { readonly behaviour: BehaviourName; readonly since: string }[];
  };
}

/** A resolved kernel: a profile plus `+`/`-` modifications. Immutable. */
export interface Kernel {
  readonly profile: Profile;
  readonly added: readonly BehaviourName[];
  readonly removed: readonly BehaviourName[];
  has(name: BehaviourName): boolean;
  /** Behaviours in effect, in table order. */
  readonly behaviours: readonly BehaviourName[];
  /** Per subsystem, which generation of KVM's code runs (resolved once). */
  readonly eras: Eras;
  /** The page and extended role layouts of this kernel (resolved once). */
  readonly roleLayouts: RoleLayouts;
  /** "v6.3 +tdp_mmu_root_ref" */
  readonly label: string;
}

const V5_15: readonly BehaviourName[] = [
  'cr0_cd_noncoherent_zap',
  'new_pgd_base_only_role',
  'invept_precise',
  'pge_role_bit',
  'pcide_clear_resets',
  'pcid0_frees_prev_roots',
  'flush_guest_unloads_shadow',
];
const V5_17: readonly BehaviourName[] = [
  'cr0_cd_noncoherent_zap',
  'new_pgd_base_only_role',
  'pdptrs_change_frees_root',
  'invept_precise',
  'has_4_byte_gpte',
  'efer_lma_ext_role',
  'pcide_reload',
  'notifier_skips_invalid_roots',
  'nnpt_strips_pke',
  'nvmx_vpid12_flush_guest',
  'cpuid_after_run_rejected',
];
const V6_1: readonly BehaviourName[] = [
  'cr0_cd_noncoherent_zap',
  'has_4_byte_gpte',
  'pdptrs_change_frees_root',
  'efer_lma_ext_role',
  'cached_root_find_without_current',
  'tlb_flush_split',
  'efer_lme_role_bit',
  'cpu_role_split',
  'passthrough_role',
  'free_obsolete_roots',
  'async_root_zap',
  'invept_precise',
  'nnpt_strips_pke',
  'nvmx_vpid12_flush_guest',
  'cpuid_after_run_rejected',
  'get_shadow_page_rename',
];
const V6_4: readonly BehaviourName[] = [
  ...V6_1,
  'tdp_mmu_root_ref',
  'cr0_wp_fast_path',
  'cr0_wp_nonpaging_ignored',
  'cr0_wp_guest_owned',
  'roots_all_mask',
];
const V6_6: readonly BehaviourName[] = [
  ...V6_4.filter((b) => b !== 'async_root_zap'),
  'sync_invalidated_zap',
  'dummy_root',
  'mmu_track_write',
];
const V6_12: readonly BehaviourName[] = [
  ...V6_6.filter((b) => b !== 'cr0_cd_noncoherent_zap'),
  'tdp_mmu_alloc_root',
  'cpuid_invalid_root_role',
  'sregs_flush_guest',
  'slot_zap_all_quirk',
];
const V6_18: readonly BehaviourName[] = [...V6_12, 'nnpt_guest_mode_first', 'is_mirror_role'];

/** Debian bookworm's 6.1.y: each backport with the first Debian package version whose changelog lists it. */
const V6_1_Y_BACKPORTS = [
  { behaviour: 'cr0_wp_fast_path', since: '6.1.37-1' },
  { behaviour: 'cr0_wp_guest_owned', since: '6.1.37-1' },
  { behaviour: 'tdp_mmu_root_ref', since: '6.1.52-1' },
  { behaviour: 'sync_invalidated_zap', since: '6.1.64-1' },
  { behaviour: 'nnpt_guest_mode_first', since: '6.1.129-1' },
] as const satisfies readonly { behaviour: BehaviourName; since: string }[];
const V6_12_Y_BACKPORTS = [{ behaviour: 'nnpt_guest_mode_first', since: '6.12.16-1' }] as const satisfies readonly {
  behaviour: BehaviourName;
  since: string;
}[];

function stableLine(
  base: readonly BehaviourName[],
  backports: readonly { behaviour: BehaviourName }[],
  replaced: readonly BehaviourName[],
): readonly BehaviourName[] {
  const set = new Set<BehaviourName>(base);
  for (const r of replaced) set.delete(r);
  for (const b of backports) set.add(b.behaviour);
  return [...set];
}

export const PROFILES: readonly Profile[] = [
  {
    name: 'v5.15',
    release: 'mainline v5.15.0',
    behaviours: V5_15,
    note: '5.15.y stable differs: it has efer_lma_ext_role (from 5.15.5), nnpt_strips_pke and nvmx_vpid12_flush_guest (from 5.15.7) and efer_lme_role_bit (by 5.15.100).',
  },
  { name: 'v5.17', release: 'mainline v5.17', behaviours: V5_17 },
  {
    name: 'v6.1',
    release: 'mainline v6.1.0',
    behaviours: V6_1,
    note: 'Debian 6.1.y carries later TDP MMU and CR0.WP work: see v6.1.y.',
  },
  {
    name: 'v6.1.y',
    release: "Debian bookworm's 6.1.y kernels from 6.1.129-1 (compared with 6.1.192-3)",
    behaviours: stableLine(V6_1, V6_1_Y_BACKPORTS, ['async_root_zap']),
    stable: { base: 'v6.1', backports: V6_1_Y_BACKPORTS },
    tag: 'v6.1.192',
    note: 'Its CR0.WP backport stops before e40bcf9f3a18 (cr0_wp_nonpaging_ignored).',
  },
  {
    name: 'v6.3',
    release: 'mainline v6.3.0',
    behaviours: V6_1,
    note: '6.3.8 and later 6.3.y carry edbdb43f (tdp_mmu_root_ref) and the CR0.WP series.',
  },
  { name: 'v6.4', release: 'mainline v6.4', behaviours: V6_4 },
  { name: 'v6.6', release: 'mainline v6.6', behaviours: V6_6 },
  { name: 'v6.12', release: 'mainline v6.12', behaviours: V6_12 },
  {
    name: 'v6.12.y',
    release: "Debian bookworm's 6.12.y kernels from 6.12.16-1 (compared with 6.12.117-1~deb12u1)",
    behaviours: stableLine(V6_12, V6_12_Y_BACKPORTS, []),
    stable: { base: 'v6.12', backports: V6_12_Y_BACKPORTS },
    tag: 'v6.12.117',
  },
  { name: 'v6.18', release: 'mainline v6.18 (verified identical through v6.19.0)', behaviours: V6_18 },
  { name: 'latest', release: 'the newest profile, = v6.18', behaviours: V6_18 },
];

export const DEFAULT_PROFILE = 'latest';

/** The eras a profile's own behaviours resolve to. */
export function profileEras(p: Profile): Eras {
  return resolveEras((name) => p.behaviours.includes(name as BehaviourName));
}

const BY_NAME = new Map<string, Behaviour>(BEHAVIOURS.map((b) => [b.name, b]));
const PROFILE_BY_NAME = new Map(PROFILES.map((p) => [p.name, p]));

export function findBehaviour(name: string): Behaviour | undefined {
  return BY_NAME.get(name);
}

export function findProfile(name: string): Profile | undefined {
  return PROFILE_BY_NAME.get(name);
}

/**
 * Builds a kernel from a profile and modifications; names must already be validated, and the combination
 * should have passed `checkKernel` (resolve.ts) — `makeKernel` itself does not judge it.
 */
export function makeKernel(
  profile: Profile,
  added: readonly BehaviourName[] = [],
  removed: readonly BehaviourName[] = [],
): Kernel {
  const set = new Set<BehaviourName>(profile.behaviours);
  for (const b of added) set.add(b);
  for (const b of removed) set.delete(b);
  const behaviours = BEHAVIOURS.map((b) => b.name).filter((n) => set.has(n));
  const label = [profile.name, ...added.map((b) => `+${b}`), ...removed.map((b) => `-${b}`)].join(' ');
  const has = (name: BehaviourName): boolean => set.has(name);
  const eras = resolveEras((name) => set.has(name as BehaviourName));
  return { profile, added, removed, behaviours, label, has, eras, roleLayouts: resolveRoleLayouts(has) };
}

/** The kernel for a profile name (throws on an unknown name: callers validate first). */
export function kernelFor(profileName: string = DEFAULT_PROFILE): Kernel {
  const p = findProfile(profileName);
  if (!p) throw new Error(`unknown profile ${profileName}`);
  return makeKernel(p);
}

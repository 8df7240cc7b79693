/**
 * Kernel behaviours and profiles: the one place where "which kernel does what" lives.
 * The model asks `kernel.has('name')` at the single spot the behaviour matters; nothing else in the
 * model compares versions. Sources: ../shared/kvm/facts.md sections (cited per entry) and
 * docs/kernel-notes.md for what was verified in kernel source beyond facts.md.
 */

export type BehaviourName =
  | 'gpte_is_8_bytes'
  | 'has_4_byte_gpte'
  | 'efer_lma_ext_role'
  | 'pge_role_bit'
  | 'pcid0_frees_prev_roots'
  | 'flush_guest_unloads_shadow'
  | 'pcide_reload'
  | 'pcide_clear_resets'
  | 'tlb_flush_split'
  | 'pcide_shadow_unload'
  | 'new_pgd_base_only_role'
  | 'cached_root_find_without_current'
  | 'efer_lme_role_bit'
  | 'cpu_role_split'
  | 'passthrough_role'
  | 'async_root_zap'
  | 'free_obsolete_roots'
  | 'notifier_skips_invalid_roots'
  | 'tdp_mmu_root_ref'
  | 'cr0_wp_fast_path'
  | 'cr0_wp_guest_owned'
  | 'roots_all_mask'
  | 'sync_invalidated_zap'
  | 'dummy_root'
  | 'tdp_mmu_alloc_root'
  | 'cpuid_invalid_root_role'
  | 'sregs_flush_guest'
  | 'slot_zap_all_quirk'
  | 'nnpt_guest_mode_first'
  | 'is_mirror_role'
  | 'invept_precise'
  | 'invalidated_roots_off_list';

export interface Behaviour {
  readonly name: BehaviourName;
  /** Upstream commit id(s) (12+ hex digits) or a Message-Id/Link where the hash is not known. */
  readonly commits: readonly string[];
  /** Commit title (or, for a behaviour later removed, the title of what removed it). */
  readonly title: string;
  /** First mainline version with the behaviour, e.g. "v6.4"; for removed behaviours "≤v5.15 … v5.15". */
  readonly version: string;
  /** One sentence: what the model does differently when the behaviour is present. */
  readonly description: string;
  /** Where this comes from: facts.md section and/or kernel file/function. */
  readonly source: string;
  /** A proposal that was never merged: in no profile, only reachable with `+name`. */
  readonly whatIf?: boolean;
  /** Stable-backport note shown in hover. */
  readonly stable?: string;
}

export interface Profile {
  readonly name: string;
  /** The mainline release it stands for, e.g. "v6.3 (mainline v6.3.0)". */
  readonly release: string;
  /** facts.md era: E1 … E5. */
  readonly era: string;
  readonly behaviours: readonly BehaviourName[];
  readonly note?: string;
}

/** A resolved kernel: a profile plus `+`/`-` modifications. Immutable. */
export interface Kernel {
  readonly profile: Profile;
  readonly added: readonly BehaviourName[];
  readonly removed: readonly BehaviourName[];
  has(name: BehaviourName): boolean;
  /** Behaviours in effect, in table order. */
  readonly behaviours: readonly BehaviourName[];
  /** "v6.3 +tdp_mmu_root_ref" */
  readonly label: string;
}

/*
 * The table. Order: roughly chronological. A commit id is recorded only when it was verified (the rule and the
 * evidence for each are in docs/kernel-notes.md); one that could not be would be marked "title only".
 */
export const BEHAVIOURS: readonly Behaviour[] = [
  {
    name: 'pge_role_bit',
    commits: ['a91a7c7096005113d8e749fd8dfdd3e1eecee263'],
    title: "KVM: X86: Don't reset mmu context when toggling X86_CR4_PGE (removal)",
    version: '≤v5.15 (removed in v5.16)',
    description:
      'CR4.PGE is in KVM_MMU_CR4_ROLE_BITS, so toggling it resets the MMU (unloads every root) instead of only flushing the guest TLB.',
    source:
      'facts §2.5, §4.2 (mmu.h KVM_MMU_CR4_ROLE_BITS, K5.15 vs K5.17); docs/kernel-notes.md (commit a91a7c709600, v5.16)',
  },
  {
    name: 'pcid0_frees_prev_roots',
    commits: ['509bfe3d979672cd69c318d520420cf95b474fd9'],
    title: 'KVM: X86: Cache CR3 in prev_roots when PCID is disabled (removal; introduced by 21823fbda552)',
    version: '≤v5.15 (removed in v5.16)',
    description:
      'A flushing MOV CR3 or single-context INVPCID frees every prev_roots slot whose PGD has the same PCID; with PCIDE=0 every PGD has PCID 0, so every CR3 write empties prev_roots, TDP included.',
    source:
      'facts §4.4 step 5 (x86.c kvm_invalidate_pcid, K5.15); docs/kernel-notes.md (509bfe3d9796 undoes the prev_roots wipe that 21823fbda552 "Invalidate all PGDs for the current PCID on MOV CR3 w/ flush" caused with PCIDE=0)',
  },
  {
    name: 'flush_guest_unloads_shadow',
    commits: ['61b05a9fd4aec2dff0bbdf9d16ee000b24b33f41'],
    title: "KVM: X86: Don't unload MMU in kvm_vcpu_flush_tlb_guest() (removal)",
    version: '≤v5.15 (removed in v5.16)',
    description:
      'With shadow paging a guest TLB flush (INVPCID all-context, nested transitions without VPID) unloads every root instead of syncing them.',
    source: 'facts §4.5 (x86.c kvm_vcpu_flush_tlb_guest, K5.15 vs K5.17); docs/kernel-notes.md (61b05a9fd4ae, v5.16)',
  },
  {
    name: 'has_4_byte_gpte',
    commits: ['bb3b394d35e80d7a58ce015191e4960a13f54ba5'],
    title: 'KVM: X86: Rename gpte_is_8_bytes to has_4_byte_gpte and invert the direction',
    version: 'v5.17',
    description:
      'Page-role bit 4 is has_4_byte_gpte (1 for 32-bit non-PAE guest page tables) instead of gpte_is_8_bytes (the inverse).',
    source:
      'facts §1.1 (kvm_host.h, K5.15 vs K5.17); docs/kernel-notes.md (listed in the "First batch of KVM changes for Linux 5.17" pull)',
  },
  {
    name: 'efer_lma_ext_role',
    commits: ['b8453cdcf26020030da182f0156d7bf59ae5719f'],
    title: 'KVM: x86/mmu: include EFER.LMA in extended mmu role',
    version: 'v5.16 (v5.16-rc2)',
    description:
      'EFER.LMA is an extended-role bit, so a switch between PAE and 64-bit paging that changes nothing else still re-initialises the MMU; without it the re-init is skipped and the guest root level goes stale (seed 001).',
    source:
      'facts §1.2, §2.2; seed 001 (Sean Christopherson, 2021-11-10); docs/kernel-notes.md (5.15.5 stable backport cites it as upstream)',
    stable: '5.15.y carries it from 5.15.5 (stable review of 2021-11-24); mainline v5.15.0 does not.',
  },
  {
    name: 'pcide_reload',
    commits: ['509bfe3d979672cd69c318d520420cf95b474fd9'],
    title:
      'KVM: X86: Cache CR3 in prev_roots when PCID is disabled (its kvm_post_set_cr4 part; ended by f6d0a2521ce1 "KVM: x86: Invoke kvm_mmu_unload() directly on CR4.PCIDE change")',
    version: 'v5.16 (v5.16/v5.17 only; ended in v5.18)',
    description: 'Any CR4.PCIDE toggle requests KVM_REQ_MMU_RELOAD (a full unload at the next entry).',
    source:
      'facts §4.2 (x86.c kvm_post_set_cr4, K5.17); docs/kernel-notes.md (509bfe3d9796 adds the request; both commits in torvalds/linux master pushes)',
  },
  {
    name: 'pcide_clear_resets',
    commits: ['552617382c197949ff965a3559da8952bf3c1fa5'],
    title:
      'KVM: X86: Don\'t reset mmu context when X86_CR4_PCIDE 1->0 (removal; the reset dates from ad756a1603c5 "KVM: VMX: Implement PCID/INVPCID for guests with EPT")',
    version: '≤v5.15 (removed in v5.16)',
    description:
      'Clearing CR4.PCIDE resets the MMU (kvm_mmu_reset_context, every root unloaded) like a role-bit change; later kernels request a reload (v5.17) or only flush the guest TLB.',
    source:
      'facts §4.2 (x86.c kvm_post_set_cr4, K5.15); docs/kernel-notes.md (552617382c19: stable backports name it upstream)',
  },
  {
    name: 'tlb_flush_split',
    commits: ['b5f61c035d49a9724015ae5003109113d0914720'],
    title: 'KVM: x86: flush TLB separately from MMU reset',
    version: 'v5.18',
    description:
      'CR0/CR4 writes raise their own TLB-flush requests instead of relying on the MMU reset: KVM_REQ_TLB_FLUSH_GUEST when CR0.PG is cleared or CR4.PGE/PCIDE change, KVM_REQ_TLB_FLUSH_CURRENT when CR4.PAE changes or CR4.SMEP is set, and shadow paging unloads on CR4.PCIDE 0→1.',
    source:
      'facts §4.1, §4.2 (x86.c kvm_post_set_cr0/kvm_post_set_cr4, K5.17 vs K5.19); docs/kernel-notes.md (torvalds/linux master push of 2022-03-24)',
  },
  {
    name: 'new_pgd_base_only_role',
    commits: ['d2e5f3334169ab1bbbf13902e9fc8ef605ba824d'],
    title: "KVM: x86/mmu: Always use current mmu's role when loading new PGD (removal)",
    version: '≤v5.17 (removed in v5.18)',
    description:
      'The fast PGD switch compares cached roots against a base-only role in which smep_andnot_wp/smap_andnot_wp are always 0, and only switches when both the old guest and KVM root levels are ≥4.',
    source:
      'facts §3.5.1 (mmu.c __kvm_mmu_new_pgd, K5.15, K5.17); docs/kernel-notes.md (d2e5f3334169 in the kvm/next push of 2022-03-06)',
  },
  {
    name: 'cached_root_find_without_current',
    commits: ['5499ea73e7db5113bb6f60c9122495ddcd900940'],
    title: 'KVM: x86/mmu: look for a cached PGD when going from 32-bit to 64-bit',
    version: 'v5.18',
    description:
      'fast_pgd_switch uses mmu->root_role, frees PAE/special current roots first, and looks in prev_roots even when the current root is invalid (cached_root_find_without_current).',
    source:
      'facts §3.5.2 (mmu.c fast_pgd_switch, K5.19…K6.19); docs/kernel-notes.md (kvm/next push of 2022-03-06, with d2e5f3334169)',
  },
  {
    name: 'efer_lme_role_bit',
    commits: ['d6174299365ddbbf491620c0b8c5ca1a6ef2eea5'],
    title: 'KVM: x86: Reinitialize context if host userspace toggles EFER.LME',
    version: 'v5.18',
    description: 'KVM_MMU_EFER_ROLE_BITS = LME|NX: an EFER.LME change resets the MMU, not only an EFER.NX change.',
    source:
      'facts §2.5, §4.3 (x86.c set_efer); docs/kernel-notes.md (kvm/next push of 2022-03-06; 5.15.y backport cites it as upstream)',
    stable: 'Backported to 5.15.y (stable review of 2022-04-05; present in 5.15.100).',
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
      'facts §1.2, §1.3, §2.3 (mmu.c kvm_calc_cpu_role, kvm_calc_tdp_mmu_root_page_role, K5.19); docs/kernel-notes.md (Paolo Bonzini series, kvm/queue 2022-04-29 and next-20220513)',
  },
  {
    name: 'passthrough_role',
    commits: ['84e5ffd045f33e4fa32370135436d987478d0bf7', '767d8d8d503f946c7a67735e77dea7e1c9cb6b51'],
    title: 'KVM: X86/MMU: Fix shadowing 5-level NPT for 4-level NPT L1 guest (with: KVM: X86/MMU: Add sp_has_gptes())',
    version: 'v5.19',
    description: 'Page-role bit 18 is passthrough, set for a 5-level nested-NPT root that shadows a 4-level L1 NPT.',
    source: 'facts §1.1, §2.3.4 (kvm_host.h, K5.19); docs/kernel-notes.md (kvm/queue 2022-04-29, next-20220513)',
  },
  {
    name: 'free_obsolete_roots',
    commits: ['527d5cd7eece9f9f5e9c5b6692cd6814a46df6fe'],
    title: 'KVM: x86/mmu: Zap only obsolete roots if a root shadow page is zapped',
    version: 'v5.18',
    description:
      'Zapping roots requests KVM_REQ_MMU_FREE_OBSOLETE_ROOTS (drop only obsolete/invalid roots) instead of KVM_REQ_MMU_RELOAD (unload everything).',
    source:
      'facts §3.7, §4.13 (x86.c vcpu_enter_guest, K5.17 vs K5.19); docs/kernel-notes.md (Fixes: tag of a later fix, which says it "escaped into v5.18")',
  },
  {
    name: 'async_root_zap',
    commits: ['22b94c4b63ebf2cf976d6f4eba230105984a7eb6'],
    title: 'KVM: x86/mmu: Zap invalidated roots via asynchronous worker',
    version: 'v5.18 … v6.5',
    description:
      'Invalidated TDP MMU roots are zapped by a per-VM workqueue (tdp_mmu_zap_wq) that holds its own reference; a put that reaches 0 on a valid root marks it invalid and queues it.',
    source: 'facts §5.3 (tdp_mmu.c, K5.19…K6.4s); docs/kernel-notes.md (hash from a later Fixes: tag)',
  },
  {
    name: 'notifier_skips_invalid_roots',
    commits: ['d62007edf01f5c11f75d0f4b1e538fc52a5b1982'],
    title:
      'tdp_mmu_next_root skips invalid roots for MMU-notifier unmaps (ended by d62007edf01f "KVM: x86/mmu: Zap _all_ roots when unmapping gfn range in TDP MMU")',
    version: 'v5.17 (ended in v5.18)',
    description:
      'MMU-notifier unmaps walk only valid TDP MMU roots, so a root that was invalidated but is still being zapped keeps SPTEs the notifier should have zapped (the hazard Sean describes in seed 003).',
    source:
      'facts §4.14 (tdp_mmu.c kvm_tdp_mmu_unmap_gfn_range, K5.17-rc5); seed 003; docs/kernel-notes.md (commit evidence)',
  },
  {
    name: 'tdp_mmu_root_ref',
    commits: ['edbdb43fc96b11b3bfa531be306a1993d9fe89ec'],
    title: 'KVM: x86: Preserve TDP MMU roots until they are explicitly invalidated',
    version: 'v6.4',
    description:
      'The TDP MMU holds its own reference to every root it allocates (refcount starts at 2) until the root is invalidated, so vCPUs unloading roots (SMI/RSM, resets) no longer free them.',
    source: 'facts §5.4; seed 000 (commit message)',
    stable: '6.3.8 and later 6.3.y, and 6.1.y from a 2023-08 backport, carry it.',
  },
  {
    name: 'cr0_wp_fast_path',
    commits: ['01b31714bd90be2784f7145bf93b7f78f3d081e1', 'e40bcf9f3a187126ce74a05d3b177fc16874446f'],
    title: 'KVM: x86: Do not unload MMU roots when only toggling CR0.WP with TDP enabled',
    version: 'v6.4',
    description:
      'With TDP, a CR0 write that toggles only WP re-initialises the MMU (kvm_init_mmu) without unloading roots; with CR0.PG=0 it does nothing.',
    source:
      'facts §4.1 (x86.c kvm_post_set_cr0, K6.3s/K6.4s); docs/kernel-notes.md (6.3.y backport cites 01b31714bd90 as upstream; e40bcf9f3a18 "Ignore CR0.WP toggles in non-paging mode" is the PG=0 half)',
    stable: '6.3.y and 6.1.y carry it (Mathias Krause backports posted 2023-05-12 and 2023-05-08); 6.3.8 has it.',
  },
  {
    name: 'cr0_wp_guest_owned',
    commits: ['fb509f76acc8d42bed11bca308404f81c2be856a'],
    title: 'KVM: VMX: Make CR0.WP a guest owned bit',
    version: 'v6.4',
    description: 'With EPT, CR0.WP is guest-owned on VMX: a guest MOV CR0 that flips only WP (and TS) does not exit.',
    source:
      'facts §4.0, §4.1 (kvm_cache_regs.h KVM_POSSIBLE_CR0_GUEST_BITS, vmx.c); docs/kernel-notes.md (hash from the linux-next push before the v6.4 merge window)',
    stable: '6.3.8 carries it.',
  },
  {
    name: 'roots_all_mask',
    commits: ['f94db0c8b9fa50296d00e236e2416aea11186e18'],
    title:
      'KVM: x86/mmu: Sanity check input to kvm_mmu_free_roots() (KVM_MMU_ROOTS_ALL = BIT(1 + KVM_MMU_NUM_PREV_ROOTS) - 1)',
    version: 'v6.4',
    description: 'KVM_MMU_ROOTS_ALL is 0xF instead of ~0UL; no change in which roots are freed.',
    source: 'facts §3.1 (kvm_host.h, K6.4s); docs/kernel-notes.md (commit evidence)',
  },
  {
    name: 'sync_invalidated_zap',
    commits: ['0df9dab891ff0d9b646d82e4fe038229e4c02451'],
    title: 'KVM: x86/mmu: Stop zapping invalidated TDP MMU roots asynchronously',
    version: 'v6.6',
    description:
      'The zap workqueue is gone: invalidation flags roots (tdp_mmu_scheduled_root_to_zap) and kvm_tdp_mmu_zap_invalidated_roots zaps them synchronously, then puts the TDP MMU reference.',
    source: 'facts §5.5 (tdp_mmu.c, K6.6s)',
    stable: 'Backported to 6.1.y (2023-10).',
  },
  {
    name: 'dummy_root',
    commits: ['0e3223d8d00ac05849661f1b8b476d3caca251cf'],
    title: 'KVM: x86/mmu: Use dummy root, backed by zero page, for !visible guest roots',
    version: 'v6.6',
    description: 'A shadow-paging guest CR3 outside any visible memslot gets a dummy root instead of a triple fault.',
    source: 'facts §5.5, §6.1; docs/kernel-notes.md (commit evidence)',
  },
  {
    name: 'tdp_mmu_alloc_root',
    commits: ['dab285e4ec736d964cfa6c7fd6eebd22666b5ebc'],
    title: 'KVM: x86/mmu: Alloc TDP MMU roots while holding mmu_lock for read',
    version: 'v6.9',
    description:
      'Root lookup/allocation is kvm_tdp_mmu_alloc_root under mmu_lock held for read; kvm_mmu_free_roots takes the read lock for TDP MMU roots.',
    source: 'facts §5.6 (tdp_mmu.c, K6.12); docs/kernel-notes.md (commit evidence)',
  },
  {
    name: 'cpuid_invalid_root_role',
    commits: ['1bc26cb9090246190e8c540f5aa201cea2f895a1'],
    title: 'KVM: x86/mmu: Precisely invalidate MMU root_role during CPUID update',
    version: 'v6.9',
    description:
      'KVM_SET_CPUID marks root_role invalid (role.invalid=1) instead of zeroing it, forcing the next re-init.',
    source: 'facts §2.5 (mmu.c kvm_mmu_after_set_cpuid, K6.12); docs/kernel-notes.md (commit evidence)',
  },
  {
    name: 'sregs_flush_guest',
    commits: ['4346db6e6e7a63c25a2f6dd93f4613d6a17dbd4e'],
    title: 'KVM: x86: Force TLB flush on userspace changes to special registers',
    version: 'v6.7',
    description: 'After KVM_SET_SREGS resets the MMU, KVM also requests KVM_REQ_TLB_FLUSH_GUEST.',
    source: 'facts §4.8 (x86.c __set_sregs_common, K6.12 vs K6.6s); docs/kernel-notes.md (commit evidence)',
  },
  {
    name: 'slot_zap_all_quirk',
    commits: ['aa8d1f48d353b0469bff357183ee9df137d15ef0'],
    title: 'KVM: x86/mmu: Introduce a quirk to control memslot zap behavior (KVM_X86_QUIRK_SLOT_ZAP_ALL)',
    version: 'v6.12',
    description:
      'Memslot DELETE/MOVE zaps everything (kvm_mmu_zap_all_fast) only while the quirk is enabled (the default); with `vm slot_zap_all=off` it zaps only the slot and invalidates no root.',
    source: 'facts §4.12 (x86.c kvm_arch_flush_shadow_memslot, K6.12); docs/kernel-notes.md (commit evidence)',
  },
  {
    name: 'nnpt_guest_mode_first',
    commits: ['46d6c6f3ef0eaff71c2db6d77d4e2ebb7adac34f'],
    title: 'KVM: nSVM: Enter guest mode before initializing nested NPT MMU',
    version: 'v6.14',
    description: 'nSVM enters guest mode before building the nested NPT MMU, so nested-NPT roles have guest_mode=1.',
    source: 'facts §2.3.4, §4.11 (svm/nested.c, K6.12 vs K6.18s); docs/kernel-notes.md (commit evidence)',
  },
  {
    name: 'is_mirror_role',
    commits: ['6961ab0bae5282de221fed5fc3e9db2b9180c4d6'],
    title: 'KVM: x86/mmu: Add an is_mirror member for union kvm_mmu_page_role (TDX mirror roots)',
    version: 'v6.14',
    description: 'Page-role bit 19 is is_mirror (TDX mirror roots); layout only for non-TDX VMs.',
    source: 'facts §1.1 (kvm_host.h, K6.18s); docs/kernel-notes.md (commit evidence)',
  },
  {
    name: 'invept_precise',
    commits: ['ce8fe7b77bd8ee405295e349c82d0ef8c9788200'],
    title: 'KVM: nVMX: Free only the affected contexts when emulating INVEPT',
    version: '≤v5.15 (believed v5.8)',
    description:
      'Single-context INVEPT frees only guest_mmu roots whose EPTP matches; without it (the 2020 f8aa7e3958bc behaviour) every guest_mmu root is freed.',
    source: 'facts §4.10 (vmx/nested.c handle_invept, K5.15…K6.19); seed 002; docs/kernel-notes.md (commit evidence)',
  },
  {
    name: 'invalidated_roots_off_list',
    commits: ['20211120045046.3940942-16-seanjc@google.com'],
    title: 'KVM: x86/mmu: Take TDP MMU roots off list when invalidating all roots (proposed, not merged)',
    version: 'never merged (posted 2021-11-20, withdrawn 2021-12-14)',
    description:
      'What-if: invalidating all roots moves them to a caller-local list and WARNs on any reference to an invalid root, so MMU-notifier unmaps no longer reach roots still being zapped (the use-after-free hazard that got it withdrawn).',
    source: 'facts §5.7; seed 003 (patch 15/28 and Sean Christopherson, 2021-12-14)',
    whatIf: true,
  },
];

const E1_COMMON: readonly BehaviourName[] = ['new_pgd_base_only_role', 'invept_precise'];
const V5_15: readonly BehaviourName[] = [
  ...E1_COMMON,
  'pge_role_bit',
  'pcide_clear_resets',
  'pcid0_frees_prev_roots',
  'flush_guest_unloads_shadow',
];
const V5_17: readonly BehaviourName[] = [
  ...E1_COMMON,
  'has_4_byte_gpte',
  'efer_lma_ext_role',
  'pcide_reload',
  'notifier_skips_invalid_roots',
];
const V6_1: readonly BehaviourName[] = [
  'has_4_byte_gpte',
  'efer_lma_ext_role',
  'cached_root_find_without_current',
  'tlb_flush_split',
  'efer_lme_role_bit',
  'cpu_role_split',
  'passthrough_role',
  'free_obsolete_roots',
  'async_root_zap',
  'invept_precise',
];
const V6_4: readonly BehaviourName[] = [
  ...V6_1,
  'tdp_mmu_root_ref',
  'cr0_wp_fast_path',
  'cr0_wp_guest_owned',
  'roots_all_mask',
];
const V6_6: readonly BehaviourName[] = [
  ...V6_4.filter((b) => b !== 'async_root_zap'),
  'sync_invalidated_zap',
  'dummy_root',
];
const V6_12: readonly BehaviourName[] = [
  ...V6_6,
  'tdp_mmu_alloc_root',
  'cpuid_invalid_root_role',
  'sregs_flush_guest',
  'slot_zap_all_quirk',
];
const V6_18: readonly BehaviourName[] = [...V6_12, 'nnpt_guest_mode_first', 'is_mirror_role'];

export const PROFILES: readonly Profile[] = [
  {
    name: 'v5.15',
    release: 'mainline v5.15.0',
    era: 'E1',
    behaviours: V5_15,
    note: '5.15.y stable differs: it has efer_lma_ext_role (from 5.15.5) and efer_lme_role_bit (by 5.15.100).',
  },
  { name: 'v5.17', release: 'mainline v5.17', era: 'E1', behaviours: V5_17 },
  {
    name: 'v6.1',
    release: 'mainline v6.1.0',
    era: 'E2',
    behaviours: V6_1,
    note: '6.1.y stable later gained tdp_mmu_root_ref, sync_invalidated_zap and the CR0.WP series.',
  },
  {
    name: 'v6.3',
    release: 'mainline v6.3.0',
    era: 'E2',
    behaviours: V6_1,
    note: '6.3.8 and later 6.3.y carry edbdb43f (tdp_mmu_root_ref) and the CR0.WP series.',
  },
  { name: 'v6.4', release: 'mainline v6.4', era: 'E3', behaviours: V6_4 },
  { name: 'v6.6', release: 'mainline v6.6', era: 'E4', behaviours: V6_6 },
  { name: 'v6.12', release: 'mainline v6.12', era: 'E5', behaviours: V6_12 },
  { name: 'v6.18', release: 'mainline v6.18 (verified identical through v6.19.0)', era: 'E5', behaviours: V6_18 },
  { name: 'latest', release: 'the newest profile, = v6.18', era: 'E5', behaviours: V6_18 },
];

export const DEFAULT_PROFILE = 'latest';

const BY_NAME = new Map(BEHAVIOURS.map((b) => [b.name, b]));
const PROFILE_BY_NAME = new Map(PROFILES.map((p) => [p.name, p]));

export function findBehaviour(name: string): Behaviour | undefined {
  return BY_NAME.get(name as BehaviourName);
}

export function findProfile(name: string): Profile | undefined {
  return PROFILE_BY_NAME.get(name);
}

/** Builds a kernel from a profile and modifications; names must already be validated. */
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
  return { profile, added, removed, behaviours, label, has: (name) => set.has(name) };
}

/** The kernel for a profile name (throws on an unknown name: callers validate first). */
export function kernelFor(profileName: string = DEFAULT_PROFILE): Kernel {
  const p = findProfile(profileName);
  if (!p) throw new Error(`unknown profile ${profileName}`);
  return makeKernel(p);
}

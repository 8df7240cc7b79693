/**
 * The words of the scenario language as editor features need them: with a one-line description for
 * completion and hover. The parser owns the grammar; a test checks these words against its tables.
 */
import { STAT_NAMES as ENGINE_STAT_NAMES } from '../engine/expect.js';

export interface Term {
  name: string;
  doc: string;
}

const term = (name: string, doc: string): Term => ({ name, doc });

export const HEADER_KEYWORDS: readonly Term[] = [
  term('kernel', 'Behaviour profile: `kernel v6.3`, optionally `+behaviour` / `-behaviour`. Default: latest.'),
  term('vm', 'VM configuration: `vm vendor=intel tdp=on tdp_mmu=on max_tdp_level=4 maxphyaddr=46 vcpus=2 nested=on`.'),
];

export const REGISTERS: readonly Term[] = [
  term('cr0', 'Guest MOV to CR0: `cr0 = PE|PG`, `cr0 |= WP`, `cr0 &= ~WP`.'),
  term('cr3', 'Guest MOV to CR3: `cr3 = 0x1000 pcid=1 noflush`.'),
  term('cr4', 'Guest MOV to CR4: `cr4 = PAE|LA57|PCIDE`.'),
  term('efer', 'Guest WRMSR to EFER: `efer = LME|LMA|NX`.'),
];

export const EVENTS: readonly Term[] = [
  term('vcpu', '`vcpu N` switches the following statements to vCPU N; `vcpu N: event` acts once without switching.'),
  term(
    'emulate',
    "`emulate cr3 = 0x2000`: KVM's emulator performs the write, whether or not the hardware would exit; `emulate write 0x1008 8`: it writes 8 bytes of guest memory at 0x1008.",
  ),
  term('run', 'VM-entry: service pending requests and load the MMU (allocate or reuse a root).'),
  term('smi', 'Enter SMM.'),
  term('rsm', 'Leave SMM.'),
  term('sregs', 'KVM_SET_SREGS from userspace: `sregs cr0=PE|PG cr4=PAE efer=LME|LMA cr3=0x2000`.'),
  term('init', 'INIT/RESET.'),
  term('invpcid', 'INVPCID: `invpcid single pcid=1`, `addr`, `all`, `all-global`.'),
  term('invlpg', 'INVLPG of a linear address: `invlpg 0x7000`.'),
  term(
    'vmenter',
    'Nested VM-Enter (VMLAUNCH/VMRUN): `vmenter ept=on eptp=0x501e cr0=PE|PG …`; AMD: `npt=on ncr3=0x…`.',
  ),
  term('vmexit', 'Nested VM-Exit back to L1.'),
  term('invept', 'INVEPT: `invept single 0x501e` or `invept global`.'),
  term('invvpid', 'INVVPID: `invvpid single vpid=1` or `invvpid all`.'),
  term('vmxon', 'VMXON (Intel, L1): enter VMX operation; INIT is latched until `vmxoff`. Needs CR4.VMXE.'),
  term('vmxoff', 'VMXOFF (Intel, L1): leave VMX operation (`free_nested`: every guest_mmu root is freed).'),
  term(
    'vmclear',
    'VMCLEAR of a vmcs12 (Intel, L1): `vmclear 0x7000`; the current vmcs12 is released with every guest_mmu root.',
  ),
  term(
    'vmptrld',
    'VMPTRLD of a vmcs12 (Intel, L1): `vmptrld 0x7000`; a different vmcs12 releases the current one and its guest_mmu roots.',
  ),
  term('stgi', 'STGI (AMD, L1): set the global interrupt flag; a latched INIT can be taken again.'),
  term('clgi', 'CLGI (AMD, L1): clear the global interrupt flag; INIT is latched while GIF=0.'),
  term(
    'memslot',
    'Memslot change: `memslot create 2 gfn=0x100 pages=0x100` (base gfn and size), `memslot move 2 gfn=0x400`, `memslot delete 2`; without `gfn=`/`pages=` a slot has no layout (`memslot create 2`, `memslot move 1`).',
  ),
  term(
    'pdpt',
    'Guest memory: the four PAE PDPTEs at a 32-byte aligned address, `pdpt 0x1000 = 0x2001 0x3001 0 0` (bit 0: present). KVM reads them in load_pdptrs (CR3, CR0/CR4 and KVM_SET_SREGS under PAE paging); writing them exits nowhere.',
  ),
  term('notifier', 'MMU-notifier invalidation of a gfn range: `notifier unmap 0x1000..0x2000`.'),
  term(
    'cpuid',
    'KVM_SET_CPUID: `cpuid maxphyaddr=52`, and the features the MMU depends on: `cpuid pku=off la57=off pcid=on nx=on smep=on smap=on` (all start on); a CR4/EFER bit whose feature is off is reserved (#GP).',
  ),
  term(
    'nr_mmu_pages',
    'KVM_SET_NR_MMU_PAGES: `nr_mmu_pages 64` sets the shadow-page limit (at least 64); unreferenced shadow roots are recycled to stay under it (`stats.mmu_recycled`).',
  ),
  term(
    'nx_huge_pages',
    'Write the `nx_huge_pages` module parameter: `nx_huge_pages on`; a changed value zaps every root (kvm_mmu_zap_all_fast).',
  ),
  term(
    'mmio_gen',
    '`mmio_gen wrap`: a memslot update wraps the MMIO-SPTE generation to 0, so KVM zaps every root (kvm_mmu_zap_all_fast).',
  ),
  term('destroy', 'Destroy the current vCPU (`destroy vcpu`) or the VM (`destroy vm`).'),
  term(
    'decode',
    'Decode a page-role word (`decode role 0x000b04`) or a 64-bit cpu role (`decode cpu_role 0x…`); changes nothing.',
  ),
  term('expect', 'Check the state after the previous statement: `expect roots.live == 2`.'),
];

/** Words that only follow another keyword, documented for hover (`emulate write`). */
export const SUBWORD_TERMS: readonly Term[] = [
  term(
    'write',
    "`emulate write GPA BYTES`: KVM's emulator writes BYTES (1…16) at L1 guest-physical GPA (emulator_write_phys → kvm_page_track_write). A frame KVM shadows as a page table loses the written entry; a misaligned write, or the third since the shadow page was last used (write flooding), zaps the page — a root is then dropped by every vCPU.",
  ),
];

/** Words that may follow an event keyword. */
export const SUBWORDS: Readonly<Record<string, readonly string[]>> = {
  invpcid: ['single', 'addr', 'all', 'all-global', 'pcid='],
  invept: ['single', 'global'],
  invvpid: ['single', 'all', 'vpid='],
  memslot: ['delete', 'move', 'create'],
  notifier: ['unmap'],
  nx_huge_pages: ['on', 'off'],
  mmio_gen: ['wrap'],
  destroy: ['vcpu', 'vm'],
  decode: ['role', 'cpu_role'],
  emulate: ['cr0', 'cr3', 'cr4', 'efer', 'write'],
  sregs: ['cr0=', 'cr3=', 'cr4=', 'efer='],
  vmenter: ['ept=on', 'eptp=', 'npt=on', 'ncr3=', 'vpid=', 'cr0=', 'cr3=', 'cr4=', 'efer='],
  cpuid: ['maxphyaddr=', 'pku=', 'la57=', 'pcid=', 'nx=', 'smep=', 'smap='],
  cr3: ['pcid=', 'noflush'],
};

export interface VmKey extends Term {
  values: readonly string[];
  default: string;
}

export const VM_KEYS: readonly VmKey[] = [
  { name: 'vendor', values: ['intel', 'amd'], default: 'intel', doc: 'intel: VMX with EPT; amd: SVM with NPT.' },
  { name: 'tdp', values: ['on', 'off'], default: 'on', doc: 'Two-dimensional paging (EPT/NPT); off = shadow paging.' },
  {
    name: 'tdp_mmu',
    values: ['on', 'off'],
    default: 'on',
    doc: 'The TDP MMU (kvm.tdp_mmu); off = the shadow-page based direct MMU.',
  },
  {
    name: 'max_tdp_level',
    values: ['4', '5'],
    default: '4',
    doc: 'Host capability: 5 when the host supports 5-level EPT/NPT.',
  },
  {
    name: 'maxphyaddr',
    values: ['36', '39', '46', '48', '52'],
    default: '46',
    doc: 'Guest CPUID.0x80000008.EAX[7:0].',
  },
  { name: 'vcpus', values: ['1', '2', '4'], default: '1', doc: 'Number of vCPUs.' },
  {
    name: 'nested',
    values: ['on', 'off'],
    default: 'off',
    doc: 'Nested virtualisation (needed for vmenter, vmexit, invept, invvpid).',
  },
  {
    name: 'ad',
    values: ['on', 'off'],
    default: 'on',
    doc: 'EPT accessed/dirty bits (kvm_intel.ept_ad); NPT always has A/D.',
  },
  {
    name: 'slot_zap_all',
    values: ['on', 'off'],
    default: 'on',
    doc: 'KVM_X86_QUIRK_SLOT_ZAP_ALL (v6.12+): memslot delete/move zaps all roots; off: only what lies in the slot.',
  },
  {
    name: 'memory',
    values: ['all', 'slots'],
    default: 'all',
    doc: 'Guest memory: all = every gfn is in a visible memslot; slots = only the gfn ranges of the memslots created with `gfn=`/`pages=` (a CR3 outside them gets a dummy root on v6.6+, a triple fault before).',
  },
  {
    name: 'nx_huge_pages',
    values: ['on', 'off'],
    default: 'off',
    doc: 'The nx_huge_pages module parameter when the VM is created (`nx_huge_pages on|off` statements change it).',
  },
  {
    name: 'noncoherent_dma',
    values: ['on', 'off'],
    default: 'off',
    doc: 'A non-coherent DMA device is assigned (kvm_arch_register_noncoherent_dma).',
  },
  {
    name: 'cd_nw_cleared',
    values: ['on', 'off'],
    default: 'on',
    doc: 'KVM_X86_QUIRK_CD_NW_CLEARED; with it off and non-coherent DMA, a CR0.CD toggle zaps every gfn (≤ v6.10).',
  },
];

/** The counters `expect stats.<name>` reads (the engine's list). */
export const STAT_NAMES: readonly string[] = ENGINE_STAT_NAMES;

/** Expectation paths (SPEC §1.5); `root.role.<field>` is expanded per kernel by completion. */
export const EXPECT_PATHS: readonly Term[] = [
  term('roots.live', 'Roots not yet destroyed (valid or invalid).'),
  term('roots.valid', 'Live roots that are valid.'),
  term('roots.invalid', 'Live roots marked invalid (still referenced or being zapped).'),
  term('root.id', "The current vCPU's active MMU root id (no value when it has none)."),
  term('root.level', 'Level of that root (4 or 5; 3 for PAE).'),
  term('root.refcount', 'tdp_mmu_root_count / root_count of that root.'),
  term('root.role.', "A field of that root's page role, e.g. `root.role.smm`."),
  term('root.dummy', '1 when the current root is the dummy root (v6.6+: a guest root outside every memslot).'),
  term('pae_roots.count', 'Valid pae_root[0..3] entries of the active MMU (PAE and 32-bit shadow roots).'),
  term('prev_roots.count', 'Valid prev_roots slots of the active MMU.'),
  term('prev[0].id', 'Root id in prev_roots[0] (also prev[1], prev[2]).'),
  term('prev[1].id', 'Root id in prev_roots[1].'),
  term('prev[2].id', 'Root id in prev_roots[2].'),
  term('line.allocated', 'Roots allocated by the previous statement.'),
  term('line.freed', 'Roots destroyed by the previous statement.'),
  term('line.reused', 'Roots reused by the previous statement (reuse + cache_hit).'),
  term('mmu_pages.used', 'n_used_mmu_pages: shadow pages not yet freed (TDP MMU pages never count).'),
  term('mmu_pages.max', 'n_max_mmu_pages set by `nr_mmu_pages` (no value while the default applies).'),
  ...STAT_NAMES.map((s) => term(`stats.${s}`, `Counter \`${s}\`.`)),
  term('warnings', 'WARNs and hazards so far.'),
];

export const EXPECT_OPS: readonly string[] = ['==', '!=', '<', '<=', '>', '>='];

export function findTerm(terms: readonly Term[], name: string): Term | undefined {
  return terms.find((t) => t.name === name);
}

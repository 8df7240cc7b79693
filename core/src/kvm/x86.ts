/**
 * Control-register, EFER and CR3 writes, INVPCID/INVLPG, KVM_SET_SREGS, INIT, KVM_SET_CPUID and VM-entry
 * request servicing (arch/x86/kvm/x86.c, facts §3.7, §4.0–§4.9).
 *
 * Functions return null on success or the reason a write faults (#GP); a faulting write changes nothing.
 */
import { SharedActions } from './actions.js';
import {
  CPUID_FEATURE_BIT,
  CPUID_FEATURES,
  kvm_mmu_cr0_role_bits,
  kvm_mmu_cr4_role_bits,
  kvm_mmu_efer_role_bits,
} from '../kernel/regs.js';
import {
  activeMmu,
  kvm_init_mmu,
  kvm_mmu_free_obsolete_roots,
  kvm_mmu_free_roots,
  kvm_mmu_new_pgd,
  kvm_mmu_reload,
  kvm_mmu_reset_context,
  kvm_mmu_unload,
  kvm_zap_gfn_range_all,
  markRunning,
} from './mmu.js';
import {
  EFER_LMA,
  EFER_LME,
  EFER_NX,
  EFER_SCE,
  EFER_SVME,
  X86_CR0_CD,
  X86_CR0_MP,
  X86_CR0_PE,
  X86_CR0_PG,
  X86_CR0_TS,
  X86_CR0_WP,
  X86_CR4_LA57,
  X86_CR4_PAE,
  X86_CR4_PCIDE,
  X86_CR4_PGE,
  X86_CR4_PKE,
  X86_CR4_PSE,
  X86_CR4_SMEP,
  X86_CR4_VMXE,
  CR0_FLAGS,
  CR4_FLAGS,
} from '../kernel/regs.js';
import { setExtField, setRoleField } from '../kernel/role_layout.js';
import type { Ctx, VcpuState } from './state.js';
import {
  hex,
  VALID_PAGE,
  KVM_MMU_NUM_PREV_ROOTS,
  KVM_MMU_ROOT_PREVIOUS,
  kvm_check_request,
  kvm_make_request,
  kvm_vcpu_is_visible_gfn,
  KVM_MMU_ROOT_CURRENT,
  mmuOf,
  stat,
} from './state.js';
import { guestPdptes, pdptAddress, PT_PRESENT_MASK } from './shadow_mmu.js';

export type Fault = string | null;

const X86_CR0_ET = 1n << 4n;
const X86_CR0_NW = 1n << 29n;
const X86_CR3_PCID_MASK = 0xfffn;
const CR0_KNOWN = CR0_FLAGS.reduce((m, f) => m | (1n << BigInt(f.bit)), 0n);
const CR4_KNOWN = CR4_FLAGS.reduce((m, f) => m | (1n << BigInt(f.bit)), 0n);
const X86_CR4_SMXE = 1n << 14n;
const X86_CR4_PVI = 1n << 1n;
const X86_CR4_DE = 1n << 3n;
const X86_CR4_TSD = 1n << 2n;
const X86_CR4_PCE = 1n << 8n;
const X86_CR4_OSFXSR = 1n << 9n;
const X86_CR4_OSXMMEXCPT = 1n << 10n;
const X86_CR4_FSGSBASE = 1n << 16n;

const is = (reg: bigint, bits: bigint): boolean => (reg & bits) !== 0n;
export const is_paging = (v: VcpuState): boolean => is(v.cr0, X86_CR0_PG);
export const is_long_mode = (v: VcpuState): boolean => is(v.efer, EFER_LMA);
export const is_pae_paging = (v: VcpuState): boolean => is_paging(v) && is(v.cr4, X86_CR4_PAE) && !is_long_mode(v);

// ---------------------------------------------------------------------------------------------------
// Which guest writes reach KVM (facts §4.0)

/**
 * Whether a guest MOV to CR0/CR4/CR3 (or WRMSR EFER) exits to KVM. Writes that change only guest-owned
 * bits (VMX CR0/CR4 guest/host masks), CR3 loads with EPT/NPT and CR0 writes SVM's selective intercept
 * does not catch run without KVM noticing.
 */
export function guestWriteExits(c: Ctx, v: VcpuState, reg: 'cr0' | 'cr3' | 'cr4' | 'efer', value: bigint): boolean {
  const intel = c.vm.vendor === 'intel';
  switch (reg) {
    case 'efer':
      return true;
    case 'cr3':
      return !c.vm.tdp;
    case 'cr0': {
      const changed = v.cr0 ^ value;
      if (intel) {
        // KVM_POSSIBLE_CR0_GUEST_BITS: TS, plus WP with EPT from v6.4 (vmx_l1_guest_owned_cr0_bits).
        const owned = X86_CR0_TS | (c.kernel.has('cr0_wp_guest_owned') && c.vm.tdp ? X86_CR0_WP : 0n);
        return (changed & ~owned) !== 0n;
      }
      // SVM: without NPT every CR0 write is intercepted; with NPT the selective intercept ignores TS/MP.
      return !c.vm.tdp || (changed & ~(X86_CR0_TS | X86_CR0_MP)) !== 0n;
    }
    case 'cr4': {
      if (!intel) return true;
      // KVM_POSSIBLE_CR4_GUEST_BITS; without EPT the TLB-flush bit PGE stays intercepted.
      let owned =
        X86_CR4_PVI |
        X86_CR4_DE |
        X86_CR4_PCE |
        X86_CR4_OSFXSR |
        X86_CR4_OSXMMEXCPT |
        X86_CR4_PGE |
        X86_CR4_TSD |
        X86_CR4_FSGSBASE;
      if (!c.vm.tdp) owned &= ~X86_CR4_PGE;
      return ((v.cr4 ^ value) & ~owned) !== 0n;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// CR0

/** `kvm_set_cr0` → vendor set_cr0 (long-mode entry/exit) → `kvm_post_set_cr0`. */
export function kvm_set_cr0(c: Ctx, v: VcpuState, value: bigint): Fault {
  const saved = c.rec.enter('kvm_set_cr0');
  const cr0 = value | X86_CR0_ET;
  let fault = cr0Fault(v, cr0);
  // Turning on (or changing CD/NW under) PAE paging reloads the PDPTRs first: X86_CR0_PDPTR_BITS.
  if (!fault && !is(v.efer, EFER_LME) && is(cr0, X86_CR0_PG) && is(v.cr4, X86_CR4_PAE)) {
    if ((cr0 ^ v.cr0) & (X86_CR0_CD | X86_CR0_NW | X86_CR0_PG)) fault = load_pdptrs(c, v, v.cr3);
  }
  if (!fault) {
    const old = v.cr0;
    vendor_set_cr0(v, cr0);
    kvm_post_set_cr0(c, v, old, cr0);
  }
  c.rec.leave(saved);
  return fault;
}

/** Why `kvm_set_cr0` refuses `cr0` (kvm_is_valid_cr0 and the paging checks), or null. */
function cr0Fault(v: VcpuState, cr0: bigint): Fault {
  if (cr0 >> 32n) return 'CR0[63:32] are reserved';
  if (cr0 & ~CR0_KNOWN) return `reserved CR0 bits ${hex(cr0 & ~CR0_KNOWN)}`;
  if (is(cr0, X86_CR0_NW) && !is(cr0, X86_CR0_CD)) return 'CR0.NW without CR0.CD';
  if (is(cr0, X86_CR0_PG) && !is(cr0, X86_CR0_PE)) return 'CR0.PG without CR0.PE';
  if (!is_paging(v) && is(cr0, X86_CR0_PG) && is(v.efer, EFER_LME) && !is(v.cr4, X86_CR4_PAE)) {
    return 'CR0.PG with EFER.LME requires CR4.PAE';
  }
  if (!is(cr0, X86_CR0_PG) && is(v.cr4, X86_CR4_PCIDE)) return 'clearing CR0.PG with CR4.PCIDE=1';
  return null;
}

/** Vendor set_cr0: EFER.LMA follows CR0.PG while EFER.LME is set (enter_lmode / exit_lmode). */
export function vendor_set_cr0(v: VcpuState, cr0: bigint): void {
  if (is(v.efer, EFER_LME)) {
    if (!is_paging(v) && is(cr0, X86_CR0_PG)) v.efer |= EFER_LMA;
    if (is_paging(v) && !is(cr0, X86_CR0_PG)) v.efer &= ~EFER_LMA;
  }
  v.cr0 = cr0;
}

/** `tlb_flush_split`: CR0/CR4 writes raise their own TLB-flush requests (v5.18+ code shape). */
const tlbFlushSeparateFromReset = (c: Ctx): boolean => c.kernel.has('tlb_flush_split');

function kvm_post_set_cr0(c: Ctx, v: VcpuState, old: bigint, cr0: bigint): void {
  const saved = c.rec.enter('kvm_post_set_cr0');
  const changed = old ^ cr0;
  if (changed === X86_CR0_WP && !is(cr0, X86_CR0_PG) && c.kernel.has('cr0_wp_nonpaging_ignored')) {
    // e40bcf9f3a18: only CR0.WP with paging off — no permission bits to emulate, nothing to do.
  } else if (changed === X86_CR0_WP && c.vm.tdp && c.kernel.has('cr0_wp_fast_path')) {
    // 01b31714bd90: only CR0.WP with TDP — refresh the role, keep the roots. (With shadow paging a WP change
    // takes the path below: a role bit, so a reset — with paging off too, before e40bcf9f3a18.)
    kvm_init_mmu(c, v);
  } else {
    if (changed & X86_CR0_PG && !is(cr0, X86_CR0_PG) && tlbFlushSeparateFromReset(c)) {
      kvm_make_request(c, v, 'KVM_REQ_TLB_FLUSH_GUEST', 'CR0.PG cleared');
    }
    if (changed & kvm_mmu_cr0_role_bits(c.kernel)) kvm_mmu_reset_context(c, v);
  }
  if (changed & X86_CR0_CD && cd_toggle_zaps(c)) kvm_zap_gfn_range_all(c);
  c.rec.leave(saved);
}

/**
 * Whether a CR0.CD toggle zaps every gfn (kvm_post_set_cr0 up to v6.10): only with non-coherent DMA assigned and
 * KVM_X86_QUIRK_CD_NW_CLEARED disabled; from v6.7 also only when KVM honors guest MTRRs (EPT); gone in v6.11.
 */
function cd_toggle_zaps(c: Ctx): boolean {
  if (!c.kernel.has('cr0_cd_noncoherent_zap') || !c.vm.noncoherent_dma || c.vm.cd_nw_cleared) return false;
  if (c.kernel.has('cr0_cd_zap_honors_guest_mtrrs')) return c.vm.tdp && c.vm.vendor === 'intel';
  return true;
}

// ---------------------------------------------------------------------------------------------------
// CR4

function cr4Fault(c: Ctx, v: VcpuState, cr4: bigint): Fault {
  if (cr4 & ~CR4_KNOWN) return `reserved CR4 bits ${hex(cr4 & ~CR4_KNOWN)}`;
  if (is(cr4, X86_CR4_SMXE)) return 'CR4.SMXE: SMX is not exposed to guests';
  if (is(cr4, X86_CR4_VMXE) && (c.vm.vendor !== 'intel' || !c.vm.nested)) return 'CR4.VMXE needs nested VMX';
  // vmx.c vmx_is_valid_cr4 (v5.15 … v6.12): in VMX operation CR4 must stay nested_cr4_valid, so VMXE stays set.
  if (v.vmxon && !is(cr4, X86_CR4_VMXE)) return 'clearing CR4.VMXE in VMX operation (VMXOFF first)';
  // cpuid.c kvm_set_cpu_caps (v5.15 … v6.18): PKU is cleared when !tdp_enabled, so __cr4_reserved_bits makes
  // CR4.PKE reserved and kvm_is_valid_cr4 refuses it (kernel-notes §5).
  if (is(cr4, X86_CR4_PKE) && !c.vm.tdp) return 'CR4.PKE: KVM does not expose PKU without TDP, so the bit is reserved';
  // x86.c __cr4_reserved_bits (v5.15 … v6.12): a CR4 bit whose feature is not in the guest CPUID is reserved
  // (cr4_guest_rsvd_bits, set by kvm_vcpu_after_set_cpuid), so kvm_is_valid_cr4 refuses it: #GP.
  for (const f of CPUID_FEATURES) {
    const b = CPUID_FEATURE_BIT[f];
    if (b.reg === 'cr4' && !v.cpuid[f] && is(cr4, b.bit))
      return `${b.name}: ${f.toUpperCase()} is not in the guest CPUID (cpuid ${f}=off), so the bit is reserved`;
  }
  return null;
}

/** Why `kvm_set_cr4` refuses `cr4`: `cr4Fault`, then the checks against the current mode and CR3, or null. */
function setCr4Fault(c: Ctx, v: VcpuState, cr4: bigint): Fault {
  const bad = cr4Fault(c, v, cr4);
  if (bad) return bad;
  const old = v.cr4;
  if (is_long_mode(v)) {
    if (!is(cr4, X86_CR4_PAE)) return 'clearing CR4.PAE in long mode';
    if ((cr4 ^ old) & X86_CR4_LA57) return 'toggling CR4.LA57 in long mode';
  }
  if (is(cr4, X86_CR4_PCIDE) && !is(old, X86_CR4_PCIDE)) {
    if (!is_long_mode(v)) return 'CR4.PCIDE outside long mode';
    if (v.cr3 & X86_CR3_PCID_MASK) return 'CR4.PCIDE with CR3[11:0] != 0';
  }
  return null;
}

/** `kvm_set_cr4` → `kvm_post_set_cr4`. */
export function kvm_set_cr4(c: Ctx, v: VcpuState, cr4: bigint): Fault {
  const saved = c.rec.enter('kvm_set_cr4');
  let fault = setCr4Fault(c, v, cr4);
  // X86_CR4_PDPTR_BITS changing under PAE paging (outside long mode) reload the PDPTRs.
  if (!fault && !is_long_mode(v) && is_paging(v) && is(cr4, X86_CR4_PAE) && (cr4 ^ v.cr4) & CR4_PDPTR_BITS)
    fault = load_pdptrs(c, v, v.cr3);
  if (!fault) {
    const old = v.cr4;
    v.cr4 = cr4;
    kvm_post_set_cr4(c, v, old, cr4);
  }
  c.rec.leave(saved);
  return fault;
}

function kvm_post_set_cr4(c: Ctx, v: VcpuState, old: bigint, cr4: bigint): void {
  const saved = c.rec.enter('kvm_post_set_cr4');
  const k = c.kernel;
  const changed = old ^ cr4;
  const roleChanged = (changed & kvm_mmu_cr4_role_bits(k)) !== 0n;
  const pcideCleared = is(old, X86_CR4_PCIDE) && !is(cr4, X86_CR4_PCIDE);
  if (k.has('pcide_reload')) {
    // v5.17: reset on role bits, else RELOAD on any PCIDE change, else a guest flush on PGE.
    if (roleChanged) kvm_mmu_reset_context(c, v);
    else if (changed & X86_CR4_PCIDE) kvm_make_request(c, v, 'KVM_REQ_MMU_RELOAD', 'CR4.PCIDE changed');
    else if (changed & X86_CR4_PGE) kvm_make_request(c, v, 'KVM_REQ_TLB_FLUSH_GUEST', 'CR4.PGE changed');
  } else if (!tlbFlushSeparateFromReset(c)) {
    // v5.15 shape: only resets (PGE is a role bit there, `pge_role_bit`), and clearing PCIDE resets too.
    if (roleChanged || (k.has('pcide_clear_resets') && pcideCleared)) kvm_mmu_reset_context(c, v);
  } else {
    if (roleChanged) kvm_mmu_reset_context(c, v);
    // PCIDE 0→1: stale prev_roots could be reused with NOFLUSH later; shadow paging frees them all.
    if (!c.vm.tdp && is(cr4, X86_CR4_PCIDE) && !is(old, X86_CR4_PCIDE)) kvm_mmu_unload(c, v);
    if (changed & X86_CR4_PGE || pcideCleared) {
      kvm_make_request(
        c,
        v,
        'KVM_REQ_TLB_FLUSH_GUEST',
        changed & X86_CR4_PGE ? 'CR4.PGE changed' : 'CR4.PCIDE cleared',
      );
    } else if (changed & X86_CR4_PAE || (is(cr4, X86_CR4_SMEP) && !is(old, X86_CR4_SMEP))) {
      kvm_make_request(c, v, 'KVM_REQ_TLB_FLUSH_CURRENT', changed & X86_CR4_PAE ? 'CR4.PAE changed' : 'CR4.SMEP set');
    }
  }
  c.rec.leave(saved);
}

// ---------------------------------------------------------------------------------------------------
// EFER

/** `set_efer` (WRMSR EFER). EFER.LMA is read-only: it is kept as is and follows CR0.PG. */
export function set_efer(c: Ctx, v: VcpuState, value: bigint, host_initiated = false): Fault {
  const saved = c.rec.enter('set_efer');
  const fault = eferFault(c, v, value, host_initiated);
  if (!fault) {
    const old = v.efer;
    const efer = (value & ~EFER_LMA) | (old & EFER_LMA);
    v.efer = efer;
    if ((efer ^ old) & kvm_mmu_efer_role_bits(c.kernel)) kvm_mmu_reset_context(c, v);
  }
  c.rec.leave(saved);
  return fault;
}

/** EFER bits a guest may set (`efer_reserved_bits` inverted): EFER.SVME only where SVM is exposed (AMD, nested=on). */
const validEferBits = (c: Ctx): bigint =>
  EFER_SCE | EFER_LME | EFER_LMA | EFER_NX | (c.vm.vendor === 'amd' && c.vm.nested ? EFER_SVME : 0n);

/** Why `set_efer` refuses `value` (kvm_valid_efer and the LME check), or null. */
function eferFault(c: Ctx, v: VcpuState, value: bigint, host_initiated: boolean): Fault {
  const valid = validEferBits(c);
  if (value & ~valid) return `reserved EFER bits ${hex(value & ~valid)}`;
  // x86.c __kvm_valid_efer (v5.15 … v6.12): EFER.NX needs X86_FEATURE_NX in the guest CPUID.
  if (value & EFER_NX && !v.cpuid.nx) return 'EFER.NX: NX is not in the guest CPUID (cpuid nx=off)';
  if (!host_initiated && is_paging(v) && (v.efer ^ value) & EFER_LME) return 'toggling EFER.LME with paging enabled';
  return null;
}

// ---------------------------------------------------------------------------------------------------
// CR3 and PCIDs

const kvm_get_pcid = (v: VcpuState, cr3: bigint): bigint => (is(v.cr4, X86_CR4_PCIDE) ? cr3 & X86_CR3_PCID_MASK : 0n);

/** `kvm_set_cr3`: fast PGD switch through prev_roots, then flush the PCID unless NOFLUSH. */
export function kvm_set_cr3(c: Ctx, v: VcpuState, value: bigint, noflush: boolean): Fault {
  const saved = c.rec.enter('kvm_set_cr3');
  const cr3 = value;
  const fault = cr3Fault(v, cr3, noflush);
  if (!fault) {
    const pcide = is(v.cr4, X86_CR4_PCIDE);
    const skip_tlb_flush = pcide && noflush;
    const pcid = pcide ? cr3 & X86_CR3_PCID_MASK : 0n;
    // "PDPTRs are always reloaded for PAE paging" (v5.15 … v6.12): a same-value CR3 write reloads them too.
    const pdptFault = is_pae_paging(v) ? load_pdptrs(c, v, cr3) : null;
    if (pdptFault) {
      c.rec.leave(saved);
      return pdptFault;
    }
    if (cr3 !== v.cr3 || is_pae_paging(v)) {
      if (cr3 !== v.cr3) kvm_mmu_new_pgd(c, v, cr3);
      v.cr3 = cr3;
    }
    if (!skip_tlb_flush) kvm_invalidate_pcid(c, v, pcid);
  }
  c.rec.leave(saved);
  return fault;
}

const CR4_PDPTR_BITS = X86_CR4_PGE | X86_CR4_PSE | X86_CR4_PAE | X86_CR4_SMEP;
const ZERO_PDPTRS: readonly bigint[] = Object.freeze([0n, 0n, 0n, 0n]);

/** `pdptr_rsvd_bits`: bits 2:1, 8:5 and those at or above MAXPHYADDR (bit 63, XD, included). */
const pdptrRsvdBits = (v: VcpuState): bigint => (((1n << 64n) - 1n) ^ ((1n << BigInt(v.maxphyaddr)) - 1n)) | 0x1e6n;

/**
 * `load_pdptrs` (x86.c): read the four PDPTEs of the PDPT `cr3` points to into `walk_mmu->pdptrs`. Fails (the
 * caller's #GP) when the PDPT is outside every memslot or a present PDPTE has reserved bits. With shadow paging,
 * PDPTEs that differ from the cached ones free the current root (v5.17+, `pdptrs_change_frees_root`); before, the
 * current PAE roots keep shadowing the old page directories unless something else drops them.
 */
export function load_pdptrs(c: Ctx, v: VcpuState, cr3: bigint): Fault {
  const saved = c.rec.enter('load_pdptrs');
  let fault: Fault = null;
  if (!kvm_vcpu_is_visible_gfn(c, cr3 >> 12n)) {
    fault = `the PDPT at ${hex(pdptAddress(cr3))} is outside every memslot`;
  } else {
    const { entries, declared } = guestPdptes(c, cr3);
    const rsvd = pdptrRsvdBits(v);
    for (let i = 0; i < 4 && declared && !fault; i++) {
      const e = entries[i] ?? 0n;
      if (e & PT_PRESENT_MASK && e & rsvd) fault = `PDPTE ${i} (${hex(e)}) has reserved bits ${hex(e & rsvd)}`;
    }
    if (!fault) {
      const old = v.pdptrs?.entries ?? ZERO_PDPTRS;
      let changed = false;
      for (let i = 0; i < 4; i++) if (old[i] !== entries[i]) changed = true;
      const mmu = mmuOf(v, v.walk_mmu);
      if (changed && !c.vm.tdp) {
        if (c.kernel.has('pdptrs_change_frees_root')) kvm_mmu_free_roots(c, v, mmu, KVM_MMU_ROOT_CURRENT);
        else if (cr3 === v.cr3 && (mmu.root.hpa === 'pae_root' || mmu.root.hpa === 'pml4_root'))
          c.rec.emit(
            'hazard',
            `the PDPTEs at ${hex(pdptAddress(cr3))} changed but the current PAE roots of ${mmu.name} stay: they shadow the old page directories (load_pdptrs frees no root before 6b123c3a89a9)`,
            { vcpu: v.id, mmu: mmu.name },
          );
      }
      v.pdptrs = Object.freeze({ cr3, entries: Object.freeze([...entries]) });
    }
  }
  c.rec.leave(saved);
  return fault;
}

/** Why `kvm_set_cr3` refuses `cr3`, or null. */
function cr3Fault(v: VcpuState, cr3: bigint, noflush: boolean): Fault {
  if (!is(v.cr4, X86_CR4_PCIDE) && noflush) return 'CR3 bit 63 is reserved without CR4.PCIDE';
  if ((cr3 !== v.cr3 || is_pae_paging(v)) && cr3 >> BigInt(v.maxphyaddr)) {
    return `CR3 ${hex(cr3)} exceeds MAXPHYADDR ${v.maxphyaddr}`;
  }
  return null;
}

/** `kvm_invalidate_pcid` per era (facts §4.4 step 5). */
export function kvm_invalidate_pcid(c: Ctx, v: VcpuState, pcid: bigint): void {
  const saved = c.rec.enter('kvm_invalidate_pcid');
  const mmu = activeMmu(v);
  const frees0 = c.kernel.has('pcid0_frees_prev_roots');
  if (!frees0 && c.vm.tdp) {
    kvm_make_request(c, v, 'KVM_REQ_TLB_FLUSH_GUEST', `PCID ${pcid}`);
  } else {
    if (kvm_get_pcid(v, v.cr3) === pcid) {
      kvm_make_request(c, v, 'KVM_REQ_MMU_SYNC');
      kvm_make_request(c, v, 'KVM_REQ_TLB_FLUSH_CURRENT', `PCID ${pcid}`);
    }
    if (frees0 || is(v.cr4, X86_CR4_PCIDE)) {
      let mask = 0;
      for (let i = 0; i < KVM_MMU_NUM_PREV_ROOTS; i++) {
        if (kvm_get_pcid(v, mmu.prev_roots[i]!.pgd) === pcid) mask |= KVM_MMU_ROOT_PREVIOUS(i);
      }
      kvm_mmu_free_roots(c, v, mmu, mask);
    }
  }
  c.rec.leave(saved);
}

/** INVPCID (`kvm_handle_invpcid`); with EPT/NPT the instruction does not exit. */
export function kvm_handle_invpcid(
  c: Ctx,
  v: VcpuState,
  type: 'addr' | 'single' | 'all' | 'all-global',
  pcid: number,
  addr: bigint,
): Fault {
  return c.rec.call('kvm_handle_invpcid', () => {
    if (pcid < 0 || pcid > 0xfff) return `PCID ${pcid} out of range`;
    const pcidEnabled = is(v.cr4, X86_CR4_PCIDE);
    switch (type) {
      case 'addr':
        if (!pcidEnabled && pcid !== 0) return 'INVPCID with a non-zero PCID while CR4.PCIDE=0';
        c.rec.call('kvm_mmu_invpcid_gva', () =>
          c.rec.emit('flush', `invalidate ${hex(addr)} for PCID ${pcid} in the current and cached roots`, {
            vcpu: v.id,
          }),
        );
        return null;
      case 'single':
        if (!pcidEnabled && pcid !== 0) return 'INVPCID with a non-zero PCID while CR4.PCIDE=0';
        kvm_invalidate_pcid(c, v, BigInt(pcid));
        return null;
      case 'all':
      case 'all-global':
        kvm_make_request(c, v, 'KVM_REQ_TLB_FLUSH_GUEST', `INVPCID ${type}`);
        return null;
    }
  });
}

/** INVLPG (`kvm_mmu_invlpg`): no root is freed. */
export function kvm_mmu_invlpg(c: Ctx, v: VcpuState, addr: bigint): void {
  c.rec.call('kvm_mmu_invlpg', () => {
    c.rec.emit('flush', `invalidate ${hex(addr)} in the current and cached roots of ${v.walk_mmu}`, { vcpu: v.id });
  });
}

// ---------------------------------------------------------------------------------------------------
// KVM_SET_SREGS, INIT, KVM_SET_CPUID

/** `__set_sregs`: registers written through vendor hooks, then one reset if anything changed. */
export function __set_sregs(
  c: Ctx,
  v: VcpuState,
  sregs: { cr0?: bigint; cr3?: bigint; cr4?: bigint; efer?: bigint },
): Fault {
  return c.rec.call('__set_sregs', () => {
    // CR0.ET is hardwired to 1 on every CPU KVM runs on; the model keeps it set.
    const cr0 = (sregs.cr0 ?? v.cr0) | X86_CR0_ET;
    const cr3 = sregs.cr3 ?? v.cr3;
    const cr4 = sregs.cr4 ?? v.cr4;
    const efer = sregs.efer ?? v.efer;
    // kvm_is_valid_sregs
    if (is(efer, EFER_LME) && is(cr0, X86_CR0_PG)) {
      if (!is(cr4, X86_CR4_PAE)) return 'EFER.LME with CR0.PG requires CR4.PAE';
      if (!is(efer, EFER_LMA)) return 'EFER.LME with CR0.PG requires EFER.LMA';
    } else if (is(efer, EFER_LMA)) {
      return 'EFER.LMA without EFER.LME and CR0.PG';
    }
    if (is(cr0, X86_CR0_PG) && !is(cr0, X86_CR0_PE)) return 'CR0.PG without CR0.PE';
    if (cr3 >> BigInt(v.maxphyaddr)) return `CR3 ${hex(cr3)} exceeds MAXPHYADDR ${v.maxphyaddr}`;
    const crFault = cr4Fault(c, v, cr4);
    if (crFault) return crFault;
    // __set_sregs_common hands EFER to the vendor set_efer unchecked: reserved bits go in, and every later
    // kvm_set_msr of this value (WRMSR, the RSM restore in rsm_load_state_64) refuses it.
    const reserved = efer & ~validEferBits(c);
    if (reserved && sregs.efer !== undefined) {
      c.rec.emit(
        'hazard',
        `KVM_SET_SREGS sets reserved EFER bits ${hex(reserved)} (not checked here): an SMI saves them and RSM cannot restore them (triple fault)`,
        { vcpu: v.id },
      );
    }
    let mmu_reset_needed = cr0 !== v.cr0 || cr3 !== v.cr3 || cr4 !== v.cr4 || efer !== v.efer;
    v.cr3 = cr3;
    v.efer = efer;
    v.cr0 = cr0;
    v.cr4 = cr4;
    // SET_SREGS reloads the PDPTRs from memory for PAE paging (a failure is ignored), which always forces the reset.
    if (is_pae_paging(v)) {
      load_pdptrs(c, v, cr3);
      mmu_reset_needed = true;
    }
    if (mmu_reset_needed) {
      kvm_mmu_reset_context(c, v);
      if (c.kernel.has('sregs_flush_guest')) kvm_make_request(c, v, 'KVM_REQ_TLB_FLUSH_GUEST', 'KVM_SET_SREGS');
    }
    return null;
  });
}

export const RESET_CR0 = 0x60000010n;

/** `kvm_vcpu_reset` (INIT): architectural reset state; reset the MMU only if paging was on. */
export function kvm_vcpu_reset(c: Ctx, v: VcpuState): void {
  c.rec.call('kvm_vcpu_reset', () => {
    const old_cr0 = v.cr0;
    v.cr0 = RESET_CR0;
    v.cr3 = 0n;
    v.cr4 = 0n;
    v.efer = 0n;
    if (is(old_cr0, X86_CR0_PG)) kvm_mmu_reset_context(c, v);
    kvm_make_request(c, v, 'KVM_REQ_TLB_FLUSH_GUEST', 'INIT');
  });
}

/** `kvm_mmu_after_set_cpuid`: force every MMU role to be recomputed, then reset. */
export function kvm_mmu_after_set_cpuid(c: Ctx, v: VcpuState, maxphyaddr: number): void {
  c.rec.call('kvm_mmu_after_set_cpuid', () => {
    const k = c.kernel;
    v.maxphyaddr = maxphyaddr;
    for (const mmu of [v.root_mmu, v.guest_mmu, v.nested_mmu]) {
      mmu.cpu_role = { base: mmu.cpu_role.base, ext: setExtField(k, mmu.cpu_role.ext, 'valid', 0) };
      if (k.has('cpuid_invalid_root_role')) mmu.root_role = setRoleField(k, mmu.root_role, 'invalid', 1);
      else if (k.has('cpu_role_split')) mmu.root_role = 0;
    }
    kvm_mmu_reset_context(c, v);
  });
}

// ---------------------------------------------------------------------------------------------------
// VM-entry

const FLUSH_CURRENT = new SharedActions((vcpu: number) => ({
  op: 'flush',
  detail: `vCPU ${vcpu}: flush the current TLB context`,
  fields: { vcpu, request: 'KVM_REQ_TLB_FLUSH_CURRENT' },
}));
const FLUSH_GUEST = new SharedActions((vcpu: number) => ({
  op: 'flush',
  detail: `vCPU ${vcpu}: flush the guest's TLB entries`,
  fields: { vcpu, request: 'KVM_REQ_TLB_FLUSH_GUEST' },
}));

/**
 * `vcpu_enter_guest` (arch/x86/kvm/x86.c, every era): service pending requests in kernel order, inside its
 * `if (kvm_request_pending(vcpu))` block, then load the MMU (docs/kernel-notes.md §4). `shutdown` when a triple
 * fault ends KVM_RUN with KVM_EXIT_SHUTDOWN instead (§5); `enospc` when kvm_mmu_load fails for want of shadow
 * pages (make_mmu_pages_available), so KVM_RUN returns -ENOSPC and the guest does not run.
 */
export function vcpu_enter_guest(c: Ctx, v: VcpuState): 'entered' | 'shutdown' | 'enospc' {
  const saved = c.rec.enter('vcpu_enter_guest');
  if (v.requests.length !== 0) {
    if (kvm_check_request(v, 'KVM_REQ_MMU_RELOAD')) kvm_mmu_unload(c, v);
    if (kvm_check_request(v, 'KVM_REQ_MMU_FREE_OBSOLETE_ROOTS')) kvm_mmu_free_obsolete_roots(c, v);
    kvm_check_request(v, 'KVM_REQ_MMU_SYNC');
    kvm_check_request(v, 'KVM_REQ_LOAD_MMU_PGD');
    if (kvm_check_request(v, 'KVM_REQ_TLB_FLUSH_CURRENT')) {
      const inner = c.rec.enter('kvm_vcpu_flush_tlb_current');
      stat(c, 'tlb_flush');
      c.rec.emitShared(FLUSH_CURRENT, v.id);
      c.rec.leave(inner);
    }
    if (kvm_check_request(v, 'KVM_REQ_TLB_FLUSH_GUEST')) {
      const inner = c.rec.enter('kvm_vcpu_flush_tlb_guest');
      stat(c, 'tlb_flush');
      c.rec.emitShared(FLUSH_GUEST, v.id);
      // v5.15 shadow paging: a guest flush unloads the MMU so the next load syncs everything.
      if (!c.vm.tdp && c.kernel.has('flush_guest_unloads_shadow')) kvm_mmu_unload(c, v);
      c.rec.leave(inner);
    }
    // After the TLB flushes, a pending triple fault (a failed RSM) exits to userspace with KVM_EXIT_SHUTDOWN
    // before the MMU is loaded (`goto out`); the caller reports it as outcome `shutdown`. In guest mode the kernel
    // first offers it to L1 (nested_ops->triple_fault); the model does not.
    if (kvm_check_request(v, 'KVM_REQ_TRIPLE_FAULT')) {
      c.rec.leave(saved);
      return 'shutdown';
    }
    // Requests the model does not service are dropped here (the ones above have been taken off).
    v.requests.length = 0;
  }
  if (!kvm_mmu_reload(c, v)) {
    // kvm_mmu_load failed. A guest root outside every memslot (before v6.6) left KVM_REQ_TRIPLE_FAULT pending:
    // vcpu_enter_guest cancels the entry and the next pass through vcpu_run exits with KVM_EXIT_SHUTDOWN. Otherwise
    // it was -ENOSPC (the shadow-page budget is spent on held roots), which KVM_RUN returns to userspace.
    const shutdown = kvm_check_request(v, 'KVM_REQ_TRIPLE_FAULT');
    c.rec.leave(saved);
    return shutdown ? 'shutdown' : 'enospc';
  }
  markRunning(c, v);
  v.has_run = true;
  c.rec.leave(saved);
  return 'entered';
}

/**
 * A guest instruction (a register write, RSM, VMLAUNCH/VMRUN, a nested VM-exit, INVLPG, INVPCID, INVEPT, …)
 * executes only while the guest runs, so on a real kernel the vCPU has entered — serviced its requests and
 * loaded a root — before it. When that entry would do anything (no root loaded, or requests pending), it is
 * recorded on the instruction's line, ahead of the instruction's own actions (docs/language.md, "Implied
 * VM-entry"). A register write marked `emulate` is the emulator's (x86_emulate_instruction looping while
 * emulation is required), which runs instructions back to back without an entry between them.
 */
export function enter_guest_before_instruction(c: Ctx, v: VcpuState): void {
  if (VALID_PAGE(activeMmu(v).root.hpa) && v.requests.length === 0) return;
  vcpu_enter_guest(c, v);
}

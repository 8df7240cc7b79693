/**
 * Nested SVM (arch/x86/kvm/svm/nested.c), facts §4.11: VMRUN and #VMEXIT, nested NPT (guest_mmu keyed by
 * nCR3). No SVM path frees guest_mmu roots explicitly.
 */
import { kvm_init_shadow_npt_mmu_roles, role_regs_to_root_level } from './mmu_role.js';
import { applyRoles, kvm_init_mmu, kvm_mmu_new_pgd, roleEnv } from './mmu.js';
import { EFER_LME, EFER_SVME, X86_CR0_PE, X86_CR0_PG, X86_CR4_PAE } from '../kernel/regs.js';
import type { Ctx, NestedState, Regs, VcpuState } from './state.js';
import { hex, kvm_make_request } from './state.js';
import { vendor_set_cr0 } from './x86.js';

export function nested_svm_checks(c: Ctx, v: VcpuState, npt: boolean, ncr3: bigint, l2: Regs): string | null {
  if (!(v.efer & EFER_SVME)) return 'L1 has not enabled SVM (EFER.SVME=0): VMRUN raises #UD';
  if (npt && ncr3 >> BigInt(v.maxphyaddr)) return `nCR3 ${hex(ncr3)} exceeds MAXPHYADDR`;
  if (l2.cr0 & X86_CR0_PG && !(l2.cr0 & X86_CR0_PE)) return 'L2 CR0.PG without CR0.PE';
  if (l2.efer & EFER_LME && l2.cr0 & X86_CR0_PG && !(l2.cr4 & X86_CR4_PAE))
    return 'L2 EFER.LME with CR0.PG needs CR4.PAE';
  if (l2.cr3 >> BigInt(v.maxphyaddr)) return `L2 CR3 ${hex(l2.cr3)} exceeds MAXPHYADDR`;
  return null;
}

/** `nested_svm_init_mmu_context` → `kvm_init_shadow_npt_mmu` with CR0 = PG, L1's CR4 and EFER. */
function nested_svm_init_mmu_context(c: Ctx, v: VcpuState, l1: Regs, ncr3: bigint): void {
  c.rec.call('nested_svm_init_mmu_context', () => {
    v.mmu = 'guest_mmu';
    c.rec.call('kvm_init_shadow_npt_mmu', () => {
      const l1regs = { cr0: l1.cr0, cr4: l1.cr4, efer: l1.efer };
      const roles = kvm_init_shadow_npt_mmu_roles(roleEnv(c, v), l1regs, role_regs_to_root_level(l1regs));
      applyRoles(c, v, v.guest_mmu, roles);
      kvm_mmu_new_pgd(c, v, ncr3, roles.root_role);
    });
    v.walk_mmu = 'nested_mmu';
  });
}

function nested_svm_transition_tlb_flush(c: Ctx, v: VcpuState): void {
  c.rec.call('nested_svm_transition_tlb_flush', () => {
    kvm_make_request(c, v, 'KVM_REQ_MMU_SYNC');
    kvm_make_request(c, v, 'KVM_REQ_TLB_FLUSH_CURRENT', 'nested SVM transition');
  });
}

function nested_svm_load_cr3(c: Ctx, v: VcpuState, cr3: bigint, npt: boolean): void {
  c.rec.call('nested_svm_load_cr3', () => {
    if (c.kernel.has('new_pgd_base_only_role')) {
      if (!npt) kvm_mmu_new_pgd(c, v, cr3);
      v.cr3 = cr3;
      kvm_init_mmu(c, v);
      return;
    }
    v.cr3 = cr3;
    kvm_init_mmu(c, v);
    if (!npt) kvm_mmu_new_pgd(c, v, cr3);
  });
}

/** `enter_svm_guest_mode` (after the checks). */
export function enter_svm_guest_mode(c: Ctx, v: VcpuState, nested: NestedState, l2: Regs): void {
  c.rec.call('enter_svm_guest_mode', () => {
    v.nested = nested;
    c.rec.call('nested_vmcb02_prepare_control', () => {
      if (c.kernel.has('nnpt_guest_mode_first')) {
        nested_svm_transition_tlb_flush(c, v);
        v.is_guest_mode = true;
        if (nested.npt) nested_svm_init_mmu_context(c, v, nested.l1, nested.ncr3);
      } else {
        // Through v6.12 the nested NPT MMU is built before entering guest mode (guest_mode=0 roles).
        if (nested.npt) nested_svm_init_mmu_context(c, v, nested.l1, nested.ncr3);
        nested_svm_transition_tlb_flush(c, v);
        v.is_guest_mode = true;
      }
    });
    c.rec.call('nested_vmcb02_prepare_save', () => {
      v.efer = l2.efer;
      vendor_set_cr0(v, l2.cr0);
      v.cr4 = l2.cr4;
    });
    nested_svm_load_cr3(c, v, l2.cr3, nested.npt);
  });
}

/** `nested_svm_vmexit`. */
export function nested_svm_vmexit(c: Ctx, v: VcpuState): void {
  const nested = v.nested;
  if (!nested) return;
  c.rec.call('nested_svm_vmexit', () => {
    v.is_guest_mode = false;
    // nested_svm_vmexit (v5.15 … v6.12): `svm_set_gif(svm, false)`, as a #VMEXIT clears GIF.
    v.gif = false;
    v.efer = nested.l1.efer;
    vendor_set_cr0(v, nested.l1.cr0);
    v.cr4 = nested.l1.cr4;
    nested_svm_transition_tlb_flush(c, v);
    if (nested.npt) {
      c.rec.call('nested_svm_uninit_mmu_context', () => {
        v.mmu = 'root_mmu';
        v.walk_mmu = 'root_mmu';
      });
    }
    nested_svm_load_cr3(c, v, nested.l1.cr3, false);
    v.nested = null;
  });
}

/**
 * `stgi_interception` / `clgi_interception` (svm.c, v5.15 … v6.12): `nested_svm_check_permissions` raises #UD
 * without EFER.SVME or outside paging; otherwise `svm_set_gif`. Returns the fault, or null.
 */
function set_gif_insn(c: Ctx, v: VcpuState, fn: string, value: boolean): string | null {
  return c.rec.call(fn, () => {
    const insn = value ? 'STGI' : 'CLGI';
    if (!(v.efer & EFER_SVME)) return `${insn} with EFER.SVME=0 raises #UD`;
    if (!(v.cr0 & X86_CR0_PG)) return `${insn} without paging raises #UD`;
    v.gif = value;
    return null;
  });
}

export const handle_stgi = (c: Ctx, v: VcpuState): string | null => set_gif_insn(c, v, 'stgi_interception', true);
export const handle_clgi = (c: Ctx, v: VcpuState): string | null => set_gif_insn(c, v, 'clgi_interception', false);

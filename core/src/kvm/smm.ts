/**
 * SMI and RSM (arch/x86/kvm/smm.c; x86.c/emulate.c before v6.2), facts §4.7. Every SMM transition is a
 * full kvm_mmu_reset_context, so the vCPU never carries a root across SMI/RSM: reuse happens only through
 * the per-VM structures (shadow hash, TDP MMU list with `tdp_mmu_root_ref`, other vCPUs' references).
 */
import { kvm_mmu_reset_context } from './mmu.js';
import { EFER_LMA, X86_CR0_PE, X86_CR0_PG, X86_CR4_PAE, X86_CR4_PCIDE } from '../kernel/regs.js';
import type { Ctx, VcpuState } from './state.js';
import { kvm_make_request } from './state.js';
import { kvm_set_cr0, kvm_set_cr3, kvm_set_cr4, set_efer, vendor_set_cr0 } from './x86.js';
import { leave_guest_mode_for_smm, reenter_guest_mode_after_rsm } from './nested.js';

const X86_CR0_EM = 1n << 2n;
const X86_CR0_TS = 1n << 3n;

/** `kvm_smm_changed`: flip HF_SMM and reset the MMU (new address space, full TLB flush semantics). */
function kvm_smm_changed(c: Ctx, v: VcpuState, entering: boolean): void {
  const saved = c.rec.enter('kvm_smm_changed');
  v.is_smm = entering;
  kvm_mmu_reset_context(c, v);
  c.rec.leave(saved);
}

/** `enter_smm`. Returns false when the SMI stays latched (already in SMM). */
export function enter_smm(c: Ctx, v: VcpuState): boolean {
  if (v.is_smm) return false;
  const frame = c.rec.enter('enter_smm');
  const regs = { cr0: v.cr0, cr3: v.cr3, cr4: v.cr4, efer: v.efer };
  // The vendor hook leaves L2 first; RSM re-enters it.
  const nested = v.is_guest_mode ? leave_guest_mode_for_smm(c, v) : null;
  v.smram = { regs, nested };
  // vmx_enter_smm (v5.15 … v6.12): VMX operation is saved in `nested.smm.vmxon` and left for SMM.
  if (v.vmxon) {
    v.smm_vmxon = true;
    v.vmxon = false;
  }
  kvm_smm_changed(c, v, true);
  // Vendor hooks only: no kvm_post_set_* logic for these writes.
  vendor_set_cr0(v, v.cr0 & ~(X86_CR0_PE | X86_CR0_EM | X86_CR0_TS | X86_CR0_PG));
  v.cr4 = 0n;
  v.efer = 0n;
  kvm_mmu_reset_context(c, v);
  c.rec.leave(frame);
  return true;
}

/**
 * `emulator_leave_smm` (smm.c from v6.2; `em_rsm` in emulate.c before). Returns why the saved state could not be
 * loaded, or null. A failed load is a shutdown in every modelled era: em_rsm's emulate_shutdown path (25b17226cd9a,
 * v5.14) and, from v6.2, em_rsm calling triple_fault when leave_smm fails both raise KVM_REQ_TRIPLE_FAULT; the
 * registers loaded so far stay loaded and the rest (CR3, CR4, CR0) is never restored (kernel-notes §5).
 */
export function emulator_leave_smm(c: Ctx, v: VcpuState): string | null {
  const frame = c.rec.enter('emulator_leave_smm');
  const saved = v.smram;
  v.smram = null;
  kvm_smm_changed(c, v, false);
  // Architectural unwinding back to real mode, each step only if the bit is set.
  if (v.cr4 & X86_CR4_PCIDE) kvm_set_cr4(c, v, v.cr4 & ~X86_CR4_PCIDE);
  if (v.cr0 & X86_CR0_PE) kvm_set_cr0(c, v, v.cr0 & ~(X86_CR0_PG | X86_CR0_PE));
  if (v.cr4 & X86_CR4_PAE) kvm_set_cr4(c, v, v.cr4 & ~X86_CR4_PAE);
  set_efer(c, v, 0n);
  // vmx_leave_smm: back into VMX operation before the saved state (and L2) is reloaded.
  if (v.smm_vmxon) {
    v.vmxon = true;
    v.smm_vmxon = false;
  }
  if (saved) {
    if (saved.nested) reenter_guest_mode_after_rsm(c, v, saved.nested);
    const load = c.rec.enter('rsm_load_state_64');
    const { cr0, cr3, cr4, efer } = saved.regs;
    // kvm_set_msr(MSR_EFER) is a guest write (not host-initiated): reserved bits make it fail.
    const bad = set_efer(c, v, efer & ~EFER_LMA);
    if (bad) {
      kvm_make_request(c, v, 'KVM_REQ_TRIPLE_FAULT', 'RSM failed');
      c.rec.leave(load);
      c.rec.leave(frame);
      return `the saved EFER cannot be restored (${bad})`;
    }
    const protectedMode = c.rec.enter('rsm_enter_protected_mode');
    const pcid = cr4 & X86_CR4_PCIDE ? cr3 & 0xfffn : 0n;
    kvm_set_cr3(c, v, cr3 & ~pcid, false);
    kvm_set_cr4(c, v, cr4 & ~X86_CR4_PCIDE);
    kvm_set_cr0(c, v, cr0);
    if (cr4 & X86_CR4_PCIDE) {
      kvm_set_cr4(c, v, cr4);
      kvm_set_cr3(c, v, cr3, false);
    }
    c.rec.leave(protectedMode);
    c.rec.leave(load);
  }
  c.rec.leave(frame);
  return null;
}

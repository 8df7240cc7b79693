/** Vendor dispatch for nested transitions (vmx/nested.c or svm/nested.c). */
import { enter_svm_guest_mode, nested_svm_checks, nested_svm_vmexit } from './nested_svm.js';
import { nested_vmx_checks, nested_vmx_enter_non_root_mode, nested_vmx_vmexit } from './nested_vmx.js';
import type { Ctx, NestedState, Regs, VcpuState } from './state.js';

export function nested_checks(c: Ctx, v: VcpuState, n: NestedState, l2: Regs): string | null {
  return c.vm.vendor === 'intel'
    ? nested_vmx_checks(c, v, n.ept, n.eptp, l2)
    : nested_svm_checks(c, v, n.npt, n.ncr3, l2);
}

export function nested_enter(c: Ctx, v: VcpuState, n: NestedState, l2: Regs): void {
  if (c.vm.vendor === 'intel') nested_vmx_enter_non_root_mode(c, v, n, l2);
  else enter_svm_guest_mode(c, v, n, l2);
}

export function nested_vmexit(c: Ctx, v: VcpuState): void {
  if (c.vm.vendor === 'intel') nested_vmx_vmexit(c, v);
  else nested_svm_vmexit(c, v);
}

/** Vendor enter_smm hook: an SMI in L2 first exits to L1; the nested state is kept for RSM. */
export function leave_guest_mode_for_smm(c: Ctx, v: VcpuState): { nested: NestedState; l2: Regs } | null {
  const n = v.nested;
  if (!n) return null;
  const l2 = { cr0: v.cr0, cr3: v.cr3, cr4: v.cr4, efer: v.efer };
  c.rec.call(c.vm.vendor === 'intel' ? 'vmx_enter_smm' : 'svm_enter_smm', () => nested_vmexit(c, v));
  return { nested: n, l2 };
}

/** Vendor leave_smm hook: RSM re-enters L2 before the saved state is loaded. */
export function reenter_guest_mode_after_rsm(c: Ctx, v: VcpuState, saved: { nested: NestedState; l2: Regs }): void {
  c.rec.call(c.vm.vendor === 'intel' ? 'vmx_leave_smm' : 'svm_leave_smm', () =>
    nested_enter(c, v, saved.nested, saved.l2),
  );
}

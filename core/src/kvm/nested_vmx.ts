/**
 * Nested VMX (arch/x86/kvm/vmx/nested.c), facts §4.10: VM-Enter/VM-Exit, nested EPT (guest_mmu keyed by
 * the EPTP), INVEPT and INVVPID.
 */
import { kvm_init_shadow_ept_mmu_roles } from './mmu_role.js';
import {
  applyRoles,
  kvm_init_mmu,
  kvm_mmu_free_guest_mode_roots,
  kvm_mmu_free_roots,
  kvm_mmu_new_pgd,
  roleEnv,
} from './mmu.js';
import { EFER_LMA, EFER_LME, X86_CR0_PE, X86_CR0_PG, X86_CR4_PAE, X86_CR4_VMXE } from '../kernel/regs.js';
import type { Ctx, NestedState, Regs, VcpuState } from './state.js';
import {
  hex,
  KVM_MMU_NUM_PREV_ROOTS,
  KVM_MMU_ROOT_CURRENT,
  KVM_MMU_ROOT_PREVIOUS,
  KVM_MMU_ROOTS_ALL,
  kvm_make_request,
} from './state.js';
import { vendor_set_cr0 } from './x86.js';

const EPTP_PA_MASK = 0x000ffffffffff000n;

/** `nested_vmx_check_eptp`: null if the EPTP is one the (emulated) hardware accepts. */
export function nested_vmx_check_eptp(c: Ctx, v: VcpuState, eptp: bigint): string | null {
  const memtype = eptp & 7n;
  if (memtype !== 0n && memtype !== 6n) return `EPTP memory type ${memtype} (only 0 = UC and 6 = WB are valid)`;
  const walk = (eptp >> 3n) & 7n;
  if (walk === 4n && c.vm.max_tdp_level !== 5) return 'EPTP asks for a 5-level walk the CPU does not support';
  if (walk !== 3n && walk !== 4n) return `EPTP page-walk length ${walk + 1n} (must be 4 or 5)`;
  if (eptp & (1n << 6n) && !c.vm.ad) return 'EPTP enables accessed/dirty bits but EPT A/D is off';
  if ((eptp >> 7n) & 0x1fn) return 'EPTP bits 11:7 are reserved';
  if (eptp >> BigInt(v.maxphyaddr)) return `EPTP ${hex(eptp)} exceeds MAXPHYADDR ${v.maxphyaddr}`;
  return null;
}

/** `nested_ept_init_mmu_context` + `kvm_init_shadow_ept_mmu`: guest_mmu shadows L1's EPT, keyed by EPTP. */
function nested_ept_init_mmu_context(c: Ctx, v: VcpuState, eptp: bigint): void {
  c.rec.call('nested_ept_init_mmu_context', () => {
    v.mmu = 'guest_mmu';
    c.rec.call('kvm_init_shadow_ept_mmu', () => {
      const roles = kvm_init_shadow_ept_mmu_roles(roleEnv(c, v), eptp, true, v.root_mmu.root_role);
      applyRoles(c, v, v.guest_mmu, roles);
      kvm_mmu_new_pgd(c, v, eptp, roles.root_role);
    });
    v.walk_mmu = 'nested_mmu';
  });
}

function nested_ept_uninit_mmu_context(c: Ctx, v: VcpuState): void {
  c.rec.call('nested_ept_uninit_mmu_context', () => {
    v.mmu = 'root_mmu';
    v.walk_mmu = 'root_mmu';
  });
}

/** `nested_vmx_load_cr3`: E1 switches PGD before re-initialising the MMU, v5.19+ after. */
function nested_vmx_load_cr3(c: Ctx, v: VcpuState, cr3: bigint, nested_ept: boolean): void {
  c.rec.call('nested_vmx_load_cr3', () => {
    if (c.kernel.has('new_pgd_base_only_role')) {
      if (!nested_ept) kvm_mmu_new_pgd(c, v, cr3);
      v.cr3 = cr3;
      kvm_init_mmu(c, v);
      return;
    }
    v.cr3 = cr3;
    kvm_init_mmu(c, v);
    if (!nested_ept) kvm_mmu_new_pgd(c, v, cr3);
  });
}

function nested_vmx_transition_tlb_flush(c: Ctx, v: VcpuState, vpid: number, is_vmenter: boolean): void {
  c.rec.call('nested_vmx_transition_tlb_flush', () => {
    if (vpid === 0) {
      kvm_make_request(c, v, 'KVM_REQ_TLB_FLUSH_GUEST', 'vmcs12 has no VPID');
      return;
    }
    if (is_vmenter && vpid !== v.last_vpid) {
      v.last_vpid = vpid;
      // 712494de96f3 (v5.16): a new vpid12 is a guest TLB flush. Before it (mainline v5.15.0) KVM only
      // flushed vpid02 in hardware (vpid_sync_context) and left the MMU alone (kernel-notes §5).
      if (c.kernel.has('nvmx_vpid12_flush_guest')) kvm_make_request(c, v, 'KVM_REQ_TLB_FLUSH_GUEST', 'new vmcs12 VPID');
      else
        c.rec.emit('flush', `vpid_sync_context: hardware flush of vpid02 for the new vmcs12 VPID ${vpid}, no request`, {
          vcpu: v.id,
        });
    }
  });
}

export interface L2Regs {
  cr0?: bigint;
  cr3?: bigint;
  cr4?: bigint;
  efer?: bigint;
}

/** VMLAUNCH/VMRESUME checks; null when the VM-Enter may proceed. */
export function nested_vmx_checks(c: Ctx, v: VcpuState, ept: boolean, eptp: bigint, l2: Regs): string | null {
  if (!(v.cr4 & X86_CR4_VMXE)) return 'L1 is not in VMX operation (CR4.VMXE=0)';
  if (!(v.cr0 & X86_CR0_PE) || !(v.cr0 & X86_CR0_PG)) return 'VMX operation needs CR0.PE and CR0.PG in L1';
  if (ept) {
    const bad = nested_vmx_check_eptp(c, v, eptp);
    if (bad) return `invalid EPTP: ${bad}`;
  } else if (!(l2.cr0 & X86_CR0_PE) || !(l2.cr0 & X86_CR0_PG)) {
    return 'without EPT, L2 must run with CR0.PE and CR0.PG (no unrestricted guest)';
  }
  if (l2.cr0 & X86_CR0_PG && !(l2.cr0 & X86_CR0_PE)) return 'L2 CR0.PG without CR0.PE';
  const l2long = (l2.efer & EFER_LMA) !== 0n;
  if (l2long && (!(l2.efer & EFER_LME) || !(l2.cr4 & X86_CR4_PAE)))
    return 'L2 in IA-32e mode needs EFER.LME and CR4.PAE';
  if (l2.cr0 & X86_CR0_PG && l2.efer & EFER_LME && !l2long) return 'L2 EFER.LME with CR0.PG needs EFER.LMA';
  if (l2.cr3 >> BigInt(v.maxphyaddr)) return `L2 CR3 ${hex(l2.cr3)} exceeds MAXPHYADDR`;
  return null;
}

/** `nested_vmx_enter_non_root_mode` (after the checks): enter guest mode and load L2 state. */
export function nested_vmx_enter_non_root_mode(c: Ctx, v: VcpuState, nested: NestedState, l2: Regs): void {
  c.rec.call('nested_vmx_enter_non_root_mode', () => {
    v.nested = nested;
    v.is_guest_mode = true; // enter_guest_mode
    c.rec.call('prepare_vmcs02', () => {
      if (nested.ept) nested_ept_init_mmu_context(c, v, nested.eptp);
      // vmx_set_cr0/cr4/efer: vendor writes, no kvm_post_set_* (the reset comes from kvm_init_mmu).
      v.efer = l2.efer;
      vendor_set_cr0(v, l2.cr0);
      v.cr4 = l2.cr4;
      nested_vmx_load_cr3(c, v, l2.cr3, nested.ept);
      nested_vmx_transition_tlb_flush(c, v, nested.vpid, true);
    });
  });
}

/** `nested_vmx_vmexit`: back to L1 (host state from vmcs12). */
export function nested_vmx_vmexit(c: Ctx, v: VcpuState): void {
  const nested = v.nested;
  if (!nested) return;
  c.rec.call('nested_vmx_vmexit', () => {
    v.is_guest_mode = false; // leave_guest_mode
    c.rec.call('load_vmcs12_host_state', () => {
      v.efer = nested.l1.efer;
      vendor_set_cr0(v, nested.l1.cr0);
      v.cr4 = nested.l1.cr4;
      if (nested.ept) nested_ept_uninit_mmu_context(c, v);
      nested_vmx_load_cr3(c, v, nested.l1.cr3, false);
    });
    nested_vmx_transition_tlb_flush(c, v, nested.vpid, false);
    v.nested = null;
  });
}

/** `handle_invept` on guest_mmu: global frees everything; single-context only matching EPTPs (or all). */
export function handle_invept(c: Ctx, v: VcpuState, type: 'single' | 'global', eptp: bigint): string | null {
  return c.rec.call('handle_invept', () => {
    const mmu = v.guest_mmu;
    if (type === 'global' || !c.kernel.has('invept_precise')) {
      kvm_mmu_free_roots(c, v, mmu, KVM_MMU_ROOTS_ALL);
      return null;
    }
    const bad = nested_vmx_check_eptp(c, v, eptp);
    if (bad) return `INVEPT with an invalid EPTP fails (VMfailValid): ${bad}`;
    const matches = (hpa: unknown, pgd: bigint): boolean =>
      hpa !== null && (pgd & EPTP_PA_MASK) === (eptp & EPTP_PA_MASK);
    let mask = 0;
    if (matches(mmu.root.hpa, mmu.root.pgd)) mask |= KVM_MMU_ROOT_CURRENT;
    for (let i = 0; i < KVM_MMU_NUM_PREV_ROOTS; i++) {
      const s = mmu.prev_roots[i]!;
      if (matches(s.hpa, s.pgd)) mask |= KVM_MMU_ROOT_PREVIOUS(i);
    }
    kvm_mmu_free_roots(c, v, mmu, mask);
    return null;
  });
}

/** `handle_invvpid`: hardware flushes; without EPT also drop L2 roots from root_mmu's prev_roots. */
export function handle_invvpid(c: Ctx, v: VcpuState): void {
  c.rec.call('handle_invvpid', () => {
    if (!c.vm.tdp) kvm_mmu_free_guest_mode_roots(c, v, v.root_mmu);
    else c.rec.emit('flush', 'INVVPID: hardware VPID flush, no root changes', { vcpu: v.id });
  });
}

/**
 * `nested_release_vmcs12` (vmx/nested.c, v5.15 … v6.12): with a current vmcs12, flush it to guest memory, free
 * every guest_mmu root (KVM_MMU_ROOTS_ALL) and forget the pointer. Nothing without a current vmcs12.
 */
function nested_release_vmcs12(c: Ctx, v: VcpuState): void {
  if (v.current_vmptr === null) return;
  c.rec.call('nested_release_vmcs12', () => {
    kvm_mmu_free_roots(c, v, v.guest_mmu, KVM_MMU_ROOTS_ALL);
    v.current_vmptr = null;
  });
}

/**
 * `free_nested` (vmx/nested.c, v5.15 … v6.12): leave VMX operation (`nested.vmxon` and `nested.smm.vmxon`),
 * drop the current vmcs12 pointer and free every guest_mmu root. Nothing when L1 never entered VMX operation.
 */
export function free_nested(c: Ctx, v: VcpuState): void {
  if (!v.vmxon && !v.smm_vmxon) return;
  c.rec.call('free_nested', () => {
    v.vmxon = false;
    v.smm_vmxon = false;
    v.current_vmptr = null;
    kvm_mmu_free_roots(c, v, v.guest_mmu, KVM_MMU_ROOTS_ALL);
  });
}

/** The outcome of an emulated VMX instruction: done, #UD/#GP (`fault`), or VMfail (`vmfail`). */
export type VmxResult = { kind: 'ok'; note?: string } | { kind: 'fault' | 'vmfail'; message: string; note?: undefined };

/**
 * `handle_vmxon`: #UD without CR4.VMXE, outside protected mode with paging (the model's stand-in for
 * `!kvm_read_cr0_bits(PE)` / v8086 / compatibility mode), VMfail when already in VMX operation, else
 * `enter_vmx_operation` sets `nested.vmxon` with no current vmcs12.
 */
export function handle_vmxon(c: Ctx, v: VcpuState): VmxResult {
  return c.rec.call('handle_vmxon', () => {
    if (!(v.cr4 & X86_CR4_VMXE)) return { kind: 'fault', message: 'VMXON with CR4.VMXE=0 raises #UD' };
    if (!(v.cr0 & X86_CR0_PE)) return { kind: 'fault', message: 'VMXON outside protected mode raises #UD' };
    if (v.vmxon) return { kind: 'vmfail', message: 'VMXON in VMX root operation fails (VMfailValid)' };
    c.rec.call('enter_vmx_operation', () => {
      v.vmxon = true;
      v.current_vmptr = null;
    });
    return { kind: 'ok' };
  });
}

/** `nested_vmx_check_permission`: every VMX instruction but VMXON raises #UD outside VMX operation. */
function check_permission(v: VcpuState, insn: string): VmxResult | null {
  return v.vmxon ? null : { kind: 'fault', message: `${insn} outside VMX operation raises #UD` };
}

/** `handle_vmxoff`: `free_nested`, so every guest_mmu root is freed. */
export function handle_vmxoff(c: Ctx, v: VcpuState): VmxResult {
  return c.rec.call('handle_vmxoff', () => {
    const bad = check_permission(v, 'VMXOFF');
    if (bad) return bad;
    free_nested(c, v);
    return { kind: 'ok' };
  });
}

const VMCS_ALIGN_MASK = 0xfffn;

function vmptr_fault(v: VcpuState, insn: string, vmptr: bigint): VmxResult | null {
  // nested_vmx_get_vmptr + page_address_valid: not 4K-aligned or beyond MAXPHYADDR is VMfail.
  if (vmptr & VMCS_ALIGN_MASK || vmptr >> BigInt(v.maxphyaddr))
    return { kind: 'vmfail', message: `${insn} with an invalid address ${hex(vmptr)} fails (VMfail)` };
  return null;
}

/** `handle_vmclear`: clearing the current vmcs12 is `nested_release_vmcs12`; any other vmcs12 leaves the roots. */
export function handle_vmclear(c: Ctx, v: VcpuState, vmptr: bigint): VmxResult {
  return c.rec.call('handle_vmclear', () => {
    const bad = check_permission(v, 'VMCLEAR') ?? vmptr_fault(v, 'VMCLEAR', vmptr);
    if (bad) return bad;
    if (vmptr !== v.current_vmptr) return { kind: 'ok', note: 'not the current vmcs12: no root changes' };
    nested_release_vmcs12(c, v);
    return { kind: 'ok' };
  });
}

/** `handle_vmptrld`: loading a different vmcs12 first releases the current one (`nested_release_vmcs12`). */
export function handle_vmptrld(c: Ctx, v: VcpuState, vmptr: bigint): VmxResult {
  return c.rec.call('handle_vmptrld', () => {
    const bad = check_permission(v, 'VMPTRLD') ?? vmptr_fault(v, 'VMPTRLD', vmptr);
    if (bad) return bad;
    if (vmptr === v.current_vmptr) return { kind: 'ok', note: 'already the current vmcs12: no root changes' };
    nested_release_vmcs12(c, v);
    v.current_vmptr = vmptr;
    return { kind: 'ok' };
  });
}

/** The vmcs12 a `vmenter` without `vmxon`/`vmptrld` runs on: it has no guest-physical address. */
const IMPLIED_VMCS12 = -1n;

/**
 * Before VMLAUNCH (`nested_vmx_run`): a vCPU with CR4.VMXE that never executed `vmxon` is taken to have executed
 * VMXON and VMPTRLD (scenarios that do not model VMX operation); in VMX operation without a current vmcs12 the
 * launch fails (VMfailInvalid). Without CR4.VMXE `nested_vmx_checks` reports it.
 */
export function implied_vmxon(c: Ctx, v: VcpuState): string | null {
  if (!(v.cr4 & X86_CR4_VMXE)) return null;
  if (!v.vmxon) {
    v.vmxon = true;
    v.current_vmptr = IMPLIED_VMCS12;
    return null;
  }
  if (v.current_vmptr === null)
    return 'VMLAUNCH without a current vmcs12 (no VMPTRLD since VMXON/VMCLEAR) fails (VMfailInvalid)';
  return null;
}

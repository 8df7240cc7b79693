/**
 * The model's entry point: `createKvm` builds a VM (kvm_create_vm + vCPU creation) and executes one
 * lowered statement at a time, recording every state change as an action (actions.ts). VM-level events
 * live here too: memslot changes, MMU-notifier unmaps and VM destruction (virt/kvm/kvm_main.c).
 */
import { CPUID_FEATURES } from '../kernel/regs.js';
import { FixedKeyTree } from '../util/key_tree.js';
import { ModelCaches, Recorder, SharedActions } from './actions.js';
import type { Kernel } from '../kernel/behaviours.js';
import { getRoleField } from '../kernel/role_layout.js';
import { formatCpuRole, formatRole } from '../kernel/role_layout.js';
import { activeMmu, kvm_init_mmu, kvm_mmu_unload, kvm_mmu_zap_all_fast } from './mmu.js';
import { nested_checks, nested_enter, nested_vmexit } from './nested.js';
import {
  handle_invept,
  handle_invvpid,
  handle_vmclear,
  handle_vmptrld,
  handle_vmxoff,
  handle_vmxon,
  implied_vmxon,
  type VmxResult,
} from './nested_vmx.js';
import { handle_clgi, handle_stgi } from './nested_svm.js';
import {
  __kvm_mmu_prepare_zap_page,
  guestPgd,
  is_obsolete_sp,
  KVM_MIN_ALLOC_MMU_PAGES,
  kvm_flush_remote_tlbs,
  kvm_handle_gfn_range_shadow,
  kvm_mmu_change_mmu_pages,
  kvm_mmu_commit_zap_page,
  kvm_mmu_track_write,
  kvm_mmu_zap_all_shadow,
  pdptAddress,
} from './shadow_mmu.js';
import { emulator_leave_smm, enter_smm } from './smm.js';
import type { Ctx, Memslot, MmuPage, MmuState, NestedState, Regs, RetiredRoots, VcpuState, VmState } from './state.js';
import {
  cloneState,
  hex,
  INVALID_PGD,
  kvm_make_request,
  kvm_vcpu_is_visible_gfn,
  mmuOf,
  newMmu,
  page,
  retireFreedRoots,
} from './state.js';
import { STAT_NAMES } from '../kernel/stats.js';
import {
  flush_tdp_mmu_zap_wq,
  kvm_mmu_uninit_tdp_mmu,
  kvm_tdp_mmu_unmap_gfn_range,
  kvm_tdp_mmu_zap_all,
  resume_yielded_zapper,
  tdp_mmu_enabled,
} from './tdp_mmu.js';
import type {
  Action,
  KvmModel,
  MmuSnapshot,
  ModelOp,
  RootSnapshot,
  Snapshot,
  StepOutcome,
  StepResult,
  VcpuSnapshot,
  VmConfig,
} from '../kernel/types.js';
import {
  __set_sregs,
  guestWriteExits,
  kvm_handle_invpcid,
  kvm_mmu_after_set_cpuid,
  kvm_mmu_invlpg,
  kvm_set_cr0,
  kvm_set_cr3,
  kvm_set_cr4,
  kvm_vcpu_reset,
  RESET_CR0,
  set_efer,
  vcpu_enter_guest,
  enter_guest_before_instruction,
  type Fault,
} from './x86.js';

export function createKvm(kernel: Kernel, vm: VmConfig): KvmModel {
  const cfg: Readonly<VmConfig> = Object.freeze({ ...vm });
  const s: VmState = {
    roots: new Map(),
    retired: null,
    next_root_id: 1,
    live: new Set(),
    tdp_mmu_roots: [],
    mmu_page_hash: new Map(),
    mmu_valid_gen: 0,
    n_used_mmu_pages: 0,
    n_max_mmu_pages: null,
    nx_huge_pages: vm.nx_huge_pages,
    stats: Object.fromEntries(STAT_NAMES.map((n) => [n, 0])),
    vcpus: [],
    zap_wq: [],
    invalidated_roots: null,
    seq: 0,
    memslots: new Map(),
    pdpts: new Map(),
    destroyed: false,
  };
  const caches = new ModelCaches();
  const c: Ctx = { kernel, vm: cfg, s, rec: new Recorder(caches), line: 0 };
  for (let id = 0; id < vm.vcpus; id++) {
    const v = kvm_arch_vcpu_create(id, vm.maxphyaddr);
    s.vcpus.push(v);
    kvm_init_mmu(c, v);
  }
  return new Kvm(kernel, cfg, s, caches);
}

/** `kvm_arch_vcpu_create` → `kvm_mmu_create`: every slot invalid; reset register state; no root yet. */
function kvm_arch_vcpu_create(id: number, maxphyaddr: number): VcpuState {
  return {
    id,
    cr0: RESET_CR0,
    cr3: 0n,
    cr4: 0n,
    efer: 0n,
    maxphyaddr,
    is_smm: false,
    is_guest_mode: false,
    mmu: 'root_mmu',
    walk_mmu: 'root_mmu',
    root_mmu: newMmu('root_mmu'),
    guest_mmu: newMmu('guest_mmu'),
    nested_mmu: newMmu('nested_mmu'),
    requests: [],
    nested: null,
    smram: null,
    last_vpid: 0,
    vmxon: false,
    smm_vmxon: false,
    current_vmptr: null,
    cpuid: { pku: true, la57: true, pcid: true, nx: true, smep: true, smap: true },
    gif: true,
    has_run: false,
    pdptrs: null,
    destroyed: false,
  };
}

interface Outcome {
  outcome: StepOutcome;
  message?: string;
  label: string;
}

class Kvm implements KvmModel {
  /** One context for every step, its recorder emptied and its line set at the start of each. */
  private readonly c: { kernel: Kernel; vm: Readonly<VmConfig>; s: VmState; rec: Recorder; line: number };

  constructor(
    readonly kernel: Kernel,
    readonly vm: Readonly<VmConfig>,
    private readonly s: VmState,
    caches: ModelCaches,
  ) {
    this.c = { kernel, vm, s, rec: new Recorder(caches), line: 0 };
  }

  execute(vcpu: number, op: ModelOp, line: number): StepResult {
    const c = this.c;
    c.line = line;
    c.rec.reset();
    this.s.seq++;
    const r = dispatch(c, vcpu, op);
    // Asynchronous work queued by this statement runs at its end, reported with the worker's path.
    flush_tdp_mmu_zap_wq(c);
    resume_yielded_zapper(c);
    const recorded = c.rec.actions;
    // A step made only of shared actions (see SharedActions) is the same result every time its label, outcome
    // and actions recur: share that too (frozen), so a long scenario holds a few thousand distinct results.
    if (r.message === undefined && c.rec.allShared()) return sharedResult(c.rec.caches, r, recorded);
    // Kept for the life of the analysis: an exact-size copy, not the recorder's growable array.
    const actions = recorded.length === 0 ? [] : recorded.slice();
    const result: StepResult = {
      outcome: r.outcome,
      summary: c.rec.caches.summaries.of(summarize(c.rec.caches, r, actions)),
      actions,
    };
    if (r.message !== undefined) result.message = r.message;
    return result;
  }

  snapshot(): Snapshot {
    return snapshotOf(this.kernel, this.s);
  }

  clone(): KvmModel {
    retireFreedRoots(this.s);
    return new Kvm(this.kernel, this.vm, cloneState(this.s), this.c.rec.caches);
  }

  isGuestMode(vcpu: number): boolean {
    return this.s.vcpus[vcpu]?.is_guest_mode ?? false;
  }
}

// ---------------------------------------------------------------------------------------------------
// Statement dispatch

const ok = (label: string): Outcome => ({ outcome: 'ok', label });
/** The outcomes of the most frequent statements, made once. */
const OK_RUN = Object.freeze(ok('run'));
const OK_SMI = Object.freeze(ok('SMI'));
const OK_RSM = Object.freeze(ok('RSM'));
const OK_PDPT = Object.freeze(ok('PDPT write'));
const SHUTDOWN_RUN: Outcome = Object.freeze({
  outcome: 'shutdown',
  label: 'run',
  message: 'KVM_RUN exits with KVM_EXIT_SHUTDOWN (KVM_REQ_TRIPLE_FAULT pending); the guest does not run',
});
const ENOSPC_RUN: Outcome = Object.freeze({
  outcome: 'error',
  label: 'run',
  message:
    'KVM_RUN fails with -ENOSPC: make_mmu_pages_available found no shadow page to recycle (every one is a root a vCPU holds), so no root is loaded',
});
const INIT_LATCHED_VMX = Object.freeze(ok('INIT latched (blocked in VMX operation outside guest mode)'));
const INIT_LATCHED_GIF = Object.freeze(ok('INIT latched (blocked while GIF=0)'));
const error = (label: string, message: string): Outcome => ({ outcome: 'error', label, message });

function applyMode(old: bigint, mode: '=' | '|=' | '&=', value: bigint): bigint {
  return mode === '=' ? value : mode === '|=' ? old | value : old & value;
}

function faulted(c: Ctx, v: VcpuState, label: string, fault: Fault): Outcome {
  if (!fault) return ok(label);
  c.rec.emit('fault', `#GP injected: ${fault}; state unchanged`, { vcpu: v.id });
  return { outcome: 'gp', label, message: fault };
}

/**
 * A guest instruction KVM never sees: `what` names it (`MOV to CR3`, `INVPCID`), `from`/`to` the register.
 * `recurring`: the register's values are a few feature bits (CR0, CR4, EFER), so the same change comes back (a
 * guest toggling CR0.WP) and the action is shared. A CR3 value is a page-table address: a guest switching
 * between processes makes thousands of distinct changes, and keeping each for sharing costs more than it saves,
 * so that action is recorded as it is. Without values it is one of a few, shared.
 */
function noExit(
  c: Ctx,
  v: VcpuState,
  label: string,
  what: string,
  from?: bigint,
  to?: bigint,
  recurring = false,
): Outcome {
  if (from === undefined || to === undefined) c.rec.emitShared(NO_EXIT, v.id, what);
  else if (recurring) c.rec.emitShared(NO_EXIT_CHANGE, v.id, what, from, to);
  else c.rec.emitUnique('no_exit', noExitChange(what, from, to), { vcpu: v.id });
  return { outcome: 'no_exit', label };
}
const DOES_NOT_EXIT = ' does not cause a VM-exit on this kernel/vendor/paging mode; only the register changes';
/**
 * Joined rather than concatenated: `join` makes one flat string, where `+` and template literals make a tree of
 * pieces that has to be flattened (copied again) the first time it is read whole — by the report's writer, for
 * each of thousands of these.
 */
const noExitChange = (what: string, from: bigint, to: bigint): string =>
  [what, ' (', hex(from), ' → ', hex(to), ')', DOES_NOT_EXIT].join('');
const NO_EXIT = new SharedActions((vcpu: number, what: string) => ({
  op: 'no_exit',
  detail: what + DOES_NOT_EXIT,
  fields: { vcpu },
}));
const NO_EXIT_CHANGE = new SharedActions((vcpu: number, what: string, from: bigint, to: bigint) => ({
  op: 'no_exit',
  detail: noExitChange(what, from, to),
  fields: { vcpu },
}));

const WRITE_LABEL = { cr0: 'cr0 write', cr4: 'cr4 write', efer: 'efer write' } as const;
const MOV_TO = { cr0: 'MOV to CR0', cr4: 'MOV to CR4', efer: 'MOV to EFER' } as const;

function exitHandler(c: Ctx, emulate: boolean, reg: string): string {
  if (emulate) return 'x86_emulate_instruction';
  if (reg === 'efer') return 'kvm_emulate_wrmsr';
  return c.vm.vendor === 'intel' ? 'handle_cr' : 'cr_interception';
}

function dispatch(c: Ctx, id: number, op: ModelOp): Outcome {
  if (c.s.destroyed) return error(op.op, 'the VM has been destroyed');
  const v = c.s.vcpus[id];
  if (!v) return error(op.op, `vCPU ${id} does not exist`);
  if (v.destroyed && op.op !== 'destroy_vm') return error(op.op, `vCPU ${id} has been destroyed`);
  switch (op.op) {
    case 'write_cr': {
      if (!op.emulate) enter_guest_before_instruction(c, v);
      const old = v[op.reg];
      const value = applyMode(old, op.mode, op.value);
      const label = WRITE_LABEL[op.reg];
      if (!op.emulate && !guestWriteExits(c, v, op.reg, value)) {
        v[op.reg] = value;
        return noExit(c, v, label, MOV_TO[op.reg], old, value, true);
      }
      return c.rec.call(exitHandler(c, op.emulate, op.reg), () => {
        if (op.reg === 'cr0') return faulted(c, v, label, kvm_set_cr0(c, v, value));
        if (op.reg === 'cr4') return faulted(c, v, label, kvm_set_cr4(c, v, value));
        return faulted(c, v, label, set_efer(c, v, value));
      });
    }
    case 'write_cr3': {
      if (!op.emulate) enter_guest_before_instruction(c, v);
      const label = 'cr3 write';
      if (!op.emulate && !guestWriteExits(c, v, 'cr3', op.value)) {
        if (op.noflush && !(v.cr4 & (1n << 17n)))
          return faulted(c, v, label, 'CR3 bit 63 is reserved without CR4.PCIDE');
        if (op.value >> BigInt(v.maxphyaddr)) return faulted(c, v, label, `CR3 exceeds MAXPHYADDR ${v.maxphyaddr}`);
        const old = v.cr3;
        v.cr3 = op.value;
        return noExit(c, v, label, 'MOV to CR3', old, op.value);
      }
      return c.rec.call(exitHandler(c, op.emulate, 'cr3'), () =>
        faulted(c, v, label, kvm_set_cr3(c, v, op.value, op.noflush)),
      );
    }
    case 'run': {
      const entered = vcpu_enter_guest(c, v);
      if (entered === 'shutdown') return SHUTDOWN_RUN;
      if (entered === 'enospc') return ENOSPC_RUN;
      if (activeMmu(v).root.hpa === 'dummy') return guest_runs_on_dummy_root(c, v);
      return OK_RUN;
    }
    case 'smi':
      if (!enter_smm(c, v)) return { outcome: 'ok', label: 'SMI latched (already in SMM, held until RSM)' };
      return OK_SMI;
    case 'rsm': {
      if (!v.is_smm) return error('RSM', 'RSM outside SMM raises #UD');
      enter_guest_before_instruction(c, v);
      const failed = emulator_leave_smm(c, v);
      if (failed) return { outcome: 'shutdown', label: 'RSM', message: `RSM fails: ${failed}; the vCPU shuts down` };
      return OK_RSM;
    }
    case 'sregs': {
      const fault = c.rec.call('kvm_arch_vcpu_ioctl_set_sregs', () => __set_sregs(c, v, op));
      return fault ? error('KVM_SET_SREGS', `KVM_SET_SREGS fails with -EINVAL: ${fault}`) : ok('KVM_SET_SREGS');
    }
    case 'init':
      if (v.is_smm) return { outcome: 'ok', label: 'INIT latched (blocked in SMM)' };
      if (v.is_guest_mode) {
        // An INIT signal in L2 is a VM-exit to L1 (EXIT_REASON_INIT_SIGNAL / SVM_EXIT_INIT), not a reset.
        c.rec.call('kvm_check_nested_events', () => nested_vmexit(c, v));
        return ok('INIT (exits to L1)');
      }
      // vmx.c vmx_apic_init_signal_blocked (v5.15 … v6.12): `nested.vmxon && !is_guest_mode`, so
      // kvm_apic_accept_events latches INIT in VMX root operation (after `vmxon`, until `vmxoff`).
      if (c.vm.vendor === 'intel' && v.vmxon) return INIT_LATCHED_VMX;
      // svm.c svm_apic_init_signal_blocked: `!gif_set(svm)` (GIF=0 after `clgi` or a nested #VMEXIT, until `stgi`).
      if (c.vm.vendor === 'amd' && !v.gif) return INIT_LATCHED_GIF;
      c.rec.call('kvm_apic_accept_events', () => kvm_vcpu_reset(c, v));
      return ok('INIT');
    case 'invpcid':
      enter_guest_before_instruction(c, v);
      if (c.vm.tdp) return noExit(c, v, 'INVPCID', 'INVPCID');
      return faulted(c, v, 'INVPCID', kvm_handle_invpcid(c, v, op.type, op.pcid, op.addr));
    case 'invlpg':
      enter_guest_before_instruction(c, v);
      if (c.vm.tdp) return noExit(c, v, 'INVLPG', 'INVLPG');
      kvm_mmu_invlpg(c, v, op.addr);
      return ok('INVLPG');
    case 'vmenter':
      return vmenter(c, v, op);
    case 'vmexit':
      if (!v.is_guest_mode) return error('VM-Exit', 'vmexit outside guest mode');
      enter_guest_before_instruction(c, v);
      nested_vmexit(c, v);
      return ok('VM-Exit');
    case 'invept': {
      if (!c.vm.nested || c.vm.vendor !== 'intel')
        return error('INVEPT', 'INVEPT needs nested VMX (vm vendor=intel nested=on)');
      if (v.is_guest_mode) return error('INVEPT', 'INVEPT executed by L2 exits to L1; issue it from L1 (after vmexit)');
      enter_guest_before_instruction(c, v);
      const bad = handle_invept(c, v, op.type, op.eptp);
      return bad ? { outcome: 'vmfail', label: 'INVEPT', message: bad } : ok(`INVEPT ${op.type}`);
    }
    case 'invvpid':
      if (!c.vm.nested || c.vm.vendor !== 'intel')
        return error('INVVPID', 'INVVPID needs nested VMX (vm vendor=intel nested=on)');
      if (v.is_guest_mode) return error('INVVPID', 'INVVPID executed by L2 exits to L1; issue it from L1');
      enter_guest_before_instruction(c, v);
      handle_invvpid(c, v);
      return ok(`INVVPID ${op.type}`);
    case 'vmxon':
    case 'vmxoff':
    case 'vmclear':
    case 'vmptrld':
      return vmxInstruction(c, v, op);
    case 'stgi':
    case 'clgi': {
      const label = op.op.toUpperCase();
      if (!c.vm.nested || c.vm.vendor !== 'amd')
        return error(label, `${label} needs nested SVM (vm vendor=amd nested=on)`);
      if (v.is_guest_mode) return error(label, `${label} executed by L2 exits to L1; issue it from L1 (after vmexit)`);
      enter_guest_before_instruction(c, v);
      const bad = op.op === 'stgi' ? handle_stgi(c, v) : handle_clgi(c, v);
      return bad ? error(label, bad) : ok(label);
    }
    case 'guest_write':
      return guestWrite(c, v, op.gpa, op.bytes);
    case 'memslot':
      return kvm_set_memory_region(c, op);
    case 'pdpt':
      // Guest memory: KVM reads it only in load_pdptrs (and, for L1's PAE NPT tables, when loading a root).
      c.s.pdpts.set(pdptAddress(op.addr), Object.freeze([...op.entries]));
      return OK_PDPT;
    case 'set_nr_mmu_pages':
      return kvm_vm_ioctl_set_nr_mmu_pages(c, op.pages);
    case 'nx_huge_pages':
      return set_nx_huge_pages(c, op.on);
    case 'mmio_gen_wrap':
      c.rec.call('kvm_arch_memslots_updated', () =>
        c.rec.call('kvm_mmu_invalidate_mmio_sptes', () => kvm_mmu_zap_all_fast(c)),
      );
      return ok('MMIO generation wraps to 0');
    case 'notifier_unmap':
      kvm_unmap_gfn_range(c, op.start, op.end);
      return ok('MMU-notifier unmap');
    case 'cpuid': {
      // feb627e8d6f6 (v5.16) / c6617c61e8fe (v5.17): after KVM_RUN only an identical CPUID is accepted, and then
      // kvm_set_cpuid returns before kvm_vcpu_after_set_cpuid. The model's CPUID is its MAXPHYADDR and the
      // feature bits the MMU depends on (CPUID_FEATURES).
      const maxphyaddr = op.maxphyaddr ?? v.maxphyaddr;
      const features = { ...v.cpuid, ...op.features };
      const changed = CPUID_FEATURES.filter((f) => features[f] !== v.cpuid[f]);
      if (v.has_run && c.kernel.has('cpuid_after_run_rejected')) {
        if (maxphyaddr === v.maxphyaddr && changed.length === 0)
          return ok('KVM_SET_CPUID (identical CPUID after KVM_RUN: accepted, no change)');
        const what = [
          ...(maxphyaddr !== v.maxphyaddr ? [`MAXPHYADDR ${v.maxphyaddr} → ${maxphyaddr}`] : []),
          ...changed.map((f) => `${f} ${features[f] ? 'on' : 'off'}`),
        ].join(', ');
        return error(
          'KVM_SET_CPUID',
          `KVM_SET_CPUID fails with -EINVAL: vCPU ${v.id} has run and the CPUID differs (${what}); nothing changes`,
        );
      }
      v.cpuid = features;
      kvm_mmu_after_set_cpuid(c, v, maxphyaddr);
      return ok('KVM_SET_CPUID');
    }
    case 'destroy_vcpu':
      kvm_arch_vcpu_destroy(c, v);
      return ok(`destroy vCPU ${v.id}`);
    case 'destroy_vm':
      kvm_destroy_vm(c);
      return ok('destroy VM');
  }
}

/**
 * `emulate write GPA BYTES`: KVM's emulator writes guest memory (x86_emulate_instruction → emulator_write_emulated
 * → emulator_write_phys) and tells the MMU (kvm_page_track_write). A write that crosses a page boundary is two
 * writes, one per page (emulator_read_write splits it); the model takes the next page to be the next frame. The
 * emulator runs without a VM-entry in between, so no entry is implied.
 */
function guestWrite(c: Ctx, v: VcpuState, gpa: bigint, bytes: number): Outcome {
  const offset = Number(gpa & 0xfffn);
  const first = Math.min(bytes, 4096 - offset);
  const pieces: [bigint, number][] = [[gpa, first]];
  if (first < bytes) pieces.push([(gpa | 0xfffn) + 1n, bytes - first]);
  let pages = 0;
  let zapped = 0;
  c.rec.call('x86_emulate_instruction', () =>
    c.rec.call('emulator_write_phys', () =>
      c.rec.call('kvm_page_track_write', () => {
        for (const [at, n] of pieces) {
          const r = kvm_mmu_track_write(c, v, at, n);
          pages += r.pages;
          zapped += r.zapped;
        }
      }),
    ),
  );
  const split = pieces.length > 1 ? ', split at the page boundary' : '';
  if (pages === 0) return ok(`emulated write${split} (no shadow page for the frame: not write-protected)`);
  if (zapped === 0) return ok(`emulated write${split}`);
  return ok(`emulated write${split} (${zapped} shadow page${zapped > 1 ? 's' : ''} zapped)`);
}

const VMX_LABEL = { vmxon: 'VMXON', vmxoff: 'VMXOFF', vmclear: 'VMCLEAR', vmptrld: 'VMPTRLD' } as const;

/** VMXON, VMXOFF, VMCLEAR and VMPTRLD: L1 instructions that exit to L0's vmx/nested.c handlers. */
function vmxInstruction(
  c: Ctx,
  v: VcpuState,
  op: Extract<ModelOp, { op: 'vmxon' | 'vmxoff' | 'vmclear' | 'vmptrld' }>,
): Outcome {
  const label = VMX_LABEL[op.op];
  if (!c.vm.nested || c.vm.vendor !== 'intel')
    return error(label, `${label} needs nested VMX (vm vendor=intel nested=on)`);
  if (v.is_guest_mode) return error(label, `${label} executed by L2 exits to L1; issue it from L1 (after vmexit)`);
  enter_guest_before_instruction(c, v);
  let r: VmxResult;
  if (op.op === 'vmxon') r = handle_vmxon(c, v);
  else if (op.op === 'vmxoff') r = handle_vmxoff(c, v);
  else if (op.op === 'vmclear') r = handle_vmclear(c, v, op.vmptr);
  else r = handle_vmptrld(c, v, op.vmptr);
  if (r.kind === 'fault') return error(label, r.message);
  if (r.kind === 'vmfail') return { outcome: 'vmfail', label, message: r.message };
  return ok(r.note ? `${label} (${r.note})` : label);
}

function vmenter(c: Ctx, v: VcpuState, op: Extract<ModelOp, { op: 'vmenter' }>): Outcome {
  if (!c.vm.nested) return error('VM-Enter', 'nested virtualization is off (vm nested=on)');
  if (v.is_guest_mode) return error('VM-Enter', 'already in guest mode (L2)');
  if (v.is_smm) return error('VM-Enter', 'VM-Enter from SMM is not supported');
  const intel = c.vm.vendor === 'intel';
  if (intel && op.npt) return error('VM-Enter', 'npt= is for AMD (vm vendor=amd); Intel uses ept=');
  if (!intel && op.ept) return error('VM-Enter', 'ept= is for Intel; AMD uses npt=');
  const l1: Regs = { cr0: v.cr0, cr3: v.cr3, cr4: v.cr4, efer: v.efer };
  const l2: Regs = { cr0: op.cr0 ?? v.cr0, cr3: op.cr3 ?? v.cr3, cr4: op.cr4 ?? v.cr4, efer: op.efer ?? v.efer };
  const nested: NestedState = {
    l1,
    ept: intel && op.ept,
    eptp: op.eptp,
    npt: !intel && op.npt,
    ncr3: op.ncr3,
    vpid: op.vpid,
  };
  if ((nested.ept || nested.npt) && !c.vm.tdp) {
    return error('VM-Enter', 'nested EPT/NPT needs EPT/NPT in L0 (vm tdp=on)');
  }
  enter_guest_before_instruction(c, v);
  if (intel) {
    const noVmcs = implied_vmxon(c, v);
    if (noVmcs) return { outcome: 'vmfail', label: 'VM-Enter', message: noVmcs };
  }
  const bad = nested_checks(c, v, nested, l2);
  if (bad) {
    return { outcome: 'vmfail', label: 'VM-Enter', message: bad };
  }
  nested_enter(c, v, nested, l2);
  // svm/nested.c nested_svm_vmrun (v5.15 … v6.12): `svm_set_gif(svm, true)` once L2 state is loaded.
  if (!intel) v.gif = true;
  return ok('VM-Enter');
}

// ---------------------------------------------------------------------------------------------------
// VM-level events

/**
 * `KVM_SET_USER_MEMORY_REGION` (kvm_main.c `__kvm_set_memory_region` → `kvm_set_memslot`). A slot with a layout is
 * tracked (its gfns are visible with `vm memory=slots`, and a v6.12 deletion without the zap-all quirk zaps the
 * shadow pages in its range); a slot without one changes only what it always did: DELETE and MOVE flush, CREATE
 * touches no root.
 */
function kvm_set_memory_region(c: Ctx, op: Extract<ModelOp, { op: 'memslot' }>): Outcome {
  const label = `memslot ${op.action} ${op.slot}`;
  const old = c.s.memslots.get(op.slot);
  const slots = c.vm.memory === 'slots';
  if (op.action === 'create') {
    if (op.gfn === undefined || op.pages === undefined) {
      if (slots) return error(label, 'with vm memory=slots a memslot needs its layout: `gfn=` and `pages=`');
      kvm_arch_flush_shadow_memslot(c, op.action, op.slot);
      return ok(label);
    }
    if (old) return error(label, `KVM_SET_USER_MEMORY_REGION fails with -EEXIST: memslot ${op.slot} exists`);
    const slot: Memslot = Object.freeze({ base_gfn: op.gfn, npages: op.pages });
    const clash = overlapping(c, op.slot, slot);
    if (clash) return error(label, clash);
    // KVM_MR_CREATE flushes nothing: a dummy root for a gfn the new slot covers stays until a guest fault asks for
    // KVM_REQ_MMU_FREE_OBSOLETE_ROOTS (paging_tmpl.h FNAME(fetch)).
    c.s.memslots.set(op.slot, slot);
    return ok(label);
  }
  if (!old) {
    if (op.gfn !== undefined)
      return error(label, `memslot ${op.slot} has no layout to move (create it with \`gfn=\` and \`pages=\`)`);
    if (slots) return error(label, `KVM_SET_USER_MEMORY_REGION fails with -EINVAL: memslot ${op.slot} does not exist`);
    kvm_arch_flush_shadow_memslot(c, op.action, op.slot);
    return ok(label);
  }
  if (op.action === 'delete') {
    kvm_arch_flush_shadow_memslot(c, op.action, op.slot, old);
    c.s.memslots.delete(op.slot);
    return ok(label);
  }
  const moved: Memslot = Object.freeze({ base_gfn: op.gfn ?? old.base_gfn, npages: old.npages });
  const clash = overlapping(c, op.slot, moved);
  if (clash) return error(label, clash);
  kvm_arch_flush_shadow_memslot(c, op.action, op.slot, old);
  c.s.memslots.set(op.slot, moved);
  return ok(label);
}

/** `kvm_check_memslot_overlap`: why `slot` cannot take `m`'s range, or undefined. */
function overlapping(c: Ctx, id: number, m: Memslot): string | undefined {
  for (const [other, o] of c.s.memslots) {
    if (other === id) continue;
    if (m.base_gfn < o.base_gfn + o.npages && o.base_gfn < m.base_gfn + m.npages)
      return `KVM_SET_USER_MEMORY_REGION fails with -EEXIST: gfns [${hex(m.base_gfn)}, ${hex(m.base_gfn + m.npages)}) overlap memslot ${other}`;
  }
  return undefined;
}

/**
 * `kvm_arch_flush_shadow_memslot` (facts §4.12). `range`: the slot's layout, when it has one; without the zap-all
 * quirk (v6.12 `slot_zap_all=off`) it is what `kvm_mmu_zap_memslot` zaps.
 */
function kvm_arch_flush_shadow_memslot(
  c: Ctx,
  action: 'delete' | 'move' | 'create',
  slot: number,
  range?: Memslot,
): void {
  // CREATE (and FLAGS_ONLY) never touch roots.
  if (action === 'create') return;
  c.rec.call('kvm_arch_flush_shadow_memslot', () => {
    if (c.kernel.has('slot_zap_all_quirk') && !c.vm.slot_zap_all) {
      // KVM_X86_QUIRK_SLOT_ZAP_ALL disabled: zap only the slot's SPTEs, invalidate no root.
      c.rec.call('kvm_mmu_zap_memslot', () => {
        const where = range ? ` [gfn ${hex(range.base_gfn)}, ${hex(range.base_gfn + range.npages)})` : '';
        let leaves = false;
        for (const id of c.s.live) {
          const p = page(c, id);
          if (!p.has_sptes) continue;
          leaves = true;
          c.rec.emit('zap', `zap leaf SPTEs of memslot ${slot}${where} under root #${id}`, { root: id });
        }
        if (!range) {
          kvm_flush_remote_tlbs(c);
          return;
        }
        kvm_mmu_zap_memslot_pages_and_flush(c, range, leaves);
      });
      return;
    }
    kvm_mmu_zap_all_fast(c);
  });
}

/** Shadow pages with guest PTEs (`sp_has_gptes`: not direct, not passthrough) shadowing a gfn of `range`. */
function kvm_mmu_zap_memslot_pages_and_flush(c: Ctx, range: Memslot, flush: boolean): void {
  c.rec.call('kvm_mmu_zap_memslot_pages_and_flush', () => {
    const end = range.base_gfn + range.npages;
    const invalid_list: MmuPage[] = [];
    for (const id of [...c.s.live]) {
      const p = page(c, id);
      if (p.tdp_mmu_page || p.unlinked || p.invalid || p.gfn === null || is_obsolete_sp(c, p)) continue;
      if (getRoleField(c.kernel, p.role, 'direct') || getRoleField(c.kernel, p.role, 'passthrough')) continue;
      if (p.gfn < range.base_gfn || p.gfn >= end) continue;
      c.rec.call('kvm_mmu_prepare_zap_page', () => __kvm_mmu_prepare_zap_page(c, p, invalid_list));
    }
    // kvm_mmu_remote_flush_or_zap: committing the zapped pages flushes; otherwise flush if leaves went.
    if (invalid_list.length > 0) kvm_mmu_commit_zap_page(c, invalid_list);
    else if (flush) kvm_flush_remote_tlbs(c);
  });
}

/**
 * The guest runs on the dummy root (v6.6+): every access faults and KVM handles the fault by walking the guest's
 * tables (`kvm_mmu_page_fault` → `FNAME(page_fault)`). While the root gfn is outside every memslot the walk fails
 * and KVM injects a #PF; once a memslot covers it, `FNAME(fetch)` finds the dummy root, asks for
 * KVM_REQ_MMU_FREE_OBSOLETE_ROOTS and retries, so the vCPU re-enters: the dummy root is dropped as obsolete
 * (`is_obsolete_root`: no shadow page) and a real root is loaded.
 */
function guest_runs_on_dummy_root(c: Ctx, v: VcpuState): Outcome {
  const mmu = activeMmu(v);
  const gfn = (guestPgd(v, mmu) & 0x000ffffffffff000n) >> 12n;
  const fname = mmu.name === 'guest_mmu' && v.nested?.ept ? 'ept' : mmu.guest_level >= 3 ? 'paging64' : 'paging32';
  let retry = false;
  c.rec.call('kvm_mmu_page_fault', () =>
    c.rec.call(`${fname}_page_fault`, () => {
      if (!kvm_vcpu_is_visible_gfn(c, gfn)) {
        // L2's fault on a shadowed EPT/NPT is reflected to L1 (nested_ept_inject_page_fault / nested_svm_inject_npf_exit).
        const what =
          mmu.name !== 'guest_mmu'
            ? '#PF injected'
            : v.nested?.ept
              ? 'EPT violation reflected to L1'
              : '#NPF reflected to L1';
        c.rec.emit(
          'fault',
          `${what}: the walk of the guest's tables reads gfn ${hex(gfn)}, outside every memslot (vCPU ${v.id} runs on the dummy root)`,
          { vcpu: v.id, mmu: mmu.name },
        );
        return;
      }
      retry = true;
      c.rec.call(`${fname}_fetch`, () =>
        kvm_make_request(c, v, 'KVM_REQ_MMU_FREE_OBSOLETE_ROOTS', `dummy root; gfn ${hex(gfn)} is in a memslot now`),
      );
    }),
  );
  if (retry) {
    const entered = vcpu_enter_guest(c, v);
    if (entered === 'shutdown') return SHUTDOWN_RUN;
    if (entered === 'enospc') return ENOSPC_RUN;
  }
  return OK_RUN;
}

/** `kvm_vm_ioctl_set_nr_mmu_pages` (x86.c): below KVM_MIN_ALLOC_MMU_PAGES it is -EINVAL. */
function kvm_vm_ioctl_set_nr_mmu_pages(c: Ctx, pages: number): Outcome {
  if (pages < KVM_MIN_ALLOC_MMU_PAGES)
    return error(
      'KVM_SET_NR_MMU_PAGES',
      `KVM_SET_NR_MMU_PAGES fails with -EINVAL: ${pages} is below KVM_MIN_ALLOC_MMU_PAGES (${KVM_MIN_ALLOC_MMU_PAGES}); the limit stays`,
    );
  c.rec.call('kvm_vm_ioctl_set_nr_mmu_pages', () => kvm_mmu_change_mmu_pages(c, pages));
  const max = c.s.n_max_mmu_pages ?? pages;
  return ok(
    max === pages
      ? `KVM_SET_NR_MMU_PAGES ${pages}`
      : `KVM_SET_NR_MMU_PAGES ${pages} (${max} shadow pages are roots still held: the limit is ${max})`,
  );
}

/**
 * `set_nx_huge_pages` (mmu.c, v5.15 … v6.18): writing the module parameter; a changed value zaps every VM
 * (kvm_mmu_zap_all_fast under slots_lock), since existing huge-page mappings may no longer be allowed.
 */
function set_nx_huge_pages(c: Ctx, on: boolean): Outcome {
  const label = `nx_huge_pages ${on ? 'on' : 'off'}`;
  if (c.s.nx_huge_pages === on) return ok(`${label} (unchanged: nothing is zapped)`);
  c.s.nx_huge_pages = on;
  c.rec.call('set_nx_huge_pages', () => kvm_mmu_zap_all_fast(c));
  return ok(label);
}

/** `kvm_mmu_notifier_invalidate_range_start` → `kvm_unmap_gfn_range` (facts §4.14). */
function kvm_unmap_gfn_range(c: Ctx, start: bigint, end: bigint): void {
  c.rec.call('kvm_mmu_notifier_invalidate_range_start', () =>
    c.rec.call('kvm_unmap_gfn_range', () => {
      let flush = kvm_handle_gfn_range_shadow(c) > 0;
      if (flush) c.rec.emit('zap', `zap shadow-MMU leaf SPTEs of [${hex(start)}, ${hex(end)}) through the rmaps`);
      if (tdp_mmu_enabled(c)) flush = kvm_tdp_mmu_unmap_gfn_range(c, start, end) > 0 || flush;
      if (flush) kvm_flush_remote_tlbs(c);
    }),
  );
}

/** `kvm_arch_vcpu_destroy`: unload (kvm_mmu_destroy unloads again, finding nothing). */
function kvm_arch_vcpu_destroy(c: Ctx, v: VcpuState): void {
  c.rec.call('kvm_arch_vcpu_destroy', () => {
    kvm_mmu_unload(c, v);
    v.requests.length = 0;
    v.destroyed = true;
  });
}

/** `kvm_destroy_vm` (facts §3.8). */
function kvm_destroy_vm(c: Ctx): void {
  c.rec.call('kvm_destroy_vm', () => {
    c.rec.call('kvm_mmu_notifier_release', () =>
      c.rec.call('kvm_mmu_zap_all', () => {
        kvm_mmu_zap_all_shadow(c);
        if (tdp_mmu_enabled(c)) kvm_tdp_mmu_zap_all(c);
      }),
    );
    c.rec.call('kvm_arch_destroy_vm', () => {
      for (const v of c.s.vcpus) if (!v.destroyed) kvm_arch_vcpu_destroy(c, v);
      c.rec.call('kvm_mmu_uninit_vm', () => {
        if (tdp_mmu_enabled(c)) kvm_mmu_uninit_tdp_mmu(c);
      });
    });
    c.s.destroyed = true;
  });
}

// ---------------------------------------------------------------------------------------------------
// Summary and snapshot

const GROUPED: readonly [Action['op'], string][] = [
  ['unload', 'unload'],
  ['evict', 'evict'],
  ['invalidate', 'invalidate'],
  ['free', 'free'],
];

/**
 * Results of steps whose actions are all shared, by outcome and number of actions, then label and action identity
 * (identity is content for shared actions): within one tree every key has the same length.
 */
function sharedResult(caches: ModelCaches, r: Outcome, actions: readonly Action[]): StepResult {
  let byLength = caches.results.get(r.outcome);
  if (!byLength) caches.results.set(r.outcome, (byLength = []));
  const tree = (byLength[actions.length] ??= new FixedKeyTree(20_000));
  const known = tree.get(r.label, actions);
  if (known) return known;
  const list = Object.freeze(actions.slice());
  const result = Object.freeze({
    outcome: r.outcome,
    summary: caches.summaries.of(summarize(caches, r, list)),
    actions: list as Action[],
  });
  tree.set(r.label, actions, result);
  return result;
}

/**
 * `LABEL: what` for the summaries that say only that (`no root change`, by far the most common; `no VM-exit`, which a
 * guest switching CR3 makes thousands of): one string per label and sentence, not one per step. Bounded: a label
 * can quote the statement (`memslot delete 3`).
 */
function labelled(caches: ModelCaches, label: string, what: string): string {
  let s = caches.labelled.getN(label, 1, what);
  if (s === undefined) caches.labelled.set(label, [what], (s = `${label}: ${what}`));
  return s;
}

/** One line per statement, in one pass over the actions. */
function summarize(caches: ModelCaches, r: Outcome, actions: readonly Action[]): string {
  if (r.outcome === 'error' || r.outcome === 'gp' || r.outcome === 'vmfail' || r.outcome === 'shutdown')
    return `${r.label}: ${r.message ?? r.outcome}`;
  if (r.outcome === 'no_exit') return labelled(caches, r.label, 'no VM-exit');
  if (actions.length === 0) return labelled(caches, r.label, 'no root change');
  // Most steps' actions are re-initialisations, requests and flushes: allocate only when something is said.
  let parts: string[] | undefined;
  let grouped: Map<Action['op'], Set<number>> | undefined;
  let puts: Set<number> | undefined;
  let warn = false;
  let hazard = false;
  for (const a of actions) {
    switch (a.op) {
      case 'alloc':
        (parts ??= []).push(`alloc #${a.root}`);
        break;
      case 'reuse':
        (parts ??= []).push(`reuse #${a.root}${a.refcount ? ` rc ${a.refcount[0]}→${a.refcount[1]}` : ''}`);
        break;
      case 'cache_hit':
        (parts ??= []).push(`cache hit #${a.root} (${a.slot})`);
        break;
      case 'cache_miss':
        (parts ??= []).push(a.root === undefined ? 'cache miss' : `cache miss, #${a.root} → ${a.slot}`);
        break;
      case 'dummy_root':
        (parts ??= []).push(a.detail.includes('drops') ? 'drop dummy root' : 'dummy root');
        break;
      case 'warn':
        warn = true;
        break;
      case 'hazard':
        hazard = true;
        break;
      case 'put':
        if (a.root !== undefined) (puts ??= new Set()).add(a.root);
        break;
      case 'unload':
      case 'evict':
      case 'invalidate':
      case 'free': {
        grouped ??= new Map();
        let set = grouped.get(a.op);
        if (!set) grouped.set(a.op, (set = new Set()));
        if (a.root !== undefined) set.add(a.root);
        for (const id of a.roots ?? []) set.add(id);
        break;
      }
      case 'get':
      case 'zap':
      case 'queue_zap':
      case 'pte_write':
      case 'request':
      case 'flush':
      case 'reinit':
      case 'reinit_skipped':
      case 'fault':
      case 'no_exit':
        break;
    }
  }
  if (grouped)
    for (const [op, word] of GROUPED) {
      const set = grouped.get(op);
      if (set && set.size > 0) (parts ??= []).push(`${word} ${[...set].map((id) => `#${id}`).join(' ')}`);
    }
  if (!parts && puts && puts.size > 0) parts = [`put ${[...puts].map((id) => `#${id}`).join(' ')}`];
  if (warn) (parts ??= []).push('WARN');
  if (hazard) (parts ??= []).push('HAZARD');
  return parts ? `${r.label}: ${parts.join('; ')}` : labelled(caches, r.label, 'no root change');
}

function fmtPgd(pgd: bigint): string {
  return pgd === INVALID_PGD ? 'INVALID' : hex(pgd);
}

function snapshotOf(kernel: Kernel, s: VmState): Snapshot {
  const holders = new Map<number, string[]>();
  const hold = (id: number, who: string): void => {
    const list = holders.get(id);
    if (list) list.push(who);
    else holders.set(id, [who]);
  };
  for (const v of s.vcpus) {
    if (v.destroyed) continue;
    for (const mmu of [v.root_mmu, v.guest_mmu]) {
      const base = `vcpu${v.id}.${mmu.name}`;
      if (typeof mmu.root.hpa === 'number') hold(mmu.root.hpa, `${base}.root`);
      else if (mmu.root.hpa !== null) {
        mmu.pae_root.forEach((id, i) => {
          if (id !== null) hold(id, `pae_root[${i}] (via ${base})`);
        });
      }
      mmu.prev_roots.forEach((slot, i) => {
        if (typeof slot.hpa === 'number') hold(slot.hpa, `${base}.prev_roots[${i}]`);
      });
    }
  }
  const current: RootSnapshot[] = [];
  for (const p of s.roots.values()) current.push(rootSnapshot(kernel, s, p, holders.get(p.id) ?? []));
  const vcpus = s.vcpus.map((v) => vcpuSnapshot(kernel, v));
  const stats: Record<string, number> = {};
  for (const n of STAT_NAMES) stats[n] = s.stats[n] ?? 0;
  const mmuPages = { used: s.n_used_mmu_pages, max: s.n_max_mmu_pages };
  if (!s.retired)
    return { roots: current, vcpus, stats, mmuValidGen: s.mmu_valid_gen, mmuPages, vmDestroyed: s.destroyed };
  // With retired roots, the list is put together when first read: retired batches never change, so reading it
  // later gives what it would now, and a state asked for its vCPUs (a hover) does not copy every root freed so far.
  const retired = s.retired;
  let roots: RootSnapshot[] | undefined;
  return {
    get roots(): RootSnapshot[] {
      return (roots ??= withRetired(kernel, retired, current));
    },
    set roots(value: RootSnapshot[]) {
      roots = value;
    },
    vcpus,
    stats,
    mmuValidGen: s.mmu_valid_gen,
    mmuPages,
    vmDestroyed: s.destroyed,
  };
}

/** The retired rows (oldest batch first) and `current`, in id order. */
function withRetired(kernel: Kernel, retired: RetiredRoots, current: readonly RootSnapshot[]): RootSnapshot[] {
  const rows = retiredRows(kernel, retired);
  let sorted = true;
  for (let i = 1; i < rows.length && sorted; i++)
    sorted = (rows[i - 1] as RootSnapshot).id < (rows[i] as RootSnapshot).id;
  const last = rows.length > 0 ? (rows[rows.length - 1] as RootSnapshot).id : 0;
  for (const row of current) {
    if (row.id < last) sorted = false;
    rows.push(row);
  }
  // Each batch and the current pages are in id order: sorting those runs is a merge (TimSort), not a full sort.
  return sorted ? rows : rows.sort((a, b) => a.id - b.id);
}

/**
 * The retired pages' rows, oldest batch first: made once per batch (a retired page cannot change) and frozen, so a
 * snapshot late in a long scenario copies references instead of describing every root freed so far again.
 */
function retiredRows(kernel: Kernel, retired: RetiredRoots): RootSnapshot[] {
  const batches: RetiredRoots[] = [];
  for (let r: RetiredRoots | null = retired; r; r = r.prev) batches.push(r);
  const rows: RootSnapshot[] = [];
  for (let i = batches.length - 1; i >= 0; i--) {
    const batch = batches[i] as RetiredRoots;
    batch.rows ??= Object.freeze(batch.pages.map((p) => deepFreeze(retiredRow(kernel, p))));
    for (const row of batch.rows) rows.push(row);
  }
  return rows;
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o) as unknown[]) if (typeof v === 'object' && v !== null) Object.freeze(v);
  return Object.freeze(o);
}

/** A freed page's row depends on the page alone. */
function retiredRow(kernel: Kernel, p: MmuPage): RootSnapshot {
  return rootSnapshot(kernel, null, p, []);
}

function rootSnapshot(kernel: Kernel, s: VmState | null, p: MmuPage, vcpuHolders: string[]): RootSnapshot {
  const holders = p.freed ? [] : [...vcpuHolders];
  if (!p.freed) {
    if (p.tdp_mmu_ref) holders.push('tdp_mmu');
    for (let i = 0; i < p.zap_worker_ref; i++) holders.push('zap_worker');
  }
  return {
    id: p.id,
    kind: p.kind,
    role: formatRole(p.role),
    level: getRoleField(kernel, p.role, 'level'),
    smm: getRoleField(kernel, p.role, 'smm') !== 0,
    guestMode: getRoleField(kernel, p.role, 'guest_mode') !== 0,
    refcount: p.refcount,
    state: p.freed ? 'freed' : p.invalid ? 'invalid' : 'valid',
    obsolete: !p.freed && !p.tdp_mmu_page && p.mmu_valid_gen !== s?.mmu_valid_gen,
    allocatedAt: p.allocatedAt,
    freedAt: p.freedAt,
    gfn: p.gfn === null ? null : hex(p.gfn),
    holders,
  };
}

function mmuSnapshot(kernel: Kernel, m: MmuState): MmuSnapshot {
  const special = typeof m.root.hpa === 'string' ? m.root.hpa : null;
  return {
    name: m.name,
    root: typeof m.root.hpa === 'number' ? m.root.hpa : null,
    rootPgd: fmtPgd(m.root.pgd),
    prevRoots: m.prev_roots.map((r) => (typeof r.hpa === 'number' ? r.hpa : null)),
    prevPgds: m.prev_roots.map((r) => fmtPgd(r.pgd)),
    cpuRole: formatCpuRole(m.cpu_role.base, m.cpu_role.ext),
    rootRole: formatRole(m.root_role),
    guestLevel: m.guest_level,
    rootLevel: m.root_level || getRoleField(kernel, m.root_role, 'level'),
    rootSpecial: special,
    paeRoots: special && special !== 'dummy' ? [...m.pae_root] : [],
  };
}

function vcpuSnapshot(kernel: Kernel, v: VcpuState): VcpuSnapshot {
  const active = mmuOf(v, v.mmu);
  return {
    id: v.id,
    mmu: v.mmu,
    walkMmu: v.walk_mmu,
    root: typeof active.root.hpa === 'number' ? active.root.hpa : null,
    prevRoots: active.prev_roots.map((r) => (typeof r.hpa === 'number' ? r.hpa : null)),
    smm: v.is_smm,
    guestMode: v.is_guest_mode,
    regs: { cr0: hex(v.cr0), cr3: hex(v.cr3), cr4: hex(v.cr4), efer: hex(v.efer) },
    mmus: [v.root_mmu, v.guest_mmu, v.nested_mmu].map((m) => mmuSnapshot(kernel, m)),
    requests: [...v.requests],
    destroyed: v.destroyed,
  };
}

/**
 * The model errors found in review (issue 14, item 5). Each test names the kernel file, function and version it
 * follows; what was read there is in docs/kernel-notes.md §5.
 */
import assert from 'node:assert/strict';
import { findBehaviour, findProfile, kernelFor, makeKernel } from '../../src/kernel/behaviours.js';
import { shadowPageLookupName } from '../../src/kvm/shadow_mmu.js';
import {
  EFER_LMA,
  EFER_LME,
  EFER_NX,
  EFER_SVME,
  X86_CR0_PE,
  X86_CR0_PG,
  X86_CR0_WP,
  X86_CR4_PAE,
  X86_CR4_PKE,
  X86_CR4_VMXE,
} from '../../src/kernel/regs.js';
import { getExtField, getRoleField } from '../../src/kernel/role_layout.js';
import type { ModelOp } from '../../src/kernel/types.js';
import { LONG_MODE, ops, vmOn, type Harness } from './helpers.js';

const rolesOf = (r: ReturnType<Harness['run']>): string[] => ops(r, 'alloc').map((a) => a.role!);
const vmenter = (over: Partial<Extract<ModelOp, { op: 'vmenter' }>> = {}): ModelOp => ({
  op: 'vmenter',
  ept: false,
  eptp: 0n,
  npt: false,
  ncr3: 0n,
  vpid: 0,
  ...over,
});

describe('model fixes: shadow paging with CR0.PG=0 (direct roots), bit 4 of the page role', () => {
  it('v5.15 (mmu.c kvm_mmu_get_page): direct pages get gpte_is_8_bytes=1, roots 0x792 / SMM 0x1000792', () => {
    const h = vmOn('v5.15', { tdp: false });
    const run = h.run(); // reset state: CR0.PG=0
    assert.deepEqual(rolesOf(run), ['0x00000792', '0x00000792', '0x00000792', '0x00000792']);
    // The MMU role itself keeps gpte_is_8_bytes = CR0.PG && CR4.PAE = 0 (kvm_calc_shadow_root_page_role_common).
    const k = h.kvm.kernel;
    assert.equal(getRoleField(k, Number(h.snap.vcpus[0]!.mmus[0]!.rootRole), 'gpte_is_8_bytes'), 0);
    h.smi();
    assert.deepEqual(rolesOf(h.run()), ['0x01000792', '0x01000792', '0x01000792', '0x01000792']);
  });

  it('v5.17 (mmu.c kvm_calc_shadow_root_page_role_common): has_4_byte_gpte = CR0.PG && !CR4.PAE, 0 with paging off', () => {
    const h = vmOn('v5.17', { tdp: false });
    assert.deepEqual(rolesOf(h.run()), ['0x00000782', '0x00000782', '0x00000782', '0x00000782']);
    h.smi();
    assert.deepEqual(rolesOf(h.run()), ['0x01000782', '0x01000782', '0x01000782', '0x01000782']);
  });

  it('v5.17 and v6.1: a 32-bit non-PAE guest has has_4_byte_gpte=1; v5.15 has gpte_is_8_bytes=0', () => {
    for (const [profile, field, want] of [
      ['v5.15', 'gpte_is_8_bytes', 0],
      ['v5.17', 'has_4_byte_gpte', 1],
      ['v6.1', 'has_4_byte_gpte', 1],
    ] as const) {
      const h = vmOn(profile, { tdp: false });
      h.sregs({ cr0: X86_CR0_PE | X86_CR0_PG | X86_CR0_WP, cr4: 0n, efer: 0n, cr3: 0x1000n });
      const roles = rolesOf(h.run());
      assert.ok(roles.length > 0, profile);
      for (const role of roles) assert.equal(getRoleField(h.kvm.kernel, Number(role), field), want, profile);
    }
  });

  it('v6.1 (mmu.c kvm_calc_cpu_role): paging off leaves has_4_byte_gpte 0 in the direct roots', () => {
    const h = vmOn('v6.1', { tdp: false });
    const roles = rolesOf(h.run());
    assert.equal(roles.length, 4);
    for (const role of roles) assert.equal(getRoleField(h.kvm.kernel, Number(role), 'has_4_byte_gpte'), 0);
  });

  it('the behaviour table no longer calls has_4_byte_gpte the inverse of gpte_is_8_bytes', () => {
    const b = findBehaviour('has_4_byte_gpte')!;
    assert.doesNotMatch(b.description, /\(the inverse\)/);
    assert.match(b.description, /CR0\.PG && !CR4\.PAE/);
    assert.ok(b.commits.includes('41e35604eaff2266ba8523787ebe99c5ca4c4045'));
  });
});

describe('model fixes: nested NPT and CR4.PKE (mmu.c kvm_init_shadow_npt_mmu)', () => {
  const L1 = { cr0: X86_CR0_PE | X86_CR0_PG | X86_CR0_WP, cr4: X86_CR4_PAE | X86_CR4_PKE, cr3: 0x1000n };
  for (const [profile, pke] of [
    ['v5.15', 1],
    ['v5.17', 0],
    ['v6.1', 0],
  ] as const) {
    it(`${profile}: L1 CR4.PKE ${pke ? 'reaches' : 'is stripped from'} the guest_mmu extended role`, () => {
      const h = vmOn(profile, { vendor: 'amd', nested: true });
      h.sregs({ ...L1, efer: EFER_LME | EFER_LMA | EFER_NX | EFER_SVME });
      h.run();
      const r = h.do(vmenter({ npt: true, ncr3: 0x7000n }));
      assert.equal(r.outcome, 'ok', r.message);
      const guest = h.snap.vcpus[0]!.mmus.find((m) => m.name === 'guest_mmu')!;
      const ext = Number(BigInt(guest.cpuRole) >> 32n);
      assert.equal(getExtField(h.kvm.kernel, ext, 'cr4_pke'), pke);
    });
  }
});

describe('model fixes: CR4.PKE with shadow paging (cpuid.c kvm_set_cpu_caps, x86.c kvm_is_valid_cr4)', () => {
  for (const profile of ['v5.15', 'v6.1', 'v6.18']) {
    it(`${profile}: tdp=off makes CR4.PKE reserved: #GP, nothing reset; KVM_SET_SREGS fails`, () => {
      const h = vmOn(profile, { tdp: false });
      h.longMode();
      h.run();
      const before = h.snap;
      const w = h.cr4('|=', X86_CR4_PKE);
      assert.equal(w.outcome, 'gp');
      assert.match(w.message!, /PKE/);
      assert.equal(ops(w, 'unload').length + ops(w, 'reinit').length, 0);
      assert.deepEqual(h.snap.vcpus[0]!.regs, before.vcpus[0]!.regs);
      assert.equal(h.sregs({ cr4: X86_CR4_PAE | X86_CR4_PKE }).outcome, 'error');
    });
  }

  it('with TDP the same write is accepted (PKU exposed)', () => {
    const h = vmOn('v6.1', { tdp: true });
    h.longMode();
    h.run();
    assert.equal(h.cr4('|=', X86_CR4_PKE).outcome !== 'gp', true);
  });
});

describe('model fixes: KVM_SET_CPUID after KVM_RUN (cpuid.c kvm_set_cpuid, v5.16/v5.17)', () => {
  it('v5.15.0 accepts a changed CPUID after the vCPU has run and resets the MMU', () => {
    const h = vmOn('v5.15', { max_tdp_level: 5, maxphyaddr: 46 });
    h.longMode();
    h.run();
    const r = h.do({ op: 'cpuid', maxphyaddr: 52 });
    assert.equal(r.outcome, 'ok');
    assert.equal(ops(r, 'unload').length, 1);
  });

  for (const profile of ['v5.17', 'v6.1', 'v6.18']) {
    it(`${profile}: a changed CPUID after KVM_RUN is a rejected ioctl (-EINVAL), nothing reset`, () => {
      const h = vmOn(profile, { max_tdp_level: 5, maxphyaddr: 46 });
      h.longMode();
      h.run();
      const before = h.snap;
      const r = h.do({ op: 'cpuid', maxphyaddr: 52 });
      assert.equal(r.outcome, 'error');
      assert.match(r.message!, /-EINVAL/);
      assert.equal(r.actions.length, 0);
      assert.deepEqual(h.snap, before);
      const same = h.do({ op: 'cpuid', maxphyaddr: 46 });
      assert.equal(same.outcome, 'ok', 'identical CPUID is accepted (kvm_cpuid_check_equal)');
      assert.equal(same.actions.length, 0);
    });
  }

  it('before the first KVM_RUN every profile applies it', () => {
    const h = vmOn('v6.18', { max_tdp_level: 5, maxphyaddr: 46 });
    h.longMode();
    assert.equal(h.do({ op: 'cpuid', maxphyaddr: 52 }).outcome, 'ok');
    assert.equal(h.root(ops(h.run(), 'alloc')[0]!.root!).level, 5);
  });
});

describe('model fixes: INIT in VMX operation outside guest mode (vmx.c vmx_apic_init_signal_blocked)', () => {
  for (const profile of ['v5.15', 'v6.1', 'v6.18']) {
    it(`${profile}: INIT is latched, no reset`, () => {
      const h = vmOn(profile, { nested: true });
      h.sregs({ ...LONG_MODE, cr4: X86_CR4_PAE | X86_CR4_VMXE, cr3: 0x1000n });
      h.run();
      assert.equal(h.do({ op: 'vmxon' }).outcome, 'ok');
      const before = h.snap;
      const r = h.do({ op: 'init' });
      assert.equal(r.outcome, 'ok');
      assert.match(r.summary, /INIT latched/);
      assert.equal(r.actions.length, 0);
      assert.deepEqual(h.snap.vcpus[0]!.regs, before.vcpus[0]!.regs);
    });
  }

  it('without VMX operation (no VMXON) INIT still resets the vCPU', () => {
    const h = vmOn('v6.1', { nested: true });
    h.longMode();
    h.run();
    const r = h.do({ op: 'init' });
    assert.equal(ops(r, 'unload').length, 1);
    assert.equal(h.snap.vcpus[0]!.regs.cr0, '0x60000010');
  });
});

describe('model fixes: nested VM-Enter with a new vpid12 (vmx/nested.c nested_vmx_transition_tlb_flush)', () => {
  const l1 = { cr0: X86_CR0_PE | X86_CR0_PG | X86_CR0_WP, cr4: X86_CR4_PAE | X86_CR4_VMXE, cr3: 0x1000n };
  const requests = (r: ReturnType<Harness['run']>): string[] => ops(r, 'request').map((a) => a.request!);

  it('v5.15.0: only vpid02 is flushed in hardware, no KVM_REQ_TLB_FLUSH_GUEST', () => {
    const h = vmOn('v5.15', { nested: true });
    h.sregs({ ...l1, efer: EFER_LME | EFER_LMA | EFER_NX });
    h.run();
    const r = h.do(vmenter({ vpid: 1, cr3: 0x9000n }));
    assert.equal(r.outcome, 'ok', r.message);
    assert.ok(!requests(r).includes('KVM_REQ_TLB_FLUSH_GUEST'));
    assert.ok(ops(r, 'flush').some((a) => /vpid_sync_context/.test(a.detail)));
  });

  for (const profile of ['v5.17', 'v6.1']) {
    it(`${profile}: the new vpid12 is a guest TLB flush (712494de96f3)`, () => {
      const h = vmOn(profile, { nested: true });
      h.sregs({ ...l1, efer: EFER_LME | EFER_LMA | EFER_NX });
      h.run();
      const r = h.do(vmenter({ vpid: 1, cr3: 0x9000n }));
      assert.ok(requests(r).includes('KVM_REQ_TLB_FLUSH_GUEST'));
      h.do({ op: 'vmexit' });
      const again = h.do(vmenter({ vpid: 1, cr3: 0x9000n }));
      assert.ok(!requests(again).includes('KVM_REQ_TLB_FLUSH_GUEST'), 'same vpid12: no flush');
    });
  }
});

describe('model fixes: RSM that cannot restore EFER (emulate.c em_rsm v5.14+, smm.c v6.2+)', () => {
  for (const profile of ['v5.15', 'v6.1', 'v6.6', 'v6.18']) {
    it(`${profile}: EFER.SVME saved on Intel: the sregs line warns, RSM fails and the vCPU shuts down`, () => {
      const h = vmOn(profile, { vendor: 'intel' });
      const s = h.sregs({ ...LONG_MODE, efer: LONG_MODE.efer | EFER_SVME, cr3: 0x1000n });
      assert.equal(s.outcome, 'ok', 'KVM_SET_SREGS does not check EFER reserved bits');
      assert.match(ops(s, 'hazard')[0]!.detail, /reserved EFER bits 0x1000/);
      h.run();
      h.smi();
      h.run();
      const r = h.rsm();
      assert.equal(r.outcome, 'shutdown');
      assert.match(r.message!, /saved EFER cannot be restored/);
      assert.deepEqual(
        ops(r, 'request').map((a) => a.request),
        ['KVM_REQ_TRIPLE_FAULT'],
      );
      const v = h.snap.vcpus[0]!;
      assert.equal(v.smm, false);
      assert.equal(v.regs.efer, '0x0', 'EFER stays 0: the rest of the state is never loaded');
      assert.equal(BigInt(v.regs.cr0) & X86_CR0_PG, 0n, 'CR0 is not restored: paging stays off');
      const run = h.run();
      assert.equal(run.outcome, 'shutdown');
      assert.equal(ops(run, 'alloc').length + ops(run, 'reuse').length, 0, 'the guest does not run');
    });
  }

  it('a valid saved EFER still restores (no shutdown)', () => {
    const h = vmOn('v6.6');
    h.longMode();
    h.run();
    h.smi();
    h.run();
    const r = h.rsm();
    assert.equal(r.outcome, 'ok');
    assert.equal(h.snap.vcpus[0]!.regs.efer, `0x${(EFER_LME | EFER_LMA | EFER_NX).toString(16)}`);
  });
});

describe('model fixes: kvm_mmu_get_shadow_page is the v6.0 name (mmu.c mmu_alloc_root, 876546436db9)', () => {
  // No action is recorded inside the lookup (the root_count increment and the alloc/reuse action are
  // mmu_alloc_root's), so the name is checked where the model takes it.
  for (const [profile, fn] of [
    ['v5.15', 'kvm_mmu_get_page'],
    ['v5.17', 'kvm_mmu_get_page'],
    ['v6.1', 'kvm_mmu_get_shadow_page'],
    ['v6.18', 'kvm_mmu_get_shadow_page'],
  ] as const) {
    it(`${profile}: the lookup is ${fn}`, () => {
      assert.equal(shadowPageLookupName(kernelFor(profile)), fn);
    });
  }

  it('the name follows get_shadow_page_rename (v6.0), not cpu_role_split (v5.19)', () => {
    const k = makeKernel(findProfile('v6.1')!, [], ['get_shadow_page_rename']);
    assert.ok(k.has('cpu_role_split'));
    assert.equal(shadowPageLookupName(k), 'kvm_mmu_get_page');
    assert.equal(findBehaviour('get_shadow_page_rename')!.version, 'v6.0');
  });
});

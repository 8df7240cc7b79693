import assert from 'node:assert/strict';
import { EFER_SVME, X86_CR4_PAE, X86_CR4_VMXE } from '../../src/kernel/regs.js';
import type { ModelOp } from '../../src/kernel/types.js';
import { LONG_MODE, ops, vmOn, type Harness } from './helpers.js';

const EPTP_A = 0x501en;
const EPTP_B = 0x601en;
const VMCS_A = 0x7000n;
const VMCS_B = 0x8000n;

const vmenter = (eptp = EPTP_A): ModelOp => ({
  op: 'vmenter',
  ept: true,
  eptp,
  npt: false,
  ncr3: 0n,
  cr3: 0x9000n,
  vpid: 0,
});

/** L1 in long mode with CR4.VMXE, run once, then VMXON + VMPTRLD VMCS_A. */
function inVmx(profile: string): Harness {
  const h = vmOn(profile, { nested: true });
  h.sregs({ ...LONG_MODE, cr4: X86_CR4_PAE | X86_CR4_VMXE, cr3: 0x1000n });
  h.run();
  assert.equal(h.do({ op: 'vmxon' }).outcome, 'ok');
  assert.equal(h.do({ op: 'vmptrld', vmptr: VMCS_A }).outcome, 'ok');
  return h;
}

/** Two nested-EPT roots in guest_mmu (current EPTP_B, previous EPTP_A). */
function withGuestRoots(h: Harness): number[] {
  for (const eptp of [EPTP_A, EPTP_B]) {
    assert.equal(h.do(vmenter(eptp)).outcome, 'ok', h.last.message);
    h.run();
    h.do({ op: 'vmexit' });
  }
  const g = h.snap.vcpus[0]!.mmus[1]!;
  assert.ok(g.root !== null && g.prevRoots[0] !== null);
  return [g.root, g.prevRoots[0]!];
}

const guestRoots = (h: Harness): (number | null)[] => {
  const g = h.snap.vcpus[0]!.mmus[1]!;
  return [g.root, ...g.prevRoots].filter((r) => r !== null);
};

describe('kvm model: VMX operation (vmx/nested.c handle_vmxon/vmxoff/vmclear/vmptrld)', () => {
  for (const profile of ['v5.15', 'v6.1', 'v6.12', 'v6.18']) {
    it(`${profile}: VMXOFF is free_nested: every guest_mmu root is put`, () => {
      const h = inVmx(profile);
      const roots = withGuestRoots(h);
      const r = h.do({ op: 'vmxoff' });
      assert.equal(r.outcome, 'ok', r.message);
      assert.deepEqual(
        ops(r, 'put')
          .map((a) => a.root)
          .sort(),
        [...roots].sort(),
      );
      assert.deepEqual(guestRoots(h), []);
    });

    it(`${profile}: VMCLEAR of the current vmcs12 is nested_release_vmcs12; another vmcs12 changes nothing`, () => {
      const h = inVmx(profile);
      const roots = withGuestRoots(h);
      const other = h.do({ op: 'vmclear', vmptr: VMCS_B });
      assert.equal(other.outcome, 'ok');
      assert.equal(ops(other, 'put').length, 0);
      assert.deepEqual(guestRoots(h).sort(), [...roots].sort());
      const cur = h.do({ op: 'vmclear', vmptr: VMCS_A });
      assert.equal(ops(cur, 'put').length, 2);
      assert.deepEqual(guestRoots(h), []);
      // No current vmcs12 any more: VMLAUNCH fails with VMfailInvalid.
      assert.equal(h.do(vmenter()).outcome, 'vmfail');
    });

    it(`${profile}: VMPTRLD of another vmcs12 releases the current one; the same one is a no-op`, () => {
      const h = inVmx(profile);
      withGuestRoots(h);
      const same = h.do({ op: 'vmptrld', vmptr: VMCS_A });
      assert.equal(ops(same, 'put').length, 0);
      const other = h.do({ op: 'vmptrld', vmptr: VMCS_B });
      assert.equal(ops(other, 'put').length, 2);
      assert.equal(h.do(vmenter()).outcome, 'ok');
    });

    it(`${profile}: INIT is latched after VMXON and resets again after VMXOFF`, () => {
      const h = inVmx(profile);
      const latched = h.do({ op: 'init' });
      assert.match(latched.summary, /INIT latched/);
      assert.equal(latched.actions.length, 0);
      h.do({ op: 'vmxoff' });
      const reset = h.do({ op: 'init' });
      assert.doesNotMatch(reset.summary, /latched/);
      assert.equal(h.snap.vcpus[0]!.regs.cr0, '0x60000010');
    });
  }

  it('VMXON needs CR4.VMXE (#UD) and fails in VMX operation; the others need VMXON', () => {
    const h = vmOn('v6.1', { nested: true });
    h.longMode();
    h.run();
    assert.equal(h.do({ op: 'vmxon' }).outcome, 'error');
    assert.equal(h.do({ op: 'vmxoff' }).outcome, 'error');
    assert.equal(h.do({ op: 'vmptrld', vmptr: VMCS_A }).outcome, 'error');
    h.cr4('|=', X86_CR4_VMXE);
    assert.equal(h.do({ op: 'vmxon' }).outcome, 'ok');
    assert.equal(h.do({ op: 'vmxon' }).outcome, 'vmfail');
    assert.equal(h.do({ op: 'vmptrld', vmptr: 0x7001n }).outcome, 'vmfail');
  });

  it('CR4.VMXE cannot be cleared in VMX operation (vmx_is_valid_cr4)', () => {
    const h = inVmx('v6.6');
    const r = h.cr4('&=', ~X86_CR4_VMXE);
    assert.notEqual(r.outcome, 'ok');
    assert.match(r.message ?? '', /VMXE/);
    h.do({ op: 'vmxoff' });
    assert.equal(h.cr4('&=', ~X86_CR4_VMXE).outcome, 'ok');
  });

  it('a vmenter without vmxon implies VMXON and VMPTRLD (older scenarios); VMXOFF then frees guest_mmu', () => {
    const h = vmOn('v6.6', { nested: true });
    h.sregs({ ...LONG_MODE, cr4: X86_CR4_PAE | X86_CR4_VMXE, cr3: 0x1000n });
    h.run();
    assert.equal(h.do(vmenter()).outcome, 'ok');
    h.run();
    h.do({ op: 'vmexit' });
    assert.match(h.do({ op: 'init' }).summary, /INIT latched/);
    assert.equal(ops(h.do({ op: 'vmxoff' }), 'put').length, 1);
  });

  it('VMX instructions in L2 exit to L1, and need a VMX VM', () => {
    const h = inVmx('v6.6');
    h.do(vmenter());
    assert.equal(h.do({ op: 'vmxoff' }).outcome, 'error');
    const amd = vmOn('v6.6', { nested: true, vendor: 'amd' });
    assert.equal(amd.do({ op: 'vmxon' }).outcome, 'error');
  });

  it('SMI leaves VMX operation (vmx_enter_smm) and RSM restores it (vmx_leave_smm)', () => {
    const h = inVmx('v6.6');
    h.smi();
    assert.equal(h.do({ op: 'vmxoff' }).outcome, 'error');
    h.rsm();
    assert.match(h.do({ op: 'init' }).summary, /INIT latched/);
  });
});

describe('kvm model: SVM GIF (svm.c stgi/clgi_interception, svm_apic_init_signal_blocked)', () => {
  function svmL1(): Harness {
    const h = vmOn('v6.6', { nested: true, vendor: 'amd' });
    h.sregs({ ...LONG_MODE, efer: LONG_MODE.efer | EFER_SVME, cr3: 0x1000n });
    h.run();
    return h;
  }

  it('INIT is latched while GIF=0 (CLGI) and resets after STGI', () => {
    const h = svmL1();
    assert.equal(h.do({ op: 'clgi' }).outcome, 'ok');
    const latched = h.do({ op: 'init' });
    assert.match(latched.summary, /GIF=0/);
    assert.equal(latched.actions.length, 0);
    assert.equal(h.do({ op: 'stgi' }).outcome, 'ok');
    assert.doesNotMatch(h.do({ op: 'init' }).summary, /latched/);
  });

  it('a nested #VMEXIT clears GIF (nested_svm_vmexit); VMRUN sets it', () => {
    const h = svmL1();
    const vmrun: ModelOp = { op: 'vmenter', ept: false, eptp: 0n, npt: true, ncr3: 0x8000n, cr3: 0x9000n, vpid: 0 };
    h.do({ op: 'clgi' });
    assert.equal(h.do(vmrun).outcome, 'ok');
    h.do({ op: 'vmexit' });
    assert.match(h.do({ op: 'init' }).summary, /GIF=0/);
  });

  it('STGI/CLGI need EFER.SVME (#UD) and an SVM VM', () => {
    const h = vmOn('v6.6', { nested: true, vendor: 'amd' });
    h.longMode();
    assert.equal(h.do({ op: 'stgi' }).outcome, 'error');
    const intel = vmOn('v6.6', { nested: true });
    assert.equal(intel.do({ op: 'clgi' }).outcome, 'error');
  });
});

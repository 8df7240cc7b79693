import assert from 'node:assert/strict';
import {
  EFER_LMA,
  EFER_LME,
  EFER_NX,
  EFER_SVME,
  X86_CR0_PE,
  X86_CR0_PG,
  X86_CR4_PAE,
  X86_CR4_VMXE,
} from '../../src/kernel/regs.js';
import type { ModelOp } from '../../src/kernel/types.js';
import { LONG_MODE, ops, vmOn, type Harness } from './helpers.js';

const EPTP_A = 0x501en; // WB, 4-level, PML4 at 0x5000
const EPTP_B = 0x601en;

function vmxL1(profile: string, vm = {}, remove: Parameters<typeof vmOn>[3] = []): Harness {
  const h = vmOn(profile, { nested: true, ...vm }, [], remove);
  h.sregs({ ...LONG_MODE, cr4: X86_CR4_PAE | X86_CR4_VMXE, cr3: 0x1000n });
  h.run();
  return h;
}

const vmenter = (over: Partial<Extract<ModelOp, { op: 'vmenter' }>> = {}): ModelOp => ({
  op: 'vmenter',
  ept: true,
  eptp: EPTP_A,
  npt: false,
  ncr3: 0n,
  cr3: 0x9000n,
  vpid: 0,
  ...over,
});

describe('kvm model: nested VMX', () => {
  for (const profile of ['v5.15', 'v6.1', 'v6.4', 'v6.18']) {
    it(`${profile}: VM-Enter with EPT switches to guest_mmu keyed by the EPTP; L1's root stays referenced`, () => {
      const h = vmxL1(profile);
      const l1root = h.vcpuRoot()!;
      assert.equal(h.do(vmenter()).outcome, 'ok');
      const v = h.snap.vcpus[0]!;
      assert.equal(v.mmu, 'guest_mmu');
      assert.equal(v.walkMmu, 'nested_mmu');
      assert.equal(v.guestMode, true);
      const run = h.run();
      const alloc = ops(run, 'alloc')[0]!;
      const root = h.root(alloc.root!);
      assert.equal(root.kind, 'nested_ept');
      assert.equal(root.gfn, '0x5');
      assert.equal(root.guestMode, true);
      assert.equal(h.snap.vcpus[0]!.mmus[1]!.rootPgd, '0x501e');
      assert.ok(h.root(l1root).holders.includes('vcpu0.root_mmu.root'));
      assert.equal(h.root(l1root).state, 'valid');
      // Back to L1: its root is still current in root_mmu.
      const exit = h.do({ op: 'vmexit' });
      assert.equal(ops(exit, 'cache_hit')[0]?.root, l1root);
      assert.equal(ops(h.run(), 'alloc').length, 0);
      // A second VM-Enter with the same EPTP uses the same guest_mmu root, no allocation.
      const again = h.do(vmenter());
      const r2 = h.run();
      const reused = [...ops(again, 'cache_hit'), ...ops(again, 'reuse'), ...ops(r2, 'reuse')];
      assert.equal(reused[0]?.root, root.id);
      assert.equal(ops(r2, 'alloc').length, 0);
    });
  }

  it('v6.4 without nested EPT: L2 runs on root_mmu with guest_mode=1, L1 root parked in prev_roots[0]', () => {
    const h = vmxL1('v6.4');
    const enter = h.do(vmenter({ ept: false, eptp: 0n }));
    assert.equal(enter.outcome, 'ok');
    const v = h.snap.vcpus[0]!;
    assert.equal(v.mmu, 'root_mmu');
    assert.deepEqual(v.prevRoots, [1, null, null]);
    const run = h.run();
    const l2 = h.root(ops(run, 'reuse')[0]?.root ?? ops(run, 'alloc')[0]!.root!);
    assert.equal(l2.guestMode, true);
    assert.equal(l2.kind, 'tdp_mmu');
    const exit = h.do({ op: 'vmexit' });
    assert.equal(ops(exit, 'cache_hit')[0]?.slot, 'prev_roots[0]');
    assert.equal(h.vcpuRoot(), 1);
  });

  it('INVEPT single-context: precise frees only the matching EPTP, without invept_precise all guest_mmu roots', () => {
    const setup = (remove: Parameters<typeof vmOn>[3]): Harness => {
      const h = vmxL1('v6.4', {}, remove);
      h.do(vmenter({ eptp: EPTP_A }));
      h.run();
      h.do({ op: 'vmexit' });
      h.do(vmenter({ eptp: EPTP_B }));
      h.run();
      h.do({ op: 'vmexit' });
      const g = h.snap.vcpus[0]!.mmus[1]!;
      assert.deepEqual([g.root, g.prevRoots[0]], [3, 2]);
      return h;
    };
    const precise = setup([]);
    const r = precise.do({ op: 'invept', type: 'single', eptp: EPTP_A });
    assert.deepEqual(
      ops(r, 'put').map((a) => a.root),
      [2],
    );
    assert.equal(precise.snap.vcpus[0]!.mmus[1]!.root, 3);
    const all = setup(['invept_precise']);
    const r2 = all.do({ op: 'invept', type: 'single', eptp: EPTP_A });
    assert.deepEqual(
      ops(r2, 'put')
        .map((a) => a.root)
        .sort(),
      [2, 3],
    );
    // Freeing a nested EPT root only drops the reference: the shadow page is found again.
    assert.equal(all.root(2).state, 'valid');
    all.do(vmenter({ eptp: EPTP_A }));
    assert.equal(ops(all.run(), 'reuse')[0]?.root, 2);
  });

  it('INVEPT global frees every guest_mmu slot', () => {
    const h = vmxL1('v6.6');
    h.do(vmenter());
    h.run();
    h.do({ op: 'vmexit' });
    const r = h.do({ op: 'invept', type: 'global', eptp: 0n });
    assert.deepEqual(
      ops(r, 'put').map((a) => a.root),
      [2],
    );
    assert.equal(h.snap.vcpus[0]!.mmus[1]!.root, null);
  });

  it('INVVPID without EPT frees prev_roots holding L2 (guest_mode) roots', () => {
    const h = vmxL1('v6.4', { tdp: false });
    h.do(vmenter({ ept: false, eptp: 0n, cr3: 0x9000n }));
    h.run();
    h.do({ op: 'vmexit' });
    const g = h.snap.vcpus[0]!;
    assert.equal(g.prevRoots[0], 2);
    const r = h.do({ op: 'invvpid', type: 'all', vpid: 0 });
    assert.deepEqual(
      ops(r, 'put').map((a) => a.root),
      [2],
    );
  });

  it('invalid EPTPs and L1 without VMXE fail the VM-Enter without changing state', () => {
    const h = vmxL1('v6.4');
    for (const eptp of [
      0x5019n /* memtype 1 */,
      0x5026n /* 5-level unsupported */,
      0x505en /* A/D fine */,
      0x509en /* bit 7 */,
    ]) {
      h.run();
      const before = h.snap;
      const r = h.do(vmenter({ eptp }));
      if (eptp === 0x505en) {
        assert.equal(r.outcome, 'ok');
        h.do({ op: 'vmexit' });
        continue;
      }
      assert.equal(r.outcome, 'vmfail', hexs(eptp));
      assert.ok(r.message);
      assert.deepEqual(h.snap, before);
    }
    const noad = vmxL1('v6.4', { ad: false });
    assert.equal(noad.do(vmenter({ eptp: 0x505en })).outcome, 'vmfail');
    const five = vmxL1('v6.4', { max_tdp_level: 5 });
    assert.equal(five.do(vmenter({ eptp: 0x5026n })).outcome, 'ok');
    const novmx = vmOn('v6.4', { nested: true });
    novmx.longMode();
    assert.equal(novmx.do(vmenter()).outcome, 'vmfail');
    assert.equal(novmx.do({ op: 'vmexit' }).outcome, 'error');
  });

  it('SMI in L2 exits to L1 first; RSM re-enters L2', () => {
    const h = vmxL1('v6.4');
    h.do(vmenter());
    h.run();
    h.smi();
    assert.equal(h.kvm.isGuestMode(0), false);
    h.run();
    h.rsm();
    assert.equal(h.kvm.isGuestMode(0), true);
    assert.equal(h.snap.vcpus[0]!.mmu, 'guest_mmu');
    h.run();
    assert.equal(h.snap.vcpus[0]!.regs.cr3, '0x9000');
  });
});

describe('kvm model: nested SVM', () => {
  function svmL1(profile: string): Harness {
    const h = vmOn(profile, { nested: true, vendor: 'amd' });
    h.sregs({ ...LONG_MODE, efer: EFER_LME | EFER_LMA | EFER_NX | EFER_SVME, cr3: 0x1000n });
    h.run();
    return h;
  }
  const vmrun: ModelOp = { op: 'vmenter', ept: false, eptp: 0n, npt: true, ncr3: 0x8000n, cr3: 0x9000n, vpid: 0 };

  it('v6.12: nested NPT roots are built before guest mode (guest_mode=0); v6.18 after (guest_mode=1)', () => {
    const old = svmL1('v6.12');
    old.do(vmrun);
    const r = old.run();
    const root = old.root(ops(r, 'alloc')[0]!.root!);
    assert.equal(root.kind, 'nested_npt');
    assert.equal(root.gfn, '0x8');
    assert.equal(root.guestMode, false);
    const neu = svmL1('v6.18');
    neu.do(vmrun);
    const r2 = neu.run();
    assert.equal(neu.root(ops(r2, 'alloc')[0]!.root!).guestMode, true);
  });

  it('VMRUN without EFER.SVME fails; #VMEXIT returns to L1 root_mmu', () => {
    const h = vmOn('v6.6', { nested: true, vendor: 'amd' });
    h.longMode();
    assert.equal(h.do(vmrun).outcome, 'vmfail');
    const ok = svmL1('v6.6');
    ok.do(vmrun);
    ok.run();
    const exit = ok.do({ op: 'vmexit' });
    assert.equal(exit.outcome, 'ok');
    assert.equal(ok.snap.vcpus[0]!.mmu, 'root_mmu');
    assert.equal(ok.vcpuRoot(), 1);
  });
});

function hexs(v: bigint): string {
  return `0x${v.toString(16)}`;
}
void X86_CR0_PE;
void X86_CR0_PG;

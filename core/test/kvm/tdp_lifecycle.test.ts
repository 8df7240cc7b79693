import assert from 'node:assert/strict';
import { X86_CR0_WP, X86_CR4_PAE } from '../../src/kernel/regs.js';
import { ops, refTrace, vmOn } from './helpers.js';

describe('kvm model: TDP MMU root lifecycle', () => {
  it('v6.3: SMI→run→RSM→run allocates two new roots per pair, forever', () => {
    const h = vmOn('v6.3');
    h.longMode();
    h.run();
    const start = h.snap.stats.roots_allocated!;
    for (let i = 0; i < 5; i++) {
      h.smi();
      h.run();
      h.rsm();
      h.run();
    }
    assert.equal(h.snap.stats.roots_allocated! - start, 10);
    assert.equal(h.liveRoots().length, 1);
  });

  it('v6.4: SMI→run→RSM→run allocates 2 roots in total and then reuses them', () => {
    const h = vmOn('v6.4');
    h.longMode();
    h.run();
    for (let i = 0; i < 5; i++) {
      h.smi();
      const smmRun = h.run();
      if (i > 0) assert.equal(ops(smmRun, 'reuse').length, 1);
      h.rsm();
      h.run();
    }
    assert.equal(h.snap.stats.roots_allocated, 2);
    assert.equal(h.snap.stats.root_reuses, 9);
    const smm = h.liveRoots().filter((r) => r.smm);
    assert.equal(smm.length, 1);
  });

  it('v6.4: a new TDP root has refcount 2 and the TDP MMU among its holders', () => {
    const h = vmOn('v6.4');
    h.longMode();
    const r = h.run();
    const alloc = ops(r, 'alloc')[0]!;
    assert.deepEqual(alloc.refcount, [0, 2]);
    const root = h.root(alloc.root!);
    assert.equal(root.refcount, 2);
    assert.deepEqual(root.holders, ['vcpu0.root_mmu.root', 'tdp_mmu']);
    assert.equal(root.kind, 'tdp_mmu');
  });

  it('v5.15: a guest CR0.WP toggle selects a different TDP root each time (WP is in the role)', () => {
    const h = vmOn('v5.15');
    h.longMode();
    const first = ops(h.run(), 'alloc')[0]!;
    const toggled = h.cr0('&=', ~X86_CR0_WP);
    assert.equal(toggled.outcome, 'ok');
    assert.equal(ops(toggled, 'free').length, 1, 'E1 frees the root on the last put');
    const second = ops(h.run(), 'alloc')[0]!;
    assert.notEqual(second.role, first.role);
    h.cr0('|=', X86_CR0_WP);
    const third = ops(h.run(), 'alloc')[0]!;
    assert.equal(third.role, first.role);
    assert.notEqual(third.root, first.root, 'the old root was freed, a new one is built');
  });

  it('v6.3: a CR0.WP toggle unloads and rebuilds a root with the same role', () => {
    const h = vmOn('v6.3');
    h.longMode();
    const first = ops(h.run(), 'alloc')[0]!;
    const toggled = h.cr0('&=', ~X86_CR0_WP);
    assert.equal(toggled.outcome, 'ok');
    assert.ok(ops(toggled, 'unload').length === 1);
    // E2: the last put marks the root invalid and the worker frees it at the end of the statement.
    assert.ok(ops(toggled, 'queue_zap').length === 1);
    assert.deepEqual(
      ops(toggled, 'free').map((a) => a.path[0]),
      ['tdp_mmu_zap_root_work'],
    );
    const second = ops(h.run(), 'alloc')[0]!;
    assert.equal(second.role, first.role);
    assert.notEqual(second.root, first.root);
  });

  it('v6.4 with EPT: a CR0.WP toggle does not exit; emulated it keeps the root', () => {
    const h = vmOn('v6.4');
    h.longMode();
    h.run();
    const r = h.cr0('&=', ~X86_CR0_WP);
    assert.equal(r.outcome, 'no_exit');
    assert.deepEqual(
      r.actions.map((a) => a.op),
      ['no_exit'],
    );
    const e = h.cr0('|=', X86_CR0_WP, true);
    assert.equal(e.outcome, 'ok');
    assert.equal(ops(e, 'unload').length, 0);
    // kvm_init_mmu runs (its role may or may not differ: the non-exiting write left cpu_role as it was).
    assert.equal(ops(e, 'reinit').length + ops(e, 'reinit_skipped').length, 1);
    assert.equal(h.vcpuRoot(), 1);
  });

  it('v6.4 on AMD: CR0.WP exits but the fast path keeps the root', () => {
    const h = vmOn('v6.4', { vendor: 'amd' });
    h.longMode();
    h.run();
    const r = h.cr0('&=', ~X86_CR0_WP);
    assert.equal(r.outcome, 'ok');
    assert.equal(ops(r, 'unload').length, 0);
    assert.equal(h.vcpuRoot(), 1);
  });

  describe('§5.8 memslot delete while the root is loaded', () => {
    const trace = (profile: string): string[] => {
      const h = vmOn(profile);
      h.longMode();
      h.run();
      const del = h.memslotDelete();
      const run = h.run();
      assert.equal(h.root(1).state, 'freed');
      return [
        ...refTrace(del, 1),
        ...ops(del, 'free').map(() => 'free'),
        '|',
        ...refTrace(run, 1),
        ...ops(run, 'free')
          .filter((a) => a.root === 1)
          .map(() => 'free'),
      ];
    };
    it('E1 (v5.15): 1 → 2 (zapper) → 1 → vCPU RELOAD put → 0, freed', () => {
      assert.deepEqual(trace('v5.15'), ['get 1→2', 'put 2→1', '|', 'put 1→0', 'free']);
    });
    it('E2 (v6.1): 1 → 2 (worker) → worker put 1 → FREE_OBSOLETE put 0, freed', () => {
      assert.deepEqual(trace('v6.1'), ['get 1→2', 'put 2→1', '|', 'put 1→0', 'free']);
    });
    it('E3 (v6.4): 2 → invalid (worker gets the TDP ref) → 1 → vCPU put 0, freed', () => {
      assert.deepEqual(trace('v6.4'), ['put 2→1', '|', 'put 1→0', 'free']);
    });
    it('E4/E5 (v6.6, v6.12): 2 → flagged → sync zap + put 1 → vCPU put 0, freed', () => {
      assert.deepEqual(trace('v6.6'), ['put 2→1', '|', 'put 1→0', 'free']);
      assert.deepEqual(trace('v6.12'), ['put 2→1', '|', 'put 1→0', 'free']);
    });
    it('E4 zaps synchronously inside kvm_mmu_zap_all_fast; E3 in the worker', () => {
      const e4 = vmOn('v6.6');
      e4.longMode();
      e4.run();
      const z4 = ops(e4.memslotDelete(), 'zap')[0]!;
      assert.ok(z4.path.includes('kvm_tdp_mmu_zap_invalidated_roots'));
      const e3 = vmOn('v6.4');
      e3.longMode();
      e3.run();
      const z3 = ops(e3.memslotDelete(), 'zap')[0]!;
      assert.equal(z3.path[0], 'tdp_mmu_zap_root_work');
    });
  });

  it('E1 unload: refcount 1 → 0 frees at once; E3 keeps the root with the TDP MMU reference', () => {
    const e1 = vmOn('v5.17');
    e1.longMode();
    e1.run();
    const s1 = e1.smi();
    assert.deepEqual(refTrace(s1, 1), ['put 1→0']);
    assert.equal(e1.root(1).state, 'freed');
    const e3 = vmOn('v6.4');
    e3.longMode();
    e3.run();
    const s3 = e3.smi();
    assert.deepEqual(refTrace(s3, 1), ['put 2→1']);
    assert.equal(e3.root(1).state, 'valid');
    assert.deepEqual(e3.root(1).holders, ['tdp_mmu']);
  });

  it('VMX max_tdp_level=5: 4-level root for MAXPHYADDR 46, 5-level for 52', () => {
    const a = vmOn('v6.6', { max_tdp_level: 5, maxphyaddr: 46 });
    a.longMode();
    assert.equal(a.root(ops(a.run(), 'alloc')[0]!.root!).level, 4);
    const b = vmOn('v6.6', { max_tdp_level: 5, maxphyaddr: 52 });
    b.longMode();
    assert.equal(b.root(ops(b.run(), 'alloc')[0]!.root!).level, 5);
  });

  it('v6.4: VM destroy frees every root and lists none', () => {
    const h = vmOn('v6.4', { vcpus: 2 });
    h.longMode(0x1000n, 0);
    h.longMode(0x1000n, 1);
    h.run(0);
    h.run(1);
    h.smi(0);
    h.run(0);
    const r = h.do({ op: 'destroy_vm' });
    assert.equal(ops(r, 'warn').length, 0);
    assert.equal(h.liveRoots().length, 0);
    assert.ok(h.snap.roots.length >= 2);
    assert.equal(h.snap.vmDestroyed, true);
    assert.equal(h.do({ op: 'run' }).outcome, 'error');
  });

  it('v6.1: VM destroy frees every root through the worker', () => {
    const h = vmOn('v6.1');
    h.longMode();
    h.run();
    h.do({ op: 'destroy_vm' });
    assert.equal(h.liveRoots().length, 0);
  });

  it('two vCPUs on v6.3 share the TDP root; one vCPU unloading does not free it', () => {
    const h = vmOn('v6.3', { vcpus: 2 });
    h.longMode(0x1000n, 0);
    h.longMode(0x2000n, 1);
    h.run(0);
    const r1 = h.run(1);
    assert.equal(ops(r1, 'reuse').length, 1);
    assert.equal(h.root(1).refcount, 2);
    h.smi(0);
    assert.equal(h.root(1).state, 'valid');
    assert.equal(h.root(1).refcount, 1);
  });

  it('CR4.PAE cleared in long mode is a #GP that changes nothing', () => {
    const h = vmOn('v6.4');
    h.longMode();
    h.run();
    const before = h.snap;
    const r = h.cr4('&=', ~X86_CR4_PAE);
    assert.equal(r.outcome, 'gp');
    assert.equal(ops(r, 'fault').length, 1);
    assert.deepEqual(h.snap, before);
  });
});

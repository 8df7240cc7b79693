import assert from 'node:assert/strict';
import {
  EFER_LMA,
  EFER_LME,
  X86_CR0_PE,
  X86_CR0_PG,
  X86_CR0_WP,
  X86_CR4_PAE,
  X86_CR4_PCIDE,
  X86_CR4_SMEP,
} from '../../src/kernel/regs.js';
import { LONG_MODE, ops, vmOn, type Harness } from './helpers.js';

const A = 0x1000n;
const B = 0x2000n;
const C = 0x3000n;
const D = 0x4000n;
const E = 0x5000n;

function shadow(profile: string): Harness {
  const h = vmOn(profile, { tdp: false });
  h.longMode(A);
  h.run();
  return h;
}

function visit(h: Harness, ...cr3s: bigint[]): void {
  for (const cr3 of cr3s) {
    assert.equal(h.cr3(cr3).outcome, 'ok');
    h.run();
  }
}

describe('kvm model: prev_roots LRU (shadow paging)', () => {
  for (const profile of ['v5.17', 'v6.1', 'v6.12']) {
    it(`${profile}: a recent CR3 is a cache hit from prev_roots, MRU first`, () => {
      const h = shadow(profile);
      visit(h, B, C);
      const r = h.cr3(A);
      const hit = ops(r, 'cache_hit')[0]!;
      assert.equal(hit.root, 1);
      assert.equal(hit.slot, 'prev_roots[1]');
      const v = h.snap.vcpus[0]!;
      assert.equal(v.root, 1);
      assert.deepEqual(v.prevRoots, [3, 2, null]);
      assert.equal(h.snap.stats.prev_root_hits, 1);
      assert.equal(ops(h.run(), 'alloc').length, 0);
    });

    it(`${profile}: the eviction victim is prev_roots[2]; the shadow page survives in the hash`, () => {
      const h = shadow(profile);
      visit(h, B, C, D);
      assert.deepEqual(h.snap.vcpus[0]!.prevRoots, [3, 2, 1]);
      const r = h.cr3(E);
      const ev = ops(r, 'evict');
      assert.deepEqual(
        ev.map((a) => a.root),
        [1],
      );
      assert.deepEqual(
        ops(r, 'put').map((a) => a.refcount),
        [[1, 0]],
      );
      assert.equal(h.root(1).state, 'valid');
      assert.equal(h.root(1).refcount, 0);
      h.run();
      h.cr3(A);
      const back = h.run();
      assert.equal(ops(back, 'reuse')[0]?.root, 1, 'found again in mmu_page_hash');
      assert.equal(h.snap.stats.mmu_cache_miss, 5);
    });
  }

  it('v5.15: every flushing CR3 write frees every prev_roots slot (PCID 0 matches all)', () => {
    const h = shadow('v5.15');
    const r = h.cr3(B);
    assert.deepEqual(
      ops(r, 'put').map((a) => a.slot),
      ['prev_roots[0]'],
    );
    h.run();
    assert.deepEqual(h.snap.vcpus[0]!.prevRoots, [null, null, null]);
    assert.equal(ops(h.cr3(A), 'cache_hit').length, 0);
  });

  it('with TDP an emulated CR3 write keeps the direct root: it ignores the pgd (v5.15)', () => {
    const h = vmOn('v5.15');
    h.longMode();
    h.run();
    // With EPT, CR3 loads only reach KVM through emulation.
    assert.equal(h.cr3(B).outcome, 'no_exit');
    const r = h.cr3(C, { emulate: true });
    assert.equal(ops(r, 'cache_hit')[0]?.slot, 'root', 'direct roots ignore the pgd');
    assert.equal(h.vcpuRoot(), 1);
  });

  for (const profile of ['v5.17', 'v6.4']) {
    it(`a CR3 switch that misses records the miss and the rotation into prev_roots[0] (${profile})`, () => {
      const h = shadow(profile);
      h.run();
      const root = h.snap.vcpus[0]!.mmus[0]!.root;
      const r = h.cr3(B, { noflush: false });
      const miss = ops(r, 'cache_miss');
      assert.equal(miss.length, 1, JSON.stringify(r.actions.map((a) => a.op)));
      assert.equal(miss[0]!.root, root);
      assert.equal(miss[0]!.slot, 'prev_roots[0]');
      assert.match(
        miss[0]!.detail,
        /no cached root of root_mmu for pgd 0x2000; root #\d+ moves to root_mmu\.prev_roots\[0\]/,
      );
      assert.doesNotMatch(r.summary, /no root change/);
      assert.equal(h.snap.vcpus[0]!.prevRoots[0], root);
    });
  }

  it('E1 quirk: an invalid current slot is rotated into prev_roots and wastes a slot (v5.17 vs v6.1)', () => {
    const run = (profile: string): (number | null)[] => {
      // Back-to-back writes without an entry between them: the emulator's (emulation_required) path.
      const h = shadow(profile);
      h.cr3(B, { emulate: true });
      h.cr3(C, { emulate: true });
      h.cr3(D, { emulate: true });
      h.cr3(E, { emulate: true });
      return h.snap.vcpus[0]!.prevRoots;
    };
    // v5.17: root #1 rotates out through invalid entries and is evicted by the fourth switch.
    assert.deepEqual(run('v5.17'), [null, null, null]);
    // v6.1: with no current root, prev_roots is only searched, never rotated.
    assert.deepEqual(run('v6.1'), [1, null, null]);
  });

  it('E1 quirk: with CR4.SMEP=1 and CR0.WP=0 the base-only role never matches, so no cache hit (v5.17)', () => {
    const setup = (profile: string): Harness => {
      const h = vmOn(profile, { tdp: false });
      h.sregs({ ...LONG_MODE, cr0: X86_CR0_PE | X86_CR0_PG, cr4: X86_CR4_PAE | X86_CR4_SMEP, cr3: A });
      h.run();
      visit(h, B);
      return h;
    };
    const e1 = setup('v5.17');
    assert.equal(ops(e1.cr3(A), 'cache_hit').length, 0);
    const e2 = setup('v6.1');
    assert.equal(ops(e2.cr3(A), 'cache_hit').length, 1);
  });

  it('PAE guests never use the cache: every CR3 switch drops the PAE roots (v6.4)', () => {
    const h = vmOn('v6.4', { tdp: false });
    h.sregs({ cr0: X86_CR0_PE | X86_CR0_PG | X86_CR0_WP, cr4: X86_CR4_PAE, efer: 0n, cr3: A });
    const r = h.run();
    assert.equal(ops(r, 'alloc').length, 4);
    const v = h.snap.vcpus[0]!;
    assert.equal(v.mmus[0]!.rootSpecial, 'pae_root');
    assert.deepEqual(v.mmus[0]!.paeRoots, [1, 2, 3, 4]);
    assert.ok(h.root(1).holders[0]!.startsWith('pae_root[0]'));
    const sw = h.cr3(B);
    assert.equal(ops(sw, 'put').length, 4);
    assert.deepEqual(h.snap.vcpus[0]!.prevRoots, [null, null, null]);
    assert.equal(ops(h.run(), 'alloc').length, 4, 'a different PDPT means four different page directories');
    h.cr3(A);
    assert.equal(ops(h.run(), 'reuse').length, 4, 'back to the first PDPT: found in the hash');
  });

  it('32-bit non-PAE guest: four roots at the CR3 gfn, quadrants 0..3', () => {
    const h = vmOn('v6.6', { tdp: false });
    h.sregs({ cr0: X86_CR0_PE | X86_CR0_PG, cr4: 0n, efer: 0n, cr3: 0x7000n });
    h.run();
    const roots = h.liveRoots();
    assert.equal(roots.length, 4);
    assert.deepEqual(
      roots.map((r) => r.gfn),
      ['0x7', '0x7', '0x7', '0x7'],
    );
    assert.deepEqual(new Set(roots.map((r) => r.role)).size, 4);
  });

  it('paging off with shadow paging: four direct PAE roots', () => {
    const h = vmOn('v6.6', { tdp: false });
    const r = h.run();
    assert.equal(ops(r, 'alloc').length, 4);
    assert.deepEqual(
      h.liveRoots().map((x) => x.gfn),
      ['0x0', '0x40000', '0x80000', '0xc0000'],
    );
  });

  it('SMI/RSM on shadow paging reuses roots from the hash (v6.3)', () => {
    const h = shadow('v6.3');
    h.smi();
    h.run();
    h.rsm();
    const back = h.run();
    assert.equal(ops(back, 'reuse')[0]?.root, 1);
    h.smi();
    assert.equal(ops(h.run(), 'alloc').length, 0);
  });

  it('PCID: a flushing CR3 write frees only prev_roots of the same PCID (v6.4)', () => {
    const h = vmOn('v6.4', { tdp: false });
    h.sregs({ ...LONG_MODE, cr4: X86_CR4_PAE | X86_CR4_PCIDE, efer: EFER_LME | EFER_LMA, cr3: A | 1n });
    h.run();
    h.cr3(B | 2n);
    h.run();
    const r = h.cr3(C | 1n);
    assert.deepEqual(
      ops(r, 'put').map((a) => a.root),
      [1],
    );
    assert.deepEqual(h.snap.vcpus[0]!.prevRoots, [2, null, null]);
    // NOFLUSH: no kvm_invalidate_pcid; with no current root the cache is only searched (a miss here).
    const nf = h.cr3(A | 2n, { noflush: true, emulate: true });
    assert.equal(ops(nf, 'put').length, 0);
    assert.equal(ops(nf, 'request').length, 0);
    assert.deepEqual(h.snap.vcpus[0]!.prevRoots, [2, null, null]);
  });
});

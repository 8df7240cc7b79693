/**
 * The shadow-page budget (KVM_SET_NR_MMU_PAGES, make_mmu_pages_available, kvm_mmu_zap_oldest_mmu_pages) and the
 * other all-roots invalidations: nx_huge_pages, the MMIO generation wrap, CR0.CD with non-coherent DMA.
 */
import assert from 'node:assert/strict';
import { EFER_SVME, X86_CR0_CD, X86_CR0_PE, X86_CR0_PG, X86_CR0_WP, X86_CR4_PAE } from '../../src/kernel/regs.js';
import type { ModelOp, VmConfig } from '../../src/kernel/types.js';
import { formatOutcome } from '../../src/views/outcome.js';
import { LONG_MODE, ops, vmOn, type Harness } from './helpers.js';

const PAE = { cr0: X86_CR0_PE | X86_CR0_PG | X86_CR0_WP, cr4: X86_CR4_PAE, efer: 0n };
const stat = (h: Harness, name: string): number => h.snap.stats[name] ?? -1;
const nr = (pages: number): ModelOp => ({ op: 'set_nr_mmu_pages', pages });

/** A PAE shadow-paging guest that has loaded `n` different CR3s (4 PAE root pages each), then runs on the last. */
function paeSwitches(profile: string, n: number, limit?: number, vm: Partial<VmConfig> = {}): Harness {
  const h = vmOn(profile, { tdp: false, ...vm });
  h.sregs({ ...PAE, cr3: 0x1000n });
  h.run();
  if (limit !== undefined) assert.equal(h.do(nr(limit)).outcome, 'ok');
  for (let i = 2; i <= n; i++) h.cr3(BigInt(i) * 0x1000n);
  h.run();
  return h;
}

describe('kvm: the shadow-page budget (KVM_SET_NR_MMU_PAGES)', () => {
  it('refuses a limit below KVM_MIN_ALLOC_MMU_PAGES with -EINVAL and keeps the old one', () => {
    const h = vmOn('v6.6', { tdp: false });
    const r = h.do(nr(63));
    assert.equal(r.outcome, 'error');
    assert.match(r.message ?? '', /-EINVAL/);
    assert.equal(h.snap.mmuPages?.max, null);
    assert.equal(h.do(nr(64)).outcome, 'ok');
    assert.equal(h.snap.mmuPages?.max, 64);
  });

  for (const profile of ['v5.15', 'v6.1', 'v6.6', 'v6.12', 'v6.18']) {
    it(`${profile}: a root load with fewer than 5 pages left recycles the oldest unreferenced pages up to 25 free`, () => {
      // 15 CR3s × 4 PAE roots = 60 pages under a limit of 64: the 16th load finds 4 free and recycles 21.
      const h = paeSwitches(profile, 16, 64);
      assert.equal(stat(h, 'mmu_recycled'), 21);
      const recycled = h.last.actions.filter((a) => a.op === 'zap' && a.path.includes('kvm_mmu_zap_oldest_mmu_pages'));
      assert.deepEqual(
        recycled.map((a) => a.root),
        Array.from({ length: 21 }, (_, i) => i + 1),
      );
      assert.ok(recycled.every((a) => a.path.includes('make_mmu_pages_available')));
      // Every view words these as recycling, not as a zap for a change.
      assert.match(formatOutcome(h.last), /^recycle #1 #2 #3 .* #21, free #1 /);
      // The four held roots (the current CR3's) are never recycled, and what is in use stays under the limit.
      const held = h.liveRoots().filter((r) => r.refcount > 0);
      assert.equal(held.length, 4);
      assert.equal(h.snap.mmuPages?.used, 64 - 21);
    });
  }

  it('a recycled root is not found again: going back to its CR3 allocates (mmu_cache_miss), without a limit it is reused', () => {
    const limited = paeSwitches('v6.6', 16, 64);
    const unlimited = paeSwitches('v6.6', 16);
    for (const h of [limited, unlimited]) h.cr3(0x1000n);
    const misses = [stat(limited, 'mmu_cache_miss'), stat(unlimited, 'mmu_cache_miss')];
    limited.run();
    unlimited.run();
    assert.equal(ops(limited.last, 'alloc').length, 4);
    assert.equal(stat(limited, 'mmu_cache_miss'), misses[0]! + 4);
    assert.equal(ops(unlimited.last, 'reuse').length, 4);
    assert.equal(stat(unlimited, 'mmu_cache_miss'), misses[1]);
    assert.equal(stat(unlimited, 'mmu_recycled'), 0);
  });

  it('a limit below what is in use recycles at once; held roots keep it at their count (kvm_mmu_change_mmu_pages)', () => {
    const h = paeSwitches('v6.6', 20);
    assert.equal(h.snap.mmuPages?.used, 80);
    const r = h.do(nr(64));
    assert.equal(r.outcome, 'ok');
    assert.equal(stat(h, 'mmu_recycled'), 16);
    assert.equal(h.snap.mmuPages?.max, 64);
    assert.equal(h.snap.mmuPages?.used, 64);
    assert.ok(r.actions.some((a) => a.path.includes('kvm_mmu_change_mmu_pages')));
  });

  it('when every shadow page is a held root, the root load fails with -ENOSPC and KVM_RUN returns it', () => {
    const vcpus = 17;
    const h = vmOn('v6.6', { tdp: false, vcpus });
    for (let v = 0; v < 16; v++) {
      h.sregs({ ...PAE, cr3: BigInt(v + 1) * 0x1000n }, v);
      h.run(v);
    }
    assert.equal(h.snap.mmuPages?.used, 64);
    assert.equal(h.do(nr(64)).outcome, 'ok');
    h.sregs({ ...PAE, cr3: 0x40000n }, 16);
    const r = h.run(16);
    assert.equal(r.outcome, 'error');
    assert.match(r.message ?? '', /-ENOSPC/);
    assert.equal(h.vcpuRoot(16), null);
    assert.equal(stat(h, 'mmu_recycled'), 0);
  });

  it('tdp_mmu=off: direct roots are shadow pages and count; TDP MMU roots never do', () => {
    const legacy = vmOn('v6.6', { tdp_mmu: false });
    legacy.longMode();
    legacy.run();
    assert.equal(legacy.snap.mmuPages?.used, 1);
    const tdpMmu = vmOn('v6.6');
    tdpMmu.longMode();
    tdpMmu.run();
    assert.equal(tdpMmu.snap.mmuPages?.used, 0);
  });

  /** L1 with NPT on the TDP MMU, and `n` nested-NPT roots (shadow pages) in guest_mmu, most of them unreferenced. */
  function nestedNpt(profile: string, n: number): Harness {
    const h = vmOn(profile, { vendor: 'amd', nested: true });
    h.sregs({ ...LONG_MODE, efer: LONG_MODE.efer | EFER_SVME, cr3: 0x1000n });
    h.run();
    for (let i = 0; i < n; i++) {
      const op: ModelOp = {
        op: 'vmenter',
        ept: false,
        eptp: 0n,
        npt: true,
        ncr3: BigInt(0x100000 + i * 0x1000),
        vpid: 0,
      };
      assert.equal(h.do(op).outcome, 'ok', h.last.message);
      h.run();
      h.do({ op: 'vmexit' });
    }
    assert.equal(h.do(nr(64)).outcome, 'ok');
    return h;
  }

  it('v6.6: loading a TDP MMU root runs make_mmu_pages_available and recycles nested-NPT shadow roots', () => {
    const h = nestedNpt('v6.6', 62);
    h.smi();
    const r = h.run();
    assert.ok(ops(r, 'alloc').some((a) => a.path.includes('kvm_tdp_mmu_get_vcpu_root_hpa')));
    assert.ok(r.actions.some((a) => a.op === 'zap' && a.path.includes('make_mmu_pages_available')));
    assert.ok(stat(h, 'mmu_recycled') > 0);
  });

  it('v6.12 (dab285e4ec73): the TDP MMU root is allocated first and recycles nothing', () => {
    const h = nestedNpt('v6.12', 62);
    h.smi();
    const r = h.run();
    assert.ok(ops(r, 'alloc').length > 0);
    assert.equal(stat(h, 'mmu_recycled'), 0);
  });
});

describe('kvm: other all-roots invalidations', () => {
  for (const [profile, request] of [
    ['v5.15', 'KVM_REQ_MMU_RELOAD'],
    ['v6.6', 'KVM_REQ_MMU_FREE_OBSOLETE_ROOTS'],
  ] as const) {
    it(`${profile}: a changed nx_huge_pages zaps every root (kvm_mmu_zap_all_fast); the same value changes nothing`, () => {
      const h = vmOn(profile);
      h.longMode();
      h.run();
      const same = h.do({ op: 'nx_huge_pages', on: false });
      assert.equal(same.actions.length, 0);
      const r = h.do({ op: 'nx_huge_pages', on: true });
      assert.ok(r.actions.every((a) => a.path[0] === 'set_nx_huge_pages'));
      assert.ok(r.actions.some((a) => a.op === 'request' && a.request === request));
      assert.ok(ops(r, 'invalidate').length > 0);
      assert.equal(ops(h.run(), 'alloc').length, 1);
    });
  }

  it('vm nx_huge_pages=on starts with the parameter set: writing on changes nothing', () => {
    const h = vmOn('v6.6', { nx_huge_pages: true });
    h.longMode();
    h.run();
    assert.equal(h.do({ op: 'nx_huge_pages', on: true }).actions.length, 0);
  });

  it('an MMIO generation wrap zaps every root from kvm_mmu_invalidate_mmio_sptes', () => {
    const h = vmOn('v6.12', { tdp: false });
    h.longMode();
    h.run();
    const r = h.do({ op: 'mmio_gen_wrap' });
    assert.deepEqual(r.actions[0]?.path.slice(0, 3), [
      'kvm_arch_memslots_updated',
      'kvm_mmu_invalidate_mmio_sptes',
      'kvm_mmu_zap_all_fast',
    ]);
    assert.equal(ops(r, 'invalidate').length, 1);
  });

  const cdVm: Partial<VmConfig> = { noncoherent_dma: true, cd_nw_cleared: false };
  const cdToggle = (h: Harness) => h.cr0('|=', X86_CR0_CD);

  it('v6.6: CR0.CD with non-coherent DMA and the CD_NW_CLEARED quirk off zaps every gfn, frees no root', () => {
    const h = vmOn('v6.6', cdVm);
    h.longMode();
    h.run();
    const r = cdToggle(h);
    const zaps = r.actions.filter((a) => a.op === 'zap');
    assert.equal(zaps.length, 1);
    assert.ok(zaps[0]!.path.includes('kvm_zap_gfn_range'));
    assert.equal(ops(r, 'free').length + ops(r, 'invalidate').length + ops(r, 'request').length, 0);
  });

  it('no zap with the quirk on, without non-coherent DMA, or on v6.12 (0a7b73559b39)', () => {
    for (const [profile, vm] of [
      ['v6.6', { noncoherent_dma: true }],
      ['v6.6', { cd_nw_cleared: false }],
      ['v6.12', cdVm],
    ] as const) {
      const h = vmOn(profile, vm);
      h.longMode();
      h.run();
      assert.equal(ops(cdToggle(h), 'zap').length, 0, `${profile} ${JSON.stringify(vm)}`);
    }
  });

  it('+cr0_cd_zap_honors_guest_mtrrs: only EPT honours guest MTRRs, so NPT and shadow paging never zap', () => {
    for (const [vm, zaps] of [
      [{ vendor: 'intel', tdp: true }, 1],
      [{ vendor: 'amd', tdp: true }, 0],
      [{ vendor: 'intel', tdp: false }, 0],
    ] as const) {
      const h = vmOn('v6.6', { ...cdVm, ...vm }, ['cr0_cd_zap_honors_guest_mtrrs']);
      h.longMode();
      h.run();
      assert.equal(ops(cdToggle(h), 'zap').length, zaps, JSON.stringify(vm));
    }
  });
});

import assert from 'node:assert/strict';
import {
  EFER_LMA,
  EFER_LME,
  EFER_NX,
  X86_CR0_PE,
  X86_CR0_PG,
  X86_CR0_WP,
  X86_CR4_LA57,
  X86_CR4_PAE,
  X86_CR4_PCIDE,
  X86_CR4_PGE,
} from '../../src/kernel/regs.js';
import { LONG_MODE, ops, refTrace, vmOn } from './helpers.js';

const PAE_PAGING = { cr0: X86_CR0_PE | X86_CR0_PG | X86_CR0_WP, cr4: X86_CR4_PAE, efer: EFER_NX, cr3: 0x1000n };
const LONG = { ...LONG_MODE, efer: EFER_LME | EFER_LMA | EFER_NX, cr3: 0x1000n };

describe('kvm model: seed 001 (stale MMU context without EFER.LMA in the role)', () => {
  it('v5.15: SET_SREGS from PAE to 64-bit paging keeps the role and leaves root_level 3 → hazard', () => {
    const h = vmOn('v5.15');
    h.sregs(PAE_PAGING);
    h.run();
    const r = h.sregs(LONG);
    assert.equal(ops(r, 'reinit_skipped').length, 1);
    const hz = ops(r, 'hazard');
    assert.equal(hz.length, 1);
    assert.match(hz[0]!.detail, /MMU context stale: root_level 3 but the guest now uses 4-level paging/);
    assert.equal(h.snap.vcpus[0]!.mmus[0]!.guestLevel, 3, 'the stale level is kept: that is the bug');
  });

  for (const profile of ['v5.17', 'v6.1', 'v6.6']) {
    it(`${profile}: the same switch re-initialises the MMU (EFER.LMA is in the role)`, () => {
      const h = vmOn(profile);
      h.sregs(PAE_PAGING);
      h.run();
      const r = h.sregs(LONG);
      assert.equal(ops(r, 'hazard').length, 0);
      assert.equal(ops(r, 'reinit').length, 1);
      assert.equal(h.snap.vcpus[0]!.mmus[0]!.guestLevel, 4);
    });
  }

  it('v5.15 shadow paging is immune: LMA changes the root level', () => {
    const h = vmOn('v5.15', { tdp: false });
    h.sregs(PAE_PAGING);
    h.run();
    const r = h.sregs(LONG);
    assert.equal(ops(r, 'hazard').length, 0);
  });
});

describe('kvm model: memslots, notifiers and the what-if', () => {
  it('shadow paging memslot delete (v6.4): obsolete active root zapped, freed when the vCPU drops it', () => {
    const h = vmOn('v6.4', { tdp: false });
    h.longMode();
    h.run();
    const del = h.memslotDelete();
    assert.equal(h.snap.mmuValidGen, 1);
    assert.equal(ops(del, 'zap').length, 1);
    assert.equal(h.root(1).state, 'invalid');
    assert.deepEqual(
      ops(del, 'request').map((a) => a.request),
      ['KVM_REQ_MMU_FREE_OBSOLETE_ROOTS'],
    );
    const run = h.run();
    assert.deepEqual(refTrace(run, 1), ['put 1→0']);
    assert.equal(h.root(1).state, 'freed');
    assert.equal(ops(run, 'alloc').length, 1, 'a new generation page: the old one is invisible');
    assert.equal(h.snap.stats.mmu_shadow_zapped, 2);
    assert.equal(h.snap.stats.mmu_cache_miss, 2);
  });

  it('shadow pages of the old generation with no root reference are freed by the zap (v6.1)', () => {
    const h = vmOn('v6.1', { tdp: false });
    h.longMode(0x1000n);
    h.run();
    h.smi(); // unload: #1 stays in the hash with root_count 0
    const del = h.memslotDelete();
    assert.deepEqual(
      ops(del, 'free').map((a) => a.root),
      [1],
    );
    assert.equal(h.snap.stats.remote_tlb_flush_requests, 1);
  });

  it('v6.12 with KVM_X86_QUIRK_SLOT_ZAP_ALL disabled: memslot delete invalidates no root', () => {
    const h = vmOn('v6.12', { slot_zap_all: false });
    h.longMode();
    h.run();
    const del = h.memslotDelete();
    assert.equal(ops(del, 'invalidate').length, 0);
    assert.equal(ops(del, 'zap').length, 1);
    assert.equal(h.root(1).state, 'valid');
    assert.equal(ops(h.run(), 'alloc').length, 0);
  });

  it('memslot create touches no root', () => {
    const h = vmOn('v6.6');
    h.longMode();
    h.run();
    const r = h.do({ op: 'memslot', action: 'create', slot: 2 });
    assert.equal(r.actions.filter((a) => a.root !== undefined).length, 0);
  });

  it('tdp_mmu=off: legacy direct roots are shadow pages found again in the hash', () => {
    const h = vmOn('v6.4', { tdp_mmu: false });
    h.longMode();
    const a = ops(h.run(), 'alloc')[0]!;
    assert.equal(h.root(a.root!).kind, 'shadow');
    assert.equal(h.root(a.root!).gfn, '0x0');
    h.smi();
    h.run();
    h.rsm();
    assert.equal(ops(h.run(), 'reuse')[0]?.root, a.root);
  });

  it('notifier unmap zaps leaf SPTEs in every root that has them and flushes', () => {
    const h = vmOn('v6.6', { vcpus: 2 });
    h.longMode(0x1000n, 0);
    h.run(0);
    h.smi(1);
    h.run(1);
    const r = h.do({ op: 'notifier_unmap', start: 0n, end: 0x100n });
    assert.deepEqual(
      ops(r, 'zap')
        .map((a) => a.root)
        .sort(),
      [1, 2],
    );
    assert.equal(ops(r, 'flush').length, 1);
    assert.equal(ops(r, 'free').length, 0);
  });

  it('what-if invalidated_roots_off_list on v5.17: the notifier misses roots the yielded zapper still owns', () => {
    const h = vmOn('v5.17', {}, ['invalidated_roots_off_list']);
    h.longMode();
    h.run();
    const del = h.memslotDelete();
    assert.equal(ops(del, 'queue_zap').length, 1);
    assert.equal(ops(del, 'zap').length, 0, 'the zapper yielded before zapping');
    const n = h.do({ op: 'notifier_unmap', start: 0x1000n, end: 0x2000n });
    const hz = ops(n, 'hazard');
    assert.equal(hz.length, 1);
    assert.deepEqual(hz[0]!.roots, [1]);
    assert.match(hz[0]!.detail, /use-after-free/);
    // The zap completes at the end of that (next) statement.
    const zap = ops(n, 'zap')[0]!;
    assert.equal(zap.path[0], 'kvm_tdp_mmu_zap_invalidated_roots');
    assert.ok(n.actions.indexOf(zap) > n.actions.indexOf(hz[0]!));
    assert.equal(ops(h.do({ op: 'notifier_unmap', start: 0x1000n, end: 0x2000n }), 'hazard').length, 0);
  });

  it('without the what-if the same notifier reaches the invalidated root (v5.15, v6.1)', () => {
    for (const p of ['v5.15', 'v6.1']) {
      const h = vmOn(p);
      h.longMode();
      h.run();
      h.memslotDelete();
      assert.equal(ops(h.do({ op: 'notifier_unmap', start: 0n, end: 0x10n }), 'hazard').length, 0);
    }
  });

  it('what-if on an E2 kernel: an in-place invalidated root stays listed after it is freed → WARN on the next walk', () => {
    const h = vmOn('v6.1', {}, ['invalidated_roots_off_list']);
    h.longMode();
    h.run();
    h.smi(); // last put on a valid root: marked invalid in place, freed by the worker, still listed
    h.run();
    const n = h.do({ op: 'notifier_unmap', start: 0n, end: 0x10n });
    const w = ops(n, 'warn');
    assert.equal(w.length, 1);
    assert.equal(w[0]!.root, 1);
    assert.equal(w[0]!.path.at(-1), 'kvm_tdp_mmu_get_root');
    const del = h.memslotDelete();
    assert.equal(ops(del, 'warn').length, 1);
  });

  it('the what-if is in no profile; the WARN never fires without it', () => {
    const h = vmOn('v6.1');
    h.longMode();
    h.run();
    h.smi();
    h.run();
    assert.equal(ops(h.do({ op: 'notifier_unmap', start: 0n, end: 0x10n }), 'warn').length, 0);
  });
});

describe('kvm model: register writes, exits and faults', () => {
  it('architecturally invalid writes are #GP with state unchanged', () => {
    // Snapshots are taken in the guest (after an entry): the write itself must change nothing.
    const h = vmOn('v6.4');
    const cases: [string, () => ReturnType<typeof h.do>][] = [
      ['PG without PE', () => h.cr0('=', X86_CR0_PG)],
      ['PCIDE outside long mode', () => h.cr4('|=', X86_CR4_PCIDE)],
    ];
    for (const [what, f] of cases) {
      h.run();
      const before = h.snap;
      const r = f();
      assert.equal(r.outcome, 'gp', what);
      assert.deepEqual(h.snap, before, what);
    }
    h.efer('=', EFER_LME);
    h.cr0('=', X86_CR0_PE);
    h.run();
    const before = h.snap;
    assert.equal(h.cr0('|=', X86_CR0_PG).outcome, 'gp', 'PG with LME but no PAE');
    assert.deepEqual(h.snap, before);
    h.cr4('|=', X86_CR4_PAE);
    assert.equal(h.cr0('|=', X86_CR0_PG).outcome, 'ok');
    assert.equal(h.snap.vcpus[0]!.regs.efer, '0x500', 'LMA computed on the PG toggle');
    assert.equal(h.efer('&=', ~EFER_LME).outcome, 'gp', 'LME toggle with paging on');
    assert.equal(h.cr4('|=', X86_CR4_LA57).outcome, 'gp', 'LA57 toggle in long mode');
    assert.equal(h.efer('|=', EFER_NX).outcome, 'ok');
    assert.equal(h.efer('&=', ~EFER_LMA).outcome, 'ok');
    assert.equal(h.snap.vcpus[0]!.regs.efer, '0xd00', 'EFER.LMA is read-only to the guest');
  });

  it('with EPT, CR3 loads and CR4.PGE toggles do not exit; with shadow paging they do', () => {
    const ept = vmOn('v6.6');
    ept.longMode();
    ept.run();
    assert.equal(ept.cr3(0x5000n).outcome, 'no_exit');
    assert.equal(ept.snap.vcpus[0]!.regs.cr3, '0x5000');
    assert.equal(ept.cr4('|=', X86_CR4_PGE).outcome, 'no_exit');
    const sh = vmOn('v6.6', { tdp: false });
    sh.longMode();
    sh.run();
    assert.equal(sh.cr3(0x5000n).outcome, 'ok');
    const pge = sh.cr4('|=', X86_CR4_PGE);
    assert.equal(pge.outcome, 'ok');
    assert.deepEqual(
      ops(pge, 'request').map((a) => a.request),
      ['KVM_REQ_TLB_FLUSH_GUEST'],
    );
  });

  it('v5.15: CR4.PGE is a role bit (reset); v5.17+: only a guest TLB flush', () => {
    const old = vmOn('v5.15', { tdp: false });
    old.longMode();
    old.run();
    assert.equal(ops(old.cr4('|=', X86_CR4_PGE), 'unload').length, 1);
    const neu = vmOn('v5.17', { tdp: false });
    neu.longMode();
    neu.run();
    const r = neu.cr4('|=', X86_CR4_PGE);
    assert.equal(ops(r, 'unload').length, 0);
    assert.deepEqual(
      ops(r, 'request').map((a) => a.request),
      ['KVM_REQ_TLB_FLUSH_GUEST'],
    );
  });

  it('clearing CR0.PG requests a guest TLB flush from v5.19 on, not in v5.15/v5.17', () => {
    const flushes = (profile: string): string[] => {
      const h = vmOn(profile);
      h.sregs({ ...PAE_PAGING, cr4: X86_CR4_PAE });
      h.run();
      return ops(h.cr0('&=', ~X86_CR0_PG), 'request').map((a) => a.request!);
    };
    assert.deepEqual(flushes('v6.1'), ['KVM_REQ_TLB_FLUSH_GUEST']);
    assert.deepEqual(flushes('v5.17'), []);
    assert.deepEqual(flushes('v5.15'), []);
  });

  it('RSM outside SMM is an error; SMI in SMM is latched', () => {
    const h = vmOn('v6.6');
    const r = h.rsm();
    assert.equal(r.outcome, 'error');
    assert.ok(r.message);
    h.smi();
    const again = h.smi();
    assert.equal(again.outcome, 'ok');
    assert.equal(again.actions.length, 0);
  });

  it('SMI sets the SMM role; RSM restores the saved registers', () => {
    const h = vmOn('v6.6');
    h.longMode(0x3000n);
    h.run();
    h.smi();
    const smmRoot = ops(h.run(), 'alloc')[0]!;
    assert.equal(h.root(smmRoot.root!).smm, true);
    assert.equal(h.snap.vcpus[0]!.regs.cr0, '0x10010', 'PE/PG cleared, WP and ET kept');
    h.rsm();
    const regs = h.snap.vcpus[0]!.regs;
    assert.equal(regs.cr3, '0x3000');
    assert.equal(regs.efer, '0xd00');
    assert.equal(h.snap.vcpus[0]!.smm, false);
    assert.equal(ops(h.run(), 'reuse')[0]?.root, 1);
  });

  it('INIT resets registers and the MMU only when paging was on', () => {
    const h = vmOn('v6.6');
    const fresh = h.do({ op: 'init' });
    assert.equal(ops(fresh, 'unload').length, 0);
    assert.equal(ops(fresh, 'reinit').length + ops(fresh, 'reinit_skipped').length, 0);
    h.longMode();
    h.run();
    const r = h.do({ op: 'init' });
    assert.equal(ops(r, 'unload').length, 1);
    assert.equal(h.snap.vcpus[0]!.regs.cr0, '0x60000010');
  });

  it('KVM_SET_SREGS with an inconsistent long-mode state fails; identical state does not reset', () => {
    const h = vmOn('v6.6');
    const bad = h.sregs({ cr0: X86_CR0_PE | X86_CR0_PG, cr4: X86_CR4_PAE, efer: EFER_LME });
    assert.equal(bad.outcome, 'error');
    h.longMode();
    h.run();
    const same = h.sregs({ ...LONG_MODE, cr3: 0x1000n });
    assert.equal(ops(same, 'unload').length, 0);
  });

  it('KVM_SET_CPUID forces re-initialisation and picks the 5-level TDP root on VMX', () => {
    // Before the first KVM_RUN: from v5.16 a changed CPUID after it is refused (model_fixes.test.ts).
    const h = vmOn('v6.12', { max_tdp_level: 5, maxphyaddr: 46 });
    h.longMode();
    const r = h.do({ op: 'cpuid', maxphyaddr: 52 });
    assert.equal(ops(r, 'reinit').length, 1);
    assert.equal(h.root(ops(h.run(), 'alloc')[0]!.root!).level, 5);
  });

  it('destroy vcpu drops its references; later events on it are errors', () => {
    const h = vmOn('v6.4', { vcpus: 2 });
    h.longMode(0x1000n, 0);
    h.longMode(0x1000n, 1);
    h.run(0);
    h.run(1);
    assert.equal(h.root(1).refcount, 3);
    h.do({ op: 'destroy_vcpu' }, 1);
    assert.equal(h.root(1).refcount, 2);
    assert.equal(h.do({ op: 'run' }, 1).outcome, 'error');
  });

  it('requests raised for another vCPU stay pending until its next run', () => {
    const h = vmOn('v6.6', { vcpus: 2 });
    h.longMode(0x1000n, 0);
    h.longMode(0x1000n, 1);
    h.run(0);
    h.run(1);
    h.memslotDelete();
    assert.deepEqual(h.snap.vcpus[1]!.requests, ['KVM_REQ_MMU_FREE_OBSOLETE_ROOTS']);
    h.run(0);
    assert.equal(h.root(1).state, 'invalid');
    assert.deepEqual(h.root(1).holders, ['vcpu1.root_mmu.root']);
    const r = h.run(1);
    assert.deepEqual(
      ops(r, 'free').map((a) => a.root),
      [1],
    );
    assert.deepEqual(h.snap.vcpus[1]!.requests, []);
  });
});

describe('kvm model: INVPCID, INVLPG, CR4.PCIDE', () => {
  function pcidGuest(profile: string) {
    const h = vmOn(profile, { tdp: false });
    h.sregs({ ...LONG_MODE, cr4: X86_CR4_PAE | X86_CR4_PCIDE, cr3: 0x1001n });
    h.run();
    h.cr3(0x2002n);
    h.run();
    return h;
  }
  it('INVPCID single-context frees prev_roots of that PCID (shadow); all-context only flushes (v5.17+)', () => {
    const h = pcidGuest('v6.6');
    const r = h.do({ op: 'invpcid', type: 'single', pcid: 1, addr: 0n });
    assert.deepEqual(
      ops(r, 'put').map((a) => a.root),
      [1],
    );
    const all = h.do({ op: 'invpcid', type: 'all', pcid: 0, addr: 0n });
    assert.deepEqual(
      ops(all, 'request').map((a) => a.request),
      ['KVM_REQ_TLB_FLUSH_GUEST'],
    );
    assert.equal(ops(h.run(), 'unload').length, 0);
  });
  it('v5.15: a guest TLB flush (INVPCID all) unloads the shadow MMU at the next entry', () => {
    const h = pcidGuest('v5.15');
    h.do({ op: 'invpcid', type: 'all', pcid: 0, addr: 0n });
    const run = h.run();
    assert.equal(ops(run, 'unload').length, 1);
    assert.equal(ops(run, 'reuse').length, 1, 'the root is found again in the hash');
  });
  it('INVPCID and INVLPG do not exit with EPT; with shadow paging INVLPG frees nothing', () => {
    const ept = vmOn('v6.6');
    ept.longMode();
    assert.equal(ept.do({ op: 'invpcid', type: 'single', pcid: 0, addr: 0n }).outcome, 'no_exit');
    assert.equal(ept.do({ op: 'invlpg', addr: 0x7000n }).outcome, 'no_exit');
    const sh = pcidGuest('v6.6');
    const r = sh.do({ op: 'invlpg', addr: 0x7000n });
    assert.equal(r.outcome, 'ok');
    assert.equal(ops(r, 'put').length, 0);
    assert.equal(sh.do({ op: 'invpcid', type: 'single', pcid: 5, addr: 0n }).outcome, 'ok');
  });
  it('v5.17: toggling CR4.PCIDE requests KVM_REQ_MMU_RELOAD; v6.6 shadow paging unloads on 0→1', () => {
    const a = vmOn('v5.17', { tdp: false });
    a.longMode();
    a.run();
    const r = a.cr4('|=', X86_CR4_PCIDE);
    assert.deepEqual(
      ops(r, 'request').map((x) => x.request),
      ['KVM_REQ_MMU_RELOAD'],
    );
    assert.equal(ops(a.run(), 'unload').length, 1);
    const b = vmOn('v6.6', { tdp: false });
    b.longMode();
    b.run();
    assert.equal(ops(b.cr4('|=', X86_CR4_PCIDE), 'unload').length, 1);
    const c = vmOn('v6.6');
    c.longMode();
    c.run();
    assert.equal(ops(c.cr4('|=', X86_CR4_PCIDE), 'unload').length, 0);
  });
});

describe('kvm model: clone and performance', () => {
  it('clone() is independent of the original', () => {
    const h = vmOn('v6.4');
    h.longMode();
    h.run();
    const copy = h.kvm.clone();
    h.smi();
    h.run();
    assert.equal(copy.snapshot().roots.length, 1);
    assert.equal(h.snap.roots.length, 2);
    copy.execute(0, { op: 'memslot', action: 'delete', slot: 1 }, 99);
    assert.equal(h.root(1).state, 'valid');
  });

  // Statement cost must not grow with the history: time a batch early and again after 40,000 more
  // statements (and 20,000 roots) of history. A bundled build runs 100,000 of these in about 0.8 s.
  it('a long SMI/RSM history leaves only the live roots live (v6.3 allocates a root per pair); timing is in npm run bench', () => {
    const h = vmOn('v6.3', { vcpus: 2 });
    h.longMode(0x1000n, 0);
    h.longMode(0x1000n, 1);
    for (let i = 0; i < 17_500; i++) {
      h.smi(0);
      h.run(0);
      h.rsm(0);
      h.run(0);
    }
    const snap = h.snap;
    assert.equal(snap.stats.roots_allocated, 35_000);
    assert.ok(snap.roots.filter((r) => r.state !== 'freed').length <= 3);
  });
});

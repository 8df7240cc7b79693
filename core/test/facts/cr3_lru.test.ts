/**
 * facts.md §4.4 (MOV CR3, with and without PCID, per era) and §3.5 (kvm_mmu_new_pgd and the prev_roots LRU).
 */
import assert from 'node:assert/strict';
import {
  ALL,
  E1,
  E2PLUS,
  LONG,
  LONG_PCID,
  LONG_VMX,
  PAE,
  current,
  hasOp,
  mmu,
  prevRoots,
  refTrace,
  root,
  roleField,
  sim,
} from './helpers.js';

const EPT = 'vendor=intel tdp=on tdp_mmu=on';
const SHADOW = 'vendor=intel tdp=off';

/** Four 64-bit shadow roots A..D built by CR3 switches with PCIDE=1 and NOFLUSH (no kvm_invalidate_pcid). */
const FOUR = `${LONG_PCID}
run #@a
cr3 = 0x2000 noflush
run #@b
cr3 = 0x3000 noflush
run #@c
cr3 = 0x4000 noflush
run #@d`;

function abcd(s: ReturnType<typeof sim>): [number, number, number, number] {
  return [s.allocatedOne('a'), s.allocatedOne('b'), s.allocatedOne('c'), s.allocatedOne('d')];
}

describe('facts §4.4 MOV CR3 step 5 (kvm_invalidate_pcid)', () => {
  it('§4.4 v5.15.0, PCIDE=0, shadow: a flushing CR3 write frees every prev slot (all pgds have PCID 0)', () => {
    const s = sim('v5.15', SHADOW, `${LONG}\nrun #@a\ncr3 = 0x2000 #@w`);
    const A = s.allocatedOne('a');
    const st = s.state('w');
    assert.deepEqual(prevRoots(st), [null, null, null], s.describe('w'));
    assert.equal(root(st, A).refcount, 0, 'the vCPU reference to A was dropped');
    assert.notEqual(root(st, A).state, 'freed', 'a shadow page survives in the hash (§6.2)');
  });
  for (const k of ALL.filter((p) => p !== 'v5.15')) {
    it(`§4.4 ${k}, PCIDE=0, shadow: CR3 write keeps the old root in prev_roots[0] (return without freeing)`, () => {
      const s = sim(k, SHADOW, `${LONG}\nrun #@a\ncr3 = 0x2000 #@w`);
      const A = s.allocatedOne('a');
      assert.deepEqual(prevRoots(s.state('w')), [A, null, null], s.describe('w'));
      assert.equal(current(s.state('w')), null, 'miss: the new root is built at the next entry');
    });
  }
  for (const k of ALL) {
    it(`§4.4 ${k}, PCIDE=1, shadow: a flushing write for PCID p frees prev slots with PCID p only`, () => {
      const same = sim(k, SHADOW, `${LONG_PCID}\nrun #@a\ncr3 = 0x2000 #@w`);
      assert.deepEqual(prevRoots(same.state('w')), [null, null, null], `PCID 0 = A's PCID: ${same.describe('w')}`);
      const other = sim(k, SHADOW, `${LONG_PCID}\nrun #@a\ncr3 = 0x2000 pcid=1 #@w`);
      assert.deepEqual(prevRoots(other.state('w')), [other.allocatedOne('a'), null, null], other.describe('w'));
    });
    it(`§4.4 ${k}, PCIDE=1, shadow: NOFLUSH skips kvm_invalidate_pcid`, () => {
      const s = sim(k, SHADOW, `${LONG_PCID}\nrun #@a\ncr3 = 0x2000 noflush #@w`);
      assert.deepEqual(prevRoots(s.state('w')), [s.allocatedOne('a'), null, null], s.describe('w'));
    });
  }

  // With TDP, prev_roots only fill through nested transitions (L1 root ↔ L2 guest_mode root, §4.10).
  const NESTED = `${LONG_VMX}
run #@l1
vmenter cr3=0x9000 vpid=1
run #@l2
vmexit #@exit
emulate cr3 = 0x2000 #@w`;
  it('§4.4 v5.15.0, PCIDE=0, TDP: a CR3 write frees every prev slot too ("also applies with TDP in 5.15.0")', () => {
    const s = sim('v5.15', `${EPT} nested=on`, NESTED);
    const R = s.allocatedOne('l1');
    const L = s.allocatedOne('l2');
    assert.equal(current(s.state('exit')), R, s.describe('exit'));
    assert.deepEqual(prevRoots(s.state('exit')), [L, null, null], `precondition: ${s.describe('exit')}`);
    const st = s.state('w');
    assert.deepEqual(prevRoots(st), [null, null, null], s.describe('w'));
    assert.equal(current(st), R);
    assert.equal(root(st, L).state, 'freed', 'E1: the last reference to a TDP root frees it (§5.2)');
  });
  for (const k of ['v5.17', 'v6.1', 'v6.4', 'v6.18']) {
    it(`§4.4 ${k}, PCIDE=0, TDP: a CR3 write only flushes (FG), prev slots stay`, () => {
      const s = sim(k, `${EPT} nested=on`, NESTED);
      const L = s.allocatedOne('l2');
      assert.deepEqual(prevRoots(s.state('exit')), [L, null, null], `precondition: ${s.describe('exit')}`);
      assert.deepEqual(prevRoots(s.state('w')), [L, null, null], s.describe('w'));
      assert.ok(!hasOp(s.actions('w'), 'put'), s.describe('w'));
    });
  }
});

describe('facts §3.5 kvm_mmu_new_pgd and the prev_roots LRU', () => {
  for (const k of ALL) {
    it(`§3.5 prev_roots is MRU-first, ${k}`, () => {
      const s = sim(k, SHADOW, FOUR);
      const [A, B, C, D] = abcd(s);
      const st = s.state('d');
      assert.equal(current(st), D);
      assert.deepEqual(prevRoots(st), [C, B, A]);
    });
    it(`§3.5 miss with full cache evicts prev_roots[2] (the LRU), ${k}`, () => {
      const s = sim(k, SHADOW, `${FOUR}\ncr3 = 0x5000 noflush #@w\nrun #@e`);
      const [A, B, C, D] = abcd(s);
      const st = s.state('w');
      assert.deepEqual(prevRoots(st), [D, C, B], s.describe('w'));
      assert.equal(current(st), null);
      assert.deepEqual(refTrace(s.actions('w'), 'put', A), [[1, 0]], s.describe('w'));
      assert.equal(root(st, A).state, 'valid', 'an evicted shadow root stays in the hash');
      assert.ok(![B, C, D].some((x) => hasOp(s.actions('w'), 'put', x)), s.describe('w'));
      const E = s.allocatedOne('e');
      assert.ok(![A, B, C, D].includes(E));
    });
    for (const [slot, cr3, order] of [
      [0, '0x3000', (r: number[]) => [r[3], r[1], r[0]]],
      [1, '0x2000', (r: number[]) => [r[3], r[2], r[0]]],
      [2, '0x1000', (r: number[]) => [r[3], r[2], r[1]]],
    ] as const) {
      it(`§3.5 hit in prev_roots[${slot}]: C = P[${slot}], P = [old C, older entries in order], ${k}`, () => {
        const s = sim(k, SHADOW, `${FOUR}\ncr3 = ${cr3} noflush #@hit\nrun #@run`);
        const r = abcd(s);
        const target = r[2 - slot] as number;
        const st = s.state('hit');
        assert.equal(current(st), target, s.describe('hit'));
        assert.deepEqual(prevRoots(st), order(r), s.describe('hit'));
        assert.ok(hasOp(s.actions('hit'), 'cache_hit', target), s.describe('hit'));
        assert.ok(s.requests('hit').includes('KVM_REQ_LOAD_MMU_PGD'), s.describe('hit'));
        assert.equal(st.stats.prev_root_hits, 1);
        assert.ok(!hasOp(s.actions('hit'), 'put'), 'a hit frees nothing');
        assert.deepEqual(s.allocated('run'), [], s.describe('run'));
        assert.equal(s.state('run').stats.mmu_cache_miss, s.state('d').stats.mmu_cache_miss);
      });
    }
  }

  for (const k of E1) {
    it(`§3.5.1 E1 quirk, ${k}: an invalid current root is rotated into P0, consuming a slot`, () => {
      const s = sim(k, SHADOW, `${LONG_PCID}\nrun #@a\ncr3 = 0x2000 noflush #@w1\nemulate cr3 = 0x3000 noflush #@w2`);
      const A = s.allocatedOne('a');
      assert.deepEqual(prevRoots(s.state('w1')), [A, null, null], s.describe('w1'));
      assert.deepEqual(prevRoots(s.state('w2')), [null, A, null], s.describe('w2'));
    });
    it(`§3.5.1 E1 quirk, ${k}: with a full cache, a second miss without entry evicts the LRU again`, () => {
      const s = sim(
        k,
        SHADOW,
        `${LONG_PCID}\nrun #@a\ncr3 = 0x2000 noflush\nrun #@b\ncr3 = 0x3000 noflush\nrun #@c\ncr3 = 0x4000 noflush #@w1\nemulate cr3 = 0x5000 noflush #@w2`,
      );
      const [A, B, C] = [s.allocatedOne('a'), s.allocatedOne('b'), s.allocatedOne('c')];
      assert.deepEqual(prevRoots(s.state('w1')), [C, B, A], s.describe('w1'));
      assert.deepEqual(refTrace(s.actions('w2'), 'put', A), [[1, 0]], s.describe('w2'));
      assert.deepEqual(prevRoots(s.state('w2')), [null, C, B], s.describe('w2'));
    });
  }
  for (const k of E2PLUS) {
    it(`§3.5.2 ${k}: with an invalid current root, a miss changes nothing (cached_root_find_without_current)`, () => {
      const s = sim(k, SHADOW, `${LONG_PCID}\nrun #@a\ncr3 = 0x2000 noflush #@w1\nemulate cr3 = 0x3000 noflush #@w2`);
      const A = s.allocatedOne('a');
      assert.deepEqual(prevRoots(s.state('w2')), [A, null, null], s.describe('w2'));
    });
    it(`§3.5.2 ${k}: full cache, a second miss without entry frees nothing`, () => {
      const s = sim(
        k,
        SHADOW,
        `${LONG_PCID}\nrun #@a\ncr3 = 0x2000 noflush\nrun #@b\ncr3 = 0x3000 noflush\nrun #@c\ncr3 = 0x4000 noflush #@w1\nemulate cr3 = 0x5000 noflush #@w2`,
      );
      const [A, B, C] = [s.allocatedOne('a'), s.allocatedOne('b'), s.allocatedOne('c')];
      assert.ok(!hasOp(s.actions('w2'), 'put'), s.describe('w2'));
      assert.deepEqual(prevRoots(s.state('w2')), [C, B, A], s.describe('w2'));
    });
    it(`§3.5.2 ${k}: with an invalid current root, a hit takes P[i] and shifts the rest down`, () => {
      const s = sim(
        k,
        SHADOW,
        `${LONG_PCID}\nrun #@a\ncr3 = 0x2000 noflush\nrun #@b\ncr3 = 0x3000 noflush #@w1\nemulate cr3 = 0x1000 noflush #@w2`,
      );
      const [A, B] = [s.allocatedOne('a'), s.allocatedOne('b')];
      assert.deepEqual(prevRoots(s.state('w1')), [B, A, null], s.describe('w1'));
      assert.equal(current(s.state('w2')), A, s.describe('w2'));
      assert.deepEqual(prevRoots(s.state('w2')), [B, null, null], s.describe('w2'));
    });
  }

  for (const k of E1) {
    it(`§3.5.1 E1 level restriction, ${k}: a PAE guest on the TDP MMU frees (destroys) its current root on every CR3 change`, () => {
      const s = sim(k, EPT, `${PAE}\nrun #@load\nemulate cr3 = 0x2000 #@w`);
      const R = s.allocatedOne('load');
      assert.deepEqual(refTrace(s.actions('w'), 'put', R), [[1, 0]], s.describe('w'));
      assert.ok(hasOp(s.actions('w'), 'free', R), s.describe('w'));
      assert.equal(current(s.state('w')), null);
    });
  }
  for (const k of E2PLUS) {
    it(`§3.5.2 ${k}: a PAE guest on the TDP MMU keeps its (direct) root across CR3 changes`, () => {
      const s = sim(k, EPT, `${PAE}\nrun #@load\nemulate cr3 = 0x2000 #@w`);
      const R = s.allocatedOne('load');
      assert.ok(!hasOp(s.actions('w'), 'put'), s.describe('w'));
      assert.equal(current(s.state('w')), R);
    });
  }
  for (const k of ALL) {
    it(`§3.5 ${k}: with TDP and a 64-bit guest a CR3 change keeps the root (direct roots ignore pgd) and requests LOAD_MMU_PGD`, () => {
      const s = sim(k, EPT, `${LONG}\nrun #@load\nemulate cr3 = 0x2000 #@w`);
      const R = s.allocatedOne('load');
      assert.ok(!hasOp(s.actions('w'), 'put') && !hasOp(s.actions('w'), 'unload'), s.describe('w'));
      assert.equal(current(s.state('w')), R);
      assert.ok(s.requests('w').includes('KVM_REQ_LOAD_MMU_PGD'), s.describe('w'));
    });
    it(`§3.5/§6.1 ${k}: a shadowed PAE guest drops its four PAE roots on every CR3 change; none enter prev_roots`, () => {
      const s = sim(k, SHADOW, `${PAE}\nrun #@load\ncr3 = 0x2000 #@w`);
      const pae = mmu(s.state('load'), 'root_mmu').paeRoots;
      assert.equal(mmu(s.state('load'), 'root_mmu').rootSpecial, 'pae_root');
      assert.equal(pae.filter((x) => x !== null).length, 4, 'four PAE roots');
      for (const id of pae) {
        assert.equal(roleField(root(s.state('load'), id as number), 'level'), 2);
        assert.deepEqual(refTrace(s.actions('w'), 'put', id as number), [[1, 0]], s.describe('w'));
      }
      const m = mmu(s.state('w'), 'root_mmu');
      assert.equal(m.rootSpecial, null);
      assert.equal(m.root, null);
      assert.deepEqual(m.prevRoots, [null, null, null]);
    });
  }
});

describe('facts §4.4 step 2 and §4.5 INVPCID', () => {
  for (const k of ALL) {
    it(`§4.4 step 2: writing the current CR3 value again (not PAE paging) skips kvm_mmu_new_pgd, ${k}`, () => {
      const s = sim(k, SHADOW, `${LONG}\nrun #@a\ncr3 = 0x1000 #@w`);
      const A = s.allocatedOne('a');
      assert.ok(!hasOp(s.actions('w'), 'put', A), s.describe('w'));
      assert.equal(current(s.state('w')), A);
    });
    it(`§4.5 INVPCID single-context frees prev slots with that PCID only, ${k}`, () => {
      const body = `${LONG_PCID}\nrun #@a\ncr3 = 0x2000 pcid=1 noflush\nrun #@b`;
      const s0 = sim(k, SHADOW, `${body}\ninvpcid single pcid=0 #@inv`);
      const A = s0.allocatedOne('a');
      assert.deepEqual(prevRoots(s0.state('b')), [A, null, null], 'precondition');
      assert.deepEqual(refTrace(s0.actions('inv'), 'put', A), [[1, 0]], s0.describe('inv'));
      assert.deepEqual(prevRoots(s0.state('inv')), [null, null, null]);
      assert.equal(current(s0.state('inv')), s0.allocatedOne('b'), 'the current root is never freed by INVPCID');
      const s2 = sim(k, SHADOW, `${body}\ninvpcid single pcid=2 #@inv`);
      assert.ok(!hasOp(s2.actions('inv'), 'put'), s2.describe('inv'));
      assert.deepEqual(prevRoots(s2.state('inv')), [s2.allocatedOne('a'), null, null]);
    });
    it(`§4.5 INVPCID individual-address frees no root, ${k}`, () => {
      const s = sim(k, SHADOW, `${LONG_PCID}\nrun\ncr3 = 0x2000 noflush\nrun\ninvpcid addr pcid=0 addr=0x7000 #@inv`);
      assert.ok(!hasOp(s.actions('inv'), 'put') && !hasOp(s.actions('inv'), 'unload'), s.describe('inv'));
    });
    it(`§4.6 INVLPG frees no root, ${k}`, () => {
      const s = sim(k, SHADOW, `${LONG_PCID}\nrun\ncr3 = 0x2000 noflush\nrun\ninvlpg 0x7000 #@inv\nrun #@r`);
      assert.ok(!hasOp(s.actions('inv'), 'put') && !hasOp(s.actions('inv'), 'unload'), s.describe('inv'));
      assert.ok(!hasOp(s.actions('r'), 'put'), s.describe('r'));
    });
  }
  it('§4.5 INVPCID all-context with shadow paging, v5.15: the guest TLB flush unloads every root at the next entry', () => {
    const s = sim('v5.15', SHADOW, `${LONG_PCID}\nrun #@a\ncr3 = 0x2000 noflush\nrun #@b\ninvpcid all #@inv\nrun #@r`);
    const [A, B] = [s.allocatedOne('a'), s.allocatedOne('b')];
    assert.ok(s.requests('inv').includes('KVM_REQ_TLB_FLUSH_GUEST'), s.describe('inv'));
    const r = s.actions('r');
    assert.ok(hasOp(r, 'unload'), s.describe('r'));
    assert.deepEqual(refTrace(r, 'put', A), [[1, 0]], s.describe('r'));
    assert.ok(refTrace(r, 'put', B).length >= 1, s.describe('r'));
    assert.deepEqual(prevRoots(s.state('r')), [null, null, null]);
  });
  for (const k of ALL.filter((p) => p !== 'v5.15')) {
    it(`§4.5 INVPCID all-context with shadow paging, ${k}: sync, no root freed`, () => {
      const s = sim(k, SHADOW, `${LONG_PCID}\nrun #@a\ncr3 = 0x2000 noflush\nrun #@b\ninvpcid all #@inv\nrun #@r`);
      assert.ok(
        !hasOp(s.actions('inv'), 'put') && !hasOp(s.actions('r'), 'put'),
        `${s.describe('inv')} / ${s.describe('r')}`,
      );
      assert.deepEqual(prevRoots(s.state('r')), [s.allocatedOne('a'), null, null]);
    });
  }
});

describe('facts §3.5.1 E1 base-only role quirk (new_pgd_base_only_role)', () => {
  // CR4.SMEP=1 with CR0.WP=0: the real root role has smep_andnot_wp=1, the base-only role used for the lookup 0.
  const SMEP_NOWP = 'sregs cr0=PE|ET|NE|PG cr4=PAE|PCIDE|SMEP efer=LME|LMA|NX cr3=0x1000';
  const BODY = `${SMEP_NOWP}\nrun #@a\ncr3 = 0x2000 noflush\nrun #@b\ncr3 = 0x1000 noflush #@back\nrun #@r`;
  for (const k of E1) {
    it(`§3.5.1 ${k}: with SMEP=1 and WP=0 the prev_roots cache never hits`, () => {
      const s = sim(k, SHADOW, BODY);
      const [A, B] = [s.allocatedOne('a'), s.allocatedOne('b')];
      assert.equal(
        roleField(root(s.state('a'), A), 'smep_andnot_wp'),
        1,
        'precondition: the real role has smep_andnot_wp',
      );
      assert.ok(!hasOp(s.actions('back'), 'cache_hit'), s.describe('back'));
      assert.equal(current(s.state('back')), null, s.describe('back'));
      assert.deepEqual(prevRoots(s.state('back')), [B, A, null], s.describe('back'));
    });
  }
  for (const k of E2PLUS) {
    it(`§3.5.2 ${k}: with SMEP=1 and WP=0 the cache hits (root_role used for the lookup)`, () => {
      const s = sim(k, SHADOW, BODY);
      const [A, B] = [s.allocatedOne('a'), s.allocatedOne('b')];
      assert.ok(hasOp(s.actions('back'), 'cache_hit', A), s.describe('back'));
      assert.equal(current(s.state('back')), A);
      assert.deepEqual(prevRoots(s.state('back')), [B, null, null]);
    });
  }
});

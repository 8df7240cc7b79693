/**
 * facts.md §6 shadow MMU roots: hash hits and misses (mmu_cache_miss), root_count, release, zap-all-fast and
 * obsolete generations (§4.12/§4.13).
 */
import assert from 'node:assert/strict';
import { ALL, E1, E2PLUS, LONG, current, hasOp, refTrace, root, roleField, sim, stat } from './helpers.js';

const SHADOW = 'vendor=intel tdp=off';

describe('facts §6.1 shadow root allocation and the per-VM hash', () => {
  for (const k of ALL) {
    it(`§6.1 first root: a hash miss (mmu_cache_miss +1), root_count 1, indirect page at the CR3 gfn, ${k}`, () => {
      const s = sim(k, SHADOW, `${LONG}\nrun #@load`);
      const st = s.state('load');
      const [a] = s.actions('load', 'alloc');
      assert.ok(a, s.describe('load'));
      assert.deepEqual(a.refcount, [0, 1]);
      const r = root(st, a.root as number);
      assert.equal(r.kind, 'shadow');
      assert.equal(r.refcount, 1);
      assert.equal(BigInt(r.gfn ?? -1), 1n);
      assert.equal(roleField(r, 'direct'), 0);
      assert.equal(st.stats.mmu_cache_miss, 1);
    });
    it(`§6.1/§6.2 reload after a reset: hash hit → reuse, root_count 0→1, no mmu_cache_miss, ${k}`, () => {
      const s = sim(k, SHADOW, `${LONG}\nrun #@load\nsregs cr4=PAE|OSFXSR #@reset\nrun #@reload`);
      const A = s.allocatedOne('load');
      assert.deepEqual(refTrace(s.actions('reset'), 'put', A), [[1, 0]], s.describe('reset'));
      const mid = root(s.state('reset'), A);
      assert.equal(mid.state, 'valid', 'root_count 0 but not zapped: stays in the hash');
      assert.equal(mid.refcount, 0);
      assert.deepEqual(s.allocated('reload'), [], s.describe('reload'));
      const [reuse] = s.actions('reload', 'reuse');
      assert.ok(reuse, s.describe('reload'));
      assert.equal(reuse.root, A);
      assert.deepEqual(reuse.refcount, [0, 1]);
      assert.equal(current(s.state('reload')), A);
      assert.equal(s.state('reload').stats.mmu_cache_miss, 1);
    });
    it(`§6.1 root_count counts every vCPU reference: two vCPUs on the same CR3 and role share one page, ${k}`, () => {
      const s = sim(k, `${SHADOW} vcpus=2`, `${LONG}\nrun #@r0\nvcpu 1\n${LONG}\nrun #@r1`);
      const A = s.allocatedOne('r0');
      assert.deepEqual(s.allocated('r1'), [], s.describe('r1'));
      const [reuse] = s.actions('r1', 'reuse');
      assert.equal(reuse?.root, A, s.describe('r1'));
      assert.deepEqual(reuse?.refcount, [1, 2]);
      const r = root(s.state('r1'), A);
      assert.equal(r.refcount, 2);
      assert.deepEqual([...r.holders].sort(), ['vcpu0.root_mmu.root', 'vcpu1.root_mmu.root']);
      assert.equal(current(s.state('r1'), 1), A);
    });
    it(`§6.1 a hash hit needs an identical role: same CR3 with a different CR0.WP is a different page, ${k}`, () => {
      const s = sim(
        k,
        `${SHADOW} vcpus=2`,
        `${LONG}\nrun #@r0\nvcpu 1\nsregs cr0=PE|ET|NE|PG cr4=PAE efer=LME|LMA|NX cr3=0x1000\nrun #@r1`,
      );
      const A = s.allocatedOne('r0');
      const B = s.allocatedOne('r1');
      assert.notEqual(A, B);
      assert.equal(roleField(root(s.state('r1'), B), 'cr0_wp'), 0);
      assert.equal(s.state('r1').stats.mmu_cache_miss, 2);
    });
  }
});

describe('facts §6.2/§4.13 zap-all-fast (memslot delete) with shadow roots', () => {
  const BODY = `${LONG}\nrun #@a\nsregs cr3=0x2000\nrun #@b\nmemslot delete 1 #@del\nrun #@after`;
  for (const k of ALL) {
    it(`§6.2/§4.13 memslot delete, ${k}: unused pages are destroyed, the loaded root becomes obsolete but lives until its vCPU drops it`, () => {
      const s = sim(k, SHADOW, BODY);
      const A = s.allocatedOne('a');
      const B = s.allocatedOne('b');
      assert.equal(root(s.state('b'), A).refcount, 0, 'precondition: A unloaded, in the hash');
      const del = s.actions('del');
      assert.ok(hasOp(del, 'free', A), `A (root_count 0) is freed at commit: ${s.describe('del')}`);
      assert.ok(!hasOp(del, 'free', B), s.describe('del'));
      const st = s.state('del');
      assert.equal(root(st, A).state, 'freed');
      const b = root(st, B);
      assert.notEqual(b.state, 'freed');
      assert.ok(b.state === 'invalid' || b.obsolete, 'B is obsolete/invalid');
      assert.equal(b.refcount, 1);
      assert.equal(
        stat(st, 'mmu_shadow_zapped') - stat(s.state('b'), 'mmu_shadow_zapped'),
        2,
        'each prepare-zap counts',
      );
      assert.ok(
        stat(st, 'remote_tlb_flush_requests') > stat(s.state('b'), 'remote_tlb_flush_requests'),
        'commit flushes',
      );
      const after = s.actions('after');
      assert.deepEqual(refTrace(after, 'put', B), [[1, 0]], s.describe('after'));
      assert.ok(hasOp(after, 'free', B), s.describe('after'));
      const N = s.allocatedOne('after');
      assert.ok(![A, B].includes(N), 'obsolete pages are invisible to lookups');
      assert.equal(stat(s.state('after'), 'mmu_cache_miss'), stat(s.state('del'), 'mmu_cache_miss') + 1);
    });
  }
  for (const k of E1) {
    it(`§4.13 step 3, ${k} (E1): every vCPU gets KVM_REQ_MMU_RELOAD`, () => {
      const s = sim(k, SHADOW, BODY);
      assert.ok(s.requests('del').includes('KVM_REQ_MMU_RELOAD'), s.describe('del'));
      assert.ok(hasOp(s.actions('after'), 'unload'), s.describe('after'));
    });
  }
  for (const k of E2PLUS) {
    it(`§4.13 step 3, ${k} (E2+): every vCPU gets KVM_REQ_MMU_FREE_OBSOLETE_ROOTS (drops only obsolete slots)`, () => {
      const s = sim(k, SHADOW, BODY);
      assert.ok(s.requests('del').includes('KVM_REQ_MMU_FREE_OBSOLETE_ROOTS'), s.describe('del'));
      assert.ok(!s.requests('del').includes('KVM_REQ_MMU_RELOAD'), s.describe('del'));
    });
    it(`§3.6/§4.13 ${k} (E2+): FREE_OBSOLETE_ROOTS drops obsolete current and prev_roots slots alike`, () => {
      const s = sim(
        k,
        `${SHADOW}`,
        `sregs cr0=PE|ET|NE|PG|WP cr4=PAE|PCIDE efer=LME|LMA|NX cr3=0x1000\nrun #@a\ncr3 = 0x2000 noflush\nrun #@b\nmemslot delete 1 #@del\nrun #@after`,
      );
      const A = s.allocatedOne('a');
      const B = s.allocatedOne('b');
      // Both A (prev_roots[0]) and B (current) are obsolete: both slots are dropped.
      const after = s.actions('after');
      assert.deepEqual(refTrace(after, 'put', A), [[1, 0]], s.describe('after'));
      assert.deepEqual(refTrace(after, 'put', B), [[1, 0]], s.describe('after'));
    });
  }
  for (const k of ['v6.12', 'v6.18']) {
    it(`§4.12 ${k} with slot_zap_all=off: memslot delete zaps only the slot, roots are not invalidated (TDP)`, () => {
      const s = sim(
        k,
        'vendor=intel tdp=on slot_zap_all=off',
        `${LONG}\nrun #@load\nmemslot delete 1 #@del\nrun #@after`,
      );
      const R = s.allocatedOne('load');
      assert.ok(!hasOp(s.actions('del'), 'invalidate', R), s.describe('del'));
      assert.equal(root(s.state('del'), R).state, 'valid');
      assert.equal(root(s.state('del'), R).refcount, 2);
      assert.deepEqual(s.allocated('after'), [], s.describe('after'));
    });
  }
  for (const k of ALL) {
    it(`§4.12 memslot create never touches roots, ${k}`, () => {
      const s = sim(k, 'vendor=intel tdp=on', `${LONG}\nrun #@load\nmemslot create 2 #@c`);
      const acts = s.actions('c');
      assert.ok(
        !hasOp(acts, 'invalidate') && !hasOp(acts, 'put') && !hasOp(acts, 'free') && !hasOp(acts, 'request'),
        s.describe('c'),
      );
    });
  }
});

describe('facts §6.1 legacy direct MMU (tdp=on tdp_mmu=off): direct roots are shadow pages in the hash', () => {
  for (const k of ALL) {
    it(`§6.1 ${k}: one direct level-4 root at gfn 0, counted as an mmu_cache_miss, reused from the hash after SMI+RSM`, () => {
      const s = sim(k, 'vendor=intel tdp=on tdp_mmu=off', `${LONG}\nrun #@load\nsmi\nrun\nrsm\nrun #@back`);
      const R = s.allocatedOne('load');
      const r = root(s.state('load'), R);
      assert.equal(r.kind, 'shadow');
      assert.equal(r.level, 4);
      assert.equal(roleField(r, 'direct'), 1);
      assert.equal(BigInt(r.gfn ?? -1), 0n);
      assert.equal(stat(s.state('load'), 'mmu_cache_miss'), 1);
      assert.deepEqual(s.allocated('back'), [], s.describe('back'));
      assert.ok(hasOp(s.actions('back'), 'reuse', R), s.describe('back'));
    });
  }
});

describe('facts §1.1/§2.2/§2.3.3 role bits of shadow and TDP roots per era', () => {
  const PROT32 = 'sregs cr0=PE|ET|NE|PG|WP cr4=0 efer=0 cr3=0x1000';
  it('§1.1 v5.15: bit 4 is gpte_is_8_bytes — 1 for 64-bit and TDP roots, 0 for 32-bit guest tables', () => {
    const l = sim('v5.15', SHADOW, `${LONG}\nrun #@load`);
    assert.equal(roleField(root(l.state('load'), l.allocatedOne('load')), 'gpte_bit4'), 1);
    const t = sim('v5.15', 'vendor=intel tdp=on', `${LONG}\nrun #@load`);
    assert.equal(roleField(root(t.state('load'), t.allocatedOne('load')), 'gpte_bit4'), 1);
    const p = sim('v5.15', SHADOW, `${PROT32}\nrun #@load`);
    for (const id of p.allocated('load')) assert.equal(roleField(root(p.state('load'), id), 'gpte_bit4'), 0);
  });
  for (const k of ALL.filter((x) => x !== 'v5.15')) {
    it(`§1.1 ${k}: bit 4 is has_4_byte_gpte — 0 for 64-bit and TDP roots, 1 for 32-bit guest tables`, () => {
      const l = sim(k, SHADOW, `${LONG}\nrun #@load`);
      assert.equal(roleField(root(l.state('load'), l.allocatedOne('load')), 'gpte_bit4'), 0);
      const t = sim(k, 'vendor=intel tdp=on', `${LONG}\nrun #@load`);
      assert.equal(roleField(root(t.state('load'), t.allocatedOne('load')), 'gpte_bit4'), 0);
      const p = sim(k, SHADOW, `${PROT32}\nrun #@load`);
      const ids = p.allocated('load');
      assert.equal(ids.length, 4);
      for (const id of ids) assert.equal(roleField(root(p.state('load'), id), 'gpte_bit4'), 1);
    });
  }
  const NONX = 'sregs cr0=PE|ET|NE|PG|WP cr4=PAE efer=LME|LMA cr3=0x1000';
  for (const k of E1) {
    it(`§2.2 ${k}: shadow root role efer_nx follows the guest's EFER.NX`, () => {
      const s = sim(k, SHADOW, `${NONX}\nrun #@load`);
      assert.equal(roleField(root(s.state('load'), s.allocatedOne('load')), 'efer_nx'), 0);
    });
  }
  for (const k of E2PLUS) {
    it(`§2.3.3 ${k}: shadow root role has efer_nx=1 forced`, () => {
      const s = sim(k, SHADOW, `${NONX}\nrun #@load`);
      assert.equal(roleField(root(s.state('load'), s.allocatedOne('load')), 'efer_nx'), 1);
    });
  }
});

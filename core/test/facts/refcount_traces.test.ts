/**
 * facts.md §5.8 "Refcount traces (1 vCPU, one root R)", per era (E1 / E2 / E3 / E4-5), plus the §5.2–§5.5
 * rules they summarise.
 */
import assert from 'node:assert/strict';
import { E1, E2, E3, E45, LONG, V64PLUS, hasOp, refTrace, root, sim } from './helpers.js';

const VM = 'vendor=intel tdp=on tdp_mmu=on vcpus=1';

describe('facts §5.8 refcount traces — row "first load"', () => {
  for (const k of [...E1, ...E2]) {
    it(`§5.8 first load, ${k} (E1/E2): R created with tdp_mmu_root_count 1`, () => {
      const s = sim(k, VM, `${LONG}\nrun #@load`);
      const [a] = s.actions('load', 'alloc');
      assert.ok(a, s.describe('load'));
      assert.deepEqual(a.refcount, [0, 1]);
      const r = root(s.state('load'), a.root as number);
      assert.equal(r.kind, 'tdp_mmu');
      assert.equal(r.refcount, 1);
      assert.equal(r.state, 'valid');
      assert.ok(!r.holders.includes('tdp_mmu'), `no TDP MMU reference before v6.4: ${r.holders.join(',')}`);
    });
  }
  for (const k of V64PLUS) {
    it(`§5.8 first load, ${k} (E3+): R created with tdp_mmu_root_count 2 (vCPU + TDP MMU, §5.4)`, () => {
      const s = sim(k, VM, `${LONG}\nrun #@load`);
      const [a] = s.actions('load', 'alloc');
      assert.ok(a, s.describe('load'));
      assert.deepEqual(a.refcount, [0, 2]);
      const r = root(s.state('load'), a.root as number);
      assert.equal(r.kind, 'tdp_mmu');
      assert.equal(r.refcount, 2);
      assert.ok(r.holders.includes('tdp_mmu'), `holders: ${r.holders.join(',')}`);
      assert.ok(r.holders.includes('vcpu0.root_mmu.root'), `holders: ${r.holders.join(',')}`);
    });
  }
});

describe('facts §5.8 refcount traces — row "vCPU unloads R" (SMI unloads, §4.7)', () => {
  for (const k of E1) {
    it(`§5.8 vCPU unloads R, ${k} (E1): rc 1→0, zapped and freed at once (§5.2)`, () => {
      const s = sim(k, VM, `${LONG}\nrun #@load\nsmi #@unload`);
      const R = s.allocatedOne('load');
      const acts = s.actions('unload');
      assert.deepEqual(refTrace(acts, 'put', R), [[1, 0]], s.describe('unload'));
      assert.ok(hasOp(acts, 'zap', R), `zapped synchronously: ${s.describe('unload')}`);
      assert.ok(hasOp(acts, 'free', R), `freed: ${s.describe('unload')}`);
      assert.ok(!hasOp(acts, 'queue_zap'), 'no async worker in E1');
      assert.equal(root(s.state('unload'), R).state, 'freed');
    });
  }
  for (const k of E2) {
    it(`§5.8 vCPU unloads R, ${k} (E2): rc 0 ⇒ marked invalid, rc=1, queued; worker zaps, rc 0 ⇒ freed (§5.3)`, () => {
      const s = sim(k, VM, `${LONG}\nrun #@load\nsmi #@unload`);
      const R = s.allocatedOne('load');
      const acts = s.actions('unload');
      assert.deepEqual(
        refTrace(acts, 'put', R),
        [
          [1, 0],
          [1, 0],
        ],
        s.describe('unload'),
      );
      const idx = (op: string) => acts.findIndex((x) => x.op === op && x.root === R);
      assert.ok(idx('invalidate') >= 0, `marked invalid: ${s.describe('unload')}`);
      assert.ok(idx('queue_zap') > idx('invalidate'), `queued after invalidation: ${s.describe('unload')}`);
      assert.ok(idx('zap') > idx('queue_zap'), `worker zaps: ${s.describe('unload')}`);
      assert.ok(idx('free') > idx('zap'), `then frees: ${s.describe('unload')}`);
      assert.equal(root(s.state('unload'), R).state, 'freed');
    });
  }
  for (const k of [...E3, ...E45]) {
    it(`§5.8 vCPU unloads R, ${k} (E3+): rc 2→1, R kept valid on the list`, () => {
      const s = sim(k, VM, `${LONG}\nrun #@load\nsmi #@unload`);
      const R = s.allocatedOne('load');
      const acts = s.actions('unload');
      assert.deepEqual(refTrace(acts, 'put', R), [[2, 1]], s.describe('unload'));
      assert.ok(
        !hasOp(acts, 'free', R) && !hasOp(acts, 'invalidate', R) && !hasOp(acts, 'zap', R),
        s.describe('unload'),
      );
      const r = root(s.state('unload'), R);
      assert.equal(r.state, 'valid');
      assert.equal(r.refcount, 1);
      assert.deepEqual(r.holders, ['tdp_mmu']);
    });
  }
});

describe('facts §5.8 refcount traces — row "reload same role"', () => {
  for (const k of [...E1, ...E2]) {
    it(`§5.8 reload same role after a SET_SREGS reset, ${k} (E1/E2): new root`, () => {
      const s = sim(k, VM, `${LONG}\nrun #@load\nsregs cr4=PAE|OSFXSR #@unload\nrun #@reload`);
      const R = s.allocatedOne('load');
      assert.equal(root(s.state('unload'), R).state, 'freed', s.describe('unload'));
      const N = s.allocatedOne('reload');
      assert.notEqual(N, R);
      assert.equal(root(s.state('reload'), N).refcount, 1);
      assert.ok(!hasOp(s.actions('reload'), 'reuse'), s.describe('reload'));
    });
    it(`§5.8 reload same role after SMI+RSM, ${k} (E1/E2): the RSM run allocates a new root (seed 000)`, () => {
      const s = sim(k, VM, `${LONG}\nrun #@load\nsmi\nrun #@smm\nrsm\nrun #@reload`);
      const R = s.allocatedOne('load');
      const N = s.allocatedOne('reload');
      assert.notEqual(N, R);
      assert.equal(root(s.state('reload'), R).state, 'freed');
    });
  }
  for (const k of V64PLUS) {
    it(`§5.8 reload same role after a SET_SREGS reset, ${k} (E3+): R reused, rc 1→2`, () => {
      const s = sim(k, VM, `${LONG}\nrun #@load\nsregs cr4=PAE|OSFXSR #@unload\nrun #@reload`);
      const R = s.allocatedOne('load');
      assert.deepEqual(s.allocated('reload'), [], s.describe('reload'));
      const reuse = s.actions('reload', 'reuse');
      assert.equal(reuse.length, 1, s.describe('reload'));
      assert.equal(reuse[0]?.root, R);
      assert.deepEqual(reuse[0]?.refcount, [1, 2]);
      assert.equal(root(s.state('reload'), R).refcount, 2);
    });
    it(`§5.8 reload same role after SMI+RSM, ${k} (E3+): the RSM run reuses R (seed 000)`, () => {
      const s = sim(k, VM, `${LONG}\nrun #@load\nsmi\nrun #@smm\nrsm\nrun #@reload`);
      const R = s.allocatedOne('load');
      assert.deepEqual(s.allocated('reload'), [], s.describe('reload'));
      assert.ok(hasOp(s.actions('reload'), 'reuse', R), s.describe('reload'));
      const st = s.state('reload');
      assert.equal(root(st, R).refcount, 2);
      assert.equal(st.roots.filter((r) => r.state !== 'freed').length, 2, 'R and the SMM root both stay');
    });
  }
});

describe('facts §5.8 refcount traces — row "memslot delete while R loaded"', () => {
  const body = `${LONG}\nrun #@load\nmemslot delete 1 #@del\nrun #@after`;
  for (const k of E1) {
    it(`§5.8 memslot delete, ${k} (E1): 1 → invalidate 2 → zap+put 1 → vCPU RELOAD put 0 ⇒ freed`, () => {
      const s = sim(k, VM, body);
      const R = s.allocatedOne('load');
      const del = s.actions('del');
      assert.deepEqual(refTrace(del, 'get', R), [[1, 2]], s.describe('del'));
      assert.ok(hasOp(del, 'invalidate', R), s.describe('del'));
      assert.ok(hasOp(del, 'zap', R), s.describe('del'));
      assert.deepEqual(refTrace(del, 'put', R), [[2, 1]], s.describe('del'));
      assert.ok(!hasOp(del, 'queue_zap'), 'E1 zaps synchronously');
      assert.ok(s.requests('del').includes('KVM_REQ_MMU_RELOAD'), s.describe('del'));
      const mid = root(s.state('del'), R);
      assert.equal(mid.state, 'invalid');
      assert.equal(mid.refcount, 1);
      const after = s.actions('after');
      assert.deepEqual(refTrace(after, 'put', R), [[1, 0]], s.describe('after'));
      assert.ok(hasOp(after, 'free', R), s.describe('after'));
      assert.equal(root(s.state('after'), R).state, 'freed');
      assert.notEqual(s.allocatedOne('after'), R);
    });
  }
  for (const k of E2) {
    it(`§5.8 memslot delete, ${k} (E2): 1 → 2 (worker ref) → worker put 1 → vCPU FREE_OBSOLETE put 0 ⇒ freed`, () => {
      const s = sim(k, VM, body);
      const R = s.allocatedOne('load');
      const del = s.actions('del');
      assert.deepEqual(refTrace(del, 'get', R), [[1, 2]], s.describe('del'));
      assert.ok(hasOp(del, 'invalidate', R), s.describe('del'));
      assert.ok(hasOp(del, 'queue_zap', R), s.describe('del'));
      assert.ok(hasOp(del, 'zap', R), `the zap completes before zap_all_fast returns: ${s.describe('del')}`);
      assert.deepEqual(refTrace(del, 'put', R), [[2, 1]], s.describe('del'));
      assert.ok(s.requests('del').includes('KVM_REQ_MMU_FREE_OBSOLETE_ROOTS'), s.describe('del'));
      assert.ok(!s.requests('del').includes('KVM_REQ_MMU_RELOAD'), s.describe('del'));
      const mid = root(s.state('del'), R);
      assert.equal(mid.state, 'invalid');
      assert.equal(mid.refcount, 1);
      const after = s.actions('after');
      assert.deepEqual(refTrace(after, 'put', R), [[1, 0]], s.describe('after'));
      assert.ok(hasOp(after, 'free', R), s.describe('after'));
      assert.notEqual(s.allocatedOne('after'), R);
    });
  }
  for (const k of E3) {
    it(`§5.8 memslot delete, ${k} (E3): 2 → invalid (worker gets the TDP ref) → worker put 1 → vCPU put 0 ⇒ freed`, () => {
      const s = sim(k, VM, body);
      const R = s.allocatedOne('load');
      const del = s.actions('del');
      assert.deepEqual(refTrace(del, 'get', R), [], `no new reference for the worker: ${s.describe('del')}`);
      assert.ok(hasOp(del, 'invalidate', R), s.describe('del'));
      assert.ok(hasOp(del, 'queue_zap', R), `E3 still zaps asynchronously: ${s.describe('del')}`);
      assert.ok(hasOp(del, 'zap', R), s.describe('del'));
      assert.deepEqual(refTrace(del, 'put', R), [[2, 1]], s.describe('del'));
      assert.ok(s.requests('del').includes('KVM_REQ_MMU_FREE_OBSOLETE_ROOTS'), s.describe('del'));
      const mid = root(s.state('del'), R);
      assert.equal(mid.state, 'invalid');
      assert.equal(mid.refcount, 1);
      assert.ok(!mid.holders.includes('tdp_mmu'), mid.holders.join(','));
      const after = s.actions('after');
      assert.deepEqual(refTrace(after, 'put', R), [[1, 0]], s.describe('after'));
      assert.ok(hasOp(after, 'free', R), s.describe('after'));
      // The new root again carries the TDP MMU's reference.
      const N = s.allocatedOne('after');
      assert.notEqual(N, R);
      assert.equal(root(s.state('after'), N).refcount, 2);
    });
  }
  for (const k of E45) {
    it(`§5.8 memslot delete, ${k} (E4/E5): 2 → invalid+flag → sync zap+put 1 → vCPU put 0 ⇒ freed`, () => {
      const s = sim(k, VM, body);
      const R = s.allocatedOne('load');
      const del = s.actions('del');
      assert.deepEqual(refTrace(del, 'get', R), [], s.describe('del'));
      assert.ok(hasOp(del, 'invalidate', R), s.describe('del'));
      assert.ok(!hasOp(del, 'queue_zap'), `no workqueue from v6.6 (§5.5): ${s.describe('del')}`);
      assert.ok(hasOp(del, 'zap', R), s.describe('del'));
      assert.deepEqual(refTrace(del, 'put', R), [[2, 1]], s.describe('del'));
      assert.ok(s.requests('del').includes('KVM_REQ_MMU_FREE_OBSOLETE_ROOTS'), s.describe('del'));
      const mid = root(s.state('del'), R);
      assert.equal(mid.state, 'invalid');
      assert.equal(mid.refcount, 1);
      const after = s.actions('after');
      assert.deepEqual(refTrace(after, 'put', R), [[1, 0]], s.describe('after'));
      assert.ok(hasOp(after, 'free', R), s.describe('after'));
      const N = s.allocatedOne('after');
      assert.notEqual(N, R);
      assert.equal(root(s.state('after'), N).refcount, 2);
    });
  }
});

describe('facts §5.2/§5.3 TDP roots shared by two vCPUs (E1/E2): destroyed when the last vCPU reference goes', () => {
  for (const k of [...E1, ...E2]) {
    it(`§5.2/§5.3 ${k}: two vCPUs share R (rc 2); the first unload only drops to 1, the second frees`, () => {
      const s = sim(
        k,
        'vendor=intel tdp=on vcpus=2',
        `${LONG}\nrun #@r0\nvcpu 1\n${LONG}\nrun #@r1\nvcpu 0: smi #@s0\nvcpu 1: smi #@s1`,
      );
      const R = s.allocatedOne('r0');
      assert.deepEqual(
        s.actions('r1', 'reuse').map((x) => [x.root, x.refcount]),
        [[R, [1, 2]]],
        s.describe('r1'),
      );
      assert.deepEqual(refTrace(s.actions('s0'), 'put', R), [[2, 1]], s.describe('s0'));
      assert.equal(root(s.state('s0'), R).state, 'valid');
      assert.ok(!hasOp(s.actions('s0'), 'invalidate', R), s.describe('s0'));
      assert.ok(hasOp(s.actions('s1'), 'free', R), s.describe('s1'));
      assert.equal(root(s.state('s1'), R).state, 'freed');
    });
  }
});

describe('facts §5.4 motivation / seed 000: SMI+RSM cycles with one vCPU', () => {
  const CYCLES = `${LONG}\nrun\nsmi\nrun\nrsm\nrun\nsmi\nrun\nrsm\nrun\nsmi\nrun\nrsm\nrun #@end`;
  for (const k of [...E1, ...E2]) {
    it(`§5.4 ${k}: every SMM transition rebuilds the TDP root (7 allocations for 3 cycles), at most one root alive`, () => {
      const st = sim(k, VM, CYCLES).state('end');
      assert.equal(st.stats.roots_allocated, 7);
      assert.equal(st.roots.filter((r) => r.state !== 'freed').length, 1);
    });
  }
  for (const k of V64PLUS) {
    it(`§5.4 ${k}: the two roots (SMM and non-SMM) are built once and reused`, () => {
      const st = sim(k, VM, CYCLES).state('end');
      assert.equal(st.stats.roots_allocated, 2);
      assert.equal(st.roots.filter((r) => r.state !== 'freed').length, 2);
      assert.equal(st.stats.roots_freed, 0);
    });
  }
});

describe('facts §5.2–§5.5 invalidating an already-invalid root (second memslot delete before the vCPU runs)', () => {
  const body = `${LONG}\nrun #@load\nmemslot delete 1 #@del1\nmemslot delete 2 #@del2`;
  for (const k of E1) {
    it(`§5.2 ${k} (E1): invalidate-all takes a reference on every root whose refcount can be raised, already-invalid ones included`, () => {
      const s = sim(k, VM, body);
      const R = s.allocatedOne('load');
      assert.deepEqual(refTrace(s.actions('del2'), 'get', R), [[1, 2]], s.describe('del2'));
      assert.deepEqual(refTrace(s.actions('del2'), 'put', R), [[2, 1]], s.describe('del2'));
      assert.equal(root(s.state('del2'), R).refcount, 1);
    });
  }
  for (const k of [...E2, ...E3, ...E45]) {
    it(`§5.3–§5.5 ${k}: an already-invalid root is skipped (no new reference, not zapped again)`, () => {
      const s = sim(k, VM, body);
      const R = s.allocatedOne('load');
      const acts = s.actions('del2');
      assert.ok(!hasOp(acts, 'get', R) && !hasOp(acts, 'put', R) && !hasOp(acts, 'zap', R), s.describe('del2'));
      assert.equal(root(s.state('del2'), R).refcount, 1);
      assert.equal(root(s.state('del2'), R).state, 'invalid');
    });
  }
});

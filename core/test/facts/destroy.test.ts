/**
 * facts.md §3.8 lifetime edges (vCPU creation/destruction, VM destruction) and §5.4 (E3+: the TDP MMU's own
 * references are put when the VM is torn down).
 */
import assert from 'node:assert/strict';
import { ALL, E1, E2, LONG, V64PLUS, current, hasOp, liveRoots, refTrace, root, sim } from './helpers.js';

const EPT = 'vendor=intel tdp=on tdp_mmu=on';

describe('facts §3.8 vCPU creation', () => {
  for (const k of ALL) {
    it(`§3.8 no root is allocated until the first VM-entry, ${k}`, () => {
      const s = sim(k, EPT, `${LONG} #@sregs\nrun #@load`);
      assert.equal(s.state('sregs').roots.length, 0);
      assert.equal(current(s.state('sregs')), null);
      assert.equal(s.allocated('load').length, 1);
    });
  }
});

describe('facts §3.8 vCPU destroy', () => {
  for (const k of [...E1, ...E2]) {
    it(`§3.8 destroy vcpu unloads; with one vCPU the TDP root dies (E1/E2), ${k}`, () => {
      const s = sim(k, EPT, `${LONG}\nrun #@load\ndestroy vcpu #@d`);
      const R = s.allocatedOne('load');
      assert.ok(refTrace(s.actions('d'), 'put', R).length >= 1, s.describe('d'));
      assert.equal(root(s.state('d'), R).state, 'freed');
    });
  }
  for (const k of V64PLUS) {
    it(`§3.8/§5.4 destroy vcpu unloads; the TDP MMU's own reference keeps the root (E3+), ${k}`, () => {
      const s = sim(k, EPT, `${LONG}\nrun #@load\ndestroy vcpu #@d`);
      const R = s.allocatedOne('load');
      assert.deepEqual(refTrace(s.actions('d'), 'put', R), [[2, 1]], s.describe('d'));
      const r = root(s.state('d'), R);
      assert.equal(r.state, 'valid');
      assert.deepEqual(r.holders, ['tdp_mmu']);
    });
  }
});

describe('facts §3.8/§5.4 VM destroy', () => {
  const BODY = `${LONG}\nrun #@load\nsmi\nrun #@smm\nrsm\nrun #@back\ndestroy vm #@d`;
  for (const k of V64PLUS) {
    it(`§3.8/§5.4 destroy vm, ${k}: uninit invalidates every TDP root and puts the TDP MMU's references — every root freed, no WARN`, () => {
      const s = sim(k, EPT, BODY);
      const before = liveRoots(s.state('back'));
      assert.equal(before.length, 2, 'precondition: the normal and the SMM root both live (E3+)');
      const acts = s.actions('d');
      for (const r of before) {
        assert.ok(hasOp(acts, 'invalidate', r.id), `#${r.id} invalidated: ${s.describe('d')}`);
        assert.ok(hasOp(acts, 'free', r.id), `#${r.id} freed: ${s.describe('d')}`);
        const puts = refTrace(acts, 'put', r.id);
        assert.deepEqual(puts[puts.length - 1], [1, 0], s.describe('d'));
      }
      assert.ok(!hasOp(acts, 'warn'), s.describe('d'));
      assert.deepEqual(liveRoots(s.state('d')), []);
      assert.equal(s.state('d').vmDestroyed, true);
    });
  }
  for (const k of [...E1, ...E2]) {
    it(`§3.8 destroy vm, ${k}: every root freed, no WARN`, () => {
      const s = sim(k, EPT, BODY);
      assert.ok(!hasOp(s.actions('d'), 'warn'), s.describe('d'));
      assert.deepEqual(liveRoots(s.state('d')), []);
    });
  }
  for (const k of ALL) {
    it(`§3.8/§6.2 destroy vm with shadow paging, ${k}: every shadow page (loaded or only hashed) is freed`, () => {
      const s = sim(k, 'vendor=intel tdp=off', `${LONG}\nrun\nsregs cr3=0x2000\nrun #@b\ndestroy vm #@d`);
      assert.equal(liveRoots(s.state('b')).length, 2, 'precondition');
      assert.ok(!hasOp(s.actions('d'), 'warn'), s.describe('d'));
      assert.deepEqual(liveRoots(s.state('d')), []);
    });
  }
});

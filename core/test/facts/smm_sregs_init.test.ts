/**
 * facts.md §4.7 (SMI entry and RSM), §7 (SMM address spaces), §4.8 (KVM_SET_SREGS and INIT).
 */
import assert from 'node:assert/strict';
import {
  ALL,
  E1,
  E2PLUS,
  LONG,
  LONG_PCID,
  NOPAGING,
  current,
  currentRoot,
  hasOp,
  mmu,
  prevRoots,
  refTrace,
  root,
  roleField,
  sim,
} from './helpers.js';

const EPT = 'vendor=intel tdp=on tdp_mmu=on';
const NPT = 'vendor=amd tdp=on tdp_mmu=on';
const SHADOW = 'vendor=intel tdp=off';

describe('facts §4.7 SMI and RSM', () => {
  for (const k of ALL) {
    it(`§4.7 SMI unloads every slot (current and prev_roots), ${k}`, () => {
      const s = sim(k, SHADOW, `${LONG_PCID}\nrun #@a\ncr3 = 0x2000 noflush\nrun #@b\nsmi #@smi`);
      const [A, B] = [s.allocatedOne('a'), s.allocatedOne('b')];
      assert.deepEqual(prevRoots(s.state('b')), [A, null, null], 'precondition');
      assert.ok(hasOp(s.actions('smi'), 'unload'), s.describe('smi'));
      for (const x of [A, B]) assert.deepEqual(refTrace(s.actions('smi'), 'put', x), [[1, 0]], s.describe('smi'));
      const st = s.state('smi');
      assert.equal(current(st), null);
      assert.deepEqual(prevRoots(st), [null, null, null]);
      assert.equal(st.vcpus[0]?.smm, true);
    });
    it(`§4.7/§7 the root loaded in SMM has role.smm=1; after RSM role.smm=0, ${k}`, () => {
      for (const vm of [EPT, NPT, SHADOW]) {
        const s = sim(k, vm, `${LONG}\nrun #@load\nsmi #@smi\nrun #@smm\nrsm #@rsm\nrun #@back`);
        const st = s.state('smm');
        if (vm !== SHADOW) assert.equal(roleField(currentRoot(st), 'smm'), 1, `${vm}: ${s.describe('smm')}`);
        else {
          // Paging is off in SMM: shadow paging uses four direct PAE roots (pae_root), each with smm=1.
          const m = mmu(st, 'root_mmu');
          assert.equal(m.rootSpecial, 'pae_root', s.describe('smm'));
          const ids = m.paeRoots.filter((x): x is number => x !== null);
          assert.equal(ids.length, 4, s.describe('smm'));
          for (const id of ids) assert.equal(roleField(root(st, id), 'smm'), 1);
        }
        assert.ok(hasOp(s.actions('rsm'), 'unload'), `${vm}: RSM resets: ${s.describe('rsm')}`);
        assert.equal(current(s.state('rsm')), null, `${vm}: nothing loaded until the next entry`);
        assert.equal(s.state('rsm').vcpus[0]?.smm, false);
        assert.equal(roleField(currentRoot(s.state('back')), 'smm'), 0, `${vm}: ${s.describe('back')}`);
      }
    });
  }
  for (const k of E1) {
    it(`§4.7/§2.2 ${k}: the SMM TDP root (paging off) has cr0_wp=0 and efer_nx=0 (E1 root role from guest regs)`, () => {
      const s = sim(k, EPT, `${LONG}\nrun\nsmi\nrun #@smm`);
      const r = currentRoot(s.state('smm'));
      assert.equal(roleField(r, 'cr0_wp'), 0);
      assert.equal(roleField(r, 'efer_nx'), 0);
    });
  }
  for (const k of E2PLUS) {
    it(`§4.7/§2.3.2 ${k}: the SMM TDP root has cr0_wp=1 and efer_nx=1 (constants), differing from R only in smm`, () => {
      const s = sim(k, EPT, `${LONG}\nrun #@load\nsmi\nrun #@smm`);
      const R = root(s.state('load'), s.allocatedOne('load'));
      const S = currentRoot(s.state('smm'));
      assert.notEqual(S.id, R.id);
      assert.equal(roleField(S, 'cr0_wp'), 1);
      assert.equal(roleField(S, 'efer_nx'), 1);
      assert.equal(Number.parseInt(S.role, 16) - Number.parseInt(R.role, 16), 2 ** 24, `R ${R.role} vs S ${S.role}`);
    });
  }
  for (const k of ALL) {
    it(`§7/§6.2 ${k}: with shadow paging the root survives SMI+RSM in the hash and is reused (no mmu_cache_miss)`, () => {
      const s = sim(k, SHADOW, `${LONG}\nrun #@load\nsmi\nrun #@smm\nrsm\nrun #@back`);
      const A = s.allocatedOne('load');
      assert.equal(root(s.state('smm'), A).state, 'valid');
      assert.equal(root(s.state('smm'), A).refcount, 0);
      assert.deepEqual(s.allocated('back'), [], s.describe('back'));
      assert.ok(hasOp(s.actions('back'), 'reuse', A), s.describe('back'));
      assert.equal(current(s.state('back')), A);
      assert.equal(s.state('back').stats.mmu_cache_miss, s.state('smm').stats.mmu_cache_miss);
    });
  }
});

describe('facts §4.8 KVM_SET_SREGS and INIT', () => {
  for (const k of ALL) {
    it(`§4.8 SET_SREGS resets when a non-role bit differs (CR4.OSFXSR), ${k}`, () => {
      const s = sim(k, EPT, `${LONG}\nrun #@load\nsregs cr4=PAE|OSFXSR #@w`);
      assert.ok(hasOp(s.actions('w'), 'unload'), s.describe('w'));
      assert.ok(refTrace(s.actions('w'), 'put', s.allocatedOne('load')).length >= 1, s.describe('w'));
      assert.equal(current(s.state('w')), null);
    });
    it(`§4.8 SET_SREGS resets when only CR3 differs, ${k}`, () => {
      const s = sim(k, EPT, `${LONG}\nrun\nsregs cr3=0x2000 #@w`);
      assert.ok(hasOp(s.actions('w'), 'unload'), s.describe('w'));
    });
    it(`§4.8 SET_SREGS with identical CR0/CR3/CR4/EFER incl. CR0.ET (64-bit, not PAE paging) does not reset, ${k}`, () => {
      const SAME = 'sregs cr0=PE|ET|NE|PG|WP cr4=PAE efer=LME|LMA|NX cr3=0x1000';
      const s = sim(k, EPT, `${SAME}\nrun #@load\n${SAME} #@w`);
      assert.ok(!hasOp(s.actions('w'), 'unload') && !hasOp(s.actions('w'), 'put'), s.describe('w'));
      assert.equal(current(s.state('w')), s.allocatedOne('load'));
    });
    it(`§4.8 SET_SREGS with identical CR0/CR3/CR4/EFER (CR0.ET clear: SET_SREGS stores sregs->cr0 as given) does not reset, ${k}`, () => {
      const s = sim(k, EPT, `${LONG}\nrun #@load\n${LONG} #@w`);
      assert.ok(!hasOp(s.actions('w'), 'unload') && !hasOp(s.actions('w'), 'put'), s.describe('w'));
      assert.equal(current(s.state('w')), s.allocatedOne('load'));
    });
    it(`§4.8 INIT resets when the old CR0.PG was 1, ${k}`, () => {
      const s = sim(k, EPT, `${LONG}\nrun #@load\ninit #@w`);
      assert.ok(hasOp(s.actions('w'), 'unload'), s.describe('w'));
      assert.equal(current(s.state('w')), null);
    });
    it(`§4.8 INIT does not reset when the old CR0.PG was 0, ${k}`, () => {
      const s = sim(k, EPT, `${NOPAGING}\nrun #@load\ninit #@w`);
      assert.ok(!hasOp(s.actions('w'), 'unload') && !hasOp(s.actions('w'), 'put'), s.describe('w'));
      assert.equal(current(s.state('w')), s.allocatedOne('load'));
    });
  }
  it('§4.8 v6.6: no guest TLB flush request after the SET_SREGS reset', () => {
    const s = sim('v6.6', EPT, `${LONG}\nrun\nsregs cr4=PAE|OSFXSR #@w`);
    assert.ok(!s.requests('w').includes('KVM_REQ_TLB_FLUSH_GUEST'), s.describe('w'));
  });
  for (const k of ['v6.12', 'v6.18']) {
    it(`§4.8 ${k}: KVM_REQ_TLB_FLUSH_GUEST after the SET_SREGS reset`, () => {
      const s = sim(k, EPT, `${LONG}\nrun\nsregs cr4=PAE|OSFXSR #@w`);
      assert.ok(s.requests('w').includes('KVM_REQ_TLB_FLUSH_GUEST'), s.describe('w'));
    });
  }
  for (const k of ['v5.15', 'v6.18']) {
    it(`§4.8 ${k}: every INIT requests a guest TLB flush (even with CR0.PG=0)`, () => {
      const s = sim(k, EPT, `${NOPAGING}\nrun\ninit #@w`);
      assert.ok(s.requests('w').includes('KVM_REQ_TLB_FLUSH_GUEST'), s.describe('w'));
    });
  }
});

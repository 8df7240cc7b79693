/**
 * facts.md §4.10 (nested VMX: VM-Enter/VM-Exit with and without EPT, INVEPT, INVVPID), §2.3.4/§2.3.5 (nested
 * EPT/NPT root roles), §3.2 (root_mmu / guest_mmu / nested_mmu).
 */
import assert from 'node:assert/strict';
import {
  ALL,
  E2PLUS,
  LONG_VMX,
  current,
  hasOp,
  mmu,
  prevRoots,
  refTrace,
  root,
  roleField,
  sim,
  vcpu,
} from './helpers.js';

const EPT = 'vendor=intel tdp=on tdp_mmu=on nested=on';
const SHADOW = 'vendor=intel tdp=off nested=on';
const LONG_SVM = 'sregs cr0=PE|ET|NE|PG|WP cr4=PAE efer=LME|LMA|NX|SVME cr3=0x1000';

describe('facts §4.10 nested VM-Enter / VM-Exit with EPT', () => {
  for (const k of ALL) {
    it(`§4.10 VM-Enter with EPT, ${k}: guest_mmu becomes the MMU (walk_mmu = nested_mmu); L1's root stays referenced`, () => {
      const s = sim(k, EPT, `${LONG_VMX}\nrun #@l1\nvmenter ept=on eptp=0x501e cr3=0x9000 #@en\nrun #@l2`);
      const R = s.allocatedOne('l1');
      const rc = root(s.state('l1'), R).refcount;
      assert.ok(!hasOp(s.actions('en'), 'put', R), s.describe('en'));
      const st = s.state('en');
      assert.equal(vcpu(st).mmu, 'guest_mmu');
      assert.equal(vcpu(st).walkMmu, 'nested_mmu');
      assert.equal(mmu(st, 'root_mmu').root, R);
      assert.equal(root(st, R).refcount, rc);
      const X = s.allocatedOne('l2');
      const after = s.state('l2');
      assert.equal(mmu(after, 'guest_mmu').root, X);
      assert.equal(mmu(after, 'root_mmu').root, R, 'root_mmu untouched while L2 runs');
      assert.equal(root(after, R).refcount, rc);
    });
    it(`§4.10/§2.3.5 nested EPT root, ${k}: shadow page keyed by the EPTP, level = EPTP walk length, guest_mode=1, direct=0, ad_disabled = !EPTP.AD`, () => {
      const s = sim(k, EPT, `${LONG_VMX}\nrun\nvmenter ept=on eptp=0x501e cr3=0x9000\nrun #@l2`);
      const x = root(s.state('l2'), s.allocatedOne('l2'));
      assert.equal(x.kind, 'nested_ept');
      assert.equal(x.level, 4);
      assert.equal(roleField(x, 'level'), 4);
      assert.equal(roleField(x, 'guest_mode'), 1);
      assert.equal(roleField(x, 'direct'), 0);
      assert.equal(roleField(x, 'ad_disabled'), 1, 'EPTP 0x501e has bit 6 (A/D enable) clear');
      assert.equal(BigInt(x.gfn ?? -1), 0x5n);
      const ad = sim(k, EPT, `${LONG_VMX}\nrun\nvmenter ept=on eptp=0x505e cr3=0x9000\nrun #@l2`);
      assert.equal(roleField(root(ad.state('l2'), ad.allocatedOne('l2')), 'ad_disabled'), 0, 'EPTP 0x505e enables A/D');
    });
    it(`§2.4 nested EPT root level follows the L1 EPTP (5-level EPTP 0x5026 on a 5-level EPT host), ${k}`, () => {
      const s = sim(k, `${EPT} max_tdp_level=5`, `${LONG_VMX}\nrun\nvmenter ept=on eptp=0x5026 cr3=0x9000\nrun #@l2`);
      const x = root(s.state('l2'), s.allocatedOne('l2'));
      assert.equal(x.level, 5);
      assert.equal(roleField(x, 'level'), 5);
    });
    it(`§4.10 VM-Exit with nested EPT, ${k}: L1's root is current again as is; guest_mmu keeps its root`, () => {
      const s = sim(
        k,
        EPT,
        `${LONG_VMX}\nrun #@l1\nvmenter ept=on eptp=0x501e cr3=0x9000\nrun #@l2\nvmexit #@exit\nrun #@back`,
      );
      const R = s.allocatedOne('l1');
      const X = s.allocatedOne('l2');
      const st = s.state('exit');
      assert.equal(vcpu(st).mmu, 'root_mmu');
      assert.equal(current(st), R);
      assert.equal(mmu(st, 'guest_mmu').root, X, 'guest_mmu roots stay cached');
      assert.ok(!hasOp(s.actions('exit'), 'put'), s.describe('exit'));
      assert.deepEqual(s.allocated('back'), [], s.describe('back'));
    });
  }
  for (const k of E2PLUS) {
    it(`§2.3.5 nested EPT root role has smm=0 in E2+, ${k}`, () => {
      const s = sim(k, EPT, `${LONG_VMX}\nrun\nvmenter ept=on eptp=0x501e cr3=0x9000\nrun #@l2`);
      assert.equal(roleField(root(s.state('l2'), s.allocatedOne('l2')), 'smm'), 0);
    });
  }
});

describe('facts §4.10 nested VM-Enter / VM-Exit without EPT (root_mmu, guest_mode roots through the LRU)', () => {
  for (const k of ALL) {
    it(`§4.10 VM-Enter without nested EPT, ${k}: L1's root goes to prev_roots[0], a guest_mode root is built at entry`, () => {
      const s = sim(k, EPT, `${LONG_VMX}\nrun #@l1\nvmenter cr3=0x9000 vpid=1 #@en\nrun #@l2`);
      const R = s.allocatedOne('l1');
      const st = s.state('en');
      assert.equal(vcpu(st).mmu, 'root_mmu');
      assert.equal(current(st), null, s.describe('en'));
      assert.deepEqual(prevRoots(st), [R, null, null], s.describe('en'));
      const L = s.allocatedOne('l2');
      const l = root(s.state('l2'), L);
      assert.equal(l.kind, 'tdp_mmu');
      assert.equal(roleField(l, 'guest_mode'), 1);
      assert.equal(roleField(root(s.state('l2'), R), 'guest_mode'), 0);
    });
    it(`§4.10 VM-Exit without nested EPT, ${k}: L1's root is found in P0 and swapped back; re-entry hits the L2 root`, () => {
      const s = sim(
        k,
        EPT,
        `${LONG_VMX}\nrun #@l1\nvmenter cr3=0x9000 vpid=1\nrun #@l2\nvmexit #@exit\nrun #@back\nvmenter cr3=0x9000 vpid=1 #@again\nrun #@l2b`,
      );
      const R = s.allocatedOne('l1');
      const L = s.allocatedOne('l2');
      assert.ok(hasOp(s.actions('exit'), 'cache_hit', R), s.describe('exit'));
      assert.equal(current(s.state('exit')), R);
      assert.deepEqual(prevRoots(s.state('exit')), [L, null, null]);
      assert.deepEqual(s.allocated('back'), []);
      assert.ok(hasOp(s.actions('again'), 'cache_hit', L), s.describe('again'));
      assert.equal(current(s.state('again')), L);
      assert.deepEqual(prevRoots(s.state('again')), [R, null, null]);
      assert.deepEqual(s.allocated('l2b'), []);
    });
  }
});

describe('facts §4.10 INVEPT (guest_mmu)', () => {
  const BODY = `${LONG_VMX}
run
vmenter ept=on eptp=0x501e cr3=0x9000 vpid=1
run #@x
vmexit
vmenter ept=on eptp=0x601e cr3=0x9000 vpid=1
run #@y
vmexit #@exit`;
  const setup = (k: string, inv: string) => {
    const s = sim(k, EPT, `${BODY}\n${inv} #@inv`);
    const X = s.allocatedOne('x');
    const Y = s.allocatedOne('y');
    assert.equal(mmu(s.state('exit'), 'guest_mmu').root, Y, 'precondition');
    assert.deepEqual(prevRoots(s.state('exit'), 'guest_mmu'), [X, null, null], 'precondition');
    return { s, X, Y };
  };
  for (const k of ALL) {
    it(`§4.10 INVEPT single-context frees only guest_mmu slots whose EPTP address matches, ${k}`, () => {
      const { s, X, Y } = setup(k, 'invept single 0x501e');
      const st = s.state('inv');
      assert.equal(mmu(st, 'guest_mmu').root, Y);
      assert.deepEqual(prevRoots(st, 'guest_mmu'), [null, null, null], s.describe('inv'));
      assert.deepEqual(refTrace(s.actions('inv'), 'put', X), [[1, 0]], s.describe('inv'));
      assert.ok(!hasOp(s.actions('inv'), 'put', Y), s.describe('inv'));
      assert.notEqual(root(st, X).state, 'freed', 'the nEPT shadow page survives in the hash');
    });
    it(`§4.10 INVEPT single-context matches on the EPTP address bits only (0x505e matches 0x501e), ${k}`, () => {
      const { s, X } = setup(k, 'invept single 0x505e');
      assert.deepEqual(refTrace(s.actions('inv'), 'put', X), [[1, 0]], s.describe('inv'));
    });
    it(`§4.10 INVEPT single-context for an unused EPTP frees nothing, ${k}`, () => {
      const { s, X, Y } = setup(k, 'invept single 0x701e');
      assert.ok(!hasOp(s.actions('inv'), 'put'), s.describe('inv'));
      assert.equal(mmu(s.state('inv'), 'guest_mmu').root, Y);
      assert.deepEqual(prevRoots(s.state('inv'), 'guest_mmu'), [X, null, null]);
    });
    it(`§4.10 INVEPT single-context for the current EPTP frees the current guest_mmu root, ${k}`, () => {
      const { s, X, Y } = setup(k, 'invept single 0x601e');
      assert.deepEqual(refTrace(s.actions('inv'), 'put', Y), [[1, 0]], s.describe('inv'));
      assert.equal(mmu(s.state('inv'), 'guest_mmu').root, null);
      assert.deepEqual(prevRoots(s.state('inv'), 'guest_mmu'), [X, null, null]);
    });
    it(`§4.10 INVEPT global frees every guest_mmu slot; root_mmu untouched, ${k}`, () => {
      const { s, X, Y } = setup(k, 'invept global');
      for (const id of [X, Y]) assert.deepEqual(refTrace(s.actions('inv'), 'put', id), [[1, 0]], s.describe('inv'));
      const st = s.state('inv');
      assert.equal(mmu(st, 'guest_mmu').root, null);
      assert.deepEqual(prevRoots(st, 'guest_mmu'), [null, null, null]);
      assert.notEqual(mmu(st, 'root_mmu').root, null);
    });
  }
  it('§4.10 history (f8aa7e3958bc, SPEC invept_precise): without invept_precise single-context INVEPT frees all guest_mmu roots', () => {
    const { s, X, Y } = setup('v6.6 -invept_precise', 'invept single 0x501e');
    for (const id of [X, Y]) assert.deepEqual(refTrace(s.actions('inv'), 'put', id), [[1, 0]], s.describe('inv'));
    assert.equal(mmu(s.state('inv'), 'guest_mmu').root, null);
  });
});

describe('facts §4.10 INVVPID', () => {
  const BODY = `${LONG_VMX}\nrun #@l1\nvmenter cr3=0x9000 vpid=1\nrun #@l2\nvmexit\nrun #@exit\ninvvpid single vpid=1 #@inv`;
  const guestModePrev = (s: ReturnType<typeof sim>, tag: string): number[] => {
    const st = s.state(tag);
    return prevRoots(st).filter((id): id is number => id !== null && roleField(root(st, id), 'guest_mode') === 1);
  };
  for (const k of ALL) {
    it(`§4.10/§3.6 INVVPID with EPT disabled frees the guest_mode prev roots (kvm_mmu_free_guest_mode_roots), ${k}`, () => {
      const s = sim(k, SHADOW, BODY);
      const before = guestModePrev(s, 'exit');
      assert.ok(
        before.length >= 1,
        `precondition: a guest_mode root in prev_roots after VM-Exit: ${s.describe('exit')}`,
      );
      const cur = current(s.state('exit'));
      for (const id of before) assert.ok(hasOp(s.actions('inv'), 'put', id), s.describe('inv'));
      assert.deepEqual(guestModePrev(s, 'inv'), []);
      assert.equal(current(s.state('inv')), cur, 'never the current slot');
    });
    it(`§4.10 INVVPID with EPT enabled frees no root, ${k}`, () => {
      const s = sim(k, EPT, BODY);
      const before = prevRoots(s.state('exit'));
      assert.ok(
        before.some((x) => x !== null),
        'precondition',
      );
      assert.ok(!hasOp(s.actions('inv'), 'put'), s.describe('inv'));
      assert.deepEqual(prevRoots(s.state('inv')), before);
    });
  }
});

describe('facts §2.3.4 nested NPT roots', () => {
  for (const k of ALL) {
    it(`§2.3.4/§2.4 nested NPT root, ${k}: guest_mmu shadow page at nCR3, level = host NPT level`, () => {
      const s = sim(
        k,
        'vendor=amd tdp=on nested=on',
        `${LONG_SVM}\nrun\nvmenter npt=on ncr3=0x7000 cr3=0x9000 #@en\nrun #@l2`,
      );
      assert.equal(vcpu(s.state('en')).mmu, 'guest_mmu');
      const x = root(s.state('l2'), s.allocatedOne('l2'));
      assert.equal(x.kind, 'nested_npt');
      assert.equal(x.level, 4);
      assert.equal(roleField(x, 'direct'), 0);
      assert.equal(BigInt(x.gfn ?? -1), 0x7n);
    });
  }
  for (const k of ALL.filter((p) => p !== 'v6.18')) {
    it(`§2.3.4 nested NPT role has guest_mode=0 through v6.12 (MMU init before enter_guest_mode), ${k}`, () => {
      const s = sim(
        k,
        'vendor=amd tdp=on nested=on',
        `${LONG_SVM}\nrun\nvmenter npt=on ncr3=0x7000 cr3=0x9000\nrun #@l2`,
      );
      assert.equal(roleField(root(s.state('l2'), s.allocatedOne('l2')), 'guest_mode'), 0);
    });
  }
  it('§2.3.4 nested NPT role has guest_mode=1 on v6.18 (guest mode entered first)', () => {
    const s = sim(
      'v6.18',
      'vendor=amd tdp=on nested=on',
      `${LONG_SVM}\nrun\nvmenter npt=on ncr3=0x7000 cr3=0x9000\nrun #@l2`,
    );
    assert.equal(roleField(root(s.state('l2'), s.allocatedOne('l2')), 'guest_mode'), 1);
  });
  for (const k of E2PLUS) {
    it(`§2.3.4 a 5-level nNPT root shadowing a 4-level L1 NPT has passthrough=1, ${k}`, () => {
      const s = sim(
        k,
        'vendor=amd tdp=on nested=on max_tdp_level=5',
        `${LONG_SVM}\nrun\nvmenter npt=on ncr3=0x7000 cr3=0x9000\nrun #@l2`,
      );
      const st = s.state('l2');
      const id = mmu(st, 'guest_mmu').root;
      assert.notEqual(id, null, s.describe('l2'));
      const x = root(st, id as number);
      assert.equal(x.level, 5);
      assert.equal(roleField(x, 'passthrough'), 1);
    });
  }
  for (const k of ALL) {
    it(`§4.11 #VMEXIT does not free guest_mmu roots (no SVM path frees them explicitly), ${k}`, () => {
      const s = sim(
        k,
        'vendor=amd tdp=on nested=on',
        `${LONG_SVM}\nrun\nvmenter npt=on ncr3=0x7000 cr3=0x9000\nrun #@l2\nvmexit #@exit`,
      );
      const X = s.allocatedOne('l2');
      assert.ok(!hasOp(s.actions('exit'), 'put', X), s.describe('exit'));
      assert.equal(root(s.state('exit'), X).refcount, 1);
    });
  }
});

describe('facts §3.5.1 E1 level restriction across nested transitions (TDP, L2 in PAE mode)', () => {
  const BODY = `${LONG_VMX}
run #@l1
vmenter cr3=0x9000 cr0=PE|ET|NE|PG|WP cr4=PAE|VMXE efer=NX vpid=1 #@en
run #@l2
vmexit #@exit
run #@back`;
  for (const k of ['v5.15', 'v5.17']) {
    it(`§3.5.1 ${k}: VM-Exit from a PAE L2 refuses the fast switch (old root_level 3) and frees the L2 root; L1's root is re-found on the list`, () => {
      const s = sim(k, EPT, BODY);
      const R = s.allocatedOne('l1');
      const L = s.allocatedOne('l2');
      assert.deepEqual(prevRoots(s.state('en')), [R, null, null], s.describe('en'));
      assert.deepEqual(refTrace(s.actions('exit'), 'put', L), [[1, 0]], s.describe('exit'));
      assert.ok(!hasOp(s.actions('exit'), 'cache_hit', R), s.describe('exit'));
      assert.equal(current(s.state('exit')), null);
      assert.deepEqual(prevRoots(s.state('exit')), [R, null, null]);
      const [reuse] = s.actions('back', 'reuse');
      assert.equal(reuse?.root, R, s.describe('back'));
      assert.deepEqual(reuse?.refcount, [1, 2], 'R is held by prev_roots[0] and, again, by the current slot');
    });
  }
  for (const k of E2PLUS) {
    it(`§3.5.2 ${k}: VM-Exit from a PAE L2 swaps L1's root back in from prev_roots`, () => {
      const s = sim(k, EPT, BODY);
      const R = s.allocatedOne('l1');
      const L = s.allocatedOne('l2');
      assert.ok(hasOp(s.actions('exit'), 'cache_hit', R), s.describe('exit'));
      assert.equal(current(s.state('exit')), R);
      assert.deepEqual(prevRoots(s.state('exit')), [L, null, null]);
    });
  }
});

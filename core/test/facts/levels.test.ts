/**
 * facts.md §2.4 level rules (TDP VMX/SVM, shadow), §2.1 kvm_mmu_get_tdp_level, §2.5/§4.9 CPUID.
 */
import assert from 'node:assert/strict';
import { ALL, LONG, NOPAGING, PAE, currentRoot, mmu, root, roleField, sim } from './helpers.js';

const LA57 = 'sregs cr0=PE|ET|NE|PG|WP cr4=PAE|LA57 efer=LME|LMA|NX cr3=0x1000';
const PROT32 = 'sregs cr0=PE|ET|NE|PG|WP cr4=0 efer=0 cr3=0x1000';

describe('facts §2.4 level rules', () => {
  for (const k of ALL) {
    for (const [max, maxphy, level] of [
      [5, 52, 5],
      [5, 49, 5],
      [5, 48, 4],
      [4, 52, 4],
    ] as const) {
      it(`§2.4 TDP VMX root level: 5-level EPT host=${max === 5}, guest MAXPHYADDR ${maxphy} → ${level}, ${k}`, () => {
        const s = sim(k, `vendor=intel tdp=on max_tdp_level=${max} maxphyaddr=${maxphy}`, `${LONG}\nrun #@load`);
        const r = currentRoot(s.state('load'));
        assert.equal(r.level, level);
        assert.equal(roleField(r, 'level'), level);
      });
    }
    for (const [max, maxphy, level] of [
      [5, 46, 5],
      [4, 52, 4],
    ] as const) {
      it(`§2.4 TDP SVM root level = host paging level (${max}), whatever the guest MAXPHYADDR (${maxphy}), ${k}`, () => {
        const s = sim(k, `vendor=amd tdp=on max_tdp_level=${max} maxphyaddr=${maxphy}`, `${LONG}\nrun #@load`);
        assert.equal(currentRoot(s.state('load')).level, level);
      });
    }
    it(`§2.4 TDP root level does not depend on the guest paging mode (paging off → still 4), ${k}`, () => {
      const s = sim(k, 'vendor=intel tdp=on', `${NOPAGING}\nrun #@load`);
      assert.equal(currentRoot(s.state('load')).level, 4);
    });
    for (const [regs, guest, rootLevel, special] of [
      [LA57, 5, 5, false],
      [LONG, 4, 4, false],
      [PAE, 3, 3, true],
      [PROT32, 2, 3, true],
      [NOPAGING, 0, 3, true],
    ] as const) {
      it(`§2.4 shadow root level: guest level ${guest} → root level ${rootLevel}${special ? ' (PAE roots)' : ''}, ${k}`, () => {
        const s = sim(k, 'vendor=intel tdp=off', `${regs}\nrun #@load`);
        const st = s.state('load');
        const m = mmu(st, 'root_mmu');
        assert.equal(m.guestLevel, guest);
        assert.equal(m.rootLevel, rootLevel);
        if (special) {
          assert.equal(m.rootSpecial, 'pae_root');
          const ids = m.paeRoots.filter((x): x is number => x !== null);
          assert.equal(ids.length, 4);
          for (const id of ids) assert.equal(root(st, id).level, 2);
        } else {
          assert.equal(m.rootSpecial, null);
          assert.equal(currentRoot(st).level, rootLevel);
        }
      });
    }
    it(`§2.4/§6.1 32-bit non-PAE shadow: four PAE roots at the guest PD gfn with quadrants 0..3, ${k}`, () => {
      const s = sim(k, 'vendor=intel tdp=off', `${PROT32}\nrun #@load`);
      const st = s.state('load');
      const ids = mmu(st, 'root_mmu').paeRoots as number[];
      assert.deepEqual(
        ids.map((id) => roleField(root(st, id), 'quadrant')),
        [0, 1, 2, 3],
      );
      for (const id of ids) assert.equal(BigInt(root(st, id).gfn ?? -1), 1n);
    });
    it(`§2.5/§4.9 KVM_SET_CPUID before the first run: MAXPHYADDR 52 on a 5-level EPT host gives a 5-level root, ${k}`, () => {
      const s = sim(k, 'vendor=intel tdp=on max_tdp_level=5 maxphyaddr=46', `${LONG}\ncpuid maxphyaddr=52\nrun #@load`);
      assert.equal(currentRoot(s.state('load')).level, 5);
    });
  }
});

describe('facts §1.2 extended role: EFER.LMA bit per era', () => {
  const ext = (cpuRole: string): bigint => BigInt(cpuRole) >> 32n;
  it('§1.2 v5.15.0: no efer_lma ext bit (bit 8 is cr4_la57, bit 9 unused)', () => {
    const s = sim('v5.15', 'vendor=intel tdp=on', `${LONG}\nrun #@load`);
    const e = ext(mmu(s.state('load'), 'root_mmu').cpuRole);
    assert.equal((e >> 9n) & 1n, 0n);
    assert.equal(e & 1n, 1n, 'valid');
  });
  it('§1.2 v5.17: efer_lma is ext bit 9', () => {
    const s = sim('v5.17', 'vendor=intel tdp=on', `${LONG}\nrun #@load`);
    assert.equal((ext(mmu(s.state('load'), 'root_mmu').cpuRole) >> 9n) & 1n, 1n);
  });
  for (const k of ['v6.1', 'v6.3', 'v6.4', 'v6.6', 'v6.12', 'v6.18']) {
    it(`§1.2 ${k}: efer_lma is ext bit 7`, () => {
      const s = sim(k, 'vendor=intel tdp=on', `${LONG}\nrun #@load`);
      assert.equal((ext(mmu(s.state('load'), 'root_mmu').cpuRole) >> 7n) & 1n, 1n);
    });
  }
});

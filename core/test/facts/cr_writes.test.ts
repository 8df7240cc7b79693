/**
 * facts.md §4.0 (which writes exit), §4.1 (MOV to CR0), §4.2 (MOV to CR4), §4.3 (EFER).
 */
import assert from 'node:assert/strict';
import {
  ALL,
  E1,
  E2,
  E2PLUS,
  LONG,
  LONG_PCID,
  NOPAGING,
  PAE,
  V64PLUS,
  current,
  hasOp,
  refTrace,
  root,
  roleField,
  sim,
  vcpu,
} from './helpers.js';

const EPT = 'vendor=intel tdp=on tdp_mmu=on';
const NPT = 'vendor=amd tdp=on tdp_mmu=on';
const SHADOW = 'vendor=intel tdp=off';

/** The step did not reset the MMU: no unload, no reference dropped, no root freed. */
function assertNoReset(s: ReturnType<typeof sim>, tag: string): void {
  const acts = s.actions(tag);
  assert.ok(
    !hasOp(acts, 'unload') && !hasOp(acts, 'put') && !hasOp(acts, 'free'),
    `expected no unload: ${s.describe(tag)}`,
  );
}

/** The step reset the MMU: an unload that dropped the current root `R`. */
function assertReset(s: ReturnType<typeof sim>, tag: string, R: number): void {
  const acts = s.actions(tag);
  assert.ok(hasOp(acts, 'unload'), `expected an unload: ${s.describe(tag)}`);
  assert.ok(refTrace(acts, 'put', R).length >= 1, `expected the vCPU reference to #${R} dropped: ${s.describe(tag)}`);
  assert.equal(current(s.state(tag)), null, 'current root slot is empty after the reset');
}

describe('facts §4.0 which guest writes exit', () => {
  for (const k of ALL) {
    it(`§4.0 VMX with EPT: MOV CR3 does not exit, ${k}`, () => {
      const s = sim(k, EPT, `${LONG}\nrun #@load\ncr3 = 0x2000 #@w`);
      assert.equal(s.outcome('w'), 'no_exit', s.describe('w'));
      assertNoReset(s, 'w');
      assert.equal(BigInt(vcpu(s.state('w')).regs.cr3), 0x2000n, 'the register changes');
      assert.equal(current(s.state('w')), s.allocatedOne('load'));
    });
    it(`§4.0 VMX with EPT: a CR4.PGE toggle does not exit, ${k}`, () => {
      const s = sim(k, EPT, `${LONG}\nrun #@load\ncr4 |= PGE #@w`);
      assert.equal(s.outcome('w'), 'no_exit', s.describe('w'));
      assertNoReset(s, 'w');
      assert.equal(BigInt(vcpu(s.state('w')).regs.cr4) & 0x80n, 0x80n, 'CR4.PGE is set');
    });
    it(`§4.0 shadow paging: MOV CR3 and CR4.PGE exit, ${k}`, () => {
      const s = sim(k, SHADOW, `${LONG}\nrun\ncr3 = 0x2000 #@w3\ncr4 |= PGE #@w4`);
      assert.notEqual(s.outcome('w3'), 'no_exit', s.describe('w3'));
      assert.notEqual(s.outcome('w4'), 'no_exit', s.describe('w4'));
    });
    it(`§4.0 SVM with NPT: MOV CR3 does not exit, ${k}`, () => {
      const s = sim(k, NPT, `${LONG}\nrun\ncr3 = 0x2000 #@w`);
      assert.equal(s.outcome('w'), 'no_exit', s.describe('w'));
    });
    it(`§4.0 EFER writes are intercepted on both vendors, ${k}`, () => {
      for (const vm of [EPT, NPT]) {
        const s = sim(k, vm, `${LONG}\nrun\nefer &= ~NX #@w`);
        assert.equal(s.outcome('w'), 'ok', `${vm}: ${s.describe('w')}`);
      }
    });
  }
  for (const k of [...E1, ...E2]) {
    it(`§4.0 VMX with EPT: a CR0.WP-only write exits through v6.3 (WP not guest-owned), ${k}`, () => {
      const s = sim(k, EPT, `${LONG}\nrun\ncr0 &= ~WP #@w`);
      assert.equal(s.outcome('w'), 'ok', s.describe('w'));
    });
  }
  for (const k of V64PLUS) {
    it(`§4.0/§4.1 VMX with EPT: a CR0.WP-only write does not exit from v6.4 (cr0_guest_owned_bits = TS|WP), ${k}`, () => {
      const s = sim(k, EPT, `${LONG}\nrun #@load\ncr0 &= ~WP #@w`);
      assert.equal(s.outcome('w'), 'no_exit', s.describe('w'));
      assertNoReset(s, 'w');
      assert.equal(BigInt(vcpu(s.state('w')).regs.cr0) & 0x10000n, 0n, 'CR0.WP is clear');
    });
    it(`§4.0 VMX without EPT: CR0.WP is not guest-owned, the write exits, ${k}`, () => {
      const s = sim(k, SHADOW, `${LONG}\nrun\ncr0 &= ~WP #@w`);
      assert.equal(s.outcome('w'), 'ok', s.describe('w'));
    });
    it(`§4.0 SVM with NPT: a CR0.WP-only write still exits (selective CR0 intercept), ${k}`, () => {
      const s = sim(k, NPT, `${LONG}\nrun\ncr0 &= ~WP #@w`);
      assert.equal(s.outcome('w'), 'ok', s.describe('w'));
    });
  }
});

describe('facts §4.1 MOV to CR0', () => {
  // Row: only WP toggles, TDP, CR0.PG=1.
  for (const k of E1) {
    it(`§4.1 WP-only toggle, TDP, PG=1, ${k} (E1): reset; the next root has role.cr0_wp=0 (§2.2)`, () => {
      const s = sim(k, EPT, `${LONG}\nrun #@load\ncr0 &= ~WP #@w\nrun #@reload`);
      const R = s.allocatedOne('load');
      assertReset(s, 'w', R);
      assert.equal(roleField(root(s.state('load'), R), 'cr0_wp'), 1);
      const N = s.allocatedOne('reload');
      assert.notEqual(N, R);
      assert.equal(roleField(root(s.state('reload'), N), 'cr0_wp'), 0, 'E1 TDP root role contains guest CR0.WP');
    });
  }
  for (const k of E2) {
    it(`§4.1 WP-only toggle, TDP, PG=1, ${k} (E2): reset; the TDP root role keeps cr0_wp=1 (§2.3.2)`, () => {
      const s = sim(k, EPT, `${LONG}\nrun #@load\ncr0 &= ~WP #@w\nrun #@reload`);
      const R = s.allocatedOne('load');
      assertReset(s, 'w', R);
      const st = s.state('reload');
      assert.equal(roleField(root(st, current(st) as number), 'cr0_wp'), 1, 'constant 1 in E2+');
    });
  }
  for (const k of V64PLUS) {
    it(`§4.1 WP-only toggle, TDP, PG=1, ${k} (E3+, SVM exits): kvm_init_mmu only, no unload`, () => {
      const s = sim(k, NPT, `${LONG}\nrun #@load\ncr0 &= ~WP #@w`);
      const R = s.allocatedOne('load');
      assertNoReset(s, 'w');
      assert.ok(hasOp(s.actions('w'), 'reinit'), `kvm_init_mmu recomputes the cpu role: ${s.describe('w')}`);
      assert.equal(current(s.state('w')), R);
      assert.equal(root(s.state('w'), R).refcount, 2);
    });
    it(`§4.1 WP-only toggle, TDP, PG=1, ${k} (E3+, VMX emulated): kvm_init_mmu only, no unload`, () => {
      const s = sim(k, EPT, `${LONG}\nrun #@load\nemulate cr0 &= ~WP #@w`);
      assert.equal(s.outcome('w'), 'ok', s.describe('w'));
      assertNoReset(s, 'w');
      assert.ok(hasOp(s.actions('w'), 'reinit'), s.describe('w'));
      assert.equal(current(s.state('w')), s.allocatedOne('load'));
    });
  }
  // Row: only WP toggles, TDP, CR0.PG=0.
  for (const k of [...E1, ...E2]) {
    it(`§4.1 WP-only toggle, TDP, PG=0, ${k} (E1/E2): reset`, () => {
      const s = sim(k, EPT, `${NOPAGING}\nrun #@load\ncr0 |= WP #@w`);
      assertReset(s, 'w', s.allocatedOne('load'));
    });
  }
  for (const k of V64PLUS) {
    it(`§4.1 WP-only toggle, TDP, PG=0, ${k} (E3+): nothing`, () => {
      for (const [vm, w] of [
        [NPT, 'cr0 |= WP'],
        [EPT, 'emulate cr0 |= WP'],
      ] as const) {
        const s = sim(k, vm, `${NOPAGING}\nrun #@load\n${w} #@w`);
        assert.equal(s.outcome('w'), 'ok', s.describe('w'));
        assertNoReset(s, 'w');
        assert.ok(!hasOp(s.actions('w'), 'reinit'), `no kvm_init_mmu either: ${s.describe('w')}`);
        assert.equal(current(s.state('w')), s.allocatedOne('load'));
      }
    });
  }
  // Row: only WP toggles, shadow paging.
  for (const k of ALL) {
    it(`§4.1 WP-only toggle, shadow paging, PG=1, ${k}: reset`, () => {
      const s = sim(k, SHADOW, `${LONG}\nrun #@load\ncr0 &= ~WP #@w`);
      assertReset(s, 'w', s.allocatedOne('load'));
    });
  }
  for (const k of [...E1, ...E2]) {
    it(`§4.1 WP-only toggle, shadow paging, PG=0, ${k} (E1/E2): reset`, () => {
      const s = sim(k, SHADOW, `${NOPAGING}\nrun\ncr0 |= WP #@w`);
      assert.ok(hasOp(s.actions('w'), 'unload'), s.describe('w'));
    });
  }
  for (const k of V64PLUS) {
    it(`§4.1 WP-only toggle, shadow paging, PG=0, ${k} (E3+): nothing`, () => {
      const s = sim(k, SHADOW, `${NOPAGING}\nrun #@load\ncr0 |= WP #@w`);
      assert.equal(s.outcome('w'), 'ok', s.describe('w'));
      assertNoReset(s, 'w');
      assert.ok(!hasOp(s.actions('w'), 'reinit'), s.describe('w'));
    });
  }
  // Row: PG toggles.
  for (const k of ALL) {
    it(`§4.1 PG set, ${k}: reset`, () => {
      const s = sim(k, EPT, `${NOPAGING}\nrun #@load\ncr0 |= PG #@w`);
      assert.equal(s.outcome('w'), 'ok', s.describe('w'));
      assertReset(s, 'w', s.allocatedOne('load'));
    });
  }
  for (const k of E1) {
    it(`§4.1 PG cleared, ${k} (E1): reset, no guest TLB flush request`, () => {
      const s = sim(k, EPT, `${PAE}\nrun #@load\ncr0 &= ~PG #@w`);
      assertReset(s, 'w', s.allocatedOne('load'));
      assert.ok(!s.requests('w').includes('KVM_REQ_TLB_FLUSH_GUEST'), s.describe('w'));
    });
  }
  for (const k of E2PLUS) {
    it(`§4.1 PG cleared, ${k} (E2+): reset and KVM_REQ_TLB_FLUSH_GUEST`, () => {
      const s = sim(k, EPT, `${PAE}\nrun #@load\ncr0 &= ~PG #@w`);
      assertReset(s, 'w', s.allocatedOne('load'));
      assert.ok(s.requests('w').includes('KVM_REQ_TLB_FLUSH_GUEST'), s.describe('w'));
    });
  }
});

describe('facts §4.2 MOV to CR4', () => {
  for (const k of ALL) {
    it(`§4.2 a CR4 role bit (SMEP) toggles, ${k}: reset`, () => {
      const s = sim(k, EPT, `${LONG}\nrun #@load\ncr4 |= SMEP #@w`);
      assert.equal(s.outcome('w'), 'ok', s.describe('w'));
      assertReset(s, 'w', s.allocatedOne('load'));
    });
  }
  for (const k of E2PLUS) {
    it(`§4.2 SMEP 0→1, ${k} (5.19+): also KVM_REQ_TLB_FLUSH_CURRENT`, () => {
      const s = sim(k, EPT, `${LONG}\nrun\ncr4 |= SMEP #@w`);
      assert.ok(s.requests('w').includes('KVM_REQ_TLB_FLUSH_CURRENT'), s.describe('w'));
    });
  }
  it('§4.2 PGE only, v5.15 (PGE is a role bit): reset — shadow paging (exits) and emulated with EPT', () => {
    const sh = sim('v5.15', SHADOW, `${LONG}\nrun #@load\ncr4 |= PGE #@w`);
    assertReset(sh, 'w', sh.allocatedOne('load'));
    const tdp = sim('v5.15', EPT, `${LONG}\nrun #@load\nemulate cr4 |= PGE #@w`);
    assertReset(tdp, 'w', tdp.allocatedOne('load'));
  });
  for (const k of ALL.filter((p) => p !== 'v5.15')) {
    it(`§4.2 PGE only, ${k}: KVM_REQ_TLB_FLUSH_GUEST, no reset`, () => {
      for (const [vm, w] of [
        [SHADOW, 'cr4 |= PGE'],
        [EPT, 'emulate cr4 |= PGE'],
      ] as const) {
        const s = sim(k, vm, `${LONG}\nrun #@load\n${w} #@w`);
        assertNoReset(s, 'w');
        assert.ok(s.requests('w').includes('KVM_REQ_TLB_FLUSH_GUEST'), `${vm}: ${s.describe('w')}`);
        assert.equal(current(s.state('w')), s.allocatedOne('load'));
      }
    });
  }
  it('§4.2 PCIDE 1→0, v5.15: reset', () => {
    const s = sim('v5.15', EPT, `${LONG_PCID}\nrun #@load\ncr4 &= ~PCIDE #@w`);
    assertReset(s, 'w', s.allocatedOne('load'));
  });
  it('§4.2 PCIDE 1→0, v5.17: KVM_REQ_MMU_RELOAD (→ unload at the next entry)', () => {
    const s = sim('v5.17', EPT, `${LONG_PCID}\nrun #@load\ncr4 &= ~PCIDE #@w\nrun #@entry`);
    const R = s.allocatedOne('load');
    assertNoReset(s, 'w');
    assert.ok(s.requests('w').includes('KVM_REQ_MMU_RELOAD'), s.describe('w'));
    assert.ok(hasOp(s.actions('entry'), 'unload'), s.describe('entry'));
    assert.deepEqual(refTrace(s.actions('entry'), 'put', R), [[1, 0]], s.describe('entry'));
  });
  for (const k of E2PLUS) {
    it(`§4.2 PCIDE 1→0, ${k} (5.19+): KVM_REQ_TLB_FLUSH_GUEST only`, () => {
      const s = sim(k, EPT, `${LONG_PCID}\nrun #@load\ncr4 &= ~PCIDE #@w`);
      assertNoReset(s, 'w');
      assert.ok(s.requests('w').includes('KVM_REQ_TLB_FLUSH_GUEST'), s.describe('w'));
      assert.ok(!s.requests('w').includes('KVM_REQ_MMU_RELOAD'), s.describe('w'));
    });
  }
  it('§4.2 PCIDE 0→1, v5.15: nothing', () => {
    for (const vm of [EPT, SHADOW]) {
      const s = sim('v5.15', vm, `${LONG}\nrun\ncr4 |= PCIDE #@w`);
      assert.equal(s.outcome('w'), 'ok', s.describe('w'));
      assertNoReset(s, 'w');
      assert.ok(!s.requests('w').includes('KVM_REQ_MMU_RELOAD'), s.describe('w'));
    }
  });
  it('§4.2 PCIDE 0→1, v5.17: KVM_REQ_MMU_RELOAD', () => {
    const s = sim('v5.17', EPT, `${LONG}\nrun\ncr4 |= PCIDE #@w`);
    assert.ok(s.requests('w').includes('KVM_REQ_MMU_RELOAD'), s.describe('w'));
  });
  for (const k of E2PLUS) {
    it(`§4.2 PCIDE 0→1, ${k} (5.19+): unload with shadow paging, nothing with TDP`, () => {
      const sh = sim(k, SHADOW, `${LONG}\nrun #@load\ncr4 |= PCIDE #@w`);
      assert.ok(hasOp(sh.actions('w'), 'unload'), sh.describe('w'));
      assert.equal(current(sh.state('w')), null);
      const tdp = sim(k, EPT, `${LONG}\nrun #@load\ncr4 |= PCIDE #@w`);
      assertNoReset(tdp, 'w');
      assert.ok(!tdp.requests('w').includes('KVM_REQ_MMU_RELOAD'), tdp.describe('w'));
      assert.equal(current(tdp.state('w')), tdp.allocatedOne('load'));
    });
  }
});

describe('facts §4.3 EFER', () => {
  for (const k of ALL) {
    it(`§4.3 EFER.NX change resets, ${k}`, () => {
      const s = sim(k, EPT, `${LONG}\nrun #@load\nefer &= ~NX #@w`);
      assert.equal(s.outcome('w'), 'ok', s.describe('w'));
      assertReset(s, 'w', s.allocatedOne('load'));
    });
  }
  for (const k of E1) {
    it(`§4.3 EFER.LME change does not reset, ${k} (no efer_lme_role_bit in mainline 5.15.0/5.17)`, () => {
      const s = sim(k, EPT, `${NOPAGING}\nrun #@load\nefer |= LME #@w`);
      assert.equal(s.outcome('w'), 'ok', s.describe('w'));
      assertNoReset(s, 'w');
    });
  }
  for (const k of E2PLUS) {
    it(`§4.3 EFER.LME change resets, ${k} (KVM_MMU_EFER_ROLE_BITS = LME|NX)`, () => {
      const s = sim(k, EPT, `${NOPAGING}\nrun #@load\nefer |= LME #@w`);
      assert.equal(s.outcome('w'), 'ok', s.describe('w'));
      assertReset(s, 'w', s.allocatedOne('load'));
    });
  }
});

describe('facts §4.2 CR4 — TLB flush side effects', () => {
  for (const k of E2PLUS) {
    it(`§4.2 PAE toggle, ${k} (5.19+): reset and KVM_REQ_TLB_FLUSH_CURRENT`, () => {
      const s = sim(k, EPT, `${NOPAGING}\nrun #@load\ncr4 |= PAE #@w`);
      assertReset(s, 'w', s.allocatedOne('load'));
      assert.ok(s.requests('w').includes('KVM_REQ_TLB_FLUSH_CURRENT'), s.describe('w'));
    });
  }
});

describe('facts §2.1/§2.3.2 A/D bits in the TDP root role', () => {
  for (const k of ALL) {
    it(`§2.1 ad_disabled = !A/D: EPT with ad=off → 1, ad=on → 0, NPT → 0, ${k}`, () => {
      const off = sim(k, `${EPT} ad=off`, `${LONG}\nrun #@load`);
      assert.equal(roleField(root(off.state('load'), off.allocatedOne('load')), 'ad_disabled'), 1);
      const on = sim(k, `${EPT} ad=on`, `${LONG}\nrun #@load`);
      assert.equal(roleField(root(on.state('load'), on.allocatedOne('load')), 'ad_disabled'), 0);
      const npt = sim(k, NPT, `${LONG}\nrun #@load`);
      assert.equal(roleField(root(npt.state('load'), npt.allocatedOne('load')), 'ad_disabled'), 0);
    });
  }
});

describe('facts §4.2/§4.3 non-role bits and LMA', () => {
  for (const k of ALL) {
    it(`§4.2/§2.5 CR4.PSE (a role bit in every era) resets; CR4.OSFXSR (not a role bit) does not, ${k}`, () => {
      const pse = sim(k, EPT, `${LONG}\nrun #@load\ncr4 |= PSE #@w`);
      assertReset(pse, 'w', pse.allocatedOne('load'));
      const fx = sim(k, EPT, `${LONG}\nrun #@load\nemulate cr4 |= OSFXSR #@w`);
      assert.equal(fx.outcome('w'), 'ok', fx.describe('w'));
      assertNoReset(fx, 'w');
    });
    it(`§4.3 an EFER write changing only SCE does not reset, ${k}`, () => {
      const s = sim(k, EPT, `${LONG}\nrun #@load\nefer |= SCE #@w`);
      assert.equal(s.outcome('w'), 'ok', s.describe('w'));
      assertNoReset(s, 'w');
    });
    it(`§4.3/§2.4 setting CR0.PG with EFER.LME and CR4.PAE enters long mode (LMA rides on PG): 4-level shadow root, ${k}`, () => {
      const s = sim(k, SHADOW, `sregs cr0=PE|ET|NE cr4=PAE efer=LME|NX cr3=0x1000\nrun #@load\ncr0 |= PG #@w\nrun #@r`);
      assert.equal(s.outcome('w'), 'ok', s.describe('w'));
      assert.ok(hasOp(s.actions('w'), 'unload'), s.describe('w'));
      assert.equal(BigInt(vcpu(s.state('w')).regs.efer) & 0x400n, 0x400n, 'EFER.LMA set');
      const st = s.state('r');
      assert.equal(st.vcpus[0]?.mmus.find((m) => m.name === 'root_mmu')?.guestLevel, 4);
      assert.equal(root(st, current(st) as number).level, 4);
    });
  }
});

describe('facts §4.4 step 5 requests', () => {
  for (const k of ALL) {
    it(`§4.4 shadow, PCIDE=1, flushing write whose PCID is the active one: KVM_REQ_MMU_SYNC + KVM_REQ_TLB_FLUSH_CURRENT, ${k}`, () => {
      const s = sim(k, SHADOW, `${LONG_PCID}\nrun\ncr3 = 0x2000 #@w`);
      const req = s.requests('w');
      assert.ok(req.includes('KVM_REQ_MMU_SYNC') && req.includes('KVM_REQ_TLB_FLUSH_CURRENT'), s.describe('w'));
    });
  }
  it('§4.4 v5.15.0, TDP (emulated CR3 write, PCIDE=0): KVM_REQ_MMU_SYNC + KVM_REQ_TLB_FLUSH_CURRENT (no TDP special case)', () => {
    const s = sim('v5.15', EPT, `${LONG}\nrun\nemulate cr3 = 0x2000 #@w`);
    const req = s.requests('w');
    assert.ok(req.includes('KVM_REQ_MMU_SYNC') && req.includes('KVM_REQ_TLB_FLUSH_CURRENT'), s.describe('w'));
  });
  for (const k of ALL.filter((p) => p !== 'v5.15')) {
    it(`§4.4 ${k}, TDP (emulated CR3 write): KVM_REQ_TLB_FLUSH_GUEST only`, () => {
      const s = sim(k, EPT, `${LONG}\nrun\nemulate cr3 = 0x2000 #@w`);
      const req = s.requests('w');
      assert.ok(req.includes('KVM_REQ_TLB_FLUSH_GUEST'), s.describe('w'));
      assert.ok(!req.includes('KVM_REQ_MMU_SYNC'), s.describe('w'));
    });
  }
});

import assert from 'node:assert/strict';
import { findProfile, kernelFor, makeKernel, type Kernel } from '../../src/kernel/behaviours.js';
import {
  ACC_ALL,
  eptp_walk_level,
  init_kvm_nested_mmu_roles,
  init_kvm_softmmu_roles,
  init_kvm_tdp_mmu_roles,
  kvm_calc_cpu_role,
  kvm_init_shadow_ept_mmu_roles,
  kvm_init_shadow_npt_mmu_roles,
  kvm_mmu_calc_root_page_role,
  kvm_mmu_get_tdp_level,
  role_regs_to_root_level,
  type RoleEnv,
  type RoleRegs,
} from '../../src/kvm/mmu_role.js';
import { kvm_mmu_cr4_role_bits, kvm_mmu_efer_role_bits } from '../../src/kernel/regs.js';
import {
  EFER_LMA,
  EFER_LME,
  EFER_NX,
  X86_CR0_PE,
  X86_CR0_PG,
  X86_CR0_WP,
  X86_CR4_LA57,
  X86_CR4_PAE,
  X86_CR4_PGE,
  X86_CR4_PKE,
  X86_CR4_PSE,
  X86_CR4_SMAP,
  X86_CR4_SMEP,
} from '../../src/kernel/regs.js';
import {
  formatCpuRole,
  formatRole,
  getExtField,
  getRoleField,
  roleHas4ByteGpte,
  type PageRoleField,
} from '../../src/kernel/role_layout.js';
import { DEFAULT_VM, type VmConfig } from '../../src/kernel/types.js';

const v5_15 = kernelFor('v5.15');
const v5_17 = kernelFor('v5.17');
const v6_1 = kernelFor('v6.1');
const v6_4 = kernelFor('v6.4');
const v6_18 = kernelFor('v6.18');

function env(kernel: Kernel, vm: Partial<VmConfig> = {}, extra: Partial<RoleEnv> = {}): RoleEnv {
  const full = { ...DEFAULT_VM, ...vm };
  return { kernel, vm: full, maxphyaddr: full.maxphyaddr, is_smm: false, is_guest_mode: false, ...extra };
}

const LONG: RoleRegs = {
  cr0: X86_CR0_PE | X86_CR0_PG | X86_CR0_WP,
  cr4: X86_CR4_PAE,
  efer: EFER_LME | EFER_LMA | EFER_NX,
};
const PAE: RoleRegs = { cr0: X86_CR0_PE | X86_CR0_PG | X86_CR0_WP, cr4: X86_CR4_PAE, efer: EFER_NX };
const PAGING32: RoleRegs = { cr0: X86_CR0_PE | X86_CR0_PG | X86_CR0_WP, cr4: 0n, efer: 0n };
const REAL: RoleRegs = { cr0: 0n, cr4: 0n, efer: 0n };

const f = (k: Kernel, word: number, field: PageRoleField) => getRoleField(k, word, field);

describe('role bits (facts §2.5)', () => {
  it('CR4.PGE is a role bit only with pge_role_bit (v5.15)', () => {
    assert.notEqual(kvm_mmu_cr4_role_bits(v5_15) & X86_CR4_PGE, 0n);
    assert.equal(kvm_mmu_cr4_role_bits(v5_17) & X86_CR4_PGE, 0n);
    const common = X86_CR4_PSE | X86_CR4_PAE | X86_CR4_LA57 | X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PKE;
    assert.equal(kvm_mmu_cr4_role_bits(v6_18), common);
  });

  it('EFER.LME is a role bit only with efer_lme_role_bit', () => {
    assert.equal(kvm_mmu_efer_role_bits(v5_17), EFER_NX);
    assert.equal(kvm_mmu_efer_role_bits(v6_1), EFER_NX | EFER_LME);
  });
});

describe('levels (facts §2.1, §2.4)', () => {
  it('role_regs_to_root_level', () => {
    assert.equal(role_regs_to_root_level(REAL), 0);
    assert.equal(role_regs_to_root_level(PAGING32), 2);
    assert.equal(role_regs_to_root_level(PAE), 3);
    assert.equal(role_regs_to_root_level(LONG), 4);
    assert.equal(role_regs_to_root_level({ ...LONG, cr4: LONG.cr4 | X86_CR4_LA57 }), 5);
    // LA57 without LMA does not make 5-level paging.
    assert.equal(role_regs_to_root_level({ ...PAE, cr4: PAE.cr4 | X86_CR4_LA57 }), 3);
  });

  it('VMX with 5-level EPT: level 4 for MAXPHYADDR 46/48, 5 for 52', () => {
    assert.equal(kvm_mmu_get_tdp_level(env(v6_4, { max_tdp_level: 5, maxphyaddr: 46 })), 4);
    assert.equal(kvm_mmu_get_tdp_level(env(v6_4, { max_tdp_level: 5 }, { maxphyaddr: 48 })), 4);
    assert.equal(kvm_mmu_get_tdp_level(env(v6_4, { max_tdp_level: 5 }, { maxphyaddr: 52 })), 5);
    assert.equal(kvm_mmu_get_tdp_level(env(v6_4, { max_tdp_level: 4 }, { maxphyaddr: 52 })), 4);
  });

  it('SVM always uses the host level', () => {
    assert.equal(kvm_mmu_get_tdp_level(env(v6_4, { vendor: 'amd', max_tdp_level: 5 }, { maxphyaddr: 40 })), 5);
    assert.equal(kvm_mmu_get_tdp_level(env(v6_4, { vendor: 'amd', max_tdp_level: 4 }, { maxphyaddr: 52 })), 4);
  });

  it('the TDP root level follows kvm_mmu_get_tdp_level, the guest level follows the registers', () => {
    const r = init_kvm_tdp_mmu_roles(env(v6_4, { max_tdp_level: 5 }, { maxphyaddr: 52 }), PAE);
    assert.equal(r.root_level, 5);
    assert.equal(f(v6_4, r.root_role, 'level'), 5);
    assert.equal(r.guest_level, 3);
  });

  it('shadow paging: 64-bit guests keep their level, everything else gets a PAE (3) root', () => {
    for (const k of [v5_15, v6_1]) {
      const e = env(k, { tdp: false });
      assert.equal(init_kvm_softmmu_roles(e, LONG).root_level, 4);
      assert.equal(init_kvm_softmmu_roles(e, { ...LONG, cr4: LONG.cr4 | X86_CR4_LA57 }).root_level, 5);
      for (const regs of [PAE, PAGING32, REAL]) {
        const r = init_kvm_softmmu_roles(e, regs);
        assert.equal(r.root_level, 3, k.label);
        assert.equal(f(k, r.root_role, 'level'), 3);
        assert.equal(r.guest_level, role_regs_to_root_level(regs));
      }
      assert.equal(f(k, init_kvm_softmmu_roles(e, REAL).root_role, 'direct'), 1);
      assert.equal(f(k, init_kvm_softmmu_roles(e, PAE).root_role, 'direct'), 0);
    }
  });

  it('eptp_walk_level reads bits 5:3', () => {
    assert.equal(eptp_walk_level(0x501en), 4);
    assert.equal(eptp_walk_level(0x5026n), 5);
    assert.equal(eptp_walk_level(0x505en), 4);
  });
});

describe('TDP root roles', () => {
  it('E1: the TDP root role contains guest CR0.WP and EFER.NX, forced to 0 with paging off', () => {
    for (const k of [v5_15, v5_17]) {
      const e = env(k);
      const on = init_kvm_tdp_mmu_roles(e, LONG).root_role;
      assert.equal(f(k, on, 'cr0_wp'), 1);
      assert.equal(f(k, on, 'efer_nx'), 1);
      const noWp = init_kvm_tdp_mmu_roles(e, { ...LONG, cr0: LONG.cr0 & ~X86_CR0_WP }).root_role;
      assert.equal(f(k, noWp, 'cr0_wp'), 0);
      assert.notEqual(noWp, on, 'toggling WP changes the E1 TDP root role');
      const real = init_kvm_tdp_mmu_roles(e, { cr0: X86_CR0_WP, cr4: 0n, efer: EFER_NX }).root_role;
      assert.equal(f(k, real, 'cr0_wp'), 0);
      assert.equal(f(k, real, 'efer_nx'), 0);
      assert.equal(f(k, real, 'direct'), 1);
      assert.equal(f(k, real, 'level'), 4);
    }
  });

  it('E1: the exact v5.15 TDP role of a 64-bit guest', () => {
    const r = init_kvm_tdp_mmu_roles(env(v5_15), LONG);
    // level 4 | gpte_is_8_bytes | direct | access 7 | efer_nx | cr0_wp
    assert.equal(formatRole(r.root_role), '0x00003794');
    assert.equal(r.cpu_role.base, r.root_role);
    // ext: valid | cr0_pg | cr4_pae (no efer_lma bit in v5.15.0)
    assert.equal(r.cpu_role.ext, 0b1101);
    assert.equal(r.guest_level, 4);
    assert.equal(r.root_level, 4);
  });

  it('E2+: cr0_wp=1 and efer_nx=1 are constants; guest paging state does not enter the root role', () => {
    for (const k of [v6_1, v6_4, v6_18]) {
      const e = env(k);
      const roles = [LONG, PAE, PAGING32, REAL, { ...LONG, cr0: LONG.cr0 & ~X86_CR0_WP, efer: EFER_LMA }].map(
        (regs) => init_kvm_tdp_mmu_roles(e, regs).root_role,
      );
      for (const w of roles) {
        assert.equal(formatRole(w), '0x00003784', k.label);
      }
    }
  });

  it('E2+: the cpu role still describes the guest', () => {
    const r = init_kvm_tdp_mmu_roles(env(v6_1), PAGING32);
    assert.equal(f(v6_1, r.cpu_role.base, 'level'), 2);
    assert.equal(roleHas4ByteGpte(v6_1, r.cpu_role.base), true);
    const real = init_kvm_tdp_mmu_roles(env(v6_1), REAL);
    assert.equal(f(v6_1, real.cpu_role.base, 'level'), 0);
    assert.equal(f(v6_1, real.cpu_role.base, 'direct'), 1);
    assert.equal(real.cpu_role.ext, 1, 'only ext.valid with paging off');
    assert.equal(real.guest_level, 0);
  });

  it('smm and guest_mode bits follow the vCPU in every era', () => {
    for (const k of [v5_15, v5_17, v6_1, v6_18]) {
      const smm = init_kvm_tdp_mmu_roles(env(k, {}, { is_smm: true }), LONG);
      assert.equal(f(k, smm.root_role, 'smm'), 1);
      assert.equal(f(k, smm.cpu_role.base, 'smm'), 1);
      const l2 = init_kvm_tdp_mmu_roles(env(k, {}, { is_guest_mode: true }), LONG);
      assert.equal(f(k, l2.root_role, 'guest_mode'), 1);
      assert.equal(f(k, l2.root_role, 'smm'), 0);
    }
    assert.equal(formatRole(init_kvm_tdp_mmu_roles(env(v6_4, {}, { is_smm: true }), LONG).root_role), '0x01003784');
  });

  it('ad_disabled only for EPT without A/D', () => {
    assert.equal(f(v6_4, init_kvm_tdp_mmu_roles(env(v6_4, { ad: false }), LONG).root_role, 'ad_disabled'), 1);
    assert.equal(f(v6_4, init_kvm_tdp_mmu_roles(env(v6_4, { ad: true }), LONG).root_role, 'ad_disabled'), 0);
    assert.equal(
      f(v6_4, init_kvm_tdp_mmu_roles(env(v6_4, { vendor: 'amd', ad: false }), LONG).root_role, 'ad_disabled'),
      0,
    );
    assert.equal(f(v5_15, init_kvm_tdp_mmu_roles(env(v5_15, { ad: false }), LONG).root_role, 'ad_disabled'), 1);
  });
});

describe('seed 001: PAE vs 64-bit paging under TDP', () => {
  // PAE paging: PG|PE, PAE, LME=0/LMA=0; 64-bit: same with LME|LMA.
  const pae: RoleRegs = { cr0: X86_CR0_PE | X86_CR0_PG, cr4: X86_CR4_PAE, efer: 0n };
  const lm: RoleRegs = { cr0: X86_CR0_PE | X86_CR0_PG, cr4: X86_CR4_PAE, efer: EFER_LME | EFER_LMA };

  it('v5.15.0 (no efer_lma_ext_role): identical mmu_role, different guest level', () => {
    const a = init_kvm_tdp_mmu_roles(env(v5_15), pae);
    const b = init_kvm_tdp_mmu_roles(env(v5_15), lm);
    assert.equal(formatCpuRole(a.cpu_role.base, a.cpu_role.ext), formatCpuRole(b.cpu_role.base, b.cpu_role.ext));
    assert.equal(a.root_role, b.root_role);
    assert.equal(a.guest_level, 3);
    assert.equal(b.guest_level, 4);
  });

  it('v5.17 (efer_lma_ext_role): the 64-bit role differs in ext.efer_lma only', () => {
    const a = init_kvm_tdp_mmu_roles(env(v5_17), pae);
    const b = init_kvm_tdp_mmu_roles(env(v5_17), lm);
    assert.equal(a.cpu_role.base, b.cpu_role.base);
    assert.notEqual(a.cpu_role.ext, b.cpu_role.ext);
    assert.equal(getExtField(v5_17, b.cpu_role.ext, 'efer_lma'), 1);
    assert.equal(getExtField(v5_17, a.cpu_role.ext, 'efer_lma'), 0);
    assert.equal((a.cpu_role.ext ^ b.cpu_role.ext) >>> 0, 1 << 9);
  });

  it('v5.15 +efer_lma_ext_role (what 5.15.y stable does) also differs', () => {
    const p = findProfile('v5.15');
    assert.ok(p);
    const k = makeKernel(p, ['efer_lma_ext_role']);
    const a = init_kvm_tdp_mmu_roles(env(k), pae);
    const b = init_kvm_tdp_mmu_roles(env(k), lm);
    assert.notEqual(a.cpu_role.ext, b.cpu_role.ext);
  });

  it('v5.19+ (cpu_role_split): the cpu role differs in the base level too, the root role does not', () => {
    const a = init_kvm_tdp_mmu_roles(env(v6_1), pae);
    const b = init_kvm_tdp_mmu_roles(env(v6_1), lm);
    assert.notEqual(a.cpu_role.base, b.cpu_role.base);
    assert.equal(a.root_role, b.root_role);
  });
});

describe('shadow paging roles', () => {
  const smepNoWp: RoleRegs = {
    cr0: X86_CR0_PE | X86_CR0_PG,
    cr4: X86_CR4_PAE | X86_CR4_SMEP | X86_CR4_SMAP,
    efer: EFER_LME | EFER_LMA,
  };

  it('smep/smap_andnot_wp come from CR4 and !CR0.WP', () => {
    for (const k of [v5_15, v6_1]) {
      const r = init_kvm_softmmu_roles(env(k, { tdp: false }), smepNoWp).root_role;
      assert.equal(f(k, r, 'smep_andnot_wp'), 1, k.label);
      assert.equal(f(k, r, 'smap_andnot_wp'), 1);
      const wp = init_kvm_softmmu_roles(env(k, { tdp: false }), {
        ...smepNoWp,
        cr0: smepNoWp.cr0 | X86_CR0_WP,
      }).root_role;
      assert.equal(f(k, wp, 'smep_andnot_wp'), 0);
    }
  });

  it('E1 base-only role (kvm_mmu_calc_root_page_role) loses smep/smap_andnot_wp', () => {
    const e = env(v5_15, { tdp: false });
    const full = init_kvm_softmmu_roles(e, smepNoWp).root_role;
    const baseOnly = kvm_mmu_calc_root_page_role(e, smepNoWp);
    assert.equal(f(v5_15, baseOnly, 'smep_andnot_wp'), 0);
    assert.equal(f(v5_15, baseOnly, 'smap_andnot_wp'), 0);
    assert.notEqual(baseOnly, full);
    // Without SMEP/SMAP the two agree.
    assert.equal(kvm_mmu_calc_root_page_role(e, LONG), init_kvm_softmmu_roles(e, LONG).root_role);
    // For TDP the base-only role equals the real root role.
    const t = env(v5_15);
    assert.equal(kvm_mmu_calc_root_page_role(t, smepNoWp), init_kvm_tdp_mmu_roles(t, smepNoWp).root_role);
  });

  it('E1 32-bit guest: 4-byte gptes in the v5.15 spelling (gpte_is_8_bytes = 0)', () => {
    const r = init_kvm_softmmu_roles(env(v5_15, { tdp: false }), PAGING32).root_role;
    assert.equal(f(v5_15, r, 'gpte_is_8_bytes'), 0);
    const p = init_kvm_softmmu_roles(env(v5_15, { tdp: false }), PAE).root_role;
    assert.equal(f(v5_15, p, 'gpte_is_8_bytes'), 1);
  });

  it('E2+: root role = cpu role with level ≥ 3 and efer_nx forced to 1', () => {
    const e = env(v6_1, { tdp: false });
    const r = init_kvm_softmmu_roles(e, { ...PAGING32, efer: 0n });
    assert.equal(f(v6_1, r.root_role, 'efer_nx'), 1);
    assert.equal(f(v6_1, r.cpu_role.base, 'efer_nx'), 0);
    assert.equal(f(v6_1, r.root_role, 'has_4_byte_gpte'), 1);
    assert.equal(f(v6_1, r.root_role, 'level'), 3);
    assert.equal(r.guest_level, 2);
    // E1 does not force NX.
    const e1 = init_kvm_softmmu_roles(env(v5_17, { tdp: false }), { ...PAGING32, efer: 0n });
    assert.equal(f(v5_17, e1.root_role, 'efer_nx'), 0);
  });

  it('CR4.PGE and EFER.SCE never reach a role', () => {
    for (const k of [v5_15, v6_1]) {
      const e = env(k, { tdp: false });
      const a = init_kvm_softmmu_roles(e, LONG);
      const b = init_kvm_softmmu_roles(e, { ...LONG, cr4: LONG.cr4 | X86_CR4_PGE, efer: LONG.efer | 1n });
      assert.deepEqual(a, b);
    }
  });

  it('kvm_calc_cpu_role: E2+ is the guest mode; E1 is the root_mmu mmu_role', () => {
    assert.deepEqual(kvm_calc_cpu_role(env(v6_1), PAE), init_kvm_tdp_mmu_roles(env(v6_1), PAE).cpu_role);
    assert.deepEqual(kvm_calc_cpu_role(env(v5_15), PAE), init_kvm_tdp_mmu_roles(env(v5_15), PAE).cpu_role);
    assert.deepEqual(
      kvm_calc_cpu_role(env(v5_15, { tdp: false }), PAE),
      init_kvm_softmmu_roles(env(v5_15, { tdp: false }), PAE).cpu_role,
    );
  });
});

describe('nested roles', () => {
  it('nested EPT: level from the EPTP, ad_disabled = !EPTP[6], guest_mode, no guest registers', () => {
    for (const k of [v5_15, v6_1]) {
      const e = env(k, { nested: true }, { is_guest_mode: true });
      const r = kvm_init_shadow_ept_mmu_roles(e, 0x501en, true, 0);
      assert.equal(r.root_level, 4);
      assert.equal(r.guest_level, 4);
      assert.equal(f(k, r.root_role, 'level'), 4);
      assert.equal(f(k, r.root_role, 'direct'), 0);
      assert.equal(f(k, r.root_role, 'guest_mode'), 1);
      assert.equal(f(k, r.root_role, 'ad_disabled'), 1, '0x501e has no A/D bit');
      assert.equal(f(k, r.root_role, 'access'), ACC_ALL);
      assert.equal(f(k, r.root_role, 'cr0_wp'), 0);
      assert.equal(roleHas4ByteGpte(k, r.root_role), false);
      assert.equal(r.cpu_role.ext, 0b11, 'ext = valid | execonly');
      const ad = kvm_init_shadow_ept_mmu_roles(e, 0x505en, false, 0);
      assert.equal(f(k, ad.root_role, 'ad_disabled'), 0);
      assert.equal(ad.cpu_role.ext, 1);
      assert.equal(kvm_init_shadow_ept_mmu_roles(e, 0x5026n, false, 0).root_level, 5);
    }
  });

  it('nested EPT smm: E1 copies root_mmu.smm, E2+ always 0', () => {
    const smmRootRole = 0x01003794;
    const e1 = kvm_init_shadow_ept_mmu_roles(env(v5_15), 0x501en, false, smmRootRole);
    assert.equal(f(v5_15, e1.root_role, 'smm'), 1);
    const e2 = kvm_init_shadow_ept_mmu_roles(env(v6_1), 0x501en, false, 0x01003784);
    assert.equal(f(v6_1, e2.root_role, 'smm'), 0);
  });

  it('nested NPT: CR0 = PG only (L1 WP ignored), PKE stripped from v5.16, level = host NPT level, indirect', () => {
    const l1: RoleRegs = {
      cr0: X86_CR0_PE | X86_CR0_PG | X86_CR0_WP,
      cr4: X86_CR4_PAE | X86_CR4_PKE,
      efer: EFER_LME | EFER_LMA | EFER_NX,
    };
    for (const k of [v5_15, v6_1]) {
      const e = env(k, { vendor: 'amd', nested: true, max_tdp_level: 4 });
      const r = kvm_init_shadow_npt_mmu_roles(e, l1, 4);
      assert.equal(f(k, r.root_role, 'cr0_wp'), 0, `${k.label}: WP of L1 is not used`);
      assert.equal(f(k, r.root_role, 'efer_nx'), 1);
      assert.equal(f(k, r.root_role, 'direct'), 0);
      assert.equal(r.root_level, 4);
      assert.equal(r.guest_level, 4);
      // mmu.c kvm_init_shadow_npt_mmu: mainline v5.15.0 passes L1's CR4 unstripped; 28f091bc2f8c (v5.16) clears PKE.
      assert.equal(getExtField(k, r.cpu_role.ext, 'cr4_pke'), k.has('nnpt_strips_pke') ? 0 : 1, k.label);
      assert.equal(f(k, r.root_role, 'passthrough'), 0);
    }
  });

  it('nested NPT passthrough: 5-level host, 4-level L1 (v5.19+ only)', () => {
    const l1: RoleRegs = { cr0: X86_CR0_PG, cr4: X86_CR4_PAE, efer: EFER_LME | EFER_LMA };
    const r = kvm_init_shadow_npt_mmu_roles(env(v6_1, { vendor: 'amd', max_tdp_level: 5 }), l1, 4);
    assert.equal(r.root_level, 5);
    assert.equal(f(v6_1, r.root_role, 'passthrough'), 1);
    assert.equal(f(v6_1, r.cpu_role.base, 'passthrough'), 0, 'the cpu role keeps no passthrough bit');
    const l1_5: RoleRegs = { ...l1, cr4: l1.cr4 | X86_CR4_LA57 };
    assert.equal(
      f(
        v6_1,
        kvm_init_shadow_npt_mmu_roles(env(v6_1, { vendor: 'amd', max_tdp_level: 5 }), l1_5, 5).root_role,
        'passthrough',
      ),
      0,
    );
    const e1 = kvm_init_shadow_npt_mmu_roles(env(v5_17, { vendor: 'amd', max_tdp_level: 5 }), l1, 4);
    assert.equal(e1.root_role & (1 << 18), 0, 'no passthrough bit before v5.19');
  });

  it('nested_mmu: walk-only, level = L2 paging level, no root', () => {
    const e1 = init_kvm_nested_mmu_roles(env(v5_15, {}, { is_guest_mode: true }), PAE);
    assert.equal(e1.guest_level, 3);
    assert.equal(e1.root_level, 0);
    assert.equal(f(v5_15, e1.cpu_role.base, 'direct'), 1);
    assert.equal(f(v5_15, e1.cpu_role.base, 'level'), 3);
    const e2 = init_kvm_nested_mmu_roles(env(v6_1, {}, { is_guest_mode: true }), PAE);
    assert.equal(e2.root_role, 0);
    assert.equal(e2.guest_level, 3);
    assert.equal(f(v6_1, e2.cpu_role.base, 'guest_mode'), 1);
  });
});

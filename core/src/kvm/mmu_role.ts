/**
 * Role computation (arch/x86/kvm/mmu/mmu.c, facts §2): from the guest's role registers, SMM/guest-mode
 * and the VM's TDP parameters to the 64-bit CPU role (E1: `mmu_role`) and the page role of new roots
 * (E1: `mmu_role.base`, E2+: `root_role`). Pure functions; the model decides when to call them and what
 * to do when a role changes. Era differences are asked of `Kernel.has()` only:
 *   - `cpu_role_split` (v5.19+): `kvm_calc_cpu_role` + separate root roles; otherwise the v5.15/v5.17
 *     `kvm_calc_*_root_page_role` family that folds everything into one `mmu_role`,
 *   - `efer_lma_ext_role`, `passthrough_role`, `pge_role_bit`, `efer_lme_role_bit` as named.
 */
import type { Kernel } from '../kernel/behaviours.js';
import {
  EFER_LMA,
  EFER_NX,
  X86_CR0_PG,
  X86_CR0_WP,
  X86_CR4_LA57,
  X86_CR4_PAE,
  X86_CR4_PKE,
  X86_CR4_PSE,
  X86_CR4_SMAP,
  X86_CR4_SMEP,
  kvm_mmu_cr0_role_bits,
  kvm_mmu_cr4_role_bits,
} from '../kernel/regs.js';
import { setExtField, setRole4ByteGpte, setRoleField, getRoleField } from '../kernel/role_layout.js';
import type { VmConfig } from '../kernel/types.js';

/** Full architectural registers; masked inside as `vcpu_to_role_regs()` does. */
export interface RoleRegs {
  cr0: bigint;
  cr4: bigint;
  efer: bigint;
}

export interface RoleEnv {
  kernel: Kernel;
  vm: Readonly<VmConfig>;
  /** Guest CPUID MAXPHYADDR currently in effect (KVM_SET_CPUID may change it). */
  maxphyaddr: number;
  is_smm: boolean;
  is_guest_mode: boolean;
}

/** E1: `mmu_role` (base + ext); E2+: `cpu_role`. */
export interface CpuRole {
  base: number;
  ext: number;
}

export interface MmuRoles {
  /** What kvm_init_mmu compares (E1: mmu_role.as_u64; E2+: cpu_role.as_u64 together with root_role). */
  cpu_role: CpuRole;
  /** Page-role word new roots get (E1: mmu_role.base). */
  root_role: number;
  /** E1 mmu->root_level / E2+ cpu_role.base.level (0, 2, 3, 4, 5); for nested EPT the EPTP walk level. */
  guest_level: number;
  /** Level of KVM's root (E1 shadow_root_level / E2+ root_role.level); 0 for the walk-only nested_mmu. */
  root_level: number;
}

export const ACC_ALL = 7;

const PT32_ROOT_LEVEL = 2;
const PT32E_ROOT_LEVEL = 3;
const PT64_ROOT_4LEVEL = 4;
const PT64_ROOT_5LEVEL = 5;

// ---------------------------------------------------------------------------------------------------
// Role bits (mmu.h / x86.c, facts §2.5)

/** `vcpu_to_role_regs()`: CR0/CR4 masked to the role bits, EFER whole. */
function vcpu_to_role_regs(k: Kernel, regs: RoleRegs): RoleRegs {
  return { cr0: regs.cr0 & kvm_mmu_cr0_role_bits(k), cr4: regs.cr4 & kvm_mmu_cr4_role_bits(k), efer: regs.efer };
}

const is = (reg: bigint, bit: bigint): boolean => (reg & bit) !== 0n;
const b = (v: boolean): number => (v ? 1 : 0);

/** `role_regs_to_root_level()`: the guest's paging level, 0 when paging is off. */
export function role_regs_to_root_level(regs: RoleRegs): number {
  if (!is(regs.cr0, X86_CR0_PG)) return 0;
  if (is(regs.efer, EFER_LMA)) return is(regs.cr4, X86_CR4_LA57) ? PT64_ROOT_5LEVEL : PT64_ROOT_4LEVEL;
  if (is(regs.cr4, X86_CR4_PAE)) return PT32E_ROOT_LEVEL;
  return PT32_ROOT_LEVEL;
}

/**
 * `kvm_mmu_get_tdp_level()` with the `kvm_configure_mmu()` parameters of each vendor (facts §2.1):
 * SVM forces the host paging level; VMX uses 5-level EPT only when the CPU has it and the guest's
 * MAXPHYADDR exceeds 48 bits.
 */
export function kvm_mmu_get_tdp_level(env: RoleEnv): number {
  const { vm } = env;
  if (vm.vendor === 'amd') return vm.max_tdp_level; // tdp_root_level (forced)
  if (vm.max_tdp_level === 5 && env.maxphyaddr <= 48) return PT64_ROOT_4LEVEL;
  return vm.max_tdp_level;
}

/** `!kvm_ad_enabled()` (E1: `shadow_accessed_mask == 0`): only EPT without A/D bits. */
function tdp_ad_disabled(vm: Readonly<VmConfig>): boolean {
  return vm.tdp && vm.vendor === 'intel' && !vm.ad;
}

/** EPTP bits 5:3 hold the page-walk length minus one. */
export function eptp_walk_level(eptp: bigint): number {
  return Number((eptp >> 3n) & 7n) + 1;
}

// ---------------------------------------------------------------------------------------------------
// E1 (v5.15 … v5.17): one mmu_role (facts §2.2)

/** `kvm_calc_mmu_role_ext()` (E1 layout). */
function kvm_calc_mmu_role_ext(k: Kernel, regs: RoleRegs): number {
  let ext = 0;
  if (is(regs.cr0, X86_CR0_PG)) {
    const lma = is(regs.efer, EFER_LMA);
    ext = setExtField(k, ext, 'cr0_pg', 1);
    ext = setExtField(k, ext, 'cr4_pae', b(is(regs.cr4, X86_CR4_PAE)));
    ext = setExtField(k, ext, 'cr4_smep', b(is(regs.cr4, X86_CR4_SMEP)));
    ext = setExtField(k, ext, 'cr4_smap', b(is(regs.cr4, X86_CR4_SMAP)));
    ext = setExtField(k, ext, 'cr4_pse', b(is(regs.cr4, X86_CR4_PSE)));
    ext = setExtField(k, ext, 'cr4_pke', b(lma && is(regs.cr4, X86_CR4_PKE)));
    ext = setExtField(k, ext, 'cr4_la57', b(lma && is(regs.cr4, X86_CR4_LA57)));
    // A no-op in layouts without the bit (mainline v5.15.0): the seed-001 stale-level bug.
    if (k.has('efer_lma_ext_role')) ext = setExtField(k, ext, 'efer_lma', b(lma));
  }
  return setExtField(k, ext, 'valid', 1);
}

/** `kvm_calc_mmu_role_common()`: WP/NX only while paging is on. */
function kvm_calc_mmu_role_common(env: RoleEnv, regs: RoleRegs, base_only: boolean): CpuRole {
  const k = env.kernel;
  let base = setRoleField(k, 0, 'access', ACC_ALL);
  if (is(regs.cr0, X86_CR0_PG)) {
    base = setRoleField(k, base, 'efer_nx', b(is(regs.efer, EFER_NX)));
    base = setRoleField(k, base, 'cr0_wp', b(is(regs.cr0, X86_CR0_WP)));
  }
  base = setRoleField(k, base, 'smm', b(env.is_smm));
  base = setRoleField(k, base, 'guest_mode', b(env.is_guest_mode));
  return { base, ext: base_only ? 0 : kvm_calc_mmu_role_ext(k, regs) };
}

/** E1 `kvm_calc_tdp_mmu_root_page_role()`: guest CR0.WP/EFER.NX leak into the TDP root role. */
function e1_calc_tdp_mmu_root_page_role(env: RoleEnv, regs: RoleRegs, base_only: boolean): CpuRole {
  const k = env.kernel;
  const role = kvm_calc_mmu_role_common(env, regs, base_only);
  let base = setRoleField(k, role.base, 'ad_disabled', b(tdp_ad_disabled(env.vm)));
  base = setRoleField(k, base, 'level', kvm_mmu_get_tdp_level(env));
  base = setRoleField(k, base, 'direct', 1);
  base = setRole4ByteGpte(k, base, false);
  return { base, ext: role.ext };
}

/** E1 `kvm_calc_shadow_root_page_role_common()`: the *_andnot_wp bits come from the ext role. */
function e1_calc_shadow_root_page_role_common(env: RoleEnv, regs: RoleRegs, base_only: boolean): CpuRole {
  const k = env.kernel;
  const role = kvm_calc_mmu_role_common(env, regs, base_only);
  // With base_only the ext role is all zero, so these come out 0 (facts §3.5.1 quirk).
  const extSmep = !base_only && is(regs.cr0, X86_CR0_PG) && is(regs.cr4, X86_CR4_SMEP);
  const extSmap = !base_only && is(regs.cr0, X86_CR0_PG) && is(regs.cr4, X86_CR4_SMAP);
  const wp = is(regs.cr0, X86_CR0_WP);
  let base = setRoleField(k, role.base, 'smep_andnot_wp', b(extSmep && !wp));
  base = setRoleField(k, base, 'smap_andnot_wp', b(extSmap && !wp));
  // Bit 4 is two different predicates, not one spelled both ways (mmu.c, v5.15 vs v5.17; kernel-notes §5):
  // v5.15 gpte_is_8_bytes = PG && PAE, v5.17 has_4_byte_gpte = PG && !PAE. With paging off both are 0, which
  // in v5.15 reads "4-byte gptes" until kvm_mmu_get_page forces the bit for direct pages (mmu_alloc_root).
  const pg = is(regs.cr0, X86_CR0_PG);
  const pae = is(regs.cr4, X86_CR4_PAE);
  base = k.has('has_4_byte_gpte')
    ? setRoleField(k, base, 'has_4_byte_gpte', b(pg && !pae))
    : setRoleField(k, base, 'gpte_is_8_bytes', b(pg && pae));
  return { base, ext: role.ext };
}

/** E1 `kvm_calc_shadow_mmu_root_page_role()`. */
function e1_calc_shadow_mmu_root_page_role(env: RoleEnv, regs: RoleRegs, base_only: boolean): CpuRole {
  const k = env.kernel;
  const role = e1_calc_shadow_root_page_role_common(env, regs, base_only);
  let base = setRoleField(k, role.base, 'direct', b(!is(regs.cr0, X86_CR0_PG)));
  const level = !is(regs.efer, EFER_LMA)
    ? PT32E_ROOT_LEVEL
    : is(regs.cr4, X86_CR4_LA57)
      ? PT64_ROOT_5LEVEL
      : PT64_ROOT_4LEVEL;
  base = setRoleField(k, base, 'level', level);
  return { base, ext: role.ext };
}

// ---------------------------------------------------------------------------------------------------
// E2+ (v5.19 …): cpu_role and root_role (facts §2.3)

/** E2+ `kvm_calc_cpu_role()`. */
function e2_calc_cpu_role(env: RoleEnv, regs: RoleRegs): CpuRole {
  const k = env.kernel;
  let base = setRoleField(k, 0, 'access', ACC_ALL);
  base = setRoleField(k, base, 'smm', b(env.is_smm));
  base = setRoleField(k, base, 'guest_mode', b(env.is_guest_mode));
  let ext = setExtField(k, 0, 'valid', 1);
  if (!is(regs.cr0, X86_CR0_PG)) {
    base = setRoleField(k, base, 'direct', 1);
    return { base, ext };
  }
  const wp = is(regs.cr0, X86_CR0_WP);
  const lma = is(regs.efer, EFER_LMA);
  const smep = is(regs.cr4, X86_CR4_SMEP);
  const smap = is(regs.cr4, X86_CR4_SMAP);
  base = setRoleField(k, base, 'efer_nx', b(is(regs.efer, EFER_NX)));
  base = setRoleField(k, base, 'cr0_wp', b(wp));
  base = setRoleField(k, base, 'smep_andnot_wp', b(smep && !wp));
  base = setRoleField(k, base, 'smap_andnot_wp', b(smap && !wp));
  base = setRole4ByteGpte(k, base, !is(regs.cr4, X86_CR4_PAE));
  base = setRoleField(k, base, 'level', role_regs_to_root_level(regs));
  ext = setExtField(k, ext, 'cr4_smep', b(smep));
  ext = setExtField(k, ext, 'cr4_smap', b(smap));
  ext = setExtField(k, ext, 'cr4_pse', b(is(regs.cr4, X86_CR4_PSE)));
  ext = setExtField(k, ext, 'cr4_pke', b(lma && is(regs.cr4, X86_CR4_PKE)));
  ext = setExtField(k, ext, 'cr4_la57', b(lma && is(regs.cr4, X86_CR4_LA57)));
  if (k.has('efer_lma_ext_role')) ext = setExtField(k, ext, 'efer_lma', b(lma));
  return { base, ext };
}

/** E2+ `kvm_calc_tdp_mmu_root_page_role()`: only level, smm, guest_mode and A/D distinguish TDP roots. */
function e2_calc_tdp_mmu_root_page_role(env: RoleEnv, cpu_role: CpuRole): number {
  const k = env.kernel;
  let role = setRoleField(k, 0, 'access', ACC_ALL);
  role = setRoleField(k, role, 'cr0_wp', 1);
  role = setRoleField(k, role, 'efer_nx', 1);
  role = setRoleField(k, role, 'smm', getRoleField(k, cpu_role.base, 'smm'));
  role = setRoleField(k, role, 'guest_mode', getRoleField(k, cpu_role.base, 'guest_mode'));
  role = setRoleField(k, role, 'ad_disabled', b(tdp_ad_disabled(env.vm)));
  role = setRoleField(k, role, 'level', kvm_mmu_get_tdp_level(env));
  role = setRoleField(k, role, 'direct', 1);
  return setRole4ByteGpte(k, role, false);
}

// ---------------------------------------------------------------------------------------------------
// Public entry points, one per kernel init path

/**
 * The CPU role of the guest's current paging mode. E2+: `kvm_calc_cpu_role()`. E1 has no separate CPU
 * role: this returns the `mmu_role` root_mmu would get (TDP or shadow per `vm.tdp`).
 */
export function kvm_calc_cpu_role(env: RoleEnv, regs: RoleRegs): CpuRole {
  const r = vcpu_to_role_regs(env.kernel, regs);
  if (env.kernel.has('cpu_role_split')) return e2_calc_cpu_role(env, r);
  return env.vm.tdp ? e1_calc_tdp_mmu_root_page_role(env, r, false) : e1_calc_shadow_mmu_root_page_role(env, r, false);
}

/** `init_kvm_tdp_mmu()` (root_mmu with EPT/NPT). */
export function init_kvm_tdp_mmu_roles(env: RoleEnv, regs: RoleRegs): MmuRoles {
  const k = env.kernel;
  const r = vcpu_to_role_regs(k, regs);
  const root_level = kvm_mmu_get_tdp_level(env);
  if (!k.has('cpu_role_split')) {
    const role = e1_calc_tdp_mmu_root_page_role(env, r, false);
    return { cpu_role: role, root_role: role.base, guest_level: role_regs_to_root_level(r), root_level };
  }
  const cpu_role = e2_calc_cpu_role(env, r);
  const root_role = e2_calc_tdp_mmu_root_page_role(env, cpu_role);
  return { cpu_role, root_role, guest_level: getRoleField(k, cpu_role.base, 'level'), root_level };
}

/** `init_kvm_softmmu()` → `kvm_init_shadow_mmu()` (root_mmu, shadow paging). */
export function init_kvm_softmmu_roles(env: RoleEnv, regs: RoleRegs): MmuRoles {
  const k = env.kernel;
  const r = vcpu_to_role_regs(k, regs);
  if (!k.has('cpu_role_split')) {
    const role = e1_calc_shadow_mmu_root_page_role(env, r, false);
    return {
      cpu_role: role,
      root_role: role.base,
      guest_level: role_regs_to_root_level(r),
      root_level: getRoleField(k, role.base, 'level'),
    };
  }
  const cpu_role = e2_calc_cpu_role(env, r);
  // Shadow paging always uses PAE or 64-bit tables, and always runs with EFER.NX=1.
  const guest_level = getRoleField(k, cpu_role.base, 'level');
  let root_role = setRoleField(k, cpu_role.base, 'level', Math.max(guest_level, PT32E_ROOT_LEVEL));
  root_role = setRoleField(k, root_role, 'efer_nx', 1);
  return { cpu_role, root_role, guest_level, root_level: getRoleField(k, root_role, 'level') };
}

/**
 * `kvm_init_shadow_npt_mmu()` (guest_mmu for nSVM): nSVM passes CR0 = PG only, L1's CR4 and EFER;
 * from v5.16 (`nnpt_strips_pke`) CR4.PKE is stripped (NPT tables have no protection keys); mainline v5.15.0
 * passes L1's CR4 as is, so PKE reaches the extended role. The root level is the host NPT level; with a
 * 5-level host and a 4-level L1 the root is a `passthrough` page (v5.19+). `npt_level_of_l1` is L1's
 * paging level; the kernel derives the same value from the L1 registers, which this function does too.
 */
export function kvm_init_shadow_npt_mmu_roles(env: RoleEnv, l1: RoleRegs, npt_level_of_l1: number): MmuRoles {
  const k = env.kernel;
  const cr4 = k.has('nnpt_strips_pke') ? l1.cr4 & ~X86_CR4_PKE : l1.cr4;
  const r = vcpu_to_role_regs(k, { cr0: X86_CR0_PG, cr4, efer: l1.efer });
  const root_level = kvm_mmu_get_tdp_level(env);
  if (!k.has('cpu_role_split')) {
    const role = e1_calc_shadow_root_page_role_common(env, r, false);
    let base = setRoleField(k, role.base, 'direct', 0);
    base = setRoleField(k, base, 'level', root_level);
    return {
      cpu_role: { base, ext: role.ext },
      root_role: base,
      guest_level: role_regs_to_root_level(r),
      root_level,
    };
  }
  const cpu_role = e2_calc_cpu_role(env, r);
  const guest_level = getRoleField(k, cpu_role.base, 'level') || npt_level_of_l1;
  let root_role = setRoleField(k, cpu_role.base, 'level', root_level);
  if (root_level === PT64_ROOT_5LEVEL && guest_level === PT64_ROOT_4LEVEL) {
    root_role = setRoleField(k, root_role, 'passthrough', 1);
  }
  return { cpu_role, root_role, guest_level, root_level };
}

/**
 * `kvm_init_shadow_ept_mmu()` (guest_mmu for nVMX): the role depends only on the EPTP (walk length,
 * A/D enable = bit 6) and L1's execute-only capability; CR0/CR4/EFER are not consumed. E1 copies `smm`
 * from root_mmu's role; v5.19+ always uses smm = 0 (KVM has no SMM transfer monitor).
 */
export function kvm_init_shadow_ept_mmu_roles(
  env: RoleEnv,
  eptp: bigint,
  execonly: boolean,
  root_mmu_root_role: number,
): MmuRoles {
  const k = env.kernel;
  const level = eptp_walk_level(eptp);
  const accessed_dirty = (eptp & (1n << 6n)) !== 0n;
  let base = 0;
  if (!k.has('cpu_role_split')) base = setRoleField(k, base, 'smm', getRoleField(k, root_mmu_root_role, 'smm'));
  base = setRoleField(k, base, 'level', level);
  base = setRole4ByteGpte(k, base, false);
  base = setRoleField(k, base, 'direct', 0);
  base = setRoleField(k, base, 'ad_disabled', b(!accessed_dirty));
  base = setRoleField(k, base, 'guest_mode', 1);
  base = setRoleField(k, base, 'access', ACC_ALL);
  let ext = setExtField(k, 0, 'execonly', b(execonly));
  ext = setExtField(k, ext, 'valid', 1);
  return { cpu_role: { base, ext }, root_role: base, guest_level: level, root_level: level };
}

/**
 * `init_kvm_nested_mmu()` (nested_mmu: walks L2's page tables, never has roots). E1: the shadow-style
 * role with `direct` = 1 as a marker; E2+: only `cpu_role` is kept (root_role stays 0).
 */
export function init_kvm_nested_mmu_roles(env: RoleEnv, regs: RoleRegs): MmuRoles {
  const k = env.kernel;
  const r = vcpu_to_role_regs(k, regs);
  const guest_level = role_regs_to_root_level(r);
  if (!k.has('cpu_role_split')) {
    const role = e1_calc_shadow_root_page_role_common(env, r, false);
    let base = setRoleField(k, role.base, 'direct', 1);
    base = setRoleField(k, base, 'level', guest_level);
    return { cpu_role: { base, ext: role.ext }, root_role: base, guest_level, root_level: 0 };
  }
  const cpu_role = e2_calc_cpu_role(env, r);
  return { cpu_role, root_role: 0, guest_level, root_level: 0 };
}

/**
 * E1 `kvm_mmu_calc_root_page_role()`: the base-only role `kvm_mmu_new_pgd` compares cached roots with,
 * computed from the vCPU's current registers. In base-only mode the ext bits are never filled, so a
 * shadow role's smep_andnot_wp/smap_andnot_wp are always 0 here (facts §3.5.1).
 */
export function kvm_mmu_calc_root_page_role(env: RoleEnv, regs: RoleRegs): number {
  const r = vcpu_to_role_regs(env.kernel, regs);
  return env.vm.tdp
    ? e1_calc_tdp_mmu_root_page_role(env, r, true).base
    : e1_calc_shadow_mmu_root_page_role(env, r, true).base;
}

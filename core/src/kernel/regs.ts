/**
 * Architectural register bits the scenario language names (SDM vol. 3 §2.5, APM vol. 2 §3.1).
 * One table feeds the parser (flag names → values), hover (what a flag is) and the model.
 */
import type { Kernel } from './behaviours.js';
export type RegName = 'cr0' | 'cr3' | 'cr4' | 'efer';
export type FlagRegName = 'cr0' | 'cr4' | 'efer';

export interface FlagInfo {
  readonly name: string;
  readonly bit: number;
  readonly title: string;
}

const flag = (name: string, bit: number, title: string): FlagInfo => ({ name, bit, title });

export const CR0_FLAGS: readonly FlagInfo[] = [
  flag('PE', 0, 'Protection Enable'),
  flag('MP', 1, 'Monitor Coprocessor'),
  flag('EM', 2, 'Emulation'),
  flag('TS', 3, 'Task Switched'),
  flag('ET', 4, 'Extension Type'),
  flag('NE', 5, 'Numeric Error'),
  flag('WP', 16, 'Write Protect'),
  flag('AM', 18, 'Alignment Mask'),
  flag('NW', 29, 'Not Write-through'),
  flag('CD', 30, 'Cache Disable'),
  flag('PG', 31, 'Paging'),
];

export const CR4_FLAGS: readonly FlagInfo[] = [
  flag('VME', 0, 'Virtual-8086 Mode Extensions'),
  flag('PVI', 1, 'Protected-Mode Virtual Interrupts'),
  flag('TSD', 2, 'Time Stamp Disable'),
  flag('DE', 3, 'Debugging Extensions'),
  flag('PSE', 4, 'Page Size Extensions'),
  flag('PAE', 5, 'Physical Address Extension'),
  flag('MCE', 6, 'Machine-Check Enable'),
  flag('PGE', 7, 'Page Global Enable'),
  flag('PCE', 8, 'Performance-Monitoring Counter Enable'),
  flag('OSFXSR', 9, 'OS support for FXSAVE/FXRSTOR'),
  flag('OSXMMEXCPT', 10, 'OS support for unmasked SIMD FP exceptions'),
  flag('UMIP', 11, 'User-Mode Instruction Prevention'),
  flag('LA57', 12, '57-bit linear addresses (5-level paging)'),
  flag('VMXE', 13, 'VMX Enable'),
  flag('SMXE', 14, 'SMX Enable'),
  flag('FSGSBASE', 16, 'RDFSBASE/WRFSBASE enable'),
  flag('PCIDE', 17, 'Process-Context Identifiers Enable'),
  flag('OSXSAVE', 18, 'XSAVE and processor extended states enable'),
  flag('SMEP', 20, 'Supervisor-Mode Execution Prevention'),
  flag('SMAP', 21, 'Supervisor-Mode Access Prevention'),
  flag('PKE', 22, 'Protection Keys for user pages'),
  flag('CET', 23, 'Control-flow Enforcement Technology'),
  flag('PKS', 24, 'Protection Keys for supervisor pages'),
];

export const EFER_FLAGS: readonly FlagInfo[] = [
  flag('SCE', 0, 'System Call Extensions'),
  flag('LME', 8, 'Long Mode Enable'),
  flag('LMA', 10, 'Long Mode Active (set by the CPU when CR0.PG=1 with LME=1)'),
  flag('NX', 11, 'No-Execute Enable'),
  flag('SVME', 12, 'Secure Virtual Machine Enable'),
];

export const FLAGS: Readonly<Record<FlagRegName, readonly FlagInfo[]>> = {
  cr0: CR0_FLAGS,
  cr4: CR4_FLAGS,
  efer: EFER_FLAGS,
};

/** Bit mask of a named flag, e.g. `bit('cr0', 'WP') === 1n << 16n`. Throws only on a programming error. */
export function bit(reg: FlagRegName, name: string): bigint {
  const f = FLAGS[reg].find((x) => x.name === name);
  if (!f) throw new Error(`no flag ${reg}.${name}`);
  return 1n << BigInt(f.bit);
}

/** Case-insensitive lookup used by the parser. */
export function findFlag(reg: FlagRegName, name: string): FlagInfo | undefined {
  const upper = name.toUpperCase();
  return FLAGS[reg].find((x) => x.name === upper);
}

export const X86_CR0_PE = 1n << 0n;
export const X86_CR0_TS = 1n << 3n;
export const X86_CR0_MP = 1n << 1n;
export const X86_CR0_WP = 1n << 16n;
export const X86_CR0_CD = 1n << 30n;
export const X86_CR0_PG = 1n << 31n;
export const X86_CR4_PSE = 1n << 4n;
export const X86_CR4_PAE = 1n << 5n;
export const X86_CR4_PGE = 1n << 7n;
export const X86_CR4_LA57 = 1n << 12n;
export const X86_CR4_VMXE = 1n << 13n;
export const X86_CR4_PCIDE = 1n << 17n;
export const X86_CR4_SMEP = 1n << 20n;
export const X86_CR4_SMAP = 1n << 21n;
export const X86_CR4_PKE = 1n << 22n;
export const EFER_SCE = 1n << 0n;
export const EFER_LME = 1n << 8n;
export const EFER_LMA = 1n << 10n;
export const EFER_NX = 1n << 11n;
export const EFER_SVME = 1n << 12n;
/** CR3 bit 63: with CR4.PCIDE=1, "do not flush this PCID". */
export const X86_CR3_PCID_NOFLUSH = 1n << 63n;

// ---------------------------------------------------------------------------------------------------
// Which register bits are MMU role bits on a kernel (mmu.h KVM_MMU_*_ROLE_BITS; docs/kernel-notes.md)

/** KVM_MMU_CR0_ROLE_BITS: PG | WP in every era. */
export function kvm_mmu_cr0_role_bits(_k: Kernel): bigint {
  return X86_CR0_PG | X86_CR0_WP;
}

/** KVM_MMU_CR4_ROLE_BITS: PSE | PAE | LA57 | SMEP | SMAP | PKE, plus PGE with `pge_role_bit`. */
export function kvm_mmu_cr4_role_bits(k: Kernel): bigint {
  const bits = X86_CR4_PSE | X86_CR4_PAE | X86_CR4_LA57 | X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PKE;
  return k.has('pge_role_bit') ? bits | X86_CR4_PGE : bits;
}

/** KVM_MMU_EFER_ROLE_BITS: LME | NX with `efer_lme_role_bit`, else only NX resets the MMU. */
export function kvm_mmu_efer_role_bits(k: Kernel): bigint {
  return k.has('efer_lme_role_bit') ? EFER_LME | EFER_NX : EFER_NX;
}

/**
 * CPUID feature bits the MMU depends on, as the `cpuid` statement names them, with the CR4/EFER bit each one
 * makes usable (`__cr4_reserved_bits` / `__kvm_valid_efer` consult `guest_cpuid_has`).
 */
export const CPUID_FEATURES = ['pku', 'la57', 'pcid', 'nx', 'smep', 'smap'] as const;
export type CpuidFeature = (typeof CPUID_FEATURES)[number];
export const CPUID_FEATURE_BIT: Readonly<Record<CpuidFeature, { reg: 'cr4' | 'efer'; bit: bigint; name: string }>> = {
  pku: { reg: 'cr4', bit: X86_CR4_PKE, name: 'CR4.PKE' },
  la57: { reg: 'cr4', bit: X86_CR4_LA57, name: 'CR4.LA57' },
  pcid: { reg: 'cr4', bit: X86_CR4_PCIDE, name: 'CR4.PCIDE' },
  nx: { reg: 'efer', bit: EFER_NX, name: 'EFER.NX' },
  smep: { reg: 'cr4', bit: X86_CR4_SMEP, name: 'CR4.SMEP' },
  smap: { reg: 'cr4', bit: X86_CR4_SMAP, name: 'CR4.SMAP' },
};

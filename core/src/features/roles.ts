/**
 * The one place features call the role decoder (core/src/kvm/role.ts) and the role-bit masks
 * (core/src/kvm/mmu_role.ts), so a change in their signatures touches one file.
 */
import type { Kernel } from '../kernel/behaviours.js';
import type { FlagRegName } from '../kernel/regs.js';
import { decodeCpuRole, decodePageRole, summarizePageRole } from '../kernel/role_layout.js';
import { kvm_mmu_cr0_role_bits, kvm_mmu_cr4_role_bits, kvm_mmu_efer_role_bits } from '../kernel/regs.js';

export interface RoleField {
  name: string;
  lsb: number;
  width: number;
  doc: string;
  value: number;
}

export interface DecodedPageRole {
  fields: RoleField[];
  unknownBits: bigint;
}

function toBigInt(word: string | bigint): bigint | undefined {
  if (typeof word === 'bigint') return word;
  try {
    return BigInt(word);
  } catch {
    return undefined;
  }
}

export function pageRole(kernel: Kernel, word: string | bigint): DecodedPageRole | undefined {
  const w = toBigInt(word);
  if (w === undefined || w < 0n || w > 0xffff_ffffn) return undefined;
  const d = decodePageRole(kernel, Number(w));
  return { fields: d.fields.map((f) => ({ ...f })), unknownBits: BigInt(d.unknownBits >>> 0) };
}

export function cpuRole(
  kernel: Kernel,
  word: string | bigint,
): { base: DecodedPageRole; ext: DecodedPageRole } | undefined {
  const w = toBigInt(word);
  if (w === undefined || w < 0n || w > 0xffff_ffff_ffff_ffffn) return undefined;
  const d = decodeCpuRole(kernel, w);
  const conv = (x: typeof d.base): DecodedPageRole => ({
    fields: x.fields.map((f) => ({ ...f })),
    unknownBits: BigInt(x.unknownBits >>> 0),
  });
  return { base: conv(d.base), ext: conv(d.ext) };
}

/** "4-level SMM" style summary of a page-role word; empty when the word is not a number. */
export function roleSummary(kernel: Kernel, word: string | bigint): string {
  const w = toBigInt(word);
  if (w === undefined || w < 0n || w > 0xffff_ffffn) return '';
  return summarizePageRole(kernel, Number(w));
}

/** Field names of the page role on this kernel, for `root.role.<field>` completion. */
export function pageRoleFieldNames(kernel: Kernel): string[] {
  return pageRole(kernel, 0n)?.fields.map((f) => f.name) ?? [];
}

/** Whether toggling this flag changes the MMU role on this kernel (KVM_MMU_CR0/CR4/EFER_ROLE_BITS). */
export function isRoleBit(kernel: Kernel, reg: FlagRegName, mask: bigint): boolean {
  const bits =
    reg === 'cr0'
      ? kvm_mmu_cr0_role_bits(kernel)
      : reg === 'cr4'
        ? kvm_mmu_cr4_role_bits(kernel)
        : kvm_mmu_efer_role_bits(kernel);
  return (bits & mask) !== 0n;
}

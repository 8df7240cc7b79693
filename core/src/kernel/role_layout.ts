/**
 * Role words: `union kvm_mmu_page_role` and `union kvm_mmu_extended_role` (arch/x86/include/asm/kvm_host.h)
 * laid out bit by bit per era, with encode/decode helpers. A layout is chosen only through `Kernel.has()`:
 *   - bit 4: `gpte_is_8_bytes` (v5.15) or `has_4_byte_gpte` (`has_4_byte_gpte`, v5.17+). They are not plain
 *     inverses: with paging off v5.15 has 0 (forced to 1 only in direct pages) and v5.17+ has 0 too,
 *   - bit 18: `passthrough` (`passthrough_role`), bit 19: `is_mirror` (`is_mirror_role`),
 *   - extended role: the v5.15/v5.17 layout with `cr0_pg`/`cr4_pae` (and `efer_lma` at bit 9 with
 *     `efer_lma_ext_role`), or the v5.19+ layout without them (`cpu_role_split`).
 * C bitfields in a u32 are allocated from bit 0 upward on x86 (facts §1), so `lsb` counts from the
 * least-significant bit. Role words are unsigned 32-bit numbers; 64-bit roles keep `base` in the low half.
 */
import type { BehaviourName, Kernel } from './behaviours.js';

export type PageRoleField =
  | 'level'
  | 'has_4_byte_gpte'
  | 'gpte_is_8_bytes'
  | 'quadrant'
  | 'direct'
  | 'access'
  | 'invalid'
  | 'efer_nx'
  | 'cr0_wp'
  | 'smep_andnot_wp'
  | 'smap_andnot_wp'
  | 'ad_disabled'
  | 'guest_mode'
  | 'passthrough'
  | 'is_mirror'
  | 'smm';

export type ExtRoleField =
  | 'valid'
  | 'execonly'
  | 'cr0_pg'
  | 'cr4_pae'
  | 'cr4_pse'
  | 'cr4_pke'
  | 'cr4_smap'
  | 'cr4_smep'
  | 'cr4_la57'
  | 'efer_lma';

export interface FieldLayout {
  name: string;
  lsb: number;
  width: number;
  /** One line: what the field means. */
  doc: string;
}

export interface DecodedField extends FieldLayout {
  value: number;
}

export interface DecodedRole {
  fields: DecodedField[];
  /** Set bits outside every named field (padding in this era's layout). */
  unknownBits: number;
}

const field = (name: string, lsb: number, width: number, doc: string): FieldLayout => ({ name, lsb, width, doc });

// ---------------------------------------------------------------------------------------------------
// Page role (facts §1.1)

const PAGE_LEVEL = field('level', 0, 4, 'paging level of this page table (root: 5/4 for 64-bit, 3 for PAE roots)');
const PAGE_GPTE_IS_8_BYTES = field(
  'gpte_is_8_bytes',
  4,
  1,
  'the guest page table it shadows has 8-byte entries (PAE/64-bit or TDP); 0 for 32-bit non-PAE paging',
);
const PAGE_HAS_4_BYTE_GPTE = field(
  'has_4_byte_gpte',
  4,
  1,
  'the guest page table it shadows has 4-byte entries (32-bit non-PAE paging); 0 for PAE/64-bit and TDP',
);
const PAGE_COMMON_LOW: readonly FieldLayout[] = [
  field('quadrant', 5, 2, 'which part of a 32-bit guest table this page shadows (4-byte gptes only)'),
  field('direct', 7, 1, 'maps guest physical memory directly (TDP or paging off), no guest table behind it'),
  field('access', 8, 3, 'access rights inherited from upper levels (ACC_ALL = 7 for roots)'),
  field('invalid', 11, 1, 'the page was zapped/invalidated; lookups never match it'),
  field('efer_nx', 12, 1, 'EFER.NX was on (v5.19+ TDP and shadow roots: constant 1)'),
  field('cr0_wp', 13, 1, 'CR0.WP was on (v5.19+ TDP roots: constant 1)'),
  field('smep_andnot_wp', 14, 1, 'CR4.SMEP=1 and CR0.WP=0'),
  field('smap_andnot_wp', 15, 1, 'CR4.SMAP=1 and CR0.WP=0'),
  field('ad_disabled', 16, 1, 'accessed/dirty bits are not used (EPT without A/D)'),
  field('guest_mode', 17, 1, 'built while L2 was running (is_guest_mode)'),
];
const PAGE_PASSTHROUGH = field(
  'passthrough',
  18,
  1,
  'a 5-level nested-NPT root with no L1 table behind it (shadows a 4-level L1 NPT)',
);
const PAGE_IS_MIRROR = field('is_mirror', 19, 1, 'a TDX mirror root (mirrors the S-EPT, never loaded into hardware)');
const PAGE_SMM = field('smm', 24, 8, 'SMM address space (kvm_mmu_role_as_id); only 0/1 are used');

// ---------------------------------------------------------------------------------------------------
// Extended role (facts §1.2)

const EXT_E1: readonly FieldLayout[] = [
  field('valid', 0, 1, 'the role was computed (cleared to force a re-init, e.g. after KVM_SET_CPUID)'),
  field('execonly', 1, 1, 'nested EPT: L1 may create execute-only mappings'),
  field('cr0_pg', 2, 1, 'CR0.PG'),
  field('cr4_pae', 3, 1, 'CR4.PAE (only with CR0.PG)'),
  field('cr4_pse', 4, 1, 'CR4.PSE (only with CR0.PG)'),
  field('cr4_pke', 5, 1, 'CR4.PKE with EFER.LMA'),
  field('cr4_smap', 6, 1, 'CR4.SMAP (only with CR0.PG)'),
  field('cr4_smep', 7, 1, 'CR4.SMEP (only with CR0.PG)'),
  field('cr4_la57', 8, 1, 'CR4.LA57 with EFER.LMA'),
];
const EXT_E1_EFER_LMA = field('efer_lma', 9, 1, 'EFER.LMA (only with CR0.PG): 64-bit paging');
const EXT_SPLIT: readonly FieldLayout[] = [
  field('valid', 0, 1, 'the role was computed (cleared to force a re-init, e.g. after KVM_SET_CPUID)'),
  field('execonly', 1, 1, 'nested EPT: L1 may create execute-only mappings'),
  field('cr4_pse', 2, 1, 'CR4.PSE'),
  field('cr4_pke', 3, 1, 'CR4.PKE with EFER.LMA'),
  field('cr4_smap', 4, 1, 'CR4.SMAP'),
  field('cr4_smep', 5, 1, 'CR4.SMEP'),
  field('cr4_la57', 6, 1, 'CR4.LA57 with EFER.LMA'),
  field('efer_lma', 7, 1, 'EFER.LMA: 64-bit paging'),
];

// ---------------------------------------------------------------------------------------------------
// Layout selection: resolved once per kernel (makeKernel), like its eras

/** A kernel's role layouts, with its fields by name (role computations look fields up on every step). */
export interface RoleLayouts {
  readonly page: readonly FieldLayout[];
  readonly ext: readonly FieldLayout[];
  readonly pageFields: ReadonlyMap<string, FieldLayout>;
  readonly extFields: ReadonlyMap<string, FieldLayout>;
}

/** The layouts of a kernel whose behaviours are `has`: called once per kernel, by makeKernel. */
export function resolveRoleLayouts(has: (name: BehaviourName) => boolean): RoleLayouts {
  const four = has('has_4_byte_gpte');
  const pt = has('passthrough_role');
  const mirror = has('is_mirror_role');
  const page = Object.freeze([
    PAGE_LEVEL,
    four ? PAGE_HAS_4_BYTE_GPTE : PAGE_GPTE_IS_8_BYTES,
    ...PAGE_COMMON_LOW,
    ...(pt ? [PAGE_PASSTHROUGH] : []),
    ...(mirror ? [PAGE_IS_MIRROR] : []),
    PAGE_SMM,
  ]);
  const lma = has('efer_lma_ext_role');
  const ext = Object.freeze(has('cpu_role_split') ? [...EXT_SPLIT] : lma ? [...EXT_E1, EXT_E1_EFER_LMA] : [...EXT_E1]);
  return Object.freeze({
    page,
    ext,
    pageFields: new Map(page.map((f) => [f.name, f])),
    extFields: new Map(ext.map((f) => [f.name, f])),
  });
}

export function pageRoleLayout(k: Kernel): readonly FieldLayout[] {
  return k.roleLayouts.page;
}

export function extRoleLayout(k: Kernel): readonly FieldLayout[] {
  return k.roleLayouts.ext;
}

// ---------------------------------------------------------------------------------------------------
// Field access

function mask(f: FieldLayout): number {
  return ((f.width >= 32 ? 0xffffffff : (1 << f.width) - 1) << f.lsb) >>> 0;
}

function read(word: number, f: FieldLayout): number {
  return ((word >>> 0) & mask(f)) >>> f.lsb;
}

function write(word: number, f: FieldLayout, v: number): number {
  const m = mask(f);
  return (((word >>> 0) & ~m) | ((v << f.lsb) & m)) >>> 0;
}

function pageField(k: Kernel, name: string): FieldLayout | undefined {
  return k.roleLayouts.pageFields.get(name);
}

function extField(k: Kernel, name: string): FieldLayout | undefined {
  return k.roleLayouts.extFields.get(name);
}

/** 0 if the field does not exist in this kernel's layout. */
export function getRoleField(k: Kernel, word: number, f: PageRoleField): number {
  const lf = pageField(k, f);
  return lf ? read(word, lf) : 0;
}

/** Unsigned 32-bit result; the word is returned unchanged if the field does not exist in this era. */
export function setRoleField(k: Kernel, word: number, f: PageRoleField, v: number): number {
  const lf = pageField(k, f);
  return lf ? write(word, lf, v) : word >>> 0;
}

/** 0 if the field does not exist in this kernel's extended-role layout. */
export function getExtField(k: Kernel, ext: number, f: ExtRoleField): number {
  const lf = extField(k, f);
  return lf ? read(ext, lf) : 0;
}

/** Unsigned 32-bit result; unchanged if the field does not exist in this era. */
export function setExtField(k: Kernel, ext: number, f: ExtRoleField, v: number): number {
  const lf = extField(k, f);
  return lf ? write(ext, lf, v) : ext >>> 0;
}

/**
 * True when the page role describes 4-byte guest PTEs, whichever way bit 4 is spelled in this era
 * (`has_4_byte_gpte` = 1, or `gpte_is_8_bytes` = 0).
 */
export function roleHas4ByteGpte(k: Kernel, word: number): boolean {
  return k.has('has_4_byte_gpte')
    ? getRoleField(k, word, 'has_4_byte_gpte') === 1
    : getRoleField(k, word, 'gpte_is_8_bytes') === 0;
}

/** Sets bit 4 to say "4-byte guest PTEs" (or not) in this era's spelling. */
export function setRole4ByteGpte(k: Kernel, word: number, fourByte: boolean): number {
  return k.has('has_4_byte_gpte')
    ? setRoleField(k, word, 'has_4_byte_gpte', fourByte ? 1 : 0)
    : setRoleField(k, word, 'gpte_is_8_bytes', fourByte ? 0 : 1);
}

function decodeWith(layout: readonly FieldLayout[], word: number): DecodedRole {
  let known = 0;
  const fields = layout.map((f) => {
    known = (known | mask(f)) >>> 0;
    return { ...f, value: read(word, f) };
  });
  return { fields, unknownBits: ((word >>> 0) & ~known) >>> 0 };
}

export function decodePageRole(k: Kernel, word: number): DecodedRole {
  return decodeWith(pageRoleLayout(k), word);
}

export function decodeExtRole(k: Kernel, ext: number): DecodedRole {
  return decodeWith(extRoleLayout(k), ext);
}

/** A 64-bit role (E1 `mmu_role.as_u64`, E2+ `cpu_role.as_u64`): base in bits 31:0, ext in 63:32. */
export function decodeCpuRole(k: Kernel, value: bigint): { base: DecodedRole; ext: DecodedRole } {
  const v = BigInt.asUintN(64, value);
  const base = Number(v & 0xffffffffn);
  const ext = Number(v >> 32n);
  return { base: decodePageRole(k, base), ext: decodeExtRole(k, ext) };
}

/** Splits a 64-bit role into its two words. */
export function splitCpuRole(value: bigint): { base: number; ext: number } {
  const v = BigInt.asUintN(64, value);
  return { base: Number(v & 0xffffffffn), ext: Number(v >> 32n) };
}

/** The 64-bit value of a role pair: `base | ext << 32`. */
export function cpuRoleValue(base: number, ext: number): bigint {
  return (BigInt(ext >>> 0) << 32n) | BigInt(base >>> 0);
}

// ---------------------------------------------------------------------------------------------------
// Text

function levelName(level: number): string {
  switch (level) {
    case 5:
      return '5-level';
    case 4:
      return '4-level';
    case 3:
      return 'PAE-level';
    case 2:
      return '2-level';
    default:
      return `level-${level}`;
  }
}

/**
 * A short description for hints and the panel, e.g. "4-level direct SMM", "4-level direct !SMM guest_mode",
 * "PAE-level indirect wp nx quadrant 2". SMM is always named (it selects the address space). WP/NX are
 * named where they distinguish roots: indirect roots, and direct roots before `cpu_role_split` (v5.19
 * made them constant 1 in TDP roles).
 */
export function summarizePageRole(k: Kernel, word: number): string {
  const get = (f: PageRoleField) => getRoleField(k, word, f);
  const direct = get('direct') === 1;
  const parts = [levelName(get('level')), direct ? 'direct' : 'indirect', get('smm') ? 'SMM' : '!SMM'];
  if (get('guest_mode')) parts.push('guest_mode');
  if (!direct || !k.has('cpu_role_split')) {
    if (get('cr0_wp')) parts.push('wp');
    if (get('efer_nx')) parts.push('nx');
  }
  if (get('smep_andnot_wp')) parts.push('smep&!wp');
  if (get('smap_andnot_wp')) parts.push('smap&!wp');
  if (roleHas4ByteGpte(k, word) && !direct) parts.push('4-byte gptes');
  const quadrant = get('quadrant');
  if (quadrant) parts.push(`quadrant ${quadrant}`);
  if (get('ad_disabled')) parts.push('ad_disabled'); // the field's name: `!ad` read as "not A/D"
  if (get('passthrough')) parts.push('passthrough');
  if (get('is_mirror')) parts.push('mirror');
  const access = get('access');
  if (access !== 7) parts.push(`access ${access}`);
  if (get('invalid')) parts.push('invalid');
  return parts.join(' ');
}

/** "0x%08x" */
export function formatRole(word: number): string {
  return `0x${(word >>> 0).toString(16).padStart(8, '0')}`;
}

/** "0x%016x" with `ext` in the high 32 bits (facts §1.3). */
export function formatCpuRole(base: number, ext: number): string {
  return `0x${cpuRoleValue(base, ext).toString(16).padStart(16, '0')}`;
}

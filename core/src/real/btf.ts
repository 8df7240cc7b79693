/**
 * Struct offsets for kvmmu's kprobes, read from `pahole` output of the running kernel's BTF (never written by
 * hand: they differ per build, e.g. `kvm_mmu.root` is at 56 on Debian's 6.1.192 and 48 on 6.12.117).
 *
 * Input: the text of `pahole -C kvm_vcpu,kvm_vcpu_arch,kvm_mmu,kvm_mmu_root_info,kvm_mmu_page` over kvm.ko's BTF
 * (with `--btf_base` the vmlinux BTF). Members print as `TYPE NAME; /* OFFSET SIZE *\/`, members of anonymous
 * unions with their offset in the enclosing struct.
 */

export interface ProbeOffsets {
  /** offsetof(struct kvm_vcpu, arch.mmu): the pointer to the active MMU. */
  vcpuMmu: number;
  /** offsetof(struct kvm_mmu, root.hpa). */
  mmuRootHpa: number;
  /** offsetof(struct kvm_mmu, root_role). */
  mmuRootRole: number;
  /** offsetof(struct kvm_mmu, prev_roots[i].hpa) for i = 0, 1, 2. */
  mmuPrevHpa: [number, number, number];
  /** offsetof(struct kvm_mmu_page, role / gfn / root_count). */
  spRole: number;
  spGfn: number;
  spRootCount: number;
}

export const PAHOLE_STRUCTS = ['kvm_vcpu', 'kvm_vcpu_arch', 'kvm_mmu', 'kvm_mmu_root_info', 'kvm_mmu_page'];

/** Members of every struct in pahole's output: struct → member → {offset, size}. */
export function parsePahole(text: string): Map<string, Map<string, { offset: number; size: number }>> {
  const structs = new Map<string, Map<string, { offset: number; size: number }>>();
  let current: Map<string, { offset: number; size: number }> | undefined;
  let sizeOf: Map<string, { offset: number; size: number }> | undefined;
  for (const line of text.split('\n')) {
    const open = /^struct (\w+) \{/.exec(line);
    if (open) {
      current = new Map();
      sizeOf = current;
      structs.set(open[1]!, current);
      continue;
    }
    if (!current) continue;
    if (/^\};/.test(line)) {
      current = undefined;
      continue;
    }
    const size = /\/\* size: (\d+),/.exec(line);
    if (size && sizeOf) sizeOf.set('(size)', { offset: 0, size: Number(size[1]) });
    const m = /[\s*](\w+)(?:\[\d+\])?(?::\d+)?;\s+\/\*\s+(\d+)(?::\d+)?\s+(\d+)\s+\*\//.exec(line);
    if (m && !current.has(m[1]!)) current.set(m[1]!, { offset: Number(m[2]), size: Number(m[3]) });
  }
  return structs;
}

/** The offsets kvmmu's probes need, or the name of what pahole's output lacks. */
export function probeOffsets(paholeText: string): ProbeOffsets | { missing: string } {
  const s = parsePahole(paholeText);
  const get = (struct: string, member: string): number | undefined => s.get(struct)?.get(member)?.offset;
  const need: [string, string][] = [
    ['kvm_vcpu', 'arch'],
    ['kvm_vcpu_arch', 'mmu'],
    ['kvm_mmu', 'root'],
    ['kvm_mmu', 'root_role'],
    ['kvm_mmu', 'prev_roots'],
    ['kvm_mmu_root_info', 'hpa'],
    ['kvm_mmu_page', 'role'],
    ['kvm_mmu_page', 'gfn'],
  ];
  for (const [st, m] of need) if (get(st, m) === undefined) return { missing: `${st}.${m}` };
  const count = get('kvm_mmu_page', 'tdp_mmu_root_count') ?? get('kvm_mmu_page', 'root_count');
  if (count === undefined) return { missing: 'kvm_mmu_page.root_count' };
  const infoSize = s.get('kvm_mmu_root_info')?.get('(size)')?.size ?? 16;
  const hpa = get('kvm_mmu_root_info', 'hpa')!;
  const prev = get('kvm_mmu', 'prev_roots')!;
  return {
    vcpuMmu: get('kvm_vcpu', 'arch')! + get('kvm_vcpu_arch', 'mmu')!,
    mmuRootHpa: get('kvm_mmu', 'root')! + hpa,
    mmuRootRole: get('kvm_mmu', 'root_role')!,
    mmuPrevHpa: [prev + hpa, prev + infoSize + hpa, prev + 2 * infoSize + hpa],
    spRole: get('kvm_mmu_page', 'role')!,
    spGfn: get('kvm_mmu_page', 'gfn')!,
    spRootCount: count,
  };
}

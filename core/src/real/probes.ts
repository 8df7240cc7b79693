/**
 * kvmmu's kprobes and tracepoints, for the driver's runs and for `kvmmu capture`. Each kprobe is one line of
 * tracefs `kprobe_events` (group `kvmmu`); a definition whose function this kernel does not have (e.g. 6.1's
 * kvm_tdp_mmu_get_vcpu_root_hpa became kvm_tdp_mmu_alloc_root in 6.12) is refused by the kernel and skipped.
 * Arguments follow the x86-64 calling convention (%di, %si, %dx, %cx, %r8); struct fields use BTF offsets.
 */
import type { ProbeOffsets } from './btf.js';

export function kprobeDefinitions(o: ProbeOffsets): string[] {
  const mmu = (off: number): string => `+${off}(+${o.vcpuMmu}(%di))`;
  const sp = (reg: string): string =>
    `sp=${reg}:x64 role=+${o.spRole}(${reg}):x32 gfn=+${o.spGfn}(${reg}):x64 count=+${o.spRootCount}(${reg}):s32`;
  const defs: string[] = [];
  for (const fn of ['kvm_tdp_mmu_get_vcpu_root_hpa', 'kvm_tdp_mmu_alloc_root']) {
    defs.push(`p:kvmmu/tdp_get ${fn} role=${mmu(o.mmuRootRole)}:x32`);
    defs.push(`r:kvmmu/tdp_get_ret ${fn} ret=$retval:x64`);
  }
  defs.push(
    'p:kvmmu/tdp_init tdp_mmu_init_sp sp=%di:x64',
    `p:kvmmu/tdp_put kvm_tdp_mmu_put_root ${sp('%si')}`,
    'p:kvmmu/alloc_root mmu_alloc_root gfn=%si:x64 level=%cx:u8',
    'r:kvmmu/alloc_root_ret mmu_alloc_root ret=$retval:x64',
    `r:kvmmu/get_sp_ret __kvm_mmu_get_shadow_page ${sp('$retval')}`,
    `p:kvmmu/zap_sp __kvm_mmu_prepare_zap_page ${sp('%si')}`,
    `p:kvmmu/new_pgd kvm_mmu_new_pgd pgd=%si:x64 root=${mmu(o.mmuRootHpa)}:x64 ` +
      o.mmuPrevHpa.map((off, i) => `p${i}=${mmu(off)}:x64`).join(' '),
    'p:kvmmu/load_pgd svm_load_mmu_pgd root=%si:x64',
    'p:kvmmu/load_pgd vmx_load_mmu_pgd root=%si:x64',
    'p:kvmmu/free_roots kvm_mmu_free_roots mmu=%si:x64 mask=%dx:x32',
  );
  return defs;
}

/** Tracepoints kvmmu enables beside its kprobes (the first two name what `kvmmu trace` rebuilds). */
export const TRACEPOINTS = [
  'kvm/kvm_smm_transition',
  'kvm/kvm_cr',
  'kvm/kvm_nested_vmrun',
  'kvm/kvm_nested_vmenter',
  'kvm/kvm_nested_vmexit_inject',
  'kvmmmu/kvm_mmu_get_page',
  'kvm/kvm_inj_exception',
];

/** Shell commands that set up kvmmu's capture on a kernel with these offsets (`kvmmu capture`). */
export function captureCommands(o: ProbeOffsets, tracefs = '/sys/kernel/tracing'): string[] {
  const lines = [
    `T=${tracefs}`,
    'echo 0 > $T/tracing_on',
    "echo '-:kvmmu/*' >> $T/kprobe_events 2>/dev/null  # drop an earlier capture's probes",
  ];
  for (const d of kprobeDefinitions(o)) lines.push(`echo '${d}' >> $T/kprobe_events 2>/dev/null || true`);
  lines.push('echo 1 > $T/events/kvmmu/enable');
  for (const t of TRACEPOINTS) lines.push(`[ -d $T/events/${t} ] && echo 1 > $T/events/${t}/enable`);
  lines.push(
    'echo 8192 > $T/buffer_size_kb',
    'echo > $T/trace',
    'echo 1 > $T/tracing_on',
    '# … run your VM; optionally mark scenario lines: echo "kvmmu: line 12" > $T/trace_marker',
    'echo 0 > $T/tracing_on',
    'cat $T/trace > kvmmu-capture.txt',
  );
  return lines;
}

/**
 * The counters a scenario can read (`expect stats.<name>`) and every view shows: the statistics KVM keeps that
 * follow from roots (kvm_host.h struct kvm_vm_stat: mmu_cache_miss, mmu_shadow_zapped, mmu_pte_write, mmu_flooded,
 * mmu_recycled,
 * remote_tlb_flush_requests)
 * and the model's own root counters.
 */
export const STAT_NAMES = [
  'roots_allocated',
  'roots_freed',
  'root_reuses',
  'prev_root_hits',
  'mmu_cache_miss',
  'mmu_shadow_zapped',
  'mmu_pte_write',
  'mmu_flooded',
  'mmu_recycled',
  'remote_tlb_flush_requests',
  'tlb_flush',
] as const;

export type StatName = (typeof STAT_NAMES)[number];

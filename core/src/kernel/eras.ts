/**
 * Eras: per subsystem, which generation of KVM's code a kernel runs. A kernel's behaviours decide its eras once
 * (`resolveEras`, called by `makeKernel`); the model switches on an era where a subsystem's history is a chain
 * of reworks, so each era's code reads as one kernel version's does.
 *
 * Every combination of behaviours that `resolveKernel` accepts maps to exactly one era per subsystem (a test
 * checks this over every profile and every valid single modification).
 */

/** The TDP MMU's root lifecycle: who holds references to a root, and who zaps an invalidated one. */
export type TdpRootsEra = 'vcpu_refs' | 'async_zap' | 'async_zap_own_ref' | 'sync_zap_own_ref';
/** How roles are computed: one mmu_role with an extended part, or cpu_role split from root_role. */
export type RolesEra = 'mmu_role_8_byte_gpte' | 'mmu_role_4_byte_gpte' | 'cpu_role_split';
/** How a CR3 switch looks for a cached root (fast_pgd_switch). */
export type PrevRootsEra = 'base_role' | 'root_role' | 'root_role_without_current';
/** What a CR4.PCIDE change and a flushing CR3 write with PCIDE=0 do. */
export type PcidEra = 'pcid0_wipes_prev_roots' | 'pcide_reload' | 'flush_requests' | 'mixed';

export interface Eras {
  readonly tdp_roots: TdpRootsEra;
  readonly roles: RolesEra;
  readonly prev_roots: PrevRootsEra;
  readonly pcid: PcidEra;
}

export type Subsystem = keyof Eras;

export interface EraInfo {
  /** What a KVM developer would call it, with the mainline versions that had it. */
  readonly name: string;
  /** A few words for tables and pickers. */
  readonly short: string;
}

export const SUBSYSTEMS: {
  readonly [S in Subsystem]: { readonly title: string; readonly eras: Record<Eras[S], EraInfo> };
} = {
  tdp_roots: {
    title: 'TDP MMU root lifecycle',
    eras: {
      vcpu_refs: {
        short: 'vCPU references only',
        name: 'only vCPUs hold root references; the last put zaps and frees the root (v5.10–v5.17)',
      },
      async_zap: {
        short: 'async zap worker',
        name: 'a put to zero invalidates the root and a worker (tdp_mmu_zap_wq) zaps it (v5.18–v6.3)',
      },
      async_zap_own_ref: {
        short: 'TDP MMU reference + async zap',
        name: 'the TDP MMU holds its own root reference until invalidation; a worker zaps invalidated roots (v6.4–v6.5)',
      },
      sync_zap_own_ref: {
        short: 'TDP MMU reference + sync zap',
        name: 'the TDP MMU holds its own root reference; invalidated roots are zapped synchronously (v6.6 and later)',
      },
    },
  },
  roles: {
    title: 'Role computation',
    eras: {
      mmu_role_8_byte_gpte: {
        short: 'mmu_role, gpte_is_8_bytes',
        name: 'one mmu_role with an extended part; page-role bit 4 is gpte_is_8_bytes (≤v5.16)',
      },
      mmu_role_4_byte_gpte: {
        short: 'mmu_role, has_4_byte_gpte',
        name: 'one mmu_role with an extended part; page-role bit 4 is has_4_byte_gpte (v5.17–v5.18)',
      },
      cpu_role_split: {
        short: 'cpu_role split',
        name: 'cpu_role (guest paging mode) split from root_role (v5.19 and later)',
      },
    },
  },
  prev_roots: {
    title: 'Cached-root lookup on a CR3 switch',
    eras: {
      base_role: {
        short: 'base role',
        name: 'compare a base-only role, and only with a valid current root of level ≥4 (≤v5.17)',
      },
      root_role: {
        short: 'root_role',
        name: "compare the MMU's root_role, with a valid current root (d2e5f3334169 alone)",
      },
      root_role_without_current: {
        short: 'root_role, no current root needed',
        name: "compare the MMU's root_role, and look in prev_roots even without a current root (v5.18 and later)",
      },
    },
  },
  pcid: {
    title: 'CR4.PCIDE and PCID handling',
    eras: {
      pcid0_wipes_prev_roots: {
        short: 'PCID 0 wipes prev_roots',
        name: 'with PCIDE=0 a flushing CR3 write empties prev_roots; clearing PCIDE resets the MMU (≤v5.15)',
      },
      pcide_reload: {
        short: 'PCIDE reload',
        name: 'any CR4.PCIDE toggle reloads the MMU; PCID-0 roots stay cached (v5.16–v5.17)',
      },
      flush_requests: {
        short: 'flush requests',
        name: 'CR0/CR4 writes raise their own TLB-flush requests (v5.18 and later)',
      },
      mixed: { short: 'mixed', name: 'a combination of PCID behaviours no mainline kernel had' },
    },
  },
};

/** The behaviours `resolveEras` reads, as a predicate (kept apart from the table to avoid an import cycle). */
type Has = (name: string) => boolean;

export function resolveEras(has: Has): Eras {
  let tdp_roots: TdpRootsEra;
  if (has('sync_invalidated_zap')) tdp_roots = 'sync_zap_own_ref';
  else if (has('tdp_mmu_root_ref')) tdp_roots = 'async_zap_own_ref';
  else if (has('async_root_zap')) tdp_roots = 'async_zap';
  else tdp_roots = 'vcpu_refs';

  let roles: RolesEra;
  if (has('cpu_role_split')) roles = 'cpu_role_split';
  else if (has('has_4_byte_gpte')) roles = 'mmu_role_4_byte_gpte';
  else roles = 'mmu_role_8_byte_gpte';

  let prev_roots: PrevRootsEra;
  if (has('new_pgd_base_only_role')) prev_roots = 'base_role';
  else if (has('cached_root_find_without_current')) prev_roots = 'root_role_without_current';
  else prev_roots = 'root_role';

  let pcid: PcidEra;
  if (has('tlb_flush_split')) pcid = 'flush_requests';
  else if (has('pcide_reload')) pcid = 'pcide_reload';
  else if (has('pcid0_frees_prev_roots') && has('pcide_clear_resets')) pcid = 'pcid0_wipes_prev_roots';
  else pcid = 'mixed';

  return { tdp_roots, roles, prev_roots, pcid };
}

/** "TDP MMU root lifecycle: the TDP MMU holds … (v6.4–v6.5)" for each subsystem. */
export function describeEras(eras: Eras): { subsystem: Subsystem; title: string; era: string; name: string }[] {
  return (Object.keys(SUBSYSTEMS) as Subsystem[]).map((s) => {
    const era = eras[s];
    const info = (SUBSYSTEMS[s].eras as Record<string, EraInfo>)[era]!;
    return { subsystem: s, title: SUBSYSTEMS[s].title, era, name: info.name };
  });
}

/** "TDP roots: TDP MMU reference + async zap · roles: cpu_role split" — the two subsystems profiles differ on most. */
export function eraSummary(eras: Eras): string {
  const short = (s: Subsystem): string => (SUBSYSTEMS[s].eras as Record<string, EraInfo>)[eras[s]]!.short;
  return `TDP roots: ${short('tdp_roots')} · roles: ${short('roles')}`;
}

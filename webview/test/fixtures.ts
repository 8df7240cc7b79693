/** Builders for panel test data: plain snapshots shaped exactly like the server's. */
import type { StateAtResult, TimelineStep } from '../../core/src/protocol.js';
import type { MmuSnapshot, RootSnapshot, Snapshot, VcpuSnapshot } from '../../core/src/kernel/types.js';
import type { LifetimeRoot, Lifetimes, PanelView } from '../../core/src/panel/messages.js';

/** 4-level direct, access 7 (a TDP root role); `| 0x01000000` sets role.smm. */
export const TDP_ROLE = 0x00000784;

export function role(word: number): string {
  return `0x${(word >>> 0).toString(16).padStart(8, '0')}`;
}

export function root(id: number, over: Partial<RootSnapshot> = {}): RootSnapshot {
  return {
    id,
    kind: 'tdp_mmu',
    role: role(TDP_ROLE),
    level: 4,
    smm: false,
    guestMode: false,
    refcount: 1,
    state: 'valid',
    obsolete: false,
    allocatedAt: id + 2,
    freedAt: null,
    gfn: null,
    holders: [`vcpu0.root_mmu.root`],
    ...over,
  };
}

export function mmu(over: Partial<MmuSnapshot> = {}): MmuSnapshot {
  return {
    name: 'root_mmu',
    root: 1,
    rootPgd: '0x1000',
    prevRoots: [null, null, null],
    prevPgds: ['0x0', '0x0', '0x0'],
    cpuRole: '0x0000000000000784',
    rootRole: role(TDP_ROLE),
    guestLevel: 4,
    rootLevel: 4,
    rootSpecial: null,
    paeRoots: [],
    ...over,
  };
}

export function vcpu(id: number, mmus: MmuSnapshot[], over: Partial<VcpuSnapshot> = {}): VcpuSnapshot {
  const active = mmus[0] ?? mmu();
  return {
    id,
    mmu: active.name,
    walkMmu: active.name,
    root: active.root,
    prevRoots: active.prevRoots,
    smm: false,
    guestMode: false,
    regs: { cr0: '0x80000011', cr3: '0x1000', cr4: '0x20', efer: '0x500' },
    mmus,
    requests: [],
    destroyed: false,
    ...over,
  };
}

export function snapshot(roots: RootSnapshot[], vcpus: VcpuSnapshot[], stats: Record<string, number> = {}): Snapshot {
  return {
    roots,
    vcpus,
    stats: {
      roots_allocated: roots.length,
      roots_freed: 0,
      root_reuses: 0,
      prev_root_hits: 0,
      mmu_cache_miss: 0,
      ...stats,
    },
    mmuValidGen: 0,
    vmDestroyed: false,
  };
}

export function step(line: number, text: string, over: Partial<TimelineStep> = {}): TimelineStep {
  return {
    line,
    vcpu: 0,
    text,
    summary: 'alloc #1',
    outcome: 'ok',
    actions: [{ op: 'alloc', path: ['vcpu_enter_guest', 'kvm_mmu_load'], detail: 'vCPU 0 allocates root #1', root: 1 }],
    ...over,
  };
}

export function stateAt(
  snap: Snapshot,
  over: Partial<StateAtResult> = {},
  kernel: { profile: string; label: string } = { profile: 'v6.4', label: 'v6.4' },
): StateAtResult {
  return {
    uri: 'file:///w/a.kvmmu',
    version: 1,
    line: 3,
    kernel,
    snapshot: snap,
    step: null,
    changedRoots: [],
    changedVcpus: [],
    ...over,
  };
}

export function view(primary: StateAtResult, over: Partial<PanelView> = {}): PanelView {
  return {
    uri: primary.uri,
    fileName: 'a.kvmmu',
    version: primary.version,
    line: primary.line,
    primary,
    previousStats: null,
    compare: null,
    differingLines: null,
    ...over,
  };
}

/** Lifetimes of a state's roots, with the given marks per root id (what the host builds from the timeline). */
export function lifetimesOf(
  result: StateAtResult,
  lastLine: number,
  marks: Record<number, LifetimeRoot['marks']> = {},
): Lifetimes {
  return {
    kernel: result.kernel.label,
    lastLine,
    roots: result.snapshot.roots.map((r) => ({
      id: r.id,
      kind: r.kind,
      role: r.role,
      allocatedAt: r.allocatedAt,
      freedAt: r.freedAt,
      state: r.state,
      marks: marks[r.id] ?? [],
    })),
  };
}

/** A typical small state: two TDP roots (one SMM), vCPU 0 holding #2 with #1 in prev_roots[0]. */
export function smallView(): PanelView {
  const roots = [
    root(1, { holders: ['vcpu0.root_mmu.prev_roots[0]', 'tdp_mmu'], refcount: 2 }),
    root(2, { role: role(TDP_ROLE | 0x01000000), smm: true, allocatedAt: 5 }),
  ];
  const v = vcpu(0, [mmu({ root: 2, prevRoots: [1, null, null] })], { smm: true });
  const primary = stateAt(snapshot(roots, [v], { roots_allocated: 2 }), {
    line: 4,
    step: step(4, 'smi', { summary: 'SMI: alloc #2 4-level SMM' }),
    changedRoots: [2],
    changedVcpus: [0],
  });
  return view(primary, {
    previousStats: { roots_allocated: 1, roots_freed: 0, root_reuses: 0, prev_root_hits: 0, mmu_cache_miss: 0 },
    lifetimes: {
      primary: lifetimesOf(primary, 12, {
        1: [
          { line: 5, kind: 'cached' },
          { line: 9, kind: 'found' },
        ],
      }),
      compare: null,
    },
  });
}

/** `n` roots, most of them freed, as a long scenario leaves them. */
export function manyRootsView(n: number): PanelView {
  const roots: RootSnapshot[] = [];
  for (let i = 1; i <= n; i++) {
    roots.push(
      root(i, {
        role: role(TDP_ROLE | (i % 2 ? 0x01000000 : 0)),
        smm: i % 2 === 1,
        state: i < n - 1 ? 'freed' : 'valid',
        refcount: i < n - 1 ? 0 : 1,
        holders: i < n - 1 ? [] : ['vcpu0.root_mmu.root'],
        allocatedAt: i + 2,
        freedAt: i < n - 1 ? i + 3 : null,
      }),
    );
  }
  const v = vcpu(0, [mmu({ root: n, prevRoots: [n - 1, null, null] })]);
  const primary = stateAt(snapshot(roots, [v], { roots_allocated: n, roots_freed: n - 2 }), { line: n + 2 });
  const marks: Record<number, LifetimeRoot['marks']> = {};
  for (let i = 1; i < n - 1; i++) marks[i] = [{ line: i + 3, kind: 'put' }];
  return view(primary, { lifetimes: { primary: lifetimesOf(primary, n + 3, marks), compare: null } });
}

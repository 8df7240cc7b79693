/**
 * Timing of the panel's pure work for N roots (the benchmark script and the tests call it; no DOM).
 * The browser test times the DOM side: first render and scroll steps of the virtualised grid.
 */
import type { RootSnapshot } from '../../core/src/kernel/types.js';
import type { StateAtResult } from '../../core/src/protocol.js';
import { coreDecoder } from './core_decoder.js';
import { initialState, panelModel, reduce, exportPanel } from './state.js';

export interface RootTableTiming {
  rows: number;
  deriveMs: number;
  sortMs: number;
  exportMs: number;
}

/** A state with `count` TDP MMU roots, all but the last two freed — what a long scenario leaves. */
export function syntheticState(count: number): StateAtResult {
  const roots: RootSnapshot[] = [];
  for (let id = 1; id <= count; id++) {
    const live = id > count - 2;
    roots.push({
      id,
      kind: 'tdp_mmu',
      role: id % 2 ? '0x01000784' : '0x00000784',
      level: 4,
      smm: id % 2 === 1,
      guestMode: false,
      refcount: live ? 1 : 0,
      state: live ? 'valid' : 'freed',
      obsolete: false,
      allocatedAt: id + 2,
      freedAt: live ? null : id + 3,
      gfn: null,
      holders: live ? [`vcpu0.root_mmu.${id === count ? 'root' : 'prev_roots[0]'}`] : [],
    });
  }
  return {
    uri: 'file:///bench.kvmmu',
    version: 1,
    line: count + 2,
    kernel: { profile: 'latest', label: 'latest' },
    snapshot: {
      roots,
      vcpus: [],
      stats: { roots_allocated: count, roots_freed: count - 2 },
      mmuValidGen: 0,
      vmDestroyed: false,
    },
    step: null,
    changedRoots: [count],
    changedVcpus: [],
  };
}

export function timeRootTable(count: number, now: () => number = () => performance.now()): RootTableTiming {
  const primary = syntheticState(count);
  let state = reduce(initialState(null), {
    type: 'view',
    view: {
      uri: primary.uri,
      fileName: 'bench.kvmmu',
      version: 1,
      line: primary.line,
      primary,
      previousStats: null,
      compare: null,
      differingLines: null,
    },
  });
  const t0 = now();
  const model = panelModel(state, coreDecoder);
  const t1 = now();
  state = reduce(state, { type: 'ui.sort', key: 'state' });
  panelModel(state, coreDecoder);
  const t2 = now();
  exportPanel(model, 'markdown');
  const t3 = now();
  return { rows: model.roots?.rows.length ?? 0, deriveMs: t1 - t0, sortMs: t2 - t1, exportMs: t3 - t2 };
}

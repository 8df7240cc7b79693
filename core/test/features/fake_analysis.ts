/**
 * A hand-made Analysis over the real parser: feature tests pin exact actions without depending on the
 * model's current opinions (the server tests run the real engine end to end).
 */
import type { Analysis, ExpectationResult } from '../../src/engine/analysis.js';
import { Steps } from '../../src/engine/steps.js';
import type { Statement } from '../../src/syntax/ast.js';
import { kernelFor } from '../../src/kernel/behaviours.js';
import type { Kernel } from '../../src/kernel/behaviours.js';
import type { Action, RootSnapshot, Snapshot, StepResult, VcpuSnapshot } from '../../src/kernel/types.js';
import { DEFAULT_VM } from '../../src/kernel/types.js';
import { parse } from '../../src/syntax/parser.js';
import { LineIndex } from '../../src/text/positions.js';

export function root(id: number, over: Partial<RootSnapshot> = {}): RootSnapshot {
  return {
    id,
    kind: 'tdp_mmu',
    role: '0x00000084',
    level: 4,
    smm: false,
    guestMode: false,
    refcount: 1,
    state: 'valid',
    obsolete: false,
    allocatedAt: 1,
    freedAt: null,
    gfn: null,
    holders: [],
    ...over,
  };
}

export function vcpu(id: number, rootId: number | null, over: Partial<VcpuSnapshot> = {}): VcpuSnapshot {
  return {
    id,
    mmu: 'root_mmu',
    walkMmu: 'root_mmu',
    root: rootId,
    prevRoots: [null, null, null],
    smm: false,
    guestMode: false,
    regs: { cr0: '0x0', cr3: '0x0', cr4: '0x0', efer: '0x0' },
    mmus: [
      {
        name: 'root_mmu',
        root: rootId,
        rootPgd: '0x0',
        prevRoots: [null, null, null],
        prevPgds: [],
        cpuRole: '0x0000000000000084',
        rootRole: '0x00000084',
        guestLevel: 4,
        rootLevel: 4,
        rootSpecial: null,
        paeRoots: [],
      },
    ],
    requests: [],
    destroyed: false,
    ...over,
  };
}

export function snapshot(roots: RootSnapshot[], vcpus: VcpuSnapshot[]): Snapshot {
  return { roots, vcpus, stats: {}, mmuValidGen: 0, vmDestroyed: false };
}

export function ok(actions: Action[], summary = ''): StepResult {
  return { outcome: 'ok', summary, actions };
}

export function act(op: Action['op'], over: Partial<Action> = {}): Action {
  return { op, path: ['kvm_mmu_load'], detail: `${op} happened`, ...over };
}

export interface FakeOptions {
  kernel?: Kernel;
  /** Step results by 0-based line (only lines with an event statement). */
  steps?: Record<number, StepResult>;
  /** Snapshot after each 0-based line; lines without an entry reuse the nearest earlier one. */
  states?: Record<number, Snapshot>;
  expectations?: ExpectationResult[];
  rootLines?: Record<number, number[]>;
}

export function fakeAnalysis(text: string, o: FakeOptions = {}): Analysis {
  const parsed = parse(text);
  const textLines = LineIndex.of(text);
  const kernel = o.kernel ?? kernelFor('v6.4');
  const steps = new Steps((_key, line) => parsed.lines[line]?.statement as Statement & { kind: 'event' });
  let vcpuNow = 0;
  const vcpuOf: number[] = [];
  for (const [line, pl] of parsed.lines.entries()) {
    const s = pl.statement;
    if (s?.kind === 'vcpu') vcpuNow = s.id;
    vcpuOf[line] = s?.vcpuPrefix?.id ?? vcpuNow;
    const result = o.steps?.[line];
    if (s?.kind === 'event' && result) {
      const at = textLines.start(line) ?? 0;
      steps.push(line, vcpuOf[line] ?? 0, at + s.span.start, at + s.span.end, result, s);
    }
  }
  const empty = snapshot([], [vcpu(0, null)]);
  const stateAt = (line: number): Snapshot => {
    for (let l = line; l >= 0; l--) {
      const s = o.states?.[l];
      if (s) return s;
    }
    return empty;
  };
  const results = o.expectations ?? [];
  return {
    text,
    lines: LineIndex.of(text),
    parse: parsed,
    kernel,
    vm: DEFAULT_VM,
    diagnostics: parsed.diagnostics,
    steps,
    stepAt: (line) => steps.toArray().find((s) => s.line === line),
    vcpuAt: (line) => vcpuOf[line] ?? 0,
    expectations: { passed: results.filter((r) => r.ok).length, failed: results.filter((r) => !r.ok).length, results },
    stateAt,
    get final() {
      return stateAt(parsed.lines.length - 1);
    },
    rootLines: (id) => o.rootLines?.[id] ?? [],
  };
}

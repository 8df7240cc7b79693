/**
 * The custom requests' results (core/src/protocol.ts) as views of an Analysis: the timeline, the state
 * after a line, a two-kernel comparison and the profile list. Plain data; the server only forwards it.
 */
import type { Analysis, Step } from '../engine/analysis.js';
import { BEHAVIOURS, PROFILES, profileEras } from '../kernel/behaviours.js';
import { eraSummary } from '../kernel/eras.js';
import type {
  CompareLine,
  KernelResult,
  KernelSource,
  ProfilesResult,
  StateAtResult,
  TimelineResult,
  TimelineStep,
} from '../protocol.js';
import type { VcpuSnapshot } from '../kernel/types.js';
import { diffOutcomes } from '../views/text.js';
import { formatOutcome } from '../views/outcome.js';

export function timelineStep(analysis: Analysis, step: Step): TimelineStep {
  const s = step.statement.span;
  return {
    line: step.line,
    vcpu: step.vcpu,
    text: (analysis.lines.line(s.line) ?? '').slice(s.start, s.end),
    // The one wording every view uses (views/outcome.ts), not the model's own summary.
    summary: formatOutcome(step.result, analysis.kernel),
    outcome: step.result.outcome,
    actions: step.result.actions,
  };
}

export function timeline(analysis: Analysis, uri: string, version: number): TimelineResult {
  return {
    uri,
    version,
    kernel: {
      profile: analysis.kernel.profile.name,
      label: analysis.kernel.label,
      behaviours: [...analysis.kernel.behaviours],
    },
    steps: analysis.steps.map((s) => timelineStep(analysis, s)),
  };
}

/**
 * The document's kernel and where it comes from: its `kernel` line, or `defaultKernel` (the setting as it applies to
 * the document; 'default' when that is the setting's own default value).
 */
export function kernelOf(
  analysis: Analysis,
  uri: string,
  version: number,
  setting: { value: string; isDefault: boolean },
): KernelResult {
  const line = analysis.parse.statements.find((s) => s.kind === 'kernel')?.span.line ?? null;
  const source: KernelSource = line !== null ? 'file' : setting.isDefault ? 'default' : 'setting';
  const profile = analysis.kernel.profile;
  return {
    uri,
    version,
    profile: profile.name,
    label: analysis.kernel.label,
    era: eraSummary(profileEras(profile)),
    source,
    line,
  };
}

function vcpuKey(v: VcpuSnapshot): string {
  return JSON.stringify([
    v.mmu,
    v.walkMmu,
    v.root,
    v.prevRoots,
    v.smm,
    v.guestMode,
    v.requests,
    v.destroyed,
    v.mmus.map((m) => [m.root, m.prevRoots, m.cpuRole, m.rootRole]),
  ]);
}

export function stateAt(analysis: Analysis, uri: string, version: number, line: number): StateAtResult {
  const last = Math.max(-1, Math.min(line, analysis.parse.lines.length - 1));
  const snapshot = analysis.stateAt(last);
  const step = last >= 0 ? analysis.stepAt(last) : undefined;
  const changedRoots = new Set<number>();
  for (const a of step?.result.actions ?? []) {
    if (a.root !== undefined) changedRoots.add(a.root);
    for (const r of a.roots ?? []) changedRoots.add(r);
  }
  const changedVcpus: number[] = [];
  if (step) {
    const before = new Map(analysis.stateAt(last - 1).vcpus.map((v) => [v.id, vcpuKey(v)]));
    for (const v of snapshot.vcpus) if (before.get(v.id) !== vcpuKey(v)) changedVcpus.push(v.id);
  }
  return {
    uri,
    version,
    line: last,
    kernel: { profile: analysis.kernel.profile.name, label: analysis.kernel.label },
    snapshot,
    step: step ? timelineStep(analysis, step) : null,
    changedRoots: [...changedRoots].sort((a, b) => a - b),
    changedVcpus,
  };
}

/** Lines whose outcome differs between two analyses of the same text (the same rows as `kvmmu diff`). */
export function compareAnalyses(a: Analysis, b: Analysis): CompareLine[] {
  return diffOutcomes(a, b);
}

export function profiles(): ProfilesResult {
  return {
    profiles: PROFILES.map((p) => ({ name: p.name, release: p.release, era: eraSummary(profileEras(p)) })),
    behaviours: BEHAVIOURS.map((b) => ({ name: b.name, title: b.title, version: b.version, whatIf: !!b.whatIf })),
  };
}

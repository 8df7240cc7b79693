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
  TimelineAction,
  TimelineEntry,
  TimelineResult,
  TimelineStep,
} from '../protocol.js';
import type { VcpuSnapshot } from '../kernel/types.js';
import { diffOutcomes } from '../views/text.js';
import { formatOutcome } from '../views/outcome.js';

/** A step without its actions: where, which vCPU, its text and its outcome in words. */
function timelineHead(analysis: Analysis, step: Step): Omit<TimelineStep, 'actions'> {
  const s = step.statement.span;
  return {
    line: step.line,
    vcpu: step.vcpu,
    text: (analysis.lines.line(s.line) ?? '').slice(s.start, s.end),
    // The one wording every view uses (views/outcome.ts), not the model's own summary.
    summary: formatOutcome(step.result, analysis.kernel),
    outcome: step.result.outcome,
  };
}

export function timelineStep(analysis: Analysis, step: Step): TimelineStep {
  return { ...timelineHead(analysis, step), actions: step.result.actions };
}

/**
 * Every step, in one pass: each line's text is a slice of the analysis' LineIndex (no search from the top), and
 * each distinct call path is sent once — the model shares one frozen array per path, so identity finds them.
 */
export function timeline(analysis: Analysis, uri: string, version: number): TimelineResult {
  const paths: (readonly string[])[] = [];
  const indexOf = new Map<readonly string[], number>();
  const byText = new Map<string, number>();
  const pathIndex = (path: readonly string[]): number => {
    let i = indexOf.get(path);
    if (i !== undefined) return i;
    // Equal paths recorded apart are one entry too.
    const key = path.join('\n');
    i = byText.get(key);
    if (i === undefined) {
      i = paths.length;
      paths.push(path);
      byText.set(key, i);
    }
    indexOf.set(path, i);
    return i;
  };
  const all = analysis.steps;
  const steps = new Array<TimelineEntry>(all.length);
  for (let k = 0; k < all.length; k++) {
    const step = all.at(k)!;
    const actions = step.result.actions;
    const entryActions = new Array<TimelineAction>(actions.length);
    for (let j = 0; j < actions.length; j++) {
      const a = actions[j]!;
      entryActions[j] = { ...a, path: pathIndex(a.path) };
    }
    steps[k] = { ...timelineHead(analysis, step), actions: entryActions };
  }
  return {
    uri,
    version,
    kernel: {
      profile: analysis.kernel.profile.name,
      label: analysis.kernel.label,
      behaviours: [...analysis.kernel.behaviours],
    },
    paths,
    steps,
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

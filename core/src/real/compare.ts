/**
 * Model versus kernel, group by group (lower.ts): the model's root actions on the group's lines against the
 * actions observed in the kernel's trace for the same lines. Compared: roots allocated, found again (reuse),
 * found in prev_roots (cache_hit), freed — each with its page-role word. References taken and dropped, flushes
 * and requests are not compared (the kernel's iterators take temporary references; flushes are not traced).
 * Pure.
 */
import type { Analysis } from '../engine/analysis.js';
import type { Kernel } from '../kernel/behaviours.js';
import { setRoleField } from '../kernel/role_layout.js';
import type { Lowered, LineVerdict } from './lower.js';
import type { Observation, ObservedAction, ObservedOp } from './observe.js';
import { hexRole } from './observe.js';

export interface ComparedAction {
  op: ObservedOp;
  role: string;
}

export interface GroupComparison {
  /** 1-based lines of the group. */
  lines: number[];
  model: ComparedAction[];
  kernel: ComparedAction[];
  /** One sentence per difference; empty when they agree. */
  differences: string[];
  agree: boolean;
}

export interface RealComparison {
  /** The profile the model ran with (label, e.g. "v6.1.y"). */
  kernelLabel: string;
  verdicts: LineVerdict[];
  groups: GroupComparison[];
  /** Lines that ran, lines that could not run here. */
  ran: number;
  notRunnable: number;
  agree: boolean;
  /** The driver's own failure (the guest did not halt, an ioctl failed), if the run stopped early. */
  failure?: string;
}

const COMPARED = new Set<string>(['alloc', 'reuse', 'cache_hit', 'free']);

/** The model's compared actions on one line (1-based), with role words normalised like the kernel's. */
export function modelActions(a: Analysis, line: number): ComparedAction[] {
  const step = a.stepAt(line - 1);
  if (!step) return [];
  const roles = new Map(a.final.roots.map((r) => [r.id, r.role]));
  const out: ComparedAction[] = [];
  for (const act of step.result.actions) {
    if (!COMPARED.has(act.op)) continue;
    const role = (act.op === 'alloc' || act.op === 'reuse' ? act.role : undefined) ?? roles.get(act.root ?? -1);
    if (role === undefined) continue;
    out.push({ op: act.op as ObservedOp, role: normaliseRole(a.kernel, role) });
  }
  return out;
}

export function normaliseRole(k: Kernel, role: string): string {
  return hexRole(setRoleField(k, Number(role), 'invalid', 0));
}

const key = (x: ComparedAction): string => `${x.op} ${x.role}`;

function multiset(xs: readonly ComparedAction[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
}

const VERB: Record<ObservedOp, string> = {
  alloc: 'allocates',
  reuse: 'finds again',
  cache_hit: 'finds in prev_roots',
  free: 'frees',
};

/** The differences between two lists of actions, each named. */
export function differences(model: readonly ComparedAction[], kernel: readonly ComparedAction[]): string[] {
  const m = multiset(model);
  const k = multiset(kernel);
  const out: string[] = [];
  for (const name of new Set([...m.keys(), ...k.keys()])) {
    const a = m.get(name) ?? 0;
    const b = k.get(name) ?? 0;
    if (a === b) continue;
    const [op, role] = name.split(' ') as [ObservedOp, string];
    const n = (c: number): string => (c === 1 ? 'a root' : `${c} roots`);
    out.push(
      a > b
        ? `the model ${VERB[op]} ${n(a - b)} with role ${role} that the kernel does not`
        : `the kernel ${VERB[op]} ${n(b - a)} with role ${role} that the model does not`,
    );
  }
  return out;
}

export function compareRun(a: Analysis, lowered: Lowered, obs: Observation, failure?: string): RealComparison {
  const ranLines = new Set(obs.lines);
  const groups: GroupComparison[] = [];
  for (const lines of lowered.groups) {
    if (!lines.some((l) => ranLines.has(l))) continue;
    const model = lines.flatMap((l) => modelActions(a, l));
    const kernel = lines.flatMap((l) =>
      (obs.byLine.get(l) ?? []).map((x: ObservedAction) => ({ op: x.op, role: x.role })),
    );
    const diffs = differences(model, kernel);
    groups.push({ lines, model, kernel, differences: diffs, agree: diffs.length === 0 });
  }
  const ran = lowered.verdicts.filter((v) => v.runnable && ranLines.has(v.line)).length;
  const notRunnable = lowered.verdicts.filter((v) => !v.runnable).length;
  const r: RealComparison = {
    kernelLabel: a.kernel.label,
    verdicts: lowered.verdicts,
    groups,
    ran,
    notRunnable,
    agree: groups.every((g) => g.agree) && failure === undefined,
  };
  if (failure !== undefined) r.failure = failure;
  return r;
}

/** The driver's failure line (`fail …`), if it stopped early. */
export function driverFailure(driverOutput: string): string | undefined {
  const m = /^fail (.*)$/m.exec(driverOutput);
  return m?.[1];
}

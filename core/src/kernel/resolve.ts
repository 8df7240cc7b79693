/**
 * Whether a profile plus `+`/`-` modifications is a kernel that could exist, judged by what each behaviour
 * declares (`requires`, `replaces`, `excludes`), and the nearest one that could when it is not.
 *
 * A requirement is met when the behaviour is present or was replaced by a present one (v6.6's
 * `sync_invalidated_zap` replaced `async_root_zap`, which `tdp_mmu_root_ref` was built on). The repair keeps
 * what the user asked for: reverting a commit also reverts what was built on it (and brings back what that
 * replaced); adding one also adds what it was built on and drops what it replaced.
 */
import { BEHAVIOURS, type Behaviour, type BehaviourName, findBehaviour, type Profile } from './behaviours.js';

export type ConflictKind = 'requires' | 'replaces' | 'excludes';

export interface Conflict {
  readonly kind: ConflictKind;
  /** The behaviour that declares the relation. */
  readonly behaviour: BehaviourName;
  /** The one it requires (absent) or replaced/excludes (present). */
  readonly other: BehaviourName;
}

export interface KernelCheck {
  readonly conflicts: readonly Conflict[];
  /** When there are conflicts: the nearest valid modifications, or undefined when the user's own asks clash. */
  readonly fix?: { readonly added: readonly BehaviourName[]; readonly removed: readonly BehaviourName[] };
}

const ORDER = new Map<BehaviourName, number>(BEHAVIOURS.map((b, i) => [b.name, i]));
const byTable = (a: BehaviourName, b: BehaviourName): number => ORDER.get(a)! - ORDER.get(b)!;
const entry = (name: BehaviourName): Behaviour => findBehaviour(name)!;

/** Present, or replaced by something present (transitively). */
function satisfied(set: ReadonlySet<BehaviourName>, name: BehaviourName, depth = 0): boolean {
  if (set.has(name)) return true;
  if (depth > BEHAVIOURS.length) return false;
  for (const b of BEHAVIOURS) {
    if (b.replaces?.includes(name) && satisfied(set, b.name, depth + 1)) return true;
  }
  return false;
}

/** Every relation the set breaks, in table order. */
export function conflictsOf(set: ReadonlySet<BehaviourName>): Conflict[] {
  const out: Conflict[] = [];
  for (const b of BEHAVIOURS) {
    if (!set.has(b.name)) continue;
    for (const r of b.requires ?? [])
      if (!satisfied(set, r)) out.push({ kind: 'requires', behaviour: b.name, other: r });
    for (const r of b.replaces ?? []) if (set.has(r)) out.push({ kind: 'replaces', behaviour: b.name, other: r });
    for (const r of b.excludes ?? []) if (set.has(r)) out.push({ kind: 'excludes', behaviour: b.name, other: r });
  }
  return out;
}

export function checkKernel(
  profile: Profile,
  added: readonly BehaviourName[],
  removed: readonly BehaviourName[],
): KernelCheck {
  const set = new Set<BehaviourName>(profile.behaviours);
  for (const a of added) set.add(a);
  for (const r of removed) set.delete(r);
  const conflicts = conflictsOf(set);
  if (conflicts.length === 0) return { conflicts };
  const repaired = repair(set, new Set(added), new Set(removed));
  if (!repaired) return { conflicts };
  const base = new Set(profile.behaviours);
  return {
    conflicts,
    fix: {
      added: [...repaired].filter((b) => !base.has(b)).sort(byTable),
      removed: [...base].filter((b) => !repaired.has(b)).sort(byTable),
    },
  };
}

/** The nearest conflict-free set that keeps every explicit `+`/`-`, or undefined when they clash. */
function repair(
  start: ReadonlySet<BehaviourName>,
  wanted: ReadonlySet<BehaviourName>,
  unwanted: ReadonlySet<BehaviourName>,
): Set<BehaviourName> | undefined {
  const set = new Set(start);
  const asked = new Set(wanted); // what the user asked for, and what the repair added for it
  const dropped = new Set(unwanted); // what the user removed, and what the repair reverted for them
  for (let round = 0; round < 4 * BEHAVIOURS.length; round++) {
    const c = conflictsOf(set)[0];
    if (!c) return set;
    const b = c.behaviour;
    if (c.kind === 'requires') {
      if (!asked.has(b) && dropped.has(c.other)) {
        revert(set, b, dropped);
      } else if (!dropped.has(c.other)) {
        set.add(c.other);
        asked.add(c.other);
      } else {
        return undefined;
      }
    } else {
      // b replaced or excludes c.other, both present: keep whichever the user asked for.
      if (asked.has(b) && asked.has(c.other)) return undefined;
      if (asked.has(c.other)) {
        revert(set, b, dropped);
        dropped.add(b);
      } else {
        set.delete(c.other);
        dropped.add(c.other);
      }
    }
  }
  return undefined;
}

/** Remove `name`, and bring back what it replaced unless that was dropped too. */
function revert(set: Set<BehaviourName>, name: BehaviourName, dropped: Set<BehaviourName>): void {
  set.delete(name);
  dropped.add(name);
  for (const r of entry(name).replaces ?? []) if (!dropped.has(r)) set.add(r);
}

const short = (name: BehaviourName): string => {
  const c = entry(name).commits[0] ?? '';
  return /^[0-9a-f]{12,}$/.test(c) ? `${name} (${c.slice(0, 12)})` : name;
};

/** One sentence per conflict, naming both sides and their commits. */
export function describeConflict(c: Conflict, set: ReadonlySet<BehaviourName>): string {
  switch (c.kind) {
    case 'requires':
      return `${short(c.behaviour)} builds on ${short(c.other)}, which this kernel ${set.has(c.behaviour) ? 'lacks' : 'drops'}`;
    case 'replaces':
      return `${short(c.behaviour)} replaced ${short(c.other)}: no kernel has both`;
    case 'excludes':
      return `${short(c.behaviour)} was written on top of the removal of ${short(c.other)}: no kernel has both`;
  }
}

/** "v6.6 +async_root_zap -tdp_mmu_root_ref -sync_invalidated_zap" */
export function kernelSpec(
  profile: string,
  added: readonly BehaviourName[],
  removed: readonly BehaviourName[],
): string {
  return [profile, ...added.map((b) => `+${b}`), ...removed.map((b) => `-${b}`)].join(' ');
}

/**
 * Why a line's outcome differs between two kernels: the smallest set of behaviours whose change alone, applied to
 * kernel A and moving it toward kernel B, gives the line B's outcome.
 *
 * The candidates are the behaviours A and B disagree on (those the model never consults are left out). Each is
 * tried alone first: A with that one behaviour changed, made a kernel that could exist by `checkKernel`'s fix (a
 * commit comes with what it was built on; reverting one reverts what was built on it). The fix may change more
 * than the one behaviour asked for — then the explanation names all of them — but never a behaviour A and B
 * agree on: an intermediate kernel lies between A and B, or it is not tried. Lines no single change explains are
 * tried with pairs, then named as needing more. Equal behaviour sets are run once (KernelRuns).
 *
 * The search is a generator: it yields after every analysis, so a caller can stop it (the language server checks
 * for cancellation there), or run it to the end (`explainDiff`).
 */
import { BEHAVIOURS, type BehaviourName, findBehaviour, findProfile, type Profile } from '../kernel/behaviours.js';
import { checkKernel, kernelSpec } from '../kernel/resolve.js';
import { KernelRuns, type KernelRun } from './kernel_runs.js';
import { LineIndex } from '../text/positions.js';

export interface ExplainingBehaviour {
  readonly name: BehaviourName;
  /** Upstream commit ids (or a Message-Id for a proposal). */
  readonly commits: readonly string[];
  readonly title: string;
  readonly version: string;
  /** Whether kernel B has it (the change adds it to A) or not (the change reverts it). */
  readonly change: 'add' | 'revert';
}

export interface Explanation {
  /** The behaviours changed, in table order: what was tried plus what the fix brought with it. */
  readonly behaviours: readonly ExplainingBehaviour[];
  /** What was tried (one or two names); the rest of `behaviours` came from the fix. */
  readonly tried: readonly BehaviourName[];
  /** The intermediate kernel that reproduces B's outcome, as a spec ("v6.4 -tdp_mmu_root_ref"). */
  readonly kernel: string;
}

export type ExplainStatus = 'single' | 'pair' | 'more' | 'not-searched';

export interface ExplainedLine {
  /** 0-based line. */
  readonly line: number;
  readonly text: string;
  /** The outcome under A and under B ('' when the line has no step there). */
  readonly a: string;
  readonly b: string;
  /**
   * The smallest explanations found (several when each alone reproduces the difference). 'single': one change
   * (with what its fix brings); 'pair': no single change does, these pairs do; 'more': neither singles nor pairs
   * do (it takes three or more together); 'not-searched': pairs were not tried (more than `maxPairs`).
   */
  readonly status: ExplainStatus;
  readonly explanations: readonly Explanation[];
}

export interface DiffExplanation {
  readonly a: { readonly spec: string; readonly label: string };
  readonly b: { readonly spec: string; readonly label: string };
  /** The behaviours A and B disagree on that the model consults, in table order. */
  readonly candidates: readonly BehaviourName[];
  readonly lines: readonly ExplainedLine[];
  /** Counters that differ at the end of the scenario. */
  readonly counters: readonly { readonly name: string; readonly a: number | null; readonly b: number | null }[];
  /** Analyses run (equal behaviour sets and prefixes counted once each). */
  readonly analyses: number;
}

export interface ExplainOptions {
  /**
   * Pairs of candidates allowed before the lines left are marked 'not-searched'. Default: 500 for a scenario of
   * under 2,000 lines (every pair of the 32 behaviours between v5.15 and v6.18 is 465), 120 above (16 candidates).
   */
  maxPairs?: number;
  /** No explanations: only the differing lines (plain `diff`). */
  explain?: false;
  /** Shared runs of the same text (the language server keeps one per document version). */
  runs?: KernelRuns;
}

/** Runs the search to the end. Specs: kernel specs, or KernelRuns.FILE ('') for the file's own kernel. */
export function explainDiff(text: string, specA: string, specB: string, options: ExplainOptions = {}): DiffExplanation {
  const it = explainSteps(text, specA, specB, options);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}

const ORDER = new Map<BehaviourName, number>(BEHAVIOURS.map((b, i) => [b.name, i]));
const byTable = (x: BehaviourName, y: BehaviourName): number => ORDER.get(x)! - ORDER.get(y)!;

/** A change to A: the behaviour set it gives, the spec to run it, and what it changed. */
interface Candidate {
  readonly tried: BehaviourName[];
  readonly changed: BehaviourName[];
  readonly spec: string;
  readonly key: string;
}

/** The search, yielding after each analysis (see the module comment). */
export function* explainSteps(
  text: string,
  specA: string,
  specB: string,
  options: ExplainOptions = {},
): Generator<void, DiffExplanation> {
  const runs = options.runs ?? new KernelRuns(text);
  const runA = runs.run(specA);
  yield;
  const runB = runs.run(specB);
  yield;
  const kA = runA.kernel;
  const kB = runB.kernel;
  const setA = new Set(kA.behaviours);
  const setB = new Set(kB.behaviours);
  const candidates = BEHAVIOURS.filter((b) => setA.has(b.name) !== setB.has(b.name) && b.notModelled === undefined).map(
    (b) => b.name,
  );
  const differs = new Set(BEHAVIOURS.filter((b) => setA.has(b.name) !== setB.has(b.name)).map((b) => b.name));

  const srcLines = LineIndex.of(text).lines();
  const n = Math.max(runA.outcomes.length, runB.outcomes.length);
  const differing: number[] = [];
  for (let i = 0; i < n; i++) if ((runA.outcomes[i] ?? '') !== (runB.outcomes[i] ?? '')) differing.push(i);

  const found = new Map<number, Explanation[]>();
  const status = new Map<number, ExplainStatus>();
  const want = options.explain !== false && differing.length > 0 && candidates.length > 0;

  if (want) {
    const profile = kA.profile;
    const tried = new Set<string>([setKey(setA)]);
    const make = (names: BehaviourName[]): Candidate | undefined => {
      const added = names.filter((b) => setB.has(b));
      const removed = names.filter((b) => !setB.has(b));
      // The fix is judged against A's own behaviour set, so only the change asked for is "asked".
      const base: Profile = { ...profile, behaviours: [...setA] };
      const check = checkKernel(base, added, removed);
      let set: Set<BehaviourName>;
      if (check.conflicts.length === 0) {
        set = new Set(setA);
        for (const b of added) set.add(b);
        for (const b of removed) set.delete(b);
      } else if (check.fix) {
        set = new Set(setA);
        for (const b of check.fix.added) set.add(b);
        for (const b of check.fix.removed) set.delete(b);
      } else return undefined;
      const changed = [...differs].filter((b) => set.has(b) !== setA.has(b));
      // Only kernels between A and B: the fix may not touch what A and B agree on.
      for (const b of BEHAVIOURS) if (!differs.has(b.name) && set.has(b.name) !== setA.has(b.name)) return undefined;
      const key = setKey(set);
      if (tried.has(key)) return undefined;
      tried.add(key);
      const p = findProfile(profile.name) ?? profile;
      const base2 = new Set(p.behaviours);
      const plus = [...set].filter((b) => !base2.has(b)).sort(byTable);
      const minus = [...base2].filter((b) => !set.has(b)).sort(byTable);
      return { tried: names, changed: changed.sort(byTable), spec: kernelSpec(p.name, plus, minus), key };
    };

    const explanation = (c: Candidate): Explanation => ({
      tried: c.tried,
      kernel: c.spec,
      behaviours: c.changed.map((name) => {
        const b = findBehaviour(name)!;
        return {
          name,
          commits: b.commits,
          title: b.title,
          version: b.version,
          change: setB.has(name) ? ('add' as const) : ('revert' as const),
        };
      }),
    });

    /** Runs candidate `c` over the lines still open; records which it explains. */
    function* attempt(c: Candidate, open: readonly number[]): Generator<void, void> {
      let run: KernelRun;
      try {
        run = runs.run(c.spec, open[open.length - 1]);
      } catch {
        return; // a spec the checker refuses (A itself breaks a relation): not a kernel that could exist
      }
      yield;
      for (const line of open) {
        if ((run.outcomes[line] ?? '') !== (runB.outcomes[line] ?? '')) continue;
        const list = found.get(line) ?? [];
        list.push(explanation(c));
        found.set(line, list);
      }
    }

    const singles: Candidate[] = [];
    for (const b of candidates) {
      const c = make([b]);
      if (c) singles.push(c);
    }
    for (const c of singles) yield* attempt(c, differing);
    for (const line of differing) if (found.has(line)) status.set(line, 'single');

    let open = differing.filter((l) => !found.has(l));
    if (open.length > 0) {
      const maxPairs = options.maxPairs ?? (runs.lastLine < 2000 ? 500 : 120);
      const pairs: [BehaviourName, BehaviourName][] = [];
      for (let i = 0; i < candidates.length; i++)
        for (let j = i + 1; j < candidates.length; j++) pairs.push([candidates[i]!, candidates[j]!]);
      if (pairs.length > maxPairs) {
        for (const line of open) status.set(line, 'not-searched');
      } else {
        for (const [x, y] of pairs) {
          const c = make([x, y]);
          if (!c) continue;
          yield* attempt(c, open);
        }
        for (const line of open) status.set(line, found.has(line) ? 'pair' : 'more');
        open = [];
      }
    }
  }

  const lines: ExplainedLine[] = differing.map((line) => ({
    line,
    text: (srcLines[line] ?? '').replace(/\r$/, '').trim(),
    a: runA.outcomes[line] ?? '',
    b: runB.outcomes[line] ?? '',
    status: status.get(line) ?? (want ? 'more' : 'not-searched'),
    explanations: smallest(found.get(line) ?? []),
  }));

  return {
    a: { spec: specA, label: kA.label },
    b: { spec: specB, label: kB.label },
    candidates,
    lines,
    counters: counterDiffs(runA.stats, runB.stats),
    analyses: runs.analyses,
  };
}

/** The counters whose final values differ. */
export function counterDiffs(
  a: Readonly<Record<string, number>>,
  b: Readonly<Record<string, number>>,
): { name: string; a: number | null; b: number | null }[] {
  return Object.keys({ ...a, ...b })
    .filter((k) => a[k] !== b[k])
    .map((name) => ({ name, a: a[name] ?? null, b: b[name] ?? null }));
}

/** The explanations no smaller one is contained in, smallest first. */
function smallest(list: readonly Explanation[]): Explanation[] {
  const sets = list.map((e) => new Set(e.behaviours.map((b) => b.name)));
  const keep = list.filter((_, i) => {
    const s = sets[i]!;
    return !sets.some((t, j) => j !== i && t.size < s.size && [...t].every((x) => s.has(x)));
  });
  return keep.sort((x, y) => x.behaviours.length - y.behaviours.length);
}

function setKey(set: ReadonlySet<BehaviourName>): string {
  return [...set].sort(byTable).join(',');
}

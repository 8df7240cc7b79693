/**
 * A scenario under every kernel profile (mainline and stable) and the file's own kernel: per line, which kernels
 * agree on its outcome and where along the mainline releases it changes; per `expect`, its result on each.
 * Profiles with the same behaviours (v6.1 and v6.3; v6.18 and latest) run once (KernelRuns).
 *
 * Like the explanation search, a generator that yields after every analysis (`matrixSteps`); `matrix` runs it
 * to the end.
 */
import { PROFILES } from '../kernel/behaviours.js';
import type { ExpectationResult } from './analysis.js';
import { KernelRuns, type KernelRun } from './kernel_runs.js';
import { LineIndex } from '../text/positions.js';

export interface MatrixKernel {
  /** The column's name: a profile name, or the file's kernel label when it is not a plain profile. */
  readonly name: string;
  readonly release: string;
  /** What was run: a profile name, or '' for the file's own kernel line. */
  readonly spec: string;
  /** This column is the file's kernel (its `kernel` line, or the default profile without one). */
  readonly own: boolean;
  /** A stable line's mainline base ("v6.1" for "v6.1.y"). */
  readonly base?: string;
  /** The earlier column with the same behaviours, when there is one (its results are the same). */
  readonly sameAs?: string;
  readonly errors: number;
  readonly passed: number;
  readonly failed: number;
}

export interface MatrixLine {
  /** 0-based line. */
  readonly line: number;
  readonly text: string;
  /** Kernels that agree, one group per outcome, in column order of their first kernel. */
  readonly groups: readonly { readonly outcome: string; readonly kernels: readonly string[] }[];
  /** Where the outcome changes: between consecutive mainline releases, and from a stable line's base to it. */
  readonly changes: readonly { readonly from: string; readonly to: string }[];
  /** Columns whose outcome differs from the file's own kernel's. */
  readonly differsFromOwn: readonly string[];
}

export interface MatrixExpect {
  readonly line: number;
  readonly text: string;
  /** One per column, in column order; null where the expectation did not run under that kernel. */
  readonly results: readonly ({
    readonly ok: boolean;
    readonly actual: number | null;
    readonly message: string;
  } | null)[];
}

export interface Matrix {
  readonly kernels: readonly MatrixKernel[];
  /** Lines whose outcome is not the same under every kernel. */
  readonly lines: readonly MatrixLine[];
  /** Lines with a step whose outcome is the same under every kernel. */
  readonly agreeing: number;
  readonly expects: readonly MatrixExpect[];
}

export function matrix(text: string, options: { runs?: KernelRuns; defaultKernel?: string } = {}): Matrix {
  const it = matrixSteps(text, options);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}

/** The mainline release order, for "where it changes" (stable lines and the `latest` alias are not in it). */
const MAINLINE = PROFILES.filter((p) => !p.stable && p.name !== 'latest').map((p) => p.name);

export function* matrixSteps(
  text: string,
  options: { runs?: KernelRuns; defaultKernel?: string } = {},
): Generator<void, Matrix> {
  const runs = options.runs ?? new KernelRuns(text, options.defaultKernel);
  const own = runs.run(KernelRuns.FILE);
  yield;
  const ownLabel = own.kernel.label;
  const columns: { name: string; release: string; spec: string; own: boolean; base?: string; run: KernelRun }[] = [];
  if (!PROFILES.some((p) => p.name === ownLabel))
    columns.push({ name: ownLabel, release: 'the file’s kernel line', spec: KernelRuns.FILE, own: true, run: own });
  for (const p of PROFILES) {
    const run = runs.run(p.name);
    yield;
    const col: (typeof columns)[number] = {
      name: p.name,
      release: p.release,
      spec: p.name,
      own: p.name === ownLabel,
      run,
    };
    if (p.stable) col.base = p.stable.base;
    // The file's own kernel named by its profile: its own run (it has the header's diagnostics too).
    if (col.own) col.run = own;
    columns.push(col);
  }

  const kernels: MatrixKernel[] = columns.map((c, i) => {
    const same = columns.slice(0, i).find((d) => d.run.key === c.run.key);
    let passed = 0;
    let failed = 0;
    for (const e of c.run.expectations)
      if (e.ok) passed++;
      else failed++;
    const k: MatrixKernel = {
      name: c.name,
      release: c.release,
      spec: c.spec,
      own: c.own,
      errors: c.run.errors,
      passed,
      failed,
      ...(c.base !== undefined ? { base: c.base } : {}),
      ...(same ? { sameAs: same.name } : {}),
    };
    return k;
  });

  const srcLines = LineIndex.of(text).lines();
  const ownIndex = columns.findIndex((c) => c.own);
  const byName = new Map(columns.map((c) => [c.name, c]));
  const n = columns.reduce((x, c) => Math.max(x, c.run.outcomes.length), 0);
  const lines: MatrixLine[] = [];
  let agreeing = 0;
  for (let line = 0; line < n; line++) {
    const first = columns[0]!.run.outcomes[line] ?? '';
    let same = true;
    for (const c of columns) if ((c.run.outcomes[line] ?? '') !== first) same = false;
    if (same) {
      if (first !== '') agreeing++;
      continue;
    }
    const groups: { outcome: string; kernels: string[] }[] = [];
    for (const c of columns) {
      const o = c.run.outcomes[line] ?? '';
      const g = groups.find((x) => x.outcome === o);
      if (g) g.kernels.push(c.name);
      else groups.push({ outcome: o, kernels: [c.name] });
    }
    const at = (name: string): string => byName.get(name)?.run.outcomes[line] ?? '';
    const changes: { from: string; to: string }[] = [];
    for (let i = 1; i < MAINLINE.length; i++)
      if (at(MAINLINE[i - 1]!) !== at(MAINLINE[i]!)) changes.push({ from: MAINLINE[i - 1]!, to: MAINLINE[i]! });
    for (const c of columns)
      if (c.base !== undefined && at(c.base) !== at(c.name)) changes.push({ from: c.base, to: c.name });
    const mine = columns[ownIndex]!.run.outcomes[line] ?? '';
    const differsFromOwn = columns.filter((c) => !c.own && (c.run.outcomes[line] ?? '') !== mine).map((c) => c.name);
    lines.push({ line, text: (srcLines[line] ?? '').replace(/\r$/, '').trim(), groups, changes, differsFromOwn });
  }

  const expectLines = new Set<number>();
  const byLine = columns.map((c) => {
    const m = new Map<number, ExpectationResult>();
    for (const e of c.run.expectations) {
      m.set(e.line, e);
      expectLines.add(e.line);
    }
    return m;
  });
  const expects: MatrixExpect[] = [...expectLines]
    .sort((a, b) => a - b)
    .map((line) => ({
      line,
      text: (srcLines[line] ?? '').replace(/\r$/, '').trim(),
      results: byLine.map((m) => {
        const e = m.get(line);
        return e ? { ok: e.ok, actual: e.actual, message: e.message } : null;
      }),
    }));
  return { kernels, lines, agreeing, expects };
}

/**
 * One scenario run under many kernels, each run once: what `diff` with explanations and `matrix` compare. A run
 * keeps, per line, the outcome as the CLI and the panel word it (views/outcome.ts), the expectation results and
 * the error count, nothing else. Runs are cached by the kernel's behaviour set (v6.1 and v6.3 have the same
 * behaviours, `latest` is v6.18: each is run once), and a run asked for only up to some line is run on that
 * prefix of the text (a line's outcome depends only on the lines before it).
 */
import type { Kernel } from '../kernel/behaviours.js';
import type { StepResult } from '../kernel/types.js';
import { kernelFromSpec } from '../syntax/check.js';
import { formatOutcome } from '../views/outcome.js';
import type { AnalyzeOptions, ExpectationResult } from './analysis.js';
import { analyzeOnePass } from './one_pass.js';
import { LineIndex } from '../text/positions.js';

export interface KernelRun {
  /** The kernel the run used (for the file's own kernel: as its `kernel` line resolved). */
  readonly kernel: Kernel;
  /** The behaviour set, in table order, joined: equal keys run alike. */
  readonly key: string;
  /** Per 0-based line, the outcome of its step ('' for lines without one). Up to `upTo` when a prefix ran. */
  readonly outcomes: readonly string[];
  readonly expectations: readonly ExpectationResult[];
  /** Error diagnostics (parse, check, model, failed expectations) under this kernel. */
  readonly errors: number;
  /** The errors other than failed expectations (the first 100): the file does not run cleanly. */
  readonly problems: readonly { readonly line: number; readonly message: string }[];
  /** The last 0-based line the run covers (the whole text: its last line). */
  readonly upTo: number;
  /** The counters after the last line run. */
  readonly stats: Readonly<Record<string, number>>;
}

/** Where to stop: every line, or only the lines up to and including a 0-based line. */
export type Extent = number | 'all';

/** The key of a kernel's behaviour set. */
export function behaviourKey(kernel: Kernel): string {
  return kernel.behaviours.join(',');
}

/**
 * Runs of one text, cached by behaviour set. `FILE` stands for the file's own kernel (its `kernel` line, or the
 * default); any other name is a kernel spec ("v6.3 +tdp_mmu_root_ref") that overrides the line.
 */
export class KernelRuns {
  static readonly FILE = '';
  private readonly byKey = new Map<string, KernelRun>();
  private readonly specKeys = new Map<string, string>();
  private lineEnds: Int32Array | undefined;
  /** Analyses run so far (a prefix counts as one). */
  analyses = 0;

  constructor(
    readonly text: string,
    private readonly defaultKernel?: string,
  ) {}

  /** The 0-based index of the text's last line. */
  get lastLine(): number {
    return this.ends().length - 1;
  }

  /** The kernel a spec resolves to, or an error message. */
  kernelOf(spec: string): { kernel?: Kernel; error?: string } {
    if (spec === KernelRuns.FILE) return { kernel: this.run(KernelRuns.FILE, 0).kernel };
    return kernelFromSpec(spec);
  }

  /** The run under `spec` covering at least the lines up to `extent`. Throws on a spec that does not resolve. */
  run(spec: string, extent: Extent = 'all'): KernelRun {
    const upTo = extent === 'all' ? this.lastLine : Math.min(extent, this.lastLine);
    let key = this.specKeys.get(spec);
    if (key === undefined && spec !== KernelRuns.FILE) {
      const r = kernelFromSpec(spec);
      if (!r.kernel) throw new Error(`kernel \`${spec}\`: ${r.error ?? 'invalid'}`);
      key = behaviourKey(r.kernel);
      this.specKeys.set(spec, key);
    }
    if (key !== undefined) {
      const cached = this.byKey.get(key);
      if (cached && cached.upTo >= upTo) return cached;
    }
    const run = this.analyse(spec, upTo);
    if (spec === KernelRuns.FILE) this.specKeys.set(spec, run.key);
    const prev = this.byKey.get(run.key);
    if (!prev || prev.upTo < run.upTo) this.byKey.set(run.key, run);
    return run;
  }

  private ends(): Int32Array {
    if (this.lineEnds) return this.lineEnds;
    // Where each line's break starts (the text's length for the last), as the parser splits lines.
    const index = LineIndex.of(this.text);
    const ends = new Int32Array(index.count);
    for (let i = 0; i < ends.length; i++) ends[i] = index.end(i) as number;
    this.lineEnds = ends;
    return this.lineEnds;
  }

  private analyse(spec: string, upTo: number): KernelRun {
    const ends = this.ends();
    let text = this.text;
    let covered = ends.length - 1;
    if (upTo < ends.length - 1) {
      const cut = (ends[upTo] as number) + 1;
      // A `kernel` or `vm` line after the cut still applies to the whole file: then the whole text runs.
      if (!/^[ \t]*(kernel|vm)\b/m.test(text.slice(cut))) {
        text = text.slice(0, cut);
        covered = upTo;
      }
    }
    const options: AnalyzeOptions = {};
    if (spec !== KernelRuns.FILE) options.kernelOverride = spec;
    if (this.defaultKernel !== undefined) options.defaultKernel = this.defaultKernel;
    const a = analyzeOnePass(text, options);
    this.analyses++;
    const outcomes = new Array<string>(covered + 1).fill('');
    const { lines, results } = a.steps.columns();
    // Steps share results (a repeated line's step often has the very result of the last one): word each once.
    const worded = new Map<StepResult, string>();
    for (let i = 0; i < a.steps.length; i++) {
      const r = results[i] as StepResult;
      let s = worded.get(r);
      if (s === undefined) {
        s = formatOutcome(r, a.kernel);
        worded.set(r, s);
      }
      outcomes[lines[i] as number] = s;
    }
    let errors = 0;
    const problems: { line: number; message: string }[] = [];
    for (const d of a.diagnostics) {
      if (d.severity !== 'error') continue;
      errors++;
      if (d.code !== 'expect-failed' && problems.length < 100) problems.push({ line: d.span.line, message: d.message });
    }
    return {
      kernel: a.kernel,
      key: behaviourKey(a.kernel),
      outcomes,
      expectations: a.expectations.results,
      errors,
      problems,
      upTo: covered,
      stats: a.final.stats,
    };
  }
}

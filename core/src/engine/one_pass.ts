/**
 * A scenario analysed in one pass, for a report: the same diagnostics, expectation results, steps and final state
 * as `analyze`, without keeping the syntax tree or the steps' statements. Each line is parsed, checked and run,
 * then dropped; a step keeps its result and where its statement is in the text (the report quotes it). The CLI's
 * `check` reads a long scenario this way: nothing per line is kept but a few numbers and a reference to the
 * (usually shared) result, so the collector has next to nothing to trace or move.
 *
 * The header decides how every line runs, and may come late (an error, but it still applies), so the text is
 * read twice: once for the header, once to check and run each line.
 */
import type { Kernel } from '../kvm/behaviours.js';
import { createKvm } from '../kvm/kvm.js';
import type { Action, Snapshot, StepResult, VmConfig } from '../kvm/types.js';
import type { Diagnostic } from '../syntax/ast.js';
import { HeaderScan, LineChecker } from '../syntax/check.js';
import { parseLine } from '../syntax/parser.js';
import { forEachLine } from '../text/positions.js';
import type { AnalyzeOptions, ExpectationResult } from './analysis.js';
import { allDiagnostics, expectationCounts, runEvent, runExpect, type Progress } from './run.js';

export interface OnePassAnalysis {
  readonly text: string;
  readonly kernel: Kernel;
  readonly vm: Readonly<VmConfig>;
  /** As Analysis.diagnostics. */
  readonly diagnostics: readonly Diagnostic[];
  readonly expectations: { passed: number; failed: number; results: readonly ExpectationResult[] };
  /** State after the last line. */
  readonly final: Snapshot;
  readonly steps: StepLog;
}

export function analyzeOnePass(text: string, options: AnalyzeOptions = {}): OnePassAnalysis {
  const checkOptions: { defaultKernel?: string; kernelOverride?: string } = {};
  if (options.defaultKernel !== undefined) checkOptions.defaultKernel = options.defaultKernel;
  if (options.kernelOverride !== undefined) checkOptions.kernelOverride = options.kernelOverride;

  const scan = new HeaderScan();
  forEachLine(text, (line, i) => scan.line(parseLine(line, i)));
  // The header's own errors are on `kernel` and `vm` lines, which do not run: only parse and line checks decide
  // whether an event or expectation is skipped.
  const header = scan.finish(checkOptions);

  const checker = new LineChecker(header);
  const model = createKvm(header.kernel, header.vm);
  const parseDiagnostics: Diagnostic[] = [];
  const progress: Progress = { warnings: 0, runDiagnostics: [], results: [] };
  const steps = new StepLog();
  let lastActions: readonly Action[] = [];
  forEachLine(text, (lineText, line, start) => {
    const pl = parseLine(lineText, line);
    let bad = false;
    for (const d of pl.diagnostics) {
      parseDiagnostics.push(d);
      if (d.severity === 'error') bad = true;
    }
    const checked = header.diagnostics.length;
    const vcpu = checker.check(pl);
    // The line checker's diagnostics are on the line it checks.
    for (let i = checked; i < header.diagnostics.length; i++)
      if ((header.diagnostics[i] as Diagnostic).severity === 'error') bad = true;
    const statement = pl.statement;
    if (!statement || bad) return;
    const runsOn = vcpu < 0 ? 0 : vcpu;
    if (statement.kind === 'event') {
      const step = runEvent(progress, model, steps.length, line, runsOn, statement);
      steps.push(line, runsOn, start + statement.span.start, start + statement.span.end, step.result);
      lastActions = step.result.actions;
    } else if (statement.kind === 'expect') {
      runExpect(progress, header.kernel, model, line, runsOn, statement, lastActions);
    }
  });

  return {
    text,
    kernel: header.kernel,
    vm: header.vm,
    diagnostics: allDiagnostics(parseDiagnostics, header.diagnostics, progress.runDiagnostics, header),
    expectations: expectationCounts(progress.results),
    final: model.snapshot(),
    steps,
  };
}

/**
 * The steps of a one-pass analysis, column-wise: numbers in typed arrays and one array of results (most of them
 * shared by many steps), nothing per step for the collector to trace.
 */
export class StepLog {
  length = 0;
  private lines: Int32Array = new Int32Array(1024);
  private vcpus: Int32Array = new Int32Array(1024);
  private starts: Int32Array = new Int32Array(1024);
  private ends: Int32Array = new Int32Array(1024);
  private readonly results: StepResult[] = [];

  /** A step: its 0-based line, vCPU, where its statement starts and ends in the text, and its result. */
  push(line: number, vcpu: number, start: number, end: number, result: StepResult): void {
    const i = this.length;
    if (i === this.lines.length) {
      this.lines = grown(this.lines);
      this.vcpus = grown(this.vcpus);
      this.starts = grown(this.starts);
      this.ends = grown(this.ends);
    }
    this.lines[i] = line;
    this.vcpus[i] = vcpu;
    this.starts[i] = start;
    this.ends[i] = end;
    this.results.push(result);
    this.length = i + 1;
  }

  /** Calls `each` with every step in order: as `push` got it. */
  forEach(each: (line: number, vcpu: number, start: number, end: number, result: StepResult) => void): void {
    const { lines, vcpus, starts, ends, results } = this;
    for (let i = 0; i < this.length; i++)
      each(lines[i] as number, vcpus[i] as number, starts[i] as number, ends[i] as number, results[i] as StepResult);
  }
}

function grown(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

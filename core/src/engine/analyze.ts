/**
 * The engine: text → syntax tree → checked scenario → model steps → Analysis. Deterministic and pure.
 *
 * State snapshots are computed on demand: the model is cloned into a checkpoint every CHECKPOINT_INTERVAL steps,
 * and `stateAt(line)` replays from the nearest checkpoint, so memory and time stay linear in the scenario.
 * `reanalyze` reuses the previous analysis after an edit: lines before the first changed line keep their parse,
 * and the simulation resumes from the last checkpoint before that line.
 */
import type { Kernel } from '../kvm/behaviours.js';
import { createKvm } from '../kvm/kvm.js';
import type { KvmModel, Snapshot, VmConfig } from '../kvm/types.js';
import type { Diagnostic, ParsedLine, ParseResult, Statement } from '../syntax/ast.js';
import { checkScenario, type CheckedScenario } from '../syntax/check.js';
import { parse, parseLine } from '../syntax/parser.js';
import { splitLines } from '../text/positions.js';
import { suggest } from '../util/suggest.js';
import type { Analysis, AnalyzeOptions, ExpectationResult, Step } from './analysis.js';
import { compare, knownPathExamples, resolvePath } from './expect.js';
import { stepDiagnostics } from './step_diagnostics.js';

export const CHECKPOINT_INTERVAL = 256;

interface Checkpoint {
  /** State before steps[stepIndex] ran. */
  stepIndex: number;
  /** First line the simulation looks at after restoring this checkpoint. */
  line: number;
  warnings: number;
  model: KvmModel;
}

/** What the simulation produced; kept (privately) so that `reanalyze` can resume it. */
interface Run {
  lines: string[];
  options: AnalyzeOptions;
  checked: CheckedScenario;
  badLines: ReadonlySet<number>;
  checkpoints: Checkpoint[];
  steps: Step[];
  /** Diagnostics from running (model and expectations), in line order. */
  runDiagnostics: Diagnostic[];
  results: ExpectationResult[];
  warnings: number;
  model: KvmModel;
}

const runs = new WeakMap<Analysis, Run>();

export function analyze(text: string, options: AnalyzeOptions = {}): Analysis {
  const lines = splitLines(text);
  return finish(text, simulate(lines, parse(text), options, undefined));
}

/**
 * The analysis of `text`, reusing `previous` (an analysis of an earlier version of the same document) where the
 * edit allows. Always equal to `analyze(text, options)`.
 */
export function reanalyze(previous: Analysis, text: string, options: AnalyzeOptions = {}): Analysis {
  const prev = runs.get(previous);
  if (!prev || !sameOptions(prev.options, options)) return analyze(text, options);
  const lines = splitLines(text);
  let first = 0;
  const common = Math.min(lines.length, prev.lines.length);
  while (first < common && lines[first] === prev.lines[first]) first++;
  if (first === lines.length && lines.length === prev.lines.length) return previous;

  const parsedLines: ParsedLine[] = previous.parse.lines.slice(0, first);
  for (let i = first; i < lines.length; i++) parsedLines.push(parseLine(lines[i] ?? '', i));
  return finish(text, simulate(lines, assemble(parsedLines), options, { prev, first }));
}

function assemble(lines: ParsedLine[]): ParseResult {
  const statements: Statement[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const l of lines) {
    if (l.statement) statements.push(l.statement);
    for (const d of l.diagnostics) diagnostics.push(d);
  }
  return { lines, statements, diagnostics };
}

function sameOptions(a: AnalyzeOptions, b: AnalyzeOptions): boolean {
  return a.defaultKernel === b.defaultKernel && a.kernelOverride === b.kernelOverride;
}

function sameHeader(a: CheckedScenario, b: CheckedScenario): boolean {
  return a.kernel.label === b.kernel.label && sameVm(a.vm, b.vm);
}

function sameVm(a: VmConfig, b: VmConfig): boolean {
  return (Object.keys(a) as (keyof VmConfig)[]).every((k) => a[k] === b[k]);
}

function simulate(
  lines: string[],
  parsed: ParseResult,
  options: AnalyzeOptions,
  resume: { prev: Run; first: number } | undefined,
): Run & { parsed: ParseResult } {
  const checkOptions: { defaultKernel?: string; kernelOverride?: string } = {};
  if (options.defaultKernel !== undefined) checkOptions.defaultKernel = options.defaultKernel;
  if (options.kernelOverride !== undefined) checkOptions.kernelOverride = options.kernelOverride;
  const checked = checkScenario(parsed, checkOptions);
  const badLines = new Set<number>();
  for (const d of parsed.diagnostics) if (d.severity === 'error') badLines.add(d.span.line);
  for (const d of checked.diagnostics) if (d.severity === 'error') badLines.add(d.span.line);

  // Where to start: from scratch, or from the last checkpoint before the first changed line.
  let start: Checkpoint | undefined;
  if (resume && sameHeader(resume.prev.checked, checked) && sameBadLinesBefore(resume.prev.badLines, badLines, resume.first))
    start = lastCheckpointBefore(resume.prev.checkpoints, resume.first);

  const run: Run & { parsed: ParseResult } = {
    lines,
    parsed,
    options,
    checked,
    badLines,
    checkpoints: [],
    steps: [],
    runDiagnostics: [],
    results: [],
    warnings: 0,
    model: createKvm(checked.kernel, checked.vm),
  };
  let fromLine = 0;
  if (start && resume) {
    const prev = resume.prev;
    run.checkpoints = prev.checkpoints.filter((c) => c.stepIndex <= (start as Checkpoint).stepIndex);
    run.steps = prev.steps.slice(0, start.stepIndex);
    run.runDiagnostics = prev.runDiagnostics.filter((d) => d.span.line < (start as Checkpoint).line);
    run.results = prev.results.filter((r) => r.line < (start as Checkpoint).line);
    run.warnings = start.warnings;
    run.model = start.model.clone();
    fromLine = start.line;
  } else {
    run.checkpoints.push({ stepIndex: 0, line: 0, warnings: 0, model: run.model.clone() });
  }
  execute(run, fromLine);
  return run;
}

function sameBadLinesBefore(a: ReadonlySet<number>, b: ReadonlySet<number>, line: number): boolean {
  for (const l of a) if (l < line && !b.has(l)) return false;
  for (const l of b) if (l < line && !a.has(l)) return false;
  return true;
}

function lastCheckpointBefore(checkpoints: readonly Checkpoint[], line: number): Checkpoint | undefined {
  let best: Checkpoint | undefined;
  for (const c of checkpoints) if (c.line <= line) best = c;
  return best;
}

/** The main loop: runs every statement from `fromLine` on, recording steps, expectations and checkpoints. */
function execute(run: Run & { parsed: ParseResult }, fromLine: number): void {
  const { parsed, checked, badLines, model } = run;
  const kernel: Kernel = checked.kernel;
  for (let line = fromLine; line < parsed.lines.length; line++) {
    const statement = parsed.lines[line]?.statement;
    if (!statement || badLines.has(line)) continue;
    const vcpu = vcpuOfLine(checked.vcpuOf, line);
    if (statement.kind === 'event') {
      if (run.steps.length > 0 && run.steps.length % CHECKPOINT_INTERVAL === 0)
        run.checkpoints.push({ stepIndex: run.steps.length, line, warnings: run.warnings, model: model.clone() });
      const result = model.execute(vcpu, statement.op, line + 1);
      const step: Step = { index: run.steps.length, line, vcpu, statement, result };
      run.steps.push(step);
      for (const a of result.actions) if (a.op === 'warn' || a.op === 'hazard') run.warnings++;
      for (const d of stepDiagnostics(step)) run.runDiagnostics.push(d);
    } else if (statement.kind === 'expect') {
      const previous = run.steps[run.steps.length - 1];
      const r = resolvePath(statement.path, {
        kernel,
        snapshot: model.snapshot(),
        vcpu,
        lineActions: previous?.result.actions ?? [],
        warnings: run.warnings,
      });
      const result = expectationResult(statement, line, r);
      run.results.push(result);
      if (!r.ok) run.runDiagnostics.push(unknownPathDiagnostic(statement, r.message));
      else if (!result.ok)
        run.runDiagnostics.push({ span: statement.span, severity: 'error', code: 'expect-failed', message: result.message });
    }
  }
}

function finish(text: string, run: Run & { parsed: ParseResult }): Analysis {
  const { parsed, checked, steps, checkpoints, model } = run;
  const diagnostics = [...parsed.diagnostics, ...checked.diagnostics, ...run.runDiagnostics];
  diagnostics.sort((a, b) => a.span.line - b.span.line || a.span.start - b.span.start);
  const stepIndexByLine = new Map<number, number>();
  for (const s of steps) stepIndexByLine.set(s.line, s.index);
  let passed = 0;
  for (const r of run.results) if (r.ok) passed++;

  let rootIndex: Map<number, number[]> | undefined;
  const snapshotCache = new Map<number, Snapshot>();
  const finalSnapshot = model.snapshot();
  const stateAfterSteps = (count: number): Snapshot => {
    if (count === steps.length) return finalSnapshot;
    let cp = checkpoints[0] as Checkpoint;
    for (const c of checkpoints) if (c.stepIndex <= count) cp = c;
    const replay = cp.model.clone();
    for (let i = cp.stepIndex; i < count; i++) {
      const s = steps[i] as Step;
      replay.execute(s.vcpu, s.statement.op, s.line + 1);
    }
    return replay.snapshot();
  };

  const analysis: Analysis = {
    text,
    parse: parsed,
    kernel: checked.kernel,
    vm: checked.vm,
    diagnostics,
    steps,
    stepAt: (line) => {
      const i = stepIndexByLine.get(line);
      return i === undefined ? undefined : steps[i];
    },
    vcpuAt: (line) => vcpuOfLine(checked.vcpuOf, line),
    expectations: { passed, failed: run.results.length - passed, results: run.results },
    stateAt: (line) => {
      const count = stepsUpTo(steps, line);
      let s = snapshotCache.get(count);
      if (!s) {
        s = stateAfterSteps(count);
        if (snapshotCache.size > 64) snapshotCache.clear();
        snapshotCache.set(count, s);
      }
      return s;
    },
    final: finalSnapshot,
    rootLines: (id) => {
      rootIndex ??= indexRoots(steps);
      return rootIndex.get(id) ?? [];
    },
  };
  runs.set(analysis, run);
  return analysis;
}

function vcpuOfLine(vcpuOf: ArrayLike<number>, line: number): number {
  const v = vcpuOf[line];
  return v === undefined || v < 0 ? 0 : v;
}

/** Number of steps whose line is ≤ `line` (binary search; steps are in line order). */
function stepsUpTo(steps: readonly Step[], line: number): number {
  let lo = 0;
  let hi = steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((steps[mid] as Step).line <= line) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function indexRoots(steps: readonly Step[]): Map<number, number[]> {
  const index = new Map<number, number[]>();
  const add = (id: number, line: number) => {
    const lines = index.get(id);
    if (!lines) index.set(id, [line]);
    else if (lines[lines.length - 1] !== line) lines.push(line);
  };
  for (const step of steps)
    for (const a of step.result.actions) {
      if (a.root !== undefined) add(a.root, step.line);
      for (const r of a.roots ?? []) add(r, step.line);
    }
  return index;
}

function expectationResult(
  statement: Statement & { kind: 'expect' },
  line: number,
  r: ReturnType<typeof resolvePath>,
): ExpectationResult {
  const want = `${statement.path} ${statement.cmp} ${statement.value}`;
  if (!r.ok) return { line, span: statement.span, ok: false, actual: null, message: r.message };
  if (r.value === null)
    return { line, span: statement.span, ok: false, actual: null, message: `expected ${want}, but ${statement.path} has no value here` };
  const ok = compare(r.value, statement.cmp, statement.value);
  return { line, span: statement.span, ok, actual: r.value, message: ok ? `${want} holds` : `expected ${want}, found ${r.value}` };
}

function unknownPathDiagnostic(statement: Statement & { kind: 'expect' }, message: string): Diagnostic {
  const guess = suggest(statement.path, knownPathExamples());
  const d: Diagnostic = {
    span: statement.pathSpan,
    severity: 'error',
    code: 'unknown-expect-path',
    message: guess ? `${message}; did you mean \`${guess}\`?` : message,
  };
  if (guess) d.fix = { title: `Change to \`${guess}\``, edits: [{ span: statement.pathSpan, newText: guess }] };
  return d;
}

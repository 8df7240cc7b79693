/**
 * The engine: text → syntax tree → checked scenario → model steps → Analysis. Deterministic and pure.
 *
 * State snapshots are computed on demand: the model is cloned into a checkpoint every CHECKPOINT_INTERVAL steps,
 * and `stateAt(line)` replays from the nearest checkpoint, so memory and time stay linear in the scenario.
 * `reanalyze` reuses the previous analysis after an edit: lines before the first changed line keep their parse,
 * and the simulation resumes from the last checkpoint before that line.
 */
import { createKvm } from '../kvm/kvm.js';
import type { KvmModel, Snapshot, VmConfig } from '../kernel/types.js';
import type { Diagnostic, ParsedLine, ParseResult, Span, Statement } from '../syntax/ast.js';
import { checkScenario, type CheckedScenario } from '../syntax/check.js';
import { Parser } from '../syntax/parser.js';
import { LineIndex } from '../text/positions.js';
import type { Analysis, AnalyzeOptions, ExpectationResult, Step } from './analysis.js';
import { allDiagnostics, checkOptionsOf, expectationCounts, runEvent, runExpect } from './run.js';
import { stepDiagnostics } from './step_diagnostics.js';
import { Steps, type StatementOf } from './steps.js';

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
  options: AnalyzeOptions;
  /** The document's parser (it keeps the parses of repeated lines): a reanalysis goes on with it. */
  parser: Parser;
  checked: CheckedScenario;
  badLines: ReadonlySet<number>;
  checkpoints: Checkpoint[];
  steps: Steps;
  /** Diagnostics from running (model and expectations), in line order. */
  runDiagnostics: Diagnostic[];
  results: ExpectationResult[];
  warnings: number;
  model: KvmModel;
}

/** Where an analysis keeps its run (not enumerable: an analysis's own fields are its contract). */
const RUN = Symbol('run');
type WithRun = Analysis & { [RUN]?: Run };

export function analyze(text: string, options: AnalyzeOptions = {}): Analysis {
  const lines = LineIndex.of(text);
  const parser = new Parser();
  const parsedLines: ParsedLine[] = new Array<ParsedLine>(lines.count);
  for (let i = 0; i < lines.count; i++) parsedLines[i] = parser.line(lines.line(i) as string, i);
  return finish(lines, simulate(lines, assemble(parsedLines), options, parser, undefined));
}

/**
 * The analysis of `text`, reusing `previous` (an analysis of an earlier version of the same document) where the
 * edit allows. Always equal to `analyze(text, options)`.
 */
export function reanalyze(previous: Analysis, text: string, options: AnalyzeOptions = {}): Analysis {
  const prev = (previous as WithRun)[RUN];
  if (!prev || !sameOptions(prev.options, options)) return analyze(text, options);
  if (text === previous.text) return previous;
  // Only the text from the first changed line on is split and parsed again (an edit at the end of a long
  // document costs the edit, not the document).
  const { line: first, offset } = firstChangedLine(previous.text, text);
  const lines = LineIndex.edit(previous.lines, text, first, offset);
  const parsedLines: ParsedLine[] = previous.parse.lines.slice(0, first);
  for (let i = first; i < lines.count; i++) parsedLines.push(prev.parser.line(lines.line(i) as string, i));
  const parsed = assemble(parsedLines);
  return finish(
    lines,
    reuse(prev, lines, previous.parse.lines, parsed, first) ??
      simulate(lines, parsed, options, prev.parser, { prev, first }),
  );
}

/**
 * An edit that changes no statement — typing in a comment, moving a statement sideways with spaces — leaves the
 * model's run as it was: only positions moved. Then the previous run is kept, with the moved statements (and
 * their step diagnostics) swapped in, instead of re-running the model from the first changed line. Undefined
 * when the edit may change more (a statement, an expectation, the number of lines, the header, a line's errors).
 */
function reuse(
  prev: Run,
  text: LineIndex,
  oldLines: readonly ParsedLine[],
  parsed: ParseResult,
  first: number,
): (Run & { parsed: ParseResult }) | undefined {
  const lines = parsed.lines;
  if (lines.length !== oldLines.length) return undefined;
  const moved: number[] = [];
  for (let i = first; i < lines.length; i++) {
    const same = compareModuloSpans(oldLines[i], lines[i]);
    if (same === Same.Different) return undefined;
    if (same === Same.Moved) {
      if (lines[i]?.statement?.kind === 'expect') return undefined; // its result holds spans: recompute
      moved.push(i);
    }
  }
  const checked = checkScenario(parsed, checkOptionsOf(prev.options));
  const badLines = badLinesOf(parsed, checked);
  if (!sameHeader(prev.checked, checked) || !sameSet(prev.badLines, badLines)) return undefined;
  for (let i = 0; i < lines.length; i++) if (checked.vcpuOf[i] !== prev.checked.vcpuOf[i]) return undefined;

  const steps = prev.steps.prefix(prev.steps.length, statementOfLines(lines));
  const movedSet = new Set(moved);
  const runDiagnostics = prev.runDiagnostics.filter((d) => !movedSet.has(d.span.line));
  for (const line of moved) {
    const at = stepsUpTo(steps, line) - 1;
    const statement = lines[line]?.statement;
    if (at < 0 || steps.lineOf(at) !== line || statement?.kind !== 'event') continue;
    const offset = text.start(line) ?? 0;
    const key = prev.parser.known(text.line(line) as string) ?? statement;
    steps.moved(at, offset + statement.span.start, offset + statement.span.end, key);
    for (const d of stepDiagnostics(steps.at(at) as Step)) runDiagnostics.push(d);
  }
  // Run diagnostics are in line order (and, within a line, in the order they were made): restore that order.
  if (moved.length > 0) runDiagnostics.sort((a, b) => a.span.line - b.span.line);
  return { ...prev, parsed, checked, badLines, steps, runDiagnostics };
}

const enum Same {
  Identical,
  /** Equal but for positions (spans). */
  Moved,
  Different,
}

/** Structural comparison of parsed lines (plain data: objects, arrays, strings, numbers, bigints, booleans). */
function compareModuloSpans(a: unknown, b: unknown): Same {
  if (a === b) return Same.Identical;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return Same.Different;
  if (isSpan(a) && isSpan(b)) return Same.Moved;
  if (Array.isArray(a) !== Array.isArray(b)) return Same.Different;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return Same.Different;
  let result = Same.Identical;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return Same.Different;
    const r = compareModuloSpans((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]);
    if (r === Same.Different) return r;
    if (r === Same.Moved) result = Same.Moved;
  }
  return result;
}

function isSpan(o: object): boolean {
  const s = o as Partial<Span>;
  return (
    typeof s.line === 'number' &&
    typeof s.start === 'number' &&
    typeof s.end === 'number' &&
    Object.keys(o).length === 3
  );
}

function sameSet(a: ReadonlySet<number>, b: ReadonlySet<number>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/**
 * The first line of `b` whose text may differ from the same line of `a`, and where it starts in `b`: every
 * earlier line (content and line number) is the same in both. Line breaks are \n, \r\n and \r, as LineIndex.
 */
function firstChangedLine(a: string, b: string): { line: number; offset: number } {
  const n = Math.min(a.length, b.length);
  let d = 0;
  while (d < n && a.charCodeAt(d) === b.charCodeAt(d)) d++;
  // Count the line breaks that start before d; a line whose break starts before d ends before d in both texts.
  let line = 0;
  let offset = 0;
  for (let i = 0; i < d; i++) {
    const c = b.charCodeAt(i);
    if (c === 10) {
      line++;
      offset = i + 1;
    } else if (c === 13) {
      if (i + 1 < b.length && b.charCodeAt(i + 1) === 10) i++;
      line++;
      offset = i + 1;
    }
  }
  return { line, offset };
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
  return (
    a.defaultKernel === b.defaultKernel &&
    a.kernelOverride === b.kernelOverride &&
    (a.checkpoints !== false) === (b.checkpoints !== false)
  );
}

function sameHeader(a: CheckedScenario, b: CheckedScenario): boolean {
  return a.kernel.label === b.kernel.label && sameVm(a.vm, b.vm);
}

function sameVm(a: VmConfig, b: VmConfig): boolean {
  return (Object.keys(a) as (keyof VmConfig)[]).every((k) => a[k] === b[k]);
}

/** A step's statement is its line's (the key a step has is only for its text). */
function statementOfLines(lines: readonly ParsedLine[]): StatementOf {
  return (_key, line) => lines[line]?.statement as Statement & { kind: 'event' };
}

function simulate(
  text: LineIndex,
  parsed: ParseResult,
  options: AnalyzeOptions,
  parser: Parser,
  resume: { prev: Run; first: number } | undefined,
): Run & { parsed: ParseResult } {
  const checked = checkScenario(parsed, checkOptionsOf(options));
  const badLines = badLinesOf(parsed, checked);

  // Where to start: from scratch, or from the last checkpoint before the first changed line.
  let start: Checkpoint | undefined;
  if (
    resume &&
    sameHeader(resume.prev.checked, checked) &&
    sameBadLinesBefore(resume.prev.badLines, badLines, resume.first)
  )
    start = lastCheckpointBefore(resume.prev.checkpoints, resume.first);

  const run: Run & { parsed: ParseResult; text: LineIndex } = {
    parsed,
    text,
    options,
    parser,
    checked,
    badLines,
    checkpoints: [],
    steps: new Steps(statementOfLines(parsed.lines)),
    runDiagnostics: [],
    results: [],
    warnings: 0,
    model: createKvm(checked.kernel, checked.vm),
  };
  let fromLine = 0;
  if (start && resume) {
    const prev = resume.prev;
    run.checkpoints = prev.checkpoints.filter((c) => c.stepIndex <= start.stepIndex);
    run.steps = prev.steps.prefix(start.stepIndex, statementOfLines(parsed.lines));
    run.runDiagnostics = prev.runDiagnostics.filter((d) => d.span.line < start.line);
    run.results = prev.results.filter((r) => r.line < start.line);
    run.warnings = start.warnings;
    run.model = start.model.clone();
    fromLine = start.line;
  } else {
    run.checkpoints.push({ stepIndex: 0, line: 0, warnings: 0, model: run.model.clone() });
  }
  execute(run, fromLine);
  return run;
}

/** Lines with an error (parse or check): they do not run. */
function badLinesOf(parsed: ParseResult, checked: CheckedScenario): Set<number> {
  const badLines = new Set<number>();
  for (const d of parsed.diagnostics) if (d.severity === 'error') badLines.add(d.span.line);
  for (const d of checked.diagnostics) if (d.severity === 'error') badLines.add(d.span.line);
  return badLines;
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
function execute(run: Run & { parsed: ParseResult; text: LineIndex }, fromLine: number): void {
  const { parsed, checked, badLines, model, text, steps } = run;
  const keepCheckpoints = run.options.checkpoints !== false;
  for (let line = fromLine; line < parsed.lines.length; line++) {
    const statement = parsed.lines[line]?.statement;
    if (!statement || (badLines.size > 0 && badLines.has(line))) continue;
    const vcpu = vcpuOfLine(checked.vcpuOf, line);
    if (statement.kind === 'event') {
      if (keepCheckpoints && steps.length > 0 && steps.length % CHECKPOINT_INTERVAL === 0)
        run.checkpoints.push({ stepIndex: steps.length, line, warnings: run.warnings, model: model.clone() });
      const index = steps.length;
      const result = runEvent(run, model, index, line, vcpu, statement);
      const offset = text.start(line) ?? 0;
      // Lines with the same text share a key for it (the report encodes it once); the statement is the line's.
      const key = run.parser.known(text.line(line) as string) ?? statement;
      steps.push(line, vcpu, offset + statement.span.start, offset + statement.span.end, result, key);
    } else if (statement.kind === 'expect') {
      const last = steps.length - 1;
      runExpect(run, model, line, vcpu, statement, last < 0 ? [] : steps.resultOf(last).actions);
    }
  }
}

function finish(lines: LineIndex, run: Run & { parsed: ParseResult }): Analysis {
  const { parsed, checked, steps, checkpoints, model } = run;
  const diagnostics = allDiagnostics(parsed.diagnostics, checked.diagnostics, run.runDiagnostics, checked);

  let rootIndex: Map<number, number[]> | undefined;
  const snapshotCache = new Map<number, Snapshot>();
  const finalSnapshot = model.snapshot();
  const stateAfterSteps = (count: number): Snapshot => {
    if (count === steps.length) return finalSnapshot;
    let cp = checkpoints[0] as Checkpoint;
    for (const c of checkpoints) if (c.stepIndex <= count) cp = c;
    const replay = cp.model.clone();
    for (let i = cp.stepIndex; i < count; i++) {
      const s = steps.at(i) as Step;
      replay.execute(s.vcpu, s.statement.op, s.line + 1);
    }
    return replay.snapshot();
  };

  const analysis: Analysis = {
    text: lines.text,
    lines,
    parse: parsed,
    kernel: checked.kernel,
    vm: checked.vm,
    diagnostics,
    steps,
    stepAt: (line) => {
      // Steps are in line order, at most one per line: a binary search, no per-line index to build and keep.
      const i = stepsUpTo(steps, line) - 1;
      return i >= 0 && steps.lineOf(i) === line ? steps.at(i) : undefined;
    },
    vcpuAt: (line) => vcpuOfLine(checked.vcpuOf, line),
    expectations: expectationCounts(run.results),
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
  Object.defineProperty(analysis, RUN, { value: run });
  return analysis;
}

function vcpuOfLine(vcpuOf: ArrayLike<number>, line: number): number {
  const v = vcpuOf[line];
  return v === undefined || v < 0 ? 0 : v;
}

/** Number of steps whose line is ≤ `line` (binary search; steps are in line order). */
function stepsUpTo(steps: Steps, line: number): number {
  let lo = 0;
  let hi = steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (steps.lineOf(mid) <= line) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function indexRoots(steps: Steps): Map<number, number[]> {
  const index = new Map<number, number[]>();
  const add = (id: number, line: number) => {
    const lines = index.get(id);
    if (!lines) index.set(id, [line]);
    else if (lines[lines.length - 1] !== line) lines.push(line);
  };
  for (let i = 0; i < steps.length; i++) {
    const line = steps.lineOf(i);
    for (const a of steps.resultOf(i).actions) {
      if (a.root !== undefined) add(a.root, line);
      for (const r of a.roots ?? []) add(r, line);
    }
  }
  return index;
}

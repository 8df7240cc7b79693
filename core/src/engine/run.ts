/**
 * Running a checked scenario's statements, one at a time in line order: an event is a model step, an expectation
 * is compared with the model's state. Shared by `analyze` (which keeps every step for the editor) and
 * `analyzeOnePass` (which keeps only what a report needs), so both run a line the same way.
 */
import type { Action, KvmModel, StepResult } from '../kernel/types.js';
import type { CheckedHeader, CheckOptions } from '../syntax/check.js';
import type { Diagnostic, Statement } from '../syntax/ast.js';
import { suggest } from '../util/suggest.js';
import type { AnalyzeOptions, ExpectationResult } from './analysis.js';
import { compare, knownPathExamples, resolvePath } from './expect.js';
import { stepDiagnostics } from './step_diagnostics.js';

/** The options of the checks (the kernel settings) among an analysis's options. */
export function checkOptionsOf(options: AnalyzeOptions): CheckOptions {
  const checkOptions: CheckOptions = {};
  if (options.defaultKernel !== undefined) checkOptions.defaultKernel = options.defaultKernel;
  if (options.kernelOverride !== undefined) checkOptions.kernelOverride = options.kernelOverride;
  return checkOptions;
}

/** What running statements accumulates besides the steps themselves. */
export interface Progress {
  /** WARNs and hazards so far (expectations can test the count). */
  warnings: number;
  /** Diagnostics from running (model and expectations), in line order. */
  runDiagnostics: Diagnostic[];
  results: ExpectationResult[];
}

/**
 * Runs the event on 0-based `line` on `vcpu` as step number `index` and returns its result, noting its warnings and
 * diagnostics in `p`. The caller keeps the step (or only the result, as the one-pass analysis does): no step object
 * is made here unless the step has diagnostics.
 */
export function runEvent(
  p: Progress,
  model: KvmModel,
  index: number,
  line: number,
  vcpu: number,
  statement: Statement & { kind: 'event' },
): StepResult {
  const result = model.execute(vcpu, statement.op, line + 1);
  let warnings = 0;
  const actions = result.actions;
  for (let i = 0; i < actions.length; i++) {
    const op = (actions[i] as Action).op;
    if (op === 'warn' || op === 'hazard') warnings++;
  }
  p.warnings += warnings;
  // Most steps are plain `ok` with no WARN or hazard: they have no diagnostics to compute.
  if ((result.outcome !== 'ok' && result.outcome !== 'no_exit') || warnings > 0)
    for (const d of stepDiagnostics({ index, line, vcpu, statement, result })) p.runDiagnostics.push(d);
  return result;
}

/** Evaluates the expectation on 0-based `line` against the state now; `lineActions`: the last step's actions. */
export function runExpect(
  p: Progress,
  model: KvmModel,
  line: number,
  vcpu: number,
  statement: Statement & { kind: 'expect' },
  lineActions: readonly Action[],
): void {
  const r = resolvePath(statement.path, {
    kernel: model.kernel,
    snapshot: model.snapshot(),
    vcpu,
    lineActions,
    warnings: p.warnings,
  });
  const result = expectationResult(statement, line, r);
  p.results.push(result);
  if (!r.ok) p.runDiagnostics.push(unknownPathDiagnostic(statement, r.message));
  else if (!result.ok)
    p.runDiagnostics.push({ span: statement.span, severity: 'error', code: 'expect-failed', message: result.message });
}

/**
 * Every diagnostic of an analysis, sorted by position (stably: on one position, parse before check before run,
 * each in the order made), with a warning at the top when a kernel setting could not be resolved.
 */
export function allDiagnostics(
  parse: readonly Diagnostic[],
  check: readonly Diagnostic[],
  run: readonly Diagnostic[],
  header: Pick<CheckedHeader, 'kernel' | 'kernelError'>,
): Diagnostic[] {
  const diagnostics = [...parse, ...check, ...run];
  // A bad default or override kernel (a setting, not a line of the file) must not pass silently: say which
  // kernel the file was analysed with instead.
  if (header.kernelError !== undefined)
    diagnostics.push({
      span: { line: 0, start: 0, end: 0 },
      severity: 'warning',
      code: 'bad-kernel-setting',
      message: `${header.kernelError}; analysed with ${header.kernel.label}`,
    });
  diagnostics.sort((a, b) => a.span.line - b.span.line || a.span.start - b.span.start);
  return diagnostics;
}

/** How many expectations held and failed, with the results. */
export function expectationCounts(results: readonly ExpectationResult[]): {
  passed: number;
  failed: number;
  results: readonly ExpectationResult[];
} {
  let passed = 0;
  for (const r of results) if (r.ok) passed++;
  return { passed, failed: results.length - passed, results };
}

function expectationResult(
  statement: Statement & { kind: 'expect' },
  line: number,
  r: ReturnType<typeof resolvePath>,
): ExpectationResult {
  const want = `${statement.path} ${statement.cmp} ${statement.value}`;
  if (!r.ok) return { line, span: statement.span, ok: false, actual: null, message: r.message };
  if (r.value === null)
    return {
      line,
      span: statement.span,
      ok: false,
      actual: null,
      message: `expected ${want}, but ${statement.path} has no value here`,
    };
  const ok = compare(r.value, statement.cmp, statement.value);
  return {
    line,
    span: statement.span,
    ok,
    actual: r.value,
    message: ok ? `${want} holds` : `expected ${want}, found ${r.value}`,
  };
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

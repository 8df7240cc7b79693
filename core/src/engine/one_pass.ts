/**
 * A scenario analysed in one pass, for a report: the same diagnostics, expectation results, steps and final state
 * as `analyze`, without keeping the syntax tree. Each line is parsed, checked and run, then dropped; a step keeps
 * its result, its statement and where the statement is in the text (the report quotes it). The CLI's `check` reads
 * a long scenario this way: nothing per line is kept but a few numbers and references to a result and a statement
 * (both usually shared by many steps), so the collector has next to nothing to trace or move.
 *
 * The header decides how every line runs. It is read from the top, and the lines run from the first event on; a
 * `kernel` or `vm` line after that is an error but still applies to the whole file, so then the text is read again:
 * once for the header, once to check and run each line.
 */
import type { Kernel } from '../kernel/behaviours.js';
import { createKvm } from '../kvm/kvm.js';
import type { Action, KvmModel, Snapshot, VmConfig } from '../kernel/types.js';
import type { Diagnostic, ParsedLine, Statement } from '../syntax/ast.js';
import { Steps } from './steps.js';
import { HeaderScan, LineChecker, type CheckedHeader, type CheckOptions } from '../syntax/check.js';
import { eventStatementAt, Parser, type EventLine } from '../syntax/parser.js';
import { forEachLine } from '../text/positions.js';
import type { AnalyzeOptions, ExpectationResult } from './analysis.js';
import { allDiagnostics, checkOptionsOf, expectationCounts, runEvent, runExpect, type Progress } from './run.js';

export interface OnePassAnalysis {
  readonly text: string;
  readonly kernel: Kernel;
  readonly vm: Readonly<VmConfig>;
  /** As Analysis.diagnostics. */
  readonly diagnostics: readonly Diagnostic[];
  readonly expectations: { passed: number; failed: number; results: readonly ExpectationResult[] };
  /** State after the last line. */
  readonly final: Snapshot;
  readonly steps: Steps;
}

export function analyzeOnePass(text: string, options: AnalyzeOptions = {}): OnePassAnalysis {
  const checkOptions = checkOptionsOf(options);
  const parser = new Parser();
  // Given the header, a pass does not give up.
  return (
    onePass(text, checkOptions, parser) ??
    (onePass(text, checkOptions, parser, headerOf(text, checkOptions, parser)) as OnePassAnalysis)
  );
}

/** The header from every line (the first of two passes, for a file whose header is not all at the top). */
function headerOf(text: string, checkOptions: CheckOptions, parser: Parser): CheckedHeader {
  const scan = new HeaderScan();
  forEachLine(text, (line, i) => {
    scan.line(parser.line(line, i));
  });
  return scan.finish(checkOptions);
}

/**
 * One pass over `text`. Without a `header`, the header is taken from the lines before the first event, and the
 * pass gives up (undefined) at a `kernel` or `vm` line after it: that is an error, but the line still applies to
 * the whole file, so the caller reads the header first and passes it.
 */
function onePass(
  text: string,
  checkOptions: CheckOptions,
  parser: Parser,
  known?: CheckedHeader,
): OnePassAnalysis | undefined {
  const scan = known ? undefined : new HeaderScan();
  const parseDiagnostics: Diagnostic[] = [];
  const lineDiagnostics: Diagnostic[] = [];
  const progress: Progress = { warnings: 0, runDiagnostics: [], results: [] };
  const steps = new Steps(statementOfKey);
  let header: CheckedHeader | undefined;
  let checker: LineChecker | undefined;
  let model: KvmModel | undefined;
  let lastActions: readonly Action[] = [];
  /** Lines seen before the header was known (blank lines, comments, the header): checked once it is. */
  let before: [ParsedLine, number, number][] = [];
  let lateHeader = false;

  const runLine = (pl: ParsedLine, line: number, start: number, key: object | undefined): void => {
    const m = model as KvmModel;
    let bad = false;
    // Indexed, not for…of: nearly every line has none, and an iterator per line is garbage per line.
    const diagnostics = pl.diagnostics;
    for (let i = 0; i < diagnostics.length; i++) {
      const d = diagnostics[i] as Diagnostic;
      parseDiagnostics.push(d);
      if (d.severity === 'error') bad = true;
    }
    const checked = lineDiagnostics.length;
    const vcpu = (checker as LineChecker).check(pl);
    for (let i = checked; i < lineDiagnostics.length; i++)
      if ((lineDiagnostics[i] as Diagnostic).severity === 'error') bad = true;
    const statement = pl.statement;
    if (statement && !bad) {
      const runsOn = vcpu < 0 ? 0 : vcpu;
      if (statement.kind === 'event') {
        const result = runEvent(progress, m, steps.length, line, runsOn, statement);
        steps.push(line, runsOn, start + statement.span.start, start + statement.span.end, result, key ?? statement);
        lastActions = result.actions;
      } else if (statement.kind === 'expect') {
        runExpect(progress, m, line, runsOn, statement, lastActions);
      }
    }
  };

  /** The header is known: the lines seen so far are checked and run, and the rest as they come. */
  const begin = (h: CheckedHeader): void => {
    header = h;
    checker = new LineChecker(h, lineDiagnostics);
    model = createKvm(h.kernel, h.vm);
    for (const [pl, line, start] of before) runLine(pl, line, start, undefined);
    before = [];
  };
  if (known) begin(known);

  forEachLine(text, (lineText, line, start) => {
    if (scan && !header) {
      const pl = parser.line(lineText, line);
      scan.line(pl);
      before.push([pl, line, start]);
      if (scan.eventsBegan) begin(scan.finish(checkOptions));
      return true;
    }
    const pl = parser.line(lineText, line);
    if (scan && (pl.statement?.kind === 'kernel' || pl.statement?.kind === 'vm' || pl.recovered)) {
      lateHeader = true;
      return false;
    }
    // Lines with the same text share the key of their statement's text (the report encodes it once).
    runLine(pl, line, start, parser.known(lineText));
    return true;
  });
  if (lateHeader) return undefined;
  // Nothing but the header (or nothing at all): the lines still get their checks.
  if (scan && !header) begin(scan.finish(checkOptions));
  const h = header as CheckedHeader;
  return {
    text,
    kernel: h.kernel,
    vm: h.vm,
    diagnostics: allDiagnostics(parseDiagnostics, [...h.diagnostics, ...lineDiagnostics], progress.runDiagnostics, h),
    expectations: expectationCounts(progress.results),
    final: (model as KvmModel).snapshot(),
    steps,
  };
}

/** A one-pass step's statement from its key: the line's columns (a repeated line) or the statement itself. */
function statementOfKey(key: object, line: number): Statement & { kind: 'event' } {
  return 'kind' in key ? (key as Statement & { kind: 'event' }) : eventStatementAt(key as EventLine, line);
}

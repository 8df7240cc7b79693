/**
 * The syntax tree of a `.kvmmu` scenario. The language is line oriented: one statement per line.
 * Positions are 0-based lines and UTF-16 columns; spans are half-open [start, end) on one line.
 * The CLI and JSON print them 1-based; conversion happens in one place (core/src/text/positions.ts).
 */
import type { ModelOp } from '../kernel/types.js';

export interface Span {
  line: number;
  start: number;
  end: number;
}

export type Severity = 'error' | 'warning' | 'info';

export interface TextEdit {
  span: Span;
  newText: string;
}

export interface Diagnostic {
  span: Span;
  severity: Severity;
  message: string;
  /** Stable machine-readable code, e.g. "unknown-event", "expect-failed", "gp", "kvm-warn". */
  code: string;
  /** A quick fix, when one fits ("did you mean `rsm`?" → replace). */
  fix?: { title: string; edits: TextEdit[] };
}

/** A name with its span, e.g. a profile or behaviour name. */
export interface Named {
  name: string;
  span: Span;
}

export interface KernelMod {
  sign: '+' | '-';
  name: string;
  span: Span;
}

export interface VmSetting {
  key: string;
  value: string;
  span: Span;
  keySpan: Span;
  valueSpan: Span;
}

export type ExpectOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

interface StatementBase {
  /** The whole statement without its trailing comment/whitespace. */
  span: Span;
  /** `vcpu N:` prefix: the statement acts on vCPU N without switching. */
  vcpuPrefix?: { id: number; span: Span };
}

export type Statement =
  | (StatementBase & { kind: 'kernel'; profile: Named; mods: KernelMod[] })
  | (StatementBase & { kind: 'vm'; settings: VmSetting[] })
  /** `vcpu N`: following statements act on vCPU N. */
  | (StatementBase & { kind: 'vcpu'; id: number; idSpan: Span })
  /** Register writes and events, lowered for the model. `keyword` is the leading word ("cr0", "smi", …). */
  | (StatementBase & { kind: 'event'; keyword: string; keywordSpan: Span; op: ModelOp })
  | (StatementBase & {
      kind: 'expect';
      path: string;
      pathSpan: Span;
      cmp: ExpectOp;
      /** Numbers; `true`/`false` are 1/0. */
      value: number;
      valueSpan: Span;
    })
  | (StatementBase & { kind: 'decode'; what: 'role' | 'cpu_role'; word: bigint; wordSpan: Span });

export type StatementKind = Statement['kind'];

/** One source line after parsing: at most one statement, any number of diagnostics, the comment. */
export interface ParsedLine {
  statement?: Statement;
  diagnostics: Diagnostic[];
  /** Span of the `#` comment if any (for formatting and folding). */
  comment?: Span;
  /** Span of the text before the comment, trimmed; absent for blank and comment-only lines. */
  content?: Span;
  /** The leading word (after any `vcpu N:` prefix), even when the statement did not parse. */
  keyword?: Named;
  /** A well-formed `vcpu N:` prefix, even when the statement after it did not parse. */
  vcpuPrefix?: { id: number; span: Span };
  /**
   * A `vm` line with errors, reduced to the settings that did parse (`statement` is absent: the line has errors).
   * The header applies these, so one bad value does not turn `vcpus=4` into 1 and every later line into an error
   * that contradicts the file.
   */
  recovered?: Statement & { kind: 'vm' };
}

export interface ParseResult {
  lines: ParsedLine[];
  /** Convenience: every statement in order. */
  statements: Statement[];
  diagnostics: Diagnostic[];
}

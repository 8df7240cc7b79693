/**
 * The steps of an analysis, the one representation every consumer reads (the editor's features, the report, the
 * cross-kernel runs): column-wise, numbers in typed arrays and one array of results (most of them shared by many
 * steps), so a long scenario keeps next to nothing per step for the collector to trace or move. A step as an
 * object (`Step`) is made when asked for (`at`, iteration).
 */
import type { StepResult } from '../kernel/types.js';
import type { Statement } from '../syntax/ast.js';
import type { Step } from './analysis.js';

type EventStatement = Statement & { kind: 'event' };

/** The statement step `index` ran, on 0-based `line`, given the key its text was recorded with. */
export type StatementOf = (key: object, line: number) => EventStatement;

export class Steps implements Iterable<Step> {
  length = 0;
  private lines: Int32Array;
  private vcpus: Int32Array;
  private starts: Int32Array;
  private ends: Int32Array;
  private readonly results: StepResult[] = [];
  private readonly keys: object[] = [];

  /** `statementOf` gives a step's statement back from its key and line (see `push`). */
  constructor(
    private readonly statementOf: StatementOf,
    capacity = 1024,
  ) {
    const n = Math.max(16, capacity);
    this.lines = new Int32Array(n);
    this.vcpus = new Int32Array(n);
    this.starts = new Int32Array(n);
    this.ends = new Int32Array(n);
  }

  /**
   * A step: its 0-based line, vCPU, where its statement starts and ends in the text (UTF-16 offsets), its result,
   * and a key for its statement's text: lines with the same text share one (Parser.known), so a writer encodes
   * the text once per key.
   */
  push(line: number, vcpu: number, start: number, end: number, result: StepResult, key: object): void {
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
    this.keys.push(key);
    this.length = i + 1;
  }

  /** The first `count` steps, with `statementOf` for the text they now belong to (a reanalysis). */
  prefix(count: number, statementOf: StatementOf): Steps {
    const n = Math.min(count, this.length);
    const s = new Steps(statementOf, n + 1024);
    s.lines.set(this.lines.subarray(0, n));
    s.vcpus.set(this.vcpus.subarray(0, n));
    s.starts.set(this.starts.subarray(0, n));
    s.ends.set(this.ends.subarray(0, n));
    for (let i = 0; i < n; i++) {
      s.results.push(this.results[i] as StepResult);
      s.keys.push(this.keys[i] as object);
    }
    s.length = n;
    return s;
  }

  /** Step `index` moved within its line (an edit that changed only positions): its statement's new place and key. */
  moved(index: number, start: number, end: number, key: object): void {
    if (index < 0 || index >= this.length) return;
    this.starts[index] = start;
    this.ends[index] = end;
    this.keys[index] = key;
  }

  /** The 0-based line of step `index`. */
  lineOf(index: number): number {
    return this.lines[index] as number;
  }

  /** The result of step `index`. */
  resultOf(index: number): StepResult {
    return this.results[index] as StepResult;
  }

  /** Step `index` as an object, or undefined past the end. */
  at(index: number): Step | undefined {
    if (index < 0 || index >= this.length) return undefined;
    const line = this.lines[index] as number;
    return {
      index,
      line,
      vcpu: this.vcpus[index] as number,
      statement: this.statementOf(this.keys[index] as object, line),
      result: this.results[index] as StepResult,
    };
  }

  *[Symbol.iterator](): Iterator<Step> {
    for (let i = 0; i < this.length; i++) yield this.at(i) as Step;
  }

  /** Every step as an object (for a caller that wants an array: tests, small documents). */
  toArray(): Step[] {
    return Array.from(this);
  }

  /** The steps, column by column: entry i of each is step i's (as `push` got it), for i < length. */
  columns(): {
    lines: Int32Array;
    vcpus: Int32Array;
    starts: Int32Array;
    ends: Int32Array;
    results: readonly StepResult[];
    keys: readonly object[];
  } {
    const { lines, vcpus, starts, ends, results, keys } = this;
    return { lines, vcpus, starts, ends, results, keys };
  }
}

function grown(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

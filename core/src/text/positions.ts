/**
 * Positions are converted in one place. Internally: 0-based lines, UTF-16 columns, half-open spans on one line.
 * The CLI and JSON print 1-based line:column.
 */
import type { Span } from '../syntax/ast.js';

/**
 * The one definition of a line: text split on \n, \r\n and a lone \r, as the parser, every editor feature, the
 * server and the CLI see it. `LineIndex` keeps where each line starts, so a line's text is a slice and a line
 * number is a binary search; `splitLines` and `forEachLine` walk the same lines without one (a report that reads
 * each line once need not keep an index of them all).
 */
export class LineIndex {
  private constructor(
    readonly text: string,
    /** Offset where each line starts; there is always at least one line. */
    private readonly starts: Uint32Array,
  ) {}

  static of(text: string): LineIndex {
    return new LineIndex(text, scanStarts(text, 0, [0]));
  }

  /**
   * The index of `text`, an edit of `previous.text` in which lines before `firstChanged` (which starts at `offset`
   * in `text`) are unchanged: their starts are copied, only the rest is scanned.
   */
  static edit(previous: LineIndex, text: string, firstChanged: number, offset: number): LineIndex {
    if (firstChanged < 1 || firstChanged > previous.count) return LineIndex.of(text);
    const prefix = Array.from(previous.starts.subarray(0, firstChanged));
    prefix.push(offset);
    return new LineIndex(text, scanStarts(text, offset, prefix));
  }

  get count(): number {
    return this.starts.length;
  }

  /** Offset where 0-based `line` starts (undefined past the end). */
  start(line: number): number | undefined {
    return this.starts[line];
  }

  /** Offset where `line`'s break starts (the text's length for the last line). */
  end(line: number): number | undefined {
    if (this.starts[line] === undefined) return undefined;
    const next = this.starts[line + 1];
    if (next === undefined) return this.text.length;
    // The break before `next` is \n, \r or \r\n.
    return this.text.charCodeAt(next - 1) === 10 && this.text.charCodeAt(next - 2) === 13 ? next - 2 : next - 1;
  }

  /** Text of 0-based `line` without its break; undefined for a line that does not exist (negative, fractional). */
  line(line: number): string | undefined {
    const start = this.starts[line];
    if (start === undefined) return undefined;
    return this.text.slice(start, this.end(line));
  }

  /** Every line, as `splitLines` gives them. */
  lines(): string[] {
    const out = new Array<string>(this.starts.length);
    for (let i = 0; i < out.length; i++) out[i] = this.line(i) as string;
    return out;
  }

  /** The 0-based line `offset` is on (a break belongs to the line it ends). */
  lineAt(offset: number): number {
    let lo = 0;
    let hi = this.starts.length;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((this.starts[mid] as number) <= offset) lo = mid;
      else hi = mid;
    }
    return lo;
  }
}

function scanStarts(text: string, from: number, starts: number[]): Uint32Array {
  forEachLineSpan(text, from, (start) => {
    if (start !== from) starts.push(start);
  });
  return Uint32Array.from(starts);
}

/** Every source line without its break (split on \n, \r\n and \r, as the parser does). */
export function splitLines(text: string): string[] {
  // Splitting on one character is several times faster than on the pattern; most files have no \r at all.
  return text.includes('\r') ? text.split(/\r\n|\r|\n/) : text.split('\n');
}

/**
 * Calls `each` with every source line without its break, its 0-based number and the offset where it starts in
 * `text`, in order — `splitLines(text)` without the array, so that a long document's lines need not all be alive
 * at once. Stops early when `each` returns false.
 */
export function forEachLine(text: string, each: (line: string, index: number, start: number) => boolean | void): void {
  let index = 0;
  forEachLineSpan(text, 0, (start, end) => each(text.slice(start, end), index++, start));
}

/** The lines from offset `from` on, as `[start, end)` offsets (end: where the line's break begins). */
function forEachLineSpan(text: string, from: number, each: (start: number, end: number) => boolean | void): void {
  // The next \r is looked up again only once passed: a stray \r far ahead is not searched for on every line.
  let nextCr = text.indexOf('\r', from);
  let start = from;
  for (;;) {
    if (nextCr >= 0 && nextCr < start) nextCr = text.indexOf('\r', start);
    let end = text.indexOf('\n', start);
    if (nextCr >= 0 && (end < 0 || nextCr < end)) end = nextCr;
    if (end < 0) {
      each(start, text.length);
      return;
    }
    if (each(start, end) === false) return;
    start = text.charCodeAt(end) === 13 && text.charCodeAt(end + 1) === 10 ? end + 2 : end + 1;
  }
}

/** The text a span covers, given the document's lines. */
export function spanText(lines: readonly string[], span: Span): string {
  return (lines[span.line] ?? '').slice(span.start, span.end);
}

/** "file:line:col" with 1-based numbers. */
export function formatLocation(file: string, span: Span): string {
  return `${file}:${span.line + 1}:${span.start + 1}`;
}

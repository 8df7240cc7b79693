/**
 * Positions are converted in one place. Internally: 0-based lines, UTF-16 columns, half-open spans on one line.
 * The CLI and JSON print 1-based line:column.
 */
import type { Span } from '../syntax/ast.js';

/** Start offsets of every line (split on \n, \r\n and \r, as the parser does). */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) starts.push(i + 1);
    else if (c === 13) {
      if (text.charCodeAt(i + 1) === 10) i++;
      starts.push(i + 1);
    }
  }
  return starts;
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
  // The next \r is looked up again only once passed: a stray \r far ahead is not searched for on every line.
  let nextCr = text.indexOf('\r');
  let start = 0;
  let index = 0;
  for (;;) {
    if (nextCr >= 0 && nextCr < start) nextCr = text.indexOf('\r', start);
    let end = text.indexOf('\n', start);
    if (nextCr >= 0 && (end < 0 || nextCr < end)) end = nextCr;
    if (end < 0) {
      each(text.slice(start), index, start);
      return;
    }
    if (each(text.slice(start, end), index++, start) === false) return;
    start = text.charCodeAt(end) === 13 && text.charCodeAt(end + 1) === 10 ? end + 2 : end + 1;
  }
}

/** The text a span covers, given the document's lines. */
export function spanText(lines: readonly string[], span: Span): string {
  return (lines[span.line] ?? '').slice(span.start, span.end);
}

/** The whole source line `line` (0-based), without its line break. */
export function sourceLine(text: string, line: number): string {
  let start = 0;
  for (let l = 0; l < line; l++) {
    const nl = nextBreak(text, start);
    if (nl < 0) return '';
    start = nl + (text.charCodeAt(nl) === 13 && text.charCodeAt(nl + 1) === 10 ? 2 : 1);
  }
  const end = nextBreak(text, start);
  return text.slice(start, end < 0 ? text.length : end);
}

function nextBreak(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) return i;
  }
  return -1;
}

/** "file:line:col" with 1-based numbers. */
export function formatLocation(file: string, span: Span): string {
  return `${file}:${span.line + 1}:${span.start + 1}`;
}

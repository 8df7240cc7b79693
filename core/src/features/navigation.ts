/**
 * Go to definition / find references for root ids: `#3` anywhere (comments, hover text pasted in), and
 * the value of `expect root.id == 3` / `expect prev[1].id == 3`. The definition is the statement that
 * allocated the root; references are every statement whose step touched it (Analysis.rootLines).
 */
import type { Analysis } from '../engine/analysis.js';
import type { Span } from '../syntax/ast.js';
import { parseNumber, wordAt } from './words.js';

/** The root id under the cursor, with the span of the reference itself. */
export function rootAt(analysis: Analysis, line: number, character: number): { id: number; span: Span } | undefined {
  const text = analysis.lines.line(line);
  if (text === undefined) return undefined;
  const w = wordAt(text, character);
  if (!w) return undefined;
  if (w.kind === 'root_ref') {
    const id = Number(w.text.slice(1));
    return Number.isSafeInteger(id) ? { id, span: { line, start: w.start, end: w.end } } : undefined;
  }
  const s = analysis.parse.lines[line]?.statement;
  if (
    w.kind === 'number' &&
    s?.kind === 'expect' &&
    /(^root|\])\.id$/.test(s.path) &&
    w.start >= s.valueSpan.start &&
    w.end <= s.valueSpan.end
  ) {
    const n = parseNumber(w.text);
    return n !== undefined && n <= BigInt(Number.MAX_SAFE_INTEGER)
      ? { id: Number(n), span: { line, start: w.start, end: w.end } }
      : undefined;
  }
  return undefined;
}

function statementSpan(analysis: Analysis, line: number): Span {
  const s = analysis.parse.lines[line]?.statement;
  return s?.span ?? { line, start: 0, end: analysis.lines.line(line)?.length ?? 0 };
}

export function definition(analysis: Analysis, line: number, character: number): Span[] {
  const root = rootAt(analysis, line, character);
  if (!root) return [];
  const first = analysis.rootLines(root.id)[0];
  return first === undefined ? [] : [statementSpan(analysis, first)];
}

export function references(analysis: Analysis, line: number, character: number, includeDeclaration = true): Span[] {
  const root = rootAt(analysis, line, character);
  if (!root) return [];
  const lines = analysis.rootLines(root.id);
  return (includeDeclaration ? lines : lines.slice(1)).map((l) => statementSpan(analysis, l));
}

/** Highlights for the statements touching the root under the cursor. */
export function rootHighlights(analysis: Analysis, line: number, character: number): Span[] {
  return references(analysis, line, character, true);
}

/** Quick fixes: the fixes the diagnostics already carry, offered where the cursor or selection is. */
import type { Diagnostic, TextEdit } from '../syntax/ast.js';

export interface CodeAction {
  title: string;
  edits: TextEdit[];
  diagnostic: Diagnostic;
  /** The only fix for its diagnostic. */
  preferred: boolean;
}

export interface LineRange {
  startLine: number;
  startCharacter: number;
  endLine: number;
  endCharacter: number;
}

function overlaps(d: Diagnostic, r: LineRange): boolean {
  const { line, start, end } = d.span;
  if (line < r.startLine || line > r.endLine) return false;
  if (line === r.startLine && end < r.startCharacter) return false;
  if (line === r.endLine && start > r.endCharacter) return false;
  return true;
}

export function codeActions(diagnostics: readonly Diagnostic[], range: LineRange): CodeAction[] {
  return diagnostics
    .filter((d) => d.fix && overlaps(d, range))
    .map((d) => ({ title: d.fix?.title ?? '', edits: d.fix?.edits ?? [], diagnostic: d, preferred: true }));
}

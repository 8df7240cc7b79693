/**
 * Core data ↔ LSP types. Core positions are already 0-based lines and UTF-16 columns (LSP's default
 * encoding), so conversion is a change of shape, never of numbers.
 */
import type { Diagnostic as LspDiagnostic, Range, TextEdit as LspTextEdit } from 'vscode-languageserver/node';
import { DiagnosticSeverity } from 'vscode-languageserver/node';
import type { Diagnostic, Span, TextEdit } from '../../core/src/syntax/ast.js';
import { LANGUAGE_ID } from '../../core/src/protocol.js';

export function spanToRange(span: Span): Range {
  return { start: { line: span.line, character: span.start }, end: { line: span.line, character: span.end } };
}

export function toLspDiagnostic(d: Diagnostic): LspDiagnostic {
  return {
    range: spanToRange(d.span),
    severity:
      d.severity === 'error'
        ? DiagnosticSeverity.Error
        : d.severity === 'warning'
          ? DiagnosticSeverity.Warning
          : DiagnosticSeverity.Information,
    code: d.code,
    // Problems lists them under the language's name.
    source: LANGUAGE_ID,
    message: d.message,
  };
}

export function toLspEdit(e: TextEdit): LspTextEdit {
  return { range: spanToRange(e.span), newText: e.newText };
}

/** A position's numbers, made safe: non-integers and negatives become -1 (no feature answers there). */
export function safeLine(n: unknown): number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : -1;
}

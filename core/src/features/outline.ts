/**
 * Document outline and folding: the header, one section per `vcpu N` switch, and nested-guest entries
 * (`vmenter` … `vmexit`) inside them. Built from the parse only.
 */
import type { ParseResult, Span, Statement } from '../syntax/ast.js';
import type { LineIndex } from '../text/positions.js';

export type SymbolKind = 'header' | 'kernel' | 'vm' | 'vcpu' | 'nested' | 'event' | 'expect' | 'decode';

export interface DocumentSymbol {
  name: string;
  detail: string;
  kind: SymbolKind;
  /** Whole extent, lines inclusive; `selection` is the name's span. */
  range: { startLine: number; startCharacter: number; endLine: number; endCharacter: number };
  selection: Span;
  children: DocumentSymbol[];
}

export interface FoldingRange {
  startLine: number;
  endLine: number;
  kind: 'region' | 'comment';
}

function statementText(lines: LineIndex, s: Statement): string {
  return (lines.line(s.span.line) ?? '').slice(s.span.start, s.span.end).replace(/\s+/g, ' ');
}

function leaf(lines: LineIndex, s: Statement, kind: SymbolKind, name?: string): DocumentSymbol {
  return {
    name: name ?? statementText(lines, s),
    detail: '',
    kind,
    range: { startLine: s.span.line, startCharacter: s.span.start, endLine: s.span.line, endCharacter: s.span.end },
    selection: s.span,
    children: [],
  };
}

function extend(sym: DocumentSymbol, line: number, endCharacter: number): void {
  if (line > sym.range.endLine || (line === sym.range.endLine && endCharacter > sym.range.endCharacter)) {
    sym.range.endLine = line;
    sym.range.endCharacter = endCharacter;
  }
}

export function documentSymbols(parse: ParseResult, lines: LineIndex): DocumentSymbol[] {
  const top: DocumentSymbol[] = [];
  let header: DocumentSymbol | undefined;
  let section: DocumentSymbol | undefined;
  let nested: DocumentSymbol | undefined;
  const container = (): DocumentSymbol[] => (nested ?? section)?.children ?? top;
  const grow = (s: Statement): void => {
    for (const sym of [section, nested]) if (sym) extend(sym, s.span.line, s.span.end);
  };

  for (const s of parse.statements) {
    switch (s.kind) {
      case 'kernel':
      case 'vm': {
        if (!header) {
          header = { ...leaf(lines, s, 'header', 'header'), children: [] };
          top.push(header);
        }
        header.children.push(leaf(lines, s, s.kind));
        extend(header, s.span.line, s.span.end);
        break;
      }
      case 'vcpu': {
        nested = undefined;
        section = { ...leaf(lines, s, 'vcpu', `vCPU ${s.id}`), detail: statementText(lines, s) };
        top.push(section);
        break;
      }
      case 'event': {
        if (s.keyword === 'vmenter') {
          const entry: DocumentSymbol = {
            ...leaf(lines, s, 'nested', 'L2 (nested guest)'),
            detail: statementText(lines, s),
          };
          (section?.children ?? top).push(entry);
          grow(s);
          nested = entry;
          break;
        }
        container().push(leaf(lines, s, 'event'));
        grow(s);
        if (s.keyword === 'vmexit') nested = undefined;
        break;
      }
      case 'expect':
      case 'decode':
        container().push(leaf(lines, s, s.kind));
        grow(s);
        break;
    }
  }
  return top;
}

/** vCPU sections, nested entries, and runs of two or more full-line comments. */
export function foldingRanges(parse: ParseResult, lines: LineIndex): FoldingRange[] {
  const out: FoldingRange[] = [];
  const walk = (syms: readonly DocumentSymbol[]): void => {
    for (const s of syms) {
      if ((s.kind === 'vcpu' || s.kind === 'nested' || s.kind === 'header') && s.range.endLine > s.range.startLine) {
        out.push({ startLine: s.range.startLine, endLine: s.range.endLine, kind: 'region' });
      }
      walk(s.children);
    }
  };
  walk(documentSymbols(parse, lines));
  let run = -1;
  for (let i = 0; i <= lines.count; i++) {
    const isComment = i < lines.count && /^\s*#/.test(lines.line(i) ?? '');
    if (isComment && run < 0) run = i;
    if (!isComment && run >= 0) {
      if (i - 1 > run) out.push({ startLine: run, endLine: i - 1, kind: 'comment' });
      run = -1;
    }
  }
  return out.sort((a, b) => a.startLine - b.startLine || b.endLine - a.endLine);
}

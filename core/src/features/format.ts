/**
 * Formatting: canonical spacing inside statements, upper-case flags, trailing whitespace trimmed.
 * Comments are kept byte for byte and stay in their column when the code still fits before them (hand
 * alignment survives); a line with a parse error is only right-trimmed (we do not know what its tokens mean).
 *
 * Formatting never changes what a line means: "whitespace" here is only what the lexer skips (space, tab, VT,
 * FF), never JavaScript's `\s` — U+00A0, U+2028, U+3000 or U+FEFF at the end of a line are characters the lexer
 * reports, and trimming them would delete the error with its cause. A byte-order mark opening the file stays.
 */
import type { ParseResult, Statement, TextEdit } from '../syntax/ast.js';
import { findFlag } from '../kernel/regs.js';
import { LineIndex } from '../text/positions.js';

/** Trailing whitespace as the lexer sees it (core/src/syntax/lexer.ts `isSpace`). */
const TRAILING_SPACE = /[ \t\v\f]+$/;
const LEADING_SPACE = /^[ \t\v\f]+/;
const trimEnd = (s: string): string => s.replace(TRAILING_SPACE, '');
const BOM = '\ufeff';

const TOKEN = /[ \t\v\f]+|\|=|&=|==|!=|<=|>=|\.\.|[=|~:<>]|[^ \t\v\f=|~:<>&!]+|./g;

/** One edit per line that changes, within the line: line breaks are never touched. */
export function formatDocument(parse: ParseResult, lines: LineIndex): TextEdit[] {
  const edits: TextEdit[] = [];
  for (let line = 0; line < lines.count; line++) {
    const original = lines.line(line) as string;
    const next = formatLine(original, line, parse.lines[line]);
    // Emptying a line between a lone \r and a \n would make them one \r\n break, and two lines one.
    if (next === '' && joinsBreaks(lines, line)) continue;
    if (next !== original) edits.push({ span: { line, start: 0, end: original.length }, newText: next });
  }
  return edits;
}

function joinsBreaks(lines: LineIndex, line: number): boolean {
  const start = lines.start(line) as number;
  const end = lines.end(line) as number;
  return start > 0 && lines.text.charCodeAt(start - 1) === 13 && lines.text.charCodeAt(end) === 10;
}

/** The whole formatted text, each line keeping its own line break (for tests and the CLI). */
export function formatText(parse: ParseResult, text: string): string {
  const lines = LineIndex.of(text);
  const edits = formatDocument(parse, lines);
  let out = '';
  let from = 0;
  for (const e of edits) {
    const start = lines.start(e.span.line) as number;
    out += text.slice(from, start) + e.newText;
    from = lines.end(e.span.line) as number;
  }
  return out + text.slice(from);
}

function formatLine(text: string, line: number, parsed: ParseResult['lines'][number] | undefined): string {
  // The byte-order mark is not part of line 0's code (the parser skips it), but the file keeps it.
  if (line === 0 && text.startsWith(BOM)) return BOM + formatCode(text.slice(1), parsed, 1);
  return formatCode(text, parsed, 0);
}

/** `text` formatted; `offset`: where `text` starts in the line the parse's spans are columns of. */
function formatCode(text: string, parsed: ParseResult['lines'][number] | undefined, offset: number): string {
  const clean = !!parsed?.statement && !parsed.diagnostics.some((d) => d.severity === 'error');
  if (!clean || !parsed?.statement) return trimEnd(text);
  const commentAt = parsed.comment === undefined ? undefined : parsed.comment.start - offset;
  const code = commentAt === undefined ? text : text.slice(0, commentAt);
  const body = respace(trimEnd(code.replace(LEADING_SPACE, '')), parsed.statement);
  if (commentAt === undefined) return body;
  const comment = trimEnd(text.slice(commentAt));
  // Keep the comment's column if the code still fits with a space to spare; otherwise two spaces.
  const column = commentAt >= body.length + 1 ? commentAt : body.length + 2;
  return `${body.padEnd(column)}${comment}`;
}

function respace(code: string, s: Statement): string {
  const tokens = (code.match(TOKEN) ?? []).filter((t) => !/^[ \t\v\f]+$/.test(t));
  const isAssign = (x: string): boolean => x === '=' || x === '|=' || x === '&=';
  // `cr0 = X`, `cr0 |= X`, `emulate cr3 = X`: the register assignment is spaced; every `key=value` is tight.
  const unprefixed = code.replace(/^vcpu\s+\d+\s*:\s*/, '');
  const registerWrite = s.kind === 'event' && /^(emulate\s+)?(cr0|cr3|cr4|efer)\s*(=|\|=|&=)/i.test(unprefixed);
  // `pdpt ADDR = E0 E1 E2 E3` is an assignment to memory, spaced like a register write.
  const memoryWrite = s.kind === 'event' && s.op.op === 'pdpt';
  const spacedAt = registerWrite || memoryWrite ? tokens.findIndex(isAssign) : -1;
  let out = '';
  let reg: 'cr0' | 'cr4' | 'efer' | undefined;
  let prev = '';
  for (const [i, t] of tokens.entries()) {
    const lower = t.toLowerCase();
    if (lower === 'cr0' || lower === 'cr4' || lower === 'efer') reg = lower;
    else if (lower === 'cr3') reg = undefined;
    const afterFlagContext = prev === '=' || prev === '|' || prev === '~' || prev === '|=' || prev === '&=';
    const word = reg && afterFlagContext && findFlag(reg, t) ? t.toUpperCase() : t;
    let sep = ' ';
    if (i === 0) sep = '';
    else if (i === spacedAt || i - 1 === spacedAt) sep = ' ';
    else if (isAssign(t) || isAssign(prev)) sep = '';
    else if (t === '|' || prev === '|' || prev === '~' || t === ':') sep = '';
    out += sep + word;
    prev = t;
  }
  return out;
}

/**
 * Formatting: canonical spacing inside statements, upper-case flags, trailing whitespace trimmed.
 * Comments are kept byte for byte and stay in their column when the code still fits before them (hand
 * alignment survives); a line with a parse error is only right-trimmed (we do not know what its tokens mean).
 */
import type { ParseResult, Statement, TextEdit } from '../syntax/ast.js';
import { findFlag } from '../kernel/regs.js';

const TOKEN = /\s+|\|=|&=|==|!=|<=|>=|\.\.|[=|~:<>]|[^\s=|~:<>&!]+|./g;

export function formatDocument(parse: ParseResult, lines: readonly string[]): TextEdit[] {
  const edits: TextEdit[] = [];
  lines.forEach((original, line) => {
    const next = formatLine(original, parse.lines[line]);
    if (next !== original) edits.push({ span: { line, start: 0, end: original.length }, newText: next });
  });
  return edits;
}

/** The whole formatted text (for tests and the CLI). */
export function formatText(parse: ParseResult, text: string): string {
  const lines = text.split(/\r?\n/);
  const edits = formatDocument(parse, lines);
  for (const e of edits) lines[e.span.line] = e.newText;
  return lines.join(text.includes('\r\n') ? '\r\n' : '\n');
}

function formatLine(text: string, parsed: ParseResult['lines'][number] | undefined): string {
  const clean = !!parsed?.statement && !parsed.diagnostics.some((d) => d.severity === 'error');
  if (!clean || !parsed?.statement) return text.replace(/\s+$/, '');
  const commentAt = parsed.comment?.start;
  const body = respace((commentAt === undefined ? text : text.slice(0, commentAt)).trim(), parsed.statement);
  if (commentAt === undefined) return body;
  const comment = text.slice(commentAt).replace(/\s+$/, '');
  // Keep the comment's column if the code still fits with a space to spare; otherwise two spaces.
  const column = commentAt >= body.length + 1 ? commentAt : body.length + 2;
  return `${body.padEnd(column)}${comment}`;
}

function respace(code: string, s: Statement): string {
  const tokens = (code.match(TOKEN) ?? []).filter((t) => !/^\s+$/.test(t));
  const isAssign = (x: string): boolean => x === '=' || x === '|=' || x === '&=';
  // `cr0 = X`, `cr0 |= X`, `emulate cr3 = X`: the register assignment is spaced; every `key=value` is tight.
  const unprefixed = code.replace(/^vcpu\s+\d+\s*:\s*/, '');
  const registerWrite = s.kind === 'event' && /^(emulate\s+)?(cr0|cr3|cr4|efer)\s*(=|\|=|&=)/i.test(unprefixed);
  const spacedAt = registerWrite ? tokens.findIndex(isAssign) : -1;
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

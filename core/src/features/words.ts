/**
 * Finding the word under a position on one line, without the parser: hover, completion and navigation
 * need the raw token (a flag inside `PE|PG`, `#3` inside a comment) more than the statement's shape.
 */

export type WordKind = 'word' | 'number' | 'root_ref' | 'mod' | 'path';

export interface Word {
  kind: WordKind;
  text: string;
  /** 0-based UTF-16 columns, half-open. */
  start: number;
  end: number;
  /** True when the word sits inside the line's `#` comment. */
  inComment: boolean;
}

/** Index of the `#` that starts the comment, or the line length. A `#N` root reference is a comment too. */
export function commentStart(lineText: string): number {
  const i = lineText.indexOf('#');
  return i < 0 ? lineText.length : i;
}

const TOKEN =
  /#\d+|[+-][A-Za-z_][A-Za-z0-9_]*|0[xX][0-9a-fA-F_]+|\d[\d_]*|[A-Za-z_][A-Za-z0-9_]*(?:\[\d*\])?(?:\.[A-Za-z_][A-Za-z0-9_]*(?:\[\d*\])?)*/g;

/** Every token of the line, in order (comment text included, flagged). */
export function wordsOf(lineText: string): Word[] {
  const comment = commentStart(lineText);
  const words: Word[] = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(lineText); m; m = TOKEN.exec(lineText)) {
    const text = m[0];
    const start = m.index;
    words.push({
      kind: kindOf(text, start, lineText),
      text,
      start,
      end: start + text.length,
      inComment: start >= comment,
    });
  }
  return words;
}

function kindOf(text: string, start: number, lineText: string): WordKind {
  if (text.startsWith('#')) return 'root_ref';
  if (text.startsWith('+') || text.startsWith('-')) {
    // `-` or `+` glued to a name after whitespace is a kernel modification; inside `a-b` it is not.
    const before = start > 0 ? lineText[start - 1] : ' ';
    return before === ' ' || before === '\t' ? 'mod' : 'word';
  }
  if (/^[0-9]/.test(text)) return 'number';
  if (text.includes('.') || text.includes('[')) return 'path';
  return 'word';
}

/** The token whose range contains `character` (a cursor right after a word still counts). */
export function wordAt(lineText: string, character: number): Word | undefined {
  const words = wordsOf(lineText);
  return words.find((w) => w.start <= character && character < w.end) ?? words.find((w) => w.end === character);
}

/** Parses `0x…`/decimal with `_` separators; undefined when it is not a number. */
export function parseNumber(text: string): bigint | undefined {
  const clean = text.replace(/_/g, '');
  if (!/^(0[xX][0-9a-fA-F]+|\d+)$/.test(clean)) return undefined;
  try {
    return BigInt(clean);
  } catch {
    return undefined;
  }
}

/**
 * The `.kvmmu` lexer: one line at a time, a single forward scan with charCodeAt (no regular
 * expressions, so no backtracking and no quadratic cases). It never fails: characters it does not
 * know become `bad` tokens and the parser reports them.
 */

export type TokenKind = 'word' | 'number' | 'punct' | 'bad';

export interface Token {
  kind: TokenKind;
  /** The source text of the token. */
  text: string;
  start: number;
  end: number;
  /** For numbers: the value, or undefined when malformed or wider than 64 bits (see `error`). */
  value?: bigint;
  /** For malformed numbers: why. */
  error?: 'malformed' | 'range';
}

/** Two-character punctuation (`==` `!=` `<=` `>=` `|=` `&=` `..`), matched before single characters. */
function punct2(a: number, b: number): string | undefined {
  if (b === 61 /* = */) {
    if (a === 61) return '==';
    if (a === 33) return '!=';
    if (a === 60) return '<=';
    if (a === 62) return '>=';
    if (a === 124) return '|=';
    if (a === 38) return '&=';
  }
  if (a === 46 && b === 46) return '..';
  return undefined;
}

/** Single-character punctuation: = < > | & ~ : + - ( ) [ ] , */
const PUNCT1 = new Uint8Array(128);
for (const ch of '=<>|&~:+-()[],') PUNCT1[ch.charCodeAt(0)] = 1;
const isPunct1 = (c: number): boolean => c < 128 && PUNCT1[c] === 1;

export const MAX_U64 = (1n << 64n) - 1n;

const isLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95; // A-Z a-z _
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
/** Inside a word: letters, digits, `_`, and `.`/`-`/`[`/`]` so that `v6.3`, `all-global` and `prev[0].id` are one word. */
const isWordChar = (c: number): boolean => isLetter(c) || isDigit(c) || c === 46 || c === 45 || c === 91 || c === 93;
const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 11 || c === 12;

/** Tokenises `text[from, end)` (the part of a line before its comment). */
export function tokenize(text: string, end: number = text.length, from = 0): Token[] {
  const tokens: Token[] = [];
  let i = from;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    if (isDigit(c)) {
      i = scanNumberEnd(text, i, end);
      tokens.push(number(text.slice(start, i), start, i));
      continue;
    }
    if (isLetter(c)) {
      i++;
      while (i < end && isWordChar(text.charCodeAt(i))) {
        // `a..b` is a range even after a word; a single `.` stays inside the word.
        if (text.charCodeAt(i) === 46 && i + 1 < end && text.charCodeAt(i + 1) === 46) break;
        i++;
      }
      tokens.push(tok('word', text.slice(start, i), start, i));
      continue;
    }
    const two = i + 1 < end ? punct2(c, text.charCodeAt(i + 1)) : undefined;
    if (two !== undefined) {
      tokens.push(tok('punct', two, start, i + 2));
      i += 2;
      continue;
    }
    if (isPunct1(c)) {
      tokens.push(tok('punct', text[i]!, start, i + 1));
      i++;
      continue;
    }
    // Anything else is one bad token per run of unknown characters (surrogate pairs stay whole).
    i++;
    while (i < end) {
      const d = text.charCodeAt(i);
      if (isSpace(d) || isLetter(d) || isDigit(d) || isPunct1(d)) break;
      i++;
    }
    tokens.push(tok('bad', text.slice(start, i), start, i));
  }
  return tokens;
}

/** End of a number-like run starting at a digit: digits, letters and `_` (so `12ab` is one bad token). */
function scanNumberEnd(text: string, i: number, end: number): number {
  while (i < end) {
    const c = text.charCodeAt(i);
    if (!(isLetter(c) || isDigit(c))) break;
    i++;
  }
  return i;
}

/**
 * Builds a number token: `0x` hex or decimal, `_` between digits, at most 64 bits. Short literals
 * (the common case) are accumulated as a double and converted once; only long ones go through a string.
 */
function number(text: string, start: number, end: number): Token {
  let base = 10;
  let i = 0;
  if (text.length >= 2 && text.charCodeAt(0) === 48 && (text.charCodeAt(1) === 120 || text.charCodeAt(1) === 88)) {
    base = 16;
    i = 2;
  }
  let acc = 0;
  let significant = 0;
  let lastUnderscore = true; // a separator may not lead
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 95) {
      if (lastUnderscore) return tok('number', text, start, end, undefined, 'malformed');
      lastUnderscore = true;
      continue;
    }
    const d = digitValue(c);
    if (d < 0 || d >= base) return tok('number', text, start, end, undefined, 'malformed');
    lastUnderscore = false;
    if (significant > 0 || d !== 0) significant++;
    acc = acc * base + d;
  }
  if (lastUnderscore) return tok('number', text, start, end, undefined, 'malformed'); // `0x`, trailing `_`
  // Exact while below 2^53: 13 hex digits or 15 decimal digits always are.
  if (significant <= (base === 16 ? 13 : 15))
    return tok('number', text, start, end, acc < SMALL.length ? SMALL[acc] : BigInt(acc));
  // Decide overflow on the digit count first so huge literals cost nothing.
  if (significant > (base === 16 ? 16 : 20)) return tok('number', text, start, end, undefined, 'range');
  const clean = text.replaceAll('_', '');
  const value = BigInt(clean);
  if (value > MAX_U64) return tok('number', text, start, end, undefined, 'range');
  return tok('number', text, start, end, value);
}

/** vCPU ids and small counts are most numbers: their BigInts are made once (bigints are immutable values). */
const SMALL: readonly bigint[] = Array.from({ length: 256 }, (_, i) => BigInt(i));

function digitValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Every token has the same shape (one hidden class keeps the parser's property reads monomorphic). */
function tok(kind: TokenKind, text: string, start: number, end: number, value?: bigint, error?: Token['error']): Token {
  return { kind, text, start, end, value, error };
}

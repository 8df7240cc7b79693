/** Line access without splitting a large document on every request. */

/** Text of 0-based `line` (without its line break), or undefined past the end. */
export function lineText(text: string, line: number): string | undefined {
  if (line < 0 || !Number.isInteger(line)) return undefined;
  let start = 0;
  for (let i = 0; i < line; i++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) return undefined;
    start = nl + 1;
  }
  const end = text.indexOf('\n', start);
  const raw = end < 0 ? text.slice(start) : text.slice(start, end);
  return raw.endsWith('\r') ? raw.slice(0, -1) : raw;
}

/** All lines (for whole-document features). */
export function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}

/** Markdown-safe inline code. */
export function code(s: string): string {
  return s.includes('`') ? `\`\` ${s} \`\`` : `\`${s}\``;
}

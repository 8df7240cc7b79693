/**
 * `s` as one flat string. V8 keeps a string built with `+` or a template literal as a tree of its pieces (about
 * twice the memory of the text: 257 against 119 bytes for an 80-character action detail, measured) until
 * something reads it character by character; hashing it (a Map key) does not. Reading one character flattens it
 * in place, and the garbage collector then drops the pieces. For strings kept for the life of an analysis.
 */
export function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}

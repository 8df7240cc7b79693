/**
 * "Did you mean …?" suggestions: the closest candidate by optimal-string-alignment distance
 * (Levenshtein plus adjacent transpositions, so `rms` → `rsm` costs 1), compared case-insensitively.
 */

/** Words longer than this are not compared: a suggestion for a 10,000-character word helps nobody. */
const MAX_WORD = 64;

/** How many edits a word of this length may be away from a candidate and still be suggested. */
function threshold(length: number): number {
  if (length <= 3) return 1;
  if (length <= 6) return 2;
  return 3;
}

/**
 * The candidate closest to `word`, or undefined when none is close enough. Exact (case-insensitive)
 * matches are returned too, so callers can suggest the right case. Ties go to the earlier candidate.
 */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  if (word.length === 0 || word.length > MAX_WORD) return undefined;
  const w = word.toLowerCase();
  const limit = threshold(w.length);
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const c = candidate.toLowerCase();
    if (Math.abs(c.length - w.length) >= bestDistance) continue;
    const d = distance(w, c, bestDistance);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
      if (d === 0) break;
    }
  }
  return best;
}

/**
 * Optimal string alignment distance between a and b; returns `cap` as soon as every alignment
 * is known to cost at least `cap` (the rows only grow), so far-off candidates are cheap.
 */
export function distance(a: string, b: string, cap = Number.MAX_SAFE_INTEGER): number {
  const n = b.length;
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = new Array<number>(n + 1);
  let cur = new Array<number>(n + 1);
  for (let j = 0; j <= n; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= n; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (
        i > 1 &&
        j > 1 &&
        a.charCodeAt(i - 1) === b.charCodeAt(j - 2) &&
        a.charCodeAt(i - 2) === b.charCodeAt(j - 1)
      ) {
        v = Math.min(v, prev2[j - 2]! + 1);
      }
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin >= cap) return cap;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n]!;
}

import { flat } from './flat.js';

/**
 * One copy of each distinct string: a long scenario repeats a few dozen distinct sentences and summaries over
 * hundreds of thousands of steps. `of` also stores the string flat (see `flat`) rather than as the tree of pieces a
 * template literal builds. Bounded: past `max` distinct strings it starts over, which only costs sharing.
 */
export class Interner {
  private readonly known = new Map<string, string>();

  constructor(private readonly max: number) {}

  of(s: string): string {
    const known = this.known.get(s);
    if (known !== undefined) return known;
    if (this.known.size >= this.max) this.known.clear();
    flat(s);
    this.known.set(s, s);
    return s;
  }
}

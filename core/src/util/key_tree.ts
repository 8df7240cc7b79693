import { SmallMap } from './small_map.js';

/**
 * A bounded cache keyed by a value followed by a sequence of values of one fixed length (compared as Map keys:
 * strings, numbers and bigints by value, objects by identity), stored as a tree of small maps so that no composite
 * key is ever built; the last key maps straight to the value. Keys of different lengths go in different trees. When
 * it holds `max` values it starts over: clearing it only costs sharing.
 */
export class FixedKeyTree<V> {
  private root = new SmallMap<unknown, unknown>();
  private size = 0;

  constructor(private readonly max: number) {}

  /** The value kept under `first, ...rest`, if any. */
  get(first: unknown, rest: readonly unknown[]): V | undefined {
    let node: unknown = this.root.get(first);
    for (let i = 0; node !== undefined && i < rest.length; i++) node = (node as Node).get(rest[i]);
    return node as V | undefined;
  }

  /**
   * `get(first, [k0, …])` for keys of `n` ≤ 7 values after `first`, given one by one: the hot callers' lookups then
   * build no array (the unused ones are not read).
   */
  getN(
    first: unknown,
    n: number,
    k0?: unknown,
    k1?: unknown,
    k2?: unknown,
    k3?: unknown,
    k4?: unknown,
    k5?: unknown,
    k6?: unknown,
  ): V | undefined {
    if (n > 7) throw new RangeError(`FixedKeyTree.getN: ${n} keys (at most 7)`);
    let node = this.root.get(first) as Node | undefined;
    if (n === 0 || node === undefined) return node as V | undefined;
    node = node.get(k0) as Node | undefined;
    if (n === 1 || node === undefined) return node as V | undefined;
    node = node.get(k1) as Node | undefined;
    if (n === 2 || node === undefined) return node as V | undefined;
    node = node.get(k2) as Node | undefined;
    if (n === 3 || node === undefined) return node as V | undefined;
    node = node.get(k3) as Node | undefined;
    if (n === 4 || node === undefined) return node as V | undefined;
    node = node.get(k4) as Node | undefined;
    if (n === 5 || node === undefined) return node as V | undefined;
    node = node.get(k5) as Node | undefined;
    if (n === 6 || node === undefined) return node as V | undefined;
    return node.get(k6) as V | undefined;
  }

  /** Keeps `value` under `first, ...rest` (unless the tree is full: then it starts over, empty). */
  set(first: unknown, rest: readonly unknown[], value: V): void {
    if (++this.size > this.max) {
      this.root = new SmallMap();
      this.size = 0;
      return;
    }
    if (rest.length === 0) {
      this.root.set(first, value);
      return;
    }
    let node: Node = this.root;
    for (let i = -1; i < rest.length - 1; i++) {
      const k = i < 0 ? first : rest[i];
      let next = node.get(k) as Node | undefined;
      if (!next) node.set(k, (next = new SmallMap()));
      node = next;
    }
    node.set(rest[rest.length - 1], value);
  }
}

type Node = SmallMap<unknown, unknown>;

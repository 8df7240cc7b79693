/**
 * A map for the few keys a node of a lookup tree usually holds (a vCPU id, an MMU name, a call path's next
 * function): the first four keys are kept in fields and compared with `===`, any more go to a Map. Four `===`
 * tests on values V8 compares inline (small integers, identical objects, internalized strings) cost less than one
 * Map lookup, which hashes its key in a builtin call; the model's caches make millions of these lookups per long
 * scenario, most of them at nodes with one to four keys.
 *
 * Keys compare as a Map's do (SameValueZero): NaN, the one value `===` does not find, always goes to the Map.
 */
export class SmallMap<K, V> {
  private k0: unknown = NONE;
  private k1: unknown = NONE;
  private k2: unknown = NONE;
  private k3: unknown = NONE;
  private v0: V | undefined = undefined;
  private v1: V | undefined = undefined;
  private v2: V | undefined = undefined;
  private v3: V | undefined = undefined;
  private more: Map<K, V> | undefined = undefined;

  get(key: K): V | undefined {
    if (this.k0 === key) return this.v0;
    if (this.k1 === key) return this.v1;
    if (this.k2 === key) return this.v2;
    if (this.k3 === key) return this.v3;
    return this.more === undefined ? undefined : this.more.get(key);
  }

  set(key: K, value: V): void {
    if (this.k0 === key) this.v0 = value;
    else if (this.k1 === key) this.v1 = value;
    else if (this.k2 === key) this.v2 = value;
    else if (this.k3 === key) this.v3 = value;
    // NaN (key !== key) is never found by `===`: the Map keeps it.
    else if (key !== key || this.k3 !== NONE) (this.more ??= new Map()).set(key, value);
    else if (this.k0 === NONE) {
      this.k0 = key;
      this.v0 = value;
    } else if (this.k1 === NONE) {
      this.k1 = key;
      this.v1 = value;
    } else if (this.k2 === NONE) {
      this.k2 = key;
      this.v2 = value;
    } else {
      this.k3 = key;
      this.v3 = value;
    }
  }
}

/** An empty field: no key is this object. */
const NONE: unknown = Object.freeze({});

/**
 * SmallMap answers exactly as a Map would: the same keys found (SameValueZero: values by value, objects by identity,
 * NaN found, 0 and -0 one key), whether they sit in its fields or in the Map behind them.
 */
import assert from 'node:assert/strict';
import { SmallMap } from '../../src/util/small_map.js';

/** A deterministic stream of numbers in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('SmallMap', () => {
  const objects = [{}, {}, [], Object.freeze({})];
  /** Keys of every kind the model's caches use, and the awkward ones. */
  const keys: unknown[] = [
    0,
    -0,
    1,
    2,
    2 ** 31,
    0.5,
    NaN,
    'root_mmu',
    'guest_mmu',
    'root' + '_mmu'.repeat(1), // an equal string made at run time
    '',
    1n,
    2n ** 64n,
    BigInt(1), // an equal bigint made at run time
    undefined,
    null,
    true,
    false,
    ...objects,
  ];

  it('finds what a Map finds over random sets and gets, from one key to many', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rnd = lcg(seed);
      const small = new SmallMap<unknown, number>();
      const map = new Map<unknown, number>();
      // Few distinct keys for some seeds (all in fields), many for others (most in the Map).
      const pool = keys.slice(0, 1 + Math.floor(rnd() * keys.length));
      for (let op = 0; op < 200; op++) {
        const k = pool[Math.floor(rnd() * pool.length)];
        if (rnd() < 0.5) {
          small.set(k, op);
          map.set(k, op);
        } else assert.equal(small.get(k), map.get(k), `seed ${seed} op ${op} key ${String(k)}`);
      }
      for (const k of keys) assert.equal(small.get(k), map.get(k), `seed ${seed} final key ${String(k)}`);
    }
  });

  it('finds NaN, and takes -0 and 0 as one key, in its fields as in its Map', () => {
    const m = new SmallMap<unknown, string>();
    m.set(NaN, 'nan');
    assert.equal(m.get(NaN), 'nan');
    m.set(0, 'zero');
    assert.equal(m.get(-0), 'zero');
    m.set(-0, 'minus zero');
    assert.equal(m.get(0), 'minus zero');
    // Past the fields: a fifth key and more still answer.
    for (let i = 1; i <= 6; i++) m.set(`k${i}`, `v${i}`);
    for (let i = 1; i <= 6; i++) assert.equal(m.get(`k${i}`), `v${i}`);
    assert.equal(m.get(NaN), 'nan');
    assert.equal(m.get('k7'), undefined);
  });

  it('replaces the value of a key it holds, wherever the key is kept', () => {
    const m = new SmallMap<number, string>();
    for (let i = 0; i < 8; i++) m.set(i, `a${i}`);
    for (let i = 0; i < 8; i++) m.set(i, `b${i}`);
    for (let i = 0; i < 8; i++) assert.equal(m.get(i), `b${i}`);
  });
});

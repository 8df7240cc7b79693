import assert from 'node:assert/strict';
import { distance, suggest } from '../../src/util/suggest.js';

describe('util/suggest', () => {
  it('counts an adjacent transposition as one edit', () => {
    assert.equal(distance('rms', 'rsm'), 1);
    assert.equal(distance('kitten', 'sitting'), 3);
    assert.equal(distance('', 'abc'), 3);
  });

  it('suggests the closest candidate within the threshold, case-insensitively', () => {
    assert.equal(suggest('rms', ['run', 'rsm', 'smi']), 'rsm');
    assert.equal(suggest('Cr0', ['cr0', 'cr3']), 'cr0');
    assert.equal(suggest('tdp_mmu_root_rf', ['tdp_mmu_root_ref', 'tdp_mmu_alloc_root']), 'tdp_mmu_root_ref');
    assert.equal(suggest('la75', ['LA57', 'PAE']), 'LA57');
  });

  it('gives nothing when every candidate is far or the word is absurd', () => {
    assert.equal(suggest('frobnicate', ['run', 'smi', 'rsm']), undefined);
    assert.equal(suggest('xyz', ['abc']), undefined);
    assert.equal(suggest('', ['a']), undefined);
    assert.equal(suggest('a'.repeat(10_000), ['a']), undefined);
  });

  it('prefers the earlier candidate on a tie', () => {
    assert.equal(suggest('ab', ['aa', 'bb']), 'aa');
  });
});

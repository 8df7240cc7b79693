import { strict as assert } from 'node:assert';
import { EXPECT_PATHS as ENGINE_PATHS, STAT_NAMES } from '../../src/engine/expect.js';
import { EVENTS, EXPECT_PATHS, HEADER_KEYWORDS, REGISTERS, VM_KEYS } from '../../src/features/vocabulary.js';
import { KEYWORDS, VM_KEYS as PARSER_VM_KEYS } from '../../src/syntax/parser.js';

describe('features/vocabulary', () => {
  it('documents every statement keyword the parser knows, and no other', () => {
    const ours = [...HEADER_KEYWORDS, ...REGISTERS, ...EVENTS].map((t) => t.name).sort();
    assert.deepEqual(ours, [...KEYWORDS].sort());
  });

  it('knows the parser vm keys', () => {
    assert.deepEqual(VM_KEYS.map((k) => k.name).sort(), Object.keys(PARSER_VM_KEYS).sort());
  });

  it('lists the SPEC §1.5 expectation paths and every counter', () => {
    const names = EXPECT_PATHS.map((p) => p.name);
    for (const p of [
      'roots.live',
      'roots.valid',
      'roots.invalid',
      'root.id',
      'root.level',
      'root.refcount',
      'prev_roots.count',
      'prev[0].id',
      'line.allocated',
      'line.freed',
      'line.reused',
      'warnings',
    ]) {
      assert.ok(names.includes(p), p);
    }
    for (const s of STAT_NAMES) assert.ok(names.includes(`stats.${s}`), s);
    // every fixed engine path is offered
    for (const p of ENGINE_PATHS.map((e) => e.path).filter((x) => !x.includes('<') && !x.includes('[N]')))
      assert.ok(names.includes(p), p);
  });
});

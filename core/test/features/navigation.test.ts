import { strict as assert } from 'node:assert';
import { codeActions } from '../../src/features/code_actions.js';
import { definition, references, rootAt } from '../../src/features/navigation.js';
import { fakeAnalysis } from './fake_analysis.js';

describe('features/navigation', () => {
  const text = 'run\nsmi\nrsm  # back to #1\nexpect root.id == 1\nexpect prev[0].id == 2\nexpect roots.live == 1';
  const a = fakeAnalysis(text, { rootLines: { 1: [0, 1, 2], 2: [1] } });

  it('finds root ids in comments and in id expectations only', () => {
    assert.equal(rootAt(a, 2, 16)?.id, 1);
    assert.equal(rootAt(a, 3, 18)?.id, 1);
    assert.equal(rootAt(a, 4, 21)?.id, 2);
    assert.equal(rootAt(a, 5, 21), undefined);
    assert.equal(rootAt(a, 0, 1), undefined);
  });

  it('jumps to the allocating statement and lists every touching statement', () => {
    assert.deepEqual(definition(a, 3, 18), [{ line: 0, start: 0, end: 3 }]);
    assert.deepEqual(
      references(a, 2, 16).map((s) => s.line),
      [0, 1, 2],
    );
    assert.deepEqual(
      references(a, 2, 16, false).map((s) => s.line),
      [1, 2],
    );
    assert.deepEqual(definition(a, 99, 0), []);
  });
});

describe('features/code_actions', () => {
  it('offers the fixes the diagnostics carry, where the cursor is', () => {
    const a = fakeAnalysis('run\nrms');
    const actions = codeActions(a.diagnostics, { startLine: 1, startCharacter: 1, endLine: 1, endCharacter: 1 });
    assert.equal(actions.length, 1);
    assert.deepEqual(actions[0]?.edits, [{ span: { line: 1, start: 0, end: 3 }, newText: 'rsm' }]);
    assert.deepEqual(codeActions(a.diagnostics, { startLine: 0, startCharacter: 0, endLine: 0, endCharacter: 3 }), []);
  });
});

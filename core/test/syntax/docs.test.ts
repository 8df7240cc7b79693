import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from '../../src/syntax/parser.js';

describe('docs/language.md', () => {
  it('every ```kvmmu example parses without diagnostics', () => {
    const doc = readFileSync(new URL('../../../docs/language.md', import.meta.url), 'utf8');
    const blocks = [...doc.matchAll(/```kvmmu\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.ok(blocks.length >= 6, `found only ${blocks.length} examples`);
    for (const b of blocks) {
      const r = parse(b);
      assert.deepEqual(
        r.diagnostics.map((d) => `${d.message} in: ${b.split('\n')[d.span.line]}`),
        [],
      );
      assert.ok(r.statements.length > 0);
    }
  });
});

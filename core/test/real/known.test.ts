import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyze } from '../../src/engine/analyze.js';
import { compareRun } from '../../src/real/compare.js';
import { parseFtrace } from '../../src/real/ftrace.js';
import { knownLimitation } from '../../src/real/known.js';
import { lowerScenario } from '../../src/real/lower.js';
import { observe } from '../../src/real/observe.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

describe('real: known limitations, pinned by recorded captures', () => {
  it('shadowed-page-write: L1 takes its nested page table as CR3; Debian 6.1.192 zaps the nested NPT root', () => {
    const text = readFileSync(join(fixtures, 'known-shadowed-write.kvmmu'), 'utf8');
    const a = analyze(text, { kernelOverride: 'v6.1.y', checkpoints: false });
    const lowered = lowerScenario(a, { vendor: 'amd', tcg: true });
    const trace = readFileSync(join(fixtures, 'known-shadowed-write.6.1.192.trace'), 'utf8');
    const c = compareRun(a, lowered, observe(parseFtrace(trace)));
    const bad = c.groups.filter((g) => !g.agree);
    // Still a disagreement (the model has no write protection): when the model learns it, this test says so.
    assert.deepEqual(
      bad.map((g) => [g.lines, g.differences]),
      [[[19, 20], ['the kernel frees a root with role 0x00021704 that the model does not']]],
    );
    assert.equal(knownLimitation(c, lowered), 'shadowed-page-write');
  });
});

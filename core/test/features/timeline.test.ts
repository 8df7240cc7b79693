import { strict as assert } from 'node:assert';
import type { Analysis } from '../../src/engine/analysis.js';
import { analyze } from '../../src/engine/analyze.js';
import { timeline } from '../../src/features/timeline.js';
import type { LineIndex } from '../../src/text/positions.js';

/** A scenario of `n` SMI/RSM round trips on one vCPU. */
function scenario(n: number): string {
  const lines = ['kernel v6.3', 'vm vcpus=1', 'sregs cr0=PE|PG|WP cr4=PAE efer=LME|LMA cr3=0x1000', 'run'];
  for (let i = 0; i < n; i++) lines.push('smi', 'run', 'rsm', 'run');
  return lines.join('\n');
}

describe('kvmmu/timeline (core/src/features/timeline.ts)', () => {
  it('reads each step’s text once, from the line index (no search from the top)', () => {
    const a = analyze(scenario(200));
    let reads = 0;
    // Only `line()` may be used: anything else (every line, a scan) is not on this stand-in and throws.
    const counting = {
      line: (n: number) => {
        reads++;
        return a.lines.line(n);
      },
    } as unknown as LineIndex;
    const viewed = Object.create(a, { lines: { value: counting } }) as Analysis;
    const t = timeline(viewed, 'file:///x', 1);
    assert.equal(t.steps.length, a.steps.length);
    assert.equal(reads, a.steps.length);
    assert.equal(t.steps[3]?.text, 'run');
  });

  it('sends each call path once, however many steps share it', () => {
    const small = timeline(analyze(scenario(10)), 'file:///x', 1);
    const large = timeline(analyze(scenario(300)), 'file:///x', 1);
    assert.ok(large.steps.length > 20 * small.steps.length);
    // The same statements repeated: no new path after the first round trips.
    assert.equal(large.paths.length, small.paths.length);
    for (const s of large.steps) for (const x of s.actions) assert.ok(large.paths[x.path], `path ${x.path}`);
  });
});

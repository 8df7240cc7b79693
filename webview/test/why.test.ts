/** Compare mode's explanation of the cursor's line (the `kvmmu/explain` entry the host adds to the view). */
import { strict as assert } from 'node:assert';
import { explainDiff } from '../../core/src/engine/explain.js';
import { NO_DECODER } from '../src/roles.js';
import { initialState, panelModel, reduce } from '../src/state.js';
import { smallView, stateAt } from './fixtures.js';

const SCENARIO = [
  'kernel v6.4',
  'vm vendor=intel tdp=on tdp_mmu=on',
  'sregs cr0=PE|ET|PG|WP cr4=PAE efer=LME|LMA|NX cr3=0x1000',
  'run',
  'smi',
].join('\n');

describe('panel: why the cursor line differs', () => {
  it('names the explaining behaviour with its commit, from a real explanation', () => {
    const diff = explainDiff(SCENARIO, '', 'v6.3');
    const entry = diff.lines.find((l) => l.line === 4)!;
    const base = smallView();
    const b = stateAt(base.primary.snapshot, { line: 4 }, { profile: 'v6.3', label: 'v6.3' });
    const view = {
      ...base,
      line: 4,
      compare: { kind: 'state' as const, kernel: 'v6.3', result: b },
      differingLines: diff.lines.map((l) => ({ line: l.line, text: l.text, a: l.a, b: l.b })),
    };
    const without = panelModel(reduce(initialState(null), { type: 'view', view }), NO_DECODER);
    assert.equal(without.differences?.why, null, 'nothing until the server says');
    const m = panelModel(
      reduce(initialState(null), { type: 'view', view: { ...view, explanation: entry } }),
      NO_DECODER,
    );
    assert.deepEqual(m.differences?.why, [
      {
        heading: 'Why:',
        behaviours: [
          {
            name: '-tdp_mmu_root_ref',
            commit: 'edbdb43fc96b',
            version: 'v6.4',
            title: 'KVM: x86: Preserve TDP MMU roots until they are explicitly invalidated',
          },
        ],
      },
    ]);
  });
});

import { strict as assert } from 'node:assert';
import { inlayHints, MAX_HINT_LENGTH } from '../../src/features/hints.js';
import { act, fakeAnalysis, ok } from './fake_analysis.js';

const labels = (text: string, steps: Parameters<typeof fakeAnalysis>[1]): string[] =>
  inlayHints(fakeAnalysis(text, steps)).map((h) => h.label);

describe('features/hints', () => {
  it('words each action kind the way SPEC §5 shows', () => {
    const text = 'run\nsmi\nrsm\ncr0 |= WP\ncr3 = 0x1000\ninit\ncr0 = PG\nrun';
    const got = labels(text, {
      steps: {
        0: ok([act('alloc', { root: 2, role: '0x01000784' })]),
        1: ok([act('put', { root: 1, refcount: [2, 1] }), act('unload', { roots: [1, 3] })]),
        2: ok([act('reuse', { root: 1, refcount: [1, 2] })]),
        3: ok([act('reinit_skipped')]),
        4: ok([act('cache_hit', { root: 3, slot: 'prev_roots[1]' })]),
        5: ok([act('free', { root: 1 }), act('free', { root: 3 })]),
        6: { outcome: 'gp', summary: '#GP', actions: [act('fault')] },
        7: { outcome: 'no_exit', summary: '', actions: [act('no_exit')] },
      },
    });
    assert.deepEqual(got, [
      '→ alloc #2 4-level direct SMM',
      '→ put #1 rc 2→1, unload #1 #3',
      '→ reuse #1 rc 1→2',
      '→ role unchanged',
      '→ hit #3 prev_roots[1]',
      '→ free #1 #3',
      '→ #GP',
      '→ no VM-exit',
    ]);
  });

  it('sits at the end of the statement, before a trailing comment', () => {
    const [h] = inlayHints(fakeAnalysis('smi   # enter SMM', { steps: { 0: ok([act('unload', { roots: [1] })]) } }));
    assert.equal(h?.line, 0);
    assert.equal(h?.character, 3);
  });

  it('links root ids in the label parts', () => {
    const [h] = inlayHints(fakeAnalysis('smi', { steps: { 0: ok([act('unload', { roots: [4, 5] })]) } }));
    assert.deepEqual(
      h?.parts.filter((p) => p.root !== undefined).map((p) => [p.text, p.root]),
      [
        ['#4', 4],
        ['#5', 5],
      ],
    );
  });

  it('stays short however many roots a step touches', () => {
    const roots = Array.from({ length: 40 }, (_, i) => i + 1);
    const [h] = inlayHints(
      fakeAnalysis('memslot delete 1', { steps: { 0: ok([act('invalidate', { roots }), act('free', { root: 99 })]) } }),
    );
    assert.ok(h);
    assert.ok(h.label.length <= MAX_HINT_LENGTH, h.label);
    assert.equal(h.label, '→ invalidate #1 #2 #3 +37, free #99');
  });

  it('drops the least telling pieces first when a step did many things', () => {
    const [h] = inlayHints(
      fakeAnalysis('smi', {
        steps: {
          0: ok([
            act('invalidate', { root: 11 }),
            act('queue_zap', { root: 11 }),
            act('unload', { roots: [11] }),
            act('zap', { root: 11 }),
            act('free', { root: 11 }),
            act('alloc', { root: 12, role: '0x01000784' }),
          ]),
        },
      }),
    );
    assert.equal(h?.label, '→ free #11, alloc #12 4-level direct SMM …');
  });

  it('falls back to secondary actions, then says nothing changed', () => {
    assert.deepEqual(
      labels('run\nrun', { steps: { 0: ok([act('request', { request: 'KVM_REQ_TLB_FLUSH_GUEST' })]), 1: ok([]) } }),
      ['→ KVM_REQ_TLB_FLUSH_GUEST', '→ no MMU change'],
    );
  });

  it('shows expectation results and decoded role words', () => {
    const text = 'run\nexpect roots.live == 2\ndecode role 0x1000784';
    const a = fakeAnalysis(text, {
      steps: { 0: ok([]) },
      expectations: [
        { line: 1, span: { line: 1, start: 0, end: 23 }, ok: false, actual: 1, message: 'roots.live is 1' },
      ],
    });
    const hints = inlayHints(a);
    assert.deepEqual(
      hints.map((h) => [h.line, h.label]),
      [
        [0, '→ no MMU change'],
        [1, '→ ✗ got 1'],
        [2, '→ 4-level direct SMM'],
      ],
    );
  });

  it('limits hints to the requested lines', () => {
    const a = fakeAnalysis('run\nrun\nrun', { steps: { 0: ok([]), 1: ok([]), 2: ok([]) } });
    assert.deepEqual(
      inlayHints(a, { startLine: 1, endLine: 1 }).map((h) => h.line),
      [1],
    );
  });
});

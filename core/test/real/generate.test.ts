import assert from 'node:assert/strict';
import { analyze } from '../../src/engine/analyze.js';
import { generateCorpus, generateScenario } from '../../src/real/generate.js';
import { lowerScenario } from '../../src/real/lower.js';

describe('real: the generated corpus', () => {
  it('is reproducible: a seed always gives the same scenario', () => {
    assert.equal(generateScenario(42).text, generateScenario(42).text);
    assert.notEqual(generateScenario(42).text, generateScenario(43).text);
  });

  it('200 scenarios: valid, every line runnable on AMD under QEMU TCG, and covering every area', () => {
    const corpus = generateCorpus(1, 200);
    const seen = new Set<string>();
    for (const g of corpus) {
      const a = analyze(g.text, { checkpoints: false });
      const errors = a.diagnostics.filter((d) => d.severity === 'error');
      assert.deepEqual(errors, [], `${g.name} has errors`);
      const l = lowerScenario(a, { vendor: 'amd', tcg: true });
      assert.deepEqual(
        l.verdicts.filter((v) => !v.runnable),
        [],
        `${g.name} has lines that cannot run`,
      );
      if (/tdp=on tdp_mmu=on/.test(g.text)) seen.add('tdp_mmu');
      if (/tdp=on tdp_mmu=off/.test(g.text)) seen.add('legacy');
      if (/tdp=off/.test(g.text)) seen.add('shadow');
      for (const [k, re] of Object.entries({
        smm: /^(vcpu \d: )?smi$/m,
        wp: /cr0 [|&]= ~?WP/,
        cr4: /cr4 [|&]= ~?(PGE|PSE)/,
        efer: /efer [|&]= ~?NX/,
        cr3: /cr3 = /,
        memslot: /memslot (create|delete|move)/,
        vcpus: /vcpus=2/,
        nested: /^vmenter npt=on/m,
        nested_shadow: /^vmenter cr0/m,
        destroy: /destroy vm/,
        nx_huge_pages: /^nx_huge_pages (on|off)$/m,
        nr_mmu_pages: /^nr_mmu_pages \d+$/m,
      }))
        if (re.test(g.text)) seen.add(k);
    }
    assert.deepEqual([...seen].sort(), [
      'cr3',
      'cr4',
      'destroy',
      'efer',
      'legacy',
      'memslot',
      'nested',
      'nested_shadow',
      'nr_mmu_pages',
      'nx_huge_pages',
      'shadow',
      'smm',
      'tdp_mmu',
      'vcpus',
      'wp',
    ]);
  });
});

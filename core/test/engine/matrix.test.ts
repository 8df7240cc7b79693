/**
 * The matrix (engine/matrix.ts): every example under every profile, checked against separate one-pass analyses
 * per profile (what `kvmmu check --kernel P` runs) and against `diffOutcomes`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyze } from '../../src/engine/analyze.js';
import { analyzeOnePass } from '../../src/engine/one_pass.js';
import { matrix } from '../../src/engine/matrix.js';
import { KernelRuns } from '../../src/engine/kernel_runs.js';
import { PROFILES } from '../../src/kernel/behaviours.js';
import { diffOutcomes } from '../../src/views/text.js';

const examples = join(dirname(fileURLToPath(import.meta.url)), '../../../examples');
const files = readdirSync(examples)
  .filter((f) => f.endsWith('.kvmmu'))
  .sort();

describe('matrix: a scenario under every kernel', () => {
  for (const file of files) {
    it(`${file}: each column's expectations are that profile's own analysis`, () => {
      const text = readFileSync(join(examples, file), 'utf8');
      const m = matrix(text);
      assert.equal(m.kernels.filter((k) => k.own).length, 1);
      for (const p of PROFILES) {
        const col = m.kernels.findIndex((k) => k.name === p.name);
        assert.ok(col >= 0, p.name);
        const k = m.kernels[col]!;
        // The file's own column runs its kernel line; compare it with the file as it is, the rest with --kernel.
        const one = k.own ? analyzeOnePass(text) : analyzeOnePass(text, { kernelOverride: p.name });
        assert.equal(k.passed, one.expectations.passed, `${p.name} passed`);
        assert.equal(k.failed, one.expectations.failed, `${p.name} failed`);
        for (const r of one.expectations.results) {
          const row = m.expects.find((e) => e.line === r.line)!;
          assert.deepEqual(row.results[col], { ok: r.ok, actual: r.actual, message: r.message });
        }
      }
    });
  }

  it('smm-root-thrash: the lines that differ from v6.3 are the diff with v6.3; the change is v6.3 → v6.4', () => {
    const text = readFileSync(join(examples, 'smm-root-thrash.kvmmu'), 'utf8');
    const m = matrix(text);
    const own = m.kernels.find((k) => k.own)!;
    assert.equal(own.name, 'v6.4');
    assert.equal(own.failed, 0);
    const fromV63 = m.lines.filter((l) => l.differsFromOwn.includes('v6.3')).map((l) => l.line);
    const diff = diffOutcomes(analyze(text), analyze(text, { kernelOverride: 'v6.3' })).map((d) => d.line);
    assert.deepEqual(fromV63, diff);
    for (const l of m.lines) {
      if (!l.differsFromOwn.includes('v6.3')) continue;
      assert.ok(l.changes.some((c) => c.from === 'v6.3' && c.to === 'v6.4'));
      assert.ok(
        l.changes.some((c) => c.from === 'v6.1' && c.to === 'v6.1.y'),
        'the 6.1.y backport',
      );
      const g = l.groups.find((x) => x.kernels.includes('v6.4'))!;
      for (const k of ['v6.1.y', 'v6.6', 'v6.12', 'v6.18', 'latest']) assert.ok(g.kernels.includes(k), k);
    }
    assert.deepEqual(
      m.kernels.filter((k) => k.sameAs).map((k) => `${k.name}=${k.sameAs}`),
      ['v6.3=v6.1', 'latest=v6.18'],
    );
  });

  it('a file kernel with modifications is a column of its own', () => {
    const text = 'kernel v6.3 +tdp_mmu_root_ref\nvm vendor=intel tdp=on\nsregs cr0=PE|PG cr3=0x1000\nrun\n';
    const runs = new KernelRuns(text);
    const m = matrix(text, { runs });
    assert.equal(m.kernels[0]!.name, 'v6.3 +tdp_mmu_root_ref');
    assert.ok(m.kernels[0]!.own);
    assert.ok(!m.kernels.slice(1).some((k) => k.own));
    // v6.1 = v6.3 and v6.18 = latest run once; the file's kernel adds one.
    assert.equal(runs.analyses, PROFILES.length - 2 + 1);
  });
});

/**
 * Explanations (engine/explain.ts): which behaviours make a line differ between two kernels. Every claim is checked
 * against separate analyses: the differing lines against `diffOutcomes` of two full analyses, and each explanation
 * by running its intermediate kernel on its own and comparing the line with kernel B's.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyze } from '../../src/engine/analyze.js';
import { analyzeOnePass } from '../../src/engine/one_pass.js';
import { explainDiff, explainSteps, type DiffExplanation } from '../../src/engine/explain.js';
import { KernelRuns } from '../../src/engine/kernel_runs.js';
import { findProfile } from '../../src/kernel/behaviours.js';
import { checkKernel } from '../../src/kernel/resolve.js';
import { kernelFromSpec } from '../../src/syntax/check.js';
import { formatOutcome } from '../../src/views/outcome.js';
import { diffOutcomes } from '../../src/views/text.js';

const examples = join(dirname(fileURLToPath(import.meta.url)), '../../../examples');
const read = (name: string): string => readFileSync(join(examples, name), 'utf8');

/** The outcome of 0-based `line` under `spec`, from an analysis of its own. */
function outcomeAt(text: string, spec: string, line: number): string {
  const a = analyze(text, { kernelOverride: spec, checkpoints: false });
  const s = a.stepAt(line);
  return s ? formatOutcome(s.result, a.kernel) : '';
}

const names = (r: DiffExplanation, line: number): string[][] =>
  r.lines.find((l) => l.line === line)!.explanations.map((e) => e.behaviours.map((b) => b.name));

/** Each explanation's kernel could exist, lies between A and B, and gives B's outcome on its line. */
function assertSound(text: string, r: DiffExplanation, specB: string): void {
  for (const l of r.lines)
    for (const e of l.explanations) {
      const k = kernelFromSpec(e.kernel);
      assert.ok(k.kernel, `${e.kernel}: ${k.error}`);
      const p = findProfile(k.kernel.profile.name)!;
      assert.deepEqual(checkKernel(p, k.kernel.added, k.kernel.removed).conflicts, [], e.kernel);
      assert.equal(outcomeAt(text, e.kernel, l.line), outcomeAt(text, specB, l.line), `line ${l.line + 1}`);
    }
}

describe('explain: why a line differs between two kernels', () => {
  it('smm-root-thrash (v6.4) against v6.3: edbdb43f on exactly the lines that differ', () => {
    const text = read('smm-root-thrash.kvmmu');
    const r = explainDiff(text, KernelRuns.FILE, 'v6.3');
    assert.equal(r.a.label, 'v6.4');
    const expected = diffOutcomes(analyze(text), analyze(text, { kernelOverride: 'v6.3' })).map((d) => d.line);
    assert.ok(expected.length > 0);
    assert.deepEqual(
      r.lines.map((l) => l.line),
      expected,
    );
    for (const l of r.lines) {
      assert.equal(l.status, 'single', `line ${l.line + 1}`);
      assert.deepEqual(names(r, l.line), [['tdp_mmu_root_ref']], `line ${l.line + 1}`);
      const b = l.explanations[0]!.behaviours[0]!;
      assert.equal(b.change, 'revert');
      assert.ok(b.commits[0]!.startsWith('edbdb43f'));
      assert.equal(b.version, 'v6.4');
    }
    assertSound(text, r, 'v6.3');
  });

  for (const file of ['cr0-wp-toggle-v6.3.kvmmu', 'cr0-wp-toggle-v5.15.kvmmu', 'cr0-wp-toggle-v6.4.kvmmu']) {
    it(`${file}, v6.3 → v6.4: the CR0.WP commits on the CR0 lines, per line`, () => {
      const text = read(file);
      const r = explainDiff(text, 'v6.3', 'v6.4');
      assert.ok(r.lines.length > 0);
      const src = text.split('\n');
      let cr0Lines = 0;
      for (const l of r.lines) {
        assert.equal(l.status, 'single', `line ${l.line + 1}`);
        const named = new Set(names(r, l.line).flat());
        if (/\bcr0\b/.test(src[l.line]!)) {
          cr0Lines++;
          // A guest's MOV CR0 with EPT no longer exits (guest-owned WP), which came with the fast path.
          assert.ok(named.has('cr0_wp_fast_path'), `line ${l.line + 1}: ${[...named].join(' ')}`);
        }
        for (const n of named) assert.match(n, /^(cr0_wp_|tdp_mmu_root_ref$)/, `line ${l.line + 1}`);
      }
      assert.ok(cr0Lines >= 2, 'the CR0 writes themselves differ');
      // The `run` after a toggle: only the fast path (no unload, so no new root) explains it.
      assert.ok(r.lines.some((l) => names(r, l.line).some((s) => s.length === 1 && s[0] === 'cr0_wp_fast_path')));
      assertSound(text, r, 'v6.4');
    });
  }

  it('a line two behaviours explain together names both (six-tdp-roots, v6.3 → v6.4, `cr4 |= SMEP`)', () => {
    const text = read('six-tdp-roots.kvmmu');
    const line = text.split('\n').findIndex((l) => l.trim() === 'cr4 |= SMEP');
    assert.ok(line >= 0);
    const r = explainDiff(text, 'v6.3', 'v6.4');
    const l = r.lines.find((x) => x.line === line);
    assert.ok(l, 'the line differs');
    assert.equal(l.status, 'pair');
    assert.deepEqual(names(r, line), [['tdp_mmu_root_ref', 'cr0_wp_fast_path']]);
    assert.deepEqual(l.explanations[0]!.tried, ['tdp_mmu_root_ref', 'cr0_wp_fast_path']);
    // Neither alone does it (checked by separate analyses).
    const b = outcomeAt(text, 'v6.4', line);
    assert.notEqual(outcomeAt(text, 'v6.3 +tdp_mmu_root_ref', line), b);
    assert.notEqual(outcomeAt(text, 'v6.3 +cr0_wp_fast_path', line), b);
    assertSound(text, r, 'v6.4');
  });

  it('a change the fix extends is named with what it brought (v5.17 → v6.1: cpu_role_split needs its bases)', () => {
    const text = read('stale-mmu-context-v5.17.kvmmu');
    const r = explainDiff(text, 'v5.17', 'v6.1');
    assert.ok(r.lines.length > 0);
    for (const l of r.lines)
      for (const e of l.explanations) {
        // Only behaviours v5.17 and v6.1 disagree on are ever changed.
        for (const b of e.behaviours) assert.ok(r.candidates.includes(b.name), b.name);
        for (const t of e.tried) assert.ok(e.behaviours.some((b) => b.name === t));
      }
    assertSound(text, r, 'v6.1');
  });

  it('kernels with the same behaviours are run once; an identical pair has nothing to explain', () => {
    const text = read('smm-root-thrash.kvmmu');
    const runs = new KernelRuns(text);
    const r = explainDiff(text, 'v6.1', 'v6.3', { runs });
    assert.deepEqual(r.lines, []);
    assert.deepEqual(r.candidates, []);
    assert.equal(runs.analyses, 1);
  });

  it('yields after every analysis, so a caller can stop between them', () => {
    const text = read('smm-root-thrash.kvmmu');
    const runs = new KernelRuns(text);
    const it = explainSteps(text, 'v6.3', 'v6.4', { runs });
    let yields = 0;
    let r = it.next();
    while (!r.done) {
      yields++;
      r = it.next();
    }
    assert.ok(yields >= runs.analyses, `${yields} yields for ${runs.analyses} analyses`);
    const stopped = explainSteps(text, 'v6.3', 'v6.4');
    stopped.next();
    assert.deepEqual(stopped.return(undefined as never), { done: true, value: undefined });
  });

  it('a prefix run gives the same outcomes as the whole text up to its line', () => {
    const text = read('six-tdp-roots.kvmmu');
    const runs = new KernelRuns(text);
    const part = runs.run('v6.3 +cr0_wp_fast_path', 20);
    const whole = new KernelRuns(text).run('v6.3 +cr0_wp_fast_path');
    assert.equal(part.upTo, 20);
    assert.deepEqual(part.outcomes, whole.outcomes.slice(0, 21));
  });

  it('every explanation over every example between consecutive mainline kernels is sound', function () {
    this.timeout(120_000);
    const pairs = [
      ['v5.15', 'v5.17'],
      ['v5.17', 'v6.1'],
      ['v6.3', 'v6.4'],
      ['v6.4', 'v6.6'],
      ['v6.6', 'v6.12'],
      ['v6.1', 'v6.1.y'],
    ] as const;
    const files = readdirSync(examples).filter((f) => f.endsWith('.kvmmu'));
    let explained = 0;
    for (const f of files) {
      const text = read(f);
      for (const [a, b] of pairs) {
        const r = explainDiff(text, a, b);
        const one = analyzeOnePass(text, { kernelOverride: b });
        assert.equal(one.kernel.label, b);
        for (const l of r.lines) {
          assert.notEqual(l.a, l.b);
          if (l.explanations.length > 0) explained++;
          assert.ok(l.explanations.length > 0 || l.status === 'more', `${f} ${a}→${b} line ${l.line + 1}`);
        }
        assertSound(text, r, b);
      }
    }
    assert.ok(explained > 50, `${explained} lines explained`);
  });
});

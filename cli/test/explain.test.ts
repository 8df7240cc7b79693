/** `kvmmu diff` with explanations and `kvmmu matrix`, through the CLI's entry point. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DiffExplanation } from '../../core/src/engine/explain.js';
import { PROFILES } from '../../core/src/kernel/behaviours.js';
import { main } from '../src/cli.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s), color: false });
  return { code, out, err };
}

const examples = join(dirname(fileURLToPath(import.meta.url)), '../../examples');
const example = (name: string): string => join(examples, name);

describe('kvmmu diff (explained) and matrix', () => {
  it('diff --kernel v6.3 on smm-root-thrash (file: v6.4) names edbdb43f on every differing line', async () => {
    const r = await cli('diff', example('smm-root-thrash.kvmmu'), '--kernel', 'v6.3');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^9 line\(s\) differ between v6\.4 \(file\) and v6\.3/);
    const blocks = r.out.split('\n\n').filter((b) => /^\s+\d+ {2}/.test(b));
    assert.equal(blocks.length, 9);
    for (const b of blocks) assert.match(b, /why\s+-tdp_mmu_root_ref {2}edbdb43fc96b {2}v6\.4/);
  });

  it('diff --json carries the explanations with full commit ids', async () => {
    const r = await cli('diff', example('six-tdp-roots.kvmmu'), '--kernel', 'v6.3', '--kernel', 'v6.4', '--json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as DiffExplanation;
    assert.equal(j.a.label, 'v6.3');
    assert.equal(j.b.label, 'v6.4');
    const smep = j.lines.find((l) => l.text === 'cr4 |= SMEP')!;
    assert.equal(smep.status, 'pair');
    assert.deepEqual(
      smep.explanations[0]!.behaviours.map((b) => [b.name, b.commits[0]]),
      [
        ['tdp_mmu_root_ref', 'edbdb43fc96b11b3bfa531be306a1993d9fe89ec'],
        ['cr0_wp_fast_path', '01b31714bd90be2784f7145bf93b7f78f3d081e1'],
      ],
    );
    const text = await cli('diff', example('six-tdp-roots.kvmmu'), '--kernel', 'v6.3', '--kernel', 'v6.4');
    assert.match(text.out, /why\s+together \(a pair\):\n\s+\+tdp_mmu_root_ref .*\n\s+\+cr0_wp_fast_path /);
  });

  it('diff refuses no --kernel, three, and a kernel that could not exist', async () => {
    const f = example('smm-root-thrash.kvmmu');
    assert.equal((await cli('diff', f)).code, 2);
    assert.equal((await cli('diff', f, '--kernel', 'v6.3', '--kernel', 'v6.4', '--kernel', 'v6.6')).code, 2);
    const bad = await cli('diff', f, '--kernel', 'v6.3 +sync_invalidated_zap');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--kernel/);
  });

  it('matrix agrees with `kvmmu check --kernel P` on every example and profile', async function () {
    this.timeout(120_000);
    const files = readdirSync(examples)
      .filter((f) => f.endsWith('.kvmmu'))
      .map(example);
    const r = await cli('matrix', '--json', ...files);
    assert.equal(r.code, 0, r.err);
    const reports = JSON.parse(r.out) as {
      file: string;
      kernels: { name: string; own: boolean; passed: number; failed: number }[];
    }[];
    assert.equal(reports.length, files.length);
    for (const m of reports) {
      const own = m.kernels.find((k) => k.own)!;
      const plain = await cli('check', m.file);
      assert.match(plain.out, new RegExp(`: ${own.passed} expectation\\(s\\) passed, ${own.failed} failed`), m.file);
      for (const p of PROFILES) {
        const k = m.kernels.find((x) => x.name === p.name)!;
        if (k.own) continue; // the file's own column runs its kernel line (above)
        const c = await cli('check', '--kernel', p.name, m.file);
        assert.match(
          c.out,
          new RegExp(`: ${p.name}: ${k.passed} expectation\\(s\\) passed, ${k.failed} failed`),
          `${m.file} ${p.name}`,
        );
      }
    }
  });

  it('matrix exits 1 when an expect fails under the file’s own kernel, not when it fails elsewhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmmu-matrix-'));
    const body = 'vm vendor=intel tdp=on tdp_mmu=on\nsregs cr0=PE|ET|PG|WP cr4=PAE efer=LME|LMA|NX cr3=0x1000\nrun\n';
    const good = join(dir, 'good.kvmmu');
    writeFileSync(good, `kernel v6.4\n${body}expect root.refcount == 2\n`);
    const bad = join(dir, 'bad.kvmmu');
    writeFileSync(bad, `kernel v6.3\n${body}expect root.refcount == 2\n`);
    const g = await cli('matrix', good);
    assert.equal(g.code, 0);
    assert.match(g.out, /v6\.4\*/);
    assert.match(g.out, /failing on v5\.15 \(1\)/);
    const b = await cli('matrix', bad);
    assert.equal(b.code, 1);
    assert.match(b.out, /expect root\.refcount == 2\s+FAIL/);
  });
});

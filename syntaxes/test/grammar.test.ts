/**
 * Grammar tests: vscode-tmgrammar-test over syntaxes/test/*.kvmmu (scope assertions in `#` comment
 * lines), plus a check that a wrong assertion really fails, so a silent runner cannot pass.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const grammar = join(here, '..', 'kvmmu.tmLanguage.json');
const cli = join(
  dirname(createRequire(import.meta.url).resolve('vscode-tmgrammar-test/package.json')),
  'dist',
  'unit.js',
);

function run(files: string[]): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [cli, '-g', grammar, ...files], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('TextMate grammar', () => {
  it('passes every scope assertion in syntaxes/test', () => {
    const files = readdirSync(here)
      .filter((f) => f.endsWith('.kvmmu'))
      .map((f) => join(here, f));
    assert.ok(files.length > 0);
    const r = run(files);
    assert.equal(r.status, 0, r.output);
  });

  it('fails on a wrong assertion', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmmu-grammar-'));
    try {
      const file = join(dir, 'wrong.kvmmu');
      writeFileSync(file, '# SYNTAX TEST "source.kvmmu"\nsmi\n# <--- constant.numeric.hex.kvmmu\n');
      const r = run([file]);
      assert.notEqual(r.status, 0, r.output);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

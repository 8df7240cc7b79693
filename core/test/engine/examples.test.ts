/**
 * Golden tests: every example scenario is analysed and its full outcome listing (each line's outcome and every
 * action with its call path, then the roots, vCPUs and counters) is compared with examples/expected/NAME.out.
 * Regenerate with UPDATE_EXPECT=1 and review the diff.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyze } from '../../src/engine/analyze.js';
import { renderRun } from '../../src/views/text.js';

const examples = join(dirname(fileURLToPath(import.meta.url)), '../../../examples');
const update = process.env['UPDATE_EXPECT'] === '1';
const files = readdirSync(examples)
  .filter((f) => f.endsWith('.kvmmu'))
  .sort();

describe('examples (golden)', () => {
  it('there is at least one example per patch the project started from, citing it by commit or title', () => {
    // The five patches and reviews: edbdb43f, the EFER.LMA ext-role fix, INVEPT, the off-list proposal, role docs.
    for (const cite of ['edbdb43f', "don't skip mmu initialization", 'handle_invept', '[PATCH 15/28]', '[49/54]']) {
      const hits = files.filter((f) => readFileSync(join(examples, f), 'utf8').includes(cite));
      assert.ok(hits.length > 0, `no example cites ${cite}`);
    }
  });

  it('examples cite kernel commits and sources, not documents outside the repository', () => {
    for (const f of files) assert.doesNotMatch(readFileSync(join(examples, f), 'utf8'), /\bseed \d|facts §|SPEC §/, f);
  });

  for (const file of files) {
    it(file, () => {
      const text = readFileSync(join(examples, file), 'utf8');
      assert.match(text, /^#/, 'an example opens with a comment saying what it shows');
      const analysis = analyze(text);
      const errors = analysis.diagnostics.filter((d) => d.severity === 'error');
      assert.deepEqual(
        errors.map((d) => `${d.span.line + 1}:${d.span.start + 1} ${d.message}`),
        [],
        'the example has errors or failed expectations',
      );
      assert.ok(analysis.expectations.passed > 0, 'an example checks itself with expect lines');
      const listing = renderRun(analysis, { actions: true }) + '\n';
      const expectedFile = join(examples, 'expected', file.replace(/\.kvmmu$/, '.out'));
      if (update || !existsSync(expectedFile)) {
        if (!update) assert.fail(`missing ${expectedFile}; run with UPDATE_EXPECT=1 and review it`);
        writeFileSync(expectedFile, listing);
        return;
      }
      assert.equal(
        listing,
        readFileSync(expectedFile, 'utf8'),
        `outcome of ${file} changed; UPDATE_EXPECT=1 to accept`,
      );
    });
  }
});

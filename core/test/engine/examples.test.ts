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
  it('there is at least one example per seed document', () => {
    for (const seed of ['000', '001', '002', '003', '004']) {
      const hits = files.filter((f) => readFileSync(join(examples, f), 'utf8').includes(`seed ${seed}`));
      assert.ok(hits.length > 0, `no example mentions "seed ${seed}"`);
    }
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

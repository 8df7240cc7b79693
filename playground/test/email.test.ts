import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../core/src/engine/analyze.js';
import { formatOutcome } from '../../core/src/views/outcome.js';
import { timeline } from '../../core/src/features/timeline.js';
import { emailText } from '../src/email.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');

describe('playground: copy as email', () => {
  it('puts each statement’s outcome beside it, as plain text', () => {
    const text =
      'kernel v6.4\nvm vcpus=1\nsregs cr0=PE|PG|WP cr4=PAE efer=LME|LMA cr3=0x1000\nrun\nsmi   # enter SMM\nrun\n';
    const mail = emailText(text, timeline(analyze(text), 'file:///x.kvmmu', 1), 'https://example.test/#v=1');
    const lines = mail.split('\n');
    assert.equal(lines[0], '# kvmmu, kernel v6.4');
    assert.equal(lines[1], '# https://example.test/#v=1');
    assert.match(lines[6] ?? '', /^run {37}# → alloc #1 4-level/);
    assert.match(lines[7] ?? '', /^smi {3}# enter SMM {2}→ unload #1/);
    assert.doesNotMatch(mail, /[<>]|\u001b\[/);
  });

  it('is itself the same scenario: pasted back, every example runs the same', () => {
    for (const name of readdirSync(EXAMPLES).filter((f) => f.endsWith('.kvmmu'))) {
      const text = readFileSync(join(EXAMPLES, name), 'utf8');
      const before = analyze(text);
      const mail = emailText(text, timeline(before, `file:///${name}`, 1));
      const after = analyze(mail);
      const summaries = (a: typeof before) => a.steps.toArray().map((s) => s.result.summary);
      assert.deepEqual(summaries(after), summaries(before), name);
      assert.deepEqual(
        after.diagnostics.map((d) => d.message),
        before.diagnostics.map((d) => d.message),
        name,
      );
      assert.ok(
        before.steps.toArray().every((s) => mail.includes(formatOutcome(s.result, before.kernel))),
        name,
      );
    }
  });
});

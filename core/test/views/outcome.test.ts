/**
 * One wording for what a line did, in every view: the CLI, the inlay hint, the statement hover and the panel's
 * step heading say the same words for the same step (issue 16). Real scenarios through the real model.
 */
import { strict as assert } from 'node:assert';
import { analyze } from '../../src/engine/analyze.js';
import type { Analysis } from '../../src/engine/analysis.js';
import { inlayHints } from '../../src/features/hints.js';
import { hover } from '../../src/features/hover.js';
import { timelineStep } from '../../src/features/timeline.js';
import { formatOutcome } from '../../src/views/outcome.js';
import { renderRun } from '../../src/views/text.js';

const LONG_MODE = 'sregs cr0=PE|ET|PG|WP cr4=PAE efer=LME|LMA|NX cr3=0x1000';

/** What each view says about line `line` (0-based) of `a`. */
function views(a: Analysis, line: number): { cli: string; hint: string; hover: string; panel: string } {
  const step = a.stepAt(line);
  assert.ok(step, `no step on line ${line + 1}`);
  const cliLine = renderRun(a).split('\n')[line + 1] ?? '';
  const hint = inlayHints(a).find((h) => h.line === line);
  return {
    cli: cliLine.slice(cliLine.indexOf('→ ') + 2),
    hint: hint?.tooltip ?? '',
    hover: hover(a, line, 0)?.markdown ?? '',
    panel: timelineStep(a, step).summary,
  };
}

function sameEverywhere(a: Analysis, line: number): string {
  const v = views(a, line);
  const words = formatOutcome(a.stepAt(line)!.result, a.kernel);
  assert.equal(v.cli, words, 'CLI');
  assert.equal(v.hint, words, 'inlay hint tooltip');
  assert.equal(v.panel, words, 'panel heading');
  assert.ok(v.hover.includes(`→ ${words}`), `hover:\n${v.hover}`);
  // The hint's own label is the same pieces, shortened only by length.
  const label = inlayHints(a).find((h) => h.line === line)?.label ?? '';
  assert.ok(words.startsWith(label.slice(2).replace(/ …$/, '')) || label.endsWith('…'), label);
  return words;
}

describe('views/outcome: one wording in every view', () => {
  it('KVM_SET_SREGS that re-initialises the MMU says so everywhere (not "reinit" in one view, "no root change" in another)', () => {
    const a = analyze(`kernel v6.4\n${LONG_MODE}\nrun\n`);
    assert.equal(sameEverywhere(a, 1), 'reinit root_mmu');
  });

  it('RSM leaves SMM: a new role, not "role unchanged"', () => {
    const a = analyze(`kernel v6.3\n${LONG_MODE}\nrun\nsmi\nrun\nrsm\nrun\n`);
    const words = sameEverywhere(a, 5);
    assert.doesNotMatch(words, /role unchanged/);
    assert.match(words, /reinit root_mmu/);
  });

  it('v6.3: the refcount re-armed for the zap worker is visible between the two puts', () => {
    const a = analyze(`kernel v6.3\n${LONG_MODE}\nrun\nsmi\n`);
    const words = sameEverywhere(a, 3);
    assert.match(
      words,
      /put #1 rc 1→0, invalidate #1 rc re-armed 0→1, queue zap #1.*put #1 rc 1→0 \(zap worker\), free #1/,
    );
  });

  it('a line that changes nothing says "no MMU change" everywhere', () => {
    const a = analyze(`kernel v6.4\n${LONG_MODE}\nrun\nrun\n`);
    assert.equal(sameEverywhere(a, 3), 'no MMU change');
  });
});

describe('hover: the before/after table shows every MMU the line changed, each labelled', () => {
  const NESTED =
    'kernel v6.4\nvm vendor=intel tdp=on nested=on\nsregs cr0=PE|PG cr4=PAE|VMXE efer=LME|LMA cr3=0x1000\nrun\n' +
    'vmenter ept=on eptp=0x501e cr0=PE|PG cr4=PAE efer=LME|LMA cr3=0x9000 vpid=1\nrun\nvmexit\ninvept single 0x501e\n';

  it('vmenter: root_mmu before and guest_mmu after are separate, labelled tables', () => {
    const a = analyze(NESTED);
    assert.deepEqual(
      a.diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
    const md = hover(a, 4, 0)?.markdown ?? '';
    assert.match(md, /Active MMU: `root_mmu` → `guest_mmu`/);
    assert.match(md, /\| \*\*guest_mmu\*\* \(active\)[^|]* \| before \| after \|/);
    assert.match(md, /\| \*\*root_mmu\*\*[^|]* \| before \| after \|/);
  });

  it('invept changes guest_mmu while root_mmu stays active: guest_mmu is shown, labelled', () => {
    const a = analyze(NESTED);
    const step = a.stepAt(7);
    assert.ok(step);
    const md = hover(a, 7, 0)?.markdown ?? '';
    assert.match(md, /\| \*\*guest_mmu\*\* \| before \| after \|/, md);
    assert.match(md, /\| \*\*root_mmu\*\* \(active\) — unchanged \| before \| after \|/);
    const guest = md.slice(md.indexOf('**guest_mmu**'));
    const rootRow = /\| root \| (\S+) \| (\S+) \|/.exec(guest);
    assert.ok(rootRow && rootRow[1] !== rootRow[2], `guest_mmu's root did not change:\n${guest}`);
  });
});

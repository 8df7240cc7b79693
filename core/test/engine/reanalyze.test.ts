/**
 * `reanalyze(previous, text)` must always equal `analyze(text)`: it re-parses from the first changed line (found
 * by comparing the texts) and resumes the model from a checkpoint. Edits anywhere — header, middle, end,
 * line breaks (\n, \r\n, \r), whole lines added or removed, comments — on the examples and on a scenario long
 * enough to have many checkpoints.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Analysis } from '../../src/engine/analysis.js';
import { analyze, CHECKPOINT_INTERVAL, reanalyze } from '../../src/engine/analyze.js';
import { toJson } from '../../src/views/json.js';
import { longScenario } from '../long_scenario.js';

const examples = join(dirname(fileURLToPath(import.meta.url)), '../../../examples');

function same(actual: Analysis, text: string, what: string): void {
  const expected = analyze(text);
  assert.equal(actual.text, text, `${what}: text`);
  assert.deepEqual(actual.parse, expected.parse, `${what}: parse`);
  assert.deepEqual(actual.steps.toArray(), expected.steps.toArray(), `${what}: steps`);
  assert.deepEqual(actual.diagnostics, expected.diagnostics, `${what}: diagnostics`);
  assert.equal(JSON.stringify(toJson(actual)), JSON.stringify(toJson(expected)), `${what}: report`);
  assert.deepEqual(actual.expectations, expected.expectations, `${what}: expectations`);
  const lines = text.split(/\r\n|\r|\n/).length;
  for (const line of [0, Math.floor(lines / 3), Math.floor(lines / 2), lines - 1])
    assert.deepEqual(actual.stateAt(line), expected.stateAt(line), `${what}: stateAt(${line})`);
}

/** Edits as functions of the text, each applied to the previous analysis. */
const EDITS: [string, (t: string) => string][] = [
  ['append an event', (t) => t + 'run\n'],
  ['append without a final newline', (t) => t + 'smi'],
  ['type at the end', (t) => t + '\nrs'],
  ['delete the last character', (t) => t.slice(0, -1)],
  ['comment the first line', (t) => '#' + t],
  ['space before the header', (t) => t.replace('kernel', ' kernel')],
  ['change the kernel', (t) => t.replace(/kernel \S+/, 'kernel v5.10')],
  ['type in a comment at the top', (t) => '# x\n' + t],
  ['type more in that comment', (t) => t.replace('# x', '# xy')],
  ['indent a line in the middle', (t) => insertAt(t, 0.5, '  ')],
  ['indent it more', (t) => insertAt(t, 0.5, '\t')],
  ['indent a line near the end', (t) => insertAt(t, 0.9, ' ')],
  ['comment after a line in the middle', (t) => appendToLineAt(t, 0.7, '  # note')],
  ['indent every line', (t) => t.replace(/^/gm, ' ')],
  ['indent an expectation', (t) => t.replace(/^(\s*)expect/m, '$1  expect')],
  ['insert a line in the middle', (t) => insertAt(t, 0.5, 'vcpu 0: smi\n')],
  ['remove a line in the middle', (t) => removeLineAt(t, 0.4)],
  ['break a line in the middle', (t) => insertAt(t, 0.6, 'cr0 = bogus\n')],
  ['\\r\\n line breaks', (t) => t.replace(/\r?\n/g, '\r\n')],
  ['one \\r\\n back to \\n', (t) => t.replace('\r\n', '\n')],
  ['\\r line breaks', (t) => t.replace(/\r\n|\n/g, '\r')],
  ['\\n line breaks', (t) => t.replace(/\r\n|\r/g, '\n')],
  ['empty', () => ''],
];

function lineStarts(t: string): number[] {
  const starts = [0];
  for (let i = 0; i < t.length; i++) if (t[i] === '\n') starts.push(i + 1);
  return starts;
}
function insertAt(t: string, at: number, s: string): string {
  const starts = lineStarts(t);
  const o = starts[Math.floor((starts.length - 1) * at)] ?? 0;
  return t.slice(0, o) + s + t.slice(o);
}
function appendToLineAt(t: string, at: number, s: string): string {
  const starts = lineStarts(t);
  const next = starts[Math.floor((starts.length - 1) * at) + 1];
  if (next === undefined) return t + s;
  return t.slice(0, next - 1) + s + t.slice(next - 1);
}
function removeLineAt(t: string, at: number): string {
  const starts = lineStarts(t);
  const i = Math.floor((starts.length - 1) * at);
  return t.slice(0, starts[i] ?? 0) + t.slice(starts[i + 1] ?? t.length);
}

/** Both vCPUs busy, an expectation in every cycle, enough steps for several checkpoints. */
const LONG_CYCLE = [
  'vcpu 0: smi',
  'vcpu 0: run',
  'vcpu 0: rsm',
  'vcpu 1: cr3 = 0x2000',
  'vcpu 1: run',
  'vcpu 0: cr0 &= ~WP',
  'vcpu 0: run',
  'vcpu 0: cr0 |= WP',
  'expect roots.live >= 1',
];
const longText = (): string => longScenario(LONG_CYCLE, CHECKPOINT_INTERVAL * 6, 2);

describe('reanalyze', () => {
  const texts: [string, string][] = readdirSync(examples)
    .filter((f) => f.endsWith('.kvmmu'))
    .sort()
    .map((f) => [f, readFileSync(join(examples, f), 'utf8')]);
  texts.push(['long scenario', longText()]);

  for (const [name, original] of texts)
    it(`equals analyze after each of a series of edits: ${name}`, function () {
      // Two runs share no results (each owns its caches), so comparing them compares every action: slow when loaded.
      this.timeout(120_000);
      let previous = analyze(original);
      let text = original;
      for (const [what, edit] of EDITS) {
        const next = edit(text);
        const a = reanalyze(previous, next);
        same(a, next, `${name}: ${what}`);
        previous = a;
        text = next;
      }
    });

  it('without checkpoints (a one-shot analysis) gives the same analysis, states replayed from the start', () => {
    for (const [name, text] of [texts[0] as [string, string], ['long scenario', longText()] as [string, string]]) {
      const lean = analyze(text, { checkpoints: false });
      same(lean, text, `${name} without checkpoints`);
      // Editing it re-analyses from the top (there is no checkpoint to resume from), still equal to analyze.
      const edited = text.replace(/cr3 = 0x2000/, 'cr3 = 0x3000');
      same(reanalyze(lean, edited, { checkpoints: false }), edited, `${name} edited without checkpoints`);
    }
  });

  it('returns the previous analysis when the text did not change', () => {
    const a = analyze('kernel v6.4\nvm vendor=intel tdp=on vcpus=1\nrun\n');
    assert.equal(reanalyze(a, a.text), a);
  });
});

describe('kernel settings', () => {
  it('a bad default kernel is reported, not silently replaced', () => {
    const a = analyze('run\n', { defaultKernel: 'v9.9' });
    const d = a.diagnostics.find((x) => x.code === 'bad-kernel-setting');
    assert.ok(d, 'no diagnostic for the bad default kernel');
    assert.equal(d.severity, 'warning');
    assert.match(d.message, /v9\.9/);
    assert.match(d.message, /analysed with latest/);
    assert.equal(a.steps.length, 1, 'the file still runs');
  });
});

/**
 * `analyzeOnePass(text)` reads a scenario once for a report (the CLI's check): its diagnostics, expectations,
 * final state and report must be exactly those of `analyze(text)`, whatever the text — the examples, long
 * scenarios, and scenarios broken on purpose (late, repeated or wrong headers, vCPUs out of range, bad lines,
 * failing expectations, kernel settings that do not resolve) — and after random edits of all of these.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnalyzeOptions } from '../../src/engine/analysis.js';
import { analyze } from '../../src/engine/analyze.js';
import { analyzeOnePass } from '../../src/engine/one_pass.js';
import { toJson, writeReports, type ReportItem } from '../../src/views/json.js';
import { longScenario } from '../long_scenario.js';

const examples = join(dirname(fileURLToPath(import.meta.url)), '../../../examples');
const exampleTexts = readdirSync(examples)
  .filter((f) => f.endsWith('.kvmmu'))
  .sort()
  .map((f) => [f, readFileSync(join(examples, f), 'utf8')] as const);

/** The compact bytes `check --json` writes (one report, or several as an array). */
function bytes(items: ReportItem[], array: boolean): string {
  const chunks: Uint8Array[] = [];
  writeReports(
    items,
    array,
    () => assert.fail('text sink used'),
    undefined,
    (b) => chunks.push(b),
  );
  return Buffer.concat(chunks).toString('utf8');
}

function same(text: string, what: string, options: AnalyzeOptions = {}): void {
  const expected = analyze(text, options);
  const actual = analyzeOnePass(text, options);
  assert.equal(actual.kernel.label, expected.kernel.label, `${what}: kernel`);
  assert.deepEqual(actual.vm, expected.vm, `${what}: vm`);
  assert.deepEqual(actual.diagnostics, expected.diagnostics, `${what}: diagnostics`);
  assert.deepEqual(actual.expectations, expected.expectations, `${what}: expectations`);
  assert.deepEqual(actual.final, expected.final, `${what}: final state`);
  assert.equal(actual.steps.length, expected.steps.length, `${what}: steps`);
  assert.deepEqual(toJson(actual, { file: 'f' }), toJson(expected, { file: 'f' }), `${what}: report`);
  assert.equal(
    bytes([{ analysis: actual, options: { file: 'f' } }], false),
    bytes([{ analysis: expected, options: { file: 'f' } }], false),
    `${what}: report bytes`,
  );
}

/** Scenarios wrong in every way the checks know, each line on its own. */
const BROKEN = [
  'run\nkernel v6.3\nvm vendor=amd\nsmi\nrsm', // header after events (still applies)
  'kernel v6.4\nkernel v6.1\nvm vcpus=1\nvm vcpus=2\nrun', // repeated headers
  'kernel v9.9 +nosuch -tdp_mmu_root_ref +tdp_mmu_root_ref\nrun', // unknown profile, unknown and conflicting mods
  'kernel v6.3 +tdp_mmu_root_ref +tdp_mmu_root_ref\nvm vcpus=2\nvcpu 3\nrun\nvcpu 1: smi\nvcpu 5: rsm', // vCPUs out of range
  'vm vendor=amd\nvmenter\nvm nested=on\ninvept\nvmenter ept=on eptp=0x1000', // nested rules, wrong vendor
  'kernel v6.4\nrms\nsregs cr0=PE|PG\nrun\ncr3 = \nexpect root.id == 1\nexpect nosuch.path == 2\nexpect roots.count == 99',
  'kern v6.4\nvmm vendor=intel\n  # comment\n\n\tvcpu 0: run   # trailing\nrun\r\nsmi\rrsm\r\n',
  '',
  '# only a comment',
  'kernel v6.3 +nosuch\nvm vcpus=2\n# a header and nothing to run',
  'decode role 0x1234\ndecode cpu_role 0x0\nrun',
];

describe('analyzeOnePass (the CLI check path)', () => {
  it('equals analyze on every example', () => {
    for (const [file, text] of exampleTexts) same(text, file);
  });

  it('equals analyze on scenarios broken on purpose, and with kernel settings good and bad', () => {
    const settings: AnalyzeOptions[] = [
      {},
      { kernelOverride: 'v5.15' },
      { kernelOverride: 'v6.3 +tdp_mmu_root_ref' },
      { kernelOverride: 'v0.0' },
      { defaultKernel: 'v6.1' },
      { defaultKernel: 'nonsense' },
    ];
    BROKEN.forEach((text, i) => {
      for (const options of settings) same(text, `broken #${i} ${JSON.stringify(options)}`, options);
    });
  });

  it('equals analyze on long scenarios: every vCPU, expectations, errors, WARNs', () => {
    same(longScenario(['vcpu 0: smi', 'vcpu 0: run', 'vcpu 0: rsm', 'vcpu 1: cr3 = 0x2000', 'rms'], 3000, 1), 'long 1');
    same(
      longScenario(
        ['vcpu 1: cr0 &= ~WP', 'vcpu 1: run', 'vcpu 0: smi', 'expect roots.count >= 1', 'vcpu 0: rsm', 'vcpu 7: run'],
        3000,
        2,
      ),
      'long 2',
    );
  });

  it('equals analyze after random edits of the examples and broken scenarios (lines moved, dropped, doubled, broken)', () => {
    let seed = 7;
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const pool = [...exampleTexts.map(([, t]) => t), ...BROKEN];
    const junk = ['kernel v6.1', 'vm vcpus=1', 'vcpu 2', 'expect root.id == 2', 'smi', 'cr0 = 0', 'nonsense here'];
    for (let round = 0; round < 150; round++) {
      const lines = (pool[next(pool.length)] as string).split('\n');
      for (let e = 0, edits = 1 + next(4); e < edits && lines.length > 0; e++) {
        const at = next(lines.length);
        switch (next(4)) {
          case 0:
            lines.splice(at, 1);
            break;
          case 1:
            lines.splice(at, 0, lines[next(lines.length)] as string);
            break;
          case 2:
            lines.splice(at, 0, junk[next(junk.length)] as string);
            break;
          default:
            lines[at] = (lines[at] as string).slice(0, next((lines[at] as string).length + 1));
        }
      }
      same(lines.join('\n'), `round ${round}`);
    }
  });

  it('equals analyze on random characters and on soup of statements, line breaks of every kind', () => {
    let seed = 11;
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const words = ['kernel v6.1', 'vm vcpus=3 tdp=off', 'vcpu 1', 'vcpu 4:', 'smi', 'rsm', 'run', 'cr0 &= ~WP'];
    words.push('cr3 = 0x5000', 'cr4 |= PCIDE', 'expect root.id == 1', 'é', '\u0000', '#', ':', '0x', '\t');
    const breaks = ['\n', '\r\n', '\r'];
    for (let round = 0; round < 60; round++) {
      let text = '';
      for (let line = 0, lines = next(40); line < lines; line++) {
        if (round % 2 === 0)
          for (let i = 0, n = next(30); i < n; i++) text += String.fromCharCode(next(next(5) === 0 ? 0x10000 : 128));
        else for (let i = 0, n = 1 + next(3); i < n; i++) text += (i > 0 ? ' ' : '') + words[next(words.length)];
        text += breaks[next(breaks.length)];
      }
      same(text, `round ${round}`);
    }
  });

  it('writes several files as one array, as analyze would', () => {
    const [a, b] = [exampleTexts[0], exampleTexts[1]] as [readonly [string, string], readonly [string, string]];
    assert.equal(
      bytes(
        [
          { analysis: analyzeOnePass(a[1]), options: { file: a[0] } },
          { analysis: analyzeOnePass(b[1]), options: { file: b[0] } },
        ],
        true,
      ),
      bytes(
        [
          { analysis: analyze(a[1]), options: { file: a[0] } },
          { analysis: analyze(b[1]), options: { file: b[0] } },
        ],
        true,
      ),
    );
  });

  it('refuses a report at a line (it keeps no states to take one from)', () => {
    assert.throws(() => toJson(analyzeOnePass('run\n'), { at: 1 }), /needs a whole analysis/);
  });
});

/**
 * The CLI streams `--json` with writeJson instead of building one string: the text must be exactly
 * `JSON.stringify(report, null, indent) + '\n'`, whatever the report's size (long step lists are written in
 * batches) and shape (one report or an array of them, compact or indented).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyze } from '../../src/engine/analyze.js';
import { toJson, writeJson } from '../../src/views/json.js';

const examples = join(dirname(fileURLToPath(import.meta.url)), '../../../examples');

function streamed(value: unknown, indent?: number): { text: string; chunks: number } {
  let text = '';
  let chunks = 0;
  writeJson(
    value,
    (s) => {
      text += s;
      chunks++;
    },
    indent,
  );
  return { text, chunks };
}

/** The byte path (compact output to a UTF-8 sink, as the CLI's stdout gets it), decoded. */
function streamedBytes(value: unknown): { text: string; chunks: number } {
  const chunks: Uint8Array[] = [];
  writeJson(
    value,
    () => assert.fail('text sink used'),
    undefined,
    (b) => chunks.push(b),
  );
  return { text: Buffer.concat(chunks).toString('utf8'), chunks: chunks.length };
}

function longScenario(events: number): string {
  const lines = [
    '# long',
    'kernel v6.4',
    'vm vendor=intel tdp=on vcpus=2',
    'vcpu 0',
    'sregs cr0=PE|ET|PG|WP cr4=PAE efer=LME|LMA|NX cr3=0x1000',
    'run',
  ];
  const cycle = [
    'vcpu 0: smi',
    'vcpu 0: run',
    'vcpu 0: rsm',
    'vcpu 1: cr3 = 0x2000',
    'vcpu 0: cr0 &= ~WP',
    'rms',
    'vcpu 0: run',
  ];
  for (let i = 0; i < events; i++) lines.push(cycle[i % cycle.length] as string);
  return lines.join('\n') + '\n';
}

describe('writeJson (streamed --json)', () => {
  const files = readdirSync(examples)
    .filter((f) => f.endsWith('.kvmmu'))
    .sort();

  it('writes every example report exactly as JSON.stringify, compact and indented', () => {
    assert.ok(files.length > 0);
    for (const f of files) {
      const report = toJson(analyze(readFileSync(join(examples, f), 'utf8')), { file: f });
      assert.equal(streamed(report).text, JSON.stringify(report) + '\n', f);
      assert.equal(streamed(report, 2).text, JSON.stringify(report, null, 2) + '\n', `${f} (indented)`);
    }
  });

  it('writes every example report as UTF-8 bytes exactly as JSON.stringify', () => {
    for (const f of files) {
      const report = toJson(analyze(readFileSync(join(examples, f), 'utf8')), { file: f });
      assert.equal(streamedBytes(report).text, JSON.stringify(report) + '\n', f);
    }
  });

  it('writes long reports and odd values as UTF-8 bytes exactly as JSON.stringify', () => {
    const report = toJson(analyze(longScenario(5000)), { file: 'long.kvmmu' });
    const bytes = streamedBytes([report, report]);
    assert.equal(bytes.text, JSON.stringify([report, report]) + '\n');
    assert.ok(bytes.chunks > 10);
    const path = Object.freeze(['kvm_mmu_reload', 'kvm_mmu_load']);
    const values: unknown[] = [
      { a: undefined, b: [undefined, null, () => 1], c: {}, d: [], e: [path, path, { path }] },
      [0, -0, 1, 7, 10, 99, 100, 999_999_999, 1e9, 2 ** 53, -1, 1.5, -2.25, 1e-7, 1e21, NaN, Infinity, -Infinity],
      [
        '',
        'plain',
        'quote " backslash \\ tab \t nl \n nul \u0000 del \u007f',
        'é→€𝄞',
        '\ud800 lone',
        'x'.repeat(300) + '→',
      ],
      { 'key "quoted"': true, é: false, 1: 'numeric key first' },
      'top-level string',
      null,
      123,
    ];
    for (const v of values) assert.equal(streamedBytes(v).text, JSON.stringify(v) + '\n', JSON.stringify(v));
  });

  it('writes an array of reports (several files) exactly as JSON.stringify', () => {
    const reports = files.slice(0, 3).map((f) => toJson(analyze(readFileSync(join(examples, f), 'utf8')), { file: f }));
    assert.equal(streamed(reports).text, JSON.stringify(reports) + '\n');
    assert.equal(streamed(reports, 2).text, JSON.stringify(reports, null, 2) + '\n');
  });

  it('writes a long report (thousands of steps, diagnostics) in many chunks, same text', () => {
    const report = toJson(analyze(longScenario(5000)), { file: 'long.kvmmu' });
    assert.ok(report.steps.length > 2 * 512 && report.diagnostics.length > 512);
    const compact = streamed(report);
    assert.equal(compact.text, JSON.stringify(report) + '\n');
    assert.ok(compact.chunks > 10, `expected many chunks, got ${compact.chunks}`);
    assert.equal(streamed(report, 2).text, JSON.stringify(report, null, 2) + '\n');
    const many = [report, report];
    assert.equal(streamed(many).text, JSON.stringify(many) + '\n');
    assert.equal(streamed(many, 2).text, JSON.stringify(many, null, 2) + '\n');
  });

  it('matches JSON.stringify on edge shapes: empty containers, undefined fields and elements, nesting', () => {
    const values: unknown[] = [
      {},
      [],
      { a: undefined, b: [], c: {}, d: [undefined, null, 1, 'x'], e: { f: { g: { h: [1, [2, [3]]] } } } },
      Array.from({ length: 1300 }, (_, i) => (i % 3 === 0 ? { i, s: `"q"\n${i}`, u: undefined } : [i, undefined])),
      { steps: Array.from({ length: 700 }, (_, i) => ({ n: i, nested: { deep: [i, { x: 'é' }] } })), tail: null },
      'text',
      42,
      null,
    ];
    for (const v of values)
      for (const indent of [undefined, 0, 2, 4])
        assert.equal(streamed(v, indent).text, JSON.stringify(v, null, indent) + '\n');
  });
});

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
import { toJson, writeJson, writeReports, type JsonOptions } from '../../src/views/json.js';
import type { Analysis } from '../../src/engine/analysis.js';
import { JsonByteWriter, utf8, utf8Js } from '../../src/views/json_bytes.js';
import { longScenario } from '../long_scenario.js';

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

/** The CLI's path: reports written straight from analyses, as text (indented) or UTF-8 bytes (compact). */
function reportsWritten(
  items: { analysis: Analysis; options?: JsonOptions }[],
  array: boolean,
  indent?: number,
): string {
  let text = '';
  const chunks: Uint8Array[] = [];
  writeReports(
    items,
    array,
    (s) => (text += s),
    indent,
    (b) => chunks.push(b),
  );
  return indent ? text : Buffer.concat(chunks).toString('utf8');
}

/** vCPU 1 never set up (its CR3 write does not exit) and a misspelt event (`rms`): no_exit steps and an error per cycle. */
const LONG_CYCLE = [
  'vcpu 0: smi',
  'vcpu 0: run',
  'vcpu 0: rsm',
  'vcpu 1: cr3 = 0x2000',
  'vcpu 0: cr0 &= ~WP',
  'rms',
  'vcpu 0: run',
];
const longText = (events: number): string => longScenario(LONG_CYCLE, events, 1);

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
    const report = toJson(analyze(longText(5000)), { file: 'long.kvmmu' });
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
    const report = toJson(analyze(longText(5000)), { file: 'long.kvmmu' });
    assert.ok(report.steps.length > 2 * 512 && report.diagnostics.length > 512);
    const compact = streamed(report);
    assert.equal(compact.text, JSON.stringify(report) + '\n');
    assert.ok(compact.chunks > 10, `expected many chunks, got ${compact.chunks}`);
    assert.equal(streamed(report, 2).text, JSON.stringify(report, null, 2) + '\n');
    const many = [report, report];
    assert.equal(streamed(many).text, JSON.stringify(many) + '\n');
    assert.equal(streamed(many, 2).text, JSON.stringify(many, null, 2) + '\n');
  });

  it('writes reports straight from analyses exactly as JSON.stringify of toJson (examples, long, several, --at)', () => {
    for (const f of files) {
      const analysis = analyze(readFileSync(join(examples, f), 'utf8'));
      const expected = JSON.stringify(toJson(analysis, { file: f })) + '\n';
      assert.equal(reportsWritten([{ analysis, options: { file: f } }], false), expected, f);
      assert.equal(
        reportsWritten([{ analysis, options: { file: f } }], false, 2),
        JSON.stringify(toJson(analysis, { file: f }), null, 2) + '\n',
        `${f} (indented)`,
      );
    }
    const long = analyze(longText(6000));
    assert.equal(reportsWritten([{ analysis: long }], false), JSON.stringify(toJson(long)) + '\n');
    assert.equal(
      reportsWritten([{ analysis: long, options: { at: 3000 } }], false),
      JSON.stringify(toJson(long, { at: 3000 })) + '\n',
    );
    const two = [
      { analysis: long, options: { file: 'a' } },
      { analysis: long, options: { file: 'b' } },
    ];
    assert.equal(reportsWritten(two, true), JSON.stringify(two.map((t) => toJson(t.analysis, t.options))) + '\n');
    assert.equal(reportsWritten([], true), '[]\n');
  });

  it('reuses one buffer when the sink has written each chunk on return (stdout to a file), same bytes', () => {
    const long = analyze(longText(20_000));
    const items = [{ analysis: long, options: { file: 'a' } }];
    const expected = JSON.stringify(toJson(long, { file: 'a' })) + '\n';
    // A sink that writes synchronously (copies) sees the same text, though every chunk arrives in one buffer.
    const copies: Buffer[] = [];
    const seen = new Set<ArrayBufferLike>();
    writeReports(
      items,
      false,
      () => assert.fail('text sink used'),
      undefined,
      (b) => {
        copies.push(Buffer.from(b));
        seen.add(b.buffer);
      },
      true,
    );
    assert.ok(copies.length > 10, 'many chunks');
    assert.equal(seen.size, 1, 'one buffer for every chunk');
    assert.equal(Buffer.concat(copies).toString('utf8'), expected);
    // Without the flag every chunk is the sink's to keep: keeping them (no copy) gives the same text too.
    const kept: Uint8Array[] = [];
    writeReports(
      items,
      false,
      () => assert.fail('text sink used'),
      undefined,
      (b) => kept.push(b),
    );
    assert.equal(new Set(kept.map((b) => b.buffer)).size, kept.length);
    assert.equal(Buffer.concat(kept).toString('utf8'), expected);
  });

  it('keeps the bytes of frozen values only when nothing inside can change', () => {
    const inner = [1, 2];
    const shallow = Object.freeze({ op: 'x', list: inner }); // frozen, but its array is not
    const deep = Object.freeze({ op: 'y', list: Object.freeze([3, 4]), s: 'é "q"' });
    const chunks: Uint8Array[] = [];
    // A small buffer: encodings cross chunk boundaries, so some are written without being kept.
    const before = [shallow, deep, shallow, deep];
    const json1 = JSON.stringify(before) + '\n';
    writeJson(
      before,
      () => assert.fail('text sink used'),
      undefined,
      (b) => chunks.push(b),
    );
    assert.equal(Buffer.concat(chunks).toString('utf8'), json1);
    // One writer over time: a shallow-frozen value that changed must be encoded afresh, a deep one may be copied.
    const w: Uint8Array[] = [];
    const writer = new JsonByteWriter((b) => w.push(b));
    writer.value(shallow);
    writer.value(deep);
    const first = JSON.stringify(shallow) + JSON.stringify(deep);
    inner.push(5);
    writer.value(shallow);
    writer.value(deep);
    writer.flush();
    assert.equal(Buffer.concat(w).toString('utf8'), first + JSON.stringify(shallow) + JSON.stringify(deep));
    // Inherited enumerable properties are not the object's: JSON.stringify leaves them out.
    const proto = { inherited: 1 };
    const child = Object.create(proto) as Record<string, unknown>;
    child.own = 2;
    assert.equal(streamedBytes([child, Object.freeze(child)]).text, JSON.stringify([child, child]) + '\n');
    // Short strings: plain ASCII written directly; anything else through JSON.stringify.
    const shorts = ['a', 'x"y', 'x\\y', 'tab\t', '\u001f', '\u007f', 'é', '→', 'rc 2→3', ' ', '~'];
    assert.equal(streamedBytes(shorts).text, JSON.stringify(shorts) + '\n');
  });

  it('copies kept bytes faithfully over megabytes of distinct frozen values, large and small, written twice', () => {
    // Kept encodings share slabs of a megabyte; this crosses many slab (and chunk) boundaries, and includes values
    // too big for a slab (kept on their own).
    const values = Array.from({ length: 6000 }, (_, i) =>
      Object.freeze({ i, s: `value ${i} ${'x'.repeat(i % 400)}`, big: i % 1000 === 0 ? 'y'.repeat(300_000) : '' }),
    );
    const twice = [...values, ...values];
    const chunks: Uint8Array[] = [];
    const w = new JsonByteWriter((b) => chunks.push(b));
    w.value(twice);
    w.flush();
    assert.equal(Buffer.concat(chunks).toString('utf8'), JSON.stringify(twice));
  });

  it('writes a step head from part of a line exactly as JSON.stringify of the slice', () => {
    const cases: [string, number, number][] = [
      ['vcpu 0: run', 8, 11],
      ['cr3 = 0x1000 # é', 0, 12],
      ['x "quoted" \\ é → y', 2, 20],
      ['tab\there', 0, 8],
      ['short', 2, 99], // past the end: clamped, as slice does
      ['short', 4, 2], // start after end: empty
      ['y'.repeat(200), 0, 200], // longer than the direct path
    ];
    for (const [line, start, end] of cases) {
      const chunks: Uint8Array[] = [];
      const w = new JsonByteWriter((b) => chunks.push(b));
      w.stepHead(false, 12, 3, line, start, end);
      // With a key, the second time copies what the first encoded, while the vCPU stays the same.
      const key = {};
      const heads: [number, number][] = [
        [13, 3],
        [14, 3],
        [15, 4],
        [16, 3],
      ];
      for (const [n, vcpu] of heads) w.stepHead(false, n, vcpu, line, start, end, key);
      w.flush();
      const text = JSON.stringify(line.slice(start, end));
      const expected = [[12, 3] as [number, number], ...heads]
        .map(([n, vcpu]) => `,{"line":${n},"vcpu":${vcpu},"text":${text}`)
        .join('');
      assert.equal(Buffer.concat(chunks).toString('utf8'), expected, JSON.stringify([line, start, end]));
    }
  });

  it('encodes random strings in place exactly as JSON.stringify, whole and sliced, in any buffer size', () => {
    // Every class the encoder tells apart: printable ASCII, quote and backslash, control characters with and
    // without a short escape, DEL, two- and three-byte characters, surrogate pairs, lone high and low surrogates.
    const units = [0x41, 0x7e, 0x22, 0x5c, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x00, 0x1f, 0x7f, 0x80, 0xe9, 0x7ff, 0x800];
    units.push(0x2192, 0xfffd, 0xffff, 0xd83d, 0xde00, 0xdbff, 0xdc00);
    let seed = 12345;
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    // Half the rounds draw only what needs no escaping (long such strings take the platform's encoder).
    const plain = [0x41, 0x7e, 0x20, 0x7f, 0x80, 0xe9, 0x7ff, 0x800, 0x2192, 0xfffd, 0xffff];
    for (let round = 0; round < 400; round++) {
      const length = round % 100 < 75 ? next(120) : next(6000);
      const from = round % 2 === 0 ? units : plain;
      let s = '';
      for (let i = 0; i < length; i++) s += String.fromCharCode(from[next(from.length)] as number);
      for (const chunk of [16, 64, 1 << 18]) {
        const chunks: Uint8Array[] = [];
        const w = new JsonByteWriter((b) => chunks.push(b.slice()), chunk, true);
        w.value([s, { k: s }]);
        const start = next(s.length + 1);
        const end = start + next(s.length - start + 1);
        w.stepHead(true, 1, 0, s, start, end);
        w.flush();
        const expected =
          JSON.stringify([s, { k: s }]) + `{"line":1,"vcpu":0,"text":${JSON.stringify(s.slice(start, end))}`;
        assert.deepEqual(Buffer.concat(chunks), Buffer.from(expected, 'utf8'), `round ${round}, chunk ${chunk}`);
      }
    }
  });

  it('encodes UTF-8 the same natively and in plain code, short and long, every plane', () => {
    const samples = [
      '',
      'a',
      'plain ascii sentence that is longer than thirty-two characters',
      'é',
      '→ rc 2→3',
      '😀',
      'x😀y',
    ];
    samples.push(
      samples.join(' ').repeat(20),
      JSON.stringify('lone \ud800 surrogate'),
      '\u0000\u007f\u0080\u07ff\u0800\uffff',
    );
    for (const s of samples) {
      const expected = Buffer.from(s, 'utf8');
      assert.deepEqual(Buffer.from(utf8(s)), expected, JSON.stringify(s.slice(0, 20)));
      assert.deepEqual(Buffer.from(utf8Js(s)), expected, JSON.stringify(s.slice(0, 20)));
    }
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

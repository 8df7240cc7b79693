import assert from 'node:assert/strict';
import type { ParseResult } from '../../src/syntax/ast.js';
import { checkScenario } from '../../src/syntax/check.js';
import { KEYWORDS, MAX_LINE_LENGTH, parse, parseLine } from '../../src/syntax/parser.js';
import { fuzzCorpus } from '../fuzz_corpus.js';
import { rng } from '../../src/util/rng.js';

/** Every diagnostic and every span lies inside its line; line counts match. */
function assertWellFormed(text: string, r: ParseResult): void {
  const lines = text.split(/\r\n|\r|\n/);
  assert.equal(r.lines.length, lines.length);
  for (const [i, pl] of r.lines.entries()) {
    const len = lines[i]!.length;
    const spans = [
      ...pl.diagnostics.map((d) => d.span),
      ...(pl.comment ? [pl.comment] : []),
      ...(pl.content ? [pl.content] : []),
    ];
    if (pl.statement) spans.push(pl.statement.span);
    for (const s of spans) {
      assert.equal(s.line, i, `span on the wrong line: ${JSON.stringify(s)}`);
      assert.ok(
        0 <= s.start && s.start <= s.end && s.end <= len,
        `span ${JSON.stringify(s)} outside line ${i} (${len})`,
      );
    }
    for (const d of pl.diagnostics) assert.ok(d.message.length > 0 && d.message.length < 400, d.message);
    if (pl.statement) assert.equal(pl.diagnostics.filter((d) => d.severity === 'error').length, 0);
  }
}

const VOCAB = [
  ...KEYWORDS,
  ...['=', '|=', '&=', '|', '~', ':', '..', '+', '-', '(', ')', '==', '!=', '<', '>=', '#', '[', ']'],
  ...[
    'PE',
    'PG',
    'WP',
    'pae',
    'LA57',
    'LME',
    'NX',
    'pcid=',
    'pcid=1',
    'noflush',
    'ept=on',
    'eptp=',
    'npt=on',
    'ncr3=0x1000',
  ],
  ...[
    'vcpu 1:',
    '0',
    '0x501e',
    '0x',
    '1_000',
    '18446744073709551616',
    'single',
    'all-global',
    'root.role.smm',
    'prev[0].id',
  ],
  ...['v6.3', '+tdp_mmu_root_ref', 'vendor=amd', 'vcpus=2', 'nested=on', 'cpu_role', 'unmap', '0x1000..0x2000', 'true'],
  ...['\t', ' ', '  ', 'é', '😀', '\u0000', '\uD800', '$'],
];

describe('syntax/robustness', () => {
  it('a byte-order mark opening a document changes nothing but line 1’s columns (fuzz corpus)', () => {
    for (const { name, text } of fuzzCorpus(17, 300)) {
      const plain = text.startsWith('\ufeff') ? text.slice(1) : text;
      const withBom = '\ufeff' + plain;
      const a = parse(plain);
      const b = parse(withBom);
      assertWellFormed(withBom, b);
      assert.equal(b.lines.length, a.lines.length, name);
      for (const [i, pl] of a.lines.entries()) {
        const moved = (span: { line: number; start: number; end: number }) =>
          i === 0 ? { ...span, start: span.start + 1, end: span.end + 1 } : span;
        const other = b.lines[i]!;
        assert.deepEqual(
          other.diagnostics.map((d) => [d.code, d.message, d.span]),
          pl.diagnostics.map((d) => [d.code, d.message, moved(d.span)]),
          `${name}, line ${i + 1}`,
        );
        assert.equal(other.statement?.kind, pl.statement?.kind, `${name}, line ${i + 1}`);
        const opOf = (x: typeof pl.statement) => (x && 'op' in x ? x.op : null);
        assert.deepEqual(opOf(other.statement), opOf(pl.statement), `${name}, line ${i + 1}`);
      }
      const ca = checkScenario(a, {});
      const cb = checkScenario(b, {});
      assert.equal(cb.kernel.label, ca.kernel.label, name);
    }
    // Only at the very start: U+FEFF anywhere else is an invisible character, and an error.
    assert.equal(parse('run\n\ufeffrun').diagnostics.length, 1);
    assert.equal(parse('\ufeff\ufeffrun').diagnostics.length, 1);
  });

  it('random bytes never throw and keep spans inside lines', () => {
    const next = rng(1);
    for (let round = 0; round < 300; round++) {
      let s = '';
      const n = Math.floor(next() * 200);
      for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(next() * (next() < 0.8 ? 128 : 0x10000)));
      const r = parse(s);
      assertWellFormed(s, r);
      checkScenario(r, {});
    }
  });

  it('random token soup from the vocabulary never throws', () => {
    const next = rng(2);
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const n = 1 + Math.floor(next() * 8);
      const words: string[] = [];
      for (let j = 0; j < n; j++) words.push(VOCAB[Math.floor(next() * VOCAB.length)]!);
      lines.push(words.join(next() < 0.7 ? ' ' : ''));
    }
    const text = lines.join('\n');
    const r = parse(text);
    assertWellFormed(text, r);
    const c = checkScenario(r, {});
    assert.equal(c.vcpuOf.length, r.lines.length);
    for (const d of c.diagnostics) assert.ok(d.span.end <= lines[d.span.line]!.length);
    // The soup is mostly wrong, so plenty of diagnostics, and some lines happen to be right.
    assert.ok(r.diagnostics.length > 1000);
    assert.ok(r.statements.length > 10);
  });

  it('a 1 MB single line gets one diagnostic', function () {
    // Mocha's timeout is the hang guard (quadratic work on 1 MB would take minutes); npm run bench measures.
    this.timeout(20_000);
    const line = 'cr0 = ' + 'PE|'.repeat(350_000);
    const r = parse(line);
    assert.equal(r.lines.length, 1);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.span.start, d.span.end]),
      [['line-too-long', 0, line.length]],
    );
    // A long comment is fine: only the statement part is limited.
    const commented = 'run # ' + 'x'.repeat(1_000_000);
    assert.deepEqual(parse(commented).diagnostics, []);
    // Just under the limit is tokenised, and linearly (a single huge flag list).
    const justUnder = 'cr0 = ' + 'PE|'.repeat((MAX_LINE_LENGTH - 8) / 3) + 'PG';
    assert.ok(justUnder.length <= MAX_LINE_LENGTH);
    const l = parseLine(justUnder, 0);
    assert.deepEqual(l.diagnostics, []);
    assert.equal(
      l.statement?.kind === 'event' && l.statement.op.op === 'write_cr' && l.statement.op.value,
      0x80000001n,
    );
  });

  it('a line of one 10,000-character word or number parses in linear time', () => {
    for (const s of [
      'a'.repeat(MAX_LINE_LENGTH),
      '9'.repeat(MAX_LINE_LENGTH),
      `invlpg 0x${'f'.repeat(9_000)}`,
      'cr0 = ' + 'Q'.repeat(9_000),
    ]) {
      const l = parseLine(s, 0);
      assert.equal(l.statement, undefined);
      assert.equal(l.diagnostics.length, 1);
    }
  });

  it('100,000 statements parse (mocha’s timeout is the hang guard; npm run bench measures)', function () {
    this.timeout(20_000);
    const text = Array.from({ length: 100_000 }, (_, i) => (i % 2 ? 'smi' : 'cr3 = 0x1000 pcid=1 noflush')).join('\n');
    const r = parse(text);
    assert.equal(r.statements.length, 100_000);
  });
  it('parses and checks a 1,000,000-line document (mocha’s timeout is the hang guard)', function () {
    this.timeout(90_000);
    const body = [
      'vm vcpus=2',
      'cr0 = PE|PG|WP # paging on',
      'vcpu 1',
      'smi',
      '',
      'rsm',
      'vcpu 0: run',
      'expect roots.live == 1',
      'rms',
    ];
    const lines: string[] = [];
    while (lines.length < 1_000_000) lines.push(...body.slice(lines.length === 0 ? 0 : 1));
    lines.length = 1_000_000;
    const text = lines.join('\n');
    const r = parse(text);
    const c = checkScenario(r, {});
    assert.equal(r.lines.length, 1_000_000);
    assert.equal(c.vcpuOf.length, 1_000_000);
    // One unknown-event per `rms` line, nothing else.
    assert.equal(r.diagnostics.length, lines.filter((l) => l === 'rms').length);
  });
});

import assert from 'node:assert/strict';
import { LineIndex, forEachLine, splitLines } from '../../src/text/positions.js';

const cases = [
  '',
  'a',
  'a\n',
  'a\nb',
  'a\r\nb',
  'a\rb',
  'a\r\n\r\nb\n',
  'a\n\rb',
  '\r',
  '\n\n',
  'x\r\ny\nz\rw',
  '\r\r\n\n\r',
];

describe('splitLines', () => {
  it('splits on \\n, \\r\\n and \\r alike, with or without a \\r anywhere in the text', () => {
    for (const text of cases) assert.deepEqual(splitLines(text), text.split(/\r\n|\r|\n/), JSON.stringify(text));
  });

  it('forEachLine visits exactly the lines splitLines gives, numbered, where the line index says, with a stray \\r anywhere', () => {
    const long = 'a\n'.repeat(1000) + 'b\rc' + '\nd'.repeat(1000);
    for (const text of [...cases, long, '\r' + 'x\n'.repeat(50), 'x\n'.repeat(50) + '\r']) {
      const seen: string[] = [];
      const index = LineIndex.of(text);
      forEachLine(text, (line, i, start) => {
        assert.equal(i, seen.length);
        assert.equal(start, index.start(i), `start of line ${i}`);
        seen.push(line);
      });
      assert.deepEqual(seen, splitLines(text), JSON.stringify(text.slice(0, 40)));
    }
  });
});

describe('LineIndex', () => {
  it('has the lines splitLines gives, each from its start to where its break begins', () => {
    for (const text of cases) {
      const index = LineIndex.of(text);
      const lines = splitLines(text);
      assert.equal(index.count, lines.length, JSON.stringify(text));
      assert.deepEqual(index.lines(), lines, JSON.stringify(text));
      lines.forEach((l, i) => {
        assert.equal(index.line(i), l);
        assert.equal(text.slice(index.start(i), index.end(i)), l);
        assert.equal(index.lineAt(index.start(i) as number), i);
      });
    }
  });

  it('answers undefined for lines that do not exist', () => {
    const index = LineIndex.of('a\rb');
    for (const line of [-1, 2, 0.5, Number.NaN]) {
      assert.equal(index.line(line), undefined, String(line));
      assert.equal(index.start(line), undefined, String(line));
      assert.equal(index.end(line), undefined, String(line));
    }
  });

  it('after an edit, equals the index of the new text built from scratch', () => {
    const before = 'a\nb\r\nc\rd\ne';
    const index = LineIndex.of(before);
    for (const [text, first, offset] of [
      ['a\nb\r\nc\rX\rY\ne', 3, 7],
      ['a\nb\r\nc', 2, 5],
      ['a\nb\r\nc\rd\ne\r\r', 4, 9],
      ['Z', 0, 0],
    ] as const) {
      const edited = LineIndex.edit(index, text, first, offset);
      assert.deepEqual(edited.lines(), LineIndex.of(text).lines(), JSON.stringify(text));
      assert.equal(edited.count, LineIndex.of(text).count);
      for (let i = 0; i < edited.count; i++) assert.equal(edited.start(i), LineIndex.of(text).start(i));
    }
  });
});

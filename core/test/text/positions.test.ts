import assert from 'node:assert/strict';
import { forEachLine, lineStarts, splitLines } from '../../src/text/positions.js';

describe('splitLines', () => {
  const cases = ['', 'a', 'a\n', 'a\nb', 'a\r\nb', 'a\rb', 'a\r\n\r\nb\n', 'a\n\rb', '\r', '\n\n', 'x\r\ny\nz\rw'];

  it('splits on \\n, \\r\\n and \\r alike, with or without a \\r anywhere in the text', () => {
    for (const text of cases) assert.deepEqual(splitLines(text), text.split(/\r\n|\r|\n/), JSON.stringify(text));
  });

  it('agrees with lineStarts: one line per start, each ending where the next break begins', () => {
    for (const text of cases) {
      const lines = splitLines(text);
      const starts = lineStarts(text);
      assert.equal(lines.length, starts.length, JSON.stringify(text));
      lines.forEach((l, i) => assert.equal(text.slice(starts[i], (starts[i] as number) + l.length), l));
    }
  });

  it('forEachLine visits exactly the lines splitLines gives, numbered, where lineStarts says, with a stray \\r anywhere', () => {
    const long = 'a\n'.repeat(1000) + 'b\rc' + '\nd'.repeat(1000);
    for (const text of [...cases, long, '\r' + 'x\n'.repeat(50), 'x\n'.repeat(50) + '\r']) {
      const seen: string[] = [];
      const starts = lineStarts(text);
      forEachLine(text, (line, i, start) => {
        assert.equal(i, seen.length);
        assert.equal(start, starts[i], `start of line ${i}`);
        seen.push(line);
      });
      assert.deepEqual(seen, splitLines(text), JSON.stringify(text.slice(0, 40)));
    }
  });
});

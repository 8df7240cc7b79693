import assert from 'node:assert/strict';
import { lineStarts, splitLines } from '../../src/text/positions.js';

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
});

/**
 * Fuzz: generated scenarios whose lines end in \n, \r\n or a lone \r at random. Every feature must see the lines
 * the parser sees (one LineIndex per analysis): ranges inside their line, timeline and symbol texts taken from the
 * statement's own line, formatting that keeps every line break and edits only within lines.
 */
import assert from 'node:assert/strict';
import { analyze } from '../../src/engine/analyze.js';
import { formatDocument, formatText } from '../../src/features/format.js';
import { hover } from '../../src/features/hover.js';
import { inlayHints } from '../../src/features/hints.js';
import type { DocumentSymbol } from '../../src/features/outline.js';
import { documentSymbols, foldingRanges } from '../../src/features/outline.js';
import { timeline } from '../../src/features/timeline.js';
import { parse } from '../../src/syntax/parser.js';
import { LineIndex, splitLines } from '../../src/text/positions.js';
import { rng } from '../../src/util/rng.js';

const LINES = [
  'kernel v6.3',
  'kernel   v6.4 +tdp_mmu_root_ref',
  'vm vcpus=2 nested=on',
  'vm  vendor=amd',
  'cr0=pe|pg',
  'cr4 = PAE|la57  # comment',
  'cr3 = 0x1000 pcid=1',
  'efer |= lme',
  'run',
  'smi  ',
  'rsm',
  'vcpu 1',
  'vcpu 0:  smi',
  'vmenter ept=on eptp=0x501e',
  'vmexit',
  'expect roots.live==1',
  'expect root.role.smm == 1',
  'decode role 0x1000784',
  '# a comment #1',
  '',
  '   ',
  'rms',
  'cr0 = bogus',
  'smi # #2 here',
];
const BREAKS = ['\n', '\r\n', '\r'];

function scenario(next: () => number): string {
  const n = 1 + Math.floor(next() * 40);
  let text = '';
  for (let i = 0; i < n; i++) {
    text += LINES[Math.floor(next() * LINES.length)];
    if (i < n - 1 || next() < 0.3) text += BREAKS[Math.floor(next() * BREAKS.length)];
  }
  return text;
}

function flat(symbols: readonly DocumentSymbol[]): DocumentSymbol[] {
  return symbols.flatMap((s) => [s, ...flat(s.children)]);
}

describe('features over lone \\r, \\r\\n and \\n line breaks (fuzz)', () => {
  it('every range stays within the line the parser saw, every text comes from its own line', () => {
    const next = rng(15);
    for (let round = 0; round < 300; round++) {
      const text = scenario(next);
      const what = JSON.stringify(text);
      const a = analyze(text);
      const lines = splitLines(text);
      assert.deepEqual(a.lines.lines(), lines, what);
      assert.equal(a.parse.lines.length, a.lines.count, what);

      for (const step of timeline(a, 'file:///x', 1).steps) {
        const statement = a.parse.lines[step.line]?.statement;
        assert.ok(statement, what);
        assert.equal(step.text, lines[step.line]?.slice(statement.span.start, statement.span.end), what);
      }
      for (let line = 0; line < lines.length; line++) {
        const len = (lines[line] as string).length;
        for (const character of [0, 1, Math.floor(len / 2), len]) {
          const h = hover(a, line, character);
          if (h) assert.ok(h.line === line && h.start <= h.end && h.end <= len, `${what} hover ${line}:${character}`);
        }
      }
      for (const h of inlayHints(a)) assert.ok(h.character <= (lines[h.line]?.length ?? -1), what);
      for (const s of flat(documentSymbols(a.parse, a.lines))) {
        assert.ok(s.selection.end <= (lines[s.selection.line]?.length ?? -1), what);
        assert.ok(s.range.endCharacter <= (lines[s.range.endLine]?.length ?? -1), what);
      }
      for (const f of foldingRanges(a.parse, a.lines)) assert.ok(f.endLine < lines.length, what);

      for (const e of formatDocument(a.parse, a.lines)) assert.equal(e.span.end, lines[e.span.line]?.length, what);
      const formatted = formatText(a.parse, text);
      const breaks = (t: string): string[] => t.match(/\r\n|\r|\n/g) ?? [];
      assert.deepEqual(breaks(formatted), breaks(text), `${what}: formatting keeps every line break`);
      assert.equal(formatText(parse(formatted), formatted), formatted, `${what}: formatting twice changes nothing`);
      assert.equal(LineIndex.of(formatted).count, lines.length);
    }
  });
});

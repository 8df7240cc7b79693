/**
 * Documents whose lines end in a lone \r (old Mac files, or a mix): every feature sees the lines the parser
 * sees. Before one line index, features split on \n only: formatting copied the whole document into line 0,
 * ranges ran past the end of the line, symbols and the timeline quoted the wrong text.
 */
import { strict as assert } from 'node:assert';
import type { CompletionItem, DocumentSymbol, FoldingRange, Hover, TextEdit } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { analyze } from '../../core/src/engine/analyze.js';
import type { TimelineResult } from '../../core/src/protocol.js';
import type { TestClient } from './harness.js';
import { at, startClient } from './harness.js';

const LINES = ['kernel   v6.4', 'vm vcpus=1', 'cr0=PE|pg', '# a comment', '# and another', 'run', 'smi  ', 'rsm'];

/** The document with each line break chosen in turn: lone \r, \r\n, \n. */
const MIXED = LINES.map((l, i) => l + (i === LINES.length - 1 ? '' : ['\r', '\r\n', '\n'][i % 3])).join('');
const LONE_CR = LINES.join('\r');

function lineOf(text: string, line: number): string {
  const doc = TextDocument.create('file:///x', 'kvmmu', 1, text);
  return doc
    .getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } })
    .replace(/\r?\n?$|\r$/, '');
}

describe('documents with lone \\r line breaks', function () {
  let client: TestClient;
  before(async () => {
    client = await startClient(analyze);
  });
  after(async () => client.stop());

  for (const [name, text] of [
    ['lone \\r', LONE_CR],
    ['mixed breaks', MIXED],
  ] as const) {
    describe(name, () => {
      const uri = `file:///breaks/${name.replace(/\W/g, '')}.kvmmu`;
      before(async () => {
        const d = await client.open(uri, text);
        assert.deepEqual(d, [], 'the scenario is valid line by line');
      });

      it('formatting edits exactly the lines that need it, each within its line', async () => {
        const edits = await client.request<TextEdit[]>('textDocument/formatting', {
          textDocument: { uri },
          options: { tabSize: 2, insertSpaces: true },
        });
        const byLine = new Map(edits.map((e) => [e.range.start.line, e]));
        assert.deepEqual([...byLine.keys()].sort(), [0, 2, 6]);
        for (const e of edits) {
          assert.equal(e.range.end.line, e.range.start.line);
          assert.equal(e.range.end.character, lineOf(text, e.range.start.line).length);
        }
        assert.equal(byLine.get(0)?.newText, 'kernel v6.4');
        assert.equal(byLine.get(2)?.newText, 'cr0 = PE|PG');
        assert.equal(byLine.get(6)?.newText, 'smi');
        const formatted = TextDocument.applyEdits(TextDocument.create(uri, 'kvmmu', 1, text), edits);
        assert.equal(formatted.split(/\r\n|\r|\n/).length, LINES.length, 'no line break was added or removed');
      });

      it('hover ranges stay within the hovered line', async () => {
        for (const [line, character] of [
          [2, 5],
          [5, 1],
          [7, 1],
        ] as const) {
          const h = await client.request<Hover | null>('textDocument/hover', at(uri, line, character));
          assert.ok(h?.range, `hover at ${line}:${character}`);
          assert.equal(h.range.start.line, line);
          assert.equal(h.range.end.line, line);
          assert.ok(h.range.end.character <= lineOf(text, line).length, JSON.stringify(h.range));
        }
      });

      it('completion replaces text within the line', async () => {
        const items = await client.request<CompletionItem[]>('textDocument/completion', at(uri, 7, 2));
        assert.ok(items.length > 0);
        for (const item of items) {
          const edit = item.textEdit as TextEdit;
          assert.equal(edit.range.start.line, 7);
          assert.ok(edit.range.end.character <= 3, JSON.stringify(edit.range));
        }
        assert.ok(items.some((i) => i.label === 'rsm'));
      });

      it('symbols and folding name the right lines', async () => {
        const symbols = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', {
          textDocument: { uri },
        });
        const flat = (s: DocumentSymbol[]): DocumentSymbol[] => s.flatMap((x) => [x, ...flat(x.children ?? [])]);
        const names = flat(symbols).map((s) => `${s.range.start.line}:${s.name}`);
        for (const expected of ['2:cr0=PE|pg', '5:run', '6:smi', '7:rsm'])
          assert.ok(names.includes(expected), names.join());
        const folds = await client.request<FoldingRange[]>('textDocument/foldingRange', { textDocument: { uri } });
        assert.ok(
          folds.some((f) => f.startLine === 3 && f.endLine === 4),
          JSON.stringify(folds),
        );
      });

      it('the timeline quotes each step from its own line', async () => {
        const t = await client.request<TimelineResult>('kvmmu/timeline', { uri });
        assert.deepEqual(
          t.steps.map((s) => [s.line, s.text]),
          [
            [2, 'cr0=PE|pg'],
            [5, 'run'],
            [6, 'smi'],
            [7, 'rsm'],
          ],
        );
      });
    });
  }
});

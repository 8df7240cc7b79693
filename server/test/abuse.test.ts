import { strict as assert } from 'node:assert';
import type { Hover, InlayHint } from 'vscode-languageserver/node';
import { analyze } from '../../core/src/engine/analyze.js';
import { MAX_DOCUMENT_CHARS } from '../src/documents.js';
import type { TestClient } from './harness.js';
import { at, messageOf, startClient } from './harness.js';

/** Every request the server answers, with params for `uri` at a position. */
function everyRequest(uri: string, line: number, character: number): [string, unknown][] {
  const pos = at(uri, line, character);
  const range = { start: { line, character }, end: { line: line + 1, character } };
  return [
    ['textDocument/hover', pos],
    ['textDocument/completion', pos],
    ['textDocument/definition', pos],
    ['textDocument/references', { ...pos, context: { includeDeclaration: true } }],
    ['textDocument/documentHighlight', pos],
    ['textDocument/inlayHint', { textDocument: { uri }, range }],
    ['textDocument/codeAction', { textDocument: { uri }, range, context: { diagnostics: [] } }],
    ['textDocument/documentSymbol', { textDocument: { uri } }],
    ['textDocument/foldingRange', { textDocument: { uri } }],
    ['textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } }],
  ];
}

describe('language server under abuse', function () {
  let client: TestClient;
  before(async () => {
    client = await startClient(analyze);
  });
  after(async () => client.stop());

  /** The server still answers a real request correctly. */
  async function stillServing(): Promise<void> {
    const uri = `file:///alive/${Math.floor(performance.now() * 1000)}.kvmmu`;
    const d = await client.open(uri, 'rms');
    assert.match(messageOf(d[0]), /did you mean `rsm`/);
  }

  it('answers requests for unknown documents with empty results', async () => {
    for (const [method, params] of everyRequest('file:///nowhere.kvmmu', 0, 0)) {
      const r = await client.request<unknown>(method, params);
      assert.ok(r === null || (Array.isArray(r) && r.length === 0), `${method} → ${JSON.stringify(r)}`);
    }
    await assert.rejects(
      client.request('kvmmu/timeline', { uri: 'file:///nowhere.kvmmu' }),
      /unknown or unanalysable document/,
    );
    await assert.rejects(client.request('kvmmu/stateAt', { uri: 'file:///nowhere.kvmmu', line: 0 }));
    await stillServing();
  });

  it('answers out-of-range and malformed positions without failing', async () => {
    const uri = 'file:///abuse/range.kvmmu';
    await client.open(uri, 'run\nsmi\n');
    for (const [line, character] of [
      [99, 0],
      [0, 999],
      [-1, -1],
      [1.5, 0],
      [Number.MAX_SAFE_INTEGER, 0],
    ] as const) {
      for (const [method, params] of everyRequest(uri, line, character)) {
        await client
          .request<unknown>(method, params)
          .catch((e: Error) => assert.fail(`${method} at ${line}:${character} failed: ${e.message}`));
      }
    }
    await assert.rejects(client.request('kvmmu/stateAt', { uri, line: 'x' }));
    await assert.rejects(
      client.request('kvmmu/compare', { uri, kernelA: 'v9.9', kernelB: 'v6.4' }),
      /unknown kernel profile/,
    );
    await stillServing();
  });

  it('diagnoses garbage and binary input and keeps serving', async () => {
    const garbage =
      Array.from({ length: 200 }, (_, i) => String.fromCharCode(0, 1, 0xfffd, 0xd800, 10, 13, 35 + (i % 90))).join('') +
      '\u0000\u0007 cr0 = ||| 0xZZ\nvcpu 99999999999999999999\nexpect a.b.c <<= 1';
    const d = await client.open('file:///abuse/binary.kvmmu', garbage);
    assert.ok(d.length > 0);
    for (const [method, params] of everyRequest('file:///abuse/binary.kvmmu', 3, 2))
      await client.request(method, params);
    await stillServing();
  });

  it('gives a document over the size cap one diagnostic and no analysis', async () => {
    const uri = 'file:///abuse/huge.kvmmu';
    const huge = 'run\n'.repeat(Math.ceil(MAX_DOCUMENT_CHARS / 4) + 1);
    const d = await client.open(uri, huge);
    assert.equal(d.length, 1);
    assert.match(messageOf(d[0]), /too large/);
    const hints = await client.request<InlayHint[]>('textDocument/inlayHint', {
      textDocument: { uri },
      range: { start: { line: 0, character: 0 }, end: { line: 5, character: 0 } },
    });
    assert.deepEqual(hints, []);
    await client.rpc.sendNotification('textDocument/didClose', { textDocument: { uri } });
    await stillServing();
  });

  it('publishes for the last version after rapid edits, with requests in between', async () => {
    const uri = 'file:///abuse/edits.kvmmu';
    await client.open(uri, 'run');
    const pending: Promise<unknown>[] = [];
    for (let v = 2; v <= 40; v++) {
      client.change(uri, v, v % 2 ? `run\n${'smi\nrsm\n'.repeat(v)}` : `rms ${v}`);
      pending.push(
        client.request<Hover>('textDocument/hover', at(uri, 0, 1)),
        client.request('textDocument/inlayHint', {
          textDocument: { uri },
          range: { start: { line: 0, character: 0 }, end: { line: 2, character: 0 } },
        }),
      );
    }
    client.change(uri, 41, 'rms');
    const last = await client.diagnostics(uri, 41);
    await Promise.all(pending);
    assert.equal(last.version, 41);
    assert.equal(last.diagnostics.length, 1);
    assert.match(messageOf(last.diagnostics[0]), /rsm/);
  });
});

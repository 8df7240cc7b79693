/** kvmmu/explain, kvmmu/matrix, kvmmu/expectations and the "differs on … · why?" CodeLens over a real connection. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import type { CodeLens, Hover } from 'vscode-languageserver/node';
import { analyze } from '../../core/src/engine/analyze.js';
import { explainDiff } from '../../core/src/engine/explain.js';
import { matrix } from '../../core/src/engine/matrix.js';
import type { ExpectationsResult, ExplainResult, MatrixResult } from '../../core/src/protocol.js';
import type { TestClient } from './harness.js';
import { startClient } from './harness.js';

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

const examples = join(dirname(fileURLToPath(import.meta.url)), '../../examples');
const THRASH = readFileSync(join(examples, 'smm-root-thrash.kvmmu'), 'utf8');
const URI = 'file:///test/thrash.kvmmu';

describe('server: across kernels', () => {
  let client: TestClient;
  beforeEach(async () => {
    client = await startClient((text, options) => analyze(text, options));
  });
  afterEach(async () => client.stop());

  it('a CodeLens on each line whose outcome differs from the file’s kernel, naming the kernels', async () => {
    await client.open(URI, THRASH);
    const lenses = await client.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri: URI } });
    const m = matrix(THRASH);
    const differing = m.lines.filter((l) => l.differsFromOwn.length > 0).map((l) => l.line);
    assert.deepEqual(
      lenses.map((l) => l.range.start.line),
      differing,
    );
    const first = lenses[0]!;
    assert.match(first.command!.title, /^differs on .*v6\.3.* · why\?$/);
    assert.equal(first.command!.command, 'kvmmu.whyDiffers');
    // The nearest differing kernel to v6.4 is v6.3 (v6.1.y agrees with v6.4 here).
    assert.deepEqual(first.command!.arguments, [URI, first.range.start.line, 'v6.3']);
  });

  it('kvmmu/explain names edbdb43f on the lines kvmmu diff lists', async () => {
    await client.open(URI, THRASH);
    const r = await client.request<ExplainResult>('kvmmu/explain', { uri: URI, kernelB: 'v6.3' });
    assert.equal(r.version, 1);
    const direct = explainDiff(THRASH, '', 'v6.3');
    assert.deepEqual(r.diff.lines, JSON.parse(JSON.stringify(direct.lines)));
    for (const l of r.diff.lines) assert.equal(l.explanations[0]!.behaviours[0]!.commits[0]!.slice(0, 8), 'edbdb43f');
    const bad = await client.request('kvmmu/explain', { uri: URI, kernelB: 'v6.3 +nonsense' }).catch((e: unknown) => e);
    assert.match(errorText(bad), /nonsense/);
  });

  it('kvmmu/matrix per version: an edit gives the new version’s matrix', async () => {
    await client.open(URI, THRASH);
    const one = await client.request<MatrixResult>('kvmmu/matrix', { uri: URI });
    assert.equal(one.version, 1);
    assert.equal(one.matrix.kernels.find((k) => k.own)!.name, 'v6.4');
    client.change(URI, 2, THRASH.replace(/^kernel v6\.4$/m, 'kernel v6.3'));
    await client.diagnostics(URI, 2);
    const two = await client.request<MatrixResult>('kvmmu/matrix', { uri: URI });
    assert.equal(two.version, 2);
    assert.equal(two.matrix.kernels.find((k) => k.own)!.name, 'v6.3');
  });

  it('a cancelled explanation stops, and the server goes on answering', async function () {
    this.timeout(60_000);
    // A long scenario: many analyses of thousands of lines, so the cancel arrives while it runs.
    const body = THRASH.split('\n').slice(8).join('\n');
    const big = THRASH + body.repeat(100);
    await client.open(URI, big);
    const source = new CancellationTokenSource();
    const pending = client.rpc
      .sendRequest('kvmmu/explain', { uri: URI, kernelA: 'v5.15', kernelB: 'v6.18' }, source.token)
      .then(
        () => 'answered',
        (e: unknown) => errorText(e),
      );
    setTimeout(() => source.cancel(), 50);
    assert.match(await pending, /cancel/i);
    const hover = await client.request<Hover | null>('textDocument/hover', {
      textDocument: { uri: URI },
      position: { line: 9, character: 1 },
    });
    assert.ok(hover);
  });

  it('kvmmu/expectations runs a file no editor has open, per kernel', async () => {
    const r = await client.request<ExpectationsResult>('kvmmu/expectations', {
      uri: 'file:///test/closed.kvmmu',
      text: THRASH,
      kernels: ['', 'v6.3'],
    });
    assert.equal(r.runs[0]!.label, 'v6.4');
    assert.ok(r.runs[0]!.results.every((e) => e.ok));
    assert.equal(r.runs[1]!.label, 'v6.3');
    const failed = r.runs[1]!.results.filter((e) => !e.ok);
    assert.equal(failed.length, 9);
    assert.match(failed[0]!.message, /expected/);
    assert.deepEqual(r.runs[1]!.errors, []);
  });
});

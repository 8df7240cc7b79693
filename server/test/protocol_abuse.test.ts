/**
 * A hostile or broken client at the JSON-RPC level: raw bytes into the real server (with the transport main.ts
 * uses over stdio), responses read back as frames. Every case ends with the server still answering.
 */
import { strict as assert } from 'node:assert';
import { PassThrough } from 'node:stream';
import type { ResponseMessage } from 'vscode-jsonrpc/node';
import { StreamMessageReader } from 'vscode-jsonrpc/node';
import { createConnection } from 'vscode-languageserver/node';
import { analyze } from '../../core/src/engine/analyze.js';
import { startServer } from '../src/server.js';
import { createStreamTransport } from '../src/transport.js';
import type { TestClient } from './harness.js';
import { messageOf, startClient } from './harness.js';

interface Raw {
  send(bytes: Buffer | string): void;
  /** A frame with a correct Content-Length (or `length` when given). */
  frame(message: unknown, length?: number): Buffer;
  /** The response with this id (waits for it). */
  response(id: number | string | null): Promise<ResponseMessage>;
  /** Responses with `id: null`, in order. */
  nullResponses: ResponseMessage[];
  stop(): void;
}

function startRaw(): Raw {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const transport = createStreamTransport(toServer, toClient);
  const server = createConnection(transport.reader, transport.writer);
  startServer(server, { analyzer: analyze, debounceMs: 0 });
  server.listen();
  const responses = new Map<number | string, ResponseMessage>();
  const waiters: { id: number | string | null; resolve: (r: ResponseMessage) => void }[] = [];
  const nullResponses: ResponseMessage[] = [];
  const reader = new StreamMessageReader(toClient);
  reader.listen((m) => {
    const r = m as ResponseMessage;
    if (!('id' in r)) return;
    if (r.id === null) nullResponses.push(r);
    else responses.set(r.id, r);
    for (const w of [...waiters])
      if (w.id === r.id) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(r);
      }
  });
  return {
    send: (bytes) => void toServer.write(bytes),
    frame(message, length) {
      const body = Buffer.from(typeof message === 'string' ? message : JSON.stringify(message), 'utf8');
      return Buffer.concat([Buffer.from(`Content-Length: ${length ?? body.length}\r\n\r\n`, 'ascii'), body]);
    },
    response(id) {
      const done = id === null ? nullResponses[0] : responses.get(id);
      if (done) return Promise.resolve(done);
      return new Promise((resolve) => waiters.push({ id, resolve }));
    },
    nullResponses,
    stop() {
      reader.dispose();
      server.dispose();
    },
  };
}

const initialize = (id: number) => ({ jsonrpc: '2.0', id, method: 'initialize', params: { capabilities: {} } });
const hover = (id: number, uri = 'file:///x.kvmmu') => ({
  jsonrpc: '2.0',
  id,
  method: 'textDocument/hover',
  params: { textDocument: { uri }, position: { line: 0, character: 0 } },
});

describe('JSON-RPC abuse', function () {
  let raw: Raw;
  beforeEach(() => {
    raw = startRaw();
  });
  afterEach(() => raw.stop());

  async function stillServing(id: number): Promise<void> {
    raw.send(raw.frame(initialize(id)));
    const r = await raw.response(id);
    assert.ok(r.result, JSON.stringify(r));
  }

  it('answers requests before initialize with ServerNotInitialized (-32002)', async () => {
    raw.send(raw.frame(hover(1)));
    raw.send(raw.frame({ jsonrpc: '2.0', id: 2, method: 'kvmmu/timeline', params: { uri: 'file:///x.kvmmu' } }));
    assert.equal((await raw.response(1)).error?.code, -32002);
    assert.equal((await raw.response(2)).error?.code, -32002);
    await stillServing(3);
    raw.send(raw.frame(hover(4)));
    assert.equal((await raw.response(4)).error, undefined, 'after initialize the same request is answered');
  });

  it('answers a batch array with one InvalidRequest error', async () => {
    raw.send(raw.frame([initialize(1), hover(2)]));
    await stillServing(3);
    assert.equal(raw.nullResponses[0]?.error?.code, -32600);
    assert.match(raw.nullResponses[0]?.error?.message ?? '', /batch/);
  });

  it('answers a request whose method is not a string with InvalidRequest', async () => {
    raw.send(raw.frame({ jsonrpc: '2.0', id: 7, method: 42 }));
    raw.send(raw.frame({ jsonrpc: '2.0', id: 8, method: null, params: {} }));
    assert.equal((await raw.response(7)).error?.code, -32600);
    assert.equal((await raw.response(8)).error?.code, -32600);
    await stillServing(9);
  });

  it('answers a body that is not JSON with ParseError', async () => {
    raw.send(raw.frame('{"jsonrpc":"2.0","id":1,'));
    await stillServing(2);
    assert.equal(raw.nullResponses[0]?.error?.code, -32700);
  });

  it('is not wedged by a Content-Length shorter than its body', async () => {
    const body = JSON.stringify(initialize(1));
    raw.send(raw.frame(body, body.length - 7));
    await stillServing(2);
    assert.equal(raw.nullResponses[0]?.error?.code, -32700);
  });

  it('is not wedged by an absurdly large Content-Length', async () => {
    raw.send(Buffer.from('Content-Length: 99999999999\r\n\r\n{"jsonrpc":"2.0"', 'ascii'));
    await stillServing(1);
    assert.equal(raw.nullResponses[0]?.error?.code, -32600);
    assert.match(raw.nullResponses[0]?.error?.message ?? '', /refused/);
  });

  it('skips a header without a Content-Length, and one split across writes still works', async () => {
    raw.send('Content-Type: x\r\n\r\n{}');
    const frame = raw.frame(initialize(1));
    for (let i = 0; i < frame.length; i += 5) raw.send(frame.subarray(i, i + 5));
    assert.ok((await raw.response(1)).result);
    await stillServing(2);
  });

  it('answers a kvmmu/* request cancelled before it ran with RequestCancelled (-32800)', async () => {
    await stillServing(1);
    raw.send(
      raw.frame({
        jsonrpc: '2.0',
        method: 'textDocument/didOpen',
        params: { textDocument: { uri: 'file:///c.kvmmu', languageId: 'kvmmu', version: 1, text: 'run\nsmi' } },
      }),
    );
    // The request and its cancellation in one write: the cancellation is read before the request runs.
    const requests = [
      ['kvmmu/timeline', { uri: 'file:///c.kvmmu' }],
      ['kvmmu/stateAt', { uri: 'file:///c.kvmmu', line: 1 }],
      ['kvmmu/compare', { uri: 'file:///c.kvmmu', kernelA: 'v6.3', kernelB: 'v6.4' }],
      ['kvmmu/profiles', {}],
    ] as const;
    for (const [i, [method, params]] of requests.entries()) {
      const id = 10 + i;
      raw.send(
        Buffer.concat([
          raw.frame({ jsonrpc: '2.0', id, method, params }),
          raw.frame({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id } }),
        ]),
      );
      const r = await raw.response(id);
      assert.equal(r.error?.code, -32800, `${method}: ${JSON.stringify(r)}`);
    }
    raw.send(raw.frame({ jsonrpc: '2.0', id: 20, method: 'kvmmu/timeline', params: { uri: 'file:///c.kvmmu' } }));
    assert.equal(((await raw.response(20)).result as { steps: unknown[] }).steps.length, 2);
  });
});

describe('language server protocol errors', function () {
  let client: TestClient;
  before(async () => {
    client = await startClient(analyze);
  });
  after(async () => client.stop());

  it('answers a bad +behaviour in kvmmu/stateAt and kvmmu/compare with InvalidParams', async () => {
    const uri = 'file:///protocol/kernel.kvmmu';
    await client.open(uri, 'kernel v6.3\nrun');
    for (const [method, params] of [
      ['kvmmu/stateAt', { uri, line: 1, kernel: 'v6.4 +no_such_behaviour' }],
      ['kvmmu/stateAt', { uri, line: 1, kernel: 'v6.4 tdp_mmu_root_ref' }],
      ['kvmmu/compare', { uri, kernelA: 'v6.3', kernelB: 'v6.4 +no_such_behaviour' }],
      ['kvmmu/compare', { uri, kernelA: 'v6.3 -nope', kernelB: 'v6.4' }],
    ] as const) {
      const error = await client.request(method, params).then(
        () => assert.fail(`${method} ${JSON.stringify(params)} succeeded`),
        (e: { code?: number; message: string }) => e,
      );
      assert.equal(error.code, -32602, `${method} ${JSON.stringify(params)}: ${error.message}`);
    }
    // A good one still works.
    const ok = await client.request<{ kernel: { label: string } }>('kvmmu/stateAt', {
      uri,
      line: 1,
      kernel: 'v6.3 +tdp_mmu_root_ref',
    });
    assert.equal(ok.kernel.label, 'v6.3 +tdp_mmu_root_ref');
  });

  it('a didChange or re-didOpen that reuses a version number gets the new text analysed', async () => {
    const uri = 'file:///protocol/versions.kvmmu';
    const d1 = await client.open(uri, 'rms', 5);
    assert.match(messageOf(d1[0]), /did you mean `rsm`/);

    let next = client.nextDiagnostics(uri);
    client.change(uri, 5, 'run\nbogus');
    const d2 = (await next).diagnostics;
    assert.equal(d2.length, 1, JSON.stringify(d2));
    assert.equal(d2[0]?.range.start.line, 1, 'the diagnostic is for the new text');
    const t = await client.request<{ steps: unknown[] }>('kvmmu/timeline', { uri });
    assert.equal(t.steps.length, 1);

    next = client.nextDiagnostics(uri);
    await client.rpc.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'kvmmu', version: 5, text: 'run\nsmi\nrsm' },
    });
    assert.deepEqual((await next).diagnostics, []);
    const t2 = await client.request<{ steps: unknown[] }>('kvmmu/timeline', { uri });
    assert.equal(t2.steps.length, 3);
  });
});

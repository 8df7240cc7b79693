/**
 * The typed protocol over a real connection: every request of core/src/protocol.ts is served.
 */
import { strict as assert } from 'node:assert';
import { ErrorCodes } from 'vscode-languageserver/node';
import { analyze } from '../../core/src/engine/analyze.js';
import { REQUESTS } from '../../core/src/protocol.js';
import type { TestClient } from './harness.js';
import { startClient } from './harness.js';

describe('typed protocol', function () {
  this.timeout(20_000);
  let client: TestClient;
  beforeEach(async () => {
    client = await startClient(analyze);
  });
  afterEach(async () => client.stop());

  it('serves every request core/src/protocol.ts defines', async () => {
    for (const r of REQUESTS) {
      // Params that are wrong for every request: each must answer (an error of its own), never MethodNotFound.
      const outcome = await client.request(r.method, { uri: 7 }).then(
        () => 'answered',
        (e: { code?: number }) => e.code,
      );
      assert.notEqual(outcome, ErrorCodes.MethodNotFound, r.method);
    }
    await assert.rejects(client.request('kvmmu/noSuchThing', {}), (e: { code?: number }) => {
      return e.code === ErrorCodes.MethodNotFound;
    });
  });
});

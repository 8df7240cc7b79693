/**
 * The typed protocol over a real connection: every request of core/src/protocol.ts is served, `kvmmu/kernel` says
 * where a document's kernel comes from, and `kvmmu/timeline` sends each call path once.
 */
import { strict as assert } from 'node:assert';
import { ErrorCodes } from 'vscode-languageserver/node';
import { analyze } from '../../core/src/engine/analyze.js';
import {
  KernelRequest,
  REQUESTS,
  StateAtRequest,
  TimelineRequest,
  type KernelResult,
} from '../../core/src/protocol.js';
import type { TestClient } from './harness.js';
import { startClient } from './harness.js';

const RUN = ['vm vcpus=1', 'sregs cr0=PE|PG|WP cr4=PAE efer=LME|LMA cr3=0x1000', 'run', 'smi', 'run', 'rsm', 'run'];

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

  it('kvmmu/kernel: the kernel, its era and where it comes from', async () => {
    await client.open('file:///k/line.kvmmu', ['# header', 'kernel v6.3 +tdp_mmu_root_ref', ...RUN].join('\n'));
    const fromLine = await client.call(KernelRequest, { uri: 'file:///k/line.kvmmu' });
    assert.deepEqual(fromLine, {
      uri: 'file:///k/line.kvmmu',
      version: 1,
      profile: 'v6.3',
      label: 'v6.3 +tdp_mmu_root_ref',
      era: fromLine.era,
      source: 'file',
      line: 1,
    } satisfies KernelResult);
    assert.match(fromLine.era, /TDP roots: .*· roles: /);

    await client.open('file:///k/none.kvmmu', RUN.join('\n'));
    const byDefault = await client.call(KernelRequest, { uri: 'file:///k/none.kvmmu' });
    assert.equal(byDefault.source, 'default');
    assert.equal(byDefault.line, null);
    assert.equal(byDefault.profile, 'latest');

    await client.configure({ kernel: { default: 'v5.15' } });
    const bySetting = await client.call(KernelRequest, { uri: 'file:///k/none.kvmmu' });
    assert.deepEqual([bySetting.source, bySetting.label], ['setting', 'v5.15']);
    // The kernel line still wins over the setting.
    assert.equal((await client.call(KernelRequest, { uri: 'file:///k/line.kvmmu' })).source, 'file');

    await assert.rejects(
      client.call(KernelRequest, { uri: 'file:///k/unknown.kvmmu' }),
      (e: { code?: number }) => e.code === ErrorCodes.InvalidParams,
    );
  });

  it('kvmmu/timeline names each call path once; expanded, its steps are stateAt’s', async () => {
    const uri = 'file:///t/paths.kvmmu';
    await client.open(uri, ['kernel v6.3', ...RUN, 'smi', 'run', 'rsm', 'run'].join('\n'));
    const t = await client.call(TimelineRequest, { uri });
    assert.ok(t.steps.length >= 9);
    const keys = t.paths.map((p) => p.join('/'));
    assert.equal(new Set(keys).size, keys.length, 'each path once');
    const actions = t.steps.reduce((n, s) => n + s.actions.length, 0);
    assert.ok(t.paths.length < actions, `${t.paths.length} paths for ${actions} actions`);
    for (const step of t.steps) {
      const s = await client.call(StateAtRequest, { uri, line: step.line });
      const expanded = { ...step, actions: step.actions.map((a) => ({ ...a, path: t.paths[a.path] })) };
      assert.deepEqual(expanded, s.step, `line ${step.line}`);
    }
  });
});

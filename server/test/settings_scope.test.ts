/**
 * Settings per document: `kvmmu.kernel.default` and `kvmmu.inlayHints.enabled` are resource-scoped, so a folder's
 * (or a file's) own value applies to the documents in it. The test client answers `workspace/configuration`
 * differently per `scopeUri`.
 */
import { strict as assert } from 'node:assert';
import type { InlayHint } from 'vscode-languageserver/node';
import { analyze } from '../../core/src/engine/analyze.js';
import type { StateAtResult, TimelineResult } from '../../core/src/protocol.js';
import type { TestClient } from './harness.js';
import { startClient } from './harness.js';

const RUN = ['vm vcpus=1', 'sregs cr0=PE|PG|WP cr4=PAE efer=LME|LMA cr3=0x1000', 'run', 'smi', 'run', 'rsm', 'run'];

describe('settings per document', function () {
  this.timeout(20_000);
  let client: TestClient;
  beforeEach(async () => {
    client = await startClient(analyze);
  });
  afterEach(async () => client.stop());

  const profileOf = async (uri: string): Promise<string> =>
    (await client.request<StateAtResult>('kvmmu/stateAt', { uri, line: -1 })).kernel.profile;

  it('reads settings per document: a folder’s kernel.default applies to the files in it', async () => {
    const folders: Record<string, Record<string, unknown>> = {
      'file:///ws/old/': { kernel: { default: 'v5.15' }, inlayHints: { enabled: false } },
      'file:///ws/new/': { kernel: { default: 'v6.6' } },
    };
    client.scoped = (scopeUri) => Object.entries(folders).find(([folder]) => scopeUri.startsWith(folder))?.[1];
    const text = RUN.join('\n');
    await client.open('file:///ws/old/a.kvmmu', text);
    await client.open('file:///ws/new/b.kvmmu', text);
    await client.open('file:///ws/c.kvmmu', text);
    assert.equal(await profileOf('file:///ws/old/a.kvmmu'), 'v5.15');
    assert.equal(await profileOf('file:///ws/new/b.kvmmu'), 'v6.6');
    assert.equal(await profileOf('file:///ws/c.kvmmu'), 'latest');
    // The analysis behind every feature is the folder's kernel.
    const timeline = await client.request<TimelineResult>('kvmmu/timeline', { uri: 'file:///ws/new/b.kvmmu' });
    assert.equal(timeline.kernel.profile, 'v6.6');
    // The server asked with each document's scope.
    for (const uri of ['file:///ws/old/a.kvmmu', 'file:///ws/new/b.kvmmu', 'file:///ws/c.kvmmu'])
      assert.ok(
        client.asked.some((i) => i.scopeUri === uri && i.section === 'kvmmu'),
        uri,
      );
    // inlayHints.enabled is resource-scoped too.
    const hints = (uri: string) =>
      client.request<InlayHint[]>('textDocument/inlayHint', {
        textDocument: { uri },
        range: { start: { line: 0, character: 0 }, end: { line: 10, character: 0 } },
      });
    assert.equal((await hints('file:///ws/old/a.kvmmu')).length, 0);
    assert.ok((await hints('file:///ws/new/b.kvmmu')).length > 0);

    // A change of configuration is asked for again, per document, and applies at once.
    folders['file:///ws/old/'] = { kernel: { default: 'v6.1' } };
    client.asked.length = 0;
    await client.configure({});
    assert.equal(await profileOf('file:///ws/old/a.kvmmu'), 'v6.1');
    assert.equal(await profileOf('file:///ws/new/b.kvmmu'), 'v6.6');
    assert.ok((await hints('file:///ws/old/a.kvmmu')).length > 0);
    assert.ok(client.asked.some((i) => i.scopeUri === 'file:///ws/old/a.kvmmu'));
  });

  it('publishes a document’s first diagnostics under its folder’s kernel', async () => {
    client.scoped = (scopeUri) =>
      scopeUri.startsWith('file:///ws/old/') ? { kernel: { default: 'v5.15' } } : undefined;
    // `expect` that holds only when the document ran under v5.15 (no TDP MMU reference of its own there).
    const text = [...RUN, 'expect roots.live == 1'].join('\n');
    const there = await client.open('file:///ws/old/d.kvmmu', text);
    const here = await client.open('file:///ws/d.kvmmu', text);
    const failed = (ds: { code?: string | number }[]) => ds.filter((d) => d.code === 'expect-failed').length;
    assert.deepEqual([failed(there), failed(here)], [0, 1]);
  });
});

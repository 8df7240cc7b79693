import { strict as assert } from 'node:assert';
import type {
  CodeAction,
  CompletionItem,
  Diagnostic,
  DocumentSymbol,
  FoldingRange,
  Hover,
  InlayHint,
  InlayHintLabelPart,
  Location,
  TextEdit,
} from 'vscode-languageserver/node';
import { CompletionItemKind } from 'vscode-languageserver/node';
import { analyze } from '../../core/src/engine/analyze.js';
import { COMPLETION_TRIGGERS } from '../src/server.js';
import type { CompareResult, ProfilesResult, StateAtResult, TimelineResult } from '../../core/src/protocol.js';
import type { TestClient } from './harness.js';
import { at, messageOf, startClient } from './harness.js';

const SCENARIO = [
  'kernel v6.4', // 0
  'vm vcpus=1',
  'sregs cr0=PE|PG', // 2: userspace sets the registers: no entry before `run`
  'sregs cr4=PAE',
  'run  # allocates #1', // 4
  'smi',
  'rsm', // the entry before RSM loads the SMM root, which the TDP MMU keeps (v6.4)
  'expect roots.live == 2',
  '', // 8
  'vcpu 0',
  'rms', // 10
  'cr0 = PG', // 11: PG without PE → #GP
  'expect roots.live == 99', // 12
  'decode role 0x1000784',
].join('\n');

const URI = 'file:///test/scenario.kvmmu';

const labelText = (h: InlayHint): string =>
  typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join('');

describe('language server over streams', function () {
  let client: TestClient;
  let diagnostics: Diagnostic[];

  before(async () => {
    client = await startClient(analyze);
    diagnostics = await client.open(URI, SCENARIO);
  });
  after(async () => client.stop());

  it('publishes parse errors with exact ranges and a suggestion', () => {
    const d = diagnostics.find((x) => x.range.start.line === 10);
    assert.ok(d, JSON.stringify(diagnostics));
    assert.equal(d.severity, 1);
    assert.deepEqual(d.range, { start: { line: 10, character: 0 }, end: { line: 10, character: 3 } });
    assert.match(messageOf(d), /did you mean `rsm`/);
  });

  it('publishes #GP writes as warnings and failed expectations as errors', () => {
    const gp = diagnostics.find((x) => x.range.start.line === 11);
    assert.equal(gp?.severity, 2, JSON.stringify(diagnostics));
    const failed = diagnostics.find((x) => x.range.start.line === 12);
    assert.equal(failed?.severity, 1);
    assert.ok(!diagnostics.some((x) => x.range.start.line === 7), 'the passing expectation has no diagnostic');
  });

  it('offers the suggested fix as a quick fix', async () => {
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri: URI },
      range: { start: { line: 10, character: 1 }, end: { line: 10, character: 1 } },
      context: { diagnostics: [] },
    });
    assert.equal(actions.length, 1);
    assert.deepEqual(actions[0]?.edit?.changes?.[URI], [
      { range: { start: { line: 10, character: 0 }, end: { line: 10, character: 3 } }, newText: 'rsm' },
    ]);
  });

  it('shows an inlay hint at the end of every executed statement', async () => {
    const hints = await client.request<InlayHint[]>('textDocument/inlayHint', {
      textDocument: { uri: URI },
      range: { start: { line: 0, character: 0 }, end: { line: 13, character: 0 } },
    });
    const run = hints.find((h) => h.position.line === 4);
    assert.ok(run, JSON.stringify(hints));
    assert.deepEqual(run.position, { line: 4, character: 3 });
    assert.match(labelText(run), /^→ alloc #1 /);
    const part = (run.label as InlayHintLabelPart[]).find((p) => p.value === '#1');
    assert.equal(part?.location?.range.start.line, 4, 'a root id in a hint links to its allocation');
    for (const line of [5, 6])
      assert.ok(
        hints.some((h) => h.position.line === line),
        `hint on line ${line}`,
      );
    assert.ok(hints.every((h) => labelText(h).startsWith('→ ')));
  });

  it('turns inlay hints off through the setting', async () => {
    await client.configure({ inlayHints: { enabled: false } });
    const hints = await client.request<InlayHint[]>('textDocument/inlayHint', {
      textDocument: { uri: URI },
      range: { start: { line: 0, character: 0 }, end: { line: 13, character: 0 } },
    });
    await client.configure({});
    const again = await client.request<InlayHint[]>('textDocument/inlayHint', {
      textDocument: { uri: URI },
      range: { start: { line: 0, character: 0 }, end: { line: 13, character: 0 } },
    });
    assert.deepEqual(hints, []);
    assert.ok(again.length > 0);
  });

  it('hovers a statement with its actions and kernel links', async () => {
    const h = await client.request<Hover>('textDocument/hover', at(URI, 4, 1));
    const md = (h.contents as { value: string }).value;
    assert.match(md, /\*\*run\*\* on vCPU 0/);
    assert.match(md, /`alloc #1 4-level direct !SMM rc 2`/);
    assert.match(md, /https:\/\/elixir\.bootlin\.com\/linux\/v6\.4\/C\/ident\//);
  });

  it('hovers a role word and a flag in the file kernel layout', async () => {
    const role = await client.request<Hover>('textDocument/hover', at(URI, 13, 15));
    assert.match((role.contents as { value: string }).value, /\| 24–31 \| `smm` \| 1 \|/);
    const flag = await client.request<Hover>('textDocument/hover', at(URI, 2, 14));
    assert.match((flag.contents as { value: string }).value, /CR0\.PG.*is an MMU role bit/s);
  });

  it('completes flags for the register being written', async () => {
    const uri = 'file:///test/complete.kvmmu';
    await client.open(uri, 'cr4 |= ');
    const items = await client.request<CompletionItem[]>('textDocument/completion', at(uri, 0, 7));
    assert.ok(items.some((i) => i.label === 'LA57'));
    assert.ok(!items.some((i) => i.label === 'WP'));
  });

  it('a byte-order mark opening a document is ignored: its kernel line applies', async () => {
    const uri = 'file:///test/bom.kvmmu';
    const diagnostics = await client.open(uri, '\ufeffkernel v6.3\nrun\n');
    assert.deepEqual(diagnostics, []);
    const state = await client.request<StateAtResult>('kvmmu/stateAt', { uri, line: 1 });
    assert.equal(state.kernel.profile, 'v6.3');
  });

  it('completion pops up only after `=` and `|`, and offers snippets only to a client that supports them', async () => {
    const uri = 'file:///test/complete-snippets.kvmmu';
    await client.open(uri, '\n');
    const items = await client.request<CompletionItem[]>('textDocument/completion', at(uri, 0, 0));
    assert.ok(items.some((i) => i.label === 'smi'));
    // This test client announced no snippetSupport: `${1:…}` would be inserted literally.
    assert.ok(!items.some((i) => i.kind === CompletionItemKind.Snippet));
    assert.deepEqual(COMPLETION_TRIGGERS, ['=', '|']);
  });

  it('outlines and folds vCPU sections', async () => {
    const symbols = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', {
      textDocument: { uri: URI },
    });
    assert.deepEqual(
      symbols.map((s) => s.name),
      ['header', 'sregs cr0=PE|PG', 'sregs cr4=PAE', 'run', 'smi', 'rsm', 'expect roots.live == 2', 'vCPU 0'],
    );
    const folds = await client.request<FoldingRange[]>('textDocument/foldingRange', { textDocument: { uri: URI } });
    assert.ok(folds.some((f) => f.startLine === 9 && f.endLine === 13));
  });

  it('formats without losing comments', async () => {
    const uri = 'file:///test/format.kvmmu';
    await client.open(uri, 'cr0=pe|pg   # real mode is over\nrun # go');
    const edits = await client.request<TextEdit[]>('textDocument/formatting', {
      textDocument: { uri },
      options: { tabSize: 2, insertSpaces: true },
    });
    assert.deepEqual(
      edits.map((e) => e.newText),
      ['cr0 = PE|PG # real mode is over'],
    );
  });

  it('goes from a root id to its allocation and to every line that touched it', async () => {
    const def = await client.request<Location[]>('textDocument/definition', at(URI, 4, 18));
    assert.deepEqual(
      def.map((l) => l.range.start.line),
      [4],
    );
    const refs = await client.request<Location[]>('textDocument/references', {
      ...at(URI, 4, 18),
      context: { includeDeclaration: true },
    });
    assert.equal(refs[0]?.range.start.line, 4);
    assert.ok(refs.length >= 1);
  });

  it('answers the custom requests', async () => {
    const t = await client.request<TimelineResult>('kvmmu/timeline', { uri: URI });
    assert.equal(t.kernel.profile, 'v6.4');
    assert.equal(t.version, 1);
    assert.deepEqual(t.steps[0] && [t.steps[0].line, t.steps[0].text], [2, 'sregs cr0=PE|PG']);
    const t63 = await client.request<TimelineResult>('kvmmu/timeline', { uri: URI, kernel: 'v6.3' });
    assert.equal(t63.kernel.profile, 'v6.3');
    await assert.rejects(client.request('kvmmu/timeline', { uri: URI, kernel: 'v9.9' }), /unknown kernel profile/);

    const s = await client.request<StateAtResult>('kvmmu/stateAt', { uri: URI, line: 4 });
    assert.equal(s.step?.line, 4);
    assert.ok(s.changedRoots.includes(1));
    assert.ok(s.snapshot.roots.some((r) => r.id === 1));
    const before = await client.request<StateAtResult>('kvmmu/stateAt', { uri: URI, line: 3 });
    assert.ok(!before.snapshot.roots.some((r) => r.id === 1));
    const other = await client.request<StateAtResult>('kvmmu/stateAt', { uri: URI, line: 4, kernel: 'v6.3' });
    assert.equal(other.kernel.profile, 'v6.3');

    const c = await client.request<CompareResult>('kvmmu/compare', { uri: URI, kernelA: 'v6.3', kernelB: 'v6.4' });
    assert.equal(c.kernelA, 'v6.3');
    assert.ok(Array.isArray(c.lines));

    const p = await client.request<ProfilesResult>('kvmmu/profiles', {});
    assert.ok(p.profiles.some((x) => x.name === 'latest'));
    assert.ok(p.behaviours.some((x) => x.name === 'invalidated_roots_off_list' && x.whatIf));
  });
});

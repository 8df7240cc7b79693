/**
 * The root panel's host trusts nothing the webview sends (a compromised webview is a hostile client): every
 * message is checked field by field by `parseWebviewMessage` before the host acts on it.
 */
import assert from 'node:assert/strict';
import { MAX_COPY_CHARS, MAX_LINE, parseWebviewMessage } from '../../core/src/panel/messages.js';

const OWN = 'file:///work/scenario.kvmmu';
const parse = (m: unknown, documentUri: string | null = OWN) => parseWebviewMessage(m, { documentUri });

describe('panel messages from the webview', () => {
  it('accepts the messages the panel itself sends, as fresh objects with only their fields', () => {
    for (const m of [
      { type: 'ready', compareKernel: null },
      { type: 'ready', compareKernel: 'v6.3 +tdp_mmu_root_ref' },
      { type: 'revealLine', uri: OWN, line: 0 },
      { type: 'revealLine', uri: OWN, line: 41 },
      { type: 'setCompare', kernel: 'v5.15' },
      { type: 'setCompare', kernel: null },
      { type: 'copy', format: 'tsv', text: 'id\trole\n1\t0x84' },
      { type: 'copy', format: 'markdown', text: '' },
    ])
      assert.deepEqual(parse({ ...m, extra: { evil: true } }), m);
  });

  it('reveals only the panel’s own document', () => {
    for (const uri of ['file:///etc/passwd', 'untitled:Untitled-1', 'command:workbench.action.quit', `${OWN}#x`, ''])
      assert.equal(parse({ type: 'revealLine', uri, line: 1 }), undefined, uri);
    assert.equal(parse({ type: 'revealLine', uri: OWN, line: 1 }, null), undefined, 'no document shown: nothing');
  });

  it('takes only integer lines in range', () => {
    for (const line of [
      -1,
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      MAX_LINE + 1,
      '3',
      null,
      undefined,
      [3],
      { valueOf: 3 },
    ])
      assert.equal(parse({ type: 'revealLine', uri: OWN, line }), undefined, String(line));
    assert.deepEqual(parse({ type: 'revealLine', uri: OWN, line: MAX_LINE }), {
      type: 'revealLine',
      uri: OWN,
      line: MAX_LINE,
    });
  });

  it('takes only strings where strings are due, and bounds their size', () => {
    for (const m of [
      { type: 'revealLine', uri: { toString: () => OWN }, line: 1 },
      { type: 'revealLine', uri: [OWN], line: 1 },
      { type: 'copy', format: 'tsv', text: 42 },
      { type: 'copy', format: 'tsv', text: { length: 1 } },
      { type: 'copy', format: 'tsv' },
      { type: 'copy', format: 'html', text: 'x' },
      { type: 'copy', format: 'tsv', text: 'x'.repeat(MAX_COPY_CHARS + 1) },
      { type: 'setCompare', kernel: 7 },
      { type: 'setCompare', kernel: '' },
      { type: 'setCompare', kernel: 'v'.repeat(5_000) },
      { type: 'setCompare' },
      { type: 'ready' },
      { type: 'ready', compareKernel: {} },
    ])
      assert.equal(parse(m), undefined, JSON.stringify(m).slice(0, 80));
    assert.ok(parse({ type: 'copy', format: 'tsv', text: 'x'.repeat(MAX_COPY_CHARS) }));
  });

  it('ignores unknown types and anything that is not a message', () => {
    for (const m of [
      null,
      undefined,
      42,
      'ready',
      [],
      [{ type: 'ready', compareKernel: null }],
      {},
      { type: 'openExternal', url: 'https://example.com' },
      { type: 'READY', compareKernel: null },
      { type: { toString: () => 'ready' }, compareKernel: null },
      Object.create({ type: 'ready', compareKernel: null }) as unknown,
    ])
      assert.equal(parse(m), undefined, String(JSON.stringify(m)));
  });
});

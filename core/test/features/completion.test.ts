import { strict as assert } from 'node:assert';
import { complete } from '../../src/features/completion.js';
import { kernelFor } from '../../src/kernel/behaviours.js';

const k = kernelFor('v6.4');
const labels = (line: string, headerDone = false): string[] =>
  complete(k, line, line.length, headerDone).map((i) => i.label);

describe('features/completion', () => {
  it('offers keywords at the start of a line, header keywords only before events', () => {
    assert.ok(labels('').includes('kernel'));
    assert.ok(labels('').includes('smi'));
    assert.ok(labels('').includes('cr0'));
    assert.ok(!labels('', true).includes('kernel'));
    assert.ok(labels('sm').includes('smi'));
  });

  it('offers snippets only where a statement starts, never after `kernel `', () => {
    const kinds = (line: string, headerDone = false) =>
      complete(k, line, line.length, headerDone).map((i) => `${i.kind}:${i.label}`);
    assert.ok(kinds('').includes('snippet:header'));
    assert.ok(kinds('').includes('snippet:vmenter-ept'));
    assert.ok(!kinds('', true).includes('snippet:header'), 'no header snippet after the first event');
    assert.ok(kinds('', true).includes('snippet:smi-rsm'));
    // `kernel ` and `kernel v` complete profiles, and only profiles.
    for (const line of ['kernel ', 'kernel v', 'kernel v6'])
      assert.deepEqual(
        new Set(complete(k, line, line.length).map((i) => i.kind)),
        new Set(['profile']),
        JSON.stringify(line),
      );
    assert.ok(!kinds('vcpu 1: ').some((x) => x.startsWith('snippet:')));
    const header = complete(k, '', 0).find((i) => i.label === 'header');
    assert.match(header?.insertText ?? '', /^kernel \$\{1\|latest,v6\.18,.*,v5\.15\|\}\nvm vendor=/);
  });

  it('offers the flags of the register being written', () => {
    assert.ok(labels('cr0 = ').includes('WP'));
    assert.ok(!labels('cr0 = ').includes('LA57'));
    assert.ok(labels('cr4 |= PAE|').includes('LA57'));
    assert.ok(labels('efer &= ~').includes('NX'));
    assert.ok(labels('sregs cr0=PE|PG cr4=').includes('PCIDE'));
    assert.ok(labels('vmenter ept=on efer=').includes('LMA'));
  });

  it('offers profiles after kernel and behaviours after + or -', () => {
    assert.ok(labels('kernel ').includes('v6.4'));
    const items = complete(k, 'kernel v6.3 +tdp', 16);
    assert.ok(items.some((i) => i.label === 'tdp_mmu_root_ref'));
    // the sign stays: only the name is replaced
    assert.deepEqual(items[0]?.replace, { start: 13, end: 16 });
    assert.ok(labels('kernel v6.4 -').includes('cr0_wp_fast_path'));
  });

  it('offers vm keys, then their values', () => {
    assert.ok(labels('vm ').includes('vendor='));
    assert.ok(!labels('vm vendor=amd ').includes('vendor='));
    const values = complete(k, 'vm vendor=', 10);
    assert.deepEqual(
      values.map((v) => v.label),
      ['intel', 'amd'],
    );
    assert.deepEqual(values[0]?.replace, { start: 10, end: 10 });
  });

  it('offers expectation paths, with role fields of the kernel layout', () => {
    const paths = labels('expect ');
    for (const p of [
      'roots.live',
      'root.refcount',
      'prev_roots.count',
      'line.reused',
      'stats.mmu_cache_miss',
      'warnings',
      'root.role.smm',
    ]) {
      assert.ok(paths.includes(p), p);
    }
    assert.ok(paths.includes('root.role.passthrough'));
    assert.ok(!complete(kernelFor('v5.15'), 'expect ', 7).some((i) => i.label === 'root.role.passthrough'));
    assert.ok(labels('expect roots.live ').includes('>='));
  });

  it('offers sub-words of events', () => {
    assert.deepEqual(labels('invept '), ['single', 'global']);
    assert.ok(labels('destroy ').includes('vm'));
    assert.ok(labels('vcpu 1: ').includes('rsm'));
    assert.ok(!labels('vcpu 1: ').includes('kernel'));
    assert.ok(labels('emulate ').includes('write'), 'emulate write GPA BYTES');
    assert.ok(labels('emulate ').includes('cr3'));
  });

  it('offers memslot actions, then the layout keys after the slot id (pages= only for create)', () => {
    assert.deepEqual(labels('memslot '), ['create', 'delete', 'move']);
    assert.deepEqual(labels('memslot create '), []);
    assert.deepEqual(labels('memslot create 2 '), ['gfn=', 'pages=']);
    assert.deepEqual(labels('memslot create 2 gfn=0x10 '), ['pages=']);
    assert.deepEqual(labels('memslot move 2 '), ['gfn=']);
    assert.deepEqual(labels('memslot delete 2 '), []);
    assert.ok(labels('vm ').includes('memory='));
    assert.deepEqual(
      complete(k, 'vm memory=', 10).map((v) => v.label),
      ['all', 'slots'],
    );
    assert.ok(labels('').includes('pdpt'));
    assert.ok(labels('expect ').includes('root.dummy'));
    assert.ok(labels('expect ').includes('pae_roots.count'));
  });

  it('offers nothing inside a comment', () => {
    assert.deepEqual(labels('run # cr0 = '), []);
  });
});

/**
 * Guest memory layout (issue 19, item 2): memslots with a base gfn and size, `vm memory=slots`, PAE PDPTE
 * contents (`pdpt`), dummy roots (mmu.c mmu_alloc_shadow_roots, v6.6 vs v6.1), load_pdptrs on a same-value CR3
 * reload (x86.c, v5.15 vs v6.1) and v6.12's kvm_mmu_zap_memslot. What was read is in docs/kernel-notes.md §7.
 */
import assert from 'node:assert/strict';
import { analyze } from '../../src/engine/analyze.js';
import type { Analysis } from '../../src/engine/analysis.js';
import { parse } from '../../src/syntax/parser.js';
import { checkScenario } from '../../src/syntax/check.js';

const codes = (text: string): string[] => {
  const p = parse(text);
  return [...p.diagnostics, ...checkScenario(p, {}).diagnostics].map((d) => d.code);
};

function run(text: string): Analysis {
  const a = analyze(text);
  const errors = a.diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(
    errors.map((d) => `${d.span.line + 1}: ${d.message}`),
    [],
  );
  return a;
}

const lineOf = (a: Analysis, text: string): number => {
  const i = a.text.split('\n').findIndex((l) => l.startsWith(text));
  assert.ok(i >= 0, text);
  return i;
};
const step = (a: Analysis, text: string) => {
  const s = a.stepAt(lineOf(a, text));
  assert.ok(s, text);
  return s;
};

describe('memory layout: syntax', () => {
  it('parses memslot layouts and keeps the old forms', () => {
    const ops = parse(
      'memslot create 1 gfn=0x100 pages=16\nmemslot move 1 gfn=0x400\nmemslot move 1\nmemslot create 2\nmemslot delete 1',
    ).statements.map((s) => (s.kind === 'event' ? s.op : undefined));
    assert.deepEqual(ops, [
      { op: 'memslot', action: 'create', slot: 1, gfn: 0x100n, pages: 16n },
      { op: 'memslot', action: 'move', slot: 1, gfn: 0x400n },
      { op: 'memslot', action: 'move', slot: 1 },
      { op: 'memslot', action: 'create', slot: 2 },
      { op: 'memslot', action: 'delete', slot: 1 },
    ]);
  });

  it('refuses half a layout, empty or oversized slots and options on delete, each on its tokens', () => {
    assert.deepEqual(codes('memslot create 1 gfn=0x100'), ['missing-value']);
    assert.deepEqual(codes('memslot create 1 pages=4'), ['missing-value']);
    assert.deepEqual(codes('memslot create 1 gfn=0 pages=0'), ['value-out-of-range']);
    assert.deepEqual(codes('memslot create 1 gfn=0xffffffffff pages=2'), ['value-out-of-range']);
    assert.deepEqual(codes('memslot move 1 pages=2'), ['unknown-option']);
    assert.deepEqual(codes('memslot delete 1 gfn=0'), ['unexpected-token']);
    const p = parse('memslot create 1 gfn=0xffffffffff pages=2');
    const d = p.diagnostics[0]!;
    assert.equal(p.lines[0]!.statement, undefined);
    assert.equal(
      'memslot create 1 gfn=0xffffffffff pages=2'.slice(d.span.start, d.span.end),
      'gfn=0xffffffffff pages=2',
    );
  });

  it('parses pdpt with four entries; refuses a misaligned address and a short list', () => {
    const s = parse('pdpt 0x1000 = 0x2001 0x3001 0 0').statements[0];
    assert.deepEqual(s?.kind === 'event' && s.op, { op: 'pdpt', addr: 0x1000n, entries: [0x2001n, 0x3001n, 0n, 0n] });
    assert.deepEqual(codes('pdpt 0x1010 = 1 1 1 1'), ['pdpt-misaligned']);
    assert.deepEqual(codes('pdpt 0x1000 = 1 1 1'), ['missing-value']);
    assert.deepEqual(codes('pdpt 0x1000 1 1 1 1'), ['expected-equals']);
    assert.deepEqual(codes('pdpt 0x1000 = 1 1 1 1 1'), ['unexpected-token']);
  });

  it('vm memory=slots wants every created slot to have a layout', () => {
    assert.deepEqual(codes('vm memory=slots\nmemslot create 1'), ['memslot-needs-layout']);
    assert.deepEqual(codes('vm memory=slots\nmemslot create 1 gfn=0 pages=1'), []);
    assert.deepEqual(codes('memslot create 1'), []);
    assert.deepEqual(codes('vm memory=some'), ['bad-value']);
  });
});

const SHADOW_64 = 'sregs cr0=PE|ET|PG|WP cr4=PAE efer=LME|LMA|NX';

describe('memory layout: a guest root outside every memslot (mmu.c mmu_alloc_shadow_roots)', () => {
  const scenario = (kernel: string): string =>
    [
      `kernel ${kernel}`,
      'vm vendor=intel tdp=off memory=slots',
      'memslot create 0 gfn=0 pages=0x100',
      `${SHADOW_64} cr3=0x200000`,
      'run',
      'memslot create 1 gfn=0x200 pages=1',
      'run # again',
    ].join('\n');

  it('v6.1: mmu_check_root raises KVM_REQ_TRIPLE_FAULT, the load fails, KVM_RUN shuts down; a slot later lets it load', () => {
    const a = run(scenario('v6.1'));
    const first = step(a, 'run').result;
    assert.equal(first.outcome, 'shutdown');
    assert.ok(first.actions.some((x) => x.op === 'request' && x.request === 'KVM_REQ_TRIPLE_FAULT'));
    assert.ok(!first.actions.some((x) => x.op === 'alloc' || x.op === 'dummy_root'));
    const again = step(a, 'run # again').result;
    assert.equal(again.outcome, 'ok');
    assert.equal(again.actions.filter((x) => x.op === 'alloc').length, 1);
  });

  it('v6.6: the dummy root, a #PF while the root stays invisible, then FREE_OBSOLETE_ROOTS once a slot covers it', () => {
    const a = run(scenario('v6.6'));
    const first = step(a, 'run').result;
    assert.equal(first.outcome, 'ok');
    assert.deepEqual(
      first.actions.filter((x) => x.op === 'dummy_root' || x.op === 'fault').map((x) => x.op),
      ['dummy_root', 'fault'],
    );
    const mmu = a.stateAt(lineOf(a, 'run')).vcpus[0]!.mmus[0]!;
    assert.equal(mmu.rootSpecial, 'dummy');
    assert.deepEqual(mmu.paeRoots, []);
    // Creating the slot changes no root: the dummy root stays until the guest faults.
    assert.equal(step(a, 'memslot create 1').result.actions.length, 0);
    assert.equal(a.stateAt(lineOf(a, 'memslot create 1')).vcpus[0]!.mmus[0]!.rootSpecial, 'dummy');
    const again = step(a, 'run # again').result;
    const path = again.actions.find((x) => x.op === 'request')?.path ?? [];
    assert.deepEqual(path.slice(0, 3), ['kvm_mmu_page_fault', 'paging64_page_fault', 'paging64_fetch']);
    assert.deepEqual(
      again.actions.filter((x) => x.op === 'dummy_root' || x.op === 'alloc').map((x) => x.op),
      ['dummy_root', 'alloc'],
    );
    assert.equal(a.final.vcpus[0]!.mmus[0]!.rootSpecial, null);
  });

  it('v6.6: a CR3 switch drops a dummy root (fast_pgd_switch frees a root without a shadow page)', () => {
    const a = run(
      [
        'kernel v6.6',
        'vm tdp=off memory=slots',
        'memslot create 0 gfn=0 pages=0x10',
        `${SHADOW_64} cr3=0x200000`,
        'run',
        'cr3 = 0x1000',
        'run # in memory',
      ].join('\n'),
    );
    const sw = step(a, 'cr3 = 0x1000').result;
    assert.ok(sw.actions.some((x) => x.op === 'dummy_root' && x.detail.includes('drops')));
    assert.equal(step(a, 'run # in memory').result.actions.filter((x) => x.op === 'alloc').length, 1);
  });

  it('nested EPT: an EPTP outside every memslot gives guest_mmu the dummy root on v6.6, a triple fault on v6.1', () => {
    const text = (k: string): string =>
      [
        `kernel ${k}`,
        'vm vendor=intel nested=on memory=slots',
        'memslot create 0 gfn=0 pages=0x100',
        'sregs cr0=PE|ET|PG|WP cr4=PAE|VMXE efer=LME|LMA|NX cr3=0x1000',
        'run',
        'vmenter ept=on eptp=0x40001e',
        'run',
      ].join('\n');
    const six = analyze(text('v6.6'));
    assert.equal(six.final.vcpus[0]!.mmus[1]!.rootSpecial, 'dummy');
    const one = analyze(text('v6.1'));
    assert.ok(one.steps.toArray().some((s) => s.result.outcome === 'shutdown'));
  });
});

describe('memory layout: PAE PDPTEs (load_pdptrs, mmu_alloc_shadow_roots)', () => {
  const PAE = 'sregs cr0=PE|ET|PG|WP cr4=PAE cr3=0x1000';

  it('a non-present PDPTE gets no PAE root; an undeclared PDPT keeps four', () => {
    const declared = run(['kernel v6.6', 'vm tdp=off', 'pdpt 0x1000 = 0x2001 0 0x3001 0', PAE, 'run'].join('\n'));
    assert.deepEqual(
      declared.final.vcpus[0]!.mmus[0]!.paeRoots.map((r) => r !== null),
      [true, false, true, false],
    );
    const undeclared = run(['kernel v6.6', 'vm tdp=off', PAE, 'run'].join('\n'));
    assert.deepEqual(undeclared.final.vcpus[0]!.mmus[0]!.paeRoots.filter((r) => r !== null).length, 4);
  });

  it('a PDPTE pointing outside every memslot: v6.1 fails the load, v6.6 counts it as not present', () => {
    const text = (k: string): string =>
      [
        `kernel ${k}`,
        'vm tdp=off memory=slots',
        'memslot create 0 gfn=0 pages=0x10',
        'pdpt 0x1000 = 0x2001 0x20001 0 0',
        PAE,
        'run',
      ].join('\n');
    const one = run(text('v6.1'));
    assert.equal(step(one, 'run').result.outcome, 'shutdown');
    const six = run(text('v6.6'));
    assert.equal(step(six, 'run').result.outcome, 'ok');
    assert.deepEqual(
      six.final.vcpus[0]!.mmus[0]!.paeRoots.map((r) => r !== null),
      [true, false, false, false],
    );
  });

  it('load_pdptrs fails (#GP) for a PDPT outside every memslot and for reserved bits in a present PDPTE', () => {
    const outside = analyze(
      ['kernel v6.6', 'vm tdp=off memory=slots', 'memslot create 0 gfn=0 pages=0x10', PAE, 'run', 'cr3 = 0x40000'].join(
        '\n',
      ),
    );
    const w = step(outside, 'cr3 = 0x40000').result;
    assert.equal(w.outcome, 'gp');
    assert.match(w.message ?? '', /PDPT at 0x40000 is outside every memslot/);
    assert.equal(outside.final.vcpus[0]!.regs.cr3, '0x1000');
    const reserved = analyze(
      ['kernel v6.6', 'vm tdp=off', PAE, 'run', 'pdpt 0x2000 = 0x3007 0 0 0', 'cr3 = 0x2000'].join('\n'),
    );
    assert.equal(step(reserved, 'cr3 = 0x2000').result.outcome, 'gp');
    // Not present: reserved bits do not count.
    const absent = analyze(
      ['kernel v6.6', 'vm tdp=off', PAE, 'run', 'pdpt 0x2000 = 0x3006 0 0 0', 'cr3 = 0x2000'].join('\n'),
    );
    assert.equal(step(absent, 'cr3 = 0x2000').result.outcome, 'ok');
  });

  it('same-value CR3 reload with new PDPTEs: v6.1 frees the PAE roots (6b123c3a89a9), v5.15 keeps them with a hazard', () => {
    const text = (k: string): string =>
      [
        `kernel ${k}`,
        'vm tdp=off',
        'pdpt 0x1000 = 0x2001 0x3001 0 0',
        PAE,
        'run',
        'pdpt 0x1000 = 0x2001 0x4001 0 0',
        'cr3 = 0x1000',
      ].join('\n');
    const new_ = run(text('v6.1'));
    const r = step(new_, 'cr3 = 0x1000').result;
    assert.ok(r.actions.some((x) => x.op === 'put' && x.path.includes('load_pdptrs')));
    assert.equal(new_.final.vcpus[0]!.mmus[0]!.rootSpecial, null);
    const old = run(text('v5.15'));
    const o = step(old, 'cr3 = 0x1000').result;
    assert.ok(!o.actions.some((x) => x.op === 'put'));
    assert.ok(o.actions.some((x) => x.op === 'hazard'));
    // The same PDPTEs again: nothing to free, no hazard.
    const same = run(
      ['kernel v6.1', 'vm tdp=off', 'pdpt 0x1000 = 0x2001 0x3001 0 0', PAE, 'run', 'cr3 = 0x1000'].join('\n'),
    );
    assert.ok(!step(same, 'cr3 = 0x1000').result.actions.some((x) => x.op === 'put' || x.op === 'hazard'));
  });

  it('with TDP the PDPTEs never free a root', () => {
    const a = run(
      [
        'kernel v6.1',
        'vm tdp=on',
        'pdpt 0x1000 = 0x2001 0 0 0',
        PAE,
        'run',
        'pdpt 0x1000 = 0x5001 0 0 0',
        'emulate cr3 = 0x1000',
      ].join('\n'),
    );
    assert.ok(!step(a, 'emulate cr3').result.actions.some((x) => x.op === 'put' || x.op === 'free'));
  });
});

describe('memory layout: memslots (kvm_set_memory_region, kvm_arch_flush_shadow_memslot)', () => {
  it('refuses overlapping, duplicate and missing slots with an error outcome', () => {
    const a = analyze(
      [
        'vm memory=slots',
        'memslot create 1 gfn=0 pages=0x10',
        'memslot create 2 gfn=0x8 pages=0x10',
        'memslot create 1 gfn=0x100 pages=1',
        'memslot delete 3',
        'memslot move 1 gfn=0x200',
        'memslot move 4 gfn=0x200',
      ].join('\n'),
    );
    assert.equal(step(a, 'memslot create 2').result.outcome, 'error');
    assert.match(step(a, 'memslot create 2').result.message ?? '', /overlap memslot 1/);
    assert.equal(step(a, 'memslot create 1 gfn=0x100').result.outcome, 'error');
    assert.equal(step(a, 'memslot delete 3').result.outcome, 'error');
    assert.equal(step(a, 'memslot move 1').result.outcome, 'ok');
    assert.equal(step(a, 'memslot move 4').result.outcome, 'error');
  });

  it('a slot without a layout behaves as before: delete zaps everything, create nothing', () => {
    const a = run(['kernel v6.6', 'vm tdp=off', `${SHADOW_64} cr3=0x1000`, 'run', 'memslot delete 1'].join('\n'));
    assert.ok(step(a, 'memslot delete 1').result.actions.some((x) => x.path.includes('kvm_mmu_zap_all_fast')));
  });

  it('v6.12 slot_zap_all=off zaps only shadow pages in the deleted slot; slot_zap_all=on zaps all', () => {
    const text = (zap: string): string =>
      [
        'kernel v6.12',
        `vm tdp=off slot_zap_all=${zap}`,
        'memslot create 1 gfn=0x1 pages=1',
        'memslot create 2 gfn=0x8 pages=1',
        `${SHADOW_64} cr3=0x1000`,
        'run',
        'cr3 = 0x8000',
        'run',
        'memslot delete 1',
      ].join('\n');
    const off = run(text('off'));
    const inv = step(off, 'memslot delete 1').result.actions.filter((x) => x.op === 'invalidate');
    assert.deepEqual(
      inv.map((x) => x.root),
      [1],
    );
    assert.equal(off.final.roots.filter((r) => r.state === 'invalid').length, 1);
    const on = run(text('on'));
    assert.equal(on.final.roots.filter((r) => r.state === 'invalid').length, 2);
  });

  it('v6.12 slot_zap_all=off with the TDP MMU: direct roots are never zapped by the slot range', () => {
    const a = run(
      [
        'kernel v6.12',
        'vm slot_zap_all=off',
        'memslot create 1 gfn=0 pages=0x100',
        `${SHADOW_64} cr3=0x1000`,
        'run',
        'memslot delete 1',
      ].join('\n'),
    );
    assert.ok(!step(a, 'memslot delete 1').result.actions.some((x) => x.op === 'invalidate'));
    assert.equal(a.final.roots.filter((r) => r.state === 'valid').length, 1);
  });
});

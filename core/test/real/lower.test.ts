import assert from 'node:assert/strict';
import { analyze } from '../../src/engine/analyze.js';
import { lowerScenario } from '../../src/real/lower.js';

const AMD_TCG = { vendor: 'amd', tcg: true } as const;
const lower = (text: string, target: { vendor: 'amd' | 'intel'; tcg: boolean } = AMD_TCG) =>
  lowerScenario(analyze(text, { checkpoints: false }), target);

describe('real: lowering a scenario for the driver', () => {
  it('queues guest instructions and smi until the vCPU runs: one group per KVM_RUN', () => {
    const l = lower(
      [
        'kernel v6.1.y',
        'vm vendor=amd tdp=on tdp_mmu=on',
        'sregs cr0=PE|ET|PG|WP cr4=PAE efer=LME|LMA|NX cr3=0x1000',
        'run',
        'smi',
        'run',
        'rsm',
        'cr0 &= ~WP',
        'run',
      ].join('\n'),
    );
    assert.deepEqual(l.groups, [[3], [4], [5, 6], [7, 8, 9]]);
    assert.deepEqual(l.program, [
      'vm 1 0',
      'mark line 3',
      'sregs 0 0x80010011 0x1000 0x20 0xd00',
      'mark line 4',
      'run 0',
      'mark line 5',
      'smi 0',
      'mark line 6',
      'run 0',
      'mark line 7',
      'q 0 rsm',
      'mark line 8',
      'q 0 wcr 0 & 0xfffffffffffeffff',
      'mark line 9',
      'run 0',
      'end',
    ]);
    assert.ok(l.verdicts.every((v) => v.runnable));
  });

  it('a guest instruction with no run after it gets a KVM_RUN of its own before the next kind of line', () => {
    const l = lower(['vm vendor=amd', 'sregs cr0=PE|ET', 'run', 'cr0 |= WP', 'memslot delete 1', 'run'].join('\n'));
    assert.deepEqual(l.groups, [[2], [3], [4], [5], [6]]);
    const i = l.program.indexOf('q 0 wcr 0 | 0x10000');
    assert.deepEqual(l.program.slice(i, i + 5), [
      'q 0 wcr 0 | 0x10000',
      'mark line 4',
      'run 0',
      'mark line 5',
      'delslot 2',
    ]);
    // memslot 1 is deleted before it is created: the driver creates it (KVM slot 2) before the first line.
    assert.equal(l.program[1], 'slot 2 0x40400000');
  });

  it('an Intel scenario under QEMU TCG: every line says why it cannot run', () => {
    const l = lower(['vm vendor=intel nested=on', 'sregs cr0=PE|ET', 'run', 'invept global'].join('\n'));
    assert.match(l.refused ?? '', /VMX, which QEMU TCG does not emulate/);
    assert.equal(l.verdicts.length, 3);
    assert.ok(l.verdicts.every((v) => !v.runnable && /Intel host/.test(v.reason)));
    assert.deepEqual(l.program, []);
  });

  it('what the target cannot run is said on its line, and what follows does not run', () => {
    const l = lower(
      [
        'vm vendor=amd',
        'sregs cr0=PE|ET|PG cr4=PAE efer=LME|LMA cr3=0x1000',
        'run',
        'emulate cr3 = 0x2000',
        'run',
      ].join('\n'),
    );
    const bad = l.verdicts.filter((v) => !v.runnable);
    assert.equal(bad.length, 2);
    assert.match(bad[0]!.runnable ? '' : bad[0]!.reason, /emulate/);
    assert.match(bad[1]!.runnable ? '' : bad[1]!.reason, /line 4 could not run/);
  });

  it('PCID, INVPCID, destroy vcpu and emulate write: not runnable on TCG, each with its reason', () => {
    const reasons = (text: string): string[] => lower(text).verdicts.flatMap((v) => (v.runnable ? [] : [v.reason]));
    const base = 'vm vendor=amd\nsregs cr0=PE|ET|PG cr4=PAE efer=LME|LMA cr3=0x1000\nrun\n';
    assert.match(reasons(base + 'cr3 = 0x2001')[0]!, /PCID/);
    assert.match(reasons(base + 'cr4 |= PCIDE')[0]!, /PCID/);
    assert.match(reasons(base + 'invpcid all')[0]!, /INVPCID/);
    assert.match(reasons(base + 'destroy vcpu')[0]!, /no ioctl that destroys one vCPU/);
    assert.match(reasons(base + 'cr3 = 0x30000')[0]!, /SMRAM/);
    assert.match(reasons(base.replace('amd', 'amd tdp=off') + 'emulate write 0x1008 8')[0]!, /unprotected and retried/);
  });

  it('guest memory layouts are not lowered: memory=slots refuses the scenario, gfn= and pdpt say why on their line', () => {
    const refused = lower(['vm vendor=amd memory=slots', 'memslot create 0 gfn=0 pages=0x100', 'run'].join('\n'));
    assert.match(refused.refused ?? '', /memory=slots/);
    assert.deepEqual(refused.program, []);
    const reasons = (text: string): string[] => lower(text).verdicts.flatMap((v) => (v.runnable ? [] : [v.reason]));
    const base = 'vm vendor=amd\nsregs cr0=PE|ET|PG cr4=PAE efer=LME|LMA cr3=0x1000\nrun\n';
    assert.match(reasons(base + 'memslot create 3 gfn=0x400 pages=2')[0]!, /memslot layouts/);
    assert.match(reasons(base + 'pdpt 0x2000 = 0x3001 0 0 0')[0]!, /pdpt/);
    assert.deepEqual(reasons(base + 'memslot create 3\nrun'), []);
  });

  it('nx_huge_pages and nr_mmu_pages: their own groups under QEMU; each refused where it cannot agree', () => {
    const base = 'vm vendor=amd nx_huge_pages=on\nsregs cr0=PE|ET|PG cr4=PAE efer=LME|LMA cr3=0x1000\nrun\n';
    const l = lower(base + 'nx_huge_pages off\nnr_mmu_pages 80\nrun\nmmio_gen wrap');
    // The parameter the VM starts with is written before the VM exists.
    assert.deepEqual(l.program.slice(0, 2), ['nxhuge 1', 'vm 1 0']);
    assert.ok(l.program.includes('nxhuge 0') && l.program.includes('nrmmupages 80'));
    assert.deepEqual(l.groups.slice(-3), [[4], [5], [6]]);
    const wrap = l.verdicts.find((v) => v.line === 7)!;
    assert.ok(!wrap.runnable && /2\^18 memslot updates/.test(wrap.reason));
    const host = lowerScenario(analyze(base + 'nx_huge_pages off'), { vendor: 'amd', tcg: false });
    const v = host.verdicts.find((x) => x.line === 4)!;
    assert.ok(!v.runnable && /every VM on this host/.test(v.reason));
    assert.ok(!host.program.some((p) => p.startsWith('nxhuge')));
    const shadow = lower(base.replace('vm vendor=amd', 'vm vendor=amd tdp=off') + 'nr_mmu_pages 80');
    const nr = shadow.verdicts.find((x) => x.line === 4)!;
    assert.ok(!nr.runnable && /child shadow pages/.test(nr.reason));
  });

  it('a line the model faults (#GP) is skipped, and the scenario goes on', () => {
    const l = lower(['vm vendor=amd', 'sregs cr0=PE|ET', 'run', 'cr0 |= NW', 'run'].join('\n'));
    const v = l.verdicts.find((x) => x.line === 4)!;
    assert.ok(!v.runnable && /#GP/.test(v.reason));
    assert.ok(l.verdicts.find((x) => x.line === 5)!.runnable);
  });

  it('a PAE guest under NPT cannot reload its PDPTRs on TCG; with shadow paging it can', () => {
    const text = (tdp: string): string =>
      [`vm vendor=amd tdp=${tdp}`, 'sregs cr0=PE|ET|PG|WP cr4=PAE cr3=0x1000', 'run', 'cr4 |= PGE', 'run'].join('\n');
    const npt = lower(text('on')).verdicts.find((v) => v.line === 4)!;
    assert.ok(!npt.runnable && /accessed bit in PDPTEs/.test(npt.reason));
    assert.ok(lower(text('off')).verdicts.find((v) => v.line === 4)!.runnable);
    assert.ok(lower(text('on'), { vendor: 'amd', tcg: false }).verdicts.find((v) => v.line === 4)!.runnable);
  });
});

/**
 * Emulated guest writes to shadowed page tables (mmu.c kvm_mmu_pte_write ≤ v6.5 / kvm_mmu_track_write v6.6+):
 * misaligned and flooded writes zap the shadow page, a zapped root is dropped per era (KVM_REQ_MMU_RELOAD before
 * 527d5cd7eece, KVM_REQ_MMU_FREE_OBSOLETE_ROOTS after), and the flooding count is cleared when the page is used.
 */
import assert from 'node:assert/strict';
import { detect_write_misaligned, get_written_sptes } from '../../src/kvm/shadow_mmu.js';
import { X86_CR0_PE, X86_CR0_PG, X86_CR0_WP } from '../../src/kernel/regs.js';
import { ops, vmOn, type Harness } from './helpers.js';

const write = (h: Harness, gpa: bigint, bytes: number, vcpu = h.vcpu) => h.do({ op: 'guest_write', gpa, bytes }, vcpu);

/** A shadow-paging VM with vCPU 0 on root #1 (PML4 at 0x1000) and, with two vCPUs, vCPU 1 on root #2 (0x2000). */
function shadowVm(profile: string, vcpus = 1): Harness {
  const h = vmOn(profile, { tdp: false, vcpus });
  h.longMode(0x1000n, 0);
  h.run(0);
  if (vcpus > 1) {
    h.longMode(0x2000n, 1);
    h.run(1);
  }
  return h;
}

describe('kvm/guest_write: emulated writes to shadowed page tables', () => {
  it('detect_write_misaligned follows the kernel: entry-spanning, short, and 1-byte flag writes', () => {
    assert.equal(detect_write_misaligned(8, 0x8, 8), false);
    assert.equal(detect_write_misaligned(8, 0x4, 8), true, 'spans two 8-byte entries');
    assert.equal(detect_write_misaligned(8, 0x8, 1), false, 'a 1-byte write at an entry start (clear_bit)');
    assert.equal(detect_write_misaligned(8, 0x9, 1), true, 'a 1-byte write inside an entry is < 4 bytes');
    assert.equal(detect_write_misaligned(8, 0x8, 2), true, 'a 2-byte write is < 4 bytes');
    assert.equal(detect_write_misaligned(4, 0x4, 4), false);
    assert.equal(detect_write_misaligned(4, 0x4, 8), true, 'two 4-byte entries');
    assert.equal(detect_write_misaligned(8, 0xff8, 8), false);
  });

  it('get_written_sptes: 8-byte entries map one to one; a 32-bit PDE is two shadow PDEs in one quadrant', () => {
    assert.deepEqual(get_written_sptes(false, 4, 0, 0x18), { index: 3, count: 1 });
    // PDE 0x201 (offset 0x804) of a 32-bit page directory: quadrant 2, shadow entries 2 and 3.
    assert.deepEqual(get_written_sptes(true, 2, 2, 0x804), { index: 2, count: 2 });
    assert.equal(get_written_sptes(true, 2, 1, 0x804), null);
    // A 32-bit page table (level 1): two 4-byte entries per 8-byte shadow entry's half page.
    assert.deepEqual(get_written_sptes(true, 1, 0, 0x10), { index: 4, count: 1 });
    assert.equal(get_written_sptes(true, 1, 0, 0x800), null, 'the upper half of the table is quadrant 1');
  });

  it('counts mmu_pte_write only when some indirect shadow page exists (TDP alone: early return)', () => {
    const h = vmOn('v6.1');
    h.longMode(0x1000n);
    h.run();
    write(h, 0x1000n, 8);
    assert.equal(h.snap.stats['mmu_pte_write'], 0);
    const s = shadowVm('v6.1');
    write(s, 0x5000n, 8);
    assert.equal(s.snap.stats['mmu_pte_write'], 1, 'a shadow page exists somewhere: counted');
    assert.equal(ops(s.last, 'pte_write').length, 0, 'but 0x5000 is no page table');
  });

  it('three aligned writes flood an upper-level root; a VM-entry in between clears the count', () => {
    const h = shadowVm('v6.1');
    write(h, 0x1008n, 8);
    write(h, 0x1010n, 8);
    assert.deepEqual(
      ops(h.last, 'pte_write').map((a) => [a.root, a.write, a.flooding]),
      [[1, 'pte', 2]],
    );
    h.run();
    write(h, 0x1018n, 8);
    write(h, 0x1020n, 8);
    assert.equal(h.root(1).state, 'valid');
    write(h, 0x1028n, 8);
    assert.deepEqual(
      ops(h.last, 'pte_write').map((a) => [a.root, a.write, a.flooding]),
      [[1, 'flooded', 3]],
    );
    assert.equal(h.root(1).state, 'invalid');
    assert.equal(h.snap.stats['mmu_flooded'], 1);
    assert.equal(h.snap.stats['mmu_pte_write'], 5);
    assert.match(h.last.summary, /1 shadow page zapped/);
  });

  it('a cached-root hit on CR3 load clears the count (kvm_mmu_new_pgd)', () => {
    const h = shadowVm('v6.1');
    h.cr3(0x2000n);
    h.run();
    write(h, 0x1000n, 8);
    write(h, 0x1008n, 8);
    h.cr3(0x1000n); // prev_roots hit: root #1 is current again
    assert.equal(h.vcpuRoot(), 1);
    write(h, 0x1010n, 8);
    assert.equal(ops(h.last, 'pte_write')[0]?.flooding, 1);
  });

  it('v6.1: a zapped root makes every vCPU free only obsolete roots (527d5cd7eece)', () => {
    const h = shadowVm('v6.1', 2);
    write(h, 0x1004n, 8, 0); // misaligned: zapped at once
    assert.equal(ops(h.last, 'pte_write')[0]?.write, 'misaligned');
    const reqs = ops(h.last, 'request').map((a) => `${a.request}@${a.vcpu}`);
    assert.deepEqual(reqs, ['KVM_REQ_MMU_FREE_OBSOLETE_ROOTS@0', 'KVM_REQ_MMU_FREE_OBSOLETE_ROOTS@1']);
    const other = h.run(1);
    assert.equal(ops(other, 'put').length, 0, 'vCPU 1 keeps its valid root');
    const own = h.run(0);
    assert.deepEqual(
      ops(own, 'free').map((a) => a.root),
      [1],
    );
  });

  it('v5.15: a zapped root makes every vCPU unload all its roots (KVM_REQ_MMU_RELOAD)', () => {
    const h = shadowVm('v5.15', 2);
    write(h, 0x1004n, 8, 0);
    assert.deepEqual(
      ops(h.last, 'request').map((a) => a.request),
      ['KVM_REQ_MMU_RELOAD', 'KVM_REQ_MMU_RELOAD'],
    );
    const other = h.run(1);
    assert.equal(ops(other, 'unload').length, 1, 'vCPU 1 unloads its valid root');
    assert.equal(ops(other, 'reuse').length, 1, 'and finds it again in the hash');
  });

  it('the call path names kvm_mmu_pte_write up to v6.4 and kvm_mmu_track_write from v6.6', () => {
    for (const [profile, fn] of [
      ['v6.4', 'kvm_mmu_pte_write'],
      ['v6.6', 'kvm_mmu_track_write'],
    ] as const) {
      const h = shadowVm(profile);
      write(h, 0x1000n, 8);
      const a = ops(h.last, 'pte_write')[0];
      assert.ok(a?.path.includes(fn), `${profile}: ${a?.path.join(' › ')}`);
    }
  });

  it('a PAE/64-bit guest’s 4-byte write is widened to its 8-byte entry; a 32-bit guest’s is not', () => {
    const h = shadowVm('v6.6');
    write(h, 0x1004n, 4);
    assert.equal(ops(h.last, 'pte_write')[0]?.write, 'pte');
    const g = vmOn('v6.6', { tdp: false });
    g.sregs({ cr0: X86_CR0_PE | X86_CR0_PG | X86_CR0_WP, cr3: 0x3000n });
    g.run();
    assert.equal(g.liveRoots().length, 4, 'four quadrant roots at one frame');
    write(g, 0x3806n, 4); // spans two 4-byte entries
    assert.deepEqual(
      ops(g.last, 'pte_write').map((a) => a.write),
      ['misaligned', 'misaligned', 'misaligned', 'misaligned'],
    );
    assert.equal(g.snap.stats['mmu_flooded'], 4);
  });

  it('a write across a page boundary is two writes, one per frame', () => {
    const h = shadowVm('v6.1', 2);
    const r = write(h, 0x1ffcn, 8); // 4 bytes at the end of 0x1000 (widened: aligned), 4 at the start of 0x2000
    assert.equal(h.snap.stats['mmu_pte_write'], 2);
    assert.deepEqual(
      ops(r, 'pte_write').map((a) => [a.root, a.write]),
      [
        [1, 'pte'],
        [2, 'pte'],
      ],
    );
    assert.match(r.summary, /split at the page boundary/);
  });

  it('a zapped root with no reference left is freed at once (kvm_mmu_commit_zap_page)', () => {
    const h = shadowVm('v6.1');
    h.cr3(0x2000n);
    h.run();
    h.cr3(0x3000n);
    h.run();
    h.cr3(0x4000n);
    h.run();
    h.cr3(0x5000n); // root #1 leaves prev_roots[2]: still hashed, root_count 0
    h.run();
    assert.equal(h.root(1).refcount, 0);
    const r = write(h, 0x1004n, 8);
    assert.deepEqual(
      ops(r, 'free').map((a) => a.root),
      [1],
    );
    assert.equal(ops(r, 'request').length, 0, 'not in use: no vCPU is asked to drop it');
  });
});

/**
 * Property: under every profile and every single `+`/`-` modification that is a kernel that could exist, on
 * generated scenarios, after every step: refcounts are ≥ 0, no root is freed twice, every live root's holders
 * match its refcount, and every live root is reachable (held) or invalid.
 */
import assert from 'node:assert/strict';
import { analyze } from '../../src/engine/analyze.js';
import { BEHAVIOURS, findProfile, PROFILES } from '../../src/kernel/behaviours.js';
import { kernelSpec, checkKernel } from '../../src/kernel/resolve.js';

/**
 * A seeded scenario body for two vCPUs in long mode: runs, SMM, CR3 switches, CR0.WP, memslots, notifiers, emulated
 * writes to page-table frames. With `layout` (for `vm memory=slots`), memslots have gfn ranges that cover only some
 * of the CR3s the guest switches between (dummy roots, triple faults), and the guest rewrites PDPTs; with `pae` it
 * runs PAE paging instead.
 */
export function generateBody(
  seed: number,
  steps: number,
  opts: { nested: boolean; vendor: 'intel' | 'amd'; layout?: boolean; pae?: boolean },
): string {
  let s = seed >>> 0 || 1;
  const next = (n: number): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 16) % n;
  };
  const lines: string[] = [];
  const inSmm = [false, false];
  const inL2 = [false, false];
  const l2BeforeSmi = [false, false];
  // VMX operation per vCPU: after VMXON (or a vmenter, which implies it), and the current vmcs12 (or none).
  const vmxon = [false, false];
  const vmcs: (string | null)[] = [null, null];
  const long = opts.pae
    ? 'sregs cr0=PE|ET|PG|WP cr4=PAE cr3=0x1000'
    : opts.vendor === 'intel'
      ? `sregs cr0=PE|ET|PG|WP cr4=PAE${opts.nested ? '|VMXE' : ''} efer=LME|LMA|NX cr3=0x1000`
      : `sregs cr0=PE|ET|PG|WP cr4=PAE efer=LME|LMA|NX${opts.nested ? '|SVME' : ''} cr3=0x1000`;
  // KVM_SET_CPUID before the first run may hide features the generated writes never set; after it only an
  // identical CPUID is accepted (v5.16+), so later `cpuid` steps repeat it.
  const hidden = ['pku', 'la57', 'pcid', 'smep', 'smap'].filter(() => next(3) === 0);
  const cpuid = hidden.length ? `cpuid ${hidden.map((f) => `${f}=off`).join(' ')}` : 'cpuid smep=on';
  // Layout: slot 0 holds gfns 0..3 (CR3 0x1000–0x3000); slot 1 at gfn 0x4 or, moved, 0x10; slot 2 holds 0x5–0x6.
  const present = [true, false, false];
  if (opts.layout) lines.push('memslot create 0 gfn=0 pages=4');
  for (const v of [0, 1]) lines.push(`vcpu ${v}`, cpuid, long, 'run');
  let cur = 1;
  for (let i = 0; i < steps; i++) {
    const v = next(2);
    if (v !== cur) {
      lines.push(`vcpu ${v}`);
      cur = v;
    }
    const r = next(21);
    if (r < 3) {
      // SMI from L2 leaves guest mode; RSM goes back to it.
      if (inSmm[v]) inL2[v] = l2BeforeSmi[v]!;
      else {
        l2BeforeSmi[v] = inL2[v]!;
        inL2[v] = false;
      }
      lines.push(inSmm[v] ? 'rsm' : 'smi');
      inSmm[v] = !inSmm[v];
    } else if (r < 7) {
      lines.push('run');
    } else if (r < 10 && !inSmm[v]) {
      lines.push(`cr3 = 0x${(0x1000 * (1 + next(6))).toString(16)}`, 'run');
    } else if (r < 11 && !inSmm[v]) {
      lines.push(next(2) ? 'cr0 &= ~WP' : 'cr0 |= WP');
    } else if (r < 12 && opts.layout) {
      const k = 1 + next(2);
      if (!present[k]) lines.push(k === 1 ? 'memslot create 1 gfn=0x4 pages=1' : 'memslot create 2 gfn=0x5 pages=2');
      else if (next(2)) lines.push(k === 1 ? `memslot move 1 gfn=${next(2) ? '0x4' : '0x10'}` : 'memslot move 2');
      else lines.push(`memslot delete ${k}`);
      if (!present[k] || !lines[lines.length - 1]!.includes('move')) present[k] = !present[k];
      if (opts.pae && next(2)) {
        const e = (): string => (next(3) ? `0x${(0x1000 * next(8) + 1).toString(16)}` : '0');
        lines.push(`pdpt 0x${(0x1000 * (1 + next(6))).toString(16)} = ${e()} ${e()} ${e()} ${e()}`);
      }
    } else if (r < 12) {
      lines.push(`memslot ${['delete', 'move', 'create'][next(3)]} ${next(3)}`);
    } else if (r < 13) {
      const a = next(0x200);
      lines.push(`notifier unmap 0x${a.toString(16)}..0x${(a + 1 + next(0x40)).toString(16)}`);
    } else if (r < 14 && !inSmm[v] && !inL2[v]) {
      lines.push(long);
    } else if (r < 15 && opts.nested && !inSmm[v]) {
      if (inL2[v]) lines.push('vmexit');
      else if (opts.vendor === 'intel' && vmxon[v] && vmcs[v] === null) {
        // VMLAUNCH without a current vmcs12 VMfails: load one instead.
        lines.push('vmptrld 0x7000');
        vmcs[v] = '0x7000';
        continue;
      } else if (opts.vendor === 'intel') {
        if (!vmxon[v]) [vmxon[v], vmcs[v]] = [true, 'implied'];
        lines.push(`vmenter ept=on eptp=0x${(0x501e + 0x1000 * next(3)).toString(16)} cr3=0x9000`);
      } else lines.push(`vmenter npt=on ncr3=0x${(0x5000 + 0x1000 * next(3)).toString(16)} cr3=0x9000`);
      inL2[v] = !inL2[v];
    } else if (r < 16 && !inSmm[v]) {
      lines.push(next(4) ? 'invpcid all' : cpuid);
    } else if (r < 17 && opts.nested && !inSmm[v] && !inL2[v]) {
      // VMX operation (free_nested, nested_release_vmcs12) and the SVM GIF, each from L1 only.
      const w = next(4);
      if (opts.vendor === 'amd') lines.push(w < 2 ? 'clgi' : 'stgi');
      else if (!vmxon[v]) {
        lines.push('vmxon');
        [vmxon[v], vmcs[v]] = [true, null];
      } else if (w === 0) {
        lines.push('vmxoff');
        [vmxon[v], vmcs[v]] = [false, null];
      } else {
        const ptr = next(2) ? '0x7000' : '0x8000';
        lines.push(`${w === 1 ? 'vmclear' : 'vmptrld'} ${ptr}`);
        if (w !== 1) vmcs[v] = ptr;
        else if (vmcs[v] === ptr) vmcs[v] = null;
      }
    } else if (r < 18) {
      // The shadow-page budget and the other all-roots invalidations (issue 19, items 4 and 5).
      const w = next(4);
      if (w === 0) lines.push(`nr_mmu_pages ${64 + next(8)}`);
      else if (w === 1) lines.push(next(2) ? 'nx_huge_pages on' : 'nx_huge_pages off');
      else if (w === 2) lines.push('mmio_gen wrap');
      else if (!inSmm[v]) lines.push(next(2) ? 'cr0 |= CD' : 'cr0 &= ~CD');
      else lines.push('run');
    } else if (r < 19 && !inSmm[v]) {
      // An emulated write to a frame the CR3 switches above use as a page table (or the nested EPTP/nCR3
      // tables): aligned, misaligned or short; three in a row flood a shadow page.
      const frame = 0x1000 * (1 + next(6)) + (opts.nested && next(2) ? 0x4000 : 0);
      const times = next(3) === 0 ? 3 : 1;
      for (let t = 0; t < times; t++) {
        // Three in a row are aligned 8-byte entries (they flood); a single write may be short or misaligned.
        const bytes = times === 3 ? 8 : [1, 2, 4, 8, 8, 8][next(6)]!;
        const offset = times === 3 || next(4) ? 8 * next(512) : next(4096);
        lines.push(`emulate write 0x${(frame + offset).toString(16)} ${bytes}`);
      }
    } else {
      lines.push('run');
    }
  }
  lines.push('destroy vm');
  return lines.join('\n') + '\n';
}

const VMS = [
  { vm: 'vendor=intel tdp=on tdp_mmu=on vcpus=2 nested=on', nested: true, vendor: 'intel' as const },
  { vm: 'vendor=amd tdp=on tdp_mmu=on vcpus=2 nested=on', nested: true, vendor: 'amd' as const },
  { vm: 'vendor=intel tdp=on tdp_mmu=off vcpus=2', nested: false, vendor: 'intel' as const },
  { vm: 'vendor=intel tdp=off vcpus=2', nested: false, vendor: 'intel' as const },
  { vm: 'vendor=intel tdp=off vcpus=2 memory=slots', nested: false, vendor: 'intel' as const, layout: true },
  {
    vm: 'vendor=amd tdp=off vcpus=2 memory=slots',
    nested: false,
    vendor: 'amd' as const,
    layout: true,
    pae: true,
  },
  {
    vm: 'vendor=intel tdp=on vcpus=2 nested=on memory=slots slot_zap_all=off',
    nested: true,
    vendor: 'intel' as const,
    layout: true,
  },
  { vm: 'vendor=intel tdp=off vcpus=2 noncoherent_dma=on cd_nw_cleared=off', nested: false, vendor: 'intel' as const },
];

/** Every kernel spec the property covers: each profile, and each single modification that could exist. */
function kernels(): string[] {
  const out: string[] = [];
  for (const p of PROFILES) {
    if (p.name === 'latest') continue;
    out.push(p.name);
    for (const b of BEHAVIOURS) {
      const add = !p.behaviours.includes(b.name);
      const r = checkKernel(findProfile(p.name)!, add ? [b.name] : [], add ? [] : [b.name]);
      if (r.conflicts.length === 0) out.push(kernelSpec(p.name, add ? [b.name] : [], add ? [] : [b.name]));
    }
  }
  return out;
}

/** Action kinds seen across every checked scenario: the generator must reach the interesting paths. */
const counts = new Map<string, number>();

function checkInvariants(text: string, kernel: string): ReturnType<typeof analyze> {
  const a = analyze(text, { kernelOverride: kernel });
  assert.equal(a.kernel.label, kernel);
  const errors = a.diagnostics.filter((d) => d.severity === 'error' && d.code !== 'gp');
  assert.deepEqual(
    errors.map((d) => `${d.span.line + 1}: ${d.message}`),
    [],
    kernel,
  );
  const freed = new Map<number, number>();
  for (const step of a.steps) {
    for (const act of step.result.actions) {
      counts.set(act.op, (counts.get(act.op) ?? 0) + 1);
      if (act.write) counts.set(`pte_write:${act.write}`, (counts.get(`pte_write:${act.write}`) ?? 0) + 1);
      if (act.op === 'warn')
        assert.doesNotMatch(act.detail, /underflow|second time|root_count is already 0/, `${kernel} line ${step.line}`);
      if (act.op === 'free' && act.root !== undefined) {
        const n = (freed.get(act.root) ?? 0) + 1;
        freed.set(act.root, n);
        assert.equal(n, 1, `${kernel} line ${step.line}: root #${act.root} freed twice`);
      }
    }
    const snap = a.stateAt(step.line);
    // n_used_mmu_pages counts the shadow pages not yet freed: here, exactly the live non-TDP-MMU roots.
    assert.equal(
      snap.mmuPages?.used,
      snap.roots.filter((r) => r.state !== 'freed' && r.kind !== 'tdp_mmu').length,
      `${kernel} line ${step.line}: n_used_mmu_pages`,
    );
    for (const r of snap.roots) {
      const where = `${kernel} line ${step.line} root #${r.id}`;
      assert.ok(r.refcount >= 0, `${where}: refcount ${r.refcount}`);
      if (r.state === 'freed') continue;
      assert.equal(r.holders.length, r.refcount, `${where}: holders ${r.holders.join(',')} vs refcount ${r.refcount}`);
      assert.ok(
        r.holders.length > 0 || r.state === 'invalid' || r.obsolete || r.kind !== 'tdp_mmu',
        `${where}: unreachable and valid`,
      );
    }
  }
  return a;
}

describe('kernel: refcounts behave like refcount_t under every kernel that could exist (property)', function () {
  this.timeout(120_000);
  const specs = kernels();

  it(`covers every profile and every valid single modification (${specs.length} kernels)`, () => {
    assert.ok(specs.length > 200);
  });

  it('refcounts ≥ 0, each root freed at most once, holders = refcount, live roots held or invalid', () => {
    let scenarios = 0;
    specs.forEach((spec, i) => {
      const vm = VMS[i % VMS.length]!;
      const body = generateBody(1000 + i, 40, vm);
      checkInvariants(`vm ${vm.vm}\n${body}`, spec);
      scenarios++;
    });
    assert.equal(scenarios, specs.length);
    for (const op of ['alloc', 'reuse', 'cache_hit', 'put', 'free', 'invalidate', 'unload', 'dummy_root'])
      assert.ok((counts.get(op) ?? 0) > 20, `${op}: ${counts.get(op) ?? 0}`);
    // Emulated writes reach every outcome: an entry zapped, a misaligned write and write flooding.
    for (const w of ['pte', 'misaligned', 'flooded'])
      assert.ok((counts.get(`pte_write:${w}`) ?? 0) > 5, `pte_write ${w}: ${counts.get(`pte_write:${w}`) ?? 0}`);
  });

  it('under a shadow-page limit, recycling never takes a held root and keeps what is free at KVM_REFILL_PAGES', () => {
    // PAE guests under shadow paging, 40 CR3s (4 pages each), a limit of 64…80: recycling happens on every profile.
    let recycledSteps = 0;
    for (const p of PROFILES) {
      if (p.name === 'latest') continue;
      for (const seed of [1, 2]) {
        let x = seed * 7919 + p.name.length;
        const next = (n: number): number => {
          x = (Math.imul(x, 1103515245) + 12345) >>> 0;
          return (x >>> 16) % n;
        };
        const lines = ['vm vendor=intel tdp=off vcpus=2', `nr_mmu_pages ${64 + next(17)}`];
        for (const v of [0, 1]) lines.push(`vcpu ${v}`, 'sregs cr0=PE|ET|PG|WP cr4=PAE cr3=0x1000', 'run');
        for (let i = 0; i < 60; i++) {
          const r = next(10);
          lines.push(`vcpu ${next(2)}`);
          if (r < 7) lines.push(`cr3 = 0x${(0x1000 * (1 + next(40))).toString(16)}`, 'run');
          else if (r < 8) lines.push(`nr_mmu_pages ${64 + next(17)}`);
          else if (r < 9) lines.push('smi', 'run', 'rsm', 'run');
          else lines.push('nx_huge_pages on', 'run', 'nx_huge_pages off', 'run');
        }
        const text = lines.join('\n') + '\n';
        const a = checkInvariants(text, p.name);
        for (const step of a.steps) {
          const recycled = step.result.actions.filter(
            (act) => act.op === 'zap' && act.path.includes('kvm_mmu_zap_oldest_mmu_pages'),
          );
          if (recycled.length === 0) continue;
          recycledSteps++;
          const before = a.stateAt(step.line - 1);
          const after = a.stateAt(step.line);
          for (const act of recycled) {
            const r = before.roots.find((x) => x.id === act.root)!;
            assert.equal(r.refcount, 0, `${p.name} line ${step.line}: recycled root #${act.root} was held`);
            assert.equal(after.roots.find((x) => x.id === act.root)!.state, 'freed');
          }
          // A root load recycles up to KVM_REFILL_PAGES free (25), less only when held roots are in the way.
          const max = after.mmuPages!.max!;
          const used = after.mmuPages!.used;
          const held = after.roots.filter((r) => r.state !== 'freed' && r.refcount > 0).length;
          if (step.statement.op.op === 'run')
            assert.ok(max - (used - 4) >= 25 || used - 4 <= held, `${p.name} line ${step.line}: ${used}/${max}`);
        }
      }
    }
    assert.ok(recycledSteps >= 5, `recycling happened on ${recycledSteps} steps`);
  });

  it('the example that used to free a root twice is refused, and its fix keeps refcounts sane', () => {
    const text =
      'vm vendor=intel tdp=on tdp_mmu=on vcpus=1\nsregs cr0=PE|ET|PG|WP cr4=PAE efer=LME|LMA|NX cr3=0x1000\nrun\nsmi\nrun\nrsm\nrun\nmemslot delete 1\nrun\ndestroy vm\n';
    const refused = analyze(`kernel v6.6 -tdp_mmu_root_ref\n${text}`);
    assert.ok(
      refused.diagnostics.some((d) => d.code === 'impossible-kernel' && /sync_invalidated_zap/.test(d.message)),
    );
    checkInvariants(text, 'v6.6 +async_root_zap -tdp_mmu_root_ref -sync_invalidated_zap');
  });
});

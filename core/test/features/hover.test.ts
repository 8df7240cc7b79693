import { strict as assert } from 'node:assert';
import { analyze } from '../../src/engine/analyze.js';
import { hover, keywordDoc } from '../../src/features/hover.js';
import { kernelFor } from '../../src/kernel/behaviours.js';
import { act, fakeAnalysis, ok, root, snapshot, vcpu } from './fake_analysis.js';

/** `^` in the fixture marks the cursor; returns the text without it and the position. */
function cursor(fixture: string): { text: string; line: number; character: number } {
  const lines = fixture.split('\n');
  const line = lines.findIndex((l) => l.includes('^'));
  const character = lines[line]?.indexOf('^') ?? -1;
  return { text: fixture.replace('^', ''), line, character };
}

function hoverAt(fixture: string, o: Parameters<typeof fakeAnalysis>[1] = {}): string | undefined {
  const c = cursor(fixture);
  return hover(fakeAnalysis(c.text, o), c.line, c.character)?.markdown;
}

describe('features/hover', () => {
  it('shows a statement outcome with roles before/after, refcounts and linked call paths', () => {
    const before = snapshot([root(1)], [vcpu(0, 1)]);
    const after = snapshot([root(1), root(2, { role: '0x01000784', smm: true })], [vcpu(0, 2)]);
    const md = hoverAt('kernel v6.4\nrun\ns^mi', {
      steps: {
        1: ok([]),
        2: ok(
          [
            act('put', {
              root: 1,
              refcount: [2, 1],
              path: ['kvm_smm_changed', 'kvm_mmu_reset_context', 'kvm_mmu_unload'],
            }),
            act('alloc', { root: 2, role: '0x01000784', refcount: [0, 2] }),
          ],
          'SMI: unload #1',
        ),
      },
      states: { 1: before, 2: after },
    });
    assert.ok(md);
    assert.match(md, /\*\*smi\*\* on vCPU 0/);
    // The outcome in the words the hint, the CLI and the panel use, not the model's summary.
    assert.match(md, /→ put #1 rc 2→1, alloc #2 4-level direct SMM rc 2/);
    assert.doesNotMatch(md, /SMI: unload #1/);
    assert.match(md, /\| \*\*root_mmu\*\* \(active\) \| before \| after \|/);
    assert.match(md, /\| root \| #1 \| #2 \|/);
    assert.match(md, /`put #1 rc 2→1`/);
    assert.match(
      md,
      /\[`kvm_mmu_reset_context`\]\(https:\/\/elixir\.bootlin\.com\/linux\/v6\.4\/C\/ident\/kvm_mmu_reset_context\)/,
    );
  });

  it('shows a dummy root as such; a pdpt write changes no root; documents memory=', () => {
    const text =
      'kernel v6.6\nvm tdp=off memory=slots\nmemslot create 0 gfn=0 pages=0x10\nsregs cr0=PE|ET|PG|WP cr4=PAE efer=LME|LMA|NX cr3=0x200000\nrun\npdpt 0x1000 = 0x2001 0 0 0';
    const a = analyze(text);
    const md = hover(a, 4, 1)?.markdown ?? '';
    assert.match(md, /dummy root \(zero page: guest root outside every memslot\)/);
    assert.match(md, /→ dummy root, #PF/);
    assert.match(hover(a, 5, 1)?.markdown ?? '', /\*\*pdpt\*\* on vCPU 0[^]*→ no MMU change/);
    assert.match(hover(a, 1, 19)?.markdown ?? '', /only the gfn ranges of the memslots/);
  });

  it('says what an emulated write did to the shadow pages of the written frame', () => {
    const text = [
      'kernel v6.1',
      'vm tdp=off',
      'sregs cr0=PE|PG|WP cr4=PAE efer=LME|LMA cr3=0x1000',
      'run',
      'emulate write 0x1008 8',
      'emulate write 0x1004 8',
    ].join('\n');
    const a = analyze(text);
    const aligned = hover(a, 4, 10)?.markdown ?? '';
    assert.match(aligned, /\*\*write\*\* on vCPU 0/);
    assert.match(aligned, /→ pte write #1 flooding 1/);
    assert.match(aligned, /kvm_mmu_pte_write/);
    const misaligned = hover(a, 5, 10)?.markdown ?? '';
    assert.match(misaligned, /→ misaligned write #1, zap #1, invalidate #1/);
    assert.match(misaligned, /KVM_REQ_MMU_FREE_OBSOLETE_ROOTS/);
    assert.match(keywordDoc('write') ?? '', /emulate write GPA BYTES/);
  });

  it('links `latest` to the newest profile version', () => {
    const md = hoverAt('kernel latest\nru^n', {
      kernel: kernelFor('latest'),
      steps: { 1: ok([act('alloc', { root: 1, path: ['kvm_mmu_load'] })]) },
    });
    assert.match(md ?? '', /elixir\.bootlin\.com\/linux\/v6\.18\/C\/ident\/kvm_mmu_load/);
  });

  it('decodes a role word field by field in the kernel layout', () => {
    const v64 = hoverAt('decode role 0x01000^784');
    assert.match(v64 ?? '', /\| 24–31 \| `smm` \| 1 \|/);
    assert.match(v64 ?? '', /\| 0–3 \| `level` \| 4 \|/);
    assert.match(v64 ?? '', /\| 4 \| `has_4_byte_gpte` \|/);
    const v515 = hoverAt('decode role 0x01000^784', { kernel: kernelFor('v5.15') });
    assert.match(v515 ?? '', /`gpte_is_8_bytes`/);
    assert.doesNotMatch(v515 ?? '', /passthrough/);
  });

  it('decodes a cpu role into base and ext', () => {
    const md = hoverAt('decode cpu_role 0x000000^8100000784');
    assert.match(md ?? '', /\*\*base\*\*/);
    assert.match(md ?? '', /\*\*ext\*\*/);
    assert.match(md ?? '', /`efer_lma` \| 1 \|/);
  });

  it('says whether a flag is a role bit on this kernel', () => {
    assert.match(hoverAt('cr0 = PE|P^G') ?? '', /CR0\.PG\*\* — Paging \(bit 31.*\*\*is an MMU role bit\*\*/s);
    assert.match(hoverAt('cr4 |= ^TSD') ?? '', /CR4\.TSD.*\*\*not\*\* an MMU role bit/s);
    assert.match(hoverAt('sregs cr0=PE efer=L^ME') ?? '', /EFER\.LME/);
  });

  it('describes profiles and behaviours with their commits', () => {
    const profile = hoverAt('kernel v6^.4 +invalidated_roots_off_list');
    assert.match(profile ?? '', /Kernel v6\.4/);
    assert.match(profile ?? '', /tdp_mmu_root_ref/);
    assert.match(profile ?? '', /Mainline versions, not stable backports/);
    const b = hoverAt('kernel v6.3 +tdp_mmu_r^oot_ref', { kernel: kernelFor('v6.3') });
    assert.match(b ?? '', /edbdb43fc96b/);
    assert.match(b ?? '', /v6\.3 does not have it; this line adds it/);
  });

  it('shows a root mentioned in a comment', () => {
    const md = hoverAt('run  # allocates #^1', {
      steps: { 0: ok([]) },
      states: { 0: snapshot([root(1, { refcount: 2, holders: ['tdp_mmu', 'vcpu0.root_mmu.root'] })], [vcpu(0, 1)]) },
    });
    assert.match(md ?? '', /Root #1\*\* — tdp_mmu · valid/);
    assert.match(md ?? '', /refcount 2/);
  });

  it('decodes a role word named in a comment', () => {
    assert.match(hoverAt('run  # root_role 0x0100^0784') ?? '', /`smm` \| 1/);
    assert.equal(hoverAt('run  # at gpa 0x10^00'), undefined);
  });

  it('has nothing to say about comments, blank lines or lines past the end', () => {
    const a = fakeAnalysis('# just a comment\n\nrun');
    assert.equal(hover(a, 0, 4), null);
    assert.equal(hover(a, 1, 0), null);
    assert.equal(hover(a, 99, 0), null);
    assert.equal(hover(a, -1, 0), null);
  });
});

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BEHAVIOURS, type BehaviourName, findProfile, makeKernel, PROFILES } from '../../src/kernel/behaviours.js';
import { describeEras, resolveEras, SUBSYSTEMS } from '../../src/kernel/eras.js';
import { checkKernel, conflictsOf } from '../../src/kernel/resolve.js';
import { checkScenario as check } from '../../src/syntax/check.js';
import { parse } from '../../src/syntax/parser.js';

/** Every profile and every single `+`/`-` it can take. */
function singleMods(): { profile: string; added: BehaviourName[]; removed: BehaviourName[] }[] {
  const out: { profile: string; added: BehaviourName[]; removed: BehaviourName[] }[] = [];
  for (const p of PROFILES) {
    for (const b of BEHAVIOURS) {
      if (p.behaviours.includes(b.name)) out.push({ profile: p.name, added: [], removed: [b.name] });
      else out.push({ profile: p.name, added: [b.name], removed: [] });
    }
  }
  return out;
}

describe('kernel/resolve: kernels that could exist', () => {
  it('every profile is a kernel that could exist', () => {
    for (const p of PROFILES) {
      assert.deepEqual(checkKernel(p, [], []).conflicts, [], p.name);
    }
  });

  it('v6.6 -tdp_mmu_root_ref: names sync_invalidated_zap and offers the revert chain that brings the worker back', () => {
    const r = checkKernel(findProfile('v6.6')!, [], ['tdp_mmu_root_ref']);
    assert.deepEqual(
      r.conflicts.map((c) => `${c.behaviour} ${c.kind} ${c.other}`),
      ['sync_invalidated_zap requires tdp_mmu_root_ref'],
    );
    assert.deepEqual(r.fix, { added: ['async_root_zap'], removed: ['tdp_mmu_root_ref', 'sync_invalidated_zap'] });
  });

  it('v6.12 -tdp_mmu_root_ref also reverts kvm_tdp_mmu_alloc_root (dab285e4ec73), built on it', () => {
    const r = checkKernel(findProfile('v6.12')!, [], ['tdp_mmu_root_ref']);
    assert.deepEqual(r.fix?.removed, ['tdp_mmu_root_ref', 'sync_invalidated_zap', 'tdp_mmu_alloc_root']);
    assert.deepEqual(r.fix?.added, ['async_root_zap']);
  });

  it('v6.1 +sync_invalidated_zap brings in edbdb43f and drops the worker it replaced', () => {
    const r = checkKernel(findProfile('v6.1')!, ['sync_invalidated_zap'], []);
    assert.deepEqual(r.fix, { added: ['tdp_mmu_root_ref', 'sync_invalidated_zap'], removed: ['async_root_zap'] });
  });

  it('v6.3 +tdp_mmu_root_ref (what 6.3.8 carries) is valid; a what-if that declares nothing stays possible', () => {
    assert.deepEqual(checkKernel(findProfile('v6.3')!, ['tdp_mmu_root_ref'], []).conflicts, []);
    assert.deepEqual(checkKernel(findProfile('v6.1')!, ['invalidated_roots_off_list'], []).conflicts, []);
  });

  it('asking for the worker on v6.6 reverts the rework that replaced it; asking for both sides has no fix', () => {
    const r = checkKernel(findProfile('v6.1')!, ['sync_invalidated_zap', 'tdp_mmu_root_ref'], ['async_root_zap']);
    assert.deepEqual(r.conflicts, []);
    const both = checkKernel(findProfile('v6.1')!, ['cr0_wp_nonpaging_ignored'], ['cr0_wp_fast_path']);
    assert.equal(both.conflicts.length, 1);
    assert.equal(both.fix, undefined);
    const clash = checkKernel(findProfile('v6.6')!, ['async_root_zap'], []);
    assert.deepEqual(
      clash.conflicts.map((c) => c.kind),
      ['replaces'],
    );
    // The user asked for the worker on a kernel that replaced it: the fix reverts the replacement.
    assert.deepEqual(clash.fix, { added: ['async_root_zap'], removed: ['sync_invalidated_zap'] });
  });

  it('every single modification of every profile is valid or has a valid fix that keeps it', () => {
    let invalid = 0;
    for (const m of singleMods()) {
      const p = findProfile(m.profile)!;
      const r = checkKernel(p, m.added, m.removed);
      if (r.conflicts.length === 0) continue;
      invalid++;
      assert.ok(
        r.fix,
        `${m.profile} ${[...m.added.map((a) => '+' + a), ...m.removed.map((a) => '-' + a)].join(' ')}: no fix`,
      );
      const k = makeKernel(p, r.fix.added, r.fix.removed);
      assert.deepEqual(conflictsOf(new Set(k.behaviours)), [], 'the fix is itself valid');
      for (const a of m.added) assert.ok(k.has(a), `the fix keeps +${a}`);
      for (const d of m.removed) assert.ok(!k.has(d), `the fix keeps -${d}`);
    }
    assert.ok(invalid > 10, `some single modifications conflict (${invalid})`);
  });

  it('a kernel line that cannot exist gets an error on line 1 with the fix as a quick fix, and runs the plain profile', () => {
    const text = 'kernel v6.6 -tdp_mmu_root_ref\nvm vendor=amd tdp=on tdp_mmu=on vcpus=1\n';
    const r = check(parse(text));
    const d = r.diagnostics.find((x: { code: string }) => x.code === 'impossible-kernel');
    assert.ok(d);
    assert.equal(d.span.line, 0);
    assert.equal(d.span.start, 7);
    assert.equal(d.span.end, text.indexOf('\n'));
    assert.match(d.message, /sync_invalidated_zap \(0df9dab891ff\) builds on tdp_mmu_root_ref \(edbdb43fc96b\)/);
    assert.equal(d.fix?.edits[0]?.newText, 'v6.6 +async_root_zap -tdp_mmu_root_ref -sync_invalidated_zap');
    assert.equal(r.kernel.label, 'v6.6');
    const fixed = check(parse(`kernel ${d.fix.edits[0].newText}\n`));
    assert.deepEqual(fixed.diagnostics, []);
    assert.equal(fixed.kernel.eras.tdp_roots, 'async_zap');
  });
});

describe('kernel/eras: resolved once per subsystem', () => {
  it('mainline profiles land in the eras their versions had', () => {
    const eras = (n: string): string => {
      const e = makeKernel(findProfile(n)!).eras;
      return `${e.tdp_roots} ${e.roles} ${e.prev_roots} ${e.pcid}`;
    };
    assert.equal(eras('v5.15'), 'vcpu_refs mmu_role_8_byte_gpte base_role pcid0_wipes_prev_roots');
    assert.equal(eras('v5.17'), 'vcpu_refs mmu_role_4_byte_gpte base_role pcide_reload');
    assert.equal(eras('v6.3'), 'async_zap cpu_role_split root_role_without_current flush_requests');
    assert.equal(eras('v6.4'), 'async_zap_own_ref cpu_role_split root_role_without_current flush_requests');
    assert.equal(eras('v6.6'), 'sync_zap_own_ref cpu_role_split root_role_without_current flush_requests');
    assert.equal(eras('v6.1.y'), 'sync_zap_own_ref cpu_role_split root_role_without_current flush_requests');
  });

  it('every era has a name a KVM developer can read, and no "E1…E5"', () => {
    for (const s of Object.values(SUBSYSTEMS)) {
      for (const info of Object.values(s.eras) as { name: string; short: string }[]) {
        assert.ok(info.name.length > 20 && info.short.length > 2);
        assert.doesNotMatch(info.name + info.short, /\bE[1-5]\b/);
      }
    }
    const d = describeEras(resolveEras(() => false));
    assert.equal(d.length, Object.keys(SUBSYSTEMS).length);
  });
});

describe('kernel/behaviours: the table is what the model consults', () => {
  const modelDir = join(__dirname, '../../src/kvm');
  const model = readdirSync(modelDir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(modelDir, f), 'utf8'))
    .join('\n');
  const eras = readFileSync(join(__dirname, '../../src/kernel/eras.ts'), 'utf8');
  const roles = ['role_layout.ts', 'regs.ts']
    .map((f) => readFileSync(join(__dirname, '../../src/kernel', f), 'utf8'))
    .join('\n');

  it('every behaviour is consulted by the model (or its eras or role layouts) unless marked not modelled', () => {
    for (const b of BEHAVIOURS) {
      const used = [model, eras, roles].some((src) => src.includes(`'${b.name}'`));
      if (b.notModelled) assert.ok(!used, `${b.name} is marked not modelled but the model consults it`);
      else assert.ok(used, `${b.name} is in the table but nothing consults it (mark it notModelled)`);
    }
  });

  it('relations name real entries and never the behaviour itself', () => {
    for (const b of BEHAVIOURS) {
      for (const r of [...(b.requires ?? []), ...(b.replaces ?? []), ...(b.excludes ?? [])]) {
        assert.ok(BEHAVIOURS.some((x) => x.name === r));
        assert.notEqual(r, b.name);
      }
    }
  });

  it('shipped citations point at kernel sources, not at documents outside the repository', () => {
    for (const b of BEHAVIOURS) {
      for (const text of [b.title, b.description, b.source, b.stable ?? '', b.notModelled ?? '']) {
        assert.doesNotMatch(text, /facts §|SPEC §|facts\.md|\bseed \d/i, b.name);
      }
    }
  });

  it('stable profiles are their base plus the listed backports (minus what those replaced)', () => {
    for (const p of PROFILES.filter((x) => x.stable)) {
      const base = findProfile(p.stable!.base)!;
      for (const bp of p.stable!.backports) assert.ok(p.behaviours.includes(bp.behaviour), `${p.name} ${bp.behaviour}`);
      for (const b of base.behaviours) {
        if (!p.behaviours.includes(b))
          assert.ok(
            p.stable!.backports.some((bp) => BEHAVIOURS.find((x) => x.name === bp.behaviour)!.replaces?.includes(b)),
            `${p.name} lost ${b} without a backport replacing it`,
          );
      }
    }
  });
});

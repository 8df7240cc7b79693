import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeOffsets } from '../../src/real/btf.js';
import { captureCommands, kprobeDefinitions } from '../../src/real/probes.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const pahole = (v: string): string => readFileSync(join(fixtures, `pahole-${v}.txt`), 'utf8');

describe('real: struct offsets from BTF (pahole output of Debian kernels)', () => {
  it('6.1.192: kvm_mmu.root at 56, so root.hpa at 64; root_role at 80', () => {
    const o = probeOffsets(pahole('6.1.192'));
    assert.ok(!('missing' in o));
    assert.deepEqual(o, {
      vcpuMmu: 672,
      mmuRootHpa: 64,
      mmuRootRole: 80,
      mmuPrevHpa: [96, 112, 128],
      spRole: 36,
      spGfn: 40,
      spRootCount: 64,
    });
  });

  it('6.12.117: kvm_mmu.root at 48 (real-kvm.md), every later field moves with it', () => {
    const o = probeOffsets(pahole('6.12.117'));
    assert.ok(!('missing' in o));
    assert.equal(o.mmuRootHpa, 56);
    assert.equal(o.mmuRootRole, 72);
    assert.deepEqual(o.mmuPrevHpa, [88, 104, 120]);
  });

  it('names what pahole output lacks', () => {
    assert.deepEqual(probeOffsets('struct kvm_mmu {\n};\n'), { missing: 'kvm_vcpu.arch' });
  });

  it('kprobe definitions fetch through the offsets; capture commands define and enable them', () => {
    const o = probeOffsets(pahole('6.1.192'));
    assert.ok(!('missing' in o));
    const defs = kprobeDefinitions(o);
    assert.ok(defs.includes('p:kvmmu/tdp_get kvm_tdp_mmu_get_vcpu_root_hpa role=+80(+672(%di)):x32'));
    assert.ok(defs.some((d) => d.startsWith('p:kvmmu/tdp_put kvm_tdp_mmu_put_root sp=%si:x64 role=+36(%si):x32')));
    const cmds = captureCommands(o).join('\n');
    assert.match(cmds, /kprobe_events/);
    assert.match(cmds, /events\/kvmmu\/enable/);
  });
});

import assert from 'node:assert/strict';
import { findProfile, kernelFor, makeKernel } from '../../src/kernel/behaviours.js';
import {
  decodeCpuRole,
  decodePageRole,
  extRoleLayout,
  formatCpuRole,
  formatRole,
  getExtField,
  getRoleField,
  pageRoleLayout,
  roleHas4ByteGpte,
  setRole4ByteGpte,
  setRoleField,
  summarizePageRole,
  type PageRoleField,
} from '../../src/kernel/role_layout.js';

const v5_15 = kernelFor('v5.15');
const v5_17 = kernelFor('v5.17');
const v6_1 = kernelFor('v6.1');
const v6_4 = kernelFor('v6.4');
const v6_12 = kernelFor('v6.12');
const v6_18 = kernelFor('v6.18');

const positions = (layout: readonly { name: string; lsb: number; width: number }[]) =>
  Object.fromEntries(layout.map((f) => [f.name, [f.lsb, f.width]]));

describe('kvm_mmu_page_role layout per era (facts §1.1)', () => {
  it('v5.15: bit 4 is gpte_is_8_bytes, no passthrough/is_mirror, smm in the top byte', () => {
    assert.deepEqual(positions(pageRoleLayout(v5_15)), {
      level: [0, 4],
      gpte_is_8_bytes: [4, 1],
      quadrant: [5, 2],
      direct: [7, 1],
      access: [8, 3],
      invalid: [11, 1],
      efer_nx: [12, 1],
      cr0_wp: [13, 1],
      smep_andnot_wp: [14, 1],
      smap_andnot_wp: [15, 1],
      ad_disabled: [16, 1],
      guest_mode: [17, 1],
      smm: [24, 8],
    });
  });

  it('v5.17: bit 4 renamed to has_4_byte_gpte, still no passthrough', () => {
    const p = positions(pageRoleLayout(v5_17));
    assert.deepEqual(p['has_4_byte_gpte'], [4, 1]);
    assert.equal(p['gpte_is_8_bytes'], undefined);
    assert.equal(p['passthrough'], undefined);
  });

  it('v6.1/v6.12: passthrough at bit 18, no is_mirror', () => {
    for (const k of [v6_1, v6_12]) {
      const p = positions(pageRoleLayout(k));
      assert.deepEqual(p['passthrough'], [18, 1]);
      assert.equal(p['is_mirror'], undefined);
    }
  });

  it('v6.18: is_mirror at bit 19', () => {
    const p = positions(pageRoleLayout(v6_18));
    assert.deepEqual(p['passthrough'], [18, 1]);
    assert.deepEqual(p['is_mirror'], [19, 1]);
    assert.deepEqual(p['smm'], [24, 8]);
  });

  it('fields never overlap and fit in 32 bits', () => {
    for (const k of [v5_15, v5_17, v6_1, v6_18]) {
      let used = 0;
      for (const f of pageRoleLayout(k)) {
        const m = (((2 ** f.width - 1) * 2 ** f.lsb) >>> 0) >>> 0;
        assert.equal((used & m) >>> 0, 0, `${k.label} ${f.name} overlaps`);
        used = (used | m) >>> 0;
        assert.ok(f.lsb + f.width <= 32);
        assert.ok(f.doc.length > 0 && !f.doc.includes('\n'));
      }
    }
  });

  it('is resolved once per kernel, the same for kernels of one layout variant', () => {
    assert.equal(pageRoleLayout(v6_1), pageRoleLayout(v6_1));
    assert.deepEqual(pageRoleLayout(v6_1), pageRoleLayout(kernelFor('v6.4')));
    assert.notDeepEqual(pageRoleLayout(v6_1), pageRoleLayout(v6_18));
    // A `+is_mirror_role` kernel has the v6.18 layout.
    const p = findProfile('v6.12');
    assert.ok(p);
    assert.deepEqual(pageRoleLayout(makeKernel(p, ['is_mirror_role'])), pageRoleLayout(v6_18));
  });
});

describe('kvm_mmu_extended_role layout per era (facts §1.2)', () => {
  it('v5.15.0: cr0_pg/cr4_pae present, no efer_lma', () => {
    assert.deepEqual(positions(extRoleLayout(v5_15)), {
      valid: [0, 1],
      execonly: [1, 1],
      cr0_pg: [2, 1],
      cr4_pae: [3, 1],
      cr4_pse: [4, 1],
      cr4_pke: [5, 1],
      cr4_smap: [6, 1],
      cr4_smep: [7, 1],
      cr4_la57: [8, 1],
    });
  });

  it('v5.17: efer_lma at bit 9', () => {
    assert.deepEqual(positions(extRoleLayout(v5_17))['efer_lma'], [9, 1]);
    assert.deepEqual(positions(extRoleLayout(v5_17))['cr0_pg'], [2, 1]);
  });

  it('v6.1+: cr0_pg/cr4_pae gone, efer_lma at bit 7', () => {
    for (const k of [v6_1, v6_4, v6_18]) {
      assert.deepEqual(positions(extRoleLayout(k)), {
        valid: [0, 1],
        execonly: [1, 1],
        cr4_pse: [2, 1],
        cr4_pke: [3, 1],
        cr4_smap: [4, 1],
        cr4_smep: [5, 1],
        cr4_la57: [6, 1],
        efer_lma: [7, 1],
      });
    }
  });

  it('getExtField reads the era position and 0 for absent fields', () => {
    assert.equal(getExtField(v5_17, 1 << 9, 'efer_lma'), 1);
    assert.equal(getExtField(v5_15, 1 << 9, 'efer_lma'), 0);
    assert.equal(getExtField(v6_1, 1 << 7, 'efer_lma'), 1);
    assert.equal(getExtField(v6_1, 1 << 7, 'cr4_smep'), 0);
    assert.equal(getExtField(v5_15, 1 << 7, 'cr4_smep'), 1);
    assert.equal(getExtField(v6_1, 0xffffffff, 'cr0_pg'), 0);
  });
});

describe('decoding role words', () => {
  it('the issue example 0x01003784 under v6.4 is a 4-level direct SMM TDP root, exactly', () => {
    const d = decodePageRole(v6_4, 0x01003784);
    const values = Object.fromEntries(d.fields.map((f) => [f.name, f.value]));
    assert.deepEqual(values, {
      level: 4,
      has_4_byte_gpte: 0,
      quadrant: 0,
      direct: 1,
      access: 7, // bits 8, 9, 10
      invalid: 0,
      efer_nx: 1,
      cr0_wp: 1,
      smep_andnot_wp: 0,
      smap_andnot_wp: 0,
      ad_disabled: 0,
      guest_mode: 0,
      passthrough: 0,
      smm: 1,
    });
    assert.equal(d.unknownBits, 0);
    assert.equal(summarizePageRole(v6_4, 0x01003784), '4-level direct SMM');
  });

  it('under v5.15 bit 4 is gpte_is_8_bytes (the same word means 8-byte gptes)', () => {
    const w = 0x00003794; // level 4, bit 4, direct, access 7, nx, wp
    const d15 = Object.fromEntries(decodePageRole(v5_15, w).fields.map((f) => [f.name, f.value]));
    const d17 = Object.fromEntries(decodePageRole(v5_17, w).fields.map((f) => [f.name, f.value]));
    assert.equal(d15['gpte_is_8_bytes'], 1);
    assert.equal(d15['has_4_byte_gpte'], undefined);
    assert.equal(d17['has_4_byte_gpte'], 1);
    assert.equal(roleHas4ByteGpte(v5_15, w), false);
    assert.equal(roleHas4ByteGpte(v5_17, w), true);
  });

  it('padding bits are reported as unknown, per era', () => {
    // Bit 18 is padding before passthrough_role, bit 19 before is_mirror_role, bits 20-23 always.
    assert.equal(decodePageRole(v5_17, 1 << 18).unknownBits, 1 << 18);
    assert.equal(decodePageRole(v6_1, 1 << 18).unknownBits, 0);
    assert.equal(decodePageRole(v6_12, 1 << 19).unknownBits, 1 << 19);
    assert.equal(decodePageRole(v6_18, 1 << 19).unknownBits, 0);
    assert.equal(decodePageRole(v6_18, 0x00f00000).unknownBits, 0x00f00000);
  });

  it('decodeCpuRole keeps base in the low 32 bits and ext in the high 32 bits', () => {
    const d = decodeCpuRole(v6_1, 0x000000c1_01003784n);
    assert.equal(d.base.fields.find((f) => f.name === 'smm')?.value, 1);
    const ext = Object.fromEntries(d.ext.fields.map((f) => [f.name, f.value]));
    assert.equal(ext['valid'], 1);
    assert.equal(ext['cr4_la57'], 1);
    assert.equal(ext['efer_lma'], 1);
    assert.equal(ext['execonly'], 0);
    assert.equal(d.ext.unknownBits, 0);
    const e1 = decodeCpuRole(v5_15, 0x00000400_00000000n);
    assert.equal(e1.ext.unknownBits, 0x400, 'bit 10 of the E1 ext role is padding');
  });
});

describe('encoding role words', () => {
  const all: PageRoleField[] = [
    'level',
    'has_4_byte_gpte',
    'gpte_is_8_bytes',
    'quadrant',
    'direct',
    'access',
    'invalid',
    'efer_nx',
    'cr0_wp',
    'smep_andnot_wp',
    'smap_andnot_wp',
    'ad_disabled',
    'guest_mode',
    'passthrough',
    'is_mirror',
    'smm',
  ];

  it('round-trips every field of every era', () => {
    for (const k of [v5_15, v5_17, v6_1, v6_18]) {
      const names = new Set(pageRoleLayout(k).map((f) => f.name));
      for (const f of all) {
        const layout = pageRoleLayout(k).find((x) => x.name === f);
        const max = layout ? 2 ** layout.width - 1 : 1;
        const w = setRoleField(k, 0, f, max);
        if (names.has(f)) {
          assert.equal(getRoleField(k, w, f), max, `${k.label} ${f}`);
          assert.equal(decodePageRole(k, w).unknownBits, 0);
        } else {
          assert.equal(w, 0, `${k.label}: absent ${f} is a no-op`);
          assert.equal(getRoleField(k, 0xffffffff, f), 0);
        }
      }
    }
  });

  it('produces unsigned words and leaves other fields alone', () => {
    const w = setRoleField(v6_4, 0x00003784, 'smm', 1);
    assert.equal(w, 0x01003784);
    assert.ok(w > 0);
    const maxed = setRoleField(v6_4, 0, 'smm', 0xff);
    assert.equal(maxed, 0xff000000);
    assert.equal(setRoleField(v6_4, maxed, 'level', 5), 0xff000005);
    assert.equal(setRoleField(v6_4, 0x01003784, 'level', 0x1f), 0x0100378f, 'value is masked to the width');
  });

  it('setRole4ByteGpte writes bit 4 in the era spelling', () => {
    assert.equal(setRole4ByteGpte(v5_15, 0, false), 0x10);
    assert.equal(setRole4ByteGpte(v5_15, 0x10, true), 0);
    assert.equal(setRole4ByteGpte(v6_1, 0, true), 0x10);
    assert.equal(setRole4ByteGpte(v6_1, 0x10, false), 0);
  });
});

describe('formatting and summaries', () => {
  it('formatRole / formatCpuRole', () => {
    assert.equal(formatRole(0x784), '0x00000784');
    assert.equal(formatRole(0xff000000), '0xff000000');
    assert.equal(formatRole(-1), '0xffffffff');
    assert.equal(formatCpuRole(0x01003784, 0xc1), '0x000000c101003784');
    assert.equal(formatCpuRole(0xffffffff, 0xffffffff), '0xffffffffffffffff');
  });

  it('summaries name what distinguishes roots', () => {
    assert.equal(summarizePageRole(v6_4, 0x00023784), '4-level direct !SMM guest_mode');
    assert.equal(summarizePageRole(v6_4, 0x00003785), '5-level direct !SMM');
    // Shadow PAE root of a 32-bit guest: level 3, indirect, 4-byte gptes, quadrant 2, wp, nx.
    const pae = 0x00003000 | 0x700 | (2 << 5) | 0x10 | 3;
    assert.equal(summarizePageRole(v6_1, pae), 'PAE-level indirect !SMM wp nx 4-byte gptes quadrant 2');
    // E1 TDP roles carry guest WP/NX, so they are shown.
    assert.equal(summarizePageRole(v5_15, 0x00002794), '4-level direct !SMM wp');
    assert.equal(summarizePageRole(v6_1, 0x00053784 | (1 << 18)), '4-level direct !SMM ad_disabled passthrough');
    assert.equal(summarizePageRole(v6_1, 0x00000804), '4-level indirect !SMM access 0 invalid');
  });
});

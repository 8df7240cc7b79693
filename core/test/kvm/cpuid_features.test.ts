import assert from 'node:assert/strict';
import {
  EFER_NX,
  X86_CR4_LA57,
  X86_CR4_PCIDE,
  X86_CR4_PKE,
  X86_CR4_SMAP,
  X86_CR4_SMEP,
} from '../../src/kernel/regs.js';
import { parse } from '../../src/syntax/parser.js';
import { ops, vmOn } from './helpers.js';

describe('kvm model: CPUID feature bits (x86.c __cr4_reserved_bits, __kvm_valid_efer)', () => {
  const cases = [
    ['pku', X86_CR4_PKE],
    ['smep', X86_CR4_SMEP],
    ['smap', X86_CR4_SMAP],
    ['pcid', X86_CR4_PCIDE],
  ] as const;
  for (const [feature, bit] of cases) {
    it(`a CR4 write setting the bit of a hidden ${feature} is #GP; exposed it is accepted`, () => {
      const h = vmOn('v6.1');
      h.longMode();
      assert.equal(h.do({ op: 'cpuid', features: { [feature]: false } }).outcome, 'ok');
      h.run();
      const r = h.cr4('|=', bit);
      assert.equal(r.outcome, 'gp', r.message);
      assert.match(r.message ?? '', new RegExp(`${feature.toUpperCase()} is not in the guest CPUID`));
      const ok = vmOn('v6.1');
      ok.longMode();
      ok.run();
      assert.equal(ok.cr4('|=', bit).outcome === 'gp', false);
    });
  }

  it('CR4.LA57 with la57=off is refused by KVM_SET_SREGS too', () => {
    const h = vmOn('v6.6', { max_tdp_level: 5 });
    h.do({ op: 'cpuid', features: { la57: false } });
    const r = h.sregs({ cr4: X86_CR4_LA57 });
    assert.equal(r.outcome, 'error');
  });

  it('EFER.NX with nx=off is refused (guest WRMSR #GP)', () => {
    const h = vmOn('v6.1');
    h.longMode();
    h.do({ op: 'cpuid', features: { nx: false } });
    h.run();
    h.efer('&=', ~EFER_NX);
    const r = h.efer('|=', EFER_NX);
    assert.equal(r.outcome, 'gp', r.message);
  });

  it('v5.16+: changing a feature after KVM_RUN is -EINVAL; the same CPUID is accepted; v5.15 applies it', () => {
    for (const [profile, outcome] of [
      ['v6.1', 'error'],
      ['v5.15', 'ok'],
    ] as const) {
      const h = vmOn(profile);
      h.longMode();
      h.run();
      const r = h.do({ op: 'cpuid', features: { pku: false } });
      assert.equal(r.outcome, outcome, `${profile}: ${r.message}`);
      if (outcome === 'error') {
        assert.match(r.message ?? '', /pku off/);
        assert.equal(h.do({ op: 'cpuid', features: { pku: true } }).outcome, 'ok');
      } else {
        assert.ok(ops(r, 'reinit').length > 0);
        assert.equal(h.cr4('|=', X86_CR4_PKE).outcome, 'gp');
      }
    }
  });

  it('the statement: `cpuid pku=off smep=on` parses; `cpuid` alone and `cpuid pku=maybe` are diagnosed', () => {
    const ok = parse('cpuid pku=off smep=on maxphyaddr=46\n');
    assert.deepEqual(ok.diagnostics, []);
    const s = ok.lines[0]!.statement!;
    assert.ok(s.kind === 'event');
    assert.deepEqual(s.op, { op: 'cpuid', maxphyaddr: 46, features: { pku: false, smep: true } });
    assert.equal(parse('cpuid\n').diagnostics.length, 1);
    assert.equal(parse('cpuid pku=maybe\n').diagnostics.length, 1);
  });
});

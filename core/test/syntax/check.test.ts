import assert from 'node:assert/strict';
import { checkScenario, kernelFromSpec } from '../../src/syntax/check.js';
import { parse } from '../../src/syntax/parser.js';

function check(text: string, opts: { defaultKernel?: string; kernelOverride?: string } = {}) {
  const p = parse(text);
  assert.deepEqual(p.diagnostics, [], 'the test scenario must parse cleanly');
  return checkScenario(p, opts);
}

/** [line, code, start, end, message] of every semantic diagnostic. */
function diags(text: string, opts: { defaultKernel?: string; kernelOverride?: string } = {}) {
  return check(text, opts).diagnostics.map((d) => [d.span.line, d.code, d.span.start, d.span.end, d.message]);
}

describe('syntax/check', () => {
  describe('kernel', () => {
    it('defaults to latest, or to defaultKernel', () => {
      assert.equal(check('run').kernel.profile.name, 'latest');
      assert.equal(check('run', { defaultKernel: 'v6.1' }).kernel.profile.name, 'v6.1');
      assert.equal(check('kernel v5.15\nrun', { defaultKernel: 'v6.1' }).kernel.profile.name, 'v5.15');
    });

    it('applies + and - modifications', () => {
      const k = check('kernel v6.3 +tdp_mmu_root_ref -invept_precise').kernel;
      assert.equal(k.label, 'v6.3 +tdp_mmu_root_ref -invept_precise');
      assert.equal(k.has('tdp_mmu_root_ref'), true);
      assert.equal(k.has('invept_precise'), false);
      assert.equal(k.has('async_root_zap'), true);
    });

    it('kernelOverride replaces the file’s kernel line', () => {
      const c = check('kernel v5.15\nrun', { kernelOverride: 'v6.3 +tdp_mmu_root_ref' });
      assert.equal(c.kernel.label, 'v6.3 +tdp_mmu_root_ref');
      assert.equal(c.kernelError, undefined);
      const bad = check('kernel v5.15\nrun', { kernelOverride: 'v9.9' });
      assert.equal(bad.kernel.profile.name, 'v5.15');
      assert.match(bad.kernelError ?? '', /unknown kernel profile `v9\.9`/);
    });

    it('a version-like unknown profile suggests the profile that version inherits, not the nearest spelling', () => {
      const fixOf = (text: string) =>
        check(text).diagnostics.find((d) => d.code === 'unknown-profile')?.fix?.edits[0]?.newText;
      // `v9.9` is one edit from nothing sensible and two from `v6.1`: newer than every profile means `latest`.
      assert.equal(fixOf('kernel v9.9'), 'latest');
      assert.match(check('kernel v9.9').diagnostics[0]?.message ?? '', /newer than every profile.*profiles: v5\.15,/);
      assert.equal(fixOf('kernel v6.5'), 'v6.4');
      assert.equal(fixOf('kernel v6.18.3'), 'v6.18');
      assert.equal(fixOf('kernel v4.19'), undefined);
      assert.match(check('kernel v4.19').diagnostics[0]?.message ?? '', /older than every profile/);
    });

    it('unknown profile and behaviour, with suggestions and fixes', () => {
      const c = check('kernel v6.33 +tdp_mmu_root_rf');
      assert.deepEqual(
        c.diagnostics.map((d) => [d.code, d.span.start, d.span.end, d.message]),
        [
          [
            'unknown-profile',
            7,
            12,
            'unknown kernel profile `v6.33`: did you mean `v6.3`? (profiles: v5.15, v5.17, v6.1, v6.1.y, v6.3, v6.4, v6.6, v6.12, v6.12.y, v6.18, latest)',
          ],
          ['unknown-behaviour', 14, 29, 'unknown behaviour `tdp_mmu_root_rf`, did you mean `tdp_mmu_root_ref`?'],
        ],
      );
      assert.deepEqual(c.diagnostics[1]!.fix?.edits, [
        { span: { line: 0, start: 14, end: 29 }, newText: 'tdp_mmu_root_ref' },
      ]);
      // The kernel falls back to the default; the error is what tells the user.
      assert.equal(c.kernel.profile.name, 'latest');
      assert.deepEqual(diags('kernel banana'), [
        [
          0,
          'unknown-profile',
          7,
          13,
          'unknown kernel profile `banana` (profiles: v5.15, v5.17, v6.1, v6.1.y, v6.3, v6.4, v6.6, v6.12, v6.12.y, v6.18, latest)',
        ],
      ]);
    });

    it('redundant and conflicting modifications', () => {
      assert.deepEqual(diags('kernel v6.4 +tdp_mmu_root_ref -pge_role_bit'), [
        [0, 'redundant-mod', 12, 29, 'v6.4 already has `tdp_mmu_root_ref`'],
        [0, 'redundant-mod', 30, 43, 'v6.4 does not have `pge_role_bit` to remove'],
      ]);
      assert.equal(check('kernel v6.4 +tdp_mmu_root_ref').diagnostics[0]!.severity, 'warning');
      assert.deepEqual(diags('kernel v6.3 +tdp_mmu_root_ref -tdp_mmu_root_ref'), [
        [0, 'conflicting-mod', 30, 47, '`tdp_mmu_root_ref` is both added and removed'],
      ]);
    });

    it('kernelFromSpec uses the kernel-line grammar', () => {
      assert.equal(
        kernelFromSpec('v6.6 +invalidated_roots_off_list').kernel?.label,
        'v6.6 +invalidated_roots_off_list',
      );
      assert.equal(kernelFromSpec('v6.6 invalidated_roots_off_list').error, 'expected `+behaviour` or `-behaviour`');
      assert.equal(kernelFromSpec('').error, 'expected a kernel profile, e.g. `kernel v6.3`');
    });
  });

  describe('header placement', () => {
    it('header after an event is an error (and still applies)', () => {
      const c = check('run\nkernel v6.3\nvm vcpus=2');
      assert.deepEqual(
        c.diagnostics.map((d) => [d.span.line, d.code, d.message]),
        [
          [1, 'header-after-event', '`kernel` must come before the first event (line 1)'],
          [2, 'header-after-event', '`vm` must come before the first event (line 1)'],
        ],
      );
      assert.equal(c.kernel.profile.name, 'v6.3');
      assert.equal(c.vm.vcpus, 2);
    });

    it('a vcpu switch, expect or a line that failed to parse also ends the header', () => {
      assert.equal(diags('vcpu 0\nkernel v6.3')[0]![1], 'header-after-event');
      const p = parse('rms\nkernel v6.3');
      assert.equal(checkScenario(p).diagnostics[0]?.code, 'header-after-event');
    });

    it('each header at most once; the first wins', () => {
      const c = check('kernel v6.3\nkernel v6.4\nvm vcpus=2\nvm vcpus=3');
      assert.deepEqual(
        c.diagnostics.map((d) => [d.span.line, d.code, d.message]),
        [
          [1, 'duplicate-header', 'a second `kernel` line (the first is line 1)'],
          [3, 'duplicate-header', 'a second `vm` line (the first is line 3)'],
        ],
      );
      assert.equal(c.kernel.profile.name, 'v6.3');
      assert.equal(c.vm.vcpus, 2);
    });
  });

  describe('vm', () => {
    it('a vm line with one bad value keeps its good keys: later lines do not contradict the file', () => {
      const p = parse('vm vendor=amd tdp_mmu=yes vcpus=4\nvcpu 3\nrun');
      const c = checkScenario(p, {});
      assert.equal(c.vm.vcpus, 4);
      assert.equal(c.vm.vendor, 'amd');
      // The only error is the bad value itself: no "vCPU 3 does not exist".
      assert.deepEqual(
        [...p.diagnostics, ...c.diagnostics].map((d) => [d.span.line, d.code]),
        [[0, 'bad-value']],
      );
    });

    it('builds the VmConfig over the defaults', () => {
      assert.deepEqual(check('run').vm, {
        vendor: 'intel',
        tdp: true,
        tdp_mmu: true,
        max_tdp_level: 4,
        maxphyaddr: 46,
        vcpus: 1,
        nested: false,
        ad: true,
        slot_zap_all: true,
        memory: 'all',
        nx_huge_pages: false,
        noncoherent_dma: false,
        cd_nw_cleared: true,
      });
      assert.deepEqual(
        check(
          'vm vendor=amd tdp=off tdp_mmu=off max_tdp_level=5 maxphyaddr=52 vcpus=4 nested=on ad=off slot_zap_all=off ' +
            'memory=slots nx_huge_pages=on noncoherent_dma=on cd_nw_cleared=off',
        ).vm,
        {
          vendor: 'amd',
          tdp: false,
          tdp_mmu: false,
          max_tdp_level: 5,
          maxphyaddr: 52,
          vcpus: 4,
          nested: true,
          ad: false,
          slot_zap_all: false,
          memory: 'slots',
          nx_huge_pages: true,
          noncoherent_dma: true,
          cd_nw_cleared: false,
        },
      );
    });
  });

  describe('vCPUs', () => {
    it('vcpuOf follows sections and prefixes; -1 on blank and comment lines', () => {
      const c = check('vm vcpus=3\nrun\nvcpu 2\nsmi\n# note\n\nvcpu 1: rsm\nrsm\nvcpu 0\nrun');
      assert.deepEqual(Array.from(c.vcpuOf), [0, 0, 2, 2, -1, -1, 1, 2, 0, 0]);
      assert.deepEqual(c.diagnostics, []);
    });

    it('vcpuOf is computed for lines that failed to parse', () => {
      const p = parse('vm vcpus=2\nvcpu 1\nrms\nvcpu 0: rms');
      assert.deepEqual(Array.from(checkScenario(p).vcpuOf), [0, 1, 1, 0]);
    });

    it('a vCPU beyond vm vcpus is an error on the switch and on every statement acting on it', () => {
      assert.deepEqual(diags('vm vcpus=2\nvcpu 2\nrun\nvcpu 0: smi\nvcpu 5: smi'), [
        [1, 'vcpu-out-of-range', 5, 6, 'vCPU 2 does not exist: the VM has 2 vCPUs (0..1; see `vm vcpus=N`)'],
        [
          2,
          'vcpu-out-of-range',
          0,
          3,
          'vCPU 2 does not exist: the VM has 2 vCPUs (0..1; see `vm vcpus=N`) (selected on line 2)',
        ],
        [4, 'vcpu-out-of-range', 0, 7, 'vCPU 5 does not exist: the VM has 2 vCPUs (0..1; see `vm vcpus=N`)'],
      ]);
      assert.deepEqual(diags('vcpu 0: expect roots.live == 0\nvcpu 1: run'), [
        [1, 'vcpu-out-of-range', 0, 7, 'vCPU 1 does not exist: the VM has 1 vCPU (0..0; see `vm vcpus=N`)'],
      ]);
    });
  });

  describe('nested', () => {
    const eptEnter = 'vmenter ept=on eptp=0x501e';
    it('nested events need nested=on', () => {
      for (const e of [eptEnter, 'vmexit', 'invept global', 'invvpid all']) {
        const kw = e.split(' ')[0]!;
        assert.deepEqual(diags(e), [
          [
            0,
            'nested-disabled',
            0,
            kw.length,
            `\`${kw}\` needs nested virtualization: add \`nested=on\` to the \`vm\` line`,
          ],
        ]);
      }
      assert.deepEqual(diags(`vm nested=on\n${eptEnter}\nvmexit\ninvept single 0x501e\ninvvpid single vpid=1`), []);
    });

    it('vendor mismatches', () => {
      assert.deepEqual(diags(`vm vendor=amd nested=on\n${eptEnter}`), [
        [1, 'wrong-vendor', 0, 7, '`ept=on` is nested EPT (Intel VMX); this VM is `vendor=amd`: use `npt=on ncr3=…`'],
      ]);
      assert.deepEqual(diags('vm nested=on\nvmenter npt=on ncr3=0x1000'), [
        [1, 'wrong-vendor', 0, 7, '`npt=on` is nested NPT (AMD SVM); this VM is `vendor=intel`: use `ept=on eptp=…`'],
      ]);
      assert.deepEqual(diags('vm vendor=amd nested=on\nvmenter npt=on ncr3=0x1000\ninvept global\ninvvpid all'), [
        [2, 'wrong-vendor', 0, 6, '`invept` is a VMX instruction; this VM is `vendor=amd`'],
        [3, 'wrong-vendor', 0, 7, '`invvpid` is a VMX instruction; this VM is `vendor=amd`'],
      ]);
    });

    it('nested EPT/NPT needs tdp=on; plain nesting under shadow paging is fine', () => {
      assert.deepEqual(diags(`vm nested=on tdp=off\n${eptEnter}\nvmenter`), [
        [
          1,
          'nested-tdp-unavailable',
          0,
          7,
          'KVM exposes EPT to L1 only when it uses EPT itself; this VM has `tdp=off`',
        ],
      ]);
    });
  });
});

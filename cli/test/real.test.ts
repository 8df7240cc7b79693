import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = join(root, 'core/test/real/fixtures');

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s), color: false });
  return { code, out, err };
}

function scratch(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'kvmmu-real-')), 'a.kvmmu');
  writeFileSync(file, text);
  return file;
}

describe('cli: kvmmu real, trace', () => {
  it('kvmmu trace on the harness’s own capture reproduces the harness’s comparison, byte for byte', async () => {
    const r = await cli(
      'trace',
      join(fixtures, 'smm-root-thrash-amd.6.1.192.capture'),
      'examples/smm-root-thrash-amd.kvmmu',
    );
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, readFileSync(join(fixtures, 'smm-root-thrash-amd.6.1.192.out'), 'utf8'));
  });

  it('the same capture against a profile without the backports: the SMI/RSM lines disagree, exit 1', async () => {
    const r = await cli(
      'trace',
      join(fixtures, 'smm-root-thrash-amd.6.1.192.capture'),
      '--kernel',
      'v6.3',
      'examples/smm-root-thrash-amd.kvmmu',
    );
    assert.equal(r.code, 1);
    assert.match(r.out, /compared with profile `v6\.3` \(chosen with --kernel\)/);
    assert.match(r.out, /\n\s+13\s+run .*DISAGREE\n/);
    assert.match(r.out, /verdict: DISAGREE/);
  });

  it('vendor=intel under --qemu: every line says why it cannot run there; nothing boots', async () => {
    const file = scratch('vm vendor=intel nested=on\nsregs cr0=PE|ET\nrun\ninvept global\n');
    const r = await cli('real', '--qemu', file);
    assert.equal(r.code, 1);
    assert.equal((r.out.match(/not runnable here: `vm vendor=intel` needs VMX/g) ?? []).length, 3);
  });

  it('a scenario with a syntax error is refused with the usual diagnostics', async () => {
    const file = scratch('vm vendor=amd\nrms\n');
    const r = await cli('real', '--qemu', file);
    assert.equal(r.code, 1);
    assert.match(r.err, /2:1.*unknown event `rms`, did you mean `rsm`\?/);
    assert.match(r.err, /not run: fix the errors first/);
  });

  it('without QEMU: one line saying what to install, exit 2', async () => {
    const file = scratch('vm vendor=amd\nsregs cr0=PE|ET\nrun\n');
    const path = process.env['PATH'];
    process.env['PATH'] = mkdtempSync(join(tmpdir(), 'kvmmu-empty-'));
    try {
      const r = await cli('real', '--qemu', file);
      assert.equal(r.code, 2);
      assert.match(
        r.err,
        /^kvmmu: kvmmu real --qemu needs qemu-system-x86, cpio.*: apt-get install --no-install-recommends /,
      );
      assert.equal(r.err.trim().split('\n').length, 1);
    } finally {
      process.env['PATH'] = path;
    }
  });

  it('without /dev/kvm and without --qemu: says how to run it, exit 2', async function () {
    if (existsSync('/dev/kvm')) this.skip();
    const r = await cli('real', scratch('vm vendor=amd\nrun\n'));
    assert.equal(r.code, 2);
    assert.match(r.err, /no \/dev\/kvm here: run `kvmmu real --qemu FILE`/);
  });

  it('usage errors exit 2', async () => {
    assert.equal((await cli('real')).code, 2);
    assert.equal((await cli('real', 'a.kvmmu', '--kernel', 'v9.9')).code, 2);
    assert.equal((await cli('trace')).code, 2);
  });
});

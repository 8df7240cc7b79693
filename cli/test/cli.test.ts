import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, createReadStream, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return cliWith({}, ...argv);
}

/** The CLI with some of its Io replaced (standard input, terminals). */
async function cliWith(
  io: { stdin?: string; tty?: boolean; stderrTty?: boolean },
  ...argv: string[]
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
    color: false,
    ...(io.tty !== undefined ? { tty: io.tty } : {}),
    ...(io.stderrTty !== undefined ? { stderrTty: io.stderrTty } : {}),
    ...(io.stdin !== undefined ? { stdin: () => io.stdin as string } : {}),
  });
  return { code, out, err };
}

function scratch(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kvmmu-cli-'));
  const file = join(dir, 'a.kvmmu');
  writeFileSync(file, text);
  return file;
}

/** The CLI's entry point (it decides how to write stdout), run as a process by the tests below. */
const entry = join(dirname(fileURLToPath(import.meta.url)), '../src/main.ts');

/** A scenario file of `events` statements cycling through `cycle`, on two vCPUs set up for 64-bit paging. */
function longScenario(events: number, cycle: string[]): string {
  const lines = ['kernel v6.4', 'vm vendor=intel tdp=on vcpus=2', 'vcpu 0'];
  lines.push('sregs cr0=PE|ET|PG|WP cr4=PAE efer=LME|LMA|NX cr3=0x1000');
  for (let i = 0; i < events; i++) lines.push(cycle[i % cycle.length] as string);
  return scratch(lines.join('\n') + '\n');
}

describe('kvmmu CLI', () => {
  it('prints usage and exits 2 without a command', async () => {
    const r = await cli();
    assert.equal(r.code, 2);
    assert.match(r.err, /usage: kvmmu/);
  });

  it('rejects an unknown command with exit 2', async () => {
    const r = await cli('rnu');
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown command `rnu`/);
  });

  it('exits 2 on a missing file', async () => {
    const r = await cli('check', '/nonexistent/x.kvmmu');
    assert.equal(r.code, 2);
  });

  it('prints its version, the same as the extension’s', async () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const r = await cli('--version');
    assert.equal(r.code, 0);
    assert.equal(r.out, `kvmmu ${version}\n`);
  });

  it('`COMMAND --help` prints that command’s usage and exits 0, whatever else is on the line', async () => {
    for (const command of ['run', 'check', 'diff', 'decode', 'profiles']) {
      const r = await cli(command, '--help');
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, new RegExp(`^usage: kvmmu ${command}\\b`));
      assert.equal(r.err, '');
    }
    const r = await cli('run', 'x.kvmmu', '--bogus', '-h');
    assert.equal(r.code, 0);
    assert.match(r.out, /usage: kvmmu run FILE/);
  });

  it('a usage error says what is wrong once and where to find the usage, without printing it all', async () => {
    const r = await cli('run', '--bogus');
    assert.equal(r.code, 2);
    assert.match(r.err, /^kvmmu: Unknown option '--bogus'/);
    assert.match(r.err, /`kvmmu run --help` for usage/);
    assert.doesNotMatch(r.err, /usage: kvmmu <command>/);
    assert.equal(r.err.split('\n').filter(Boolean).length, 2);
  });

  it('names an unreadable file in plain words, not a raw ENOENT/EISDIR', async () => {
    const missing = await cli('run', '/nonexistent/x.kvmmu');
    assert.equal(missing.code, 2);
    assert.equal(missing.err, 'kvmmu: /nonexistent/x.kvmmu: no such file\n');
    const dir = dirname(scratch(''));
    const isDir = await cli('check', dir);
    assert.equal(isDir.code, 2);
    assert.equal(isDir.err, `kvmmu: ${dir}: is a directory, not a scenario file\n`);
  });

  it('`-` reads the scenario from standard input', async () => {
    const stdin = 'kernel v6.4\nsregs cr0=PE|PG cr4=PAE efer=LME|LMA cr3=0x1000\nrun\nexpect roots.live == 1\n';
    const run = await cliWith({ stdin }, 'run', '-');
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /3 {2}run .*→ alloc #1/);
    const check = await cliWith({ stdin }, 'check', '-');
    assert.equal(check.code, 0, check.err);
    assert.match(check.out, /^-: v6\.4: 1 expectation\(s\) passed/);
  });

  it('decode says a bare number was read as decimal and warns that it may be hex without 0x', async () => {
    const r = await cli('decode', '--kernel', 'v6.4', '3784');
    assert.equal(r.code, 0);
    assert.match(r.out, /^page role 0x00000ec8 \(decimal 3784\) on v6\.4/);
    assert.match(r.err, /warning: `3784` is read as decimal \(= 0xec8\); for the hex word write `0x3784`/);
    const hex = await cli('decode', '--kernel', 'v6.4', '0x3784');
    assert.equal(hex.err, '');
    assert.doesNotMatch(hex.out, /decimal/);
    // One digit means the same in both bases: nothing to warn about.
    assert.equal((await cli('decode', '4')).err, '');
  });

  it('--kernel with an unknown version lists the profiles and suggests a sensible one', async () => {
    const file = scratch('run\n');
    const r = await cli('run', file, '--kernel', 'v9.9');
    assert.equal(r.code, 2);
    assert.match(r.err, /`v9\.9`: it is newer than every profile; `latest` is the newest/);
    assert.match(r.err, /profiles: v5\.15, v5\.17, v6\.1, /);
    assert.doesNotMatch(r.err, /did you mean `v6\.1`/);
  });

  it('--at past the last line is an error naming the line count', async () => {
    const file = scratch('kernel v6.4\nrun\n');
    const r = await cli('run', file, '--at', '999');
    assert.equal(r.code, 2);
    assert.match(r.err, /--at 999: .* has 2 line\(s\)/);
    assert.equal((await cli('run', file, '--at', '2')).code, 0);
    assert.equal((await cli('run', file, '--at', '1e3')).code, 2);
  });

  it('with --at, the expectation totals count only the lines up to it', async () => {
    const file = scratch(
      'kernel v6.4\nsregs cr0=PE|PG cr4=PAE efer=LME|LMA cr3=0x1000\nrun\nexpect roots.live == 1\nexpect roots.live == 9\n',
    );
    const r = await cli('run', file, '--at', '4');
    assert.equal(r.code, 0);
    assert.match(r.out, /expectations up to line 4: 1 passed, 0 failed/);
    assert.doesNotMatch(r.out, /expect roots\.live == 9/);
    assert.match((await cli('run', file)).out, /expectations: 1 passed, 1 failed/);
  });

  it('says when --kernel replaces the file’s own kernel line, and only then', async () => {
    const file = scratch('kernel v6.3\nrun\n');
    const r = await cli('run', file, '--kernel', 'v6.4');
    assert.match(r.out, /^kernel v6\.4 .*\n {2}--kernel replaces the file's `kernel v6\.3`\n/);
    assert.doesNotMatch((await cli('run', file, '--kernel', 'v6.3')).out, /replaces/);
    assert.doesNotMatch((await cli('run', file)).out, /replaces/);
  });

  it('check --json with several files prints an array in argument order, with an entry for each unreadable one', async () => {
    const good = scratch('kernel v6.4\nrun\n');
    const other = scratch('kernel v6.3\nrun\n');
    const r = await cli('check', '--json', good, '/nonexistent/x.kvmmu', other);
    assert.equal(r.code, 2);
    const j = JSON.parse(r.out) as { file: string; error?: string; kernel?: { profile: string } }[];
    assert.deepEqual(
      j.map((x) => [x.file, x.error ?? x.kernel?.profile]),
      [
        [good, 'v6.4'],
        ['/nonexistent/x.kvmmu', '/nonexistent/x.kvmmu: no such file'],
        [other, 'v6.3'],
      ],
    );
    // Several files are an array even when only one could be read.
    const one = JSON.parse((await cli('check', '--json', '/nonexistent/x.kvmmu', good)).out) as unknown[];
    assert.equal(one.length, 2);
  });

  it('run survives a scenario of 130,000 lines (no spread of every line into Math.max)', async () => {
    const file = scratch('kernel v6.4\n' + 'vcpu 0\n'.repeat(130_000));
    const r = await cli('run', file);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /130001 {2}vcpu 0/);
  });

  it('a UTF-8 byte-order mark is ignored: line 1 is still the kernel line', async () => {
    const file = scratch('\ufeffkernel v6.3\nrun\n');
    const r = await cli('check', file);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /: v6\.3: /);
    const run = await cli('run', file);
    assert.match(run.out, /^kernel v6\.3 /);
    assert.match(run.out, /\n1 {2}kernel v6\.3\n/);
  });

  it('on a terminal, control characters from the scenario are shown, not sent to it', async () => {
    const file = scratch('kernel v6.4\nrun # \u001b]0;pwned\u0007\u001b[2J\u009b\nr\u001b[31mun\n');
    const tty = await cliWith({ tty: true, stderrTty: true }, 'run', file);
    assert.equal(tty.code, 0);
    assert.doesNotMatch(tty.out + tty.err, /[\u001b\u0007\u009b]/);
    assert.match(tty.out, /run # ␛\]0;pwned␇␛\[2J\\u\{9b\}/);
    assert.match(tty.err, /unexpected character `␛`/);
    // Piped, the text is the file's, byte for byte.
    const piped = await cli('run', file);
    assert.match(piped.out, /\u001b\]0;pwned\u0007/);
  });

  it('exits 2 on a bad --kernel', async () => {
    const r = await cli('decode', '--kernel', 'v9.9', '0x1');
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown kernel profile `v9.9`/);
  });

  it('decodes the acceptance role word under v6.4 with bit positions', async () => {
    const r = await cli('decode', '--kernel', 'v6.4', '0x01003784');
    assert.equal(r.code, 0);
    assert.match(r.out, /level\s+4/);
    assert.match(r.out, /direct\s+1/);
    assert.match(r.out, /access\s+7/);
    assert.match(r.out, /efer_nx\s+1/);
    assert.match(r.out, /cr0_wp\s+1/);
    assert.match(r.out, /smm\s+1/);
    assert.match(r.out, /24-31\s+smm/);
  });

  it('decodes bit 4 with the v5.15 layout', async () => {
    const r = await cli('decode', '--kernel', 'v5.15', '0x10');
    assert.match(r.out, /gpte_is_8_bytes\s+1/);
    const r2 = await cli('decode', '--kernel', 'v6.4', '0x10');
    assert.match(r2.out, /has_4_byte_gpte\s+1/);
  });

  it('check exits 1 on a failed expectation and reports file:line:col', async () => {
    const file = scratch('kernel v6.4\nsregs cr0=PE|PG cr4=PAE efer=LME|LMA cr3=0x1000\nrun\nexpect roots.live == 7\n');
    const r = await cli('check', file);
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:1: error: expected roots.live == 7, found 1`),
    );
  });

  it('check --json follows the documented shape', async () => {
    const file = scratch('kernel v6.4\nsregs cr0=PE|PG cr4=PAE efer=LME|LMA cr3=0x1000\nrun\nexpect roots.live == 1\n');
    const r = await cli('check', '--json', file);
    assert.equal(r.code, 0);
    const j = JSON.parse(r.out);
    assert.equal(j.kernel.profile, 'v6.4');
    assert.equal(j.steps.length, 2);
    assert.equal(j.steps[1].line, 3);
    assert.equal(j.steps[1].actions[0].op !== undefined, true);
    assert.equal(j.roots[0].kind, 'tdp_mmu');
    assert.equal(j.roots[0].refcount, 2);
    assert.deepEqual(j.expectations, { passed: 1, failed: 0 });
    assert.equal(j.vcpus[0].mmu, 'root_mmu');
  });

  it('check reports syntax errors with a suggestion', async () => {
    const file = scratch('rms\n');
    const r = await cli('check', file);
    assert.equal(r.code, 1);
    assert.match(r.err, /:1:1: error: .*rsm/);
  });

  it('diff shows the SMI/RSM lines edbdb43f changed', async () => {
    const file = scratch('sregs cr0=PE|PG cr4=PAE efer=LME|LMA cr3=0x1000\nrun\nsmi\nrun\nrsm\nrun\n');
    const r = await cli('diff', file, '--kernel', 'v6.3', '--kernel', 'v6.4');
    assert.equal(r.code, 0);
    assert.match(r.out, /line\(s\) differ between v6.3 and v6.4/);
    assert.match(r.out, /\n\s+3\s+smi/);
    assert.match(r.out, /\n\s+6\s+run/);
  });

  it('lists profiles and behaviours', async () => {
    const p = await cli('profiles');
    assert.match(p.out, /v6\.4\s+mainline v6\.4\s+async_zap_own_ref\s+cpu_role_split/);
    assert.match(p.out, /async_zap_own_ref: the TDP MMU holds its own root reference until invalidation/);
    assert.match(p.out, /v6\.1\.y\s+Debian bookworm's 6\.1\.y.*sync_zap_own_ref/);
    assert.match(p.out, /= v6\.1 \+ cr0_wp_fast_path \(6\.1\.37-1\).*nnpt_guest_mode_first \(6\.1\.129-1\)/);
    assert.doesNotMatch(p.out, /\bE[1-5]\b/);
    const b = await cli('behaviours');
    assert.match(b.out, /tdp_mmu_root_ref/);
    assert.match(b.out, /edbdb43fc96b11b3bfa531be306a1993d9fe89ec/);
  });

  it('writes the same --json to a file (blocking writes, one buffer) as to a pipe', () => {
    // The entry point decides how to write stdout; run it as a process both ways over a report of several MB.
    const file = longScenario(6000, [
      'vcpu 0: run',
      'vcpu 0: smi',
      'vcpu 1: run',
      'vcpu 0: rsm',
      'vcpu 0: cr3 = 0x2000',
    ]);
    const piped = spawnSync(process.execPath, ['--import', 'tsx', entry, 'check', '--json', file], {
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    });
    assert.equal(piped.status, 0, piped.stderr);
    const out = join(dirname(file), 'out.json');
    const fd = openSync(out, 'w');
    const toFile = spawnSync(process.execPath, ['--import', 'tsx', entry, 'check', '--json', file], {
      stdio: ['ignore', fd, 'pipe'],
      encoding: 'utf8',
    });
    closeSync(fd);
    assert.equal(toFile.status, 0, toFile.stderr);
    const written = readFileSync(out, 'utf8');
    assert.ok(written.length > 1 << 20, `a report of ${written.length} bytes`);
    assert.equal(written, piped.stdout);
    assert.equal((JSON.parse(written) as { steps: unknown[] }).steps.length, 6001);
  });

  it('writes a pipe someone else made non-blocking through the stream, the same bytes', async () => {
    // Blocking writes get EAGAIN once a non-blocking pipe is full; the rest must then go through the stream.
    const file = longScenario(6000, ['vcpu 0: run', 'vcpu 0: smi', 'vcpu 1: run', 'vcpu 0: rsm']);
    const args = ['--import', 'tsx', entry, 'check', '--json', file];
    const direct = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
    const fifo = join(dirname(file), 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    // O_RDWR opens a FIFO at once on Linux; O_NONBLOCK is what the child's stdout inherits.
    const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    const child = spawn(process.execPath, args, { stdio: ['ignore', fd, 'pipe'] });
    closeSync(fd);
    const chunks: Buffer[] = [];
    const reader = createReadStream(fifo);
    // Read slowly at first, so that the pipe fills and the child meets EAGAIN.
    await new Promise((resolve) => setTimeout(resolve, 500));
    reader.on('data', (d) => chunks.push(d as Buffer));
    const [code] = await Promise.all([
      new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c))),
      new Promise<void>((resolve) => reader.on('end', () => resolve())),
    ]);
    assert.equal(code, 0);
    assert.ok(direct.stdout.length > 1 << 20, `a report of ${direct.stdout.length} bytes`);
    assert.equal(Buffer.concat(chunks).toString('utf8'), direct.stdout);
  });

  it('stops quietly when the reader of its output goes away (`| head`)', async () => {
    const file = longScenario(20_000, ['vcpu 0: smi', 'vcpu 0: rsm']);
    const child = spawn(process.execPath, ['--import', 'tsx', entry, 'check', '--json', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // Read the first chunk, then close our end of the pipe, as `head` does.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(err, '');
    assert.equal(code, 0);
  });
});

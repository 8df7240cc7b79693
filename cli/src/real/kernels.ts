/**
 * Debian kernel packages for `kvmmu real --qemu`: found with apt-cache, fetched with `apt-get download` (never
 * installed: no initramfs or bootloader hooks run), unpacked with `dpkg -x` into a cache, and prepared once:
 * modules decompressed, vmlinux extracted from vmlinuz (for its BTF), struct offsets read with pahole.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { PAHOLE_STRUCTS, probeOffsets, type ProbeOffsets } from '../../../core/src/real/btf.js';

/** A failure the user fixes by installing something or passing a path: one line, no stack. */
export class EnvironmentError extends Error {}

export interface PreparedKernel {
  /** Debian package version, e.g. "6.1.192-3" (from the package name or the changelog). */
  version: string;
  /** `uname -r`, e.g. "6.1.0-57-amd64". */
  release: string;
  dir: string;
  vmlinuz: string;
  /** Decompressed modules: irqbypass, ccp, kvm, kvm-amd. */
  modules: { irqbypass: string; ccp: string; kvm: string; kvmAmd: string };
  offsets: ProbeOffsets;
}

export function cacheDir(): string {
  const d =
    process.env['KVMMU_CACHE'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'kvmmu', 'real');
  mkdirSync(d, { recursive: true });
  return d;
}

export function have(cmd: string): boolean {
  return spawnSync('/bin/sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Package names for a series ("6.1" or "6.12"), newest first, as apt knows them. */
export function debianKernelPackages(series: string): string[] {
  if (!have('apt-cache')) throw new EnvironmentError('apt-cache not found: pass a kernel package with --qemu PATH');
  const pattern =
    series === '6.1'
      ? '^linux-image-6\\.1\\.0-[0-9]+-amd64$'
      : `^linux-image-${series.replace('.', '\\.')}\\.[0-9]+\\+deb[0-9]+-amd64$`;
  const out = execFileSync('apt-cache', ['search', '--names-only', pattern], { encoding: 'utf8' });
  const names = out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => new RegExp(pattern).test(n));
  const num = (n: string): number[] => (n.match(/\d+/g) ?? []).map(Number);
  return names.sort((a, b) => {
    const x = num(a);
    const y = num(b);
    for (let i = 0; i < Math.max(x.length, y.length); i++)
      if ((x[i] ?? 0) !== (y[i] ?? 0)) return (y[i] ?? 0) - (x[i] ?? 0);
    return 0;
  });
}

/** The .deb of the newest package of a series, downloaded into the cache unless already there. */
export function downloadNewest(series: string): string {
  const names = debianKernelPackages(series);
  const name = names[0];
  if (!name)
    throw new EnvironmentError(
      `no Debian linux-image package for ${series} in apt's lists: run \`apt-get update\` or pass --qemu PATH`,
    );
  const debs = join(cacheDir(), 'debs');
  mkdirSync(debs, { recursive: true });
  const existing = readdirSync(debs).find((f) => f.startsWith(name + '_') && f.endsWith('.deb'));
  if (existing) return join(debs, existing);
  const r = spawnSync('apt-get', ['download', name], { cwd: debs, encoding: 'utf8' });
  const got = readdirSync(debs).find((f) => f.startsWith(name + '_') && f.endsWith('.deb'));
  if (!got) throw new EnvironmentError(`apt-get download ${name} failed: ${(r.stderr || '').trim().split('\n').pop()}`);
  return join(debs, got);
}

function findFile(dir: string, test: (name: string) => boolean): string | undefined {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const f = findFile(p, test);
      if (f) return f;
    } else if (test(e.name)) return p;
  }
  return undefined;
}

/** vmlinux (ELF) from a bzImage: the payload compressed with xz or zstd, found by its magic number. */
function extractVmlinux(vmlinuz: string, out: string): void {
  const data = readFileSync(vmlinuz);
  const formats: [Buffer, string[]][] = [
    [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), ['xz', '-dc']],
    [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), ['zstd', '-dc']],
    [Buffer.from([0x1f, 0x8b, 0x08]), ['gzip', '-dc']],
  ];
  for (const [magic, cmd] of formats) {
    for (let i = data.indexOf(magic); i >= 0; i = data.indexOf(magic, i + 1)) {
      const r = spawnSync(cmd[0]!, cmd.slice(1), { input: data.subarray(i), maxBuffer: 1 << 30 });
      if (r.stdout && r.stdout.length > 4 && r.stdout.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) {
        writeFileSync(out, r.stdout);
        return;
      }
    }
  }
  throw new EnvironmentError(`cannot extract vmlinux from ${vmlinuz} (needs xz and zstd)`);
}

/** Unpacks (once) and prepares a kernel package or an unpacked package directory. */
export function prepareKernel(debOrDir: string): PreparedKernel {
  if (!existsSync(debOrDir)) throw new EnvironmentError(`${debOrDir}: no such file or directory`);
  let dir = debOrDir;
  let version = '';
  if (statSync(debOrDir).isFile()) {
    if (!have('dpkg')) throw new EnvironmentError('dpkg not found: pass an unpacked kernel package directory');
    dir = join(cacheDir(), 'x', basename(debOrDir, '.deb'));
    if (!existsSync(join(dir, 'boot'))) {
      mkdirSync(dir, { recursive: true });
      execFileSync('dpkg', ['-x', debOrDir, dir]);
    }
    version = /_([^_]+)_amd64$/.exec(basename(debOrDir, '.deb'))?.[1] ?? '';
  }
  const boot = join(dir, 'boot');
  const vmlinuz = existsSync(boot) ? findFile(boot, (n) => n.startsWith('vmlinuz')) : undefined;
  if (!vmlinuz) throw new EnvironmentError(`${debOrDir}: no boot/vmlinuz-* (is it a linux-image package?)`);
  const release = basename(vmlinuz).replace(/^vmlinuz-/, '');
  if (version === '') {
    const changelog = findFile(dir, (n) => n === 'changelog.Debian.gz' || n === 'changelog.gz');
    if (changelog) {
      const head = spawnSync('gzip', ['-dc', changelog], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout ?? '';
      version = /\(([^)]+)\)/.exec(head)?.[1] ?? '';
    }
  }
  const modDir = join(dir, 'lib', 'modules', release, 'kernel');
  const mod = (rel: string): string => {
    const ko = join(modDir, rel);
    if (existsSync(ko)) return ko;
    for (const [ext, cmd] of [
      ['.xz', 'xz'],
      ['.zst', 'zstd'],
      ['.gz', 'gzip'],
    ] as const)
      if (existsSync(ko + ext)) {
        execFileSync(cmd, ['-dkf', ko + ext]);
        return ko;
      }
    throw new EnvironmentError(`${debOrDir}: module ${rel} missing`);
  };
  const modules = {
    irqbypass: mod('virt/lib/irqbypass.ko'),
    ccp: mod('drivers/crypto/ccp/ccp.ko'),
    kvm: mod('arch/x86/kvm/kvm.ko'),
    kvmAmd: mod('arch/x86/kvm/kvm-amd.ko'),
  };
  const offsetsFile = join(dir, 'kvmmu-offsets.json');
  let offsets: ProbeOffsets;
  if (existsSync(offsetsFile)) offsets = JSON.parse(readFileSync(offsetsFile, 'utf8')) as ProbeOffsets;
  else {
    if (!have('pahole')) throw new EnvironmentError('pahole not found: install dwarves (apt-get install dwarves)');
    const vmlinux = join(dir, 'vmlinux');
    if (!existsSync(vmlinux)) extractVmlinux(vmlinuz, vmlinux);
    const text = paholeText(vmlinux, modules.kvm);
    const o = probeOffsets(text);
    if ('missing' in o) throw new EnvironmentError(`${debOrDir}: BTF has no ${o.missing}`);
    offsets = o;
    writeFileSync(offsetsFile, JSON.stringify(offsets) + '\n');
  }
  return { version, release, dir, vmlinuz, modules, offsets };
}

/** pahole over a module's BTF, split against the vmlinux BTF. */
export function paholeText(btfBase: string, module: string): string {
  const r = spawnSync('pahole', ['--btf_base', btfBase, '-C', PAHOLE_STRUCTS.join(','), module], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new EnvironmentError(`pahole failed on ${module}: ${(r.stderr ?? '').trim()}`);
  return r.stdout;
}

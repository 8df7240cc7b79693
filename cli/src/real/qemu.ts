/**
 * Running driver programs inside a Debian kernel booted under QEMU TCG with AMD SVM and nested paging
 * (docs/real-kvm.md): a busybox initramfs loads irqbypass, ccp, kvm and kvm-amd with each configuration's
 * parameters, defines kvmmu's kprobes, and runs every program of a batch with tracing on; results come back over
 * the second serial port, one block per program. Everything is bounded: each program by `timeout` in the guest,
 * the whole boot by a wall-clock limit on QEMU.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kprobeDefinitions, TRACEPOINTS } from '../../../core/src/real/probes.js';
import type { RealConfig } from '../../../core/src/real/lower.js';
import { EnvironmentError, have, type PreparedKernel } from './kernels.js';

export interface BatchItem {
  id: string;
  config: RealConfig;
  program: string[];
}

export interface BatchResult {
  id: string;
  /** The driver's stdout: `ok …` per instruction, `fail …` and `stop` when it stopped. */
  driver: string;
  /** The ftrace text of the program's run. */
  trace: string;
  /** Exit status of the driver (124/137: killed by the guest's timeout). */
  status: number;
}

export interface BatchRun {
  /** `uname -r` and `/proc/version` of the booted kernel. */
  release: string;
  procVersion: string;
  results: Map<string, BatchResult>;
  elapsedMs: number;
  timedOut: boolean;
  /** The kernel console, for diagnosing a boot that went wrong. */
  console: string;
}

const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug; mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
exec >/dev/ttyS1 2>&1
echo "@@@ kernel $(uname -r)"
echo "@@@ version $(cat /proc/version)"
T=/sys/kernel/tracing
echo 8192 > $T/buffer_size_kb
insmod /mods/irqbypass.ko; insmod /mods/ccp.ko
cur=""
while read id tdp_mmu npt; do
  if [ "$cur" != "$tdp_mmu$npt" ]; then
    if [ -n "$cur" ]; then
      echo 0 > $T/events/enable; echo > $T/kprobe_events
      rmmod kvm_amd; rmmod kvm
    fi
    insmod /mods/kvm.ko tdp_mmu=$tdp_mmu; insmod /mods/kvm-amd.ko npt=$npt nested=1
    while read p; do echo "$p" >> $T/kprobe_events 2>/dev/null; done < /probes
    echo 1 > $T/events/kvmmu/enable
    for e in $(cat /tracepoints); do [ -d $T/events/$e ] && echo 1 > $T/events/$e/enable; done
    cur="$tdp_mmu$npt"
  fi
  echo > $T/trace; echo 1 > $T/tracing_on
  timeout -s KILL 30 /bin/kvmmu-driver < /batch/$id > /tmp/out 2>&1; rc=$?
  echo 0 > $T/tracing_on
  echo "@@@ begin $id $rc"; cat /tmp/out; echo "@@@ trace $id"; grep -v '^#' $T/trace; echo "@@@ end $id"
done < /batch/list
echo "@@@ done"
poweroff -f
`;

/** A static busybox (Debian's busybox-static), or undefined. A dynamic one cannot run in the initramfs. */
export function staticBusybox(): string | undefined {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) {
    if (!existsSync(p)) continue;
    if (!hasInterpreter(readFileSync(p))) return p;
  }
  return undefined;
}

/** An ELF executable with a PT_INTERP program header is dynamically linked. */
function hasInterpreter(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46) return true;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const size = elf.readUInt16LE(0x36);
  const count = elf.readUInt16LE(0x38);
  for (let i = 0; i < count; i++) {
    const at = phoff + i * size;
    if (at + 4 <= elf.length && elf.readUInt32LE(at) === 3) return true;
  }
  return false;
}

/** What is missing to run under QEMU, as one line saying what to install, or undefined. */
export function qemuMissing(): string | undefined {
  const missing: string[] = [];
  if (!have('qemu-system-x86_64')) missing.push('qemu-system-x86');
  if (!have('cpio')) missing.push('cpio');
  if (!staticBusybox()) missing.push('busybox-static');
  if (!have('pahole')) missing.push('dwarves');
  if (missing.length === 0) return undefined;
  return `kvmmu real --qemu needs ${missing.join(', ')}: apt-get install --no-install-recommends ${missing.join(' ')}`;
}

/** Boots `kernel` once and runs every item; resolves when QEMU has powered off or was killed at its limit. */
export async function runBatch(
  kernel: PreparedKernel,
  driver: string,
  items: readonly BatchItem[],
  log: (s: string) => void = () => undefined,
): Promise<BatchRun> {
  const missing = qemuMissing();
  if (missing) throw new EnvironmentError(missing);
  const busybox = staticBusybox()!;
  const work = mkdtempSync(join(tmpdir(), 'kvmmu-real-'));
  try {
    const root = join(work, 'root');
    for (const d of ['bin', 'mods', 'batch', 'dev', 'proc', 'sys', 'tmp'])
      mkdirSync(join(root, d), { recursive: true });
    copyFileSync(busybox, join(root, 'bin', 'busybox'));
    copyFileSync(driver, join(root, 'bin', 'kvmmu-driver'));
    chmodSync(join(root, 'bin', 'kvmmu-driver'), 0o755);
    copyFileSync(kernel.modules.irqbypass, join(root, 'mods', 'irqbypass.ko'));
    copyFileSync(kernel.modules.ccp, join(root, 'mods', 'ccp.ko'));
    copyFileSync(kernel.modules.kvm, join(root, 'mods', 'kvm.ko'));
    copyFileSync(kernel.modules.kvmAmd, join(root, 'mods', 'kvm-amd.ko'));
    writeFileSync(join(root, 'init'), INIT, { mode: 0o755 });
    writeFileSync(
      join(root, 'probes'),
      [
        ...kprobeDefinitions(kernel.offsets),
        ...(process.env['KVMMU_EXTRA_PROBES'] ?? '').split(';').filter(Boolean),
      ].join('\n') + '\n',
    );
    writeFileSync(join(root, 'tracepoints'), TRACEPOINTS.join('\n') + '\n');
    // Programs grouped by module parameters: the modules are reloaded only between configurations.
    const sorted = [...items].sort((a, b) => cfgKey(a.config).localeCompare(cfgKey(b.config)));
    const list: string[] = [];
    sorted.forEach((item, i) => {
      const name = `p${i}`;
      writeFileSync(join(root, 'batch', name), item.program.join('\n') + '\n');
      list.push(`${name} ${item.config.tdp_mmu ? 1 : 0} ${item.config.tdp ? 1 : 0}`);
    });
    writeFileSync(join(root, 'batch', 'list'), list.join('\n') + '\n');
    const initrd = join(work, 'initrd.cpio');
    const files = spawnSync('find', ['.'], { cwd: root, encoding: 'utf8' }).stdout;
    const cpio = spawnSync('sh', ['-c', `cpio -o -H newc > ${JSON.stringify(initrd)} 2>/dev/null`], {
      cwd: root,
      input: files,
    });
    if (cpio.status !== 0) throw new EnvironmentError('cpio failed to build the initramfs');
    const data = join(work, 'data.txt');
    const consoleFile = join(work, 'console.txt');
    // Boot ≈ 5 s, reloading modules ≈ 3 s, a program ≈ 1 s on two busy cores; allow a wide margin, never hang.
    const configs = new Set(items.map((i) => cfgKey(i.config))).size;
    const limitS = 90 + 10 * configs + 8 * items.length;
    log(`booting ${kernel.release} under QEMU TCG (${items.length} program(s), limit ${limitS} s)`);
    const started = Date.now();
    const boot = (): Promise<{ status: number | null; signal: string | null }> =>
      spawnAsync('timeout', [
        '-s',
        'KILL',
        String(limitS),
        'qemu-system-x86_64',
        '-accel',
        'tcg',
        '-cpu',
        'qemu64,+svm,+npt',
        '-m',
        '1024',
        '-smp',
        '1',
        '-nodefaults',
        '-no-reboot',
        '-kernel',
        kernel.vmlinuz,
        '-initrd',
        initrd,
        '-append',
        // no_timer_check: on a loaded host TCG is slow enough for the IO-APIC timer check to panic the boot.
        'console=ttyS0 panic=-1 loglevel=4 nokaslr no_timer_check',
        '-display',
        'none',
        '-monitor',
        'none',
        '-serial',
        `file:${consoleFile}`,
        '-serial',
        `file:${data}`,
      ]);
    let q = await boot();
    // A boot that never reached /init (a panic on a loaded host) is retried once.
    if (!(existsSync(data) && readFileSync(data, 'utf8').includes('@@@ kernel'))) {
      log(`the guest did not reach /init; booting ${kernel.release} again`);
      q = await boot();
    }
    const elapsedMs = Date.now() - started;
    const text = existsSync(data) ? readFileSync(data, 'utf8') : '';
    const run = parseBatchOutput(text);
    return {
      ...run,
      elapsedMs,
      timedOut: q.status === 137 || q.signal === 'SIGKILL' || !text.includes('@@@ done'),
      console: existsSync(consoleFile) ? readFileSync(consoleFile, 'utf8') : '',
      results: new Map(
        [...run.results].map(([name, r]) => {
          const item = sorted[Number(name.slice(1))]!;
          return [item.id, { ...r, id: item.id }];
        }),
      ),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function spawnAsync(cmd: string, args: string[]): Promise<{ status: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.on('error', () => resolve({ status: 127, signal: null }));
    child.on('close', (status, signal) => resolve({ status, signal }));
  });
}

const cfgKey = (c: RealConfig): string => `${c.tdp_mmu ? 1 : 0}${c.tdp ? 1 : 0}`;

/** The blocks of the data port: `@@@ begin ID STATUS`, driver output, `@@@ trace ID`, trace, `@@@ end ID`. */
export function parseBatchOutput(text: string): {
  release: string;
  procVersion: string;
  results: Map<string, BatchResult>;
} {
  const results = new Map<string, BatchResult>();
  let release = '';
  let procVersion = '';
  let cur: { id: string; status: number; driver: string[]; trace: string[]; inTrace: boolean } | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('@@@ kernel ')) release = line.slice(11).trim();
    else if (line.startsWith('@@@ version ')) procVersion = line.slice(12).trim();
    else if (line.startsWith('@@@ begin ')) {
      const [, , id, status] = line.split(' ');
      cur = { id: id!, status: Number(status), driver: [], trace: [], inTrace: false };
    } else if (line.startsWith('@@@ trace ') && cur) cur.inTrace = true;
    else if (line.startsWith('@@@ end ') && cur) {
      results.set(cur.id, {
        id: cur.id,
        status: cur.status,
        driver: cur.driver.join('\n'),
        trace: cur.trace.join('\n'),
      });
      cur = undefined;
    } else if (cur) (cur.inTrace ? cur.trace : cur.driver).push(line);
  }
  return { release, procVersion, results };
}

/**
 * `kvmmu real`, `kvmmu capture`, `kvmmu trace`: the scenario on a real KVM, beside the model.
 * Exit codes: 0 agree, 1 disagree (or errors in the scenario), 2 usage or environment.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { release as osRelease } from 'node:os';
import { analyze } from '../../../core/src/engine/analyze.js';
import type { Analysis } from '../../../core/src/engine/analysis.js';
import { probeOffsets, type ProbeOffsets } from '../../../core/src/real/btf.js';
import { compareRun, driverFailure, type RealComparison } from '../../../core/src/real/compare.js';
import { parseFtrace } from '../../../core/src/real/ftrace.js';
import { lowerScenario, type Lowered, type RealTarget } from '../../../core/src/real/lower.js';
import { observe } from '../../../core/src/real/observe.js';
import { captureCommands, kprobeDefinitions, TRACEPOINTS } from '../../../core/src/real/probes.js';
import { profileForKernel } from '../../../core/src/real/profile.js';
import { realJson, renderReal, type RealRunInfo } from '../../../core/src/real/report.js';
import { captureHeader, rebuildScenario, renderTrace, withMarkers } from '../../../core/src/real/trace_view.js';
import { markerLine } from '../../../core/src/real/ftrace.js';
import { kernelFromSpec } from '../../../core/src/syntax/check.js';
import { renderDiagnostics, type Style } from '../../../core/src/views/text.js';
import { findDriver } from './driver.js';
import { EnvironmentError, downloadNewest, paholeText, prepareKernel, type PreparedKernel } from './kernels.js';
import { qemuMissing, runBatch } from './qemu.js';

export interface RealIo {
  stdout(s: string): void;
  stderr(s: string): void;
}

export class RealUsageError extends Error {}

interface RealArgs {
  file: string;
  qemu: boolean;
  qemuKernel?: string;
  kernel?: string;
  json: boolean;
  /** --capture OUT: keep the kernel's trace (with the target and profile) for `kvmmu trace`. */
  capture?: string;
}

function parseRealArgs(args: string[]): RealArgs {
  const r: RealArgs = { file: '', qemu: false, json: false };
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--qemu' || a.startsWith('--qemu=')) {
      r.qemu = true;
      if (a.startsWith('--qemu=')) r.qemuKernel = a.slice(7);
      else {
        const next = args[i + 1];
        if (next !== undefined && !next.startsWith('-') && !next.endsWith('.kvmmu')) {
          r.qemuKernel = next;
          i++;
        }
      }
    } else if (a === '--kernel') {
      const v = args[++i];
      if (v === undefined) throw new RealUsageError('--kernel needs a profile');
      r.kernel = v;
    } else if (a.startsWith('--kernel=')) r.kernel = a.slice(9);
    else if (a === '--json') r.json = true;
    else if (a === '--capture') {
      const v = args[++i];
      if (v === undefined) throw new RealUsageError('--capture needs a file');
      r.capture = v;
    } else if (a.startsWith('-')) throw new RealUsageError(`unknown option ${a}`);
    else files.push(a);
  }
  if (files.length !== 1) throw new RealUsageError('real takes exactly one FILE');
  r.file = files[0]!;
  if (r.kernel !== undefined) {
    const k = kernelFromSpec(r.kernel);
    if (!k.kernel) throw new RealUsageError(`--kernel: ${k.error ?? 'invalid kernel'}`);
  }
  return r;
}

/** `--qemu [KERNEL]`: a .deb, an unpacked package, or a series ("6.1", "6.12"; default 6.12) fetched from Debian. */
export function resolveQemuKernel(arg: string | undefined): PreparedKernel {
  if (arg === undefined || /^\d+\.\d+$/.test(arg)) return prepareKernel(downloadNewest(arg ?? '6.12'));
  return prepareKernel(arg);
}

export interface RealOutcome {
  comparison: RealComparison;
  info: RealRunInfo;
  lowered: Lowered;
  trace: string;
  target: RealTarget;
  failure?: string;
}

/** A capture file: the trace, headed by what `kvmmu trace` needs to redo the comparison. */
export function captureText(o: RealOutcome): string {
  return (
    [
      `# kvmmu: ran_on ${o.info.ranOn}`,
      `# kvmmu: target ${o.target.vendor}${o.target.tcg ? ' tcg' : ''}`,
      `# kvmmu: profile ${o.info.profile}`,
      `# kvmmu: profile_why ${o.info.profileWhy}`,
      ...(o.failure !== undefined ? [`# kvmmu: failure ${o.failure}`] : []),
      o.trace,
    ].join('\n') + '\n'
  );
}

/** The profile to compare with: the user's, or the one that stands for the kernel that ran. */
function chooseProfile(explicit: string | undefined, release: string, pkg: string): { spec: string; why: string } {
  if (explicit !== undefined) return { spec: explicit, why: 'chosen with --kernel' };
  const p = profileForKernel(release, pkg);
  if (!p) return { spec: 'latest', why: `no profile matches ${pkg || release}` };
  return p;
}

export async function realCommand(args: string[], io: RealIo, st: Style): Promise<number> {
  const opts = parseRealArgs(args);
  const text = readFileSync(opts.file, 'utf8');
  const first = analyze(text, { checkpoints: false });
  const errors = first.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    io.stderr(renderDiagnostics(opts.file, errors, st).join('\n') + '\n');
    io.stderr(`kvmmu: ${opts.file}: not run: fix the errors first\n`);
    return 1;
  }
  try {
    const outcome = opts.qemu ? await realQemu(opts, text, first, io) : realHost(opts, text, first, io);
    if (opts.capture !== undefined) writeFileSync(opts.capture, captureText(outcome));
    if (opts.json) io.stdout(JSON.stringify(realJson(outcome.info, outcome.comparison), null, 2) + '\n');
    else io.stdout(renderReal(outcome.info, outcome.comparison, st) + '\n');
    return outcome.comparison.agree ? 0 : 1;
  } catch (e) {
    if (e instanceof EnvironmentError) {
      io.stderr(`kvmmu: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

function analyzeFor(text: string, spec: string): Analysis {
  return analyze(text, { kernelOverride: spec, checkpoints: false });
}

async function realQemu(opts: RealArgs, text: string, first: Analysis, io: RealIo): Promise<RealOutcome> {
  const target: RealTarget = { vendor: 'amd', tcg: true };
  const probe = lowerScenario(first, target);
  const info = (k: PreparedKernel | undefined, spec: string, why: string): RealRunInfo => ({
    file: opts.file,
    ranOn: k
      ? `Linux ${k.release}${k.version ? ` (Debian ${k.version})` : ''} under QEMU TCG (AMD SVM, nested paging)`
      : 'nothing: no line can run under QEMU TCG',
    profile: spec,
    profileWhy: why,
  });
  if (probe.refused !== undefined) {
    // Nothing to boot for: say per line why.
    const spec = opts.kernel ?? first.kernel.label;
    const c = compareRun(first, probe, { byLine: new Map(), notes: new Map(), lines: [], probes: false });
    c.agree = false;
    return { comparison: c, info: info(undefined, spec, 'the scenario’s own'), lowered: probe, trace: '', target };
  }
  const missing = qemuMissing();
  if (missing) throw new EnvironmentError(missing);
  const kernel = resolveQemuKernel(opts.qemuKernel);
  const driver = findDriver();
  const { spec, why } = chooseProfile(opts.kernel, kernel.release, kernel.version);
  const a = analyzeFor(text, spec);
  const lowered = lowerScenario(a, target);
  const run = await runBatch(kernel, driver, [{ id: 's', config: lowered.config, program: lowered.program }], (s) =>
    io.stderr(`kvmmu: ${s}\n`),
  );
  const r = run.results.get('s');
  const failure = !r
    ? run.timedOut
      ? 'QEMU did not finish in time'
      : 'no result from the guest'
    : (driverFailure(r.driver) ?? (r.status !== 0 ? `the driver exited with status ${r.status}` : undefined));
  const trace = r?.trace ?? '';
  const comparison = compareRun(a, lowered, observe(parseFtrace(trace)), failure);
  const out: RealOutcome = { comparison, info: info(kernel, spec, why), lowered, trace, target };
  if (failure !== undefined) out.failure = failure;
  return out;
}

/** On a host with /dev/kvm: the host's own KVM, traced through tracefs (needs root). */
function realHost(opts: RealArgs, text: string, first: Analysis, io: RealIo): RealOutcome {
  if (!existsSync('/dev/kvm'))
    throw new EnvironmentError(
      'no /dev/kvm here: run `kvmmu real --qemu FILE` to use a Debian kernel under QEMU TCG (AMD only), or run on a KVM host',
    );
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const vendor: 'amd' | 'intel' = /\bsvm\b/.test(cpuinfo) ? 'amd' : 'intel';
  const tracefs = existsSync('/sys/kernel/tracing/kprobe_events') ? '/sys/kernel/tracing' : '/sys/kernel/debug/tracing';
  if (!existsSync(`${tracefs}/kprobe_events`))
    throw new EnvironmentError(`tracefs is not mounted (or not readable): run as root with ${tracefs} available`);
  const offsets = hostOffsets();
  const release = osRelease();
  const { spec, why } = chooseProfile(opts.kernel, release, '');
  const a = analyzeFor(text, spec);
  const lowered = lowerScenario(a, { vendor, tcg: false });
  void first;
  const driver = findDriver();
  const w = (f: string, s: string): void => writeFileSync(`${tracefs}/${f}`, s, { flag: 'a' });
  let trace = '';
  let driverOut = '';
  try {
    writeFileSync(`${tracefs}/tracing_on`, '0');
    for (const d of kprobeDefinitions(offsets)) {
      try {
        w('kprobe_events', d + '\n');
      } catch {
        // a function this kernel does not have
      }
    }
    writeFileSync(`${tracefs}/events/kvmmu/enable`, '1');
    for (const t of TRACEPOINTS)
      if (existsSync(`${tracefs}/events/${t}`)) writeFileSync(`${tracefs}/events/${t}/enable`, '1');
    writeFileSync(`${tracefs}/trace`, '');
    writeFileSync(`${tracefs}/tracing_on`, '1');
    io.stderr(`kvmmu: running on this host's KVM (${release}, ${vendor})\n`);
    const r = spawnSync(driver, [], { input: lowered.program.join('\n') + '\n', encoding: 'utf8', timeout: 60_000 });
    driverOut = r.stdout ?? '';
    writeFileSync(`${tracefs}/tracing_on`, '0');
    trace = readFileSync(`${tracefs}/trace`, 'utf8');
  } finally {
    try {
      writeFileSync(`${tracefs}/events/kvmmu/enable`, '0');
      w('kprobe_events', '-:kvmmu/*\n');
    } catch {
      // already gone
    }
  }
  const failure = driverFailure(driverOut);
  const comparison = compareRun(a, lowered, observe(parseFtrace(trace)), failure);
  const out: RealOutcome = {
    comparison,
    info: { file: opts.file, ranOn: `this host's KVM (Linux ${release}, ${vendor})`, profile: spec, profileWhy: why },
    lowered,
    trace,
    target: { vendor, tcg: false },
  };
  if (failure !== undefined) out.failure = failure;
  return out;
}

function hostOffsets(): ProbeOffsets {
  const base = '/sys/kernel/btf/vmlinux';
  const kvm = '/sys/kernel/btf/kvm';
  if (!existsSync(kvm)) throw new EnvironmentError('no BTF for kvm (/sys/kernel/btf/kvm): is the kvm module loaded?');
  const o = probeOffsets(paholeText(base, kvm));
  if ('missing' in o) throw new EnvironmentError(`the kernel's BTF has no ${o.missing}`);
  return o;
}

export function captureCommand(args: string[], io: RealIo): number {
  if (args.length > 0) throw new RealUsageError('capture takes no arguments');
  let o: ProbeOffsets;
  try {
    o = hostOffsets();
  } catch (e) {
    if (!(e instanceof EnvironmentError)) throw e;
    io.stderr(`kvmmu: ${e.message}\n`);
    return 2;
  }
  io.stdout(`# kvmmu capture for Linux ${osRelease()} (offsets from this kernel's BTF); run as root\n`);
  io.stdout(captureCommands(o).join('\n') + '\n');
  io.stdout('# then: kvmmu trace kvmmu-capture.txt [SCENARIO.kvmmu]\n');
  return 0;
}

export function traceCommand(args: string[], io: RealIo, st: Style): number {
  let kernel: string | undefined;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--kernel') kernel = args[++i];
    else if (a.startsWith('--kernel=')) kernel = a.slice(9);
    else if (a.startsWith('-')) throw new RealUsageError(`unknown option ${a}`);
    else files.push(a);
  }
  if (files.length < 1 || files.length > 2) throw new RealUsageError('trace takes CAPTURE [FILE]');
  if (kernel !== undefined && !kernelFromSpec(kernel).kernel) throw new RealUsageError(`--kernel: invalid kernel`);
  const capture = readFileSync(files[0]!, 'utf8');
  const head = captureHeader(capture);
  const events = parseFtrace(capture);
  if (files[1] !== undefined) {
    const text = readFileSync(files[1], 'utf8');
    const first = analyze(text, { checkpoints: false });
    const errors = first.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0) {
      io.stderr(renderDiagnostics(files[1], errors, st).join('\n') + '\n');
      return 1;
    }
    const spec = kernel ?? head.get('profile') ?? first.kernel.label;
    const a = analyzeFor(text, spec);
    const t = (head.get('target') ?? '').split(' ');
    const target: RealTarget = {
      vendor: t[0] === 'amd' || t[0] === 'intel' ? t[0] : a.vm.vendor,
      tcg: t.includes('tcg'),
    };
    const c = compareRun(a, lowerScenario(a, target), observe(events), head.get('failure'));
    const info: RealRunInfo = {
      file: files[1],
      ranOn: head.get('ran_on') ?? `the capture ${files[0]}`,
      profile: spec,
      profileWhy:
        kernel !== undefined
          ? 'chosen with --kernel'
          : head.has('profile')
            ? (head.get('profile_why') ?? 'the capture’s')
            : 'the scenario’s',
    };
    io.stdout(renderReal(info, c, st) + '\n');
    return c.agree ? 0 : 1;
  }
  const plain = events.filter((e) => markerLine(e) === undefined);
  const rebuilt = rebuildScenario(plain);
  const spec = kernel ?? head.get('profile') ?? 'latest';
  const a = analyzeFor(rebuilt.text, spec);
  io.stdout(renderTrace(rebuilt, a, observe(withMarkers(plain, rebuilt.markers)), spec, st) + '\n');
  return 0;
}

/** For tests: the uname of the machine (unused on QEMU). */
export function hostRelease(): string {
  try {
    return execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  } catch {
    return osRelease();
  }
}

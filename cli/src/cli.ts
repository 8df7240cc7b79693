/**
 * Command dispatch for `kvmmu`. Exit codes: 0 success; 1 errors or failed expectations (check); 2 usage or I/O.
 * I/O is limited to reading the named files and writing to the two streams given.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { analyze } from '../../core/src/engine/analyze.js';
import type { Analysis, AnalyzeOptions } from '../../core/src/engine/analysis.js';
import { analyzeOnePass } from '../../core/src/engine/one_pass.js';
import { kernelFor } from '../../core/src/kernel/behaviours.js';
import { kernelFromSpec } from '../../core/src/syntax/check.js';
import { captureCommand, RealUsageError, realCommand, traceCommand } from './real/command.js';
import { writeReports, type ReportItem } from '../../core/src/views/json.js';
import {
  ansiStyle,
  PLAIN,
  renderBehaviours,
  renderDecode,
  renderDiagnostics,
  renderDiff,
  renderProfiles,
  renderRun,
  type Style,
} from '../../core/src/views/text.js';

/**
 * A scenario's text. Read synchronously: the command has nothing else to do meanwhile, and an asynchronous read
 * goes through the thread pool (for a 1.4 MB scenario, 6–10 ms against 4–6 ms in a fresh process, measured).
 */
function readText(file: string): string {
  return readFileSync(file, 'utf8');
}

export interface Io {
  stdout(s: string): void;
  /** Optional: stdout as bytes (UTF-8), for large outputs; when absent, `stdout` gets the same text. */
  stdoutBytes?(b: Uint8Array): void;
  /** `stdoutBytes` has written the bytes when it returns (stdout is a file): the caller may reuse its buffer. */
  stdoutBytesSync?: boolean;
  stderr(s: string): void;
  color: boolean;
  /** stdout is a terminal: JSON is indented for reading; piped, it is compact (scenarios can be large). */
  tty?: boolean;
}

const USAGE = `usage: kvmmu <command> [options]

  run FILE [--kernel P] [--at LINE] [--actions]   the scenario with each line's outcome, then roots and vCPU slots
  check FILE... [--kernel P] [--json]             diagnostics and expectations; exit 1 on errors or failed expects
  diff FILE --kernel A --kernel B                 the lines whose outcome differs between two kernels
  profiles                                        kernel profiles and their behaviours
  behaviours                                      every modelled behaviour with its commit and version
  decode [--kernel P] [--cpu-role] WORD           decode a page-role word (or a 64-bit cpu role)
  real FILE [--qemu [KERNEL]] [--kernel P] [--json] [--capture OUT]
                                                  run FILE on a real KVM (this host's /dev/kvm, or a Debian
                                                  kernel under QEMU TCG) and compare with the model; exit 1 on
                                                  any disagreement
  capture                                         the ftrace commands to capture KVM root events on this host
  trace CAPTURE [FILE] [--kernel P]               a capture beside the model (FILE: compare line by line)

  --kernel takes a profile with optional modifications, e.g. --kernel "v6.3 +tdp_mmu_root_ref".
  Colour on a terminal unless NO_COLOR is set.
`;

class UsageError extends Error {}

/** A `kvmmu real` failure after it started: a usage error is reported as one; anything else propagates. */
function usageOr(e: unknown, io: Io): number {
  if (e instanceof RealUsageError) {
    io.stderr(`kvmmu: ${e.message}\n`);
    return 2;
  }
  if (e instanceof Error && 'code' in e && typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) {
    io.stderr(`kvmmu: ${e.message}\n`);
    return 2;
  }
  throw e;
}

/** Runs the command line `argv`: resolves to the exit status, rejects on an internal error. */
export function main(argv: string[], io: Io): Promise<number> {
  return new Promise((resolve) => resolve(command(argv, io)));
}

function command(argv: string[], io: Io): number | Promise<number> {
  const st: Style = io.color ? ansiStyle() : PLAIN;
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return runCommand(rest, io, st);
      case 'check':
        return checkCommand(rest, io, st);
      case 'diff':
        return diffCommand(rest, io, st);
      case 'profiles':
        io.stdout(renderProfiles(st) + '\n');
        return 0;
      case 'behaviours':
      case 'behaviors':
        io.stdout(renderBehaviours(st) + '\n');
        return 0;
      case 'decode':
        return decodeCommand(rest, io, st);
      case 'real':
        return realCommand(rest, io, st).catch((e: unknown) => usageOr(e, io));
      case 'capture':
        return captureCommand(rest, io);
      case 'trace':
        return traceCommand(rest, io, st);
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return 0;
      case undefined:
        io.stderr(USAGE);
        return 2;
      default:
        throw new UsageError(`unknown command \`${command}\``);
    }
  } catch (e) {
    if (
      e instanceof UsageError ||
      e instanceof RealUsageError ||
      (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      io.stderr(`kvmmu: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof Error && 'code' in e && typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) {
      io.stderr(`kvmmu: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

function kernelOption(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const r = kernelFromSpec(value);
  if (!r.kernel) throw new UsageError(`--kernel: ${r.error ?? 'invalid kernel'}`);
  return value;
}

/**
 * The analysis of `file`. `states`: the command will ask for the state after some line (`--at`), so model
 * checkpoints are kept; otherwise only the final state is (a command runs once, and checkpoints cost time).
 */
function load(file: string, kernel: string | undefined, states = false): Analysis {
  const text = readText(file);
  const options: AnalyzeOptions = { checkpoints: states };
  if (kernel !== undefined) options.kernelOverride = kernel;
  return analyze(text, options);
}

function runCommand(args: string[], io: Io, st: Style): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { kernel: { type: 'string' }, at: { type: 'string' }, actions: { type: 'boolean' } },
  });
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw new UsageError('run takes exactly one FILE');
  const kernel = kernelOption(values.kernel);
  let at: number | undefined;
  if (values.at !== undefined) {
    at = Number(values.at);
    if (!Number.isInteger(at) || at < 1) throw new UsageError('--at takes a line number (1-based)');
  }
  const analysis = load(file, kernel, at !== undefined);
  const opts: { at?: number; actions?: boolean; style: Style } = { style: st };
  if (at !== undefined) opts.at = at;
  if (values.actions) opts.actions = true;
  io.stdout(renderRun(analysis, opts) + '\n');
  const errors = analysis.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) io.stderr(renderDiagnostics(file, errors, st).join('\n') + '\n');
  return 0;
}

function checkCommand(args: string[], io: Io, st: Style): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { kernel: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (positionals.length === 0) throw new UsageError('check takes at least one FILE');
  const kernel = kernelOption(values.kernel);
  let status = 0;
  const reports: ReportItem[] = [];
  for (const file of positionals) {
    let text: string;
    try {
      text = readText(file);
    } catch (e) {
      io.stderr(`kvmmu: ${file}: ${e instanceof Error ? e.message : String(e)}\n`);
      status = 2;
      continue;
    }
    // One pass: check needs the diagnostics, expectations, steps and final state, not the syntax tree.
    const options: AnalyzeOptions = {};
    if (kernel !== undefined) options.kernelOverride = kernel;
    const analysis = analyzeOnePass(text, options);
    const bad = analysis.diagnostics.some((d) => d.severity === 'error') || analysis.expectations.failed > 0;
    if (bad && status === 0) status = 1;
    if (values.json) reports.push({ analysis, options: { file } });
    else {
      const lines = renderDiagnostics(file, analysis.diagnostics, st);
      if (lines.length > 0) io.stderr(lines.join('\n') + '\n');
      const e = analysis.expectations;
      io.stdout(
        `${file}: ${analysis.kernel.label}: ${e.passed} expectation(s) passed, ${e.failed} failed, ` +
          `${analysis.diagnostics.filter((d) => d.severity === 'error').length} error(s)\n`,
      );
    }
  }
  // Streamed in chunks: a large scenario's report is tens of megabytes, never built as one string.
  if (values.json)
    writeReports(
      reports,
      reports.length !== 1,
      (chunk) => io.stdout(chunk),
      io.tty ? 2 : undefined,
      io.stdoutBytes ? (bytes) => io.stdoutBytes?.(bytes) : undefined,
      io.stdoutBytesSync === true,
    );
  return status;
}

function diffCommand(args: string[], io: Io, st: Style): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { kernel: { type: 'string', multiple: true } },
  });
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw new UsageError('diff takes exactly one FILE');
  const kernels = values.kernel ?? [];
  if (kernels.length !== 2) throw new UsageError('diff needs --kernel A --kernel B');
  const [ka, kb] = kernels.map(kernelOption) as [string, string];
  const text = readText(file);
  const one = (kernelOverride: string): Analysis => analyze(text, { kernelOverride, checkpoints: false });
  io.stdout(renderDiff(one(ka), one(kb), st) + '\n');
  return 0;
}

function decodeCommand(args: string[], io: Io, st: Style): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { kernel: { type: 'string' }, 'cpu-role': { type: 'boolean' } },
  });
  const [wordText, ...extra] = positionals;
  if (!wordText || extra.length > 0) throw new UsageError('decode takes exactly one WORD');
  const word = parseWord(wordText);
  let kernel = kernelFor();
  if (values.kernel !== undefined) {
    const spec = kernelFromSpec(values.kernel);
    if (!spec.kernel) throw new UsageError(`--kernel: ${spec.error ?? 'invalid kernel'}`);
    kernel = spec.kernel;
  }
  const limit = values['cpu-role'] ? 0xffff_ffff_ffff_ffffn : 0xffff_ffffn;
  if (word > limit) throw new UsageError(`${wordText} does not fit in ${values['cpu-role'] ? 64 : 32} bits`);
  io.stdout(renderDecode(kernel, word, values['cpu-role'] === true, st) + '\n');
  return 0;
}

function parseWord(text: string): bigint {
  const clean = text.replace(/_/g, '');
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(clean)) throw new UsageError(`\`${text}\` is not a number (decimal or 0x hex)`);
  return BigInt(clean);
}

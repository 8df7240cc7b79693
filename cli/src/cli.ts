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
import type { CommandHelpers } from './command.js';
import { diffCommand } from './diff.js';
import { matrixCommand } from './matrix.js';
import {
  ansiStyle,
  PLAIN,
  renderBehaviours,
  renderDecode,
  renderDiagnostics,
  renderProfiles,
  renderRun,
  showControls,
  type RunOptions,
  type Style,
} from '../../core/src/views/text.js';
import { VERSION } from './version.js';

/** `text` with its control characters visible when it goes to a terminal (scenario text may hold escapes). */
function visible(text: string, tty: boolean | undefined): string {
  return tty ? showControls(text) : text;
}

/**
 * A scenario's text; `-` is standard input. Read synchronously: the command has nothing else to do meanwhile,
 * and an asynchronous read goes through the thread pool (for a 1.4 MB scenario, 6–10 ms against 4–6 ms in a fresh
 * process, measured). A file that cannot be read is a FileError naming it in plain words.
 */
function readText(file: string, io: Io): string {
  try {
    return file === '-' ? (io.stdin ?? (() => readFileSync(0, 'utf8')))() : readFileSync(file, 'utf8');
  } catch (e) {
    throw new FileError(file === '-' ? 'standard input' : file, e);
  }
}

/** A file that could not be read, worded for a person: "x.kvmmu: no such file", not "ENOENT: …, open 'x.kvmmu'". */
export class FileError extends Error {
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`${file}: ${fileProblem(cause)}`);
  }
}

function fileProblem(e: unknown): string {
  const code = e instanceof Error && 'code' in e ? String(e.code) : '';
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'is a directory, not a scenario file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'ELOOP':
      return 'too many symbolic links';
    case 'ENAMETOOLONG':
      return 'the name is too long';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files';
    case 'EAGAIN':
      return 'not ready for reading (non-blocking input)';
    case 'ERR_STRING_TOO_LONG':
    case 'ERR_FS_FILE_TOO_LARGE':
      return 'too large to read';
    default:
      return e instanceof Error ? e.message : String(e);
  }
}

export interface Io {
  stdout(s: string): void;
  /** Optional: stdout as bytes (UTF-8), for large outputs; when absent, `stdout` gets the same text. */
  stdoutBytes?(b: Uint8Array): void;
  /** `stdoutBytes` has written the bytes when it returns (stdout is a file): the caller may reuse its buffer. */
  stdoutBytesSync?: boolean;
  stderr(s: string): void;
  color: boolean;
  /**
   * stdout is a terminal: JSON is indented for reading (piped, it is compact: scenarios can be large), and control
   * characters quoted from a scenario are shown visibly rather than sent to the terminal.
   */
  tty?: boolean;
  /** stderr is a terminal: diagnostics quoting a scenario show its control characters visibly. */
  stderrTty?: boolean;
  /** Standard input as text, for the FILE `-` (default: file descriptor 0). */
  stdin?(): string;
}

/** The one line of usage of each command, shown by `kvmmu COMMAND --help` and under the whole usage. */
const COMMANDS = {
  run: [
    'run FILE [--kernel P] [--at LINE] [--actions]',
    "the scenario with each line's outcome, then roots and vCPU slots",
  ],
  check: ['check FILE... [--kernel P] [--json]', 'diagnostics and expectations; exit 1 on errors or failed expects'],
  diff: [
    'diff FILE [--kernel A] --kernel B [--json]',
    "the lines whose outcome differs between two kernels (A: the file's own), each with the commits that explain it",
  ],
  matrix: [
    'matrix FILE... [--json]',
    "every line and expect under every kernel profile; exit 1 when an expect fails on the file's own kernel",
  ],
  profiles: ['profiles', 'kernel profiles and their behaviours'],
  behaviours: ['behaviours', 'every modelled behaviour with its commit and version'],
  decode: ['decode [--kernel P] [--cpu-role] WORD', 'decode a page-role word (or a 64-bit cpu role)'],
  real: [
    'real FILE [--qemu [KERNEL]] [--kernel P] [--json] [--capture OUT]',
    "run FILE on a real KVM (this host's /dev/kvm, or a Debian kernel under QEMU TCG) and compare with the model; exit 1 on any disagreement",
  ],
  capture: ['capture', 'the ftrace commands to capture KVM root events on this host'],
  trace: ['trace CAPTURE [FILE] [--kernel P]', 'a capture beside the model (FILE: compare line by line)'],
} as const satisfies Record<string, readonly [string, string]>;
type CommandName = keyof typeof COMMANDS;

const NOTES = `  FILE may be \`-\` for standard input.
  --kernel takes a profile with optional modifications, e.g. --kernel "v6.3 +tdp_mmu_root_ref".
  Colour on a terminal unless NO_COLOR is set.
`;

const USAGE = `usage: kvmmu <command> [options]

${Object.values(COMMANDS)
  .map(([synopsis, what]) => `  ${synopsis.padEnd(48)}${what}`)
  .join('\n')}
  --version                                       the version of kvmmu

${NOTES}`;

function commandUsage(name: CommandName): string {
  const [synopsis, what] = COMMANDS[name];
  return `usage: kvmmu ${synopsis}\n\n  ${what}\n\n${NOTES}`;
}

/** A mistake on the command line: the message, then where to find the usage (printed once, by --help). */
class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: CommandName,
  ) {
    super(message);
  }
}

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

function isCommand(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(COMMANDS, name);
}

function command(argv: string[], io: Io): number | Promise<number> {
  const st: Style = io.color ? ansiStyle() : PLAIN;
  const [first, ...rest] = argv;
  const name = first === 'behaviors' ? 'behaviours' : first;
  try {
    // `kvmmu run --help`: the command's usage, whatever else is on the line (it is not run).
    if (isCommand(name) && rest.some((a) => a === '--help' || a === '-h')) {
      io.stdout(commandUsage(name));
      return 0;
    }
    switch (name) {
      case 'run':
        return runCommand(rest, io, st);
      case 'check':
        return checkCommand(rest, io, st);
      case 'diff':
        return diffCommand(rest, io, st, helpers('diff', io));
      case 'matrix':
        return matrixCommand(rest, io, st, helpers('matrix', io));
      case 'profiles':
        noArguments('profiles', rest);
        io.stdout(renderProfiles(st) + '\n');
        return 0;
      case 'behaviours':
        noArguments('behaviours', rest);
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
      case '-h': {
        const about = rest[0];
        io.stdout(isCommand(about) ? commandUsage(about) : USAGE);
        return 0;
      }
      case 'version':
      case '--version':
      case '-V':
        io.stdout(`kvmmu ${VERSION}\n`);
        return 0;
      case undefined:
        io.stderr(USAGE);
        return 2;
      default:
        throw new UsageError(`unknown command \`${name}\``);
    }
  } catch (e) {
    const parseError = e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS');
    if (e instanceof UsageError || e instanceof RealUsageError || parseError) {
      const about = e instanceof UsageError ? e.command : isCommand(name) ? name : undefined;
      const help = about ? `kvmmu ${about} --help` : 'kvmmu --help';
      io.stderr(`kvmmu: ${visible(e.message, io.stderrTty)}\n(\`${help}\` for usage)\n`);
      return 2;
    }
    if (e instanceof FileError) {
      io.stderr(`kvmmu: ${visible(e.message, io.stderrTty)}\n`);
      return 2;
    }
    if (e instanceof Error && 'code' in e && typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) {
      io.stderr(`kvmmu: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

function noArguments(name: CommandName, args: string[]): void {
  if (args.length > 0) throw new UsageError(`${name} takes no arguments (got \`${args[0]}\`)`, name);
}

function kernelOption(value: string | undefined, command: CommandName): string | undefined {
  if (value === undefined) return undefined;
  const r = kernelFromSpec(value);
  if (!r.kernel) throw new UsageError(`--kernel: ${r.error ?? 'invalid kernel'}`, command);
  return value;
}

/**
 * The analysis of `file`. `states`: the command will ask for the state after some line (`--at`), so model
 * checkpoints are kept; otherwise only the final state is (a command runs once, and checkpoints cost time).
 */
function load(file: string, io: Io, kernel: string | undefined, states = false): Analysis {
  const text = readText(file, io);
  const options: AnalyzeOptions = { checkpoints: states };
  if (kernel !== undefined) options.kernelOverride = kernel;
  return analyze(text, options);
}

/** The file's own `kernel` line when `--kernel` replaced it with something else: the output says so. */
function overriddenKernel(analysis: Analysis, kernel: string | undefined): string | undefined {
  if (kernel === undefined) return undefined;
  const line = analysis.parse.statements.find((s) => s.kind === 'kernel');
  if (!line) return undefined;
  const own = kernelFromSpec(`${line.profile.name}${line.mods.map((m) => ` ${m.sign}${m.name}`).join('')}`).kernel;
  if (own && own.label === analysis.kernel.label) return undefined;
  return own?.label ?? line.profile.name;
}

function runCommand(args: string[], io: Io, st: Style): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { kernel: { type: 'string' }, at: { type: 'string' }, actions: { type: 'boolean' } },
  });
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw new UsageError('run takes exactly one FILE', 'run');
  const kernel = kernelOption(values.kernel, 'run');
  let at: number | undefined;
  if (values.at !== undefined) {
    at = /^\d+$/.test(values.at) ? Number(values.at) : NaN;
    if (!Number.isSafeInteger(at) || at < 1)
      throw new UsageError(`--at takes a line number (1-based), not \`${values.at}\``, 'run');
  }
  const analysis = load(file, io, kernel, at !== undefined);
  // Lines as an editor counts them: a final newline does not start another line.
  const lineCount = Math.max(1, analysis.parse.lines.length - (/\r?\n$|\r$/.test(analysis.text) ? 1 : 0));
  if (at !== undefined && at > lineCount)
    throw new UsageError(`--at ${at}: ${file === '-' ? 'standard input' : file} has ${lineCount} line(s)`, 'run');
  const opts: RunOptions = { style: st, visibleControls: io.tty === true };
  if (at !== undefined) opts.at = at;
  if (values.actions) opts.actions = true;
  const replaced = overriddenKernel(analysis, kernel);
  if (replaced !== undefined) opts.kernelNote = `--kernel replaces the file's \`kernel ${replaced}\``;
  io.stdout(renderRun(analysis, opts) + '\n');
  const errors = analysis.diagnostics.filter((d) => d.severity === 'error' && (at === undefined || d.span.line < at));
  if (errors.length > 0) io.stderr(renderDiagnostics(file, errors, st, io.stderrTty === true).join('\n') + '\n');
  return 0;
}

function checkCommand(args: string[], io: Io, st: Style): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { kernel: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (positionals.length === 0) throw new UsageError('check takes at least one FILE', 'check');
  const kernel = kernelOption(values.kernel, 'check');
  let status = 0;
  const reports: ReportItem[] = [];
  for (const file of positionals) {
    let text: string;
    try {
      text = readText(file, io);
    } catch (e) {
      if (!(e instanceof FileError)) throw e;
      io.stderr(`kvmmu: ${visible(e.message, io.stderrTty)}\n`);
      status = 2;
      // With --json the report still has one entry per FILE, in order: a reader can match them up.
      if (values.json) reports.push({ file, error: e.message });
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
      const lines = renderDiagnostics(file, analysis.diagnostics, st, io.stderrTty === true);
      if (lines.length > 0) io.stderr(lines.join('\n') + '\n');
      const e = analysis.expectations;
      io.stdout(
        `${visible(file, io.tty)}: ${analysis.kernel.label}: ${e.passed} expectation(s) passed, ${e.failed} failed, ` +
          `${analysis.diagnostics.filter((d) => d.severity === 'error').length} error(s)\n`,
      );
    }
  }
  // Streamed in chunks: a large scenario's report is tens of megabytes, never built as one string.
  // One FILE is one report; several are always an array, in argument order, whatever could be read.
  if (values.json)
    writeReports(
      reports,
      positionals.length > 1,
      (chunk) => io.stdout(chunk),
      io.tty ? 2 : undefined,
      io.stdoutBytes ? (bytes) => io.stdoutBytes?.(bytes) : undefined,
      io.stdoutBytesSync === true,
    );
  return status;
}

function helpers(command: CommandName, io: Io): CommandHelpers {
  return {
    usage: (message) => new UsageError(message, command),
    read: (file) => readText(file, io),
    kernel: (value) => kernelOption(value, command) as string,
  };
}

function decodeCommand(args: string[], io: Io, st: Style): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { kernel: { type: 'string' }, 'cpu-role': { type: 'boolean' } },
  });
  const [wordText, ...extra] = positionals;
  if (!wordText || extra.length > 0) throw new UsageError('decode takes exactly one WORD', 'decode');
  const word = parseWord(wordText);
  let kernel = kernelFor();
  if (values.kernel !== undefined) {
    const spec = kernelFromSpec(values.kernel);
    if (!spec.kernel) throw new UsageError(`--kernel: ${spec.error ?? 'invalid kernel'}`, 'decode');
    kernel = spec.kernel;
  }
  const limit = values['cpu-role'] ? 0xffff_ffff_ffff_ffffn : 0xffff_ffffn;
  if (word > limit) throw new UsageError(`${wordText} does not fit in ${values['cpu-role'] ? 64 : 32} bits`, 'decode');
  // Role words are written in hex everywhere (KVM's tracepoints, this tool's output): a bare `3784` is legal
  // decimal, but far more often a hex word missing its `0x`. Say what was decoded, and warn when it could be that.
  const decimal = /^\d+$/.test(wordText.replace(/_/g, ''));
  if (decimal && word >= 10n)
    io.stderr(
      `kvmmu: warning: \`${wordText}\` is read as decimal (= 0x${word.toString(16)}); ` +
        `for the hex word write \`0x${wordText.replace(/_/g, '')}\`\n`,
    );
  io.stdout(renderDecode(kernel, word, values['cpu-role'] === true, st, decimal ? wordText : undefined) + '\n');
  return 0;
}

function parseWord(text: string): bigint {
  const clean = text.replace(/_/g, '');
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(clean))
    throw new UsageError(`\`${text}\` is not a number (decimal or 0x hex)`, 'decode');
  return BigInt(clean);
}

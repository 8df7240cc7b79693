/**
 * The stable `--json` report of SPEC §4 (documented in docs/json.md). Field names are a contract: other tools and
 * the panel read them. Lines and columns are 1-based here (and only here and in the CLI text).
 */
import type { Analysis } from '../engine/analysis.js';
import type { OnePassAnalysis } from '../engine/one_pass.js';
import type { Action, RootSnapshot, StepOutcome, StepResult, VcpuSnapshot } from '../kernel/types.js';
import type { Severity } from '../syntax/ast.js';
import { JsonByteWriter, utf8 } from './json_bytes.js';

export interface JsonDiagnostic {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: Severity;
  code: string;
  message: string;
}

export interface JsonStep {
  line: number;
  vcpu: number;
  text: string;
  outcome: StepOutcome;
  summary: string;
  actions: Action[];
}

export interface JsonReport {
  file?: string;
  kernel: { profile: string; label: string; behaviours: string[] };
  diagnostics: JsonDiagnostic[];
  steps: JsonStep[];
  roots: RootSnapshot[];
  vcpus: (Pick<VcpuSnapshot, 'id' | 'mmu' | 'root' | 'prevRoots' | 'smm' | 'guestMode'> & { walkMmu: string })[];
  stats: Record<string, number>;
  expectations: { passed: number; failed: number };
  /** Present with --at: the 1-based line the state (roots, vcpus, stats) is taken after. */
  at?: number;
}

export interface JsonOptions {
  file?: string;
  /** The 1-based line to take the state (roots, vcpus, stats) after; the end when absent. */
  at?: number;
}

/** What a report is made from: a whole analysis (the editor, `--at`), or a one-pass analysis (the CLI's check). */
export type ReportSource = Analysis | OnePassAnalysis;

/** One entry of a report: a file's analysis, or (`kvmmu check --json` with several files) a file that could not be read. */
export type ReportItem = { analysis: ReportSource; options?: JsonOptions } | { file: string; error: string };

/** The entry for a file that could not be read: `{ "file": …, "error": … }`. */
export interface JsonFileError {
  file: string;
  error: string;
}

export function toJson(analysis: ReportSource, options: JsonOptions = {}): JsonReport {
  const steps: JsonStep[] = [];
  forEachStep(analysis, (line, vcpu, text, start, end, result) =>
    steps.push({
      line: line + 1,
      vcpu,
      text: text.slice(start, end),
      outcome: result.outcome,
      summary: result.summary,
      actions: result.actions,
    }),
  );
  return report(analysis, options, steps);
}

/**
 * Calls `each` with every step of `source` in order: its 0-based line, vCPU, a text and the part of it that is the
 * statement ([start, end)), and its result.
 */
function forEachStep(
  source: ReportSource,
  each: (line: number, vcpu: number, text: string, start: number, end: number, result: StepResult) => void,
): void {
  const steps = source.steps;
  const text = source.text;
  const { lines, vcpus, starts, ends, results } = steps.columns();
  for (let i = 0; i < steps.length; i++)
    each(
      lines[i] as number,
      vcpus[i] as number,
      text,
      starts[i] as number,
      ends[i] as number,
      results[i] as StepResult,
    );
}

function report(source: ReportSource, options: JsonOptions, steps: JsonStep[]): JsonReport {
  let snapshot = source.final;
  if (options.at !== undefined) {
    if (!('stateAt' in source)) throw new Error('a report at a line needs a whole analysis');
    snapshot = source.stateAt(options.at - 1);
  }
  const report: JsonReport = {
    kernel: {
      profile: source.kernel.profile.name,
      label: source.kernel.label,
      behaviours: [...source.kernel.behaviours],
    },
    diagnostics: source.diagnostics.map((d) => ({
      line: d.span.line + 1,
      column: d.span.start + 1,
      endLine: d.span.line + 1,
      endColumn: d.span.end + 1,
      severity: d.severity,
      code: d.code,
      message: d.message,
    })),
    steps,
    roots: snapshot.roots,
    vcpus: snapshot.vcpus.map((v) => ({
      id: v.id,
      mmu: v.mmu,
      walkMmu: v.walkMmu,
      root: v.root,
      prevRoots: v.prevRoots,
      smm: v.smm,
      guestMode: v.guestMode,
    })),
    stats: snapshot.stats,
    expectations: { passed: source.expectations.passed, failed: source.expectations.failed },
  };
  if (options.file !== undefined) report.file = options.file;
  if (options.at !== undefined) report.at = options.at;
  return report;
}

/**
 * Writes the reports of `items` — one report, or an array of them when `array` — exactly as
 * `writeJson(array ? items.map(toJson) : toJson(items[0]), …)` would, without building the steps first: compact
 * output to a byte sink (the CLI's `--json` to a pipe or file) encodes each step straight from the analysis, and
 * a step result the model shares (frozen) is encoded once and copied after. `bytesWritten`: `writeBytes` has
 * written each chunk when it returns (a file), so one buffer serves for every chunk.
 */
export function writeReports(
  items: readonly ReportItem[],
  array: boolean,
  write: (chunk: string) => void,
  indent?: number,
  writeBytes?: (chunk: Uint8Array) => void,
  bytesWritten = false,
): void {
  const compact = indent === undefined || indent <= 0;
  if (!compact || !writeBytes) {
    const reports = items.map((it) =>
      'error' in it ? ({ file: it.file, error: it.error } satisfies JsonFileError) : toJson(it.analysis, it.options),
    );
    writeJson(array ? reports : reports[0], write, indent, writeBytes);
    return;
  }
  const out = new JsonByteWriter(writeBytes, undefined, bytesWritten);
  if (array) out.text('[');
  items.forEach((it, i) => {
    if (i > 0) out.text(',');
    if ('error' in it) out.value({ file: it.file, error: it.error } satisfies JsonFileError);
    else writeReportBytes(out, it.analysis, it.options ?? {});
  });
  if (array) out.text(']');
  out.text('\n');
  out.flush();
}

function writeReportBytes(out: JsonByteWriter, source: ReportSource, options: JsonOptions): void {
  const r = report(source, options, []) as unknown as Record<string, unknown>;
  let first = true;
  for (const key of Object.keys(r)) {
    const v = r[key];
    if (v === undefined) continue;
    out.text((first ? '{' : ',') + JSON.stringify(key) + ':');
    first = false;
    if (key === 'steps') writeSteps(out, source);
    else out.value(v);
  }
  out.text(first ? '{}' : '}');
}

function writeSteps(out: JsonByteWriter, source: ReportSource): void {
  out.text('[');
  // The columns in one loop: a statement's text is encoded once per key, a shared result once.
  const steps = source.steps;
  const { lines, vcpus, starts, ends, results, keys } = steps.columns();
  out.stepColumns(source.text, steps.length, lines, vcpus, starts, ends, results, keys, (result) =>
    writeResult(out, result as StepResult),
  );
  out.text(']');
}

const OUTCOME_KEY = utf8(',"outcome":');
const SUMMARY_KEY = utf8(',"summary":');
const ACTIONS_KEY = utf8(',"actions":');
const CLOSE_BRACE = utf8('}');

/** A step's fields from its result, and the step's closing brace: kept when the result is shared (frozen). */
function writeResult(out: JsonByteWriter, result: StepResult): void {
  out.keyed(result, () => {
    out.raw(OUTCOME_KEY);
    out.value(result.outcome);
    out.raw(SUMMARY_KEY);
    out.value(result.summary);
    out.raw(ACTIONS_KEY);
    out.value(result.actions);
    out.raw(CLOSE_BRACE);
  });
}

/** Chunks handed to `write` are about this long: small enough to keep memory flat, big enough to be cheap. */
const CHUNK = 1 << 16;
/**
 * Containers deeper than this are stringified whole. Long arrays (and arrays of such leaves) are stringified
 * BATCH elements at a time: one report's steps, a multi-file report's steps, diagnostics.
 */
const MAX_WALK_DEPTH = 2;
const BATCH = 64;

/**
 * Writes `JSON.stringify(value, null, indent) + '\n'` to `write` in chunks, so a large report is never one
 * string. The text is exactly the same (a test holds it to that): containers near the top (the reports, their
 * steps arrays) are walked here and everything below is left to JSON.stringify, re-indented to its depth.
 * Values must be plain data (no toJSON, no functions), as a JsonReport is. With `writeBytes` and no indent, the
 * same text goes to `writeBytes` as UTF-8 instead (json_bytes.ts).
 */
export function writeJson(
  value: unknown,
  write: (chunk: string) => void,
  indent?: number,
  writeBytes?: (chunk: Uint8Array) => void,
): void {
  const pad = indent === undefined || indent <= 0 ? '' : ' '.repeat(Math.min(10, indent));
  if (!pad && writeBytes) {
    // Compact output to a byte sink (the CLI's stdout): encode straight to UTF-8, no intermediate strings.
    const out = new JsonByteWriter(writeBytes);
    out.value(value);
    out.text('\n');
    out.flush();
    return;
  }
  let buffer = '';
  const out = (s: string): void => {
    buffer += s;
    if (buffer.length >= CHUNK) {
      write(buffer);
      buffer = '';
    }
  };
  const leaf = (v: unknown, depth: number): string => {
    const s = JSON.stringify(v, null, pad) as string | undefined;
    if (s === undefined) return 'null';
    return pad && depth > 0 && s.includes('\n') ? s.replaceAll('\n', '\n' + pad.repeat(depth)) : s;
  };
  const walk = (v: unknown, depth: number): void => {
    if (depth > MAX_WALK_DEPTH || v === null || typeof v !== 'object') {
      out(leaf(v, depth));
      return;
    }
    const open = pad ? '\n' + pad.repeat(depth + 1) : '';
    const close = pad ? '\n' + pad.repeat(depth) : '';
    if (Array.isArray(v)) {
      if (v.length === 0) return out('[]');
      out('[');
      if (depth + 1 > MAX_WALK_DEPTH || v.length > BATCH) {
        // Elements are leaves: stringify them a batch at a time (far fewer calls), without the batch's brackets.
        for (let i = 0; i < v.length; i += BATCH) {
          const s = leaf(v.slice(i, i + BATCH), depth);
          out((i === 0 ? '' : ',') + s.slice(1, pad ? -close.length - 1 : -1));
        }
      } else
        for (let i = 0; i < v.length; i++) {
          out(i === 0 ? open : ',' + open);
          walk(v[i], depth + 1);
        }
      out(close + ']');
      return;
    }
    let first = true;
    for (const key of Object.keys(v)) {
      const item = (v as Record<string, unknown>)[key];
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
      out((first ? '{' : ',') + open + JSON.stringify(key) + (pad ? ': ' : ':'));
      first = false;
      walk(item, depth + 1);
    }
    out(first ? '{}' : close + '}');
  };
  walk(value, 0);
  out('\n');
  if (buffer) write(buffer);
}

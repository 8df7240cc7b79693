/**
 * The stable `--json` report of SPEC §4 (documented in docs/json.md). Field names are a contract: other tools and
 * the panel read them. Lines and columns are 1-based here (and only here and in the CLI text).
 */
import type { Analysis } from '../engine/analysis.js';
import type { Action, RootSnapshot, StepOutcome, VcpuSnapshot } from '../kvm/types.js';
import type { Severity } from '../syntax/ast.js';
import { spanText, splitLines } from '../text/positions.js';

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

export function toJson(analysis: Analysis, options: { file?: string; at?: number } = {}): JsonReport {
  const lines = splitLines(analysis.text);
  const snapshot = options.at === undefined ? analysis.final : analysis.stateAt(options.at - 1);
  const report: JsonReport = {
    kernel: {
      profile: analysis.kernel.profile.name,
      label: analysis.kernel.label,
      behaviours: [...analysis.kernel.behaviours],
    },
    diagnostics: analysis.diagnostics.map((d) => ({
      line: d.span.line + 1,
      column: d.span.start + 1,
      endLine: d.span.line + 1,
      endColumn: d.span.end + 1,
      severity: d.severity,
      code: d.code,
      message: d.message,
    })),
    steps: analysis.steps.map((s) => ({
      line: s.line + 1,
      vcpu: s.vcpu,
      text: spanText(lines, s.statement.span),
      outcome: s.result.outcome,
      summary: s.result.summary,
      actions: s.result.actions,
    })),
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
    expectations: { passed: analysis.expectations.passed, failed: analysis.expectations.failed },
  };
  if (options.file !== undefined) report.file = options.file;
  if (options.at !== undefined) report.at = options.at;
  return report;
}

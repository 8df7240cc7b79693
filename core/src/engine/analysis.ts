/**
 * What the engine computes for one document: the parse, the resolved header, every executed step
 * with the model's actions, expectation results, and state snapshots on demand. Every view (CLI,
 * JSON, hints, hovers, the panel) reads this; none re-runs the model itself.
 */
import type { Kernel } from '../kernel/behaviours.js';
import type { Snapshot, StepResult, VmConfig } from '../kernel/types.js';
import type { Diagnostic, ParseResult, Span, Statement } from '../syntax/ast.js';
import type { LineIndex } from '../text/positions.js';
import type { Steps } from './steps.js';

export interface AnalyzeOptions {
  /** Profile used when the file has no `kernel` line (setting kvmmu.kernel.default / --kernel). */
  defaultKernel?: string;
  /** Overrides the file's `kernel` line entirely (CLI --kernel, comparisons): "v6.3 +tdp_mmu_root_ref". */
  kernelOverride?: string;
  /**
   * False for an analysis that will only be asked for its final state (the CLI without --at): no model
   * checkpoints are kept along the way, so `stateAt` replays from the start and `reanalyze` from the top.
   */
  checkpoints?: boolean;
}

/** One executed statement (events only; header, vcpu switches, expect and decode are not steps). */
export interface Step {
  /** Index in Analysis.steps. */
  index: number;
  /** 0-based line. */
  line: number;
  vcpu: number;
  statement: Statement & { kind: 'event' };
  result: StepResult;
}

export interface ExpectationResult {
  /** 0-based line of the expect statement. */
  line: number;
  span: Span;
  ok: boolean;
  /** The value found, or null when the path has no value (e.g. root.id with no root). */
  actual: number | null;
  message: string;
}

export interface DecodeResult {
  line: number;
  statement: Statement & { kind: 'decode' };
}

export interface Analysis {
  readonly text: string;
  /** The document's lines, as the parser split them: every feature reads a line's text from here. */
  readonly lines: LineIndex;
  readonly parse: ParseResult;
  readonly kernel: Kernel;
  readonly vm: Readonly<VmConfig>;
  /** Parse, semantic, model (#GP, WARN, hazard) and expectation diagnostics, sorted by position. */
  readonly diagnostics: readonly Diagnostic[];
  /** The executed statements, in line order (at most one per line). */
  readonly steps: Steps;
  /** steps by 0-based line (undefined for lines without a step). */
  stepAt(line: number): Step | undefined;
  /** For each 0-based line, the vCPU its statement acts on (the `vcpu` section it is in). */
  vcpuAt(line: number): number;
  readonly expectations: { passed: number; failed: number; results: readonly ExpectationResult[] };
  /** Machine state after the statement on 0-based `line` (line -1: before anything ran). */
  stateAt(line: number): Snapshot;
  /** State after the last line. */
  readonly final: Snapshot;
  /** Root id → 0-based lines whose step has an action about that root (first is the allocation). */
  rootLines(id: number): number[];
}

/**
 * Typed custom requests between the language server and the VS Code client (and any other client),
 * and the messages between the client and the root panel webview. Documented in docs/protocol.md.
 * Only plain data crosses: snapshots and steps as the engine produces them (bigints never cross).
 */
import type { DiffExplanation } from './engine/explain.js';
import type { Matrix } from './engine/matrix.js';
import type { Action, Snapshot, StepOutcome } from './kernel/types.js';

/** `kvmmu/timeline`: every step of the document. */
export const TimelineRequest = 'kvmmu/timeline';
export interface TimelineParams {
  uri: string;
  /** "v6.3" or "v6.3 +tdp_mmu_root_ref"; absent = the document's own kernel. */
  kernel?: string;
}
export interface TimelineStep {
  /** 0-based line */
  line: number;
  vcpu: number;
  text: string;
  summary: string;
  outcome: StepOutcome;
  actions: Action[];
}
export interface TimelineResult {
  uri: string;
  version: number;
  kernel: { profile: string; label: string; behaviours: string[] };
  steps: TimelineStep[];
}

/** `kvmmu/stateAt`: the snapshot after a 0-based line, optionally under another kernel. */
export const StateAtRequest = 'kvmmu/stateAt';
export interface StateAtParams {
  uri: string;
  line: number;
  /** "v6.3" or "v6.3 +tdp_mmu_root_ref"; absent = the document's own kernel. */
  kernel?: string;
}
export interface StateAtResult {
  uri: string;
  version: number;
  line: number;
  kernel: { profile: string; label: string };
  snapshot: Snapshot;
  /** The step on that line, if the line is an event. */
  step: TimelineStep | null;
  /** Root ids touched by the step on this line (for highlighting). */
  changedRoots: number[];
  /** vCPU ids whose slots changed on this line. */
  changedVcpus: number[];
}

/** `kvmmu/compare`: lines whose outcome differs between two kernels. */
export const CompareRequest = 'kvmmu/compare';
export interface CompareParams {
  uri: string;
  kernelA: string;
  kernelB: string;
}
export interface CompareLine {
  line: number;
  text: string;
  a: string;
  b: string;
}
export interface CompareResult {
  uri: string;
  kernelA: string;
  kernelB: string;
  lines: CompareLine[];
}

/** `kvmmu/profiles`: the profiles and behaviours, for pickers. */
export const ProfilesRequest = 'kvmmu/profiles';
export interface ProfilesResult {
  profiles: { name: string; release: string; era: string }[];
  behaviours: { name: string; title: string; version: string; whatIf: boolean }[];
}

/**
 * `kvmmu/explain`: the lines whose outcome differs between two kernels, each with the behaviours (commits) that
 * explain it (core/src/engine/explain.ts). Computed per document version off the main analysis, cancellable.
 */
export const ExplainRequest = 'kvmmu/explain';
export interface ExplainParams {
  uri: string;
  /** Absent: the document's own kernel. */
  kernelA?: string;
  kernelB: string;
}
export interface ExplainResult {
  uri: string;
  version: number;
  /** As `kvmmu diff --json`: a, b, candidates, lines (with explanations), counters, analyses. */
  diff: DiffExplanation;
}

/** `kvmmu/matrix`: the document under every profile (core/src/engine/matrix.ts); per version, cancellable. */
export const MatrixRequest = 'kvmmu/matrix';
export interface MatrixParams {
  uri: string;
}
export interface MatrixResult {
  uri: string;
  version: number;
  matrix: Matrix;
}

/**
 * `kvmmu/expectations`: each `expect`'s result under each kernel (the Testing view). `text` is for a file no
 * editor has open (the client reads it); without it the open document's text is used.
 */
export const ExpectationsRequest = 'kvmmu/expectations';
export interface ExpectationsParams {
  uri: string;
  text?: string;
  /** Kernel specs; '' is the file's own kernel line. */
  kernels: string[];
}
export interface ExpectationsResult {
  uri: string;
  runs: {
    kernel: string;
    label: string;
    /** Error diagnostics other than failed expectations, e.g. a syntax error (the file does not run cleanly). */
    errors: { line: number; message: string }[];
    results: { line: number; ok: boolean; actual: number | null; message: string }[];
  }[];
}

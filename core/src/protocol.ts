/**
 * Typed custom requests between the language server and the VS Code client (and any other client),
 * and the messages between the client and the root panel webview. Documented in docs/protocol.md.
 * Only plain data crosses: snapshots and steps as the engine produces them (bigints never cross).
 */
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

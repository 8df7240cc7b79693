/**
 * The language server's custom protocol, in one module the server, the VS Code client and the playground import:
 * every `kvmmu/…` method as a typed request object (`defineRequest`), and the types of what crosses. Documented
 * in docs/protocol.md (a test checks that the page and this module name the same methods and fields).
 *
 * The payload types are declared here, not borrowed from the model: they are the wire format. The server builds
 * them from an Analysis (core/src/features/timeline.ts) and the compiler checks that what it builds fits them.
 * Only plain JSON crosses: 64-bit values (registers, roles) are hex strings, bigints never cross.
 *
 * No JSON-RPC library here (core is pure): each side adapts a request object in a few lines —
 * server/src/protocol.ts `onRequest`, the client's `Ctx.request`, the playground's `request`.
 */

/** The language id of `.kvmmu` documents (package.json's `contributes.languages` is the manifest's copy). */
export const LANGUAGE_ID = 'kvmmu';

/** A custom request: its method, and its params and result as types only. */
export interface RequestType<P, R> {
  readonly method: `kvmmu/${string}`;
  /** Never set: it carries the types, so `request(TimelineRequest, …)` knows its params and result. */
  readonly types?: { params: P; result: R };
}

export type ParamsOf<T> = T extends RequestType<infer P, unknown> ? P : never;
export type ResultOf<T> = T extends RequestType<unknown, infer R> ? R : never;

/** What sends requests: the VS Code client's context, the playground's client, a test's connection. */
export interface Requester {
  request<P, R>(request: RequestType<P, R>, params: P): Promise<R>;
}

export function defineRequest<P, R>(method: `kvmmu/${string}`): RequestType<P, R> {
  return Object.freeze({ method });
}

// ---------------------------------------------------------------------------------------------------------------
// The wire types of the model's data (the same shapes core/src/kernel/types.ts declares; the server's code is
// checked against these, so the model cannot change what crosses by accident).

export type MmuName = 'root_mmu' | 'guest_mmu' | 'nested_mmu';
export type StepOutcome = 'ok' | 'gp' | 'no_exit' | 'vmfail' | 'shutdown' | 'error';
export type ActionOp =
  | 'alloc'
  | 'reuse'
  | 'cache_hit'
  | 'cache_miss'
  | 'get'
  | 'put'
  | 'evict'
  | 'unload'
  | 'invalidate'
  | 'zap'
  | 'queue_zap'
  | 'free'
  | 'request'
  | 'flush'
  | 'reinit'
  | 'reinit_skipped'
  | 'fault'
  | 'no_exit'
  | 'warn'
  | 'hazard'
  | 'dummy_root'
  | 'pte_write';

/** What KVM did, one action of a step (docs/json.md lists the ops and their fields). */
export interface Action {
  op: ActionOp;
  /** Kernel call path, outermost first. */
  path: readonly string[];
  detail: string;
  vcpu?: number;
  mmu?: MmuName;
  root?: number;
  roots?: number[];
  slot?: string;
  refcount?: [number, number];
  request?: string;
  role?: string;
  /** pte_write: `pte` (the written entry zapped, the page kept), `misaligned` or `flooded` (the page is zapped). */
  write?: 'pte' | 'misaligned' | 'flooded';
  /** pte_write: the page's write_flooding_count after the write. */
  flooding?: number;
}

export type RootKind = 'tdp_mmu' | 'shadow' | 'nested_ept' | 'nested_npt' | 'pae';
export type RootState = 'valid' | 'invalid' | 'freed';

export interface RootSnapshot {
  id: number;
  kind: RootKind;
  role: string;
  level: number;
  smm: boolean;
  guestMode: boolean;
  refcount: number;
  state: RootState;
  obsolete: boolean;
  /** 1-based lines. */
  allocatedAt: number;
  freedAt: number | null;
  gfn: string | null;
  holders: string[];
}

export interface MmuSnapshot {
  name: MmuName;
  root: number | null;
  rootPgd: string;
  prevRoots: (number | null)[];
  prevPgds: string[];
  cpuRole: string;
  rootRole: string;
  guestLevel: number;
  rootLevel: number;
  rootSpecial: 'pae_root' | 'pml4_root' | 'pml5_root' | 'dummy' | null;
  paeRoots: (number | null)[];
}

export interface VcpuSnapshot {
  id: number;
  mmu: MmuName;
  walkMmu: MmuName;
  root: number | null;
  prevRoots: (number | null)[];
  smm: boolean;
  guestMode: boolean;
  regs: { cr0: string; cr3: string; cr4: string; efer: string };
  mmus: MmuSnapshot[];
  requests: string[];
  destroyed: boolean;
}

export interface Snapshot {
  roots: RootSnapshot[];
  vcpus: VcpuSnapshot[];
  stats: Record<string, number>;
  mmuValidGen: number;
  vmDestroyed: boolean;
  /** kvm->arch.n_used_mmu_pages and n_max_mmu_pages (null: the memslot-based default). */
  mmuPages?: { used: number; max: number | null };
}

/** A kernel as requests name it: "v6.3" or "v6.3 +tdp_mmu_root_ref"; absent = the document's own kernel. */
export type KernelSpec = string;

// ---------------------------------------------------------------------------------------------------------------
// Requests.

/** One executed step with its actions in full (`kvmmu/stateAt`'s `step`). */
export interface TimelineStep {
  /** 0-based line */
  line: number;
  vcpu: number;
  text: string;
  summary: string;
  outcome: StepOutcome;
  actions: Action[];
}

/** An action in `kvmmu/timeline`: as Action, with its call path an index into the result's `paths`. */
export type TimelineAction = Omit<Action, 'path'> & { path: number };

/** A step in `kvmmu/timeline`. */
export type TimelineEntry = Omit<TimelineStep, 'actions'> & { actions: TimelineAction[] };

export interface TimelineParams {
  uri: string;
  kernel?: KernelSpec;
}
export interface TimelineResult {
  uri: string;
  version: number;
  kernel: { profile: string; label: string; behaviours: string[] };
  /** Every distinct kernel call path, once (actions name them by index): most actions share a few paths. */
  paths: (readonly string[])[];
  steps: TimelineEntry[];
}
/** `kvmmu/timeline`: every step of the document. */
export const TimelineRequest = defineRequest<TimelineParams, TimelineResult>('kvmmu/timeline');

export interface StateAtParams {
  uri: string;
  line: number;
  kernel?: KernelSpec;
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
/** `kvmmu/stateAt`: the snapshot after a 0-based line, optionally under another kernel. */
export const StateAtRequest = defineRequest<StateAtParams, StateAtResult>('kvmmu/stateAt');

export interface KernelParams {
  uri: string;
}
/** Where the document's kernel comes from. */
export type KernelSource = 'file' | 'setting' | 'default';
export interface KernelResult {
  uri: string;
  version: number;
  profile: string;
  /** "v6.3 +tdp_mmu_root_ref" */
  label: string;
  /** The profile's eras, e.g. "TDP roots: async zap worker · roles: cpu_role split". */
  era: string;
  /**
   * 'file': the document's `kernel` line (`line`, 0-based); 'setting': `kvmmu.kernel.default` as it applies to
   * the document; 'default': that setting at its default value.
   */
  source: KernelSource;
  line: number | null;
}
/** `kvmmu/kernel`: the document's resolved kernel and where it comes from (the status bar). */
export const KernelRequest = defineRequest<KernelParams, KernelResult>('kvmmu/kernel');

export interface CompareParams {
  uri: string;
  kernelA: KernelSpec;
  kernelB: KernelSpec;
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
/** `kvmmu/compare`: lines whose outcome differs between two kernels. */
export const CompareRequest = defineRequest<CompareParams, CompareResult>('kvmmu/compare');

/** No params (`{}`). */
export type ProfilesParams = Record<string, never>;
export interface ProfilesResult {
  profiles: { name: string; release: string; era: string }[];
  behaviours: { name: string; title: string; version: string; whatIf: boolean }[];
}
/** `kvmmu/profiles`: the profiles and behaviours, for pickers. */
export const ProfilesRequest = defineRequest<ProfilesParams, ProfilesResult>('kvmmu/profiles');

export interface ExplainingBehaviour {
  readonly name: string;
  readonly commits: readonly string[];
  readonly title: string;
  readonly version: string;
  readonly change: 'add' | 'revert';
}
export interface Explanation {
  readonly behaviours: readonly ExplainingBehaviour[];
  readonly tried: readonly string[];
  readonly kernel: string;
}
export type ExplainStatus = 'single' | 'pair' | 'more' | 'not-searched';
export interface ExplainedLine {
  /** 0-based line. */
  readonly line: number;
  readonly text: string;
  readonly a: string;
  readonly b: string;
  readonly status: ExplainStatus;
  readonly explanations: readonly Explanation[];
}
/** As `kvmmu diff --json` (core/src/engine/explain.ts). */
export interface DiffExplanation {
  readonly a: { readonly spec: string; readonly label: string };
  readonly b: { readonly spec: string; readonly label: string };
  readonly candidates: readonly string[];
  readonly lines: readonly ExplainedLine[];
  readonly counters: readonly { readonly name: string; readonly a: number | null; readonly b: number | null }[];
  readonly analyses: number;
}
export interface ExplainParams {
  uri: string;
  /** Absent: the document's own kernel. */
  kernelA?: KernelSpec;
  kernelB: KernelSpec;
}
export interface ExplainResult {
  uri: string;
  version: number;
  diff: DiffExplanation;
}
/**
 * `kvmmu/explain`: the lines whose outcome differs between two kernels, each with the behaviours (commits) that
 * explain it. Computed per document version off the main analysis, cancellable.
 */
export const ExplainRequest = defineRequest<ExplainParams, ExplainResult>('kvmmu/explain');

/** As `kvmmu matrix --json` (core/src/engine/matrix.ts). */
export interface Matrix {
  readonly kernels: readonly {
    readonly name: string;
    readonly release: string;
    readonly spec: string;
    readonly own: boolean;
    readonly base?: string;
    readonly sameAs?: string;
    readonly errors: number;
    readonly passed: number;
    readonly failed: number;
  }[];
  readonly lines: readonly {
    readonly line: number;
    readonly text: string;
    readonly groups: readonly { readonly outcome: string; readonly kernels: readonly string[] }[];
    readonly changes: readonly { readonly from: string; readonly to: string }[];
    readonly differsFromOwn: readonly string[];
  }[];
  readonly agreeing: number;
  readonly expects: readonly {
    readonly line: number;
    readonly text: string;
    readonly results: readonly ({
      readonly ok: boolean;
      readonly actual: number | null;
      readonly message: string;
    } | null)[];
  }[];
}
export interface MatrixParams {
  uri: string;
}
export interface MatrixResult {
  uri: string;
  version: number;
  matrix: Matrix;
}
/** `kvmmu/matrix`: the document under every profile; per version, cancellable. */
export const MatrixRequest = defineRequest<MatrixParams, MatrixResult>('kvmmu/matrix');

export interface ExpectationsParams {
  uri: string;
  /** For a file no editor has open (the client reads it); without it the open document's text is used. */
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
/** `kvmmu/expectations`: each `expect`'s result under each kernel (the Testing view). */
export const ExpectationsRequest = defineRequest<ExpectationsParams, ExpectationsResult>('kvmmu/expectations');

/** Every custom request the server answers (docs/protocol.md documents each; a test holds them together). */
export const REQUESTS = [
  TimelineRequest,
  StateAtRequest,
  KernelRequest,
  CompareRequest,
  ProfilesRequest,
  ExplainRequest,
  MatrixRequest,
  ExpectationsRequest,
] as const;

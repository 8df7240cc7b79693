/**
 * Semantic checks over a whole parse: the header (kernel profile and `vm` configuration), which vCPU
 * every line acts on, and the rules that need the configuration (vCPU ids, nested events, vendor).
 * Pure and total: it reports, it never throws. A line that gets an error here must not be executed
 * (the engine skips every line with an error diagnostic).
 */
import {
  BEHAVIOURS,
  DEFAULT_PROFILE,
  findBehaviour,
  findProfile,
  makeKernel,
  PROFILES,
  type BehaviourName,
  type Kernel,
} from '../kernel/behaviours.js';
import { checkKernel, describeConflict, kernelSpec } from '../kernel/resolve.js';
import { DEFAULT_VM, type VmConfig } from '../kernel/types.js';
import { suggest } from '../util/suggest.js';
import type { Diagnostic, KernelMod, Named, ParsedLine, ParseResult, Span, Statement } from './ast.js';
import { parseLine } from './parser.js';

export interface CheckOptions {
  /** Used when the file has no `kernel` line (default "latest"); may carry +/- modifications. */
  defaultKernel?: string;
  /** Replaces the file's `kernel` line, e.g. "v6.3 +tdp_mmu_root_ref". */
  kernelOverride?: string;
}

export interface CheckedScenario {
  kernel: Kernel;
  vm: VmConfig;
  /** Semantic diagnostics (parse diagnostics stay in the ParseResult). */
  diagnostics: Diagnostic[];
  /** vcpuOf[i]: the vCPU the statement on 0-based line i acts on; -1 for blank and comment lines. */
  vcpuOf: Int32Array;
  /**
   * Set when `kernelOverride` or `defaultKernel` could not be resolved (they have no line to carry a
   * diagnostic); the kernel then falls back to the file's line or `latest`. Front ends should refuse.
   */
  kernelError?: string;
}

/** Events that exist only for a VM with nested virtualization, and the vendor each needs (if one). */
const NESTED_EVENTS: Readonly<Record<string, 'intel' | 'amd' | undefined>> = {
  vmenter: undefined,
  vmexit: undefined,
  invept: 'intel',
  invvpid: 'intel',
  vmxon: 'intel',
  vmxoff: 'intel',
  vmclear: 'intel',
  vmptrld: 'intel',
  stgi: 'amd',
  clgi: 'amd',
};

export function checkScenario(parse: ParseResult, opts: CheckOptions = {}): CheckedScenario {
  const scan = new HeaderScan();
  for (const pl of parse.lines) scan.line(pl);
  const header = scan.finish(opts);
  const lines = new LineChecker(header, header.diagnostics);
  const vcpuOf = new Int32Array(parse.lines.length);
  for (let i = 0; i < parse.lines.length; i++) vcpuOf[i] = lines.check(parse.lines[i] as ParsedLine);
  const result: CheckedScenario = { kernel: header.kernel, vm: header.vm, diagnostics: header.diagnostics, vcpuOf };
  if (header.kernelError !== undefined) result.kernelError = header.kernelError;
  return result;
}

/** The resolved header: the kernel and VM the whole file runs under, and the diagnostics found so far. */
export interface CheckedHeader {
  kernel: Kernel;
  vm: VmConfig;
  /** The header's diagnostics; LineChecker adds the per-line ones after them. */
  diagnostics: Diagnostic[];
  /** As CheckedScenario.kernelError. */
  kernelError?: string;
}

/**
 * Pass 1 of the checks: the header, from every line in order (`line`), then resolved (`finish`). Each header line
 * counts at most once; a header after an event is an error but still applies (the whole file runs under one
 * kernel and one VM). Only the header's statements are kept, so a one-pass reader can feed it lines it drops.
 */
export class HeaderScan {
  private readonly diagnostics: Diagnostic[] = [];
  private kernelStmt: (Statement & { kind: 'kernel' }) | undefined;
  private vmStmt: (Statement & { kind: 'vm' }) | undefined;
  private firstEvent: Span | undefined;

  /**
   * A line other than the header's has been seen: from here on a `kernel` or `vm` statement is an error (but
   * still applies), and nothing else changes the header.
   */
  get eventsBegan(): boolean {
    return this.firstEvent !== undefined;
  }

  line(pl: ParsedLine): void {
    // A `vm` line with a bad setting still sets the others (its errors are the line's own diagnostics).
    const s = pl.statement ?? pl.recovered;
    if (!s) {
      // A line that failed to parse still marks where the events begin.
      const isHeader = pl.keyword?.name === 'kernel' || pl.keyword?.name === 'vm';
      if (!this.firstEvent && pl.content && !isHeader) this.firstEvent = pl.content;
      return;
    }
    if (s.kind === 'kernel' || s.kind === 'vm') {
      if (this.firstEvent)
        this.report(
          s.span,
          'header-after-event',
          `\`${s.kind}\` must come before the first event (line ${this.firstEvent.line + 1})`,
        );
      if (s.kind === 'kernel') {
        if (this.kernelStmt)
          this.report(
            s.span,
            'duplicate-header',
            `a second \`kernel\` line (the first is line ${this.kernelStmt.span.line + 1})`,
          );
        else this.kernelStmt = s;
      } else if (this.vmStmt)
        this.report(
          s.span,
          'duplicate-header',
          `a second \`vm\` line (the first is line ${this.vmStmt.span.line + 1})`,
        );
      else this.vmStmt = s;
    } else if (!this.firstEvent) {
      this.firstEvent = s.span;
    }
  }

  /** The kernel (override > file > default) and the VM, after every line has been seen. */
  finish(opts: CheckOptions = {}): CheckedHeader {
    const diagnostics = this.diagnostics;
    let kernel: Kernel | undefined;
    let kernelError: string | undefined;
    if (opts.kernelOverride !== undefined) {
      const r = kernelFromSpec(opts.kernelOverride);
      if (r.kernel) kernel = r.kernel;
      else kernelError = `kernel override \`${opts.kernelOverride}\`: ${r.error}`;
    }
    if (this.kernelStmt) {
      // Checked even when overridden: a wrong line is wrong whatever runs it.
      const r = resolveKernel(this.kernelStmt.profile, this.kernelStmt.mods);
      for (const d of r.diagnostics) diagnostics.push(d); // one per +/- on the line: not spread (unbounded)
      kernel ??= r.kernel;
    }
    if (!kernel) {
      const spec = opts.defaultKernel ?? DEFAULT_PROFILE;
      const r = kernelFromSpec(spec);
      if (r.kernel) kernel = r.kernel;
      else kernelError ??= `default kernel \`${spec}\`: ${r.error}`;
    }
    kernel ??= makeKernel(findProfile(DEFAULT_PROFILE)!);
    const header: CheckedHeader = { kernel, vm: vmConfig(this.vmStmt), diagnostics };
    if (kernelError !== undefined) header.kernelError = kernelError;
    return header;
  }

  private report(span: Span, code: string, message: string): void {
    this.diagnostics.push({ span, severity: 'error', code, message });
  }
}

/**
 * Pass 2 of the checks, one line at a time in order: which vCPU each line acts on, and the rules that depend on
 * the VM. Its diagnostics are pushed to `diagnostics` (they come after the header's).
 */
export class LineChecker {
  private current = 0;
  /** The `vcpu N` line that chose `current`. */
  private currentSpan: Span | undefined;
  private readonly report: (span: Span, code: string, message: string) => void;

  constructor(
    private readonly header: CheckedHeader,
    diagnostics: Diagnostic[],
  ) {
    this.report = (span, code, message) => diagnostics.push({ span, severity: 'error', code, message });
  }

  /** The vCPU the line's statement acts on; -1 for blank and comment lines. */
  check(pl: ParsedLine): number {
    if (!pl.content) return -1;
    const vm = this.header.vm;
    const s = pl.statement;
    if (s?.kind === 'vcpu') {
      this.current = s.id;
      this.currentSpan = s.span;
      if (s.id >= vm.vcpus) this.report(s.idSpan, 'vcpu-out-of-range', noSuchVcpu(s.id, vm.vcpus));
      return s.id;
    }
    const prefix = pl.vcpuPrefix;
    const vcpu = prefix?.id ?? this.current;
    if (!s || s.kind === 'kernel' || s.kind === 'vm' || s.kind === 'decode') return vcpu;
    if (vcpu >= vm.vcpus) {
      const where = prefix ? prefix.span : s.span;
      const why = prefix || !this.currentSpan ? '' : ` (selected on line ${this.currentSpan.line + 1})`;
      this.report(where, 'vcpu-out-of-range', noSuchVcpu(vcpu, vm.vcpus) + why);
      return vcpu;
    }
    if (s.kind === 'event' && s.keyword in NESTED_EVENTS) checkNested(s, vm, this.report);
    // With declared memory, a slot is its layout: `memslot create N` alone would back nothing.
    if (s.kind === 'event' && s.op.op === 'memslot' && s.op.action === 'create' && s.op.gfn === undefined) {
      if (vm.memory === 'slots')
        this.report(
          s.span,
          'memslot-needs-layout',
          '`vm memory=slots`: a memslot is its gfn range; write `memslot create N gfn=G pages=P`',
        );
    }
    return vcpu;
  }
}

function noSuchVcpu(id: number, vcpus: number): string {
  return `vCPU ${id} does not exist: the VM has ${vcpus} vCPU${vcpus === 1 ? '' : 's'} (0..${vcpus - 1}; see \`vm vcpus=N\`)`;
}

function checkNested(
  s: Statement & { kind: 'event' },
  vm: VmConfig,
  report: (span: Span, code: string, message: string) => void,
): void {
  if (!vm.nested) {
    report(
      s.keywordSpan,
      'nested-disabled',
      `\`${s.keyword}\` needs nested virtualization: add \`nested=on\` to the \`vm\` line`,
    );
    return;
  }
  const vendorNeeded = NESTED_EVENTS[s.keyword];
  if (vendorNeeded && vm.vendor !== vendorNeeded) {
    const kind = vendorNeeded === 'intel' ? 'a VMX' : 'an SVM';
    report(
      s.keywordSpan,
      'wrong-vendor',
      `\`${s.keyword}\` is ${kind} instruction; this VM is \`vendor=${vm.vendor}\``,
    );
    return;
  }
  const op = s.op;
  if (op.op !== 'vmenter') return;
  if (op.ept && vm.vendor !== 'intel') {
    report(
      s.keywordSpan,
      'wrong-vendor',
      '`ept=on` is nested EPT (Intel VMX); this VM is `vendor=amd`: use `npt=on ncr3=…`',
    );
  } else if (op.npt && vm.vendor !== 'amd') {
    report(
      s.keywordSpan,
      'wrong-vendor',
      '`npt=on` is nested NPT (AMD SVM); this VM is `vendor=intel`: use `ept=on eptp=…`',
    );
  } else if ((op.ept || op.npt) && !vm.tdp) {
    // KVM offers EPT/NPT to L1 only when it uses them itself (nested_vmx_setup_ctls_msrs, svm nested_npt).
    report(
      s.keywordSpan,
      'nested-tdp-unavailable',
      `KVM exposes ${op.ept ? 'EPT' : 'NPT'} to L1 only when it uses ${op.ept ? 'EPT' : 'NPT'} itself; this VM has \`tdp=off\``,
    );
  }
}

/** The `vm` line over DEFAULT_VM. Values were validated by the parser. */
function vmConfig(stmt: (Statement & { kind: 'vm' }) | undefined): VmConfig {
  const vm: VmConfig = { ...DEFAULT_VM };
  for (const { key, value } of stmt?.settings ?? []) {
    const on = value === 'on';
    switch (key) {
      case 'vendor':
        vm.vendor = value === 'amd' ? 'amd' : 'intel';
        break;
      case 'tdp':
        vm.tdp = on;
        break;
      case 'tdp_mmu':
        vm.tdp_mmu = on;
        break;
      case 'max_tdp_level':
        vm.max_tdp_level = value === '5' ? 5 : 4;
        break;
      case 'maxphyaddr':
        vm.maxphyaddr = Number(value);
        break;
      case 'vcpus':
        vm.vcpus = Number(value);
        break;
      case 'nested':
        vm.nested = on;
        break;
      case 'ad':
        vm.ad = on;
        break;
      case 'slot_zap_all':
        vm.slot_zap_all = on;
        break;
      case 'memory':
        vm.memory = value === 'slots' ? 'slots' : 'all';
        break;
      case 'nx_huge_pages':
        vm.nx_huge_pages = on;
        break;
      case 'noncoherent_dma':
        vm.noncoherent_dma = on;
        break;
      case 'cd_nw_cleared':
        vm.cd_nw_cleared = on;
        break;
    }
  }
  return vm;
}

/** Profile and modifications from a `kernel` line, with diagnostics on their spans. */
export function resolveKernel(
  profile: Named,
  mods: readonly KernelMod[],
  /** A file's `kernel` line (the scenario still runs) rather than an override (which is refused). */
  inFile = true,
): { kernel: Kernel | undefined; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const p = findProfile(profile.name);
  if (!p) diagnostics.push(unknownProfile(profile.name, profile.span));
  const added: BehaviourName[] = [];
  const removed: BehaviourName[] = [];
  const seen = new Map<string, KernelMod>();
  for (const m of mods) {
    const nameSpan: Span = { line: m.span.line, start: m.span.start + 1, end: m.span.end };
    const b = findBehaviour(m.name);
    if (!b) {
      diagnostics.push(
        unknown(
          m.name,
          nameSpan,
          BEHAVIOURS.map((x) => x.name),
          'unknown-behaviour',
          'behaviour',
        ),
      );
      continue;
    }
    const before = seen.get(m.name);
    if (before) {
      if (before.sign !== m.sign) {
        diagnostics.push({
          span: m.span,
          severity: 'error',
          code: 'conflicting-mod',
          message: `\`${m.name}\` is both added and removed`,
        });
      } else {
        diagnostics.push({
          span: m.span,
          severity: 'warning',
          code: 'redundant-mod',
          message: `\`${m.sign}${m.name}\` is given twice`,
        });
      }
      continue;
    }
    seen.set(m.name, m);
    const inProfile = p?.behaviours.includes(b.name) ?? false;
    if (p && m.sign === '+' && inProfile) {
      diagnostics.push({
        span: m.span,
        severity: 'warning',
        code: 'redundant-mod',
        message: `${p.name} already has \`${m.name}\``,
      });
    } else if (p && m.sign === '-' && !inProfile) {
      diagnostics.push({
        span: m.span,
        severity: 'warning',
        code: 'redundant-mod',
        message: `${p.name} does not have \`${m.name}\` to remove`,
      });
    }
    (m.sign === '+' ? added : removed).push(b.name);
  }
  const ok = p && !diagnostics.some((d) => d.severity === 'error');
  if (!ok) return { kernel: undefined, diagnostics };
  const check = checkKernel(p, added, removed);
  if (check.conflicts.length === 0) return { kernel: makeKernel(p, added, removed), diagnostics };
  // Not a kernel that existed: say why, offer the nearest that did, and run the plain profile meanwhile.
  const last = mods[mods.length - 1]!;
  const span: Span = { line: profile.span.line, start: profile.span.start, end: last.span.end };
  const set = new Set(makeKernel(p, added, removed).behaviours);
  const why = check.conflicts.map((c) => describeConflict(c, set)).join('; ');
  const diagnostic: Diagnostic = {
    span,
    severity: 'error',
    code: 'impossible-kernel',
    message: `no kernel has this combination: ${why}.`,
  };
  if (check.fix) {
    const spec = kernelSpec(p.name, check.fix.added, check.fix.removed);
    diagnostic.message += ` The nearest that could exist: \`kernel ${spec}\`.`;
    diagnostic.fix = { title: `Change to \`kernel ${spec}\``, edits: [{ span, newText: spec }] };
  } else {
    diagnostic.message += ' The + and - on this line ask for both sides; drop one.';
  }
  if (inFile) diagnostic.message += ` Until then the scenario runs on plain ${p.name}.`;
  diagnostics.push(diagnostic);
  return { kernel: makeKernel(p), diagnostics };
}

/** "v6.3 +tdp_mmu_root_ref" (an override or default) → Kernel, parsed with the `kernel` line's grammar. */
export function kernelFromSpec(spec: string): { kernel?: Kernel; error?: string } {
  const line = parseLine(`kernel ${spec}`, 0);
  const s = line.statement;
  const firstError = line.diagnostics.find((d) => d.severity === 'error');
  if (!s || s.kind !== 'kernel') return { error: firstError?.message ?? 'expected a profile and +/-behaviours' };
  const r = resolveKernel(s.profile, s.mods, false);
  const err = r.diagnostics.find((d) => d.severity === 'error');
  if (!r.kernel || err) return { error: err?.message ?? 'invalid kernel' };
  return { kernel: r.kernel };
}

/** `v6.5` → [6, 5]; undefined for a name that is not a mainline version. */
function versionOf(name: string): [number, number] | undefined {
  const m = /^v?(\d{1,3})\.(\d{1,3})(?:\.\d+)?$/i.exec(name);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/**
 * An unknown profile. A version-looking name (`v6.5`, `6.9`, `v9.9`) is answered with the profile a KVM developer
 * would reach for — the newest one at or before that version (its code is what that kernel inherited), or `latest`
 * past the newest — not with the closest spelling (`v9.9` is one edit from `v6.1`, which is nothing like it).
 * Every profile is listed either way.
 */
function unknownProfile(name: string, span: Span): Diagnostic {
  const names = PROFILES.map((x) => x.name);
  const list = names.join(', ');
  const version = versionOf(name);
  let suggestion: string | undefined;
  let why = '';
  // `v6.33` is more likely `v6.3` with a doubled key than a kernel from the future.
  const typo = names.find(
    (n) => n.length === name.length - 1 && [...name].some((_, i) => name.slice(0, i) + name.slice(i + 1) === n),
  );
  if (version && typo === undefined) {
    const newestFirst = PROFILES.map((p) => ({ name: p.name, v: versionOf(p.name) }))
      .filter((p): p is { name: string; v: [number, number] } => p.v !== undefined)
      .sort((a, b) => b.v[0] - a.v[0] || b.v[1] - a.v[1]);
    const at = newestFirst.find((p) => p.v[0] < version[0] || (p.v[0] === version[0] && p.v[1] <= version[1]));
    if (at && at.v[0] === version[0] && at.v[1] === version[1]) {
      suggestion = at.name;
      const stable = names.find((n) => n === `${at.name}.y`);
      why = stable
        ? `did you mean \`${at.name}\` (mainline) or \`${stable}\` (the stable line)?`
        : `profiles are named \`v<major>.<minor>\`: did you mean \`${at.name}\`?`;
    } else if (at === newestFirst[0] && names.includes('latest')) {
      suggestion = 'latest';
      why = `it is newer than every profile; \`latest\` is the newest, \`${at?.name ?? 'latest'}\``;
    } else if (at) {
      suggestion = at.name;
      why = `the nearest earlier profile is \`${at.name}\``;
    } else why = 'it is older than every profile';
  } else {
    const s = suggest(name, names);
    if (s !== undefined && s !== name) {
      suggestion = s;
      why = `did you mean \`${s}\`?`;
    }
  }
  const message = `unknown kernel profile \`${name}\`${why ? `: ${why}` : ''} (profiles: ${list})`;
  const d: Diagnostic = { span, severity: 'error', code: 'unknown-profile', message };
  if (suggestion !== undefined)
    d.fix = { title: `Change to \`${suggestion}\``, edits: [{ span, newText: suggestion }] };
  return d;
}

function unknown(
  word: string,
  span: Span,
  candidates: readonly string[],
  code: string,
  what: string,
  list?: string,
): Diagnostic {
  const s = suggest(word, candidates);
  if (s !== undefined && s !== word) {
    return {
      span,
      severity: 'error',
      code,
      message: `unknown ${what} \`${word}\`, did you mean \`${s}\`?`,
      fix: { title: `Change to \`${s}\``, edits: [{ span, newText: s }] },
    };
  }
  return { span, severity: 'error', code, message: `unknown ${what} \`${word}\`${list ? ` (known: ${list})` : ''}` };
}

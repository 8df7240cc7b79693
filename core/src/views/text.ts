/**
 * Human-readable renderings for the CLI: the annotated scenario, the root table, vCPU slots, diagnostics,
 * profile/behaviour lists and role decoding. Pure: colour comes in as a Style (identity functions for plain text).
 */
import type { Analysis } from '../engine/analysis.js';
import { BEHAVIOURS, PROFILES, profileEras, type Kernel } from '../kernel/behaviours.js';
import { type EraInfo, SUBSYSTEMS, type Subsystem } from '../kernel/eras.js';
import {
  decodeCpuRole,
  decodePageRole,
  formatRole,
  summarizePageRole,
  type DecodedField,
} from '../kernel/role_layout.js';
import type { Snapshot } from '../kernel/types.js';
import type { Diagnostic } from '../syntax/ast.js';
import { formatLocation, splitLines } from '../text/positions.js';
import { formatAction, formatOutcome } from './outcome.js';

export interface Style {
  dim: (s: string) => string;
  bold: (s: string) => string;
  red: (s: string) => string;
  yellow: (s: string) => string;
  green: (s: string) => string;
  cyan: (s: string) => string;
}

const id = (s: string): string => s;
export const PLAIN: Style = { dim: id, bold: id, red: id, yellow: id, green: id, cyan: id };

export function ansiStyle(): Style {
  const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
  return {
    dim: wrap(2, 22),
    bold: wrap(1, 22),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    green: wrap(32, 39),
    cyan: wrap(36, 39),
  };
}

export interface RunOptions {
  /** 1-based line after which to show the state (default: the end). */
  at?: number;
  /** Show every action with its call path under each line. */
  actions?: boolean;
  style?: Style;
  /** Show control characters in the scenario's text visibly (output to a terminal): see showControls. */
  visibleControls?: boolean;
  /** A note under the kernel line, e.g. that --kernel replaced the file's own `kernel` line. */
  kernelNote?: string;
}

/**
 * `text` with every control character (C0 but tab, DEL, C1, and the bidirectional overrides and isolates that
 * reorder what a terminal shows) replaced by a visible form: C0 as its Control Picture (U+2400 + code, ␛ for
 * ESC), the others as `\u{…}`. Scenario text is data: printed raw, `\x1b]…` would retitle or rewrite the user's
 * terminal.
 */
export function showControls(text: string): string {
  return text.replace(CONTROLS, (c) => {
    const code = c.charCodeAt(0);
    if (code < 0x20) return String.fromCharCode(0x2400 + code);
    if (code === 0x7f) return '\u2421';
    return `\\u{${code.toString(16)}}`;
  });
}
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `kvmmu run`: every line with its outcome beside it, then the roots and the vCPUs. */
export function renderRun(analysis: Analysis, options: RunOptions = {}): string {
  const st = options.style ?? PLAIN;
  const shown = options.visibleControls ? showControls : (t: string): string => t;
  const lines = splitLines(analysis.text);
  // A byte-order mark is not part of line 1 (the parser ignores it too).
  if (lines[0]?.startsWith(BOM)) lines[0] = lines[0].slice(1);
  const last = Math.min(options.at ?? lines.length, lines.length);
  let widest = 8;
  for (let i = 0; i < last; i++) widest = Math.max(widest, (lines[i] ?? '').trimEnd().length);
  const width = Math.min(48, widest);
  const numWidth = String(last).length;
  const diagsByLine = groupByLine(analysis.diagnostics);
  const out: string[] = [st.bold(`kernel ${analysis.kernel.label}`) + st.dim(`  (${analysis.kernel.profile.release})`)];
  if (options.kernelNote) out.push(st.yellow(`  ${shown(options.kernelNote)}`));
  for (let i = 0; i < last; i++) {
    const src = shown((lines[i] ?? '').trimEnd());
    const num = st.dim(String(i + 1).padStart(numWidth));
    const step = analysis.stepAt(i);
    const diags = diagsByLine.get(i) ?? [];
    if (step) {
      const outcome = formatOutcome(step.result, analysis.kernel);
      const colour = step.result.outcome === 'ok' ? st.cyan : step.result.outcome === 'no_exit' ? st.dim : st.yellow;
      const vcpu = analysis.vm.vcpus > 1 ? st.dim(` [vcpu${step.vcpu}]`) : '';
      out.push(`${num}  ${src.padEnd(width)}  ${colour(`→ ${shown(outcome)}`)}${vcpu}`);
      if (options.actions)
        for (const a of step.result.actions)
          out.push(`${' '.repeat(numWidth)}    ${st.dim(`${formatAction(a).padEnd(28)} ${a.path.join(' › ')}`)}`);
    } else {
      out.push(`${num}  ${src}`);
    }
    for (const d of diags) {
      if (d.code === 'gp' || d.code === 'kvm-warn' || d.code === 'hazard' || d.code === 'vmfail') {
        out.push(`${' '.repeat(numWidth)}    ${st.yellow(`${d.severity}: ${shown(d.message)}`)}`);
      } else {
        const c = d.severity === 'error' ? st.red : d.severity === 'warning' ? st.yellow : st.dim;
        out.push(`${' '.repeat(numWidth)}    ${c(`${d.severity}: ${shown(d.message)}`)}`);
      }
    }
  }
  const snapshot = options.at === undefined ? analysis.final : analysis.stateAt(last - 1);
  out.push('', renderState(analysis.kernel, snapshot, st, options.at === undefined ? undefined : last));
  // With --at, the totals are of the expectations the output shows: those up to that line.
  let passed = analysis.expectations.passed;
  let failed = analysis.expectations.failed;
  if (options.at !== undefined) {
    passed = failed = 0;
    for (const r of analysis.expectations.results)
      if (r.line < last) {
        if (r.ok) passed++;
        else failed++;
      }
  }
  if (passed + failed > 0)
    out.push(
      '',
      `expectations${options.at === undefined ? '' : ` up to line ${last}`}: ${st.green(`${passed} passed`)}, ${failed > 0 ? st.red(`${failed} failed`) : '0 failed'}`,
    );
  return out.join('\n');
}

const BOM = '\ufeff';

/** The root table, the vCPU slots and the counters. */
export function renderState(kernel: Kernel, snapshot: Snapshot, st: Style = PLAIN, at?: number): string {
  const out: string[] = [st.bold(at === undefined ? 'Roots' : `Roots after line ${at}`)];
  if (snapshot.roots.length === 0) out.push(st.dim('  (none allocated)'));
  else {
    const rows = snapshot.roots.map((r) => [
      `#${r.id}`,
      r.kind,
      r.role,
      summarizePageRole(kernel, Number.parseInt(r.role, 16)),
      String(r.refcount),
      r.holders.join(', ') || '-',
      r.obsolete && r.state !== 'freed' ? `${r.state} (obsolete)` : r.state,
      String(r.allocatedAt),
      r.freedAt === null ? '-' : String(r.freedAt),
    ]);
    // One row per root ever allocated: appended in a loop, not spread into push's arguments (stack-bounded).
    for (const row of table(['id', 'kind', 'role', 'decoded', 'rc', 'holders', 'state', 'alloc', 'freed'], rows, st))
      out.push(row);
  }
  out.push('', st.bold('vCPUs'));
  for (const v of snapshot.vcpus) {
    if (v.destroyed) {
      out.push(`  vcpu${v.id}  ${st.dim('destroyed')}`);
      continue;
    }
    const mode = [v.smm ? 'SMM' : null, v.guestMode ? 'guest_mode' : null].filter(Boolean).join(' ') || 'L1 !SMM';
    out.push(
      `  vcpu${v.id}  ${mode}  mmu=${v.mmu}  cr0=${v.regs.cr0} cr3=${v.regs.cr3} cr4=${v.regs.cr4} efer=${v.regs.efer}`,
    );
    for (const m of v.mmus) {
      if (m.name === 'nested_mmu') continue;
      const cur =
        m.root !== null
          ? `#${m.root}`
          : m.rootSpecial === 'dummy'
            ? 'dummy'
            : m.rootSpecial
              ? `${m.rootSpecial}[${m.paeRoots.map((r) => (r === null ? '-' : `#${r}`)).join(' ')}]`
              : '-';
      const prev = m.prevRoots.map((r) => (r === null ? '-' : `#${r}`)).join(' ');
      const active = m.name === v.mmu ? '*' : ' ';
      out.push(
        `   ${active}${m.name.padEnd(10)} root ${cur.padEnd(6)} prev_roots [${prev}]  cpu_role ${m.cpuRole}  root_role ${m.rootRole}`,
      );
    }
    if (v.requests.length > 0) out.push(`    pending ${v.requests.join(' ')}`);
  }
  out.push('', st.bold('Counters'));
  out.push(
    '  ' +
      Object.entries(snapshot.stats)
        .map(([k, n]) => `${k}=${n}`)
        .join('  '),
  );
  return out.join('\n');
}

function table(head: string[], rows: string[][], st: Style): string[] {
  // A loop, not Math.max(...column): a spread of thousands of rows overflows the stack.
  const widths = head.map((h, i) => rows.reduce((w, r) => Math.max(w, (r[i] ?? '').length), h.length));
  const fmt = (cells: string[]) =>
    '  ' +
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [st.dim(fmt(head)), ...rows.map(fmt)];
}

function groupByLine(diags: readonly Diagnostic[]): Map<number, Diagnostic[]> {
  const m = new Map<number, Diagnostic[]>();
  for (const d of diags) {
    const list = m.get(d.span.line);
    if (list) list.push(d);
    else m.set(d.span.line, [d]);
  }
  return m;
}

/** Diagnostics as `file:line:col: severity: message`. */
export function renderDiagnostics(
  file: string,
  diags: readonly Diagnostic[],
  st: Style = PLAIN,
  visibleControls = false,
): string[] {
  const shown = visibleControls ? showControls : (t: string): string => t;
  return diags.map((d) => {
    const c = d.severity === 'error' ? st.red : d.severity === 'warning' ? st.yellow : st.dim;
    return `${shown(formatLocation(file, d.span))}: ${c(d.severity)}: ${shown(d.message)}`;
  });
}

export function renderProfiles(st: Style = PLAIN): string {
  const rows = PROFILES.map((p) => {
    const e = profileEras(p);
    return [p.name, p.release, e.tdp_roots, e.roles, e.prev_roots, e.pcid, String(p.behaviours.length)];
  });
  const out = table(['profile', 'release', 'TDP roots', 'roles', 'prev_roots', 'PCID', 'behaviours'], rows, st);
  out.push('', st.bold('Eras'));
  for (const s of Object.keys(SUBSYSTEMS) as Subsystem[]) {
    out.push(`  ${SUBSYSTEMS[s].title}:`);
    for (const [id, info] of Object.entries<EraInfo>(SUBSYSTEMS[s].eras)) out.push(`    ${id}: ${info.name}`);
  }
  for (const p of PROFILES) {
    out.push('', `${st.bold(p.name)}: ${p.behaviours.join(' ')}`);
    if (p.stable)
      out.push(
        st.dim(`  = ${p.stable.base} + ${p.stable.backports.map((b) => `${b.behaviour} (${b.since})`).join(', ')}`),
      );
    if (p.note) out.push(st.dim(`  ${p.note}`));
  }
  return out.join('\n');
}

export function renderBehaviours(st: Style = PLAIN): string {
  const out: string[] = [];
  for (const b of BEHAVIOURS) {
    const inProfiles = PROFILES.filter((p) => p.name !== 'latest' && p.behaviours.includes(b.name)).map((p) => p.name);
    out.push(
      `${st.bold(b.name)}  ${st.dim(b.version)}${b.whatIf ? st.yellow('  what-if (never merged)') : ''}`,
      `  ${b.title}`,
      `  commit: ${b.commits.join(', ')}`,
      `  ${b.description}`,
      `  profiles: ${inProfiles.length > 0 ? inProfiles.join(' ') : 'none (add with +' + b.name + ')'}`,
      ...(b.stable ? [`  stable: ${b.stable}`] : []),
      ...(b.requires?.length ? [`  builds on: ${b.requires.join(' ')}`] : []),
      ...(b.replaces?.length ? [`  replaced: ${b.replaces.join(' ')}`] : []),
      ...(b.excludes?.length ? [`  cannot coexist with: ${b.excludes.join(' ')}`] : []),
      ...(b.notModelled ? [`  not modelled: ${b.notModelled}`] : []),
      `  source: ${b.source}`,
      '',
    );
  }
  return out.join('\n').trimEnd();
}

/** `decimal`: the word as the user wrote it in decimal; the heading says how it was read. */
export function renderDecode(
  kernel: Kernel,
  word: bigint,
  cpuRole: boolean,
  st: Style = PLAIN,
  decimal?: string,
): string {
  const read = decimal === undefined ? '' : ` (decimal ${decimal})`;
  const fieldRows = (fields: readonly DecodedField[], offset: number) =>
    fields.map((f) => [
      f.width === 1 ? `${f.lsb + offset}` : `${f.lsb + offset}-${f.lsb + offset + f.width - 1}`,
      f.name,
      String(f.value),
      f.doc,
    ]);
  const head = ['bits', 'field', 'value', 'meaning'];
  if (!cpuRole) {
    const w = Number(word & 0xffffffffn);
    const d = decodePageRole(kernel, w);
    const out = [
      st.bold(`page role ${formatRole(w)}${read} on ${kernel.label}: ${summarizePageRole(kernel, w)}`),
      ...table(head, fieldRows(d.fields, 0), st),
    ];
    if (d.unknownBits !== 0)
      out.push(st.yellow(`  bits outside any field are set: 0x${(d.unknownBits >>> 0).toString(16)}`));
    if (word > 0xffffffffn)
      out.push(
        st.yellow('  the word has bits above 31: a page role is 32 bits (use --cpu-role for a 64-bit cpu role)'),
      );
    return out.join('\n');
  }
  const d = decodeCpuRole(kernel, word);
  const out = [
    st.bold(`cpu role 0x${word.toString(16).padStart(16, '0')}${read} on ${kernel.label}`),
    st.dim('  base (bits 0-31)'),
    ...table(head, fieldRows(d.base.fields, 0), st),
    st.dim('  ext (bits 32-63)'),
    ...table(head, fieldRows(d.ext.fields, 32), st),
  ];
  if (d.base.unknownBits !== 0 || d.ext.unknownBits !== 0) out.push(st.yellow('  bits outside any field are set'));
  return out.join('\n');
}

/** `kvmmu diff`: lines whose outcome differs between two analyses of the same text. */
export function diffOutcomes(a: Analysis, b: Analysis): { line: number; text: string; a: string; b: string }[] {
  const lines = splitLines(a.text);
  const out: { line: number; text: string; a: string; b: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const sa = a.stepAt(i);
    const sb = b.stepAt(i);
    const oa = sa ? formatOutcome(sa.result, a.kernel) : '';
    const ob = sb ? formatOutcome(sb.result, b.kernel) : '';
    if (oa !== ob) out.push({ line: i, text: (lines[i] ?? '').trim(), a: oa, b: ob });
  }
  return out;
}

export function renderDiff(a: Analysis, b: Analysis, st: Style = PLAIN, visibleControls = false): string {
  const shown = visibleControls ? showControls : (t: string): string => t;
  const rows = diffOutcomes(a, b);
  const la = a.kernel.label;
  const lb = b.kernel.label;
  if (rows.length === 0) return `no line's outcome differs between ${la} and ${lb}`;
  const w = Math.max(la.length, lb.length);
  const out = [st.bold(`${rows.length} line(s) differ between ${la} and ${lb}`)];
  for (const r of rows) {
    out.push('', `${st.dim(String(r.line + 1).padStart(4))}  ${shown(r.text)}`);
    out.push(`      ${st.cyan(la.padEnd(w))}  ${r.a || '-'}`, `      ${st.yellow(lb.padEnd(w))}  ${r.b || '-'}`);
  }
  const fa = a.final.stats;
  const fb = b.final.stats;
  const diffs = Object.keys({ ...fa, ...fb }).filter((k) => fa[k] !== fb[k]);
  if (diffs.length > 0)
    out.push('', st.bold('counters at the end'), ...diffs.map((k) => `  ${k}: ${fa[k] ?? '-'} vs ${fb[k] ?? '-'}`));
  return out.join('\n');
}

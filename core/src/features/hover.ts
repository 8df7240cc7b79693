/**
 * Hover text: what KVM did on a statement, what a flag is on this kernel, a role word decoded in the
 * file's kernel layout, a profile or behaviour with its commits. Markdown, built from the analysis.
 */
import type { Analysis, Step } from '../engine/analysis.js';
import type { Behaviour, Kernel, Profile } from '../kernel/behaviours.js';
import { BEHAVIOURS, findBehaviour, findProfile, profileEras } from '../kernel/behaviours.js';
import { describeEras } from '../kernel/eras.js';
import type { FlagRegName } from '../kernel/regs.js';
import { findFlag } from '../kernel/regs.js';
import type { Action, MmuSnapshot, RootSnapshot, Snapshot } from '../kernel/types.js';
import type { Statement } from '../syntax/ast.js';
import { callPathMarkdown, commitMarkdown, identLink, kernelTag } from './kernel_links.js';
import type { DecodedPageRole } from './roles.js';
import { cpuRole, isRoleBit, pageRole, roleSummary } from './roles.js';
import { code } from './text.js';
import { formatAction, formatOutcome } from '../views/outcome.js';
import {
  EVENTS,
  EXPECT_PATHS,
  HEADER_KEYWORDS,
  REGISTERS,
  STAT_NAMES,
  SUBWORD_TERMS,
  VM_KEYS,
  findTerm,
} from './vocabulary.js';
import type { Word } from './words.js';
import { parseNumber, wordAt, wordsOf } from './words.js';

export interface Hover {
  markdown: string;
  /** The hovered range on `line`. */
  line: number;
  start: number;
  end: number;
}

export function hover(analysis: Analysis, line: number, character: number): Hover | null {
  const text = analysis.lines.line(line);
  if (text === undefined) return null;
  const word = wordAt(text, character);
  const at = (markdown: string, w: { start: number; end: number } | undefined = word): Hover => ({
    markdown,
    line,
    start: w?.start ?? 0,
    end: w?.end ?? text.length,
  });

  if (word?.kind === 'root_ref') {
    const id = Number(word.text.slice(1));
    const md = rootMarkdown(analysis, id, line);
    return md ? at(md) : null;
  }
  if (word?.inComment) {
    // "role 0x…" / "cpu_role=0x…" in a comment: decode it in the file's layout.
    const before = text.slice(0, word.start);
    const what = /\b(cpu_role|root_role|role)\s*[=:]?\s*$/.exec(before)?.[1];
    const value = word.kind === 'number' && what ? parseNumber(word.text) : undefined;
    if (value === undefined) return null;
    const md = what === 'cpu_role' ? cpuRoleMarkdown(analysis.kernel, value) : pageRoleMarkdown(analysis.kernel, value);
    return md ? at(md) : null;
  }
  const statement = analysis.parse.lines[line]?.statement;
  if (!statement) return null;
  const md = statementWordHover(analysis, statement, text, word);
  if (md) return at(md);
  if (statement.kind === 'event') {
    const step = analysis.stepAt(line);
    if (step) return at(stepMarkdown(analysis, step), statement.span);
  }
  if (statement.kind === 'expect') return at(expectMarkdown(analysis, statement), statement.span);
  return null;
}

/** Hover on a specific word of a statement, or undefined to fall back to the whole statement. */
function statementWordHover(
  analysis: Analysis,
  s: Statement,
  text: string,
  word: Word | undefined,
): string | undefined {
  if (!word) return undefined;
  const kernel = analysis.kernel;
  switch (s.kind) {
    case 'kernel': {
      if (word.kind === 'mod') {
        const b = findBehaviour(word.text.slice(1));
        return b ? behaviourMarkdown(b, kernel, word.text[0] === '+' ? 'added' : 'removed') : undefined;
      }
      const p = findProfile(s.profile.name);
      return p ? profileMarkdown(p, kernel) : undefined;
    }
    case 'vm': {
      const setting = s.settings.find((v) => word.start >= v.span.start && word.end <= v.span.end);
      const key = setting ? VM_KEYS.find((k) => k.name === setting.key) : undefined;
      if (key)
        return `**vm ${key.name}** = ${code(setting?.value ?? key.default)}\n\n${key.doc}\n\nValues: ${key.values.map(code).join(', ')} · default ${code(key.default)}`;
      return findTerm(HEADER_KEYWORDS, 'vm')?.doc;
    }
    case 'decode': {
      if (word.kind === 'number') {
        const w = parseNumber(word.text);
        if (w !== undefined) return s.what === 'cpu_role' ? cpuRoleMarkdown(kernel, w) : pageRoleMarkdown(kernel, w);
      }
      return undefined;
    }
    case 'expect':
      return undefined;
    case 'vcpu':
      return `**vcpu ${s.id}** — following statements act on vCPU ${s.id}.`;
    case 'event': {
      const reg = registerBefore(text, word);
      if (reg && word.kind === 'word') {
        const flag = findFlag(reg, word.text);
        if (flag) return flagMarkdown(kernel, reg, flag.name, flag.bit, flag.title);
      }
      return undefined;
    }
  }
}

/** The CR0/CR4/EFER a flag word belongs to: the nearest register name before it on the line. */
function registerBefore(text: string, word: Word): FlagRegName | undefined {
  const words = wordsOf(text).filter((w) => w.end <= word.start && !w.inComment);
  for (let i = words.length - 1; i >= 0; i--) {
    const t = words[i]?.text.toLowerCase();
    if (t === 'cr0' || t === 'cr4' || t === 'efer') return t;
    if (t === 'cr3') return undefined;
  }
  return undefined;
}

export function flagMarkdown(kernel: Kernel, reg: FlagRegName, name: string, bitNo: number, title: string): string {
  const REG = reg.toUpperCase();
  const mask = 1n << BigInt(bitNo);
  const role = isRoleBit(kernel, reg, mask);
  const macro = `KVM_MMU_${REG}_ROLE_BITS`;
  const verdict = role
    ? `On ${kernel.label} this **is an MMU role bit** (${macro}): a change that exits re-initialises the MMU context.`
    : `On ${kernel.label} this is **not** an MMU role bit (not in ${macro}): changing it does not re-initialise the MMU by itself.`;
  return `**${REG}.${name}** — ${title} (bit ${bitNo}, \`0x${mask.toString(16)}\`)\n\n${verdict}`;
}

export function profileMarkdown(p: Profile, kernel: Kernel): string {
  const lines = [`**Kernel ${p.name}** — ${p.release}`];
  const modified = kernel.profile.name === p.name && (kernel.added.length || kernel.removed.length);
  if (modified) lines.push(`In effect: ${code(kernel.label)}`);
  const eras = describeEras(modified ? kernel.eras : profileEras(p));
  lines.push(eras.map((e) => `- ${e.title}: ${e.name}`).join('\n'));
  if (p.stable) {
    const backports = p.stable.backports.map((b) => `${code(b.behaviour)} (${b.since})`).join(', ');
    lines.push(`Stable line: ${code(p.stable.base)} plus the backports ${backports}${p.note ? `. ${p.note}` : '.'}`);
  } else {
    lines.push(`Mainline versions, not stable backports${p.note ? `: ${p.note}` : '.'}`);
  }
  lines.push(
    `Source at [${kernelTag(p.name)}](https://elixir.bootlin.com/linux/${kernelTag(p.name)}/source/arch/x86/kvm/mmu/mmu.c).`,
  );
  const active = kernel.profile.name === p.name ? kernel.behaviours : p.behaviours;
  lines.push(`**Behaviours (${active.length})**`);
  const list = BEHAVIOURS.filter((b) => active.includes(b.name)).map(
    (b) => `- ${code(b.name)} — ${b.title} (${b.version}; ${b.commits.map(commitMarkdown).join(', ')})`,
  );
  return [...lines, list.join('\n') || '_none_'].join('\n\n');
}

export function behaviourMarkdown(b: Behaviour, kernel: Kernel, mod?: 'added' | 'removed'): string {
  const inProfile = kernel.profile.behaviours.includes(b.name);
  const lines = [
    `**${b.name}** — ${b.title}`,
    b.description,
    `Version: ${b.version} · Commit: ${b.commits.map(commitMarkdown).join(', ')}`,
    `Source: ${b.source}`,
  ];
  if (b.stable) lines.push(`Stable: ${b.stable}`);
  const needs = [
    ...(b.requires ?? []).map((n) => `builds on ${code(n)}`),
    ...(b.replaces ?? []).map((n) => `replaced ${code(n)}`),
    ...(b.excludes ?? []).map((n) => `cannot coexist with ${code(n)}`),
  ];
  if (needs.length) lines.push(`Neighbours: ${needs.join('; ')}.`);
  if (b.notModelled) lines.push(`_Not modelled: ${b.notModelled}._`);
  if (b.whatIf) lines.push('_What-if: never merged; in no profile._');
  if (mod)
    lines.push(
      `${kernel.profile.name} ${inProfile ? 'has' : 'does not have'} it; this line ${mod === 'added' ? 'adds' : 'removes'} it.`,
    );
  return lines.join('\n\n');
}

function bitsLabel(lsb: number, width: number): string {
  return width === 1 ? `${lsb}` : `${lsb}–${lsb + width - 1}`;
}

function roleTable(d: DecodedPageRole): string {
  const rows = d.fields.map(
    (f) =>
      `| ${bitsLabel(f.lsb, f.width)} | ${code(f.name)} | ${f.value} | ${f.doc.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`,
  );
  const table = ['| bits | field | value | meaning |', '|---|---|---|---|', ...rows].join('\n');
  return d.unknownBits === 0n
    ? table
    : `${table}\n\n⚠ bits set outside every field: \`0x${d.unknownBits.toString(16)}\``;
}

export function pageRoleMarkdown(kernel: Kernel, word: bigint): string | undefined {
  const d = pageRole(kernel, word);
  if (!d) return `\`0x${word.toString(16)}\` does not fit a 32-bit page role.`;
  const summary = roleSummary(kernel, word);
  return `**Page role \`0x${word.toString(16).padStart(8, '0')}\`**${summary ? ` — ${summary}` : ''}\n\nLayout of ${kernel.label} (\`union kvm_mmu_page_role\`):\n\n${roleTable(d)}`;
}

export function cpuRoleMarkdown(kernel: Kernel, word: bigint): string | undefined {
  const d = cpuRole(kernel, word);
  if (!d) return `\`0x${word.toString(16)}\` does not fit a 64-bit cpu role.`;
  const name = kernel.has('cpu_role_split') ? 'kvm_cpu_role' : 'kvm_mmu_role';
  return [
    `**CPU role \`0x${word.toString(16).padStart(16, '0')}\`** (\`union ${name}\` on ${kernel.label}; base = low 32 bits, ext = high 32 bits)`,
    `**base** (\`kvm_mmu_page_role\`)\n\n${roleTable(d.base)}`,
    `**ext** (\`kvm_mmu_extended_role\`)\n\n${roleTable(d.ext)}`,
  ].join('\n\n');
}

function rootLabel(id: number | null): string {
  return id === null ? '—' : `#${id}`;
}

function roleCell(kernel: Kernel, word: string | undefined): string {
  if (!word) return '—';
  const summary = roleSummary(kernel, word);
  return summary ? `${code(word)} (${summary})` : code(word);
}

/** What a slot holds: a root id, a special root with its PAE entries, or nothing. */
function currentRoot(m: MmuSnapshot | undefined): string {
  if (!m) return '—';
  if (m.root !== null) return `#${m.root}`;
  if (m.rootSpecial === 'dummy') return 'dummy root (zero page: guest root outside every memslot)';
  if (m.rootSpecial) return `${m.rootSpecial}[${m.paeRoots.map(rootLabel).join(' ')}]`;
  return '—';
}

function mmuKey(m: MmuSnapshot | undefined): string {
  return m ? [m.cpuRole, m.rootRole, currentRoot(m), m.prevRoots.join()].join('|') : '';
}

/**
 * The MMUs whose state the line changed, each labelled (`invept` changes guest_mmu while root_mmu stays active;
 * a nested VM-Enter switches from root_mmu to guest_mmu and may change both). The active MMU is shown even
 * when unchanged, so a line that changed nothing still says where it stands.
 */
function mmuTables(k: Kernel, before: Snapshot, after: Snapshot, vcpu: number): string[] {
  const vb = before.vcpus.find((v) => v.id === vcpu);
  const va = after.vcpus.find((v) => v.id === vcpu);
  if (!vb && !va) return [];
  const roleName = k.has('cpu_role_split') ? 'cpu_role' : 'mmu_role';
  const names = [...new Set([...(va?.mmus ?? []), ...(vb?.mmus ?? [])].map((m) => m.name))];
  const out: string[] = [];
  if (vb?.mmu !== va?.mmu) out.push(`Active MMU: ${code(vb?.mmu ?? '—')} → ${code(va?.mmu ?? '—')}`);
  for (const name of names) {
    const mb = vb?.mmus.find((m) => m.name === name);
    const ma = va?.mmus.find((m) => m.name === name);
    const changed = mmuKey(mb) !== mmuKey(ma);
    const active = name === va?.mmu || name === vb?.mmu;
    if (!changed && !active) continue;
    const label = `**${name}**${name === va?.mmu ? ' (active)' : ''}${changed ? '' : ' — unchanged'}`;
    out.push(
      [
        `| ${label} | before | after |`,
        '|---|---|---|',
        `| ${roleName} | ${mb ? code(mb.cpuRole) : '—'} | ${ma ? code(ma.cpuRole) : '—'} |`,
        `| root_role | ${roleCell(k, mb?.rootRole)} | ${roleCell(k, ma?.rootRole)} |`,
        `| root | ${currentRoot(mb)} | ${currentRoot(ma)} |`,
        `| prev_roots | ${(mb?.prevRoots ?? []).map(rootLabel).join(' ')} | ${(ma?.prevRoots ?? []).map(rootLabel).join(' ')} |`,
      ].join('\n'),
    );
  }
  return out;
}

export function stepMarkdown(analysis: Analysis, step: Step): string {
  const k = analysis.kernel;
  const r = step.result;
  const keyword = step.statement.keyword;
  const out: string[] = [];
  const outcome = r.outcome === 'ok' ? '' : ` · **${outcomeLabel(r.outcome)}**`;
  out.push(`**${keyword}** on vCPU ${step.vcpu} · ${code(k.label)}${outcome}`);
  // The same words as the inlay hint, the CLI and the panel (views/outcome.ts), in full.
  out.push(`→ ${formatOutcome(r, k)}`);
  if (r.message) out.push(`_${r.message}_`);
  out.push(...mmuTables(k, analysis.stateAt(step.line - 1), analysis.stateAt(step.line), step.vcpu));
  if (r.actions.length > 0) {
    out.push(`**Actions (${r.actions.length})**`);
    out.push(r.actions.map((a, i) => actionMarkdown(k, a, i, r.actions[i - 1]?.path)).join('\n'));
  } else {
    out.push('_No MMU action._');
  }
  return out.join('\n\n');
}

function outcomeLabel(o: Step['result']['outcome']): string {
  switch (o) {
    case 'ok':
      return 'ok';
    case 'gp':
      return '#GP injected, state unchanged';
    case 'no_exit':
      return 'no VM-exit';
    case 'vmfail':
      return 'VM-Enter fails';
    case 'shutdown':
      return 'triple fault: the vCPU shuts down';
    case 'error':
      return 'cannot happen here';
  }
}

/** The call path, or only what differs from the previous action's ("… → tail"). */
function pathMarkdown(kernel: Kernel, path: readonly string[], previous: readonly string[] | undefined): string {
  if (!previous) return callPathMarkdown(kernel, path);
  let common = 0;
  while (common < path.length && common < previous.length && path[common] === previous[common]) common++;
  if (common === path.length && common === previous.length) return '_(same call path)_';
  if (common < 2) return callPathMarkdown(kernel, path);
  return `… → ${callPathMarkdown(kernel, path.slice(common - 1))}`;
}

function actionMarkdown(kernel: Kernel, a: Action, i: number, previousPath: readonly string[] | undefined): string {
  const bits = [
    `${i + 1}. ${code(formatAction(a, kernel))}`,
    a.request && !formatAction(a).includes(a.request) ? code(a.request) : '',
    a.role && a.op !== 'alloc' ? roleCell(kernel, a.role) : '',
  ].filter(Boolean);
  const who = [a.vcpu !== undefined ? `vCPU ${a.vcpu}` : '', a.mmu ?? ''].filter(Boolean).join(' ');
  const head = `${bits.join(' ')}${who ? ` (${who})` : ''} — ${a.detail}`;
  const path = a.path.length ? pathMarkdown(kernel, a.path, previousPath) : '';
  return path ? `${head}  \n   ${path}` : head;
}

function expectMarkdown(analysis: Analysis, s: Statement & { kind: 'expect' }): string {
  const r = analysis.expectations.results.find((x) => x.line === s.span.line);
  const path =
    findTerm(EXPECT_PATHS, s.path) ??
    (s.path.startsWith('root.role.') ? findTerm(EXPECT_PATHS, 'root.role.') : undefined);
  const head = `**expect** ${code(`${s.path} ${s.cmp} ${s.value}`)}`;
  const verdict = r ? (r.ok ? `✓ holds (value ${r.actual ?? 'none'})` : `✗ ${r.message}`) : '_not evaluated_';
  return [head, path?.doc ?? '', verdict].filter(Boolean).join('\n\n');
}

function rootRow(kernel: Kernel, root: RootSnapshot): string {
  const lines = [
    `**Root #${root.id}** — ${root.kind} · ${root.state}${root.obsolete ? ' (obsolete)' : ''}`,
    `role ${roleCell(kernel, root.role)} · level ${root.level}${root.smm ? ' · SMM' : ''}${root.guestMode ? ' · guest_mode' : ''} · refcount ${root.refcount}`,
    `allocated at line ${root.allocatedAt}${root.freedAt !== null ? ` · freed at line ${root.freedAt}` : ''}`,
  ];
  if (root.holders.length) lines.push(`held by ${root.holders.map(code).join(', ')}`);
  return lines.join('\n\n');
}

/** A root as of the end of `line` (or the last state in which it existed). */
function rootMarkdown(analysis: Analysis, id: number, line: number): string | undefined {
  const snapLine = Math.min(line, analysis.parse.lines.length - 1);
  const root =
    analysis.stateAt(snapLine).roots.find((r) => r.id === id) ?? analysis.final.roots.find((r) => r.id === id);
  if (!root) return undefined;
  return `${rootRow(analysis.kernel, root)}\n\n_(state after line ${snapLine + 1}; go to definition jumps to its allocation)_`;
}

/** Hover for a bare keyword (used by completion documentation too). */
export function keywordDoc(word: string): string | undefined {
  return (
    findTerm(EVENTS, word) ??
    findTerm(REGISTERS, word) ??
    findTerm(HEADER_KEYWORDS, word) ??
    findTerm(SUBWORD_TERMS, word)
  )?.doc;
}

/** Docs for `stats.<name>` and other paths. */
export function expectPathDoc(path: string): string | undefined {
  if (path.startsWith('stats.') && STAT_NAMES.includes(path.slice(6))) return `Counter \`${path.slice(6)}\`.`;
  return findTerm(EXPECT_PATHS, path)?.doc;
}

export { identLink };

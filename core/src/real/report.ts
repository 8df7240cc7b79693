/**
 * `kvmmu real` output: per line, the model's root actions beside the kernel's, then a verdict. Pure.
 */
import type { Style } from '../views/text.js';
import type { ComparedAction, RealComparison } from './compare.js';

export interface RealRunInfo {
  file: string;
  /** "Linux 6.1.0-57-amd64 (Debian 6.1.192-3) under QEMU TCG (AMD SVM, nested paging)". */
  ranOn: string;
  /** The profile spec compared against and why. */
  profile: string;
  profileWhy: string;
}

const SHORT: Record<string, string> = { alloc: 'alloc', reuse: 'reuse', cache_hit: 'prev-hit', free: 'free' };

export function formatActions(xs: readonly ComparedAction[]): string {
  if (xs.length === 0) return '—';
  return xs.map((x) => `${SHORT[x.op] ?? x.op} ${x.role.replace(/^0x0*(?=.)/, '0x')}`).join(', ');
}

export function renderReal(info: RealRunInfo, c: RealComparison, st: Style): string {
  const out: string[] = [];
  out.push(`${info.file}: ran on ${info.ranOn}`);
  out.push(`compared with profile \`${info.profile}\` (${info.profileWhy})`);
  const groupAt = new Map<number, number>();
  c.groups.forEach((g, i) => groupAt.set(g.lines[g.lines.length - 1]!, i));
  const inGroup = new Map<number, number>();
  c.groups.forEach((g) => g.lines.forEach((l) => inGroup.set(l, g.lines[g.lines.length - 1]!)));
  const width = Math.min(
    40,
    c.verdicts.reduce((m, v) => Math.max(m, v.text.length), 10),
  );
  const pad = (s: string, n: number): string => (s.length >= n ? s.slice(0, n - 1) + '…' : s.padEnd(n));
  out.push(`${'line'.padStart(5)}  ${pad('statement', width)}  ${pad('model', 34)}  ${pad('kernel', 34)}`);
  for (const v of c.verdicts) {
    const head = `${String(v.line).padStart(5)}  ${pad(v.text, width)}  `;
    if (!v.runnable) {
      out.push(head + st.dim(`not runnable here: ${v.reason}`));
      continue;
    }
    const last = inGroup.get(v.line);
    if (last === undefined) {
      out.push(head + st.dim('did not run (the driver stopped before it)'));
      continue;
    }
    if (last !== v.line) {
      out.push(head + st.dim(`↓ runs in the same KVM_RUN as line ${last}`));
      continue;
    }
    const g = c.groups[groupAt.get(v.line)!]!;
    const verdict = g.agree ? st.green('agree') : st.red('DISAGREE');
    out.push(head + `${pad(formatActions(g.model), 34)}  ${pad(formatActions(g.kernel), 34)}  ${verdict}`);
    for (const d of g.differences) out.push(' '.repeat(7 + width + 2) + st.red(`  ${d}`));
  }
  if (c.failure) out.push(st.red(`the run stopped early: ${c.failure}`));
  const bad = c.groups.filter((g) => !g.agree).length;
  const summary = `${c.groups.length} step(s) compared, ${bad} disagree; ${c.ran} line(s) ran, ${c.notRunnable} not runnable here`;
  out.push((c.agree ? st.green('verdict: agree') : st.red('verdict: DISAGREE')) + ` — ${summary}`);
  return out.join('\n');
}

/** `--json`: the comparison as plain data. */
export function realJson(info: RealRunInfo, c: RealComparison): unknown {
  return {
    file: info.file,
    ranOn: info.ranOn,
    profile: { spec: info.profile, why: info.profileWhy },
    agree: c.agree,
    failure: c.failure ?? null,
    lines: c.verdicts.map((v) =>
      v.runnable
        ? { line: v.line, text: v.text, runnable: true }
        : { line: v.line, text: v.text, runnable: false, reason: v.reason },
    ),
    steps: c.groups.map((g) => ({
      lines: g.lines,
      model: g.model,
      kernel: g.kernel,
      agree: g.agree,
      differences: g.differences,
    })),
  };
}

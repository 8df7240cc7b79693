/**
 * `kvmmu diff FILE --kernel A [--kernel B] [--json]`: the lines whose outcome differs between two kernels, each
 * with the behaviours (commits) that explain it (core/src/engine/explain.ts). With one `--kernel`, the file's own
 * kernel line is side A.
 */
import { parseArgs } from 'node:util';
import { explainDiff, type DiffExplanation, type Explanation } from '../../core/src/engine/explain.js';
import { KernelRuns } from '../../core/src/engine/kernel_runs.js';
import type { Style } from '../../core/src/views/text.js';
import type { Io } from './cli.js';
import type { CommandHelpers } from './command.js';

export function diffCommand(args: string[], io: Io, st: Style, h: CommandHelpers): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { kernel: { type: 'string', multiple: true }, json: { type: 'boolean' } },
  });
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw h.usage('diff takes exactly one FILE');
  const kernels = (values.kernel ?? []).map((k) => h.kernel(k));
  if (kernels.length < 1 || kernels.length > 2)
    throw h.usage('diff needs --kernel B (the file’s kernel is A) or --kernel A --kernel B');
  const text = h.read(file);
  const [specA, specB] = kernels.length === 1 ? [KernelRuns.FILE, kernels[0]!] : [kernels[0]!, kernels[1]!];
  const result = explainDiff(text, specA, specB);
  if (values.json) {
    io.stdout(JSON.stringify({ file, ...result }, null, io.tty ? 2 : undefined) + '\n');
    return 0;
  }
  io.stdout(renderExplainedDiff(result, st) + '\n');
  return 0;
}

const shortCommit = (c: string): string => (/^[0-9a-f]{12,}$/.test(c) ? c.slice(0, 12) : c);

/** "-tdp_mmu_root_ref  edbdb43fc96b  v6.4  KVM: x86: Preserve TDP MMU roots …", one line per behaviour. */
export function explanationLines(e: Explanation, st: Style): string[] {
  return e.behaviours.map((b) => {
    const commits =
      b.commits.length > 1 ? `${shortCommit(b.commits[0]!)} +${b.commits.length - 1}` : shortCommit(b.commits[0] ?? '');
    const sign = b.change === 'add' ? '+' : '-';
    return `${st.bold(sign + b.name)}  ${st.yellow(commits)}  ${b.version}  ${st.dim(b.title)}`;
  });
}

export function renderExplainedDiff(r: DiffExplanation, st: Style): string {
  const la = r.a.spec === KernelRuns.FILE ? `${r.a.label} (file)` : r.a.label;
  const lb = r.b.label;
  if (r.lines.length === 0) return `no line's outcome differs between ${la} and ${lb}`;
  const w = Math.max(la.length, lb.length, 4);
  const out = [st.bold(`${r.lines.length} line(s) differ between ${la} and ${lb}`)];
  out.push(
    r.candidates.length > 0
      ? st.dim(`behaviours that differ: ${r.candidates.join(', ')}`)
      : st.dim('no modelled behaviour differs'),
  );
  const pad = ' '.repeat(6);
  for (const l of r.lines) {
    out.push('', `${st.dim(String(l.line + 1).padStart(4))}  ${l.text}`);
    out.push(`${pad}${st.cyan(la.padEnd(w))}  ${l.a || '-'}`, `${pad}${st.yellow(lb.padEnd(w))}  ${l.b || '-'}`);
    const why = 'why'.padEnd(w);
    if (l.explanations.length === 0) {
      const reason =
        l.status === 'not-searched'
          ? 'no single behaviour explains it; too many behaviours differ to try every pair'
          : 'no single behaviour nor pair explains it: it takes three or more together';
      out.push(`${pad}${st.dim(why)}  ${reason}`);
      continue;
    }
    l.explanations.forEach((e, i) => {
      const head = i === 0 ? why : 'or'.padEnd(w);
      const together = e.behaviours.length > 1 ? st.dim(`together (${describeTried(e)}):`) : undefined;
      const lines = explanationLines(e, st);
      if (together) {
        out.push(`${pad}${st.dim(head)}  ${together}`);
        for (const x of lines) out.push(`${pad}${' '.repeat(w)}    ${x}`);
      } else out.push(`${pad}${st.dim(head)}  ${lines[0]}`);
    });
  }
  if (r.counters.length > 0)
    out.push(
      '',
      st.bold('counters at the end'),
      ...r.counters.map((c) => `  ${c.name}: ${c.a ?? '-'} vs ${c.b ?? '-'}`),
    );
  return out.join('\n');
}

/** "a pair" or "tdp_mmu_root_ref brings async_root_zap": how the combination came about. */
function describeTried(e: Explanation): string {
  if (e.tried.length > 1 && e.behaviours.length === e.tried.length) return 'a pair';
  const extra = e.behaviours.filter((b) => !e.tried.includes(b.name)).map((b) => b.name);
  const verb = e.behaviours.find((b) => b.name === e.tried[0])?.change === 'revert' ? 'reverting' : 'adding';
  return `${verb} ${e.tried.join(' and ')} takes ${extra.join(', ')} with it`;
}

/**
 * `kvmmu matrix FILE... [--json]`: each scenario under every kernel profile (core/src/engine/matrix.ts). Exit 1
 * when an expectation fails, or an error is reported, under the file's own kernel.
 */
import { parseArgs } from 'node:util';
import { matrix, type Matrix } from '../../core/src/engine/matrix.js';
import type { Style } from '../../core/src/views/text.js';
import type { Io } from './cli.js';
import type { CommandHelpers } from './command.js';

export function matrixCommand(args: string[], io: Io, st: Style, h: CommandHelpers): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean' } },
  });
  if (positionals.length === 0) throw h.usage('matrix takes at least one FILE');
  let status = 0;
  const reports: ({ file: string } & Matrix)[] = [];
  for (const file of positionals) {
    const m = matrix(h.read(file));
    const own = m.kernels.find((k) => k.own);
    if (own && (own.failed > 0 || own.errors > 0)) status = 1;
    if (values.json) reports.push({ file, ...m });
    else io.stdout(renderMatrix(file, m, st) + '\n');
  }
  if (values.json) {
    const body = reports.length === 1 ? reports[0] : reports;
    io.stdout(JSON.stringify(body, null, io.tty ? 2 : undefined) + '\n');
  }
  return status;
}

export function renderMatrix(file: string, m: Matrix, st: Style): string {
  const own = m.kernels.find((k) => k.own);
  const out = [
    st.bold(
      `${file}: ${m.kernels.length} kernels (the file's: ${own?.name ?? '?'}); ` +
        `${m.lines.length} line(s) differ, ${m.agreeing} agree`,
    ),
  ];
  const same = m.kernels.filter((k) => k.sameAs);
  if (same.length > 0) out.push(st.dim(`same behaviours: ${same.map((k) => `${k.name} = ${k.sameAs}`).join(', ')}`));
  for (const l of m.lines) {
    out.push('', `${st.dim(String(l.line + 1).padStart(4))}  ${l.text}`);
    const w = l.groups.reduce((x, g) => Math.max(x, g.kernels.join(' ').length), 0);
    for (const g of l.groups) out.push(`      ${st.cyan(g.kernels.join(' ').padEnd(w))}  ${g.outcome || '-'}`);
    if (l.changes.length > 0) {
      const [first, ...rest] = l.changes;
      const more = rest.length > 0 ? st.dim(`; then ${rest.map((c) => `${c.from} → ${c.to}`).join(', ')}`) : '';
      out.push(`      ${st.dim('first changes')} ${first!.from} → ${first!.to}${more}`);
    }
  }
  if (m.expects.length > 0) {
    out.push('', st.bold('expectations'));
    const names = m.kernels.map((k) => (k.own ? `${k.name}*` : k.name));
    const textW = Math.min(
      48,
      m.expects.reduce((x, e) => Math.max(x, `${e.line + 1}  ${e.text}`.length), 0),
    );
    out.push(`  ${' '.repeat(textW)}  ${names.join(' ')}`);
    for (const e of m.expects) {
      const label = `${e.line + 1}  ${e.text}`;
      const cut = label.length > textW ? label.slice(0, textW - 1) + '…' : label.padEnd(textW);
      const cells = e.results.map((r, i) => {
        const w = names[i]!.length;
        if (!r) return st.dim('-'.padEnd(w));
        return r.ok ? st.green('ok'.padEnd(w)) : st.red('FAIL'.padEnd(w));
      });
      out.push(`  ${cut}  ${cells.join(' ')}`);
    }
    const failing = m.kernels.filter((k) => k.failed > 0).map((k) => `${k.name} (${k.failed})`);
    out.push(
      st.dim(
        failing.length === 0
          ? '  every expectation passes on every kernel'
          : `  failing on ${failing.join(', ')}; * = the file's kernel`,
      ),
    );
  }
  const errs = m.kernels.filter((k) => k.errors > 0);
  if (errs.length > 0) out.push(st.red(`errors under ${errs.map((k) => `${k.name} (${k.errors})`).join(', ')}`));
  return out.join('\n');
}

#!/usr/bin/env node
// Compares this checkout's `kvmmu` output byte for byte with another build's (a reference, e.g. main's), for
// refactors that must not change what users see:
//   node scripts/compare-json.mjs /path/to/reference/checkout [--big]
// Both checkouts must be built (`node scripts/build.mjs`). Inputs: every example (alone, all together, with a
// kernel override), scenarios broken on purpose and generated scenarios (TDP, shadow paging with nested on, the
// SMM loop); outputs: `check --json` written to a file and through a pipe, `run`, `run --at` and `diff`.
// `--big` adds 100k-statement generated scenarios. Prints each mismatch and exits 1 if there is any.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate, smmLoop } from './gen-scenario.mjs';

const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const reference = process.argv[2];
if (!reference) {
  console.error('usage: node scripts/compare-json.mjs REFERENCE_CHECKOUT [--big]');
  process.exit(2);
}
const big = process.argv.includes('--big');
const tmp = mkdtempSync(join(tmpdir(), 'kvmmu-compare-'));

const examples = readdirSync(join(here, 'examples'))
  .filter((f) => f.endsWith('.kvmmu'))
  .map((f) => join(here, 'examples', f));

const broken = {
  'late-header.kvmmu': 'vm tdp=on\nrun\nkernel v6.3\nrun\nsmi\nrun\nrsm\nrun\n',
  'repeated-lines.kvmmu': 'kernel v6.3\nrun\nrun\nbogus line\nbogus line\ncr0 = PE|PG\ncr0 = PE|PG\nexpect roots 1\n',
  'garbage.kvmmu': 'kernel v9.9\nvm vendor=arm\ncr0 = NOPE\n\u0000\u0001\r\nrun\rsmi\r\nrsm\nexpect nonsense\n',
  'empty.kvmmu': '',
  'crlf.kvmmu':
    'kernel v6.4\r\nvm tdp=off vcpus=2\r\ncr0 = PE|PG\r\ncr4 = PAE\r\nrun\r\nvcpu 1: smi\r\nvcpu 1: rsm\r\n',
};
const generated = {
  'gen-tdp.kvmmu': generate(big ? 100_000 : 20_000).text,
  'gen-shadow.kvmmu': generate(big ? 100_000 : 20_000, { shadow: true }).text,
  'gen-smm.kvmmu': smmLoop(big ? 48_000 : 4_000),
};
const inputs = [...examples];
for (const [name, text] of Object.entries({ ...broken, ...generated })) {
  const file = join(tmp, name);
  writeFileSync(file, text);
  inputs.push(file);
}

/** `kvmmu args` from `checkout`, stdout to a file (`pipe` false) or through a pipe. */
function run(checkout, args, pipe) {
  const cli = join(checkout, 'dist/cli.js');
  if (pipe) {
    const r = spawnSync('node', [cli, ...args], { maxBuffer: 1 << 30 });
    return { out: r.stdout, err: r.stderr.toString(), status: r.status };
  }
  const outFile = join(tmp, 'out');
  const r = spawnSync('sh', ['-c', 'node "$0" "$@" > "$OUT"', cli, ...args], {
    env: { ...process.env, OUT: outFile },
    maxBuffer: 1 << 30,
  });
  const out = readFileSync(outFile);
  return { out, err: r.stderr.toString(), status: r.status };
}

const cases = [];
for (const f of inputs) {
  cases.push(['check', '--json', f]);
  if (!f.includes('gen-')) {
    cases.push(['run', '--actions', f], ['run', '--at', '3', f], ['diff', f, '--kernel', 'v5.15', '--kernel', 'v6.4']);
    cases.push(['check', '--json', '--kernel', 'v6.1 -tdp_mmu_root_ref', f]);
  }
}
cases.push(['check', '--json', ...examples]);

let bad = 0;
for (const args of cases) {
  for (const pipe of args[1] === '--json' ? [false, true] : [true]) {
    const a = run(reference, args, pipe);
    const b = run(here, args, pipe);
    const label = `${args.join(' ').replaceAll(tmp + '/', '')}${pipe ? ' | pipe' : ' > file'}`;
    if (a.status !== b.status || a.err !== b.err || !a.out.equals(b.out)) {
      bad++;
      let at = 0;
      while (at < a.out.length && a.out[at] === b.out[at]) at++;
      console.log(
        `DIFFERS: ${label}: status ${a.status}/${b.status}, ${a.out.length}/${b.out.length} bytes, first difference at byte ${at}` +
          `\n  reference: ${JSON.stringify(a.out.subarray(at, at + 120).toString())}` +
          `\n  this:      ${JSON.stringify(b.out.subarray(at, at + 120).toString())}` +
          (a.err !== b.err
            ? `\n  stderr: ${JSON.stringify(a.err.slice(0, 200))} / ${JSON.stringify(b.err.slice(0, 200))}`
            : ''),
      );
    }
  }
}
rmSync(tmp, { recursive: true, force: true });
console.log(`${cases.length} commands over ${inputs.length} inputs: ${bad === 0 ? 'identical' : `${bad} differ`}`);
process.exit(bad === 0 ? 0 : 1);

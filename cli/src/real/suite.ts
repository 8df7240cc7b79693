/**
 * `npm run test:real`: every example expressible on AMD plus a generated corpus, on Debian's newest 6.1 and 6.12
 * kernels under QEMU TCG, each compared with the profile of the kernel it ran on. Many scenarios per boot; the
 * modules are reloaded only between MMU configurations. Prints `real-kvm: N passed, M failed`.
 */
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../../core/src/engine/analyze.js';
import { compareRun, driverFailure, type RealComparison } from '../../../core/src/real/compare.js';
import { parseFtrace } from '../../../core/src/real/ftrace.js';
import { generateCorpus } from '../../../core/src/real/generate.js';
import { knownLimitation } from '../../../core/src/real/known.js';
import { lowerScenario, type Lowered } from '../../../core/src/real/lower.js';
import { observe } from '../../../core/src/real/observe.js';
import { profileForKernel } from '../../../core/src/real/profile.js';
import { renderReal } from '../../../core/src/real/report.js';
import { PLAIN } from '../../../core/src/views/text.js';
import { findDriver } from './driver.js';
import { downloadNewest, prepareKernel, type PreparedKernel } from './kernels.js';
import { runBatch, type BatchItem } from './qemu.js';

export interface SuiteOptions {
  root: string;
  /** Kernel packages or series ("6.1", "6.12"). */
  kernels: string[];
  seed: number;
  count: number;
  /** Scenarios per QEMU boot. */
  chunk: number;
  /** QEMUs at once. */
  jobs: number;
  log: (s: string) => void;
  /** Where to write results (JSON) and failing comparisons. */
  out: string;
}

interface Scenario {
  name: string;
  text: string;
}

export interface ScenarioResult {
  kernel: string;
  name: string;
  status: 'pass' | 'fail' | 'known';
  known?: string;
  detail?: string;
}

export function suiteScenarios(root: string, seed: number, count: number): Scenario[] {
  const dir = join(root, 'examples');
  const examples = readdirSync(dir)
    .filter((f) => f.endsWith('.kvmmu'))
    .sort()
    .map((f) => ({ name: `examples/${f}`, text: readFileSync(join(dir, f), 'utf8') }))
    .filter((s) => {
      const a = analyze(s.text, { checkpoints: false });
      return lowerScenario(a, { vendor: 'amd', tcg: true }).refused === undefined;
    });
  return [...examples, ...generateCorpus(seed, count)];
}

/** Every kernel's batches; kernels run side by side (`jobs` QEMUs at once), each its boots in sequence. */
export async function runSuite(
  o: SuiteOptions,
): Promise<{ results: ScenarioResult[]; elapsedMs: number; kernels: string[] }> {
  const started = Date.now();
  const driver = findDriver();
  const scenarios = suiteScenarios(o.root, o.seed, o.count);
  o.log(`${scenarios.length} scenarios (${scenarios.filter((s) => s.name.startsWith('examples/')).length} examples)`);
  const results: ScenarioResult[] = [];
  const kernels: string[] = [];
  mkdirSync(o.out, { recursive: true });
  const failures: string[] = [];
  const one = async (k: string): Promise<void> => {
    const kernel: PreparedKernel = prepareKernel(/^\d+\.\d+$/.test(k) ? downloadNewest(k) : k);
    const choice = profileForKernel(kernel.release, kernel.version);
    const spec = choice?.spec ?? 'latest';
    const label = `${kernel.release} (Debian ${kernel.version})`;
    kernels.push(`${label} vs ${spec}`);
    o.log(`kernel ${label}: profile ${spec}`);
    const prepared = scenarios.map((s) => {
      const a = analyze(s.text, { kernelOverride: spec, checkpoints: false });
      return { s, a, lowered: lowerScenario(a, { vendor: 'amd', tcg: true }) };
    });
    for (let i = 0; i < prepared.length; i += o.chunk) {
      const chunk = prepared.slice(i, i + o.chunk);
      const items: BatchItem[] = chunk.map((p) => ({
        id: p.s.name,
        config: p.lowered.config,
        program: p.lowered.program,
      }));
      const run = await runBatch(kernel, driver, items, o.log);
      if (run.timedOut) writeFileSync(join(o.out, `console-${kernel.release}-${i / o.chunk + 1}.txt`), run.console);
      o.log(
        `  boot ${i / o.chunk + 1}: ${chunk.length} scenarios in ${(run.elapsedMs / 1000).toFixed(1)} s${run.timedOut ? ' (TIMED OUT)' : ''}`,
      );
      for (const p of chunk) {
        const r = run.results.get(p.s.name);
        const failure = !r
          ? run.timedOut
            ? 'QEMU did not finish in time'
            : 'no result from the guest'
          : (driverFailure(r.driver) ?? (r.status !== 0 ? `the driver exited with status ${r.status}` : undefined));
        const c = compareRun(p.a, p.lowered, observe(parseFtrace(r?.trace ?? '')), failure);
        const res = classify(label, p.s.name, c, p.lowered);
        results.push(res);
        if (res.status !== 'pass') {
          const text = renderReal(
            { file: p.s.name, ranOn: label, profile: spec, profileWhy: choice?.why ?? '' },
            c,
            PLAIN,
          );
          failures.push(
            `${res.status === 'known' ? `KNOWN (${res.known})` : 'FAIL'} ${p.s.name} on ${label}\n${text}\n${p.s.name.startsWith('gen-') ? p.s.text : ''}`,
          );
          if (res.status === 'fail')
            o.log(`  FAIL ${p.s.name}: ${c.failure ?? c.groups.find((g) => !g.agree)?.differences[0] ?? ''}`);
        }
        if (r) writeFileSync(join(o.out, `${p.s.name.replace(/\W+/g, '_')}.${kernel.release}.trace`), r.trace + '\n');
      }
    }
  };
  const queue = [...o.kernels];
  await Promise.all(
    Array.from({ length: Math.max(1, o.jobs) }, async () => {
      for (let k = queue.shift(); k !== undefined; k = queue.shift()) await one(k);
    }),
  );
  writeFileSync(join(o.out, 'differences.txt'), failures.join('\n\n') + '\n');
  const elapsedMs = Date.now() - started;
  writeFileSync(join(o.out, 'results.json'), JSON.stringify({ kernels, elapsedMs, results }, null, 2) + '\n');
  return { results, elapsedMs, kernels };
}

function classify(kernel: string, name: string, c: RealComparison, lowered: Lowered): ScenarioResult {
  if (c.agree) return { kernel, name, status: 'pass' };
  const known = knownLimitation(c, lowered);
  if (known !== undefined) return { kernel, name, status: 'known', known };
  const detail =
    c.failure ??
    c.groups
      .filter((g) => !g.agree)
      .flatMap((g) => g.differences.map((d) => `lines ${g.lines.join(',')}: ${d}`))
      .join('; ');
  return { kernel, name, status: 'fail', detail };
}

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyze } from '../../src/engine/analyze.js';
import { compareRun, differences } from '../../src/real/compare.js';
import { markerLine, parseFtrace } from '../../src/real/ftrace.js';
import { lowerScenario } from '../../src/real/lower.js';
import { observe } from '../../src/real/observe.js';
import { realJson } from '../../src/real/report.js';
import { captureHeader, rebuildScenario, withMarkers } from '../../src/real/trace_view.js';

const here = dirname(fileURLToPath(import.meta.url));
const capture = readFileSync(join(here, 'fixtures/smm-root-thrash-amd.6.1.192.capture'), 'utf8');
const example = readFileSync(join(here, '../../../examples/smm-root-thrash-amd.kvmmu'), 'utf8');

describe('real: a capture of Debian 6.1.192 running examples/smm-root-thrash-amd.kvmmu', () => {
  const events = parseFtrace(capture);

  it('parses tracepoints, kprobes with their fields, and the driver’s line markers', () => {
    const tdpGet = events.find((e) => e.name === 'tdp_get');
    assert.equal(tdpGet?.fields['role'], '0x3784');
    assert.deepEqual(
      events.map(markerLine).filter((m) => m !== undefined),
      [9, 10, 12, 13, 16, 17, 20, 21, 23, 24, 27, 'end'],
    );
    assert.equal(captureHeader(capture).get('profile'), 'v6.1.y');
  });

  it('observes the roots per line: allocated once each, found again after every SMI and RSM, freed at destroy', () => {
    const obs = observe(events);
    assert.ok(obs.probes);
    const ops = (line: number): string[] => (obs.byLine.get(line) ?? []).map((a) => `${a.op} ${a.role}`);
    assert.deepEqual(ops(10), ['alloc 0x00003784']);
    assert.deepEqual(ops(13), ['alloc 0x01003784']);
    assert.deepEqual(ops(17), ['reuse 0x00003784']);
    assert.deepEqual(ops(21), ['reuse 0x01003784']);
    assert.deepEqual(ops(24), ['reuse 0x00003784']);
    assert.deepEqual(ops(27).sort(), ['free 0x00003784', 'free 0x01003784']);
    assert.deepEqual(obs.notes.get(13), ['entering SMM']);
  });

  it('agrees with v6.1.y; mainline v6.3 disagrees on the SMI and RSM lines, each difference named', () => {
    const run = (spec: string) => {
      const a = analyze(example, { kernelOverride: spec, checkpoints: false });
      return compareRun(a, lowerScenario(a, { vendor: 'amd', tcg: true }), observe(events));
    };
    const ok = run('v6.1.y');
    assert.ok(ok.agree);
    assert.equal(ok.groups.length, 7);
    const bad = run('v6.3');
    assert.ok(!bad.agree);
    assert.deepEqual(
      bad.groups.filter((g) => !g.agree).map((g) => g.lines),
      [[12, 13], [16, 17], [20, 21], [23, 24], [27]],
    );
    assert.deepEqual(bad.groups.find((g) => g.lines[0] === 16)!.differences, [
      'the model frees a root with role 0x01003784 that the kernel does not',
      'the model allocates a root with role 0x00003784 that the kernel does not',
      'the kernel finds again a root with role 0x00003784 that the model does not',
    ]);
  });

  it('--json: the same comparison as plain data', () => {
    const a = analyze(example, { kernelOverride: 'v6.3', checkpoints: false });
    const c = compareRun(a, lowerScenario(a, { vendor: 'amd', tcg: true }), observe(events));
    const j = JSON.parse(
      JSON.stringify(realJson({ file: 'x.kvmmu', ranOn: 'Linux 6.1', profile: 'v6.3', profileWhy: 'test' }, c)),
    ) as { agree: boolean; steps: { lines: number[]; agree: boolean; model: unknown[] }[]; lines: unknown[] };
    assert.equal(j.agree, false);
    assert.equal(j.lines.length, 11);
    assert.deepEqual(j.steps[2], {
      lines: [12, 13],
      model: [
        { op: 'free', role: '0x00003784' },
        { op: 'alloc', role: '0x01003784' },
      ],
      kernel: [{ op: 'alloc', role: '0x01003784' }],
      agree: false,
      differences: ['the model frees a root with role 0x00003784 that the kernel does not'],
    });
  });

  it('differences: counts per op and role, in both directions', () => {
    assert.deepEqual(
      differences(
        [
          { op: 'alloc', role: '0x1' },
          { op: 'alloc', role: '0x1' },
        ],
        [
          { op: 'alloc', role: '0x1' },
          { op: 'cache_hit', role: '0x2' },
        ],
      ),
      [
        'the model allocates a root with role 0x1 that the kernel does not',
        'the kernel finds in prev_roots a root with role 0x2 that the model does not',
      ],
    );
  });

  it('kvmmu trace without a scenario rebuilds smi/rsm and a run at every root load', () => {
    const plain = events.filter((e) => markerLine(e) === undefined);
    const r = rebuildScenario(plain);
    assert.deepEqual(r.text.split('\n').slice(2, -1), ['run', 'smi', 'run', 'rsm', 'run', 'smi', 'run', 'rsm', 'run']);
    const obs = observe(withMarkers(plain, r.markers));
    assert.deepEqual(
      (obs.byLine.get(r.lines[2]!) ?? []).map((a) => `${a.op} ${a.role}`),
      ['alloc 0x01003784'],
    );
  });
});

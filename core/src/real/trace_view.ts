/**
 * `kvmmu trace CAPTURE` without a scenario: rebuild what a capture shows of the scenario that ran — register
 * writes that exited (kvm_cr), SMM entries and exits (kvm_smm_transition), nested entries and exits, memslot
 * flushes, and a `run` wherever a root was loaded — then put the model's prediction for the rebuilt scenario
 * beside the root events the kernel showed. Pure.
 *
 * A capture also records, in `# kvmmu:` comment lines, the target and profile of a `kvmmu real --capture` run.
 */
import type { Analysis } from '../engine/analysis.js';
import type { Style } from '../views/text.js';
import { modelActions } from './compare.js';
import type { TraceEvent } from './ftrace.js';
import type { Observation, ObservedAction } from './observe.js';
import { formatActions } from './report.js';

export interface RebuiltScenario {
  text: string;
  /** For each rebuilt statement line (1-based), the capture events attributed to it, as marker events. */
  markers: TraceEvent[];
  /** Statement lines of `text` (1-based). */
  lines: number[];
}

const CR_WRITE = /cr_write (\d+) = (0x[0-9a-f]+)/;

/** A capture's `# kvmmu: key value` comment lines. */
export function captureHeader(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const h = /^# kvmmu: (\w+) (.*)$/.exec(line);
    if (h) m.set(h[1]!, h[2]!.trim());
  }
  return m;
}

export function rebuildScenario(events: readonly TraceEvent[]): RebuiltScenario {
  const vendor = events.some((e) => e.text.includes('vmx_load_mmu_pgd')) ? 'intel' : 'amd';
  const header = ['# rebuilt by kvmmu trace from a capture: what the kernel showed, not the original scenario'];
  const body: string[] = [];
  const at: number[] = []; // capture index where each statement starts
  let last: string | undefined;
  let nested = false;
  events.forEach((e, i) => {
    let stmt: string | undefined;
    if (e.name === 'kvm_cr') {
      const m = CR_WRITE.exec(e.text);
      if (m) stmt = `cr${m[1]} = ${m[2]}`;
    } else if (e.name === 'kvm_smm_transition') stmt = e.text.includes('entering') ? 'smi' : 'rsm';
    else if (e.name === 'kvm_nested_vmrun' || e.name === 'kvm_nested_vmenter') {
      nested = true;
      stmt = /npt: on|nested_ept=y|npt=1/.test(e.text) ? 'vmenter npt=on ncr3=0x7000' : 'vmenter';
    } else if (e.name === 'kvm_nested_vmexit_inject') stmt = 'vmexit';
    else if (e.name === 'flush_memslot') stmt = 'memslot delete 0';
    // A root load is a VM-entry: one `run` however many roots it loads (a PAE guest's four).
    else if ((e.name === 'tdp_get' || e.name === 'alloc_root') && last !== 'run') stmt = 'run';
    if (stmt !== undefined) {
      last = stmt;
      body.push(stmt);
      at.push(i);
    }
  });
  const tdp = events.some((e) => e.name === 'tdp_get');
  header.push(`vm vendor=${vendor} tdp=${tdp ? 'on' : 'off'}${nested ? ' nested=on' : ''}`);
  const first = header.length + 1;
  const text = [...header, ...body].join('\n') + '\n';
  const markers: TraceEvent[] = at.map((idx, k) => ({
    at: events[idx]!.at,
    pid: 0,
    cpu: 0,
    time: events[idx]!.time,
    name: 'tracing_mark_write',
    text: `kvmmu: line ${first + k}`,
    fields: {},
  }));
  return { text, markers, lines: body.map((_, k) => first + k) };
}

/** The capture's events with the rebuilt statements' markers placed before the events they explain. */
export function withMarkers(events: readonly TraceEvent[], markers: readonly TraceEvent[]): TraceEvent[] {
  const out: TraceEvent[] = [];
  let m = 0;
  for (const e of events) {
    while (m < markers.length && markers[m]!.at <= e.at) out.push(markers[m++]!);
    out.push(e);
  }
  return out;
}

export function renderTrace(r: RebuiltScenario, a: Analysis, obs: Observation, spec: string, st: Style): string {
  const lines = r.text.split('\n');
  const out = [`rebuilt scenario (model: ${spec}); model prediction beside the root events of the capture`];
  if (!obs.probes)
    out.push(
      st.yellow(
        'the capture has no kvmmu probes: TDP MMU roots found again or freed are invisible (see `kvmmu capture`)',
      ),
    );
  for (const l of r.lines) {
    const stmt = lines[l - 1] ?? '';
    const seen: ObservedAction[] = obs.byLine.get(l) ?? [];
    out.push(
      `${String(l).padStart(5)}  ${stmt.padEnd(28)}  model: ${formatActions(modelActions(a, l)).padEnd(30)}  kernel: ${formatActions(seen)}`,
    );
  }
  return out.join('\n');
}

/**
 * Helpers for the facts.md conformance tests: build a small scenario, analyse it, and look at the
 * step of a tagged line (`#@tag` comment at the end of the line) and the state after it.
 */
import assert from 'node:assert/strict';
import type { Analysis, Step } from '../../src/engine/analysis.js';
import { analyze } from '../../src/engine/analyze.js';
import type {
  Action,
  ActionOp,
  MmuName,
  MmuSnapshot,
  RootSnapshot,
  Snapshot,
  VcpuSnapshot,
} from '../../src/kernel/types.js';

/** Profiles by facts.md era (§0.3). */
export const E1 = ['v5.15', 'v5.17'] as const;
export const E2 = ['v6.1', 'v6.3'] as const;
export const E3 = ['v6.4'] as const;
export const E45 = ['v6.6', 'v6.12', 'v6.18'] as const;
export const ALL = [...E1, ...E2, ...E3, ...E45] as const;
/** v6.4 and later (edbdb43f, CR0.WP series). */
export const V64PLUS = [...E3, ...E45] as const;
/** E2+ (cpu_role split, FREE_OBSOLETE_ROOTS, new prev-root helpers). */
export const E2PLUS = [...E2, ...E3, ...E45] as const;

/** A 64-bit (4-level, long mode) L1 guest set up by userspace. */
export const LONG = 'sregs cr0=PE|ET|NE|PG|WP cr4=PAE efer=LME|LMA|NX cr3=0x1000';
/** Long mode with PCIDs enabled (CR3 PCID 0). */
export const LONG_PCID = 'sregs cr0=PE|ET|NE|PG|WP cr4=PAE|PCIDE efer=LME|LMA|NX cr3=0x1000';
/** 32-bit PAE paging guest. */
export const PAE = 'sregs cr0=PE|ET|NE|PG|WP cr4=PAE efer=NX cr3=0x1000';
/** Protected mode, paging off. */
export const NOPAGING = 'sregs cr0=PE|ET|NE cr4=0 efer=0 cr3=0';
/** Long mode L1 with VMXE (for nested). */
export const LONG_VMX = 'sregs cr0=PE|ET|NE|PG|WP cr4=PAE|VMXE efer=LME|LMA|NX cr3=0x1000';

export class Sim {
  readonly lines: string[];
  constructor(
    readonly a: Analysis,
    readonly text: string,
  ) {
    this.lines = text.split('\n');
  }

  /** 0-based line of the tagged statement. */
  line(tag: string): number {
    const re = new RegExp(`#@${tag}(\\s|$)`);
    const i = this.lines.findIndex((l) => re.test(l));
    if (i < 0) throw new Error(`test bug: no line tagged #@${tag}`);
    return i;
  }

  step(tag: string): Step {
    const s = this.a.stepAt(this.line(tag));
    if (!s) throw new Error(`no step at #@${tag} (line ${this.line(tag) + 1}); diagnostics: ${diagText(this.a)}`);
    // No scenario here means to inject #GP, fail a VM-Enter or run an impossible event.
    if (s.result.outcome === 'gp' || s.result.outcome === 'vmfail' || s.result.outcome === 'error')
      throw new Error(`unexpected outcome ${s.result.outcome} at #@${tag}: ${s.result.message ?? ''}`);
    return s;
  }

  /** State after the tagged statement. */
  state(tag: string): Snapshot {
    return this.a.stateAt(this.line(tag));
  }

  actions(tag: string, op?: ActionOp): Action[] {
    const acts = this.step(tag).result.actions;
    return op ? acts.filter((x) => x.op === op) : acts;
  }

  ops(tag: string): ActionOp[] {
    return this.actions(tag).map((x) => x.op);
  }

  requests(tag: string): string[] {
    return this.actions(tag, 'request').map((x) => x.request ?? '');
  }

  /** Ids of the roots allocated by the tagged statement. */
  allocated(tag: string): number[] {
    return this.actions(tag, 'alloc').map((x) => x.root as number);
  }

  /** The single root allocated by the tagged statement. */
  allocatedOne(tag: string): number {
    const ids = this.allocated(tag);
    assert.equal(
      ids.length,
      1,
      `expected exactly one alloc at #@${tag}, got ${JSON.stringify(ids)}; ${this.describe(tag)}`,
    );
    return ids[0] as number;
  }

  outcome(tag: string): string {
    return this.step(tag).result.outcome;
  }

  describe(tag: string): string {
    const s = this.step(tag);
    return `step "${s.statement ? this.lines[s.line] : ''}" → ${s.result.outcome}: ${s.result.actions
      .map(
        (x) =>
          `${x.op}${x.root !== undefined ? ` #${x.root}` : ''}${x.refcount ? ` [${x.refcount.join('→')}]` : ''}${x.request ? ` ${x.request}` : ''}`,
      )
      .join(', ')}`;
  }
}

export function diagText(a: Analysis): string {
  return a.diagnostics.map((d) => `${d.span.line + 1}:${d.severity}:${d.code}:${d.message}`).join(' | ') || '(none)';
}

/** Analyses `kernel K`, `vm ...` and the body; fails on any error diagnostic (the scenario must be valid). */
export function sim(kernel: string, vm: string, body: string): Sim {
  const text = `kernel ${kernel}\nvm ${vm}\n${body
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join('\n')}\n`;
  const a = analyze(text);
  const errors = a.diagnostics.filter((d) => d.severity === 'error');
  assert.equal(errors.length, 0, `scenario has errors: ${diagText(a)}\n${text}`);
  for (const st of a.steps) {
    const warns = st.result.actions.filter((x) => x.op === 'warn' || x.op === 'hazard');
    assert.deepEqual(
      warns.map((x) => x.detail),
      [],
      `line ${st.line + 1}: KVM would not WARN in this scenario\n${text}`,
    );
  }
  for (const st of a.steps)
    assert.ok(
      st.result.outcome === 'ok' || st.result.outcome === 'no_exit',
      `line ${st.line + 1}: unexpected outcome ${st.result.outcome} (${st.result.message ?? ''})\n${text}`,
    );
  return new Sim(a, text);
}

export function root(snap: Snapshot, id: number): RootSnapshot {
  const r = snap.roots.find((x) => x.id === id);
  assert.ok(r, `no root #${id} in snapshot`);
  return r;
}

export function vcpu(snap: Snapshot, id = 0): VcpuSnapshot {
  const v = snap.vcpus[id];
  assert.ok(v, `no vcpu ${id}`);
  return v;
}

export function mmu(snap: Snapshot, name: MmuName, vcpuId = 0): MmuSnapshot {
  const m = vcpu(snap, vcpuId).mmus.find((x) => x.name === name);
  assert.ok(m, `no ${name} on vcpu ${vcpuId}`);
  return m;
}

/** The root id in the current slot of the active MMU (vcpu->arch.mmu). */
export function current(snap: Snapshot, vcpuId = 0): number | null {
  const v = vcpu(snap, vcpuId);
  return mmu(snap, v.mmu, vcpuId).root;
}

/** The current root of the active MMU, which must exist. */
export function currentRoot(snap: Snapshot, vcpuId = 0): RootSnapshot {
  const id = current(snap, vcpuId);
  assert.notEqual(id, null, `vcpu ${vcpuId} has no current root`);
  return root(snap, id as number);
}

export function prevRoots(snap: Snapshot, name: MmuName = 'root_mmu', vcpuId = 0): (number | null)[] {
  return mmu(snap, name, vcpuId).prevRoots;
}

export function liveRoots(snap: Snapshot): RootSnapshot[] {
  return snap.roots.filter((r) => r.state !== 'freed');
}

/** Role field of a root, via the engine's own `root.role.<field>`-free decoding: parse hex and the profile layout. */
export function hasOp(actions: Action[], op: ActionOp, rootId?: number): boolean {
  return actions.some(
    (x) => x.op === op && (rootId === undefined || x.root === rootId || (x.roots ?? []).includes(rootId)),
  );
}

/** Refcount transitions of `put`/`get` actions about a root, in order. */
export function refTrace(actions: Action[], op: 'put' | 'get', rootId: number): [number, number][] {
  return actions
    .filter((x) => x.op === op && x.root === rootId && x.refcount)
    .map((x) => x.refcount as [number, number]);
}

/**
 * Page-role fields decoded independently of the model, from facts §1.1 (bit positions are the same in
 * every era for these fields; `smm` is the top byte).
 */
const ROLE_BITS = {
  level: [0, 4],
  gpte_bit4: [4, 1],
  quadrant: [5, 2],
  direct: [7, 1],
  access: [8, 3],
  invalid: [11, 1],
  efer_nx: [12, 1],
  cr0_wp: [13, 1],
  smep_andnot_wp: [14, 1],
  smap_andnot_wp: [15, 1],
  ad_disabled: [16, 1],
  guest_mode: [17, 1],
  passthrough: [18, 1],
  smm: [24, 8],
} as const;

export type RoleBit = keyof typeof ROLE_BITS;

export function roleField(r: RootSnapshot | string, f: RoleBit): number {
  const word = Number.parseInt(typeof r === 'string' ? r : r.role, 16);
  const [shift, width] = ROLE_BITS[f];
  return Math.floor(word / 2 ** shift) % 2 ** width;
}

/** A counter from the snapshot, which must exist. */
export function stat(snap: Snapshot, name: string): number {
  const v = snap.stats[name];
  assert.ok(v !== undefined, `no counter ${name}`);
  return v;
}

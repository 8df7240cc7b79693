/**
 * The panel's tables as plain data: rows and cells derived from a view (and, in compare mode, two
 * aligned snapshots). Pure: no DOM, so the logic is unit-tested in Node and rendering stays dumb.
 */
import type { StateAtResult } from '../../core/src/protocol.js';
import type {
  MmuSnapshot,
  RootKind,
  RootSnapshot,
  RootState,
  Snapshot,
  VcpuSnapshot,
} from '../../core/src/kernel/types.js';
import type { PanelView, RootSort, RootSortKey } from '../../core/src/panel/messages.js';
import type { RoleDecoder } from './roles.js';
import { STAT_NAMES } from '../../core/src/kernel/stats.js';

export interface Cell {
  text: string;
  /** Hover text (role decoding, call paths). */
  title?: string;
  /** Numbers and role words use the editor font. */
  mono?: boolean;
  /** Differs from the other kernel's value (compare mode). */
  diff?: boolean;
}

export interface Column {
  label: string;
  /** Roots table only: clicking the header sorts by this key. */
  sortKey?: RootSortKey;
  mono?: boolean;
  /** Compare mode: which kernel's state the column shows. */
  side?: 'a' | 'b';
  /** Compare mode: the kernel label, on the first column of each side (its header shows the kernel). */
  group?: string;
  /** Which columns stay in a narrow panel: 1 always, then 2, then 3 while they fit (default 2). */
  priority?: 1 | 2 | 3;
  /** Takes the width left over, and gives it back first (holders). */
  grow?: boolean;
  /** Header hover text, when the label is shortened. */
  title?: string;
}

export interface Row {
  /** Stable across updates (selection and focus follow it). */
  key: string;
  cells: Cell[];
  /** Touched by the statement on this line. */
  changed: boolean;
  /** Compare mode: the row exists under one kernel only. */
  onlyIn?: 'a' | 'b';
  /** 0-based line to reveal when the row is activated (a root's allocation). */
  revealLine?: number;
}

export interface Table {
  id: 'roots' | 'vcpus' | 'counters';
  title: string;
  columns: Column[];
  rows: Row[];
}

// ---------------------------------------------------------------------------------------------
// Roots

const KIND_LABEL: Record<RootKind, string> = {
  tdp_mmu: 'TDP MMU',
  shadow: 'shadow',
  nested_ept: 'nested EPT',
  nested_npt: 'nested NPT',
  pae: 'PAE',
};

const STATE_ORDER: Record<RootState, number> = { valid: 0, invalid: 1, freed: 2 };

export function kindLabel(kind: RootKind): string {
  return KIND_LABEL[kind];
}

export function stateLabel(root: RootSnapshot): string {
  switch (root.state) {
    case 'valid':
      return root.obsolete ? 'obsolete' : 'valid';
    case 'invalid':
      return 'invalid, awaiting zap';
    case 'freed':
      return 'freed';
  }
}

function modeLabel(smm: boolean, guestMode: boolean): string {
  return [smm ? 'SMM' : '', guestMode ? 'guest' : ''].filter(Boolean).join(' ');
}

function lineLabel(line: number | null): string {
  return line === null ? '—' : `L${line}`;
}

/** Compares two roots by a sort key; ties fall back to id so the order is total and stable. */
export function compareRoots(a: RootSnapshot, b: RootSnapshot, key: RootSortKey): number {
  let d: number;
  switch (key) {
    case 'id':
      d = 0;
      break;
    case 'kind':
      d = KIND_LABEL[a.kind].localeCompare(KIND_LABEL[b.kind]);
      break;
    case 'role':
      d = Number.parseInt(a.role, 16) - Number.parseInt(b.role, 16);
      break;
    case 'level':
      d = a.level - b.level;
      break;
    case 'refcount':
      d = a.refcount - b.refcount;
      break;
    case 'state':
      d = STATE_ORDER[a.state] - STATE_ORDER[b.state];
      break;
    case 'allocatedAt':
      d = a.allocatedAt - b.allocatedAt;
      break;
    case 'freedAt':
      // Roots still alive sort after every freed one.
      d = (a.freedAt ?? Number.MAX_SAFE_INTEGER) - (b.freedAt ?? Number.MAX_SAFE_INTEGER);
      break;
  }
  return d !== 0 ? d : a.id - b.id;
}

function sortedBy<T>(items: T[], root: (item: T) => RootSnapshot, sort: RootSort): T[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  return items.slice().sort((x, y) => sign * compareRoots(root(x), root(y), sort.key));
}

function roleCells(r: RootSnapshot, kernel: string, decoder: RoleDecoder): [Cell, Cell] {
  const details = decoder.pageRoleDetails(kernel, r.role);
  const summary = decoder.pageRoleSummary(kernel, r.role);
  const title = details ?? `role ${r.role} (no decoder for ${kernel})`;
  return [
    { text: r.role, mono: true, title },
    { text: summary ?? '', title },
  ];
}

function rootCells(r: RootSnapshot, kernel: string, decoder: RoleDecoder): Cell[] {
  const [role, summary] = roleCells(r, kernel, decoder);
  return [
    { text: `#${r.id}`, mono: true },
    { text: kindLabel(r.kind), ...(r.gfn ? { title: `shadows gfn ${r.gfn}` } : {}) },
    role,
    summary,
    { text: String(r.level), mono: true },
    { text: modeLabel(r.smm, r.guestMode) },
    { text: String(r.refcount), mono: true },
    { text: r.holders.join(', '), title: r.holders.join('\n') || 'no holders' },
    { text: stateLabel(r) },
    { text: lineLabel(r.allocatedAt), mono: true, title: 'Click or press Enter to reveal the allocating line' },
    { text: lineLabel(r.freedAt), mono: true },
  ];
}

const ROOT_COLUMNS: Column[] = [
  { label: 'Root', sortKey: 'id', mono: true, priority: 1 },
  { label: 'Kind', sortKey: 'kind' },
  { label: 'Role', sortKey: 'role', mono: true, priority: 3 },
  { label: 'Decoded', priority: 3 },
  { label: 'Level', sortKey: 'level', mono: true, priority: 3 },
  { label: 'Mode', priority: 3 },
  { label: 'Refs', sortKey: 'refcount', mono: true, priority: 1, title: 'refcount' },
  { label: 'Holders', priority: 1, grow: true, title: 'who holds each reference' },
  { label: 'State', sortKey: 'state', priority: 1 },
  { label: 'Allocated', sortKey: 'allocatedAt', mono: true },
  { label: 'Freed', sortKey: 'freedAt', mono: true, priority: 3 },
];

export function rootTable(
  result: StateAtResult,
  changedRoots: readonly number[],
  sort: RootSort,
  decoder: RoleDecoder,
): Table {
  const changed = new Set(changedRoots);
  const kernel = result.kernel.label;
  const rows = sortedBy(result.snapshot.roots, (r) => r, sort).map((r): Row => ({
    key: `#${r.id}`,
    cells: rootCells(r, kernel, decoder),
    changed: changed.has(r.id),
    revealLine: r.allocatedAt - 1,
  }));
  return { id: 'roots', title: `Roots (${rows.length})`, columns: ROOT_COLUMNS, rows };
}

// ---------------------------------------------------------------------------------------------
// Compare mode: roots of two kernels aligned by what they are, not by id (ids shift as soon as one
// kernel allocates a root the other does not).

export interface AlignedRoot {
  key: string;
  a: RootSnapshot | null;
  b: RootSnapshot | null;
}

function alignmentKey(r: RootSnapshot): string {
  return `${r.allocatedAt}|${r.kind}|${r.role}|${r.gfn ?? ''}`;
}

/** Pairs roots allocated by the same line with the same kind, role and gfn (nth with nth). */
export function alignRoots(a: readonly RootSnapshot[], b: readonly RootSnapshot[]): AlignedRoot[] {
  const keyed = (roots: readonly RootSnapshot[]): Map<string, RootSnapshot> => {
    const seen = new Map<string, number>();
    const out = new Map<string, RootSnapshot>();
    for (const r of [...roots].sort((x, y) => x.id - y.id)) {
      const base = alignmentKey(r);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.set(`${base}|${n}`, r);
    }
    return out;
  };
  const ka = keyed(a);
  const kb = keyed(b);
  const pairs: AlignedRoot[] = [];
  for (const [key, ra] of ka) pairs.push({ key, a: ra, b: kb.get(key) ?? null });
  for (const [key, rb] of kb) if (!ka.has(key)) pairs.push({ key, a: null, b: rb });
  return pairs;
}

type ComparedRootField = 'refcount' | 'holders' | 'state' | 'freedAt';

function sideCells(r: RootSnapshot | null, other: RootSnapshot | null): Cell[] {
  if (!r) return [{ text: '' }, { text: '' }, { text: '' }, { text: '' }, { text: '' }];
  const differs = (f: ComparedRootField): boolean =>
    other === null || JSON.stringify(r[f]) !== JSON.stringify(other[f]);
  return [
    { text: `#${r.id}`, mono: true },
    { text: String(r.refcount), mono: true, diff: differs('refcount') },
    { text: r.holders.join(', '), title: r.holders.join('\n') || 'no holders', diff: differs('holders') },
    { text: stateLabel(r), diff: differs('state') },
    { text: lineLabel(r.freedAt), mono: true, diff: differs('freedAt') },
  ];
}

export function compareRootTable(
  a: StateAtResult,
  b: StateAtResult,
  changedRoots: readonly number[],
  sort: RootSort,
  decoder: RoleDecoder,
): Table {
  const changed = new Set(changedRoots);
  const changedB = new Set(b.changedRoots);
  const pairs = sortedBy(alignRoots(a.snapshot.roots, b.snapshot.roots), (p) => (p.a ?? p.b) as RootSnapshot, sort);
  const rows = pairs.map((p): Row => {
    const any = (p.a ?? p.b) as RootSnapshot;
    const [role, summary] = roleCells(any, p.a ? a.kernel.label : b.kernel.label, decoder);
    const row: Row = {
      key: p.key,
      cells: [
        { text: kindLabel(any.kind), ...(any.gfn ? { title: `shadows gfn ${any.gfn}` } : {}) },
        role,
        summary,
        { text: lineLabel(any.allocatedAt), mono: true },
        ...sideCells(p.a, p.b),
        ...sideCells(p.b, p.a),
      ],
      changed: (p.a !== null && changed.has(p.a.id)) || (p.b !== null && changedB.has(p.b.id)),
      revealLine: any.allocatedAt - 1,
    };
    if (!p.a) row.onlyIn = 'b';
    if (!p.b) row.onlyIn = 'a';
    return row;
  });
  const side = (s: 'a' | 'b'): Column[] => [
    { label: 'Root', mono: true, side: s, group: s === 'a' ? a.kernel.label : b.kernel.label, priority: 1 },
    { label: 'Refs', mono: true, side: s, priority: 1 },
    { label: 'Holders', side: s, priority: 2 },
    { label: 'State', side: s, priority: 1 },
    { label: 'Freed', mono: true, side: s, priority: 3 },
  ];
  return {
    id: 'roots',
    title: `Roots (${a.kernel.label}: ${a.snapshot.roots.length}, ${b.kernel.label}: ${b.snapshot.roots.length})`,
    columns: [
      { label: 'Kind', sortKey: 'kind' },
      { label: 'Role', sortKey: 'role', mono: true, priority: 3 },
      { label: 'Decoded', priority: 3 },
      { label: 'Allocated', sortKey: 'allocatedAt', mono: true },
      ...side('a'),
      ...side('b'),
    ],
    rows,
  };
}

// ---------------------------------------------------------------------------------------------
// vCPUs: one row per MMU that is active or holds something.

function shownMmus(v: VcpuSnapshot): MmuSnapshot[] {
  return v.mmus.filter(
    (m) => m.name === v.mmu || m.root !== null || m.rootSpecial !== null || m.prevRoots.some((p) => p !== null),
  );
}

function rootRef(id: number | null): string {
  return id === null ? '—' : `#${id}`;
}

function currentRootText(m: MmuSnapshot): string {
  if (m.rootSpecial === null) return rootRef(m.root);
  if (m.rootSpecial === 'dummy') return 'dummy root (zero page)';
  if (m.rootSpecial === 'pae_root' || m.paeRoots.length > 0)
    return `${m.rootSpecial} [${m.paeRoots.map(rootRef).join(' ')}]`;
  return m.rootSpecial;
}

function vcpuModeText(v: VcpuSnapshot): string {
  if (v.destroyed) return 'destroyed';
  return modeLabel(v.smm, v.guestMode) || 'normal';
}

const VCPU_COLUMNS: Column[] = [
  { label: 'vCPU', mono: true, priority: 1 },
  { label: 'Mode' },
  { label: 'MMU', priority: 1 },
  { label: 'Root', mono: true, priority: 1 },
  { label: 'prev[0]', mono: true, priority: 1, title: 'prev_roots[0]' },
  { label: 'prev[1]', mono: true, priority: 1, title: 'prev_roots[1]' },
  { label: 'prev[2]', mono: true, priority: 1, title: 'prev_roots[2]' },
  { label: 'CPU role', mono: true, priority: 3 },
  { label: 'Requests', grow: true },
];

function mmuCells(v: VcpuSnapshot, m: MmuSnapshot, kernel: string, decoder: RoleDecoder): Cell[] {
  const prev = (i: number): Cell => {
    const id = m.prevRoots[i] ?? null;
    const pgd = m.prevPgds[i];
    return { text: rootRef(id), mono: true, ...(id !== null && pgd ? { title: `pgd ${pgd}` } : {}) };
  };
  const active = m.name === v.mmu;
  const walk = m.name === v.walkMmu && v.walkMmu !== v.mmu ? ' (walk_mmu)' : '';
  return [
    { text: String(v.id), mono: true },
    { text: vcpuModeText(v) },
    { text: `${m.name}${active ? ' ●' : ''}${walk}`, title: active ? 'vcpu->arch.mmu' : 'not the active MMU' },
    {
      text: currentRootText(m),
      mono: true,
      title: `pgd ${m.rootPgd}; root role ${m.rootRole}; root level ${m.rootLevel}`,
    },
    prev(0),
    prev(1),
    prev(2),
    { text: m.cpuRole, mono: true, title: decoder.cpuRoleDetails(kernel, m.cpuRole) ?? `cpu role ${m.cpuRole}` },
    { text: v.requests.join(' ') },
  ];
}

export function vcpuTable(result: StateAtResult, changedVcpus: readonly number[], decoder: RoleDecoder): Table {
  const changed = new Set(changedVcpus);
  const rows: Row[] = [];
  for (const v of result.snapshot.vcpus) {
    for (const m of shownMmus(v)) {
      rows.push({
        key: `${v.id}/${m.name}`,
        cells: mmuCells(v, m, result.kernel.label, decoder),
        changed: changed.has(v.id),
      });
    }
  }
  return { id: 'vcpus', title: 'vCPUs', columns: VCPU_COLUMNS, rows };
}

/** Compare mode: the same vCPU slots under both kernels; a slot differs when it holds a different root. */
export function compareVcpuTable(a: StateAtResult, b: StateAtResult, changedVcpus: readonly number[]): Table {
  const pairs = alignRoots(a.snapshot.roots, b.snapshot.roots);
  const keyOfA = new Map<number, string>();
  const keyOfB = new Map<number, string>();
  for (const p of pairs) {
    if (p.a) keyOfA.set(p.a.id, p.key);
    if (p.b) keyOfB.set(p.b.id, p.key);
  }
  const changed = new Set([...changedVcpus, ...b.changedVcpus]);
  const slotsOf = (s: Snapshot): Map<string, { v: VcpuSnapshot; m: MmuSnapshot }> => {
    const out = new Map<string, { v: VcpuSnapshot; m: MmuSnapshot }>();
    for (const v of s.vcpus) for (const m of shownMmus(v)) out.set(`${v.id}/${m.name}`, { v, m });
    return out;
  };
  const sa = slotsOf(a.snapshot);
  const sb = slotsOf(b.snapshot);
  const keys = [...new Set([...sa.keys(), ...sb.keys()])].sort((x, y) => {
    const [vx = '', mx = ''] = x.split('/');
    const [vy = '', my = ''] = y.split('/');
    return Number(vx) - Number(vy) || mx.localeCompare(my);
  });
  const sideCells = (
    mine: { v: VcpuSnapshot; m: MmuSnapshot } | undefined,
    theirs: { v: VcpuSnapshot; m: MmuSnapshot } | undefined,
    myKeys: Map<number, string>,
    theirKeys: Map<number, string>,
  ): Cell[] => {
    if (!mine) return [{ text: '' }, { text: '' }, { text: '' }, { text: '' }, { text: '' }];
    const same = (x: number | null | undefined, y: number | null | undefined): boolean =>
      (x === null || x === undefined ? null : (myKeys.get(x) ?? null)) ===
      (y === null || y === undefined ? null : (theirKeys.get(y) ?? null));
    const slot = (x: number | null | undefined, y: number | null | undefined, present: boolean): Cell => ({
      text: rootRef(x ?? null),
      mono: true,
      diff: !present || !same(x, y),
    });
    const t = theirs?.m;
    return [
      {
        text: currentRootText(mine.m),
        mono: true,
        diff:
          !t ||
          currentRootText(mine.m).replace(/#\d+/g, '#') !== currentRootText(t).replace(/#\d+/g, '#') ||
          !same(mine.m.root, t.root),
      },
      slot(mine.m.prevRoots[0], t?.prevRoots[0], !!t),
      slot(mine.m.prevRoots[1], t?.prevRoots[1], !!t),
      slot(mine.m.prevRoots[2], t?.prevRoots[2], !!t),
      { text: mine.m.cpuRole, mono: true, diff: !t || t.cpuRole !== mine.m.cpuRole },
    ];
  };
  const rows = keys.map((key): Row => {
    const x = sa.get(key);
    const y = sb.get(key);
    const any = (x ?? y) as { v: VcpuSnapshot; m: MmuSnapshot };
    const row: Row = {
      key,
      cells: [
        { text: String(any.v.id), mono: true },
        { text: any.m.name },
        ...sideCells(x, y, keyOfA, keyOfB),
        ...sideCells(y, x, keyOfB, keyOfA),
      ],
      changed: changed.has(any.v.id),
    };
    if (!x) row.onlyIn = 'b';
    if (!y) row.onlyIn = 'a';
    return row;
  });
  const side = (s: 'a' | 'b'): Column[] => [
    { label: 'Root', mono: true, side: s, group: s === 'a' ? a.kernel.label : b.kernel.label, priority: 1 },
    { label: 'prev[0]', mono: true, side: s, title: 'prev_roots[0]' },
    { label: 'prev[1]', mono: true, side: s, title: 'prev_roots[1]' },
    { label: 'prev[2]', mono: true, side: s, title: 'prev_roots[2]' },
    { label: 'CPU role', mono: true, side: s, priority: 3 },
  ];
  return {
    id: 'vcpus',
    title: 'vCPUs',
    columns: [{ label: 'vCPU', mono: true, priority: 1 }, { label: 'MMU', priority: 1 }, ...side('a'), ...side('b')],
    rows,
  };
}

// ---------------------------------------------------------------------------------------------
// Counters

/** The model's own counters first, then KVM's statistics, then anything newer alphabetically. */
const COUNTER_ORDER: readonly string[] = STAT_NAMES;

function counterNames(...stats: Record<string, number>[]): string[] {
  const names = new Set<string>();
  for (const s of stats) for (const k of Object.keys(s)) names.add(k);
  const rank = (n: string): number => {
    const i = COUNTER_ORDER.indexOf(n);
    return i < 0 ? COUNTER_ORDER.length : i;
  };
  return [...names].sort((x, y) => rank(x) - rank(y) || x.localeCompare(y));
}

function delta(now: number, before: number | undefined): string {
  const d = now - (before ?? 0);
  return d === 0 ? '' : d > 0 ? `+${d}` : String(d);
}

export function counterTable(view: PanelView): Table {
  const stats = view.primary.snapshot.stats;
  const before = view.previousStats ?? {};
  const rows = counterNames(stats).map((name): Row => {
    const now = stats[name] ?? 0;
    const d = delta(now, before[name]);
    return {
      key: name,
      cells: [
        { text: name, mono: true },
        { text: String(now), mono: true },
        { text: d, mono: true },
      ],
      changed: d !== '',
    };
  });
  return {
    id: 'counters',
    title: 'Counters',
    columns: [
      { label: 'Counter', priority: 1 },
      { label: 'Value', mono: true, priority: 1 },
      { label: 'At this line', mono: true, priority: 1 },
    ],
    rows,
  };
}

export function compareCounterTable(view: PanelView, b: StateAtResult): Table {
  const sa = view.primary.snapshot.stats;
  const sb = b.snapshot.stats;
  const before = view.previousStats ?? {};
  const rows = counterNames(sa, sb).map((name): Row => {
    const va = sa[name] ?? 0;
    const vb = sb[name] ?? 0;
    const d = delta(va, before[name]);
    return {
      key: name,
      cells: [
        { text: name, mono: true },
        { text: String(va), mono: true, diff: va !== vb },
        { text: String(vb), mono: true, diff: va !== vb },
        { text: d, mono: true },
      ],
      changed: d !== '',
    };
  });
  return {
    id: 'counters',
    title: 'Counters',
    columns: [
      { label: 'Counter', priority: 1 },
      { label: view.primary.kernel.label, mono: true, side: 'a', priority: 1 },
      { label: b.kernel.label, mono: true, side: 'b', priority: 1 },
      { label: 'At this line', mono: true, priority: 1 },
    ],
    rows,
  };
}

// ---------------------------------------------------------------------------------------------
// Copy as Markdown / TSV

function markdownCell(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[\r\n]+/g, ' ');
}

function tsvCell(text: string): string {
  return text.replace(/[\t\r\n]+/g, ' ');
}

function headerLabel(c: Column, t: Table, kernels?: { a: string; b: string }): string {
  return c.side && kernels && t.id !== 'counters' ? `${c.label} (${c.side === 'a' ? kernels.a : kernels.b})` : c.label;
}

export function tableToMarkdown(t: Table, kernels?: { a: string; b: string }): string {
  const header = `| ${t.columns.map((c) => markdownCell(headerLabel(c, t, kernels))).join(' | ')} |`;
  const rule = `| ${t.columns.map((c) => (c.mono ? '---:' : '---')).join(' | ')} |`;
  const body = t.rows.map((r) => `| ${r.cells.map((c) => markdownCell(c.text)).join(' | ')} |`);
  return [`### ${markdownCell(t.title)}`, '', header, rule, ...body].join('\n');
}

export function tableToTsv(t: Table, kernels?: { a: string; b: string }): string {
  const header = t.columns.map((c) => tsvCell(headerLabel(c, t, kernels))).join('\t');
  return [header, ...t.rows.map((r) => r.cells.map((c) => tsvCell(c.text)).join('\t'))].join('\n');
}

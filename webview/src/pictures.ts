/**
 * The panel's two pictures as plain data (no DOM), laid out for a given width:
 *
 * - the state at the cursor: each vCPU MMU's `root` and `prev_roots[0..2]` slots on the left, the roots on the
 *   right, and one edge per holder of a reference (a vCPU slot, the TDP MMU itself, the zap worker);
 * - root lifetimes: one bar per root from the line that allocated it to the line that freed it, with marks.
 *
 * `drawing.ts` turns these into SVG. Everything the layout decides is here, so it is unit-tested in Node.
 */
import type { MmuSnapshot, RootSnapshot, VcpuSnapshot } from '../../core/src/kernel/types.js';
import type { StateAtResult } from '../../core/src/protocol.js';
import type { LifetimeMarkKind, LifetimeRoot, Lifetimes } from '../../core/src/panel/messages.js';
import type { RoleDecoder } from './roles.js';
import { kindLabel, stateLabel } from './tables.js';

// ---------------------------------------------------------------------------------------------
// The state at the cursor

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface SlotNode extends Box {
  /** "0/root_mmu/root", "0/root_mmu/prev_roots[1]": the holder string's vCPU slot. */
  key: string;
  label: string;
  /** "#3" or "—". */
  value: string;
  root: number | null;
}

export interface MmuNode extends Box {
  key: string;
  title: string;
  active: boolean;
  changed: boolean;
  slots: SlotNode[];
}

export interface HolderNode extends Box {
  key: string;
  label: string;
  title: string;
}

export type RootLook = 'valid' | 'obsolete' | 'invalid' | 'freed';

export interface RootNode extends Box {
  id: number;
  label: string;
  detail: string;
  look: RootLook;
  changed: boolean;
  /** 0-based line to reveal (the allocation). */
  revealLine: number;
  title: string;
}

export interface Edge {
  from: { x: number; y: number };
  to: { x: number; y: number };
  /** The holder string, for the edge's hover text. */
  holder: string;
  root: number;
  changed: boolean;
}

export interface StatePicture {
  kernel: string;
  width: number;
  height: number;
  mmus: MmuNode[];
  holders: HolderNode[];
  roots: RootNode[];
  edges: Edge[];
  /** Roots left out (only so many are drawn; the table lists them all). */
  more: number;
}

/** Geometry of the state picture, in px (the SVG is drawn 1:1 at the panel's width). */
export const STATE_GEOMETRY = {
  slotHeight: 20,
  titleHeight: 22,
  holderHeight: 24,
  rootHeight: 38,
  gap: 10,
  minGutter: 40,
  maxRoots: 40,
  minWidth: 300,
  /** Wider than this the boxes only get longer: the picture keeps this width in a maximised panel. */
  maxWidth: 760,
} as const;

const SLOT_NAMES = ['root', 'prev_roots[0]', 'prev_roots[1]', 'prev_roots[2]'] as const;
const SLOT_LABELS: Record<(typeof SLOT_NAMES)[number], string> = {
  root: 'root',
  'prev_roots[0]': 'prev[0]',
  'prev_roots[1]': 'prev[1]',
  'prev_roots[2]': 'prev[2]',
};

/** An MMU is drawn when it is the active one or holds anything (as in the vCPU table). */
function drawnMmus(v: VcpuSnapshot): MmuSnapshot[] {
  if (v.destroyed) return [];
  return v.mmus.filter(
    (m) => m.name === v.mmu || m.root !== null || m.rootSpecial !== null || m.prevRoots.some((p) => p !== null),
  );
}

/** Which slot a holder string names: "vcpu0.root_mmu.prev_roots[1]", or "pae_root[2] (via vcpu0.root_mmu)". */
export function holderSlot(holder: string): string | null {
  const direct = /^vcpu(\d+)\.(\w+)\.(root|prev_roots\[\d\])$/.exec(holder);
  if (direct) return `${direct[1]}/${direct[2]}/${direct[3]}`;
  const pae = /^pae_root\[\d\] \(via vcpu(\d+)\.(\w+)\)$/.exec(holder);
  if (pae) return `${pae[1]}/${pae[2]}/root`;
  return null;
}

const HOLDER_LABELS: Record<string, { label: string; title: string }> = {
  tdp_mmu: { label: 'TDP MMU', title: 'the TDP MMU’s own reference (kvm->arch.tdp_mmu_roots)' },
  zap_worker: { label: 'zap worker', title: 'the reference the zap worker holds until it has zapped the root' },
};

function rootLook(r: RootSnapshot): RootLook {
  if (r.state === 'freed') return 'freed';
  if (r.state === 'invalid') return 'invalid';
  return r.obsolete ? 'obsolete' : 'valid';
}

export function statePicture(result: StateAtResult, width: number, decoder: RoleDecoder): StatePicture {
  const g = STATE_GEOMETRY;
  const w = Math.max(g.minWidth, Math.min(g.maxWidth, Math.floor(width)));
  const changedRoots = new Set(result.changedRoots);
  const changedVcpus = new Set(result.changedVcpus);
  const gutter = Math.max(g.minGutter, Math.round(w * 0.1));
  const leftW = Math.min(300, Math.floor((w - gutter) * 0.48));
  const rightX = leftW + gutter;
  const rightW = w - rightX - 1;

  // Roots: every live one, and those freed by this very line (so what just went is visible, greyed).
  const drawable = result.snapshot.roots.filter((r) => r.state !== 'freed' || changedRoots.has(r.id));
  const shown = drawable.slice(0, g.maxRoots);
  const roots: RootNode[] = [];
  let y = 0;
  for (const r of shown) {
    const summary = decoder.pageRoleSummary(result.kernel.label, r.role);
    roots.push({
      id: r.id,
      x: rightX,
      y,
      w: rightW,
      h: g.rootHeight,
      label: `#${r.id} ${kindLabel(r.kind)} · refs ${r.refcount}`,
      detail: `${summary ?? r.role} · ${stateLabel(r)}`,
      look: rootLook(r),
      changed: changedRoots.has(r.id),
      revealLine: r.allocatedAt - 1,
      title: `root #${r.id}: ${kindLabel(r.kind)}, role ${r.role}${summary ? ` (${summary})` : ''}, refcount ${r.refcount}, ${stateLabel(r)}; allocated at line ${r.allocatedAt}${r.freedAt !== null ? `, freed at line ${r.freedAt}` : ''}\nholders: ${r.holders.join(', ') || 'none'}`,
    });
    y += g.rootHeight + g.gap;
  }
  const rightHeight = y;

  // Left: the vCPU MMUs with their four slots, then the other holders.
  const mmus: MmuNode[] = [];
  const slotAt = new Map<string, SlotNode>();
  y = 0;
  for (const v of result.snapshot.vcpus) {
    for (const m of drawnMmus(v)) {
      const active = m.name === v.mmu;
      const mode = [v.smm ? 'SMM' : '', v.guestMode ? 'guest' : ''].filter(Boolean).join(' ');
      const top = y;
      const slots: SlotNode[] = SLOT_NAMES.map((name, i) => {
        const id = name === 'root' ? m.root : (m.prevRoots[i - 1] ?? null);
        const value =
          name === 'root' && m.rootSpecial === 'dummy'
            ? 'dummy root (zero page)'
            : name === 'root' && m.rootSpecial !== null
              ? `${m.rootSpecial}${m.paeRoots.some((p) => p !== null) ? ` [${m.paeRoots.map((p) => (p === null ? '—' : `#${p}`)).join(' ')}]` : ''}`
              : id === null
                ? '—'
                : `#${id}`;
        const slot: SlotNode = {
          key: `${v.id}/${m.name}/${name}`,
          label: SLOT_LABELS[name],
          value,
          root: id,
          x: 0,
          y: top + g.titleHeight + i * g.slotHeight,
          w: leftW,
          h: g.slotHeight,
        };
        slotAt.set(slot.key, slot);
        return slot;
      });
      const h = g.titleHeight + SLOT_NAMES.length * g.slotHeight;
      mmus.push({
        key: `${v.id}/${m.name}`,
        title: `vCPU ${v.id} ${m.name}${active ? ' ●' : ''}${mode ? ` · ${mode}` : ''}`,
        active,
        changed: changedVcpus.has(v.id),
        slots,
        x: 0,
        y: top,
        w: leftW,
        h,
      });
      y += h + g.gap;
    }
  }
  const holders: HolderNode[] = [];
  const holderAt = new Map<string, HolderNode>();
  const edges: Edge[] = [];
  for (const r of roots) {
    const snap = shown.find((s) => s.id === r.id) as RootSnapshot;
    snap.holders.forEach((holder, i) => {
      const to = { x: r.x, y: r.y + ((i + 1) * r.h) / (snap.holders.length + 1) };
      const slot = slotAt.get(holderSlot(holder) ?? '');
      if (slot) {
        edges.push({
          from: { x: slot.x + slot.w, y: slot.y + slot.h / 2 },
          to,
          holder,
          root: r.id,
          changed: r.changed,
        });
        return;
      }
      let node = holderAt.get(holder);
      if (!node) {
        const known = HOLDER_LABELS[holder];
        node = {
          key: holder,
          label: known?.label ?? holder,
          title: known?.title ?? holder,
          x: 0,
          y,
          w: leftW,
          h: g.holderHeight,
        };
        holderAt.set(holder, node);
        holders.push(node);
        y += g.holderHeight + g.gap;
      }
      edges.push({
        from: { x: node.x + node.w, y: node.y + node.h / 2 },
        to,
        holder,
        root: r.id,
        changed: r.changed,
      });
    });
  }
  const leftHeight = y;
  return {
    kernel: result.kernel.label,
    width: w,
    height: Math.max(leftHeight, rightHeight, g.rootHeight) - g.gap + 2,
    mmus,
    holders,
    roots,
    edges,
    more: drawable.length - shown.length,
  };
}

// ---------------------------------------------------------------------------------------------
// Root lifetimes

export const LIFETIME_GEOMETRY = {
  rowHeight: 18,
  barHeight: 8,
  gutter: 44,
  right: 10,
  axisHeight: 22,
  minWidth: 300,
} as const;

export interface LifetimeRow {
  id: number;
  label: string;
  /** x-range of the bar; `open` when the root was never freed (the bar runs to the last line). */
  x0: number;
  x1: number;
  open: boolean;
  state: LifetimeRoot['state'];
  marks: { line: number; kind: LifetimeMarkKind; x: number }[];
  allocatedAt: number;
  freedAt: number | null;
  title: string;
}

export interface LifetimePicture {
  kernel: string;
  width: number;
  /** x of a 1-based line. */
  lastLine: number;
  /** x of the rule at the cursor's line (1-based `cursorLine`). */
  cursorX: number;
  cursorLine: number;
  ticks: { x: number; label: string }[];
  rows: LifetimeRow[];
}

const MARK_WORDS: Record<LifetimeMarkKind, string> = {
  found: 'found again',
  cached: 'cached in prev_roots',
  evicted: 'evicted from prev_roots',
  put: 'reference put',
  invalidated: 'invalidated',
};

export function markWord(kind: LifetimeMarkKind): string {
  return MARK_WORDS[kind];
}

/** `cursorLine` is the 1-based line the cursor is on (the state shown is after it). */
export function lifetimePicture(data: Lifetimes, width: number, cursorLine: number): LifetimePicture {
  const g = LIFETIME_GEOMETRY;
  const w = Math.max(g.minWidth, Math.floor(width));
  const span = Math.max(1, data.lastLine);
  const plot = w - g.gutter - g.right;
  // Line n occupies [x(n - 1), x(n)): a root allocated and freed by the same line still has a visible bar.
  const x = (line: number): number => g.gutter + (Math.max(0, Math.min(span, line)) / span) * plot;
  const step = niceStep(span, Math.max(2, Math.floor(plot / 56)));
  const ticks: { x: number; label: string }[] = [];
  for (let l = step; l <= span; l += step) ticks.push({ x: x(l - 0.5), label: `L${l}` });
  const rows = data.roots.map((r): LifetimeRow => {
    const end = r.freedAt ?? span;
    return {
      id: r.id,
      label: `#${r.id}`,
      x0: x(r.allocatedAt - 1),
      x1: Math.max(x(end), x(r.allocatedAt - 1) + 2),
      open: r.freedAt === null,
      state: r.state,
      marks: r.marks.map((m) => ({ ...m, x: x(m.line - 0.5) })),
      allocatedAt: r.allocatedAt,
      freedAt: r.freedAt,
      title:
        `root #${r.id} (${kindLabel(r.kind)}, role ${r.role}): allocated at line ${r.allocatedAt}, ` +
        (r.freedAt === null
          ? `still ${r.state === 'invalid' ? 'invalid, awaiting zap' : 'live'} at the end`
          : `freed at line ${r.freedAt}`),
    };
  });
  return {
    kernel: data.kernel,
    width: w,
    lastLine: span,
    cursorX: x(cursorLine - 0.5),
    cursorLine,
    ticks,
    rows,
  };
}

/** 1, 2, 5, 10, 20, 50, … lines between ticks, so that at most `count` ticks fit. */
function niceStep(span: number, count: number): number {
  for (let m = 1; ; m *= 10) for (const f of [1, 2, 5]) if (f * m * count >= span) return f * m;
}

/**
 * What the real kernel did, line by line, from a capture of the driver's run (or a user's capture with kvmmu's
 * probes): the root-level actions kvmmu compares with the model.
 *
 * Sources (see probes.ts for the definitions):
 *   - TDP MMU roots: `tdp_get` (entry of kvm_tdp_mmu_get_vcpu_root_hpa / kvm_tdp_mmu_alloc_root, with the
 *     vCPU's root_role) … `tdp_get_ret`; a `tdp_init` (tdp_mmu_init_sp) in between means a new root, none means
 *     an existing one was found. `tdp_put` (kvm_tdp_mmu_put_root) with tdp_mmu_root_count 1 is the last put:
 *     the root is freed (the RCU callback that really frees it runs later; temporary references taken by root
 *     iterators go 2→1 and are not frees).
 *   - Shadow pages as roots (shadow paging, the legacy MMU, nested NPT): `alloc_root` (mmu_alloc_root) …
 *     `alloc_root_ret`, with `get_sp_ret` (__kvm_mmu_get_shadow_page's result: role, gfn) and the
 *     `kvm_mmu_get_page` tracepoint's new/existing in between; `zap_sp` (__kvm_mmu_prepare_zap_page) of a
 *     known root with root_count 0 frees it.
 *   - prev_roots hits: `new_pgd` (kvm_mmu_new_pgd, with the MMU's prev_roots) followed by `load_pgd`
 *     (svm_load_mmu_pgd / vmx_load_mmu_pgd) of one of those roots with no allocation in between.
 */
import type { TraceEvent } from './ftrace.js';
import { markerLine } from './ftrace.js';

export type ObservedOp = 'alloc' | 'reuse' | 'free' | 'cache_hit';

export interface ObservedAction {
  op: ObservedOp;
  /** Page-role word, "0x%08x", with the `invalid` bit cleared (a root is freed after being invalidated). */
  role: string;
  kind: 'tdp_mmu' | 'shadow';
  /** prev_roots slot of a cache hit; -1: the current root was kept. */
  slot?: number;
  /** 1-based capture line of the event that showed it. */
  at: number;
}

export interface Observation {
  /** Observed actions per scenario line (1-based), in order. */
  byLine: Map<number, ObservedAction[]>;
  /** Other kernel events per line, for display: SMM transitions, CR exits, nested entries and exits. */
  notes: Map<number, string[]>;
  /** The lines that had a marker (ran), in order. */
  lines: number[];
  /** Whether the capture had kvmmu's probes at all (a capture with only tracepoints sees no TDP reuse). */
  probes: boolean;
}

const INVALID_PAGE = 'ffffffffffffffff';

export function hexRole(word: number): string {
  return '0x' + (word >>> 0).toString(16).padStart(8, '0');
}

/** `invalidBit`: the mask of role.invalid in the running kernel's layout (bit 11 on every era kvmmu models). */
export function observe(events: readonly TraceEvent[], invalidBit = 1 << 11): Observation {
  const byLine = new Map<number, ObservedAction[]>();
  const notes = new Map<number, string[]>();
  const lines: number[] = [];
  let line = 0;
  let probes = false;
  const add = (a: ObservedAction): void => {
    const list = byLine.get(line);
    if (list) list.push(a);
    else byLine.set(line, [a]);
  };
  const note = (s: string): void => {
    const list = notes.get(line);
    if (list) list.push(s);
    else notes.set(line, [s]);
  };
  const roleOf = (v: string | undefined): string => hexRole(Number(v ?? '0') & ~invalidBit);
  const norm = (v: string | undefined): string => (v ?? '').replace(/^0x/, '').replace(/^0+(?=.)/, '');

  let tdp: { role: string; created: boolean; at: number } | undefined;
  let shadow: { role?: string; created: boolean; sp?: string; at: number } | undefined;
  const shadowRoots = new Map<string, string>(); // sp pointer → role
  const hpaRole = new Map<string, { role: string; kind: 'tdp_mmu' | 'shadow' }>();
  let lastRoot: { role: string; kind: 'tdp_mmu' | 'shadow' } | undefined;
  // kvm_mmu_new_pgd's view: [current root, prev_roots[0..2]] until the next root load.
  let pendingPrev: string[] | undefined;

  for (const e of events) {
    const m = markerLine(e);
    if (m !== undefined) {
      if (m === 'end') break;
      line = m;
      lines.push(m);
      continue;
    }
    const f = e.fields;
    switch (e.name) {
      case 'tdp_get':
        probes = true;
        tdp = { role: roleOf(f['role']), created: false, at: e.at };
        break;
      case 'tdp_init':
        if (tdp) tdp.created = true;
        break;
      case 'tdp_get_ret':
        if (tdp) {
          add({ op: tdp.created ? 'alloc' : 'reuse', role: tdp.role, kind: 'tdp_mmu', at: tdp.at });
          lastRoot = { role: tdp.role, kind: 'tdp_mmu' };
          const ret = norm(f['ret']);
          if (ret !== '0' && ret !== '') hpaRole.set(ret, lastRoot);
          pendingPrev = undefined;
          tdp = undefined;
        }
        break;
      case 'tdp_put':
        probes = true;
        if (Number(f['count']) === 1) add({ op: 'free', role: roleOf(f['role']), kind: 'tdp_mmu', at: e.at });
        break;
      case 'alloc_root':
        probes = true;
        shadow = { created: false, at: e.at };
        break;
      case 'kvm_mmu_get_page':
        if (shadow && / new$/.test(e.text.trim())) shadow.created = true;
        break;
      case 'get_sp_ret':
        if (shadow) {
          shadow.role = roleOf(f['role']);
          shadow.sp = norm(f['sp']);
        }
        break;
      case 'alloc_root_ret':
        if (shadow?.role !== undefined) {
          add({ op: shadow.created ? 'alloc' : 'reuse', role: shadow.role, kind: 'shadow', at: shadow.at });
          if (shadow.sp) shadowRoots.set(shadow.sp, shadow.role);
          lastRoot = { role: shadow.role, kind: 'shadow' };
          hpaRole.set(norm(f['ret']), lastRoot);
          pendingPrev = undefined;
        }
        shadow = undefined;
        break;
      case 'zap_sp': {
        const sp = norm(f['sp']);
        const role = shadowRoots.get(sp);
        if (role !== undefined && Number(f['count']) === 0) {
          add({ op: 'free', role, kind: 'shadow', at: e.at });
          shadowRoots.delete(sp);
        }
        break;
      }
      case 'new_pgd':
        probes = true;
        pendingPrev = [norm(f['root']), norm(f['p0']), norm(f['p1']), norm(f['p2'])];
        break;
      case 'load_pgd': {
        const root = norm(f['root']);
        if (!hpaRole.has(root) && lastRoot) hpaRole.set(root, lastRoot);
        if (pendingPrev) {
          // fast_pgd_switch kept the current root (slot -1) or swapped in prev_roots[slot].
          const slot = pendingPrev.indexOf(root) - 1;
          const known = hpaRole.get(root);
          if (slot >= -1 && root !== INVALID_PAGE && root !== '0' && known)
            add({ op: 'cache_hit', role: known.role, kind: known.kind, slot, at: e.at });
          pendingPrev = undefined;
        }
        break;
      }
      case 'kvm_smm_transition':
        note(e.text.replace(/^vcpu \d+: /, '').replace(/, smbase.*/, ''));
        break;
      case 'kvm_cr':
        note(e.text);
        break;
      case 'kvm_nested_vmrun':
      case 'kvm_nested_vmenter':
        note('nested VM-entry');
        break;
      case 'kvm_nested_vmexit_inject':
        note('nested VM-exit');
        break;
      default:
        break;
    }
  }
  return { byLine, notes, lines, probes };
}

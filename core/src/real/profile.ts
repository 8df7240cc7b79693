/**
 * Which profile stands for a real kernel: its stable line's profile (`v6.1.y`, `v6.12.y`) when the table has
 * one, else the mainline profile plus the backports Debian's changelog shows for that line (real-kvm.md).
 * Pure: the caller passes the version it read (`uname -r`, the package version).
 */
import { findProfile } from '../kernel/behaviours.js';

export interface ProfileChoice {
  /** A `--kernel` spec, e.g. "v6.1.y" or "v6.12 +nnpt_guest_mode_first". */
  spec: string;
  /** Why this profile, in one sentence. */
  why: string;
}

/** Backports carried by Debian's stable kernels, each seen in the package changelog (docs/real-kvm.md). */
const STABLE_FALLBACK: Record<string, { base: string; mods: string[] }> = {
  '6.1': {
    base: 'v6.1',
    mods: [
      '-async_root_zap',
      '+sync_invalidated_zap',
      '+tdp_mmu_root_ref',
      '+cr0_wp_fast_path',
      '+nnpt_guest_mode_first',
    ],
  },
  '6.12': { base: 'v6.12', mods: ['+nnpt_guest_mode_first'] },
};

/** `version`: a kernel release or package version ("6.1.0-57-amd64", "6.1.192-3", "6.12.117+deb12-amd64"). */
export function profileForKernel(version: string, packageVersion = ''): ProfileChoice | undefined {
  const v = packageVersion || version;
  const m = /^(\d+)\.(\d+)/.exec(v);
  if (!m) return undefined;
  const series = `${m[1]}.${m[2]}`;
  const stable = `v${series}.y`;
  const exact = packageVersion || version;
  if (findProfile(stable)) return { spec: stable, why: `${exact} is on the ${series}.y stable line` };
  const fb = STABLE_FALLBACK[series];
  if (fb)
    return {
      spec: [fb.base, ...fb.mods].join(' '),
      why: `${exact}: no ${stable} profile yet, so ${fb.base} with the backports its Debian changelog lists`,
    };
  if (findProfile(`v${series}`)) return { spec: `v${series}`, why: `${exact}: the mainline v${series} profile` };
  return undefined;
}

/**
 * The role decoder the bundle uses: core's own (pure) decoding, in the layout of the kernel the
 * state came from, so the panel's hover text agrees with the editor's hovers.
 */
import {
  findBehaviour,
  findProfile,
  makeKernel,
  type BehaviourName,
  type Kernel,
} from '../../core/src/kernel/behaviours.js';
import {
  decodeCpuRole,
  decodePageRole,
  summarizePageRole,
  type DecodedRole,
} from '../../core/src/kernel/role_layout.js';
import type { RoleDecoder } from './roles.js';

const kernels = new Map<string, Kernel | null>();

/** A kernel label as the server reports it ("v6.3 +tdp_mmu_root_ref -invept_precise"); null if unknown. */
export function kernelFromLabel(label: string): Kernel | null {
  const [name = '', ...mods] = label.trim().split(/\s+/);
  const profile = findProfile(name);
  if (!profile) return null;
  const added: BehaviourName[] = [];
  const removed: BehaviourName[] = [];
  for (const m of mods) {
    const b = findBehaviour(m.slice(1));
    if (!b || (m[0] !== '+' && m[0] !== '-')) return null;
    (m[0] === '+' ? added : removed).push(b.name);
  }
  return makeKernel(profile, added, removed);
}

function kernelOf(label: string): Kernel | null {
  const cached = kernels.get(label);
  if (cached !== undefined) return cached;
  const k = kernelFromLabel(label);
  kernels.set(label, k);
  return k;
}

function parseWord(word: string): number | null {
  if (!/^0x[0-9a-f]{1,8}$/i.test(word)) return null;
  return Number.parseInt(word, 16) >>> 0;
}

function bits(lsb: number, width: number): string {
  return width === 1 ? `bit ${lsb}` : `bits ${lsb + width - 1}:${lsb}`;
}

function describe(heading: string, role: DecodedRole): string[] {
  const lines = [heading];
  for (const f of role.fields) lines.push(`  ${bits(f.lsb, f.width).padEnd(10)} ${f.name} = ${f.value}`);
  if (role.unknownBits !== 0) lines.push(`  bits outside every field: 0x${role.unknownBits.toString(16)}`);
  return lines;
}

/** Role words repeat across thousands of roots: decode each (kernel, word) once. */
function memo(fn: (label: string, word: string) => string | null): (label: string, word: string) => string | null {
  const cache = new Map<string, string | null>();
  return (label, word) => {
    const key = `${label}\u0000${word}`;
    let v = cache.get(key);
    if (v === undefined) {
      v = fn(label, word);
      if (cache.size > 10_000) cache.clear();
      cache.set(key, v);
    }
    return v;
  };
}

const decoder: RoleDecoder = {
  pageRoleSummary: (label, word) => {
    const k = kernelOf(label);
    const w = parseWord(word);
    return k && w !== null ? summarizePageRole(k, w) : null;
  },
  pageRoleDetails: (label, word) => {
    const k = kernelOf(label);
    const w = parseWord(word);
    if (!k || w === null) return null;
    return [
      `${word}: ${summarizePageRole(k, w)} (${k.label} layout)`,
      ...describe('kvm_mmu_page_role', decodePageRole(k, w)).slice(1),
    ].join('\n');
  },
  cpuRoleDetails: (label, word) => {
    const k = kernelOf(label);
    if (!k || !/^0x[0-9a-f]{1,16}$/i.test(word)) return null;
    const { base, ext } = decodeCpuRole(k, BigInt(word));
    return [`${word} (${k.label} layout)`, ...describe('base:', base), ...describe('ext:', ext)].join('\n');
  },
};

export const coreDecoder: RoleDecoder = {
  pageRoleSummary: memo(decoder.pageRoleSummary),
  pageRoleDetails: memo(decoder.pageRoleDetails),
  cpuRoleDetails: memo(decoder.cpuRoleDetails),
};

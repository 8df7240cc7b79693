/**
 * Known limitations: disagreements between the model and the real kernel that are understood and not (yet)
 * fixed in the model, each with its reason (docs/real-kvm.md lists them; core/test/real/known.test.ts pins
 * them with a recorded capture). The suite counts a scenario whose every disagreement is one of these as
 * "known", not failed.
 */
import type { RealComparison } from './compare.js';
import type { Lowered } from './lower.js';

export interface KnownLimitation {
  name: string;
  reason: string;
  /** True when this limitation explains `difference` in a group made of `statements`. */
  explains(difference: string, statements: readonly string[]): boolean;
}

const GUEST_MODE = 1 << 17;

export const KNOWN_LIMITATIONS: readonly KnownLimitation[] = [
  {
    name: 'shadowed-page-write',
    reason:
      'L1 switched CR3 to the page that is its nested page table for L2: the guest’s A/D-bit writes hit a page ' +
      'KVM write-protects for the nested NPT root, and KVM zaps that shadow page. The model has no guest memory: ' +
      'it sees writes to shadowed page tables only where a scenario says `emulate write` (shadow_mmu.ts, model limits).',
    explains: (d, statements) => {
      const m = /^the kernel frees a root with role (0x[0-9a-f]+) that the model does not$/.exec(d);
      return m !== null && (Number(m[1]) & GUEST_MODE) !== 0 && statements.some((s) => /\bcr3 = /.test(s));
    },
  },
];

/** The name of the known limitation that explains every disagreement of `c`, if one does. */
export function knownLimitation(c: RealComparison, lowered: Lowered): string | undefined {
  if (c.failure !== undefined) return undefined;
  const text = new Map(lowered.verdicts.map((v) => [v.line, v.text]));
  const names = new Set<string>();
  for (const g of c.groups) {
    if (g.agree) continue;
    const statements = g.lines.map((l) => text.get(l) ?? '');
    for (const d of g.differences) {
      const k = KNOWN_LIMITATIONS.find((x) => x.explains(d, statements));
      if (!k) return undefined;
      names.add(k.name);
    }
  }
  return names.size > 0 ? [...names].join(', ') : undefined;
}

/**
 * Known limitations: disagreements between the model and the real kernel that are understood and not (yet)
 * fixed in the model, each with its reason (docs/real-kvm.md lists them; core/test/real/known.test.ts pins
 * them). The suite counts a scenario whose every disagreement is one of these as "known", not failed.
 */
import type { RealComparison } from './compare.js';
import type { Lowered } from './lower.js';

export interface KnownLimitation {
  name: string;
  reason: string;
  /** True when this limitation explains the difference `difference` of a group with these statements. */
  explains(difference: string, statements: readonly string[]): boolean;
}

export const KNOWN_LIMITATIONS: readonly KnownLimitation[] = [];

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
  return [...names].join(', ');
}

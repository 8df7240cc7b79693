/** Links from model call paths to the kernel source of the profile's version (elixir.bootlin.com). */
import type { Kernel } from '../kernel/behaviours.js';
import { PROFILES, findProfile } from '../kernel/behaviours.js';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The git tag a profile stands for: `latest` is the newest named profile. */
export function kernelTag(profileName: string): string {
  if (profileName !== 'latest') return findProfile(profileName)?.tag ?? profileName;
  const named = PROFILES.filter((p) => p.name !== 'latest');
  return named[named.length - 1]?.name ?? 'latest';
}

/** https://elixir.bootlin.com/linux/v6.4/C/ident/kvm_mmu_reset_context, or undefined for a non-identifier. */
export function identUrl(kernel: Kernel, ident: string): string | undefined {
  if (!IDENT.test(ident)) return undefined;
  return `https://elixir.bootlin.com/linux/${kernelTag(kernel.profile.name)}/C/ident/${ident}`;
}

/** A Markdown link to the identifier, or inline code when it is not an identifier. */
export function identLink(kernel: Kernel, ident: string): string {
  const url = identUrl(kernel, ident);
  return url ? `[\`${ident}\`](${url})` : `\`${ident.replace(/`/g, "'")}\``;
}

/** A call path as linked identifiers: `a` → `b` → `c`. */
export function callPathMarkdown(kernel: Kernel, path: readonly string[]): string {
  return path.map((p) => identLink(kernel, p)).join(' → ');
}

/** Commit ids link to git.kernel.org; placeholders ("title only") and Message-Ids stay text. */
export function commitMarkdown(commit: string): string {
  if (/^[0-9a-f]{12,40}$/.test(commit)) {
    return `[${commit.slice(0, 12)}](https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/commit/?id=${commit})`;
  }
  if (commit.includes('@')) return `[${commit}](https://lore.kernel.org/r/${commit})`;
  return `_${commit}_`;
}

/**
 * The fuzz corpus: deterministic generated documents of the shapes that found bugs — random characters, token
 * soup from the language's vocabulary, trailing Unicode whitespace, byte-order marks, mixed line breaks — plus the
 * examples. Shared by the suites that hold an invariant "for every document" (robustness, formatting).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KEYWORDS } from '../src/syntax/parser.js';
import { rng } from '../src/util/rng.js';
export { rng } from '../src/util/rng.js';

/** Characters JavaScript's `\s` and `trim()` call whitespace but the lexer does not: each is an error in code. */
export const UNICODE_SPACES = ['\u00a0', '\u2028', '\u2029', '\u3000', '\ufeff', '\u2003', '\u1680', '\u0085'];

export const VOCAB = [
  ...KEYWORDS,
  ...['=', '|=', '&=', '|', '~', ':', '..', '+', '-', '(', ')', '==', '!=', '<', '>=', '#', '[', ']'],
  ...['PE', 'PG', 'WP', 'pae', 'LA57', 'LME', 'NX', 'pcid=', 'pcid=1', 'noflush', 'ept=on', 'eptp=', 'npt=on'],
  ...['ncr3=0x1000', 'vcpu 1:', '0', '0x501e', '0x', '1_000', '18446744073709551616', 'single', 'all-global'],
  ...['root.role.smm', 'prev[0].id', 'v6.3', '+tdp_mmu_root_ref', 'vendor=amd', 'vcpus=2', 'nested=on'],
  ...['cpu_role', 'unmap', '0x1000..0x2000', 'true', 'tdp_mmu=yes', 'write', '8', '17'],
  ...['gfn=0x10', 'pages=2', 'gfn=', 'pages=0', 'memory=slots', 'memory=all', '0x2001'],
  ...['wrap', 'on', 'off', '64', 'noncoherent_dma=on', 'cd_nw_cleared=off', 'mmu_pages.used', 'CD'],
  ...['\t', ' ', '  ', 'é', '😀', '\u0000', '\uD800', '$'],
];

/** Whole lines that run (so that a corpus document exercises the model, not only the parser). */
const GOOD_LINES = [
  'kernel v6.3',
  'vm vendor=intel tdp=on vcpus=2 nested=on',
  'sregs cr0=PE|ET|PG|WP cr4=PAE efer=LME|LMA|NX cr3=0x1000',
  'run',
  'smi',
  'rsm',
  'cr0 &= ~WP',
  'cr0 |= WP',
  'cr3 = 0x2000',
  'vcpu 1: run',
  'vmenter ept=on eptp=0x501e',
  'vmexit',
  'invept single eptp=0x501e',
  'nr_mmu_pages 64',
  'nx_huge_pages on',
  'nx_huge_pages off',
  'mmio_gen wrap',
  'cr0 |= CD',
  'expect mmu_pages.used >= 0',
  'expect stats.mmu_recycled >= 0',
  'emulate write 0x1008 8',
  'emulate write 0x1004 8',
  'vcpu 1: emulate write 0x2ffc 8',
  'expect roots.live >= 1',
  'memslot create 3 gfn=0x20 pages=2',
  'memslot move 3 gfn=0x40',
  'pdpt 0x1000 = 0x2001 0x3001 0 0',
  'expect root.dummy == 0',
  '# a comment',
  '',
];

/** One document of `lines` lines mixing good lines, token soup and trailing/leading oddities. */
function document(next: () => number, lines: number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    let line: string;
    if (next() < 0.5) line = pick(GOOD_LINES);
    else {
      const words: string[] = [];
      for (let j = 1 + Math.floor(next() * 6); j > 0; j--) words.push(pick(VOCAB));
      line = words.join(next() < 0.7 ? ' ' : '');
    }
    const r = next();
    if (r < 0.15) line += pick(UNICODE_SPACES);
    else if (r < 0.25) line += '   \t';
    else if (r < 0.3) line = '  ' + line;
    else if (r < 0.35) line += ` # note${pick(UNICODE_SPACES)}  `;
    out.push(line);
  }
  let text = '';
  for (const [i, line] of out.entries()) text += line + (i === out.length - 1 ? '' : pick(['\n', '\n', '\n', '\r\n']));
  return next() < 0.3 ? '\ufeff' + text : text;
}

/** Random characters, mostly ASCII (control characters included). */
function noise(next: () => number): string {
  let s = '';
  const n = Math.floor(next() * 200);
  for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(next() * (next() < 0.8 ? 128 : 0x10000)));
  return s;
}

const examples = join(dirname(fileURLToPath(import.meta.url)), '../../examples');

/** The corpus: `count` generated documents (half structured, half noise), then every example. */
export function fuzzCorpus(seed: number, count: number): { name: string; text: string }[] {
  const next = rng(seed);
  const out: { name: string; text: string }[] = [];
  for (let i = 0; i < count; i++)
    out.push({
      name: `generated #${i} (seed ${seed})`,
      text: i % 2 === 0 ? document(next, 1 + Math.floor(next() * 30)) : noise(next),
    });
  for (const f of readdirSync(examples)
    .filter((x) => x.endsWith('.kvmmu'))
    .sort())
    out.push({ name: f, text: readFileSync(join(examples, f), 'utf8') });
  return out;
}

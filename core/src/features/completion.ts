/**
 * Completion from the text before the cursor: the language is line oriented, so the line prefix says
 * what may come next (a keyword, a flag of the register being written, a profile, a behaviour, …).
 */
import type { Kernel } from '../kernel/behaviours.js';
import { BEHAVIOURS, PROFILES, profileEras } from '../kernel/behaviours.js';
import { eraSummary } from '../kernel/eras.js';
import type { FlagRegName } from '../kernel/regs.js';
import { FLAGS } from '../kernel/regs.js';
import { pageRoleFieldNames } from './roles.js';
import { EVENTS, EXPECT_OPS, EXPECT_PATHS, HEADER_KEYWORDS, REGISTERS, SUBWORDS, VM_KEYS } from './vocabulary.js';
import { commentStart } from './words.js';

export type CompletionKind =
  'keyword' | 'register' | 'flag' | 'profile' | 'behaviour' | 'key' | 'value' | 'path' | 'operator' | 'snippet';

export interface CompletionItem {
  label: string;
  kind: CompletionKind;
  detail?: string;
  documentation?: string;
  /** Text to insert when it differs from the label; for a `snippet`, in LSP snippet syntax (`${1:…}`). */
  insertText?: string;
  /** The columns on the cursor's line the item replaces (the partial word). */
  replace: { start: number; end: number };
}

/**
 * Items for the cursor at `character` on a line whose text is `lineText`. `headerDone` is true once an
 * event has appeared above (header keywords are then an error and not offered).
 */
export function complete(kernel: Kernel, lineText: string, character: number, headerDone = false): CompletionItem[] {
  const prefix = lineText.slice(0, Math.max(0, Math.min(character, lineText.length)));
  if (commentStart(prefix) < prefix.length) return [];
  const partial = /[A-Za-z0-9_.[\]+-]*$/.exec(prefix)?.[0] ?? '';
  // `+name` / `-name`: the sign stays, the name is completed.
  const signed = /^[+-]/.test(partial);
  const start = character - partial.length + (signed ? 1 : 0);
  const replace = { start, end: character };
  const before = prefix.slice(0, prefix.length - partial.length);
  const words = before.trim().split(/\s+/).filter(Boolean);
  const mk = (
    label: string,
    kind: CompletionKind,
    documentation?: string,
    detail?: string,
    insertText?: string,
  ): CompletionItem => ({
    label,
    kind,
    replace,
    ...(documentation ? { documentation } : {}),
    ...(detail ? { detail } : {}),
    ...(insertText ? { insertText } : {}),
  });

  // `vcpu 0: ` prefix: complete as at the start of a line.
  const afterPrefix = /^\s*vcpu\s+\d+\s*:\s*/.exec(before);
  const head = afterPrefix ? before.slice(afterPrefix[0].length).trim().split(/\s+/).filter(Boolean) : words;
  const first = head[0]?.toLowerCase() ?? '';

  if (head.length === 0) {
    const items = [
      ...(headerDone || afterPrefix ? [] : HEADER_KEYWORDS.map((t) => mk(t.name, 'keyword', t.doc))),
      ...REGISTERS.map((t) => mk(t.name, 'register', t.doc)),
      ...EVENTS.filter((t) => !(afterPrefix && (t.name === 'vcpu' || t.name === 'expect'))).map((t) =>
        mk(t.name, 'keyword', t.doc),
      ),
      // Snippets write whole statements: only where a statement starts (never after `kernel `).
      ...(afterPrefix || signed
        ? []
        : SNIPPETS.filter((t) => !(headerDone && t.header)).map((t) =>
            mk(t.prefix, 'snippet', t.doc, t.title, t.body.join('\n')),
          )),
    ];
    return items;
  }

  switch (first) {
    case 'kernel': {
      if (signed) {
        return BEHAVIOURS.map((b) =>
          mk(b.name, 'behaviour', b.description, `${b.version}${b.whatIf ? ' (what-if)' : ''} — ${b.title}`),
        );
      }
      if (head.length === 1)
        return PROFILES.map((p) => mk(p.name, 'profile', p.note, `${p.release} · ${eraSummary(profileEras(p))}`));
      return [];
    }
    case 'vm': {
      const kv = /([a-z_]+)=$/.exec(before);
      if (kv && /\S$/.test(before)) {
        const key = VM_KEYS.find((k) => k.name === kv[1]);
        const valueReplace = replace;
        return (key?.values ?? []).map((v) => ({ ...mk(v, 'value', key?.doc), replace: valueReplace }));
      }
      const used = new Set(words.slice(1).map((w) => w.split('=')[0]));
      return VM_KEYS.filter((k) => !used.has(k.name)).map((k) =>
        mk(`${k.name}=`, 'key', k.doc, `default ${k.default}`),
      );
    }
    case 'expect': {
      if (head.length === 1) return expectPaths(kernel).map((p) => mk(p.name, 'path', p.doc));
      if (head.length === 2) return EXPECT_OPS.map((o) => mk(o, 'operator'));
      return [];
    }
    case 'decode':
      return head.length === 1 ? (SUBWORDS.decode ?? []).map((w) => mk(w, 'keyword')) : [];
    case 'memslot': {
      // `memslot ACTION N [gfn=G] [pages=P]`: the layout keys after the slot id, `pages=` only for `create`.
      if (head.length === 1) return ['create', 'delete', 'move'].map((w) => mk(w, 'keyword'));
      const action = head[1]?.toLowerCase();
      if (head.length < 3 || action === 'delete') return [];
      const used = new Set(words.map((w) => w.split('=')[0]));
      return (action === 'create' ? ['gfn=', 'pages='] : ['gfn='])
        .filter((k) => !used.has(k.slice(0, -1)))
        .map((k) => mk(k, 'key', k === 'gfn=' ? 'Base guest frame number of the slot.' : 'Size of the slot in pages.'));
    }
    default:
      break;
  }

  const reg = flagRegister(before);
  if (reg) {
    return FLAGS[reg].map((f) => mk(f.name, 'flag', f.title, `${reg.toUpperCase()} bit ${f.bit}`));
  }
  const regNoOp = first === 'emulate' ? head[1]?.toLowerCase() : first;
  if (
    (regNoOp === 'cr0' || regNoOp === 'cr4' || regNoOp === 'efer' || regNoOp === 'cr3') &&
    head.length === (first === 'emulate' ? 2 : 1)
  ) {
    return ['=', '|=', '&='].filter((o) => regNoOp !== 'cr3' || o === '=').map((o) => mk(o, 'operator'));
  }
  if (regNoOp === 'cr3' && /=/.test(before)) return (SUBWORDS.cr3 ?? []).map((w) => mk(w, 'key'));
  const subs = SUBWORDS[first];
  if (subs) {
    const used = new Set(words.map((w) => w.split('=')[0] + (w.includes('=') ? '=' : '')));
    return subs
      .filter((w) => !used.has(w) && !used.has(w.replace(/=.*$/, '=')))
      .map((w) => mk(w, w.endsWith('=') || w.includes('=') ? 'key' : 'keyword'));
  }
  return [];
}

/**
 * Multi-line templates, offered by the language server (not a `contributes.snippets` file) so that they appear
 * only where a statement starts: VS Code shows a snippet file's entries wherever the word typed so far matches
 * (`kernel v` offered `vmenter-ept`).
 */
const SNIPPETS: readonly { prefix: string; title: string; doc: string; body: readonly string[]; header?: true }[] = [
  {
    prefix: 'header',
    title: 'kernel profile and VM configuration',
    doc: 'The scenario header: a `kernel` line and a `vm` line.',
    header: true,
    body: [
      `kernel \${1|${PROFILES.map((p) => p.name)
        .reverse()
        .join(',')}|}`,
      'vm vendor=${2|intel,amd|} tdp=${3|on,off|} vcpus=${4:1}',
      '$0',
    ],
  },
  {
    prefix: 'longmode',
    title: 'Enter 64-bit paging: PAE, LME, then PE|PG',
    doc: 'CR4.PAE, EFER.LME, CR3, then CR0.PE|PG, and a `run` that loads the root.',
    body: ['cr4 = PAE', 'efer = LME', 'cr3 = ${1:0x1000}', 'cr0 = PE|PG', 'run', '$0'],
  },
  {
    prefix: 'smi-rsm',
    title: 'Enter and leave SMM, running in between',
    doc: 'An SMI round trip with an expectation on the live roots.',
    body: ['smi', 'run', 'rsm', 'run', 'expect roots.live == ${1:1}', '$0'],
  },
  {
    prefix: 'vmenter-ept',
    title: 'Nested VM-Enter (EPT)',
    doc: 'VMLAUNCH with EPT for L2 (needs `vm nested=on`).',
    body: ['vmenter ept=on eptp=${1:0x501e} cr0=PE|PG cr4=PAE efer=LME|LMA cr3=${2:0x9000}', 'run', '$0'],
  },
  {
    prefix: 'expect',
    title: 'Check the state after the previous statement',
    doc: 'An `expect` line with a path, an operator and a value to fill in.',
    body: [
      'expect ${1|roots.live,roots.valid,roots.invalid,root.id,root.level,root.refcount,root.role.smm,prev_roots.count,line.allocated,line.freed,line.reused,stats.roots_allocated,warnings|} ${2|==,!=,<,<=,>,>=|} ${3:1}',
    ],
  },
];

/** Expectation paths, with `root.role.<field>` expanded for the kernel's page-role layout. */
export function expectPaths(kernel: Kernel): { name: string; doc: string }[] {
  const fields = pageRoleFieldNames(kernel).map((f) => ({
    name: `root.role.${f}`,
    doc: `Field \`${f}\` of the root's page role.`,
  }));
  return [...EXPECT_PATHS.filter((p) => p.name !== 'root.role.'), ...fields];
}

/**
 * The register whose flags are being typed: after `cr0 =`, `cr4 |=`, `efer &= ~`, `cr0=` inside sregs /
 * vmenter, or after a `|` that continues such a list.
 */
function flagRegister(before: string): FlagRegName | undefined {
  const m = /(cr0|cr4|efer)\s*(?:=|\|=|&=)\s*~?\s*(?:[A-Za-z0-9_]+\s*\|\s*~?\s*)*$/i.exec(before);
  const r = m?.[1]?.toLowerCase();
  return r === 'cr0' || r === 'cr4' || r === 'efer' ? r : undefined;
}

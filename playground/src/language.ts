/**
 * The `.kvmmu` language for CodeMirror: line-oriented highlighting with the TextMate grammar's vocabulary
 * (syntaxes/kvmmu.tmLanguage.json). Everything semantic — diagnostics, hints, hover, completion — comes from
 * the language server; this only colours tokens, so it can stay a simple stream tokenizer.
 */
import { EditorView } from '@codemirror/view';
import { HighlightStyle, StreamLanguage, syntaxHighlighting, type StringStream } from '@codemirror/language';
import type { Extension } from '@codemirror/state';
import { tags } from '@lezer/highlight';
import { LANGUAGE_ID } from '../../core/src/protocol.js';

const EVENTS = new Set([
  'run',
  'smi',
  'rsm',
  'sregs',
  'init',
  'invpcid',
  'invlpg',
  'vmenter',
  'vmexit',
  'invept',
  'invvpid',
  'memslot',
  'pdpt',
  'notifier',
  'cpuid',
  'destroy',
]);
const HEADER = new Set(['kernel', 'vm', 'vcpu', 'expect', 'decode', 'emulate', 'role', 'cpu_role']);
const WORDS = new Set([
  'single',
  'addr',
  'all-global',
  'all',
  'global',
  'delete',
  'move',
  'create',
  'unmap',
  'noflush',
  'write',
]);
const VALUES = new Set(['on', 'off', 'intel', 'amd', 'slots', 'true', 'false']);
const REGISTERS = new Set(['cr0', 'cr3', 'cr4', 'efer']);
const FLAGS = new Set(
  (
    'OSXMMEXCPT FSGSBASE OSXSAVE OSFXSR PCIDE LA57 SMAP SMEP SMXE SVME UMIP VMXE CET LMA LME MCE PAE PCE PGE PKE ' +
    'PKS PSE PVI SCE TSD VME AM CD DE EM ET MP NE NW NX PE PG TS WP'
  ).split(' '),
);

function token(stream: StringStream): string | null {
  if (stream.eatSpace()) return null;
  if (stream.match('#')) {
    stream.skipToEnd();
    return 'comment';
  }
  if (stream.match(/^0[xX][0-9a-fA-F_]+/) || stream.match(/^\d[\d_]*/)) return 'number';
  if (stream.match(/^(v\d+\.\d+(\.y)?|latest)\b/)) return 'typeName';
  if (stream.match(/^[+-][A-Za-z_][A-Za-z0-9_]*/)) return 'modifier';
  if (stream.match(/^(==|!=|<=|>=|\|=|&=|<|>|=|\||~|\.\.|:)/)) return 'operator';
  const word = stream.match(/^[A-Za-z_][A-Za-z0-9_-]*/) as RegExpMatchArray | null;
  if (!word) {
    stream.next();
    return null;
  }
  const w = word[0];
  if (EVENTS.has(w)) return 'keyword';
  if (HEADER.has(w) || WORDS.has(w)) return 'keyword';
  if (REGISTERS.has(w)) return 'variableName.special';
  if (VALUES.has(w)) return 'atom';
  if (FLAGS.has(w.toUpperCase())) return 'variableName.constant';
  if (stream.peek() === '=') return 'propertyName';
  return 'variableName';
}

export const kvmmuLanguage = StreamLanguage.define<null>({
  name: LANGUAGE_ID,
  startState: () => null,
  token,
  languageData: { commentTokens: { line: '#' } },
});

/** Colours from the page's theme variables (playground.css), so light and dark both follow the system. */
const style = HighlightStyle.define([
  { tag: tags.comment, color: 'var(--kvmmu-comment)', fontStyle: 'italic' },
  { tag: tags.keyword, color: 'var(--kvmmu-keyword)' },
  { tag: tags.number, color: 'var(--kvmmu-number)' },
  { tag: tags.typeName, color: 'var(--kvmmu-type)' },
  { tag: tags.modifier, color: 'var(--kvmmu-type)' },
  { tag: tags.operator, color: 'var(--kvmmu-operator)' },
  { tag: tags.special(tags.variableName), color: 'var(--kvmmu-register)' },
  { tag: tags.atom, color: 'var(--kvmmu-value)' },
  { tag: tags.constant(tags.variableName), color: 'var(--kvmmu-flag)' },
  { tag: tags.propertyName, color: 'var(--kvmmu-key)' },
]);

export function kvmmu(): Extension {
  return [kvmmuLanguage, syntaxHighlighting(style)];
}

/** The editor's look, from the same variables (the editor lives in a shadow root: the page's stylesheet stops outside). */
export const editorTheme = EditorView.theme({
  '&': {
    height: '100%',
    color: 'var(--vscode-foreground)',
    backgroundColor: 'var(--vscode-editor-background)',
  },
  '.cm-scroller': {
    fontFamily: 'var(--vscode-editor-font-family)',
    fontSize: 'var(--vscode-editor-font-size)',
  },
  '.cm-content': { caretColor: 'var(--vscode-foreground)' },
  '.cm-gutters': {
    color: 'var(--vscode-descriptionForeground)',
    backgroundColor: 'var(--vscode-editor-background)',
    borderRightColor: 'var(--vscode-panel-border)',
  },
  '.cm-activeLine, .cm-activeLineGutter': { backgroundColor: 'var(--vscode-list-hoverBackground)' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground': {
    backgroundColor: 'var(--vscode-editor-selectionHighlightBackground)',
  },
  '.cm-kvmmu-hint': { marginLeft: '2ch', color: 'var(--kvmmu-hint)', fontStyle: 'italic' },
  '.cm-tooltip': {
    maxWidth: '70ch',
    color: 'var(--vscode-foreground)',
    backgroundColor: 'var(--vscode-editor-background)',
    border: '1px solid var(--vscode-panel-border)',
    boxShadow: '0 2px 8px var(--vscode-widget-shadow)',
  },
  '.cm-tooltip .cm-lsp-documentation, .cm-tooltip .cm-lsp-hover-tooltip': { padding: '4px 8px' },
  '.cm-tooltip a': { color: 'var(--vscode-textLink-foreground)' },
  '.cm-tooltip pre, .cm-tooltip code': { fontFamily: 'var(--vscode-editor-font-family)' },
});

/**
 * The `.kvmmu` parser: line oriented, hand written, total. Every line yields a ParsedLine; a line
 * either parses into one Statement or gets diagnostics with exact spans inside the line (and then
 * no statement, so nothing half-understood ever reaches the model). It never throws.
 *
 * Events are lowered here to the model's ModelOp: flags become bits, `&= ~X` becomes the kept mask,
 * `cr3 = … pcid=N noflush` becomes one CR3 value.
 */
import { CPUID_FEATURES, FLAGS, findFlag, type FlagRegName } from '../kernel/regs.js';
import { MAX_VCPUS, type ModelOp } from '../kernel/types.js';
import { suggest } from '../util/suggest.js';
import { LineIndex } from '../text/positions.js';
import type {
  Diagnostic,
  ExpectOp,
  KernelMod,
  Named,
  ParsedLine,
  ParseResult,
  Span,
  Statement,
  VmSetting,
} from './ast.js';
import { MAX_U64, tokenize, type Token } from './lexer.js';

/** Lines whose statement part is longer than this are reported, not tokenised. */
export const MAX_LINE_LENGTH = 10_000;

/** Statement keywords, for completion and "did you mean". */
export const HEADER_KEYWORDS = ['kernel', 'vm'] as const;
export const REGISTER_KEYWORDS = ['cr0', 'cr3', 'cr4', 'efer'] as const;
export const EVENT_KEYWORDS = [
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
  'vmxon',
  'vmxoff',
  'vmclear',
  'vmptrld',
  'stgi',
  'clgi',
  'memslot',
  'pdpt',
  'notifier',
  'cpuid',
  'nr_mmu_pages',
  'nx_huge_pages',
  'mmio_gen',
  'destroy',
] as const;
export const KEYWORDS: readonly string[] = [
  ...HEADER_KEYWORDS,
  'vcpu',
  ...REGISTER_KEYWORDS,
  'emulate',
  ...EVENT_KEYWORDS,
  'decode',
  'expect',
];

const MAX_VCPUS_BIG = BigInt(MAX_VCPUS);

/** Each keyword's one string: a long document then holds one `run`, not one per line. */
const KEYWORD_NAMES: ReadonlyMap<string, string> = new Map(KEYWORDS.map((k) => [k, k]));

const ON_OFF: OptionSpec = { type: 'enum', values: ['on', 'off'] };

/** `cpuid` keys: MAXPHYADDR and the feature bits the MMU depends on (each `on` or `off`). */
export const CPUID_KEYS: Readonly<Record<string, OptionSpec>> = {
  maxphyaddr: { type: 'num', min: 32n, max: 52n },
  ...Object.fromEntries(CPUID_FEATURES.map((f) => [f, ON_OFF])),
};

/** `vm` keys and what each accepts (SPEC §1.1). Shared with completion and the checker. */
export const VM_KEYS: Readonly<Record<string, OptionSpec>> = {
  vendor: { type: 'enum', values: ['intel', 'amd'] },
  tdp: { type: 'enum', values: ['on', 'off'] },
  tdp_mmu: { type: 'enum', values: ['on', 'off'] },
  max_tdp_level: { type: 'num', min: 4n, max: 5n },
  maxphyaddr: { type: 'num', min: 32n, max: 52n },
  vcpus: { type: 'num', min: 1n, max: BigInt(MAX_VCPUS) },
  nested: { type: 'enum', values: ['on', 'off'] },
  ad: { type: 'enum', values: ['on', 'off'] },
  slot_zap_all: { type: 'enum', values: ['on', 'off'] },
  memory: { type: 'enum', values: ['all', 'slots'] },
  nx_huge_pages: { type: 'enum', values: ['on', 'off'] },
  noncoherent_dma: { type: 'enum', values: ['on', 'off'] },
  cd_nw_cleared: { type: 'enum', values: ['on', 'off'] },
};

export const INVPCID_TYPES = ['addr', 'single', 'all', 'all-global'] as const;
export const EXPECT_OPS: readonly ExpectOp[] = ['==', '!=', '<', '<=', '>', '>='];
/** KVM_SET_NR_MMU_PAGES takes an unsigned int (kvm_vm_ioctl_set_nr_mmu_pages). */
const MAX_NR_MMU_PAGES = 0xffff_ffffn;
/** The largest guest-physical address (MAXPHYADDR is at most 52). */
const MAX_GPA = (1n << 52n) - 1n;
/** Memslot ids userspace can use (KVM_USER_MEM_SLOTS is at most 32764 on x86). */
const MAX_SLOT = 32767n;
/** Guest frame numbers: a 52-bit guest-physical address space (MAXPHYADDR at most 52) has 2^40 of them. */
const GFN_LIMIT = 1n << 40n;
const hex = (v: bigint): string => `0x${v.toString(16)}`;
/** `memslot create` / `memslot move` layout options. */
export const MEMSLOT_KEYS: Readonly<Record<string, OptionSpec>> = {
  gfn: { type: 'num', max: GFN_LIMIT - 1n, what: 'the base gfn' },
  pages: { type: 'num', min: 1n, max: GFN_LIMIT, what: 'a number of pages' },
};

export type OptionSpec =
  | { type: 'flags'; reg: FlagRegName }
  | { type: 'num'; min?: bigint; max?: bigint; what?: string }
  | { type: 'enum'; values: readonly string[] };

/** A statement before its span is known (Omit distributed over the union). */
type Body = Statement extends infer S ? (S extends Statement ? Omit<S, 'span'> : never) : never;

interface OptionValue {
  value: bigint | string;
  keySpan: Span;
  valueSpan: Span;
  span: Span;
}

/** Parses a whole document, its lines as LineIndex splits them (\n, \r\n, \r); `lines.length` is the line count. */
export function parse(text: string): ParseResult {
  const parser = new Parser();
  const index = LineIndex.of(text);
  const lines: ParsedLine[] = [];
  const statements: Statement[] = [];
  const diagnostics: Diagnostic[] = [];
  for (let i = 0; i < index.count; i++) {
    const parsed = parser.line(index.line(i) as string, i);
    lines.push(parsed);
    if (parsed.statement) statements.push(parsed.statement);
    for (const d of parsed.diagnostics) diagnostics.push(d);
  }
  return { lines, statements, diagnostics };
}

/**
 * Parses one line (without its line terminator), from scratch. `line` is the 0-based line number for spans. A
 * document's lines go through a Parser, which parses a repeated event line once.
 */
export function parseLine(text: string, line: number): ParsedLine {
  const result = new PlainLine();
  parseInto(text, line, result);
  // Most lines have no diagnostic: share one empty list (frozen; nothing adds to a parsed line later).
  if (result.diagnostics.length === 0) result.diagnostics = NO_DIAGNOSTICS;
  return result;
}

/**
 * An event line without diagnostics, by columns only: what any line with this text parses to, whatever its line
 * number. A Parser keeps one per distinct text and makes each line's spans from it.
 */
export interface EventLine {
  readonly op: ModelOp;
  /** The statement's keyword (Statement.keyword) and the line's (ParsedLine.keyword.name). */
  readonly keyword: string;
  readonly lineKeyword: string;
  readonly keywordStart: number;
  readonly keywordEnd: number;
  /** The content's columns: an event's statement covers its line's content exactly (one span object). */
  readonly contentStart: number;
  readonly contentEnd: number;
  /** Where the comment starts (it ends at the line's end), or -1. */
  readonly commentStart: number;
  readonly commentEnd: number;
  /** The `vcpu N:` prefix, or undefined; the statement has the line's prefix object when it has one. */
  readonly prefix: { readonly id: number; readonly start: number; readonly end: number } | undefined;
}

/**
 * Parses a document's lines: one per document (or per analysis), keeping what it learnt for that document only.
 * Long scenarios (generated, or from traces) repeat a few hundred distinct lines: an event line without
 * diagnostics is parsed once, kept by its text as columns (EventLine, bounded), and every later line with that
 * text is built from them on its own line number (the op is shared: nothing mutates ops). Clearing the table
 * only costs parsing again.
 */
export class Parser {
  private readonly events = new Map<string, EventLine>();

  /** `parseLine(text, line)`, built from the columns of an earlier identical event line when there is one. */
  line(text: string, line: number): ParsedLine {
    const known = this.events.get(text);
    if (known !== undefined) return eventLineAt(known, line);
    const result = parseLine(text, line);
    // Not a line with a byte-order mark: it parses clean only as line 0, and the table is read for any line.
    if (
      result.diagnostics.length === 0 &&
      result.statement?.kind === 'event' &&
      text.length <= MAX_CACHED_LINE &&
      text.charCodeAt(0) !== BOM
    ) {
      const columns = columnsOf(result, text.length);
      if (columns) {
        if (this.events.size >= MAX_EVENT_LINES) this.events.clear();
        this.events.set(text, columns);
      }
    }
    return result;
  }

  /**
   * The columns of `text` when it is an event line without diagnostics seen before: the same object for every
   * such line, so a reader can key what it derives from the text on it (the report encodes a statement once).
   */
  known(text: string): EventLine | undefined {
    return this.events.get(text);
  }
}

const MAX_EVENT_LINES = 4096;
const MAX_CACHED_LINE = 160;

/** Ways of saying on/off that the language does not take, and what each means. */
const ON_OFF_SYNONYMS: ReadonlyMap<string, string> = new Map([
  ...['yes', 'y', 'true', 'enable', 'enabled', '1'].map((w): [string, string] => [w, 'on']),
  ...['no', 'n', 'false', 'disable', 'disabled', '0'].map((w): [string, string] => [w, 'off']),
]);

/** U+FEFF, the byte-order mark. */
const BOM = 0xfeff;

/** The columns of a clean event line (see EventLine). */
function columnsOf(pl: ParsedLine, length: number): EventLine | undefined {
  const st = pl.statement as Statement & { kind: 'event' };
  const content = pl.content as Span;
  const kw = pl.keyword as Named;
  const prefix = pl.vcpuPrefix;
  // The parser shares these spans and eventLineAt builds them shared: a line where they are not is not kept.
  if (st.span !== content || st.keywordSpan !== kw.span || st.vcpuPrefix !== prefix) return undefined;
  return Object.freeze({
    op: st.op,
    keyword: st.keyword,
    lineKeyword: kw.name,
    keywordStart: kw.span.start,
    keywordEnd: kw.span.end,
    contentStart: content.start,
    contentEnd: content.end,
    commentStart: pl.comment ? pl.comment.start : -1,
    commentEnd: pl.comment ? pl.comment.end : length,
    prefix: prefix ? Object.freeze({ id: prefix.id, start: prefix.span.start, end: prefix.span.end }) : undefined,
  });
}

/** The statement of an event line with columns `t` on 0-based `line`. */
export function eventStatementAt(t: EventLine, line: number): Statement & { kind: 'event' } {
  return eventLineAt(t, line).statement as Statement & { kind: 'event' };
}

/** The ParsedLine of an event line with columns `t` on 0-based `line`. */
function eventLineAt(t: EventLine, line: number): ParsedLine {
  const r = new PlainLine();
  r.diagnostics = NO_DIAGNOSTICS;
  if (t.commentStart >= 0) r.comment = { line, start: t.commentStart, end: t.commentEnd };
  const content: Span = { line, start: t.contentStart, end: t.contentEnd };
  r.content = content;
  const keywordSpan: Span = { line, start: t.keywordStart, end: t.keywordEnd };
  r.keyword = { name: t.lineKeyword, span: keywordSpan };
  const p = t.prefix;
  if (p) {
    const prefix = { id: p.id, span: { line, start: p.start, end: p.end } };
    r.vcpuPrefix = prefix;
    r.statement = { kind: 'event', keyword: t.keyword, keywordSpan, op: t.op, span: content, vcpuPrefix: prefix };
  } else r.statement = { kind: 'event', keyword: t.keyword, keywordSpan, op: t.op, span: content };
  return r;
}

const NO_DIAGNOSTICS = Object.freeze([]) as unknown as Diagnostic[];

/**
 * A parsed line as a plain object (prototype Object.prototype: it compares like `{ diagnostics: [] }`), made by
 * a constructor so that V8 keeps the properties set later (content, keyword, statement…) inside the object: a
 * document holds one per line.
 */
const PlainLine = function (this: ParsedLine) {
  this.diagnostics = [];
} as unknown as new () => ParsedLine;
PlainLine.prototype = Object.prototype;

function parseInto(text: string, line: number, result: ParsedLine): void {
  const hash = text.indexOf('#');
  const codeEnd = hash < 0 ? text.length : hash;
  if (hash >= 0) result.comment = { line, start: hash, end: text.length };
  if (codeEnd > MAX_LINE_LENGTH) {
    result.content = { line, start: 0, end: codeEnd };
    result.diagnostics.push({
      span: { line, start: 0, end: codeEnd },
      severity: 'error',
      code: 'line-too-long',
      message: `line too long (${codeEnd} characters before any comment; the limit is ${MAX_LINE_LENGTH})`,
    });
    return;
  }
  // A UTF-8 byte-order mark opening the file (U+FEFF at the start of line 0) is not part of the scenario. Anywhere
  // else U+FEFF is a zero-width no-break space, an invisible character the lexer reports.
  const tokens = tokenize(text, codeEnd, line === 0 && text.charCodeAt(0) === BOM ? 1 : 0);
  const first = tokens[0];
  const last = tokens[tokens.length - 1];
  if (!first || !last) return;
  result.content = { line, start: first.start, end: last.end };
  try {
    new LineParser(tokens, line, result).run();
  } catch (e) {
    // A bug here must cost one line, not the document (the invariant: the parser never throws).
    result.statement = undefined;
    result.diagnostics.push({
      span: { ...result.content },
      severity: 'error',
      code: 'internal-error',
      message: `internal parser error: ${e instanceof Error ? e.message : String(e)}`,
    });
  }
}

/** Operand-less events are the same op every time: one frozen object each (the model never mutates ops). */
const RUN: ModelOp = Object.freeze({ op: 'run' });
const SMI: ModelOp = Object.freeze({ op: 'smi' });
const RSM: ModelOp = Object.freeze({ op: 'rsm' });
const INIT: ModelOp = Object.freeze({ op: 'init' });
const VMXON: ModelOp = Object.freeze({ op: 'vmxon' });
const VMXOFF: ModelOp = Object.freeze({ op: 'vmxoff' });
const STGI: ModelOp = Object.freeze({ op: 'stgi' });
const CLGI: ModelOp = Object.freeze({ op: 'clgi' });
const VMEXIT: ModelOp = Object.freeze({ op: 'vmexit' });
const NX_HUGE_PAGES_ON: ModelOp = Object.freeze({ op: 'nx_huge_pages', on: true });
const NX_HUGE_PAGES_OFF: ModelOp = Object.freeze({ op: 'nx_huge_pages', on: false });
const MMIO_GEN_WRAP: ModelOp = Object.freeze({ op: 'mmio_gen_wrap' });

class LineParser {
  private pos = 0;
  private readonly diagnostics: Diagnostic[];

  constructor(
    private readonly tokens: Token[],
    private readonly line: number,
    private readonly result: ParsedLine,
  ) {
    this.diagnostics = result.diagnostics;
  }

  run(): void {
    if (!this.lexicallyClean()) {
      this.noteKeyword();
      return;
    }
    const statement = this.statement();
    if (statement && (this.diagnostics.length === 0 || !this.diagnostics.some((d) => d.severity === 'error')))
      this.result.statement = statement;
    else if (statement?.kind === 'vm') this.result.recovered = statement;
  }

  /** Reports bad characters and malformed numbers up front; a line with any is not parsed further. */
  private lexicallyClean(): boolean {
    let clean = true;
    for (const t of this.tokens) {
      if (t.kind === 'bad') {
        this.error(t, 'invalid-character', `unexpected character${t.text.length > 1 ? 's' : ''} \`${clip(t.text)}\``);
        clean = false;
      } else if (t.kind === 'number' && t.error === 'malformed') {
        this.error(t, 'bad-number', `\`${clip(t.text)}\` is not a number (decimal or 0x hex, \`_\` between digits)`);
        clean = false;
      } else if (t.kind === 'number' && t.error === 'range') {
        this.error(t, 'number-out-of-range', `\`${clip(t.text)}\` does not fit in 64 bits`);
        clean = false;
      }
    }
    return clean;
  }

  /** Records the leading word (after a prefix) for lines that stop early. */
  private noteKeyword(): void {
    const t = this.tokens;
    const i = t[0]?.text === 'vcpu' && t[2]?.text === ':' ? 3 : 0;
    const k = t[i];
    if (k?.kind === 'word') this.result.keyword = { name: k.text, span: this.span(k) };
  }

  // --- statements -----------------------------------------------------------------------------

  private statement(): Statement | undefined {
    const first = this.tokens[0]!;
    let prefix: { id: number; span: Span } | undefined;
    if (first.text === 'vcpu' && this.tokens[2]?.text === ':') {
      const id = this.vcpuId(this.tokens[1]!);
      if (id === undefined) return undefined;
      prefix = { id, span: { line: this.line, start: first.start, end: this.tokens[2].end } };
      this.result.vcpuPrefix = prefix;
      this.pos = 3;
      if (this.atEnd()) {
        this.error(this.tokens[2], 'missing-statement', 'expected a statement after `vcpu N:`');
        return undefined;
      }
    }
    const keyword = this.next()!;
    if (keyword.kind === 'word')
      this.result.keyword = { name: KEYWORD_NAMES.get(keyword.text) ?? keyword.text, span: this.span(keyword) };
    const body = this.body(keyword, prefix !== undefined);
    if (!body) return undefined;
    this.expectEnd();
    const startTok = this.tokens[0]!;
    const endTok = this.tokens[this.tokens.length - 1]!;
    // The statement covers the line's content exactly: share the span (spans are never mutated).
    const content = this.result.content;
    const span =
      content && content.start === startTok.start && content.end === endTok.end
        ? content
        : { line: this.line, start: startTok.start, end: endTok.end };
    if (body.kind === 'event') {
      // Events are nearly every line of a long scenario: build them whole, in one object.
      const { keyword, keywordSpan, op } = body;
      return prefix
        ? { kind: 'event', keyword, keywordSpan, op, span, vcpuPrefix: prefix }
        : { kind: 'event', keyword, keywordSpan, op, span };
    }
    const statement = body as Statement; // bodies are fresh objects: complete them in place
    statement.span = span;
    if (prefix) statement.vcpuPrefix = prefix;
    return statement;
  }

  private body(keyword: Token, prefixed: boolean): Body | undefined {
    if (keyword.kind !== 'word') {
      this.error(keyword, 'expected-statement', `expected a statement, found \`${clip(keyword.text)}\``);
      return undefined;
    }
    const k = keyword.text;
    if (prefixed && (k === 'kernel' || k === 'vm' || k === 'vcpu')) {
      this.error(keyword, 'prefix-not-allowed', `\`vcpu N:\` cannot prefix \`${k}\``);
      return undefined;
    }
    switch (k) {
      case 'kernel':
        return this.kernel();
      case 'vm':
        return this.vm();
      case 'vcpu':
        return this.vcpuSwitch(keyword);
      case 'expect':
        return this.expect(keyword);
      case 'decode':
        return this.decode(keyword);
      case 'emulate': {
        const reg = this.next();
        if (reg?.kind === 'word' && reg.text === 'write') {
          this.result.keyword = { name: 'write', span: this.span(reg) };
          return this.event(reg, this.guestWrite(reg));
        }
        if (!reg || reg.kind !== 'word' || !(REGISTER_KEYWORDS as readonly string[]).includes(reg.text)) {
          this.error(
            reg ?? keyword,
            'emulate-needs-register',
            '`emulate` must be followed by a register write (`cr0`, `cr3`, `cr4`, `efer`) or `write GPA BYTES`',
          );
          return undefined;
        }
        this.result.keyword = { name: reg.text, span: this.span(reg) };
        return this.event(reg, this.registerWrite(reg, true));
      }
      default: {
        const op = this.eventOp(keyword);
        return op ? this.event(keyword, op) : undefined;
      }
    }
  }

  private event(keyword: Token, op: ModelOp | undefined): Body | undefined {
    if (!op) return undefined;
    // Share the keyword's name and span with `result.keyword` (recorded for the same token).
    const named = this.result.keyword;
    if (named && named.span.start === keyword.start && named.span.end === keyword.end)
      return { kind: 'event', keyword: named.name, keywordSpan: named.span, op };
    return { kind: 'event', keyword: keyword.text, keywordSpan: this.span(keyword), op };
  }

  private eventOp(keyword: Token): ModelOp | undefined {
    switch (keyword.text) {
      case 'cr0':
      case 'cr3':
      case 'cr4':
      case 'efer':
        return this.registerWrite(keyword, false);
      case 'run':
        return RUN;
      case 'smi':
        return SMI;
      case 'rsm':
        return RSM;
      case 'init':
        return INIT;
      case 'vmexit':
        return VMEXIT;
      case 'sregs':
        return this.sregs(keyword);
      case 'invpcid':
        return this.invpcid(keyword);
      case 'invlpg': {
        const addr = this.number(keyword, 'an address');
        return addr === undefined ? undefined : { op: 'invlpg', addr };
      }
      case 'vmenter':
        return this.vmenter(keyword);
      case 'invept':
        return this.invept(keyword);
      case 'invvpid':
        return this.invvpid(keyword);
      case 'vmxon':
        return VMXON;
      case 'vmxoff':
        return VMXOFF;
      case 'stgi':
        return STGI;
      case 'clgi':
        return CLGI;
      case 'vmclear':
      case 'vmptrld': {
        const vmptr = this.number(keyword, 'the vmcs12 address');
        if (vmptr === undefined) return undefined;
        return keyword.text === 'vmclear' ? { op: 'vmclear', vmptr } : { op: 'vmptrld', vmptr };
      }
      case 'memslot':
        return this.memslot(keyword);
      case 'pdpt':
        return this.pdpt(keyword);
      case 'notifier':
        return this.notifier(keyword);
      case 'cpuid': {
        const opts = this.options(keyword, CPUID_KEYS);
        if (!opts) return undefined;
        if (opts.size === 0)
          return this.missing(
            keyword,
            'cpuid needs `maxphyaddr=N` or a feature (`pku=`, `la57=`, `pcid=`, `nx=`, `smep=`, `smap=`)',
          );
        const op: ModelOp & { op: 'cpuid' } = { op: 'cpuid' };
        const m = opts.get('maxphyaddr');
        if (m) op.maxphyaddr = Number(m.value);
        for (const f of CPUID_FEATURES) {
          const o = opts.get(f);
          if (o) (op.features ??= {})[f] = o.value === 'on';
        }
        return op;
      }
      case 'nr_mmu_pages': {
        const pages = this.number(keyword, 'a number of shadow pages', MAX_NR_MMU_PAGES);
        return pages === undefined ? undefined : { op: 'set_nr_mmu_pages', pages: Number(pages) };
      }
      case 'nx_huge_pages': {
        const value = this.word(keyword, ['on', 'off'], '`on` or `off`');
        return value === undefined ? undefined : value === 'on' ? NX_HUGE_PAGES_ON : NX_HUGE_PAGES_OFF;
      }
      case 'mmio_gen':
        return this.word(keyword, ['wrap'], '`wrap`') === undefined ? undefined : MMIO_GEN_WRAP;
      case 'destroy': {
        const what = this.word(keyword, ['vcpu', 'vm'], '`vcpu` or `vm`');
        return what === undefined ? undefined : what === 'vcpu' ? { op: 'destroy_vcpu' } : { op: 'destroy_vm' };
      }
      case 'write':
        this.error(
          keyword,
          'unknown-event',
          'a guest write is written `emulate write GPA BYTES` (KVM’s emulator writes)',
        );
        return undefined;
      default:
        this.unknownWord(keyword, KEYWORDS, 'unknown-event', 'event');
        return undefined;
    }
  }

  /** `emulate write GPA BYTES`: GPA is L1 guest-physical (below 2^52), BYTES 1…16. */
  private guestWrite(keyword: Token): ModelOp | undefined {
    const gpa = this.number(keyword, 'the guest-physical address written', MAX_GPA);
    if (gpa === undefined) return undefined;
    const bytes = this.number(this.tokens[this.pos - 1]!, 'the number of bytes written (1…16)', 16n, 1n);
    if (bytes === undefined) return undefined;
    return { op: 'guest_write', gpa, bytes: Number(bytes) };
  }

  private kernel(): Body | undefined {
    const kw = this.tokens[this.pos - 1]!;
    const p = this.next();
    if (!p || p.kind !== 'word') {
      this.error(p ?? kw, 'missing-profile', 'expected a kernel profile, e.g. `kernel v6.3`');
      return undefined;
    }
    const profile: Named = { name: p.text, span: this.span(p) };
    const mods: KernelMod[] = [];
    while (!this.atEnd()) {
      const sign = this.next()!;
      const name = this.peek();
      if ((sign.text !== '+' && sign.text !== '-') || !name || name.kind !== 'word' || name.start !== sign.end) {
        this.error(sign, 'bad-kernel-mod', 'expected `+behaviour` or `-behaviour`');
        return undefined;
      }
      this.pos++;
      mods.push({ sign: sign.text, name: name.text, span: { line: this.line, start: sign.start, end: name.end } });
    }
    return { kind: 'kernel', profile, mods };
  }

  private vm(): Body | undefined {
    const kw = this.tokens[this.pos - 1]!;
    // Tolerant: a bad setting is reported and skipped, the others are kept (see ParsedLine.recovered).
    const opts = this.options(kw, VM_KEYS, [], true);
    if (!opts) return undefined;
    const settings: VmSetting[] = [];
    for (const [key, o] of opts) {
      settings.push({ key, value: String(o.value), span: o.span, keySpan: o.keySpan, valueSpan: o.valueSpan });
    }
    return { kind: 'vm', settings };
  }

  private vcpuSwitch(keyword: Token): Body | undefined {
    const t = this.next();
    if (!t) return this.missing(keyword, '`vcpu` needs a vCPU number, e.g. `vcpu 1`');
    const id = this.vcpuId(t);
    return id === undefined ? undefined : { kind: 'vcpu', id, idSpan: this.span(t) };
  }

  private vcpuId(t: Token): number | undefined {
    if (t.kind !== 'number' || t.value === undefined) {
      this.error(t, 'expected-number', `expected a vCPU number, found \`${clip(t.text)}\``);
      return undefined;
    }
    if (t.value >= MAX_VCPUS_BIG) {
      this.error(t, 'vcpu-out-of-range', `vCPU ${clip(t.text)} is out of range (0..${MAX_VCPUS - 1})`);
      return undefined;
    }
    return Number(t.value);
  }

  private expect(keyword: Token): Body | undefined {
    const p = this.next();
    if (!p) return this.missing(keyword, '`expect` needs `PATH OP VALUE`, e.g. `expect roots.live == 1`');
    if (p.kind !== 'word' || !isPath(p.text)) {
      this.error(
        p,
        'bad-path',
        `\`${clip(p.text)}\` is not a path (dotted names with optional [N], e.g. \`prev[0].id\`)`,
      );
      return undefined;
    }
    const o = this.next();
    if (!o) return this.missing(p, 'expected a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`) after the path');
    const cmp = EXPECT_OPS.find((x) => x === o.text);
    if (!cmp) {
      this.error(
        o,
        'bad-comparison',
        `expected \`==\`, \`!=\`, \`<\`, \`<=\`, \`>\` or \`>=\`, found \`${clip(o.text)}\``,
      );
      return undefined;
    }
    const v = this.next();
    if (!v) return this.missing(o, 'expected a number or `true`/`false` after the comparison');
    let value: number;
    if (v.kind === 'word' && (v.text === 'true' || v.text === 'false')) value = v.text === 'true' ? 1 : 0;
    else if (v.kind === 'number' && v.value !== undefined) {
      if (v.value > BigInt(Number.MAX_SAFE_INTEGER)) {
        this.error(v, 'number-out-of-range', `expected values are at most 2^53-1`);
        return undefined;
      }
      value = Number(v.value);
    } else {
      this.error(v, 'expected-number', `expected a number or \`true\`/\`false\`, found \`${clip(v.text)}\``);
      return undefined;
    }
    return { kind: 'expect', path: p.text, pathSpan: this.span(p), cmp, value, valueSpan: this.span(v) };
  }

  private decode(keyword: Token): Body | undefined {
    const what = this.word(keyword, ['role', 'cpu_role'], '`role` or `cpu_role`');
    if (what === undefined) return undefined;
    const whatTok = this.tokens[this.pos - 1]!;
    const w = this.next();
    if (!w) return this.missing(whatTok, `expected the ${what === 'role' ? 'page-role' : 'cpu-role'} word to decode`);
    if (w.kind !== 'number' || w.value === undefined) {
      this.error(w, 'expected-number', `expected a number, found \`${clip(w.text)}\``);
      return undefined;
    }
    if (what === 'role' && w.value > 0xffff_ffffn) {
      this.error(w, 'number-out-of-range', 'a page role (kvm_mmu_page_role) is 32 bits');
      return undefined;
    }
    return { kind: 'decode', what: what as 'role' | 'cpu_role', word: w.value, wordSpan: this.span(w) };
  }

  // --- events ---------------------------------------------------------------------------------

  private registerWrite(reg: Token, emulate: boolean): ModelOp | undefined {
    const name = reg.text as 'cr0' | 'cr3' | 'cr4' | 'efer';
    const opTok = this.next();
    if (!opTok) return this.missing(reg, `expected \`=\`${name === 'cr3' ? '' : ', `|=` or `&=`'} after \`${name}\``);
    if (name === 'cr3') {
      if (opTok.text !== '=') {
        this.error(opTok, 'bad-assignment', 'CR3 can only be assigned: `cr3 = 0x1000 [pcid=N] [noflush]`');
        return undefined;
      }
      return this.cr3(opTok, emulate);
    }
    if (opTok.text !== '=' && opTok.text !== '|=' && opTok.text !== '&=') {
      this.error(
        opTok,
        'bad-assignment',
        `expected \`=\`, \`|=\` or \`&=\` after \`${name}\`, found \`${clip(opTok.text)}\``,
      );
      return undefined;
    }
    const mode = opTok.text;
    const value = this.flagExpr(opTok, name, mode === '&=');
    if (value === undefined) return undefined;
    return { op: 'write_cr', reg: name, mode, value, emulate };
  }

  private cr3(after: Token, emulate: boolean): ModelOp | undefined {
    const v = this.numberToken(after, 'a CR3 value');
    if (!v) return undefined;
    let value = v.value!;
    let noflush = (value & (1n << 63n)) !== 0n;
    value &= ~(1n << 63n);
    const opts = this.options(v, { pcid: { type: 'num', max: 4095n, what: 'a PCID' } }, ['noflush']);
    if (!opts) return undefined;
    const pcid = opts.get('pcid');
    if (pcid) {
      if ((value & 0xfffn) !== 0n) {
        this.error(v, 'cr3-low-bits', 'with `pcid=`, the CR3 value must have bits 11:0 clear (they hold the PCID)');
        return undefined;
      }
      value |= pcid.value as bigint;
    }
    if (opts.has('noflush')) noflush = true;
    return { op: 'write_cr3', value, noflush, emulate };
  }

  private sregs(keyword: Token): ModelOp | undefined {
    const opts = this.options(keyword, SREGS_KEYS);
    if (!opts) return undefined;
    if (opts.size === 0) return this.missing(keyword, '`sregs` needs at least one of `cr0=`, `cr3=`, `cr4=`, `efer=`');
    const op: ModelOp & { op: 'sregs' } = { op: 'sregs' };
    for (const k of ['cr0', 'cr3', 'cr4', 'efer'] as const) {
      const o = opts.get(k);
      if (o) op[k] = o.value as bigint;
    }
    return op;
  }

  private invpcid(keyword: Token): ModelOp | undefined {
    const type = this.word(keyword, INVPCID_TYPES, '`addr`, `single`, `all` or `all-global`');
    if (type === undefined) return undefined;
    const typeTok = this.tokens[this.pos - 1]!;
    const opts = this.options(typeTok, {
      pcid: { type: 'num', max: 4095n, what: 'a PCID' },
      addr: { type: 'num', what: 'an address' },
    });
    if (!opts) return undefined;
    const pcid = opts.get('pcid');
    const addr = opts.get('addr');
    const needsPcid = type === 'addr' || type === 'single';
    if (needsPcid && !pcid) return this.missing(typeTok, `\`invpcid ${type}\` needs \`pcid=N\``);
    if (type === 'addr' && !addr) return this.missing(typeTok, '`invpcid addr` needs `addr=X`');
    if (!needsPcid && pcid) return this.refuse(pcid.span, 'unused-option', `\`invpcid ${type}\` takes no \`pcid=\``);
    if (type !== 'addr' && addr)
      return this.refuse(addr.span, 'unused-option', `\`invpcid ${type}\` takes no \`addr=\``);
    return {
      op: 'invpcid',
      type: type as 'addr' | 'single' | 'all' | 'all-global',
      pcid: pcid ? Number(pcid.value) : 0,
      addr: addr ? (addr.value as bigint) : 0n,
    };
  }

  private vmenter(keyword: Token): ModelOp | undefined {
    const opts = this.options(keyword, VMENTER_KEYS);
    if (!opts) return undefined;
    const ept = opts.get('ept')?.value === 'on';
    const npt = opts.get('npt')?.value === 'on';
    const eptp = opts.get('eptp');
    const ncr3 = opts.get('ncr3');
    if (ept && npt)
      return this.refuse(
        opts.get('npt')!.span,
        'conflicting-options',
        '`ept=on` and `npt=on` exclude each other (EPT is Intel, NPT is AMD)',
      );
    if (ept && !eptp)
      return this.missing(opts.get('ept')!.span, '`ept=on` needs `eptp=` (the EPTP L1 writes to vmcs12)');
    if (npt && !ncr3)
      return this.missing(opts.get('npt')!.span, '`npt=on` needs `ncr3=` (the nested CR3 L1 writes to vmcb12)');
    if (!ept && eptp) return this.refuse(eptp.span, 'unused-option', '`eptp=` has no effect without `ept=on`');
    if (!npt && ncr3) return this.refuse(ncr3.span, 'unused-option', '`ncr3=` has no effect without `npt=on`');
    const op: ModelOp & { op: 'vmenter' } = {
      op: 'vmenter',
      ept,
      eptp: eptp ? (eptp.value as bigint) : 0n,
      npt,
      ncr3: ncr3 ? (ncr3.value as bigint) : 0n,
      vpid: Number(opts.get('vpid')?.value ?? 0n),
    };
    for (const k of ['cr0', 'cr3', 'cr4', 'efer'] as const) {
      const o = opts.get(k);
      if (o) op[k] = o.value as bigint;
    }
    return op;
  }

  private invept(keyword: Token): ModelOp | undefined {
    const type = this.word(keyword, ['single', 'global'], '`single` or `global`');
    if (type === undefined) return undefined;
    if (type === 'global') return { op: 'invept', type: 'global', eptp: 0n };
    const eptp = this.number(this.tokens[this.pos - 1]!, 'the EPTP to invalidate');
    return eptp === undefined ? undefined : { op: 'invept', type: 'single', eptp };
  }

  private invvpid(keyword: Token): ModelOp | undefined {
    const type = this.word(keyword, ['single', 'all'], '`single` or `all`');
    if (type === undefined) return undefined;
    const typeTok = this.tokens[this.pos - 1]!;
    if (type === 'all') return { op: 'invvpid', type: 'all', vpid: 0 };
    const opts = this.options(typeTok, { vpid: VMENTER_KEYS.vpid! });
    if (!opts) return undefined;
    const vpid = opts.get('vpid');
    if (!vpid) return this.missing(typeTok, '`invvpid single` needs `vpid=N`');
    return { op: 'invvpid', type: 'single', vpid: Number(vpid.value) };
  }

  private memslot(keyword: Token): ModelOp | undefined {
    const action = this.word(keyword, ['delete', 'move', 'create'], '`delete`, `move` or `create`');
    if (action === undefined) return undefined;
    const slot = this.number(this.tokens[this.pos - 1]!, 'a memslot id', MAX_SLOT);
    if (slot === undefined) return undefined;
    const op = { op: 'memslot', action: action as 'delete' | 'move' | 'create', slot: Number(slot) } as const;
    if (action === 'delete') return op;
    const slotTok = this.tokens[this.pos - 1]!;
    const opts = this.options(slotTok, action === 'create' ? MEMSLOT_KEYS : { gfn: MEMSLOT_KEYS.gfn! });
    if (!opts) return undefined;
    const gfn = opts.get('gfn');
    const pages = opts.get('pages');
    if (!gfn && !pages) return op;
    if (!gfn) return this.missing(slotTok, '`memslot create N pages=P` needs its base too: `gfn=G`');
    if (action === 'move') return { ...op, gfn: gfn.value as bigint };
    if (!pages) return this.missing(slotTok, '`memslot create N gfn=G` needs its size too: `pages=P`');
    const base = gfn.value as bigint;
    const n = pages.value as bigint;
    if (base + n > GFN_LIMIT)
      return this.refuse(
        { line: this.line, start: gfn.span.start, end: pages.span.end },
        'value-out-of-range',
        `gfns [${hex(base)}, ${hex(base + n)}) go beyond the last guest frame (${hex(GFN_LIMIT - 1n)})`,
      );
    return { ...op, gfn: base, pages: n };
  }

  /** `pdpt ADDR = E0 E1 E2 E3`: the four PAE PDPTEs in guest memory at ADDR (32-byte aligned). */
  private pdpt(keyword: Token): ModelOp | undefined {
    const a = this.numberToken(keyword, 'the PDPT address');
    if (!a) return undefined;
    if (a.value! & 0x1fn) {
      this.error(a, 'pdpt-misaligned', 'a PDPT is 32-byte aligned: bits 4:0 of its address must be clear');
      return undefined;
    }
    const eq = this.next();
    if (!eq || eq.text !== '=') {
      this.error(
        eq ?? a,
        'expected-equals',
        'expected `=` and the four PDPTEs, e.g. `pdpt 0x1000 = 0x2001 0x3001 0 0`',
      );
      return undefined;
    }
    const entries: bigint[] = [];
    let after: Token = eq;
    for (let i = 0; i < 4; i++) {
      const e = this.numberToken(after, `PDPTE ${i} (four entries: present ones have bit 0 set)`);
      if (!e) return undefined;
      entries.push(e.value!);
      after = e;
    }
    return { op: 'pdpt', addr: a.value!, entries };
  }

  private notifier(keyword: Token): ModelOp | undefined {
    if (this.word(keyword, ['unmap'], '`unmap`') === undefined) return undefined;
    const a = this.numberToken(this.tokens[this.pos - 1]!, 'a gfn range `START..END`');
    if (!a) return undefined;
    const dots = this.next();
    if (!dots || dots.text !== '..') {
      this.error(dots ?? a, 'expected-range', 'expected a gfn range `START..END`');
      return undefined;
    }
    const b = this.numberToken(dots, 'the end of the gfn range');
    if (!b) return undefined;
    if (a.value! >= b.value!) {
      this.error(
        { start: a.start, end: b.end },
        'empty-range',
        'the gfn range is empty: START must be below END (END is exclusive)',
      );
      return undefined;
    }
    return { op: 'notifier_unmap', start: a.value!, end: b.value! };
  }

  // --- pieces ---------------------------------------------------------------------------------

  /**
   * `TERM ('|' TERM)*`, TERM a flag of `reg` or a number; with `allowNot`, an optional leading `~`
   * (complement of the whole list within 64 bits) and optional parentheses around the list.
   */
  private flagExpr(after: Token, reg: FlagRegName, allowNot: boolean): bigint | undefined {
    let t = this.peek();
    if (!t) return this.missing(after, `expected ${reg.toUpperCase()} flags or a number`);
    let not = false;
    if (t.text === '~') {
      if (!allowNot) {
        this.error(t, 'bad-complement', '`~` is only meaningful after `&=` (e.g. `cr0 &= ~WP`)');
        return undefined;
      }
      not = true;
      this.pos++;
    }
    const open = this.peek()?.text === '(' ? this.next() : undefined;
    let value = 0n;
    for (;;) {
      t = this.next();
      if (!t) return this.missing(this.tokens[this.pos - 1]!, `expected ${reg.toUpperCase()} flags or a number`);
      if (t.kind === 'number' && t.value !== undefined) value |= t.value;
      else if (t.kind === 'word') {
        const f = findFlag(reg, t.text);
        if (!f) {
          this.unknownFlag(t, reg);
          return undefined;
        }
        value |= 1n << BigInt(f.bit);
      } else {
        this.error(t, 'expected-flag', `expected a ${reg.toUpperCase()} flag or a number, found \`${clip(t.text)}\``);
        return undefined;
      }
      if (this.peek()?.text !== '|') break;
      this.pos++;
    }
    if (open) {
      const close = this.next();
      if (!close || close.text !== ')') {
        this.error(close ?? open, 'unbalanced-parenthesis', 'expected `)`');
        return undefined;
      }
    }
    return not ? ~value & MAX_U64 : value;
  }

  private unknownFlag(t: Token, reg: FlagRegName): void {
    const upper = t.text.toUpperCase();
    const owner = (Object.keys(FLAGS) as FlagRegName[]).find((r) => r !== reg && findFlag(r, t.text));
    if (owner) {
      const d: Diagnostic = {
        span: this.span(t),
        severity: 'error',
        code: 'wrong-register-flag',
        message: `${upper} is a ${owner.toUpperCase()} flag, not a ${reg.toUpperCase()} flag`,
      };
      const fix = this.moveFlagFix(this.pos - 1, reg, owner, upper);
      if (fix) d.fix = fix;
      this.diagnostics.push(d);
      return;
    }
    this.unknownWord(
      t,
      FLAGS[reg].map((f) => f.name),
      'unknown-flag',
      `${reg.toUpperCase()} flag`,
    );
  }

  /**
   * `key=value` options (and bare words from `bare`) until the end of the line. Returns undefined
   * after reporting the first error; duplicates are errors.
   */
  /**
   * `key=value …` options. `tolerant`: after a bad option, skip to the next `word=` and go on, so that the caller
   * gets every option that was right (the line still has its errors).
   */
  private options(
    after: Token,
    spec: Readonly<Record<string, OptionSpec>>,
    bare: readonly string[] = [],
    tolerant = false,
  ): Map<string, OptionValue> | undefined {
    const out = new Map<string, OptionValue>();
    while (!this.atEnd()) {
      const before = this.diagnostics.length;
      const at = this.pos;
      const ok = this.option(spec, bare, out);
      if (ok) continue;
      if (!tolerant || this.diagnostics.length === before) return undefined;
      // Resume at the next `word=` after the bad option (at least one token on).
      this.pos = Math.max(this.pos, at + 1);
      while (!this.atEnd() && !(this.peek()?.kind === 'word' && this.tokens[this.pos + 1]?.text === '=')) this.pos++;
    }
    return out;
  }

  /** One option into `out`; false (with a diagnostic, or at leftover words) when it is not one. */
  private option(
    spec: Readonly<Record<string, OptionSpec>>,
    bare: readonly string[],
    out: Map<string, OptionValue>,
  ): boolean {
    const k = this.next()!;
    if (k.kind !== 'word') {
      this.error(k, 'unexpected-token', `expected an option (${describeKeys(spec, bare)}), found \`${clip(k.text)}\``);
      return false;
    }
    const isBare = bare.includes(k.text) && this.peek()?.text !== '=';
    const s = spec[k.text];
    if (!isBare && !Object.hasOwn(spec, k.text)) {
      const guess = suggest(k.text, [...Object.keys(spec), ...bare]);
      if (this.peek()?.text !== '=' && guess === undefined && out.size > 0) {
        // Not an option at all: leftover words after a complete statement.
        this.pos--;
        this.expectEnd();
        return false;
      }
      this.unknownWord(
        k,
        [...Object.keys(spec), ...bare],
        'unknown-option',
        'option',
        ` (expected ${describeKeys(spec, bare)})`,
      );
      return false;
    }
    if (out.has(k.text)) {
      this.error(k, 'duplicate-option', `\`${k.text}\` is given twice`);
      return false;
    }
    if (isBare || !s) {
      const span = this.span(k);
      out.set(k.text, { value: k.text, keySpan: span, valueSpan: span, span });
      return true;
    }
    const eq = this.next();
    if (!eq || eq.text !== '=' || eq.start !== k.end) {
      this.error(
        eq && eq.text === '=' ? eq : k,
        'expected-equals',
        `expected \`${k.text}=VALUE\` (no spaces around \`=\`)`,
      );
      return false;
    }
    const valueStart = this.peek();
    if (!valueStart || valueStart.start !== eq.end) {
      this.error(eq, 'missing-value', `expected a value right after \`${k.text}=\``);
      return false;
    }
    let value: bigint | string | undefined;
    if (s.type === 'flags') value = this.flagExpr(eq, s.reg, false);
    else if (s.type === 'num') value = this.number(eq, s.what ?? `a number for \`${k.text}\``, s.max, s.min, k.text);
    else value = this.word(eq, s.values, s.values.map((v) => `\`${v}\``).join(' or '), k.text);
    if (value === undefined) return false;
    const last = this.tokens[this.pos - 1]!;
    out.set(k.text, {
      value,
      keySpan: this.span(k),
      valueSpan: { line: this.line, start: valueStart.start, end: last.end },
      span: { line: this.line, start: k.start, end: last.end },
    });
    return true;
  }

  /**
   * The fix for a flag written on the wrong register (token `i`, e.g. WP in `cr4=PAE|WP`): take it out of this
   * register's list and add it to the owner's — the owner's `cr0=…`/`cr0 |= …` on the same line when there is one,
   * or, when the flag is all this register's write says (`cr4 |= WP`), the register's name changed to the owner's.
   * Undefined when neither fits (no CR0 on the line to move it to: writing CR0 anew would change more than meant).
   */
  private moveFlagFix(i: number, reg: FlagRegName, owner: FlagRegName, flag: string): Diagnostic['fix'] {
    const tokens = this.tokens;
    const at = (j: number): Token | undefined => tokens[j];
    const isAssign = (x: Token | undefined): boolean => x?.text === '=' || x?.text === '|=' || x?.text === '&=';
    const isReg = (x: Token | undefined, r: FlagRegName): boolean => x?.kind === 'word' && x.text.toLowerCase() === r;
    // The flag list around token i: operands separated by `|`, after `reg=`/`reg |=` (and an optional `~`/`(`).
    let first = i;
    while (at(first - 1)?.text === '|' && at(first - 2) !== undefined) first -= 2;
    let last = i;
    while (at(last + 1)?.text === '|' && at(last + 2) !== undefined) last += 2;
    let head = first - 1;
    while (at(head)?.text === '~' || at(head)?.text === '(') head--;
    if (!isAssign(at(head)) || !isReg(at(head - 1), reg)) return undefined;
    const line = this.line;
    const span = (start: number, end: number): Span => ({ line, start, end });
    const flagTok = at(i)!;
    // Where the owner's flags end on this line: the last operand of `owner=…`.
    let ownerEnd: number | undefined;
    for (let j = 0; j + 2 < tokens.length; j++) {
      if (!isReg(at(j), owner) || !isAssign(at(j + 1)) || at(j + 1)?.text === '&=') continue;
      let k = j + 2;
      while (at(k)?.text === '(') k++;
      while (at(k + 1)?.text === '|' && at(k + 2) !== undefined) k += 2;
      if (at(k + 1)?.text === ')') k++;
      ownerEnd = at(k)?.end;
      break;
    }
    const title = `Move ${flag} to ${owner.toUpperCase()}`;
    if (first === last) {
      // The flag is all this write says: name the right register (`cr4 |= WP` → `cr0 |= WP`) when it stands alone.
      const regTok = at(head - 1)!;
      const alone = head - 1 === (this.result.vcpuPrefix ? 3 : 0) || at(head - 2)?.text.toLowerCase() === 'emulate';
      // Not for `cr4 = WP`: `cr0 = WP` would clear PE and PG — more than moving one flag.
      if (ownerEnd === undefined && alone && at(head)?.text !== '=')
        return { title, edits: [{ span: this.span(regTok), newText: owner }] };
      if (ownerEnd === undefined) return undefined;
      // `sregs cr0=PE|PG cr4=WP`: drop `cr4=WP` (with the space before it) and add WP to CR0.
      const from = (at(head - 2)?.end ?? regTok.start) < regTok.start ? at(head - 2)!.end : regTok.start;
      const edits = [
        { span: span(ownerEnd, ownerEnd), newText: `|${flag}` },
        { span: span(from, at(last)!.end), newText: '' },
      ];
      return { title, edits: edits.sort((a, b) => a.span.start - b.span.start) };
    }
    if (ownerEnd === undefined) return undefined;
    // Remove `|WP` (or `WP|` when it is first) from this list.
    const cut = i > first ? span(at(i - 1)!.start, flagTok.end) : span(flagTok.start, at(i + 1)!.end);
    const edits = [
      { span: span(ownerEnd, ownerEnd), newText: `|${flag}` },
      { span: cut, newText: '' },
    ];
    return { title, edits: edits.sort((a, b) => a.span.start - b.span.start) };
  }

  /** One number token in [min, max]; diagnostics name `what`. */
  private number(after: Token, what: string, max: bigint = MAX_U64, min = 0n, key?: string): bigint | undefined {
    const t = this.numberToken(after, what);
    if (!t) return undefined;
    const v = t.value!;
    if (v < min || v > max) {
      const label = key ? `\`${key}\`` : what;
      this.error(
        t,
        'value-out-of-range',
        `${label} must be ${min === 0n ? `at most ${max}` : `in ${min}..${max}`}, not ${clip(t.text)}`,
      );
      return undefined;
    }
    return v;
  }

  private numberToken(after: Token, what: string): Token | undefined {
    const t = this.next();
    if (!t) return this.missing(after, `expected ${what}`);
    if (t.kind !== 'number' || t.value === undefined) {
      this.error(t, 'expected-number', `expected ${what}, found \`${clip(t.text)}\``);
      return undefined;
    }
    return t;
  }

  /** One word from `allowed`; unknown words get a suggestion. */
  private word(after: Token, allowed: readonly string[], describe: string, key?: string): string | undefined {
    const t = this.next();
    if (!t) return this.missing(after, `expected ${describe}`);
    if (t.kind === 'word' && allowed.includes(t.text)) return t.text;
    const meant = (t.kind === 'word' || t.kind === 'number') && ON_OFF_SYNONYMS.get(t.text.toLowerCase());
    if (meant && allowed.includes(meant)) {
      // `tdp_mmu=yes`: what was meant is plain; the fix writes it the way the language (and KVM's params) say it.
      const span = this.span(t);
      this.diagnostics.push({
        span,
        severity: 'error',
        code: 'bad-value',
        message: `${key ? `\`${key}\` takes` : 'expected'} ${describe}, not \`${clip(t.text)}\`: write \`${meant}\``,
        fix: { title: `Change to \`${meant}\``, edits: [{ span, newText: meant }] },
      });
      return undefined;
    }
    if (t.kind === 'word') {
      this.unknownWord(t, allowed, 'bad-value', key ? `value for \`${key}\`` : 'word', ` (expected ${describe})`);
    } else {
      this.error(t, 'bad-value', `expected ${describe}, found \`${clip(t.text)}\``);
    }
    return undefined;
  }

  /** "unknown X `w`, did you mean `y`?" with a quick fix replacing the word. */
  private unknownWord(t: Token, candidates: readonly string[], code: string, what: string, hint = ''): void {
    const s = suggest(t.text, candidates);
    const span = this.span(t);
    if (s !== undefined && s !== t.text) {
      this.diagnostics.push({
        span,
        severity: 'error',
        code,
        message: `unknown ${what} \`${clip(t.text)}\`, did you mean \`${s}\`?`,
        fix: { title: `Change to \`${s}\``, edits: [{ span, newText: s }] },
      });
    } else {
      this.diagnostics.push({ span, severity: 'error', code, message: `unknown ${what} \`${clip(t.text)}\`${hint}` });
    }
  }

  private expectEnd(): void {
    if (this.atEnd()) return;
    const first = this.tokens[this.pos]!;
    const last = this.tokens[this.tokens.length - 1]!;
    const extra = first === last ? `\`${clip(first.text)}\`` : 'tokens';
    this.error(
      { start: first.start, end: last.end },
      'unexpected-token',
      `unexpected ${extra} at the end of the statement`,
    );
  }

  private missing(after: Token | Span, message: string): undefined {
    this.error(after, 'missing-value', message);
    return undefined;
  }

  private refuse(span: Span, code: string, message: string): undefined {
    this.error(span, code, message);
    return undefined;
  }

  private error(at: { start: number; end: number }, code: string, message: string): void {
    this.diagnostics.push({
      span: { line: this.line, start: at.start, end: at.end },
      severity: 'error',
      code,
      message,
    });
  }

  private span(t: Token): Span {
    return { line: this.line, start: t.start, end: t.end };
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  /** The next token; at the end it stays at the end, so `tokens[pos - 1]` is always the last consumed. */
  private next(): Token | undefined {
    const t = this.tokens[this.pos];
    if (t) this.pos++;
    return t;
  }

  private atEnd(): boolean {
    return this.pos >= this.tokens.length;
  }
}

const SREGS_KEYS: Readonly<Record<string, OptionSpec>> = {
  cr0: { type: 'flags', reg: 'cr0' },
  cr3: { type: 'num', what: 'a CR3 value' },
  cr4: { type: 'flags', reg: 'cr4' },
  efer: { type: 'flags', reg: 'efer' },
};

export const VMENTER_KEYS: Readonly<Record<string, OptionSpec>> = {
  ept: { type: 'enum', values: ['on', 'off'] },
  eptp: { type: 'num', what: 'an EPTP' },
  npt: { type: 'enum', values: ['on', 'off'] },
  ncr3: { type: 'num', what: 'a nested CR3' },
  ...SREGS_KEYS,
  vpid: { type: 'num', max: 0xffffn, what: 'a VPID' },
};

export const SREGS_OPTION_KEYS: readonly string[] = Object.keys(SREGS_KEYS);

function describeKeys(spec: Readonly<Record<string, OptionSpec>>, bare: readonly string[]): string {
  return [...Object.keys(spec).map((k) => `\`${k}=\``), ...bare.map((b) => `\`${b}\``)].join(', ');
}

/** `name(.name)*` where every name may carry one `[N]`. */
function isPath(text: string): boolean {
  let i = 0;
  const n = text.length;
  for (;;) {
    const c = text.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95)) return false;
    while (i < n && isIdent(text.charCodeAt(i))) i++;
    if (i < n && text[i] === '[') {
      const digits = ++i;
      while (i < n && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
      if (i === digits || i - digits > 6 || text[i] !== ']') return false;
      i++;
    }
    if (i === n) return true;
    if (text[i] !== '.') return false;
    i++;
  }
}

function isIdent(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

/** Keeps messages readable when the offending text is huge. */
function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

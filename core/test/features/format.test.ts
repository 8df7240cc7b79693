import { strict as assert } from 'node:assert';
import { formatText } from '../../src/features/format.js';
import { parse } from '../../src/syntax/parser.js';
import { analyze } from '../../src/engine/analyze.js';
import { splitLines } from '../../src/text/positions.js';
import { fuzzCorpus, UNICODE_SPACES } from '../fuzz_corpus.js';

const fmt = (text: string): string => formatText(parse(text), text);

describe('features/format', () => {
  it('spaces statements canonically and upper-cases flags', () => {
    assert.equal(fmt('cr0=pe|pg'), 'cr0 = PE|PG');
    assert.equal(fmt('cr0   &=  ~wp'), 'cr0 &= ~WP');
    assert.equal(fmt('emulate   cr3=0x2000   pcid=1'), 'emulate cr3 = 0x2000 pcid=1');
    assert.equal(fmt('emulate   write\t0x1008    8'), 'emulate write 0x1008 8');
    assert.equal(fmt('sregs  cr0=PE|pg   cr4=pae'), 'sregs cr0=PE|PG cr4=PAE');
    assert.equal(fmt('vcpu 0 :  smi'), 'vcpu 0: smi');
    assert.equal(fmt('expect  roots.live==2'), 'expect roots.live == 2');
    assert.equal(fmt('kernel   v6.3    +tdp_mmu_root_ref'), 'kernel v6.3 +tdp_mmu_root_ref');
    assert.equal(fmt('memslot   create 1  gfn=0x10   pages=2'), 'memslot create 1 gfn=0x10 pages=2');
    assert.equal(fmt('pdpt 0x1000=0x2001   0x3001 0 0'), 'pdpt 0x1000 = 0x2001 0x3001 0 0');
    assert.equal(fmt('vm   tdp=off   memory=slots'), 'vm tdp=off memory=slots');
  });

  it('keeps every comment byte for byte, in its column when the code fits', () => {
    const text =
      '# header comment  \nrun # first\nsmi        # aligned by hand\ncr0=pe|pg|wp # pushed right\n\n  # indented  \nrsm  #x';
    const out = fmt(text);
    assert.equal(
      out,
      '# header comment\nrun # first\nsmi        # aligned by hand\ncr0 = PE|PG|WP  # pushed right\n\n  # indented\nrsm  #x',
    );
    const comments = (s: string): string[] =>
      s
        .split('\n')
        .map((l) => l.slice(l.indexOf('#')).trimEnd())
        .filter((c) => c.startsWith('#'));
    assert.deepEqual(comments(out), comments(text));
  });

  it('leaves lines with errors alone except trailing whitespace', () => {
    assert.equal(fmt('rms   foo=  1   \nrun'), 'rms   foo=  1\nrun');
  });

  it('is idempotent', () => {
    const text = 'kernel v6.4\nvm vendor=amd  nested=on\ncr0= PE|pg # c\ncr4 |=pae   # d\nrun';
    const once = fmt(text);
    assert.equal(fmt(once), once);
  });
});

/** What a document means, line by line: every diagnostic, statement and model step, without columns. */
function meaning(text: string): string[] {
  const a = analyze(text);
  const out: string[] = [`kernel ${a.kernel.label}`, `vm ${JSON.stringify(a.vm)}`];
  for (const d of a.diagnostics) out.push(`L${d.span.line} ${d.severity} ${d.code} ${d.message}`);
  for (const s of a.steps)
    out.push(`L${s.line} vcpu${s.vcpu} ${s.result.outcome} ${s.result.summary} ${JSON.stringify(s.result.actions)}`);
  out.push(`expect ${a.expectations.passed}/${a.expectations.failed}`, JSON.stringify(a.final));
  return out;
}

describe('features/format over the fuzz corpus', () => {
  const corpus = fuzzCorpus(16, 400);

  it('never changes what a document means, and formats it once for all (idempotent)', () => {
    for (const { name, text } of corpus) {
      const once = fmt(text);
      assert.deepEqual(meaning(once), meaning(text), `${name} changed meaning:\n${JSON.stringify(text)}`);
      assert.equal(fmt(once), once, `${name} is not idempotent:\n${JSON.stringify(text)}`);
      assert.equal(splitLines(once).length, splitLines(text).length, `${name} changed its line count`);
    }
  });

  it('keeps an invalid Unicode space at the end of a line (the error and its cause)', () => {
    for (const ch of UNICODE_SPACES) {
      const text = `run${ch}\nrun # note${ch}`;
      const out = fmt(text);
      assert.ok(out.startsWith(`run${ch}\n`), `U+${ch.charCodeAt(0).toString(16)} deleted: ${JSON.stringify(out)}`);
      assert.deepEqual(meaning(out), meaning(text));
    }
  });

  it('keeps a byte-order mark, formatting line 1 after it', () => {
    assert.equal(fmt('\ufeffkernel   v6.3  \ncr0=pe|pg'), '\ufeffkernel v6.3\ncr0 = PE|PG');
    assert.equal(fmt('\ufeff  # c  \n'), '\ufeff  # c\n');
  });

  it('keeps each line break as it was (a lone \\r is a line break too)', () => {
    assert.equal(fmt('run  \r\nsmi \rrsm\n'), 'run\r\nsmi\rrsm\n');
  });
});

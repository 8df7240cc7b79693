import { strict as assert } from 'node:assert';
import { formatText } from '../../src/features/format.js';
import { parse } from '../../src/syntax/parser.js';

const fmt = (text: string): string => formatText(parse(text), text);

describe('features/format', () => {
  it('spaces statements canonically and upper-cases flags', () => {
    assert.equal(fmt('cr0=pe|pg'), 'cr0 = PE|PG');
    assert.equal(fmt('cr0   &=  ~wp'), 'cr0 &= ~WP');
    assert.equal(fmt('emulate   cr3=0x2000   pcid=1'), 'emulate cr3 = 0x2000 pcid=1');
    assert.equal(fmt('sregs  cr0=PE|pg   cr4=pae'), 'sregs cr0=PE|PG cr4=PAE');
    assert.equal(fmt('vcpu 0 :  smi'), 'vcpu 0: smi');
    assert.equal(fmt('expect  roots.live==2'), 'expect roots.live == 2');
    assert.equal(fmt('kernel   v6.3    +tdp_mmu_root_ref'), 'kernel v6.3 +tdp_mmu_root_ref');
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

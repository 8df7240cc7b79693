import assert from 'node:assert/strict';
import type { ModelOp } from '../../src/kernel/types.js';
import type { Diagnostic, Statement } from '../../src/syntax/ast.js';
import { parse, parseLine } from '../../src/syntax/parser.js';

/** The statement of a line that must parse cleanly. */
function ok(text: string): Statement {
  const l = parseLine(text, 0);
  assert.deepEqual(l.diagnostics, [], `unexpected diagnostics for ${JSON.stringify(text)}`);
  assert.ok(l.statement, `no statement for ${JSON.stringify(text)}`);
  return l.statement;
}

function op(text: string): ModelOp {
  const s = ok(text);
  assert.equal(s.kind, 'event');
  return s.op;
}

/** The single diagnostic of a line that must fail, as [code, start, end, message]. */
function bad(text: string): [string, number, number, string] {
  const l = parseLine(text, 7);
  assert.equal(l.statement, undefined, `a statement was produced for ${JSON.stringify(text)}`);
  assert.equal(l.diagnostics.length, 1, `expected one diagnostic, got ${JSON.stringify(l.diagnostics)}`);
  const d = l.diagnostics[0] as Diagnostic;
  assert.equal(d.span.line, 7);
  assert.equal(d.severity, 'error');
  return [d.code, d.span.start, d.span.end, d.message];
}

describe('syntax/parser', () => {
  describe('lines', () => {
    it('splits on \\n, \\r\\n and \\r, one ParsedLine per line', () => {
      const r = parse('run\r\nsmi\rrsm\n\ninit');
      assert.equal(r.lines.length, 5);
      assert.deepEqual(
        r.statements.map((s) => [s.span.line, s.kind === 'event' ? s.keyword : s.kind]),
        [
          [0, 'run'],
          [1, 'smi'],
          [2, 'rsm'],
          [4, 'init'],
        ],
      );
      assert.equal(parse('').lines.length, 1);
      assert.equal(parse('run\n').lines.length, 2);
    });

    it('records comments and content spans; blank and comment lines have no statement', () => {
      const r = parse('  # only a comment\n\n   smi   # enter SMM  ');
      assert.deepEqual(r.lines[0]!.comment, { line: 0, start: 2, end: 18 });
      assert.equal(r.lines[0]!.content, undefined);
      assert.equal(r.lines[0]!.statement, undefined);
      assert.equal(r.lines[1]!.content, undefined);
      assert.deepEqual(r.lines[2]!.content, { line: 2, start: 3, end: 6 });
      assert.deepEqual(r.lines[2]!.statement!.span, { line: 2, start: 3, end: 6 });
      assert.deepEqual(r.lines[2]!.comment, { line: 2, start: 9, end: 22 });
      assert.deepEqual(r.diagnostics, []);
    });

    it('collects every line’s diagnostics, not only the first', () => {
      const r = parse('rms\nsmi\nrnu\n');
      assert.deepEqual(
        r.diagnostics.map((d) => [d.span.line, d.code]),
        [
          [0, 'unknown-event'],
          [2, 'unknown-event'],
        ],
      );
      assert.equal(r.statements.length, 1);
    });
  });

  describe('register writes', () => {
    it('cr0 = flags, |=, &= ~flag', () => {
      assert.deepEqual(op('cr0 = PE|PG|WP'), {
        op: 'write_cr',
        reg: 'cr0',
        mode: '=',
        value: 0x80010001n,
        emulate: false,
      });
      assert.deepEqual(op('cr0 |= WP'), { op: 'write_cr', reg: 'cr0', mode: '|=', value: 0x10000n, emulate: false });
      assert.deepEqual(op('cr0 &= ~WP'), {
        op: 'write_cr',
        reg: 'cr0',
        mode: '&=',
        value: 0xffff_ffff_fffe_ffffn,
        emulate: false,
      });
    });

    it('&= keeps the given bits; ~ applies to the whole list, with or without parentheses', () => {
      assert.deepEqual(op('cr0 &= 0x80000001'), {
        op: 'write_cr',
        reg: 'cr0',
        mode: '&=',
        value: 0x80000001n,
        emulate: false,
      });
      const clearBoth = 0xffff_ffff_ffff_ffffn & ~0x80010000n;
      assert.equal((op('cr0 &= ~WP|PG') as { value: bigint }).value, clearBoth);
      assert.equal((op('cr0 &= ~(WP|PG)') as { value: bigint }).value, clearBoth);
    });

    it('flags are case-insensitive, numbers and 0 are allowed, and mix with flags', () => {
      assert.equal((op('cr4 = pae|La57|PCIDE') as { value: bigint }).value, (1n << 5n) | (1n << 12n) | (1n << 17n));
      assert.equal((op('cr0 = 0x80000011') as { value: bigint }).value, 0x80000011n);
      assert.equal((op('cr0 = 0') as { value: bigint }).value, 0n);
      assert.equal((op('efer = LME|0x400|NX') as { value: bigint }).value, 0xd00n);
      assert.equal((op('cr0=PE|PG') as { value: bigint }).value, 0x80000001n);
    });

    it('efer and emulate', () => {
      assert.deepEqual(op('efer = LME|LMA|NX'), {
        op: 'write_cr',
        reg: 'efer',
        mode: '=',
        value: 0xd00n,
        emulate: false,
      });
      assert.deepEqual(op('emulate cr4 |= PGE'), {
        op: 'write_cr',
        reg: 'cr4',
        mode: '|=',
        value: 0x80n,
        emulate: true,
      });
      const s = ok('emulate cr3 = 0x2000');
      assert.equal(s.kind === 'event' && s.keyword, 'cr3');
      assert.deepEqual(s.kind === 'event' && s.keywordSpan, { line: 0, start: 8, end: 11 });
      assert.deepEqual(s.span, { line: 0, start: 0, end: 20 });
    });

    it('cr3 with pcid and noflush', () => {
      assert.deepEqual(op('cr3 = 0x1000 pcid=1 noflush'), {
        op: 'write_cr3',
        value: 0x1001n,
        noflush: true,
        emulate: false,
      });
      assert.deepEqual(op('cr3 = 0x1000'), { op: 'write_cr3', value: 0x1000n, noflush: false, emulate: false });
      assert.deepEqual(op('cr3 = 0x1_0000 pcid=4095'), {
        op: 'write_cr3',
        value: 0x10fffn,
        noflush: false,
        emulate: false,
      });
      // Bit 63 in the number is the no-flush bit.
      assert.deepEqual(op('cr3 = 0x8000000000003000'), {
        op: 'write_cr3',
        value: 0x3000n,
        noflush: true,
        emulate: false,
      });
    });

    it('register write errors', () => {
      assert.deepEqual(bad('cr4 = WP'), ['wrong-register-flag', 6, 8, 'WP is a CR0 flag, not a CR4 flag']);
      assert.deepEqual(bad('cr0 |= LMA'), ['wrong-register-flag', 7, 10, 'LMA is a EFER flag, not a CR0 flag']);
      assert.deepEqual(bad('cr0 = PE|PX'), ['unknown-flag', 9, 11, 'unknown CR0 flag `PX`, did you mean `PE`?']);
      assert.deepEqual(bad('cr0 = PE|QQQQQ'), ['unknown-flag', 9, 14, 'unknown CR0 flag `QQQQQ`']);
      assert.deepEqual(bad('cr0 = ~WP'), [
        'bad-complement',
        6,
        7,
        '`~` is only meaningful after `&=` (e.g. `cr0 &= ~WP`)',
      ]);
      assert.deepEqual(bad('cr0 == WP'), [
        'bad-assignment',
        4,
        6,
        'expected `=`, `|=` or `&=` after `cr0`, found `==`',
      ]);
      assert.deepEqual(bad('cr0'), ['missing-value', 0, 3, 'expected `=`, `|=` or `&=` after `cr0`']);
      assert.deepEqual(bad('cr0 = PE|'), ['missing-value', 8, 9, 'expected CR0 flags or a number']);
      assert.deepEqual(bad('cr0 &= ~(WP'), ['unbalanced-parenthesis', 8, 9, 'expected `)`']);
      assert.deepEqual(bad('cr3 |= 0x1000'), [
        'bad-assignment',
        4,
        6,
        'CR3 can only be assigned: `cr3 = 0x1000 [pcid=N] [noflush]`',
      ]);
      assert.deepEqual(bad('cr3 = 0x1001 pcid=1'), [
        'cr3-low-bits',
        6,
        12,
        'with `pcid=`, the CR3 value must have bits 11:0 clear (they hold the PCID)',
      ]);
      assert.deepEqual(bad('cr3 = 0x1000 pcid=4096'), [
        'value-out-of-range',
        18,
        22,
        '`pcid` must be at most 4095, not 4096',
      ]);
      assert.deepEqual(bad('cr3 = 0x1000 noflsh'), [
        'unknown-option',
        13,
        19,
        'unknown option `noflsh`, did you mean `noflush`?',
      ]);
      assert.deepEqual(bad('cr3 = 0x1000 pcid=1 pcid=2'), ['duplicate-option', 20, 24, '`pcid` is given twice']);
      assert.deepEqual(bad('cr3 = 0x1000 pcid = 1'), [
        'expected-equals',
        18,
        19,
        'expected `pcid=VALUE` (no spaces around `=`)',
      ]);
      assert.deepEqual(bad('emulate smi'), [
        'emulate-needs-register',
        8,
        11,
        '`emulate` must be followed by a register write (`cr0`, `cr3`, `cr4`, `efer`) or `write GPA BYTES`',
      ]);
    });

    it('a did-you-mean comes with a fix replacing exactly the word', () => {
      const l = parseLine('cr4 = PAE|LA75', 3);
      const d = l.diagnostics[0]!;
      assert.equal(d.message, 'unknown CR4 flag `LA75`, did you mean `LA57`?');
      assert.deepEqual(d.fix, {
        title: 'Change to `LA57`',
        edits: [{ span: { line: 3, start: 10, end: 14 }, newText: 'LA57' }],
      });
    });
  });

  describe('events', () => {
    it('bare events', () => {
      for (const e of ['run', 'smi', 'rsm', 'init', 'vmexit'] as const) assert.deepEqual(op(e), { op: e });
      assert.deepEqual(op('destroy vcpu'), { op: 'destroy_vcpu' });
      assert.deepEqual(op('destroy vm'), { op: 'destroy_vm' });
    });

    it('sregs with any subset of registers', () => {
      assert.deepEqual(op('sregs cr0=PE|PG cr4=PAE efer=LME|LMA cr3=0x2000'), {
        op: 'sregs',
        cr0: 0x80000001n,
        cr4: 0x20n,
        efer: 0x500n,
        cr3: 0x2000n,
      });
      assert.deepEqual(op('sregs cr4=0'), { op: 'sregs', cr4: 0n });
      assert.deepEqual(bad('sregs'), [
        'missing-value',
        0,
        5,
        '`sregs` needs at least one of `cr0=`, `cr3=`, `cr4=`, `efer=`',
      ]);
      assert.deepEqual(bad('sregs cr4=WP'), ['wrong-register-flag', 10, 12, 'WP is a CR0 flag, not a CR4 flag']);
      assert.deepEqual(bad('sregs cr5=0'), ['unknown-option', 6, 9, 'unknown option `cr5`, did you mean `cr0`?']);
    });

    it('invpcid types and their options', () => {
      assert.deepEqual(op('invpcid single pcid=1'), { op: 'invpcid', type: 'single', pcid: 1, addr: 0n });
      assert.deepEqual(op('invpcid addr pcid=2 addr=0x7000'), { op: 'invpcid', type: 'addr', pcid: 2, addr: 0x7000n });
      assert.deepEqual(op('invpcid all'), { op: 'invpcid', type: 'all', pcid: 0, addr: 0n });
      assert.deepEqual(op('invpcid all-global'), { op: 'invpcid', type: 'all-global', pcid: 0, addr: 0n });
      assert.deepEqual(bad('invpcid single'), ['missing-value', 8, 14, '`invpcid single` needs `pcid=N`']);
      assert.deepEqual(bad('invpcid addr pcid=1'), ['missing-value', 8, 12, '`invpcid addr` needs `addr=X`']);
      assert.deepEqual(bad('invpcid all pcid=1'), ['unused-option', 12, 18, '`invpcid all` takes no `pcid=`']);
      assert.deepEqual(bad('invpcid singel pcid=1'), [
        'bad-value',
        8,
        14,
        'unknown word `singel`, did you mean `single`?',
      ]);
      assert.deepEqual(bad('invpcid'), ['missing-value', 0, 7, 'expected `addr`, `single`, `all` or `all-global`']);
    });

    it('invlpg, invept, invvpid, memslot, cpuid, decode', () => {
      assert.deepEqual(op('invlpg 0x7000'), { op: 'invlpg', addr: 0x7000n });
      assert.deepEqual(op('invept single 0x501e'), { op: 'invept', type: 'single', eptp: 0x501en });
      assert.deepEqual(op('invept global'), { op: 'invept', type: 'global', eptp: 0n });
      assert.deepEqual(op('invvpid single vpid=1'), { op: 'invvpid', type: 'single', vpid: 1 });
      assert.deepEqual(op('invvpid all'), { op: 'invvpid', type: 'all', vpid: 0 });
      assert.deepEqual(op('memslot delete 1'), { op: 'memslot', action: 'delete', slot: 1 });
      assert.deepEqual(op('memslot move 1'), { op: 'memslot', action: 'move', slot: 1 });
      assert.deepEqual(op('memslot create 2'), { op: 'memslot', action: 'create', slot: 2 });
      assert.deepEqual(op('cpuid maxphyaddr=52'), { op: 'cpuid', maxphyaddr: 52 });
      const d = ok('decode role 0x000b04');
      assert.equal(d.kind, 'decode');
      assert.deepEqual(d.kind === 'decode' && [d.what, d.word, d.wordSpan], [
        'role',
        0xb04n,
        { line: 0, start: 12, end: 20 },
      ]);
      const c = ok('decode cpu_role 0xffff_ffff_0000_0b04');
      assert.deepEqual(c.kind === 'decode' && [c.what, c.word], ['cpu_role', 0xffff_ffff_0000_0b04n]);
    });

    it('event errors', () => {
      assert.deepEqual(bad('invlpg'), ['missing-value', 0, 6, 'expected an address']);
      assert.deepEqual(bad('invlpg foo'), ['expected-number', 7, 10, 'expected an address, found `foo`']);
      assert.deepEqual(bad('invept single'), ['missing-value', 7, 13, 'expected the EPTP to invalidate']);
      assert.deepEqual(bad('invvpid single'), ['missing-value', 8, 14, '`invvpid single` needs `vpid=N`']);
      assert.deepEqual(bad('invvpid single vpid=65536'), [
        'value-out-of-range',
        20,
        25,
        '`vpid` must be at most 65535, not 65536',
      ]);
      assert.deepEqual(bad('memslot delete 40000'), [
        'value-out-of-range',
        15,
        20,
        'a memslot id must be at most 32767, not 40000',
      ]);
      assert.deepEqual(bad('memslot remove 1'), ['bad-value', 8, 14, 'unknown word `remove`, did you mean `move`?']);
      assert.deepEqual(bad('cpuid maxphyaddr=53'), [
        'value-out-of-range',
        17,
        19,
        '`maxphyaddr` must be in 32..52, not 53',
      ]);
      assert.deepEqual(bad('cpuid'), [
        'missing-value',
        0,
        5,
        'cpuid needs `maxphyaddr=N` or a feature (`pku=`, `la57=`, `pcid=`, `nx=`, `smep=`, `smap=`)',
      ]);
      assert.deepEqual(bad('destroy vcpus'), ['bad-value', 8, 13, 'unknown word `vcpus`, did you mean `vcpu`?']);
      assert.deepEqual(bad('decode role 0x1_0000_0000'), [
        'number-out-of-range',
        12,
        25,
        'a page role (kvm_mmu_page_role) is 32 bits',
      ]);
      assert.deepEqual(bad('decode rol 1'), ['bad-value', 7, 10, 'unknown word `rol`, did you mean `role`?']);
    });

    it('notifier unmap takes a non-empty gfn range', () => {
      assert.deepEqual(op('notifier unmap 0x1000..0x2000'), { op: 'notifier_unmap', start: 0x1000n, end: 0x2000n });
      assert.deepEqual(op('notifier unmap 1 .. 2'), { op: 'notifier_unmap', start: 1n, end: 2n });
      assert.deepEqual(bad('notifier unmap 0x2000..0x1000'), [
        'empty-range',
        15,
        29,
        'the gfn range is empty: START must be below END (END is exclusive)',
      ]);
      assert.deepEqual(bad('notifier unmap 0x1000'), ['expected-range', 15, 21, 'expected a gfn range `START..END`']);
      assert.deepEqual(bad('notifier map 1..2'), ['bad-value', 9, 12, 'unknown word `map` (expected `unmap`)']);
    });

    it('nr_mmu_pages, nx_huge_pages and mmio_gen wrap', () => {
      assert.deepEqual(op('nr_mmu_pages 64'), { op: 'set_nr_mmu_pages', pages: 64 });
      assert.deepEqual(op('nr_mmu_pages 0x1000'), { op: 'set_nr_mmu_pages', pages: 4096 });
      assert.deepEqual(op('nx_huge_pages on'), { op: 'nx_huge_pages', on: true });
      assert.deepEqual(op('nx_huge_pages off'), { op: 'nx_huge_pages', on: false });
      assert.deepEqual(op('mmio_gen wrap'), { op: 'mmio_gen_wrap' });
      assert.deepEqual(bad('nr_mmu_pages'), ['missing-value', 0, 12, 'expected a number of shadow pages']);
      assert.deepEqual(bad('nr_mmu_pages 0x1_0000_0000'), [
        'value-out-of-range',
        13,
        26,
        'a number of shadow pages must be at most 4294967295, not 0x1_0000_0000',
      ]);
      assert.deepEqual(bad('nr_mmu_pages 64 128'), [
        'unexpected-token',
        16,
        19,
        'unexpected `128` at the end of the statement',
      ]);
      assert.deepEqual(bad('nx_huge_pages yes'), [
        'bad-value',
        14,
        17,
        'expected `on` or `off`, not `yes`: write `on`',
      ]);
      assert.deepEqual(bad('nx_huge_pages'), ['missing-value', 0, 13, 'expected `on` or `off`']);
      assert.deepEqual(bad('mmio_gen warp'), ['bad-value', 9, 13, 'unknown word `warp`, did you mean `wrap`?']);
    });

    it('vmenter for EPT and NPT', () => {
      assert.deepEqual(op('vmenter ept=on eptp=0x501e cr0=PE|PG cr4=PAE efer=LME|LMA cr3=0x9000 vpid=3'), {
        op: 'vmenter',
        ept: true,
        eptp: 0x501en,
        npt: false,
        ncr3: 0n,
        cr0: 0x80000001n,
        cr4: 0x20n,
        efer: 0x500n,
        cr3: 0x9000n,
        vpid: 3,
      });
      assert.deepEqual(op('vmenter npt=on ncr3=0x4000'), {
        op: 'vmenter',
        ept: false,
        eptp: 0n,
        npt: true,
        ncr3: 0x4000n,
        vpid: 0,
      });
      assert.deepEqual(op('vmenter'), { op: 'vmenter', ept: false, eptp: 0n, npt: false, ncr3: 0n, vpid: 0 });
      assert.deepEqual(bad('vmenter ept=on'), [
        'missing-value',
        8,
        14,
        '`ept=on` needs `eptp=` (the EPTP L1 writes to vmcs12)',
      ]);
      assert.deepEqual(bad('vmenter npt=on'), [
        'missing-value',
        8,
        14,
        '`npt=on` needs `ncr3=` (the nested CR3 L1 writes to vmcb12)',
      ]);
      assert.deepEqual(bad('vmenter eptp=0x501e'), ['unused-option', 8, 19, '`eptp=` has no effect without `ept=on`']);
      assert.deepEqual(bad('vmenter ept=yes eptp=1'), [
        'bad-value',
        12,
        15,
        '`ept` takes `on` or `off`, not `yes`: write `on`',
      ]);
      assert.deepEqual(bad('vmenter ept=on eptp=1 npt=on ncr3=1'), [
        'conflicting-options',
        22,
        28,
        '`ept=on` and `npt=on` exclude each other (EPT is Intel, NPT is AMD)',
      ]);
    });

    it('unknown events get a suggestion and a fix', () => {
      const l = parseLine('rms', 0);
      assert.equal(l.diagnostics[0]!.message, 'unknown event `rms`, did you mean `rsm`?');
      assert.equal(l.diagnostics[0]!.code, 'unknown-event');
      assert.deepEqual(l.diagnostics[0]!.fix?.edits, [{ span: { line: 0, start: 0, end: 3 }, newText: 'rsm' }]);
      assert.deepEqual(l.keyword, { name: 'rms', span: { line: 0, start: 0, end: 3 } });
      assert.deepEqual(bad('CR0 = PE'), ['unknown-event', 0, 3, 'unknown event `CR0`, did you mean `cr0`?']);
      assert.deepEqual(bad('frobnicate'), ['unknown-event', 0, 10, 'unknown event `frobnicate`']);
      assert.deepEqual(bad('= 3'), ['expected-statement', 0, 1, 'expected a statement, found `=`']);
    });

    it('extra trailing tokens are reported on exactly those tokens', () => {
      assert.deepEqual(bad('smi now'), ['unexpected-token', 4, 7, 'unexpected `now` at the end of the statement']);
      assert.deepEqual(bad('run  1 2  3 # c'), [
        'unexpected-token',
        5,
        11,
        'unexpected tokens at the end of the statement',
      ]);
      assert.deepEqual(bad('invlpg 0x7000 0x8000'), [
        'unexpected-token',
        14,
        20,
        'unexpected `0x8000` at the end of the statement',
      ]);
      assert.deepEqual(bad('invpcid single pcid=1 extra junk'), [
        'unexpected-token',
        22,
        32,
        'unexpected tokens at the end of the statement',
      ]);
      assert.deepEqual(bad('vcpu 1 2'), ['unexpected-token', 7, 8, 'unexpected `2` at the end of the statement']);
    });
  });

  describe('numbers', () => {
    it('decimal, hex, separators, 64 bits', () => {
      assert.equal((op('invlpg 1_000') as { addr: bigint }).addr, 1000n);
      assert.equal((op('invlpg 0xFFFF_FFFF_FFFF_FFFF') as { addr: bigint }).addr, (1n << 64n) - 1n);
      assert.equal((op('invlpg 18446744073709551615') as { addr: bigint }).addr, (1n << 64n) - 1n);
      assert.equal((op('invlpg 0x0000000000000000000001') as { addr: bigint }).addr, 1n);
    });

    it('out of range and malformed numbers', () => {
      assert.deepEqual(bad('invlpg 0x1_0000_0000_0000_0000'), [
        'number-out-of-range',
        7,
        30,
        '`0x1_0000_0000_0000_0000` does not fit in 64 bits',
      ]);
      assert.deepEqual(bad('invlpg 18446744073709551616'), [
        'number-out-of-range',
        7,
        27,
        '`18446744073709551616` does not fit in 64 bits',
      ]);
      for (const n of ['0x', '1__0', '1_', '12ab', '0xg1', '0_x1']) {
        const [code, start, end] = bad(`invlpg ${n}`);
        assert.deepEqual([code, start, end], ['bad-number', 7, 7 + n.length], n);
      }
    });

    it('invalid characters', () => {
      assert.deepEqual(bad('smi $'), ['invalid-character', 4, 5, 'unexpected character `$`']);
      assert.deepEqual(bad('cr0 = PÉ'), ['invalid-character', 7, 8, 'unexpected character `É`']);
      const l = parseLine('run 😀😀', 0);
      assert.deepEqual(l.diagnostics[0]!.span, { line: 0, start: 4, end: 8 });
    });
  });

  describe('header, vcpu, expect', () => {
    it('kernel with modifications', () => {
      const s = ok('kernel v6.3 +tdp_mmu_root_ref -invept_precise');
      assert.equal(s.kind, 'kernel');
      if (s.kind !== 'kernel') return;
      assert.deepEqual(s.profile, { name: 'v6.3', span: { line: 0, start: 7, end: 11 } });
      assert.deepEqual(s.mods, [
        { sign: '+', name: 'tdp_mmu_root_ref', span: { line: 0, start: 12, end: 29 } },
        { sign: '-', name: 'invept_precise', span: { line: 0, start: 30, end: 45 } },
      ]);
      assert.deepEqual(bad('kernel'), ['missing-profile', 0, 6, 'expected a kernel profile, e.g. `kernel v6.3`']);
      assert.deepEqual(bad('kernel v6.3 tdp_mmu_root_ref'), [
        'bad-kernel-mod',
        12,
        28,
        'expected `+behaviour` or `-behaviour`',
      ]);
      assert.deepEqual(bad('kernel v6.3 + x'), ['bad-kernel-mod', 12, 13, 'expected `+behaviour` or `-behaviour`']);
    });

    it('vm settings keep spans; values are validated', () => {
      const s = ok(
        'vm vendor=amd tdp=on tdp_mmu=off max_tdp_level=5 maxphyaddr=52 vcpus=2 nested=on ad=off slot_zap_all=off',
      );
      assert.equal(s.kind, 'vm');
      if (s.kind !== 'vm') return;
      assert.deepEqual(
        s.settings.map((x) => [x.key, x.value]),
        [
          ['vendor', 'amd'],
          ['tdp', 'on'],
          ['tdp_mmu', 'off'],
          ['max_tdp_level', '5'],
          ['maxphyaddr', '52'],
          ['vcpus', '2'],
          ['nested', 'on'],
          ['ad', 'off'],
          ['slot_zap_all', 'off'],
        ],
      );
      assert.deepEqual(s.settings[0]!.keySpan, { line: 0, start: 3, end: 9 });
      assert.deepEqual(s.settings[0]!.valueSpan, { line: 0, start: 10, end: 13 });
      assert.deepEqual(s.settings[0]!.span, { line: 0, start: 3, end: 13 });
      assert.deepEqual(bad('vm vendr=amd'), ['unknown-option', 3, 8, 'unknown option `vendr`, did you mean `vendor`?']);
      assert.deepEqual(bad('vm vendor=arm'), [
        'bad-value',
        10,
        13,
        'unknown value for `vendor` `arm` (expected `intel` or `amd`)',
      ]);
      assert.deepEqual(bad('vm vcpus=65'), ['value-out-of-range', 9, 11, '`vcpus` must be in 1..64, not 65']);
      assert.deepEqual(bad('vm vcpus=0'), ['value-out-of-range', 9, 10, '`vcpus` must be in 1..64, not 0']);
      assert.deepEqual(bad('vm max_tdp_level=3'), [
        'value-out-of-range',
        17,
        18,
        '`max_tdp_level` must be in 4..5, not 3',
      ]);
      assert.deepEqual(bad('vm maxphyaddr=31'), [
        'value-out-of-range',
        14,
        16,
        '`maxphyaddr` must be in 32..52, not 31',
      ]);
      assert.deepEqual(bad('vm tdp=on tdp=off'), ['duplicate-option', 10, 13, '`tdp` is given twice']);
      assert.deepEqual(bad('vm tdp='), ['missing-value', 6, 7, 'expected a value right after `tdp=`']);
    });

    it('a vm line with a bad setting keeps the good ones (recovered), and its errors', () => {
      const l = parseLine('vm vendor=intel tdp_mmu=yes vcpus=4 nested=maybe ad=off', 0);
      assert.equal(l.statement, undefined);
      assert.deepEqual(
        l.recovered?.settings.map((x) => [x.key, x.value]),
        [
          ['vendor', 'intel'],
          ['vcpus', '4'],
          ['ad', 'off'],
        ],
      );
      assert.deepEqual(
        l.diagnostics.map((d) => [d.code, d.span.start, d.span.end]),
        [
          ['bad-value', 24, 27],
          ['bad-value', 43, 48],
        ],
      );
      // Only `vm` lines are recovered: anything else with an error is no statement at all.
      assert.equal(parseLine('sregs cr0=PE|PG cr4=bogus', 0).recovered, undefined);
    });

    it('yes/no/true/false for on/off get a fix writing on/off', () => {
      const cases: [string, string][] = [
        ['vm tdp_mmu=yes', 'on'],
        ['vm nested=true', 'on'],
        ['vm ad=no', 'off'],
        ['vm tdp=false', 'off'],
        ['vm slot_zap_all=0', 'off'],
        ['vmenter ept=yes', 'on'],
      ];
      for (const [text, meant] of cases) {
        const d = parseLine(text, 0).diagnostics[0]!;
        assert.equal(d.code, 'bad-value', text);
        assert.match(d.message, new RegExp(`write \`${meant}\``), text);
        const value = text.slice(text.indexOf('=') + 1);
        assert.deepEqual(d.fix?.edits, [
          {
            span: { line: 0, start: text.indexOf('=') + 1, end: text.indexOf('=') + 1 + value.length },
            newText: meant,
          },
        ]);
      }
    });

    it('a flag on the wrong register gets a fix moving it to its register', () => {
      const fixed = (text: string): string | undefined => {
        const d = parseLine(text, 0).diagnostics.find((x) => x.code === 'wrong-register-flag');
        assert.ok(d, text);
        if (!d.fix) return undefined;
        let out = text;
        for (const e of [...d.fix.edits].reverse())
          out = out.slice(0, e.span.start) + e.newText + out.slice(e.span.end);
        return out;
      };
      assert.equal(fixed('sregs cr0=PE|PG cr4=PAE|WP'), 'sregs cr0=PE|PG|WP cr4=PAE');
      assert.equal(fixed('sregs cr4=WP|PAE cr0=PE|PG efer=LME'), 'sregs cr4=PAE cr0=PE|PG|WP efer=LME');
      assert.equal(fixed('sregs cr0=PE|PG cr4=WP efer=LME'), 'sregs cr0=PE|PG|WP efer=LME');
      assert.equal(
        fixed('vmenter ept=on cr0=PE|PG cr4=PAE|LME efer=NX'),
        'vmenter ept=on cr0=PE|PG cr4=PAE efer=NX|LME',
      );
      assert.equal(fixed('cr4 |= WP'), 'cr0 |= WP');
      assert.equal(fixed('vcpu 1: cr4 &= ~WP'), 'vcpu 1: cr0 &= ~WP');
      // No CR0 on the line to move it to, or a `=` write (`cr0 = WP` would clear PE and PG): no fix, the message says it.
      assert.equal(fixed('sregs cr4=PAE|WP'), undefined);
      assert.equal(fixed('cr4 = WP'), undefined);
      for (const text of ['sregs cr0=PE|PG cr4=PAE|WP', 'cr4 |= WP']) assert.ok(ok(fixed(text)!));
    });

    it('vcpu switch and prefix', () => {
      const s = ok('vcpu 1');
      assert.deepEqual(s.kind === 'vcpu' && [s.id, s.idSpan], [1, { line: 0, start: 5, end: 6 }]);
      const p = ok('vcpu 0: smi');
      assert.deepEqual(p.vcpuPrefix, { id: 0, span: { line: 0, start: 0, end: 7 } });
      assert.deepEqual(p.span, { line: 0, start: 0, end: 11 });
      assert.deepEqual(p.kind === 'event' && p.keywordSpan, { line: 0, start: 8, end: 11 });
      const q = ok('vcpu 2 : cr0 |= WP');
      assert.equal(q.vcpuPrefix?.id, 2);
      assert.deepEqual(bad('vcpu 0: kernel v6.3'), ['prefix-not-allowed', 8, 14, '`vcpu N:` cannot prefix `kernel`']);
      assert.deepEqual(bad('vcpu 0: vcpu 1'), ['prefix-not-allowed', 8, 12, '`vcpu N:` cannot prefix `vcpu`']);
      assert.deepEqual(bad('vcpu 0:'), ['missing-statement', 6, 7, 'expected a statement after `vcpu N:`']);
      assert.deepEqual(bad('vcpu'), ['missing-value', 0, 4, '`vcpu` needs a vCPU number, e.g. `vcpu 1`']);
      assert.deepEqual(bad('vcpu 64'), ['vcpu-out-of-range', 5, 7, 'vCPU 64 is out of range (0..63)']);
      assert.deepEqual(bad('vcpu x'), ['expected-number', 5, 6, 'expected a vCPU number, found `x`']);
    });

    it('a failed statement after a good prefix still records the prefix and keyword', () => {
      const l = parseLine('vcpu 1: rms', 0);
      assert.equal(l.statement, undefined);
      assert.deepEqual(l.vcpuPrefix, { id: 1, span: { line: 0, start: 0, end: 7 } });
      assert.equal(l.keyword?.name, 'rms');
    });

    it('expect PATH OP VALUE', () => {
      const s = ok('expect root.role.smm == 1');
      assert.equal(s.kind, 'expect');
      if (s.kind !== 'expect') return;
      assert.deepEqual([s.path, s.cmp, s.value], ['root.role.smm', '==', 1]);
      assert.deepEqual(s.pathSpan, { line: 0, start: 7, end: 20 });
      assert.deepEqual(s.valueSpan, { line: 0, start: 24, end: 25 });
      for (const cmp of ['==', '!=', '<', '<=', '>', '>='] as const) {
        const e = ok(`expect stats.roots_freed ${cmp} 3`);
        assert.equal(e.kind === 'expect' && e.cmp, cmp);
      }
      const t = ok('expect prev[0].id==0x10');
      assert.deepEqual(t.kind === 'expect' && [t.path, t.value], ['prev[0].id', 16]);
      const b = ok('expect root.role.smm != true');
      assert.equal(b.kind === 'expect' && b.value, 1);
      const f = ok('expect warnings == false');
      assert.equal(f.kind === 'expect' && f.value, 0);
      assert.deepEqual(bad('expect roots.live = 2'), [
        'bad-comparison',
        18,
        19,
        'expected `==`, `!=`, `<`, `<=`, `>` or `>=`, found `=`',
      ]);
      assert.deepEqual(bad('expect roots.live =='), [
        'missing-value',
        18,
        20,
        'expected a number or `true`/`false` after the comparison',
      ]);
      assert.deepEqual(bad('expect roots.live == null'), [
        'expected-number',
        21,
        25,
        'expected a number or `true`/`false`, found `null`',
      ]);
      assert.deepEqual(bad('expect prev[x].id == 1'), [
        'bad-path',
        7,
        17,
        '`prev[x].id` is not a path (dotted names with optional [N], e.g. `prev[0].id`)',
      ]);
      assert.deepEqual(bad('expect roots..live == 1'), [
        'bad-comparison',
        12,
        14,
        'expected `==`, `!=`, `<`, `<=`, `>` or `>=`, found `..`',
      ]);
      assert.deepEqual(bad('expect 3 == 3'), [
        'bad-path',
        7,
        8,
        '`3` is not a path (dotted names with optional [N], e.g. `prev[0].id`)',
      ]);
      assert.deepEqual(bad('expect roots.live == 9007199254740992'), [
        'number-out-of-range',
        21,
        37,
        'expected values are at most 2^53-1',
      ]);
    });
  });
});

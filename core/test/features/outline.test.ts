import { strict as assert } from 'node:assert';
import { documentSymbols, foldingRanges } from '../../src/features/outline.js';
import { parse } from '../../src/syntax/parser.js';
import { LineIndex } from '../../src/text/positions.js';

const TEXT = [
  '# two vCPUs, one nested', // 0
  '# entry',
  'kernel v6.4', // 2
  'vm nested=on vcpus=2',
  'vcpu 0', // 4
  'run',
  'vmenter ept=on eptp=0x501e',
  'run',
  'vmexit', // 8
  '',
  'vcpu 1', // 10
  'smi',
  'expect root.role.smm == 1', // 12
].join('\n');

describe('features/outline', () => {
  const lines = LineIndex.of(TEXT);
  const symbols = documentSymbols(parse(TEXT), lines);

  it('has a header, vCPU sections and nested entries', () => {
    assert.deepEqual(
      symbols.map((s) => [s.kind, s.name, s.range.startLine, s.range.endLine]),
      [
        ['header', 'header', 2, 3],
        ['vcpu', 'vCPU 0', 4, 8],
        ['vcpu', 'vCPU 1', 10, 12],
      ],
    );
    const v0 = symbols[1];
    assert.deepEqual(
      v0?.children.map((c) => [c.kind, c.name]),
      [
        ['event', 'run'],
        ['nested', 'L2 (nested guest)'],
      ],
    );
    assert.deepEqual(
      v0?.children[1]?.children.map((c) => c.name),
      ['run', 'vmexit'],
    );
  });

  it('folds vCPU sections, nested entries and comment blocks', () => {
    assert.deepEqual(
      foldingRanges(parse(TEXT), lines).map((f) => [f.startLine, f.endLine, f.kind]),
      [
        [0, 1, 'comment'],
        [2, 3, 'region'],
        [4, 8, 'region'],
        [6, 8, 'region'],
        [10, 12, 'region'],
      ],
    );
  });
});

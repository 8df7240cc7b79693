/**
 * A Parser keeps each clean event line's columns by text (EventLine) and builds a repeated line from them on its
 * own line number. A repeated line must parse exactly as it would fresh: same statement, same spans on its own
 * line, nothing shared that could carry one line's position into another; and one document's parser never
 * answers for another's.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser, parseLine as fresh } from '../../src/syntax/parser.js';

const examples = join(dirname(fileURLToPath(import.meta.url)), '../../../examples');

/** A deep copy of `v` with every span's line replaced by `line`. */
function onLine(v: unknown, line: number): unknown {
  if (typeof v !== 'object' || v === null || typeof v === 'bigint') return v;
  if (Array.isArray(v)) return v.map((x) => onLine(x, line));
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 3 && typeof o.line === 'number' && typeof o.start === 'number' && typeof o.end === 'number')
    return { line, start: o.start, end: o.end };
  return Object.fromEntries(keys.map((k) => [k, onLine(o[k], line)]));
}

function lines(): string[] {
  const out: string[] = [];
  for (const f of readdirSync(examples).filter((f) => f.endsWith('.kvmmu')))
    out.push(...readFileSync(join(examples, f), 'utf8').split('\n'));
  // Prefixes, comments, odd spacing and emulate: the shapes whose spans the parser shares or not.
  out.push(
    'vcpu 3: cr3 = 0x5000 pcid=1 noflush   # switch',
    '  run',
    'emulate cr0 &= ~WP',
    'vcpu 1:   emulate cr4 |= PCIDE',
    'smi#x',
  );
  return out;
}

describe('Parser: repeated event lines', () => {
  it('parses a repeated line exactly as a fresh one, on its own line', () => {
    const parser = new Parser();
    const parseLine = (text: string, line: number) => parser.line(text, line);
    const all = lines();
    assert.ok(all.length > 200);
    all.forEach((text, i) => {
      const first = parseLine(text, 100_000 + i); // fresh or from an earlier identical line
      const again = parseLine(text, i); // from the cache when it is an event line
      const third = parseLine(text, i + 1);
      assert.deepEqual(again, onLine(first, i), text);
      assert.deepEqual(again, fresh(text, i), text);
      assert.deepEqual(third, onLine(first, i + 1), text);
      assert.notEqual(again, first);
      if (again.statement && first.statement) {
        assert.notEqual(again.statement.span, first.statement.span);
        assert.equal(again.statement.span.line, i);
      }
    });
  });

  it('keeps each line its own spans', () => {
    const parser = new Parser();
    const a = parser.line('vcpu 2: run', 10);
    const b = parser.line('vcpu 2: run', 20);
    assert.equal(a.statement?.span.line, 10);
    assert.equal(b.statement?.span.line, 20);
    assert.equal(a.vcpuPrefix?.span.line, 10);
    assert.equal(b.statement?.vcpuPrefix?.span.line, 20);
    assert.equal(a.keyword?.span.line, 10);
    assert.equal(b.keyword?.span.line, 20);
  });

  it('keeps what it learnt per parser, by columns only', () => {
    const a = new Parser();
    const b = new Parser();
    assert.equal(a.known('vcpu 1: smi # x'), undefined);
    a.line('vcpu 1: smi # x', 7);
    const columns = a.known('vcpu 1: smi # x');
    assert.ok(columns);
    assert.equal(b.known('vcpu 1: smi # x'), undefined);
    // Columns, no line: nothing in the entry says which line it was first seen on.
    assert.ok(!JSON.stringify(columns, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)).includes('"line"'));
    assert.equal(a.line('vcpu 1: smi # x', 9).statement?.span.line, 9);
    // Lines with diagnostics are not kept.
    a.line('smi extra', 3);
    assert.equal(a.known('smi extra'), undefined);
  });
});

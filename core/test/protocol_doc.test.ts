/**
 * docs/protocol.md and core/src/protocol.ts agree: every request the module defines has a section in the page that
 * names each field of its params and result (and of the objects in them, one level down), and the page names no
 * `kvmmu/…` method the module lacks. The fields are read from the module's types with the TypeScript compiler, so
 * a field added to a type and not to the page fails here.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { REQUESTS } from '../src/protocol.js';

const MODULE = fileURLToPath(new URL('../src/protocol.ts', import.meta.url));
const DOC = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

interface Defined {
  /** The exported constant, e.g. TimelineRequest. */
  name: string;
  method: string;
  params: string[];
  result: string[];
}

/** The property names of a type and, one level down, of the object types in it (through arrays and null). */
function fieldsOf(checker: ts.TypeChecker, type: ts.Type, depth: number): string[] {
  const out: string[] = [];
  for (const t of type.isUnion() ? type.types : [type]) {
    if (!(t.flags & ts.TypeFlags.Object)) continue;
    if (checker.isArrayType(t) || checker.isTupleType(t)) {
      for (const e of checker.getTypeArguments(t as ts.TypeReference)) out.push(...fieldsOf(checker, e, depth));
      continue;
    }
    for (const p of checker.getPropertiesOfType(t)) {
      out.push(p.name);
      if (depth > 0) out.push(...fieldsOf(checker, checker.getNonNullableType(checker.getTypeOfSymbol(p)), depth - 1));
    }
  }
  return [...new Set(out)];
}

/** Every `export const X = defineRequest<P, R>('kvmmu/…')` in the module, with the fields of P and R. */
function definedRequests(): Defined[] {
  const program = ts.createProgram([MODULE], {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(MODULE);
  assert.ok(source, MODULE);
  const out: Defined[] = [];
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const d of statement.declarationList.declarations) {
      const init = d.initializer;
      if (!init || !ts.isCallExpression(init) || init.expression.getText(source) !== 'defineRequest') continue;
      const [p, r] = init.typeArguments ?? [];
      const [method] = init.arguments;
      assert.ok(p && r && method && ts.isStringLiteral(method), `${d.name.getText(source)}: defineRequest<P, R>('…')`);
      out.push({
        name: d.name.getText(source),
        method: method.text,
        params: fieldsOf(checker, checker.getTypeFromTypeNode(p), 1),
        result: fieldsOf(checker, checker.getTypeFromTypeNode(r), 1),
      });
    }
  }
  return out;
}

/** The page's `### \`kvmmu/…\`` sections: method → its text up to the next heading. */
function documented(doc: string): Map<string, string> {
  const sections = new Map<string, string>();
  const headings = [...doc.matchAll(/^#{2,3} .*$/gm)];
  headings.forEach((h, i) => {
    const m = /^### `(kvmmu\/[A-Za-z]+)`\s*$/.exec(h[0]);
    if (!m) return;
    const end = headings[i + 1]?.index ?? doc.length;
    sections.set(m[1]!, doc.slice(h.index, end));
  });
  return sections;
}

/** What the page and the module disagree on, one sentence each. */
export function disagreements(defined: readonly Defined[], doc: string): string[] {
  const problems: string[] = [];
  const sections = documented(doc);
  for (const d of defined) {
    const section = sections.get(d.method);
    if (!section) {
      problems.push(`${d.method} (${d.name}) has no section in docs/protocol.md`);
      continue;
    }
    for (const [what, fields] of [
      ['params', d.params],
      ['result', d.result],
    ] as const)
      for (const f of fields)
        if (!new RegExp(`\\b${f}\\b`).test(section))
          problems.push(`${d.method}: the ${what} field \`${f}\` is not in its section`);
  }
  const methods = new Set(defined.map((d) => d.method));
  for (const m of new Set([...doc.matchAll(/kvmmu\/[A-Za-z]+/g)].map((x) => x[0])))
    if (!methods.has(m)) problems.push(`docs/protocol.md names ${m}, which core/src/protocol.ts does not define`);
  return problems;
}

describe('docs/protocol.md and core/src/protocol.ts', function () {
  this.timeout(60_000);
  const defined = definedRequests();

  it('the module lists every request it defines in REQUESTS, each method once', () => {
    assert.deepEqual(defined.map((d) => d.method).sort(), REQUESTS.map((r) => r.method).sort());
    assert.equal(new Set(defined.map((d) => d.method)).size, defined.length);
    // The compiler found the types: a request with no fields at all would mean it read nothing.
    assert.deepEqual(defined.find((d) => d.method === 'kvmmu/stateAt')?.params, ['uri', 'line', 'kernel']);
    assert.ok(defined.find((d) => d.method === 'kvmmu/timeline')?.result.includes('steps'));
  });

  it('agree: every method and field documented, nothing documented that the code lacks', () => {
    assert.deepEqual(disagreements(defined, DOC), []);
  });

  it('would notice an undocumented request, a missing field or a stale method', () => {
    const extra: Defined = { name: 'NewRequest', method: 'kvmmu/new', params: ['uri'], result: ['uri'] };
    assert.deepEqual(disagreements([...defined, extra], DOC), [
      'kvmmu/new (NewRequest) has no section in docs/protocol.md',
    ]);
    const timeline = defined.find((d) => d.method === 'kvmmu/timeline')!;
    const widened = { ...timeline, result: [...timeline.result, 'frobnicated'] };
    assert.deepEqual(
      disagreements(
        defined.map((d) => (d === timeline ? widened : d)),
        DOC,
      ),
      ['kvmmu/timeline: the result field `frobnicated` is not in its section'],
    );
    assert.deepEqual(disagreements(defined, `${DOC}\n### \`kvmmu/gone\`\n`), [
      'docs/protocol.md names kvmmu/gone, which core/src/protocol.ts does not define',
    ]);
  });
});

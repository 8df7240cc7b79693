// The folder the e2e workbench opens: a fresh copy of examples/ (so tests may add scratch files without
// touching the checkout) and a manifest telling the tests which files and lines to use.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const STATEMENT = (keyword) => new RegExp(`^\\s*(?:vcpu\\s+\\d+\\s*:\\s*)?${keyword}\\b`);

function lineOf(lines, re) {
  const i = lines.findIndex((l) => re.test(l));
  return i < 0 ? null : i + 1;
}

function kvmmuFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.kvmmu'))
    .sort();
}

function describe(folder, file) {
  const lines = readFileSync(join(folder, file), 'utf8').split('\n');
  return {
    file,
    lines: lines.length,
    smiLine: lineOf(lines, STATEMENT('smi')),
    rsmLine: lineOf(lines, STATEMENT('rsm')),
    runLine: lineOf(lines, STATEMENT('run')),
    decodeLine: lineOf(lines, /^\s*decode\s+(?:role|cpu_role)\s+0x[0-9a-f_]+/i),
    expectLine: lineOf(lines, STATEMENT('expect')),
  };
}

/**
 * Copies examples/ to `<testDir>/examples` and adds `scratch/failing-expect.kvmmu` (a copy of the SMM
 * example with one expectation that cannot hold) and an empty `scratch/typed.kvmmu`. Returns the manifest the
 * tests read.
 */
export function prepareWorkspace(root, testDir) {
  const folder = join(testDir, 'examples');
  mkdirSync(folder, { recursive: true });
  if (existsSync(join(root, 'examples'))) cpSync(join(root, 'examples'), folder, { recursive: true });

  // The SMM example: the first example with both an `smi` and a later `rsm`, else the harness fixture.
  let smm = kvmmuFiles(folder)
    .map((f) => describe(folder, f))
    .find((d) => d.smiLine && d.rsmLine && d.rsmLine > d.smiLine);
  if (!smm) {
    mkdirSync(join(folder, 'e2e'), { recursive: true });
    cpSync(join(root, 'e2e', 'fixtures', 'smm-roundtrip.kvmmu'), join(folder, 'e2e', 'smm-roundtrip.kvmmu'));
    smm = describe(folder, 'e2e/smm-roundtrip.kvmmu');
  }

  // A role word to hover: the first `decode role 0x…` line of any example, else one added to the scratch file.
  const withDecode = kvmmuFiles(folder)
    .map((f) => describe(folder, f))
    .find((d) => d.decodeLine);

  const failing = 'scratch/failing-expect.kvmmu';
  const text = readFileSync(join(folder, smm.file), 'utf8').replace(/\n*$/, '\n');
  const failingLines = text.split('\n');
  failingLines.pop();
  failingLines.push('run', 'expect roots.live == 123456   # e2e: deliberately impossible');
  const failingLine = failingLines.length;
  failingLines.push('decode role 0x000b04');
  const scratchDecodeLine = failingLines.length;
  mkdirSync(join(folder, 'scratch'), { recursive: true });
  writeFileSync(join(folder, failing), failingLines.join('\n') + '\n');
  writeFileSync(join(folder, 'scratch', 'typed.kvmmu'), ''); // for typing a scenario line by line

  return {
    folder,
    smm,
    decode: withDecode
      ? { file: withDecode.file, line: withDecode.decodeLine }
      : { file: failing, line: scratchDecodeLine },
    failing: { file: failing, line: failingLine, text: 'expect roots.live == 123456' },
    files: kvmmuFiles(folder).map((f) => relative(folder, join(folder, f))),
  };
}

/**
 * What a VSIX user sees on the extension's details page: vsix/README.md (package.json `package` script,
 * `--readme-path`). Its images must be inside the package (absolute URLs do not load offline, and relative ones
 * to files left out are blank), its links must lead somewhere, and it must not tell a VSIX user to build the repo.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');
const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
const readme = read('vsix/README.md');
/** The files .vscodeignore lets into the package by name (`!path` lines). */
const allowed = new Set(
  read('.vscodeignore')
    .split('\n')
    .filter((l) => l.startsWith('!'))
    .map((l) => l.slice(1).trim()),
);

describe('the VSIX README (extension details page)', () => {
  it('is the README the package is built with', () => {
    assert.match(pkg.scripts['package'] ?? '', /--readme-path vsix\/README\.md/);
    // The repository README would collide with it (readme.md vs README.md) and speaks to developers.
    assert.ok(!allowed.has('README.md'));
  });

  it('shows images that are in the package, by relative path', () => {
    const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1] as string);
    assert.ok(images.length >= 2, 'the details page shows the extension at work');
    for (const image of images) {
      assert.doesNotMatch(image, /^[a-z]+:/i, `${image}: a remote image does not load offline`);
      assert.ok(existsSync(new URL(image, root)), `${image} does not exist`);
      assert.ok(allowed.has(image), `${image} is not packaged (.vscodeignore)`);
    }
  });

  it('has no link into files the package does not carry', () => {
    const links = [...readme.matchAll(/(?<!!)\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1] as string);
    for (const link of links) assert.ok(/^https:\/\//.test(link) || allowed.has(link), `dead link ${link}`);
  });

  it('does not tell a VSIX user to build the repository', () => {
    assert.doesNotMatch(readme, /npm (ci|install|run)|npx /);
  });
});

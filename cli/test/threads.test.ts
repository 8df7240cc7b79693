import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const threads = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '../src/threads.ts')).href;

/** Runs `lowerHelperThreads` in a fresh process; returns what it said and every thread's nice value after. */
function run(): { lowered: number; main: number; nice: Record<string, number> } {
  const dir = mkdtempSync(join(tmpdir(), 'kvmmu-threads-'));
  const script = join(dir, 'probe.ts');
  writeFileSync(
    script,
    `import { readdirSync, readFileSync } from 'node:fs';
import { lowerHelperThreads } from ${JSON.stringify(threads)};
const lowered = lowerHelperThreads();
const nice: Record<string, number> = {};
for (const t of readdirSync('/proc/self/task')) {
  // Field 19 of stat is the nice value; the command name (field 2) may hold spaces, so count from its ')'.
  const stat = readFileSync('/proc/self/task/' + t + '/stat', 'utf8');
  nice[t] = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}
console.log(JSON.stringify({ lowered, main: process.pid, nice }));
`,
  );
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { lowered: number; main: number; nice: Record<string, number> };
}

describe('helper threads (Linux)', () => {
  before(function () {
    if (process.platform !== 'linux') this.skip();
  });

  it('leaves the main thread as it was and gives every other thread a lower priority', () => {
    const { lowered, main, nice } = run();
    const mainNice = nice[String(main)] as number;
    const others = Object.entries(nice).filter(([t]) => Number(t) !== main);
    assert.ok(lowered > 0, 'V8 starts helper threads; some were lowered');
    assert.ok(others.length >= lowered);
    // Threads started after the call (libuv's pool, for instance) keep the main thread's priority; the ones there
    // at the call are 10 lower (capped at 19).
    const lower = others.filter(([, n]) => n === Math.min(19, mainNice + 10));
    assert.equal(lower.length, lowered, JSON.stringify(nice));
    assert.ok(
      others.every(([, n]) => n === mainNice || n === Math.min(19, mainNice + 10)),
      JSON.stringify(nice),
    );
  });
});

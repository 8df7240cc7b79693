/** Finding (or building) the static driver binary, real/driver/driver.c. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EnvironmentError, cacheDir, have } from './kernels.js';

function upwards(from: string, rel: string): string | undefined {
  let d = resolve(from);
  for (;;) {
    const p = join(d, rel);
    if (existsSync(p)) return p;
    const up = dirname(d);
    if (up === d) return undefined;
    d = up;
  }
}

/** dist/real/kvmmu-driver from the build, or one built now into the cache when the source is newer or it is missing. */
export function findDriver(): string {
  const env = process.env['KVMMU_DRIVER'];
  if (env) return env;
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const built = upwards(here, 'dist/real/kvmmu-driver') ?? upwards(process.cwd(), 'dist/real/kvmmu-driver');
  const source = upwards(here, 'real/driver/driver.c') ?? upwards(process.cwd(), 'real/driver/driver.c');
  if (built && (!source || statSync(built).mtimeMs >= statSync(source).mtimeMs)) return built;
  if (!source) throw new EnvironmentError('the kvmmu driver is missing (dist/real/kvmmu-driver): run `npm run build`');
  if (!have('gcc') && !have('cc'))
    throw new EnvironmentError(
      'the kvmmu driver needs a C compiler: apt-get install build-essential, then npm run build',
    );
  const out = join(cacheDir(), 'kvmmu-driver');
  mkdirSync(dirname(out), { recursive: true });
  execFileSync(have('gcc') ? 'gcc' : 'cc', ['-O2', '-static', '-o', out, source]);
  return out;
}

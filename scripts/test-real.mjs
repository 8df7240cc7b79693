#!/usr/bin/env node
// npm run test:real: the real-kernel stage (docs/real-kvm.md). Options by environment:
//   KVMMU_REAL_KERNELS="6.1 6.12" (series or .deb paths), KVMMU_REAL_SEED=1, KVMMU_REAL_COUNT=200,
//   KVMMU_REAL_CHUNK=120 (scenarios per QEMU boot), KVMMU_REAL_JOBS=1 (QEMUs at once),
//   KVMMU_REAL_OUT=dist/real/results.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSuite } from '../cli/src/real/suite.ts';
import { qemuMissing } from '../cli/src/real/qemu.ts';
import { EnvironmentError } from '../cli/src/real/kernels.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const missing = qemuMissing();
if (missing) {
  console.error(`real-kvm: ${missing}`);
  process.exit(2);
}
try {
  const { results, elapsedMs, kernels } = await runSuite({
    root,
    kernels: (env.KVMMU_REAL_KERNELS ?? '6.1 6.12').split(/\s+/).filter(Boolean),
    seed: Number(env.KVMMU_REAL_SEED ?? 1),
    count: Number(env.KVMMU_REAL_COUNT ?? 200),
    chunk: Number(env.KVMMU_REAL_CHUNK ?? 120),
    jobs: Number(env.KVMMU_REAL_JOBS ?? 1),
    out: env.KVMMU_REAL_OUT ?? join(root, 'dist/real/results'),
    log: (s) => console.log(`real-kvm: ${s}`),
  });
  const passed = results.filter((r) => r.status === 'pass').length;
  const known = results.filter((r) => r.status === 'known').length;
  const failed = results.filter((r) => r.status === 'fail').length;
  for (const k of kernels) console.log(`real-kvm: ran on ${k}`);
  console.log(
    `real-kvm: ${passed + known} passed, ${failed} failed` +
      ` (${known} agree except known limitations; ${(elapsedMs / 60000).toFixed(1)} min)`,
  );
  process.exit(failed === 0 ? 0 : 1);
} catch (e) {
  if (e instanceof EnvironmentError) {
    console.error(`real-kvm: ${e.message}`);
    process.exit(2);
  }
  throw e;
}

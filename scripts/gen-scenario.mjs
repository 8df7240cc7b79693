#!/usr/bin/env node
// Generates a large scenario for benchmarks: N statements on 4 vCPUs mixing SMI/RSM, CR3 and CR0.WP writes and
// runs, with TDP (default) or shadow paging with nested on (`--shadow`). Deterministic (a fixed linear
// congruential sequence), so every run measures the same input.
//   node scripts/gen-scenario.mjs N [--shadow] > big.kvmmu
//   node scripts/gen-scenario.mjs N --smm > smm.kvmmu          (`kernel v6.3` and smi/run/rsm/run, N lines)
//   node scripts/gen-scenario.mjs N --events-json > big.json   (the same events as a JSON array: the benchmark floor)
import { pathToFileURL } from 'node:url';

export function generate(n, { shadow = false } = {}) {
  const lines = [
    '# generated benchmark scenario',
    'kernel v6.4',
    shadow ? 'vm vendor=intel tdp=off nested=on vcpus=4' : 'vm vendor=intel tdp=on vcpus=4',
  ];
  const events = [];
  let seed = 12345;
  // 32-bit arithmetic (Math.imul): a plain multiply loses precision above 2^53 and the sequence collapses. The
  // low bits of an LCG cycle quickly, so callers get the high 16.
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 16;
  };
  const inSmm = [false, false, false, false];
  for (let v = 0; v < 4; v++) {
    lines.push(`vcpu ${v}`, 'sregs cr0=PE|ET|PG|WP cr4=PAE efer=LME|LMA|NX cr3=0x1000', 'run');
    events.push({ vcpu: v, op: 'sregs', cr0: 0x80010011, cr4: 0x20, efer: 0xd00, cr3: 0x1000 }, { vcpu: v, op: 'run' });
  }
  while (lines.length < n) {
    const v = next() % 4;
    const r = next() % 10;
    let text;
    let ev;
    if (r < 2) {
      text = inSmm[v] ? 'rsm' : 'smi';
      ev = { vcpu: v, op: text };
      inSmm[v] = !inSmm[v];
    } else if (r < 5 && !inSmm[v]) {
      const cr3 = 0x1000 * (1 + (next() % 64));
      text = `cr3 = 0x${cr3.toString(16)}`;
      ev = { vcpu: v, op: 'write_cr3', value: cr3 };
    } else if (r < 6 && !inSmm[v]) {
      const wp = next() % 2 === 0;
      text = wp ? 'cr0 |= WP' : 'cr0 &= ~WP';
      ev = { vcpu: v, op: 'write_cr', reg: 'cr0', mode: wp ? '|=' : '&=', value: 0x10000 };
    } else {
      text = 'run';
      ev = { vcpu: v, op: 'run' };
    }
    lines.push(`vcpu ${v}: ${text}`);
    events.push(ev);
  }
  return { text: lines.join('\n') + '\n', events };
}

/** `kernel v6.3` and `smi`, `run`, `rsm`, `run` repeated to `lines` lines: the language server's memory case. */
export function smmLoop(lines) {
  return 'kernel v6.3\n' + 'smi\nrun\nrsm\nrun\n'.repeat(Math.max(0, Math.floor((lines - 1) / 4)));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const n = Number(process.argv[2] ?? 100000);
  if (process.argv.includes('--smm')) process.stdout.write(smmLoop(n));
  else {
    const { text, events } = generate(n, { shadow: process.argv.includes('--shadow') });
    process.stdout.write(process.argv.includes('--events-json') ? JSON.stringify(events) : text);
  }
}

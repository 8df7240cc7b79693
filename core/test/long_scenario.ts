/** Long scenarios for the engine and writer tests, built from a cycle of lines rather than written out. */

const LONG_MODE = 'sregs cr0=PE|ET|PG|WP cr4=PAE efer=LME|LMA|NX cr3=0x1000';

/**
 * A v6.4 VM with two vCPUs, the first `ready` of them put in long mode and run once, then `events` lines taken from
 * `cycle` in turn (the cycle decides the mix: expectations, errors, other vCPUs).
 */
export function longScenario(cycle: readonly string[], events: number, ready: 1 | 2): string {
  const lines = ['# long', 'kernel v6.4', 'vm vendor=intel tdp=on vcpus=2'];
  for (let v = 0; v < ready; v++) lines.push(`vcpu ${v}`, LONG_MODE, 'run');
  for (let i = 0; i < events; i++) lines.push(cycle[i % cycle.length] as string);
  return lines.join('\n') + '\n';
}

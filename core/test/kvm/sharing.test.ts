/**
 * The model shares actions and step results that recur with the same content (frozen objects, see
 * SharedActions). Sharing must never change what is recorded: a shared object says exactly what a fresh one
 * would, whatever ran before it in the process (other kernels, other VMs, other vCPUs).
 */
import assert from 'node:assert/strict';
import { analyze } from '../../src/engine/analyze.js';
import { Recorder, SharedActions } from '../../src/kvm/actions.js';

const scenario = (kernel: string, vendor: string) =>
  [
    `kernel ${kernel}`,
    `vm vendor=${vendor} tdp=on vcpus=2`,
    'vcpu 0',
    'sregs cr0=PE|ET|PG|WP cr4=PAE efer=LME|LMA|NX cr3=0x1000',
    'run',
    'smi',
    'run',
    'rsm',
    'run',
    'cr3 = 0x2000',
    'cr0 &= ~WP',
    'run',
    'vcpu 1',
    'sregs cr0=PE|ET|PG|WP cr4=PAE efer=LME|LMA|NX cr3=0x1000',
    'run',
    'smi',
    'run',
    'rsm',
    'run',
  ].join('\n');

/** A deep, unshared copy: what the step would hold if nothing were shared. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe('shared actions and results', () => {
  it('records the same content as unshared objects would, across kernels and vendors in one process', () => {
    for (const kernel of ['v5.15', 'v6.3', 'v6.4', 'latest'])
      for (const vendor of ['intel', 'amd']) {
        const a = analyze(scenario(kernel, vendor));
        const b = analyze(scenario(kernel, vendor));
        assert.deepEqual(plain(a.steps.map((s) => s.result)), plain(b.steps.map((s) => s.result)), kernel);
        for (const s of a.steps)
          for (const act of s.result.actions) {
            // A frozen action names the vCPU it is about; never another vCPU's copy.
            if (Object.isFrozen(act) && act.vcpu !== undefined) assert.equal(act.vcpu, s.vcpu, act.detail);
          }
      }
  });

  it('shares a recurring result (frozen, deeply) and keeps distinct ones apart', () => {
    const a = analyze(scenario('v6.4', 'intel'));
    const runs = a.steps.filter((s) => s.statement.keyword === 'smi');
    assert.equal(runs.length, 2);
    const [s0, s1] = runs as [(typeof runs)[0], (typeof runs)[0]];
    // SMI on vCPU 0 and on vCPU 1 say different things (different vCPU), so they are different objects.
    assert.notEqual(s0.result, s1.result);
    assert.notDeepEqual(plain(s0.result), plain(s1.result));
    const frozen = a.steps.filter((s) => Object.isFrozen(s.result));
    assert.ok(frozen.length > 0, 'some results are shared');
    for (const s of frozen) {
      assert.ok(Object.isFrozen(s.result.actions));
      for (const act of s.result.actions) {
        assert.ok(Object.isFrozen(act));
        assert.ok(Object.isFrozen(act.path));
        if (act.refcount) assert.ok(Object.isFrozen(act.refcount));
      }
    }
    // Running the same scenario again gives results with the same content (shared or not: the caches are
    // bounded and may have been cleared in between).
    const b = analyze(scenario('v6.4', 'intel'));
    assert.deepEqual(plain(b.steps.map((s) => s.result)), plain(a.steps.map((s) => s.result)));
  });

  it('gives one object per call path and key, frozen, with the fields the template builds', () => {
    const shared = new SharedActions((vcpu: number, why: string) => ({
      op: 'request',
      detail: `vCPU ${vcpu}: ${why}`,
      fields: { vcpu, request: why },
    }));
    const rec = new Recorder();
    const a1 = rec.call('f', () => rec.emitShared(shared, 0, 'A'));
    const a2 = rec.call('f', () => rec.emitShared(shared, 0, 'A'));
    const b = rec.call('g', () => rec.emitShared(shared, 0, 'A'));
    const c = rec.call('f', () => rec.emitShared(shared, 1, 'A'));
    assert.equal(a1, a2);
    assert.notEqual(a1, b);
    assert.notEqual(a1, c);
    assert.deepEqual(plain(a1), { op: 'request', path: ['f'], detail: 'vCPU 0: A', vcpu: 0, request: 'A' });
    assert.deepEqual(plain(b), { op: 'request', path: ['g'], detail: 'vCPU 0: A', vcpu: 0, request: 'A' });
    assert.deepEqual(plain(c), { op: 'request', path: ['f'], detail: 'vCPU 1: A', vcpu: 1, request: 'A' });
    assert.ok(Object.isFrozen(a1));
    assert.equal(Reflect.set(a1, 'detail', 'changed'), false);
    assert.equal(a1.detail, 'vCPU 0: A');
    assert.equal(rec.actions.length, 4);
  });
});

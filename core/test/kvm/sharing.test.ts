/**
 * The model shares actions and step results that recur with the same content (frozen objects, see
 * SharedActions). Sharing must never change what is recorded: a shared object says exactly what a fresh one
 * would, whatever ran before it in the process (other kernels, other VMs, other vCPUs).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { analyze } from '../../src/engine/analyze.js';
import { Recorder, SharedActions } from '../../src/kvm/actions.js';
import type { Step } from '../../src/engine/analysis.js';
import type { Action } from '../../src/kernel/types.js';
import { FixedKeyTree } from '../../src/util/key_tree.js';

const here = dirname(fileURLToPath(import.meta.url));

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

/** A script printing, as JSON, the steps of each combination analysed in order in a fresh process. */
function coldScript(combos: string[][]): string {
  const analyzeUrl = pathToFileURL(join(here, '../../src/engine/analyze.ts')).href;
  return [
    `import { analyze } from ${JSON.stringify(analyzeUrl)};`,
    `const scenario = ${scenario.toString()};`,
    `const combos = ${JSON.stringify(combos)};`,
    'process.stdout.write(JSON.stringify(combos.map(([k, v]) => JSON.stringify(analyze(scenario(k, v)).steps.toArray().map((s) => s.result)))));',
  ].join('\n');
}

/** A deep, unshared copy: what the step would hold if nothing were shared. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe('shared actions and results', () => {
  it('records what a cold process records, whatever ran before it (kernels and vendors in both orders)', () => {
    // Here the combinations run in one order; a fresh process runs them in the other, so every combination is
    // run once with caches warmed by the others and once before them. A key that missed something the action
    // says (the kernel, the vendor, the vCPU) would hand one combination another's object in one of the orders.
    const combos = ['v5.15', 'v6.3', 'v6.4', 'latest'].flatMap((k) => ['intel', 'amd'].map((v) => [k, v]));
    const here = combos.map(([k, v]) =>
      JSON.stringify(
        analyze(scenario(k as string, v as string))
          .steps.toArray()
          .map((s) => s.result),
      ),
    );
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', coldScript(combos.slice().reverse())],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    assert.equal(child.status, 0, child.stderr);
    const cold = (JSON.parse(child.stdout) as string[]).reverse();
    assert.equal(cold.length, here.length);
    combos.forEach(([k, v], i) => assert.equal(here[i], cold[i], `${k} ${v}`));
    for (const [k, v] of combos)
      for (const s of analyze(scenario(k as string, v as string)).steps)
        for (const act of s.result.actions)
          // A frozen action names the vCPU it is about; never another vCPU's copy.
          if (Object.isFrozen(act) && act.vcpu !== undefined) assert.equal(act.vcpu, s.vcpu, act.detail);
  });

  it('shares a recurring result (frozen, deeply) and keeps distinct ones apart', () => {
    const a = analyze(scenario('v6.4', 'intel'));
    const runs = a.steps.toArray().filter((s) => s.statement.keyword === 'smi');
    assert.equal(runs.length, 2);
    const [s0, s1] = runs as [(typeof runs)[0], (typeof runs)[0]];
    // SMI on vCPU 0 and on vCPU 1 say different things (different vCPU), so they are different objects.
    assert.notEqual(s0.result, s1.result);
    assert.notDeepEqual(plain(s0.result), plain(s1.result));
    const frozen = a.steps.toArray().filter((s) => Object.isFrozen(s.result));
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
    assert.deepEqual(plain(b.steps.toArray().map((s) => s.result)), plain(a.steps.toArray().map((s) => s.result)));
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

  it("computes roles once per role inputs, never handing one vCPU or VM configuration another one's roles", () => {
    // Same registers, different MAXPHYADDR (KVM_SET_CPUID on vCPU 1): with 5-level EPT the TDP root level follows
    // MAXPHYADDR, so the roles cache must key on it, not only on CR0/CR4/EFER and the SMM/guest-mode flags.
    const a = analyze(
      [
        'kernel latest',
        'vm vendor=intel tdp=on max_tdp_level=5 maxphyaddr=46 vcpus=2',
        'vcpu 0',
        'sregs cr0=PE|ET|PG|WP cr4=PAE efer=LME|LMA|NX cr3=0x1000',
        'run',
        'vcpu 1',
        'cpuid maxphyaddr=52',
        'sregs cr0=PE|ET|PG|WP cr4=PAE efer=LME|LMA|NX cr3=0x1000',
        'run',
        'vcpu 0',
        'smi',
        'rsm',
        'run',
      ].join('\n'),
    );
    assert.deepEqual(
      a.final.vcpus.map((v) => a.final.roots.find((r) => r.id === v.root)?.level),
      [4, 5],
    );
    // EPT A/D (vm ad=) changes the TDP root role but not the registers. Each analysis has its own kernel object,
    // so this also holds the cache to the VM configuration should kernels ever be shared between analyses.
    const roles = (vm: string) =>
      analyze(
        [
          'kernel v6.4',
          `vm vendor=intel tdp=on vcpus=1 ${vm}`,
          'vcpu 0',
          'sregs cr0=PE|ET|PG|WP cr4=PAE efer=LME|LMA|NX',
          'run',
          'smi',
          'run',
        ].join('\n'),
      ).final.roots.map((r) => r.role);
    const withAd = roles('ad=on');
    const withoutAd = roles('ad=off');
    assert.deepEqual(roles('ad=on'), withAd);
    assert.equal(withAd.length, 2); // !SMM and SMM
    for (let i = 0; i < withAd.length; i++)
      assert.equal((parseInt(withoutAd[i] as string, 16) ^ parseInt(withAd[i] as string, 16)) >>> 0, 1 << 16); // ad_disabled
  });

  it("starts every step with an empty recorder: no step carries another step's actions", () => {
    const a = analyze(scenario('v6.4', 'intel'));
    const rec = new Recorder();
    rec.call('f', () => rec.emit('flush', 'x'));
    rec.reset();
    assert.equal(rec.actions.length, 0);
    assert.deepEqual(plain(rec.call('g', () => rec.emit('flush', 'y')).path), ['g']); // back at the top frame
    // In a run, a step's actions are only its own: a statement with nothing to do records nothing.
    const noop = analyze(
      ['kernel v6.4', 'vm vendor=intel tdp=on vcpus=1', 'vcpu 0', 'run', 'memslot create 1', 'run'].join('\n'),
    );
    const create = noop.steps.toArray().find((s) => s.statement.keyword === 'memslot');
    assert.ok(create);
    assert.deepEqual(create.result.actions, []);
    assert.ok(
      a.steps.toArray().every((s) => s.result.actions.every((act) => act.vcpu === undefined || act.vcpu === s.vcpu)),
    );
  });

  it('keeps shared results apart when one action list is a prefix of another (same outcome and label)', () => {
    // `run` with nothing to do records no action; `run` after an SMI reuses a root and flushes: the empty list is
    // a prefix of that one, and each must get its own result.
    const a = analyze(scenario('v6.4', 'intel'));
    const runs = a.steps.toArray().filter((s) => s.statement.keyword === 'run' && s.vcpu === 0);
    const empty = runs.find((s) => s.result.actions.length === 0);
    // (The first run allocates a root: that result is not shared. The runs after SMI and RSM reuse one.)
    const busy = runs.find((s) => s.result.actions.length > 0 && Object.isFrozen(s.result));
    assert.ok(empty && busy, 'a run with and a run without actions');
    assert.ok(Object.isFrozen(empty.result) && Object.isFrozen(busy.result), 'both shared');
    assert.notEqual(empty.result, busy.result);
    assert.equal(empty.result.summary, 'run: no root change');
    assert.deepEqual(plain(empty.result.actions), []);
    assert.ok(busy.result.actions.some((act) => act.op === 'reuse'));
  });

  it('names the cpu role a re-initialisation stored, for each role on the same vCPU and MMU', () => {
    // REINIT and REINIT_SKIPPED are keyed by the role's two words, not its text: each distinct role must still
    // get its own action, saying that role (a key that dropped a word would hand SMM's action to !SMM).
    const a = analyze(scenario('v6.4', 'intel'));
    const roleOf = (detail: string) => /(0x[0-9a-f]{16})/.exec(detail)?.[1];
    const reinits = a.steps
      .toArray()
      .flatMap((s) => s.result.actions.filter((act) => act.op === 'reinit' || act.op === 'reinit_skipped'));
    assert.ok(new Set(reinits.map((act) => act.role)).size >= 3, 'several roles');
    for (const act of reinits) assert.equal(roleOf(act.detail), act.role, act.detail);
    // After SMI the stored role has the base word's smm bit (bit 24); after RSM it does not.
    const smm = (s: Step) =>
      s.result.actions.filter((act) => act.op === 'reinit').map((act) => (BigInt(act.role as string) >> 24n) & 1n);
    const smi = a.steps.toArray().find((s) => s.statement.keyword === 'smi');
    const rsm = a.steps.toArray().find((s) => s.statement.keyword === 'rsm');
    assert.ok(smi && rsm);
    assert.deepEqual(smm(smi), [1n, 1n]);
    assert.equal(smm(rsm).at(-1), 0n);
    // The role a step's last re-initialisation names is the role the MMU holds after the step.
    for (const s of a.steps) {
      const last = s.result.actions.filter((act) => act.op === 'reinit' || act.op === 'reinit_skipped').at(-1);
      if (!last) continue;
      const mmu = a.stateAt(s.line).vcpus[s.vcpu]!.mmus.find((m) => m.name === last.mmu);
      assert.equal(last.role, mmu?.cpuRole, `line ${s.line + 1}: ${last.detail}`);
    }
    // The same role again is the same object (shared), a different one a different object.
    const byRole = new Map<string, object>();
    for (const act of reinits.filter((x) => x.op === 'reinit' && x.vcpu === 0)) {
      const key = `${act.path.join('/')} ${act.role}`;
      const known = byRole.get(key);
      if (known) assert.equal(act, known);
      else byRole.set(key, act);
    }
  });

  it('records a no_exit with register values as it is (not kept for sharing) and shares one without', () => {
    const a = analyze(
      [
        'kernel v6.4',
        'vm vendor=intel tdp=on vcpus=1',
        'vcpu 0',
        'sregs cr0=PE|ET|PG|WP cr4=PAE efer=LME|LMA|NX cr3=0x1000',
        'run',
        'cr3 = 0x2000',
        'cr3 = 0x1000',
        'cr3 = 0x2000',
        'invlpg 0x1000',
        'invlpg 0x2000',
      ].join('\n'),
    );
    const noExits = a.steps
      .toArray()
      .slice(2)
      .map((s) => {
        assert.equal(s.result.outcome, 'no_exit', s.statement.keyword);
        assert.equal(s.result.actions.length, 1);
        return s.result.actions[0]!;
      });
    const [w1, w2, w3, i1, i2] = noExits as [Action, Action, Action, Action, Action];
    assert.match(w1.detail, /^MOV to CR3 \(0x1000 → 0x2000\) does not cause a VM-exit/);
    assert.match(w2.detail, /^MOV to CR3 \(0x2000 → 0x1000\) does not cause a VM-exit/);
    assert.deepEqual(plain(w3), plain(w1)); // says the same as the first write…
    assert.notEqual(w3, w1); // …without being kept for it
    assert.ok(!Object.isFrozen(w1) && !Object.isFrozen(a.steps.at(2)!.result));
    assert.equal(i1, i2); // INVLPG's no_exit names no value: one shared, frozen object
    assert.ok(Object.isFrozen(i1));
    assert.match(i1.detail, /^INVLPG does not cause a VM-exit/);
    assert.deepEqual(plain(w1), {
      op: 'no_exit',
      path: [],
      detail:
        'MOV to CR3 (0x1000 → 0x2000) does not cause a VM-exit on this kernel/vendor/paging mode; only the register changes',
      vcpu: 0,
    });
  });

  it('FixedKeyTree keeps values by keys of one length (the last key maps to the value) and starts over when full', () => {
    const tree = new FixedKeyTree<string>(3);
    const o = {};
    assert.equal(tree.get(o, [1, 'a']), undefined);
    tree.set(o, [1, 'a'], 'A');
    tree.set(o, [1, 'b'], 'B');
    tree.set(o, [2n, 'a'], 'C');
    assert.equal(tree.get(o, [1, 'a']), 'A');
    assert.equal(tree.get(o, [1, 'b']), 'B');
    assert.equal(tree.get(o, [2n, 'a']), 'C'); // bigints by value
    assert.equal(tree.get(o, [2, 'a']), undefined); // 2 and 2n are different keys
    assert.equal(tree.get({}, [1, 'a']), undefined); // objects by identity
    const single = new FixedKeyTree<string>(4);
    single.set('k', [], 'K'); // keys of length one
    assert.equal(single.get('k', []), 'K');
    // A fourth value goes past the bound: the tree starts over, empty.
    tree.set(o, [3, 'a'], 'D');
    assert.equal(tree.get(o, [1, 'a']), undefined);
    assert.equal(tree.get(o, [3, 'a']), undefined);
  });

  it('FixedKeyTree.getN finds what get finds, for keys of every length it takes, and refuses longer ones', () => {
    const o = {};
    for (let n = 0; n <= 7; n++) {
      const tree = new FixedKeyTree<string>(100);
      const key = [1, 'a', 2n, o, 'b', 3, 'c'].slice(0, n);
      tree.set(o, key, `v${n}`);
      // The same values but the last one different, when there is one.
      const other = n === 0 ? [] : [...key.slice(0, -1), 'z'];
      assert.equal(tree.getN(o, n, ...key), `v${n}`, `length ${n}`);
      assert.equal(tree.getN(o, n, ...key), tree.get(o, key));
      if (n > 0) assert.equal(tree.getN(o, n, ...other), undefined, `length ${n}, last value differs`);
      assert.equal(tree.getN({}, n, ...key), undefined);
    }
    assert.throws(() => new FixedKeyTree<string>(4).getN('k', 8, 1, 2, 3, 4, 5, 6, 7), RangeError);
  });
});

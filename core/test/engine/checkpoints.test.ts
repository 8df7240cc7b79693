/**
 * Checkpoints hold what a replay needs, not every root ever allocated: a root that is freed and no longer named by
 * the state is retired into batches every clone shares (core/src/kvm/state.ts, `retireFreedRoots`). States replayed
 * from checkpoints must still list every root, freed ones included, exactly as a run from the start does.
 */
import assert from 'node:assert/strict';
import { analyze, CHECKPOINT_INTERVAL } from '../../src/engine/analyze.js';
import { kernelFor } from '../../src/kernel/behaviours.js';
import { DEFAULT_VM, type KvmModel, type ModelOp } from '../../src/kernel/types.js';
import { createKvm } from '../../src/kvm/kvm.js';
import type { VmState } from '../../src/kvm/state.js';

const VM = { ...DEFAULT_VM, vcpus: 1 };

/** `kernel v6.3`, then smi/run/rsm/run: each SMI and each RSM allocates a root and frees the previous one. */
const smmLoop = (rounds: number): string => 'kernel v6.3\n' + 'smi\nrun\nrsm\nrun\n'.repeat(rounds);

/** The model's state, for the one test that checks what a clone holds (the model keeps it private). */
const stateOf = (m: KvmModel): VmState => (m as unknown as { s: VmState }).s;

describe('checkpoints', () => {
  it('a clone holds only the roots a replay can reach; freed ones are shared, frozen', () => {
    const model = createKvm(kernelFor('v6.3'), VM);
    const ops: ModelOp[] = [{ op: 'smi' }, { op: 'run' }, { op: 'rsm' }, { op: 'run' }];
    let line = 1;
    for (let round = 0; round < 500; round++) for (const op of ops) model.execute(0, op, ++line);
    const clone = model.clone();
    const s = stateOf(clone);
    assert.ok(s.roots.size <= 4, `live pages copied: ${s.roots.size}`);
    let retired = 0;
    for (let r = s.retired; r; r = r.prev) {
      assert.ok(Object.isFrozen(r.pages));
      for (const p of r.pages) {
        assert.ok(p.freed && Object.isFrozen(p), `#${p.id}`);
        retired++;
      }
    }
    assert.equal(retired + s.roots.size, model.snapshot().roots.length);
    assert.equal(stateOf(model).retired, s.retired, 'the clone shares the retired batches');
    assert.deepEqual(clone.snapshot(), model.snapshot());
  });

  it('states replayed from checkpoints list every root in id order, as a run from the start does', () => {
    const rounds = 3 * CHECKPOINT_INTERVAL;
    const text = smmLoop(rounds);
    const kept = analyze(text);
    const none = analyze(text, { checkpoints: false });
    for (const line of [0, 5, CHECKPOINT_INTERVAL + 3, 2 * CHECKPOINT_INTERVAL + 1, 3 * rounds, 4 * rounds]) {
      const state = kept.stateAt(line);
      assert.deepEqual(state, none.stateAt(line), `stateAt(${line})`);
      assert.deepEqual(
        state.roots.map((r) => r.id),
        state.roots.map((r) => r.id).sort((a, b) => a - b),
      );
    }
    assert.ok(kept.final.roots.filter((r) => r.state === 'freed').length >= rounds);
  });

  it('shadow pages named by the page hash stay in the state when freed roots retire', () => {
    const text =
      'kernel v6.4\nvm tdp=off vcpus=2\nsregs cr0=PE|PG cr4=PAE efer=LME|LMA cr3=0x1000\nrun\n' +
      'cr3 = 0x2000\nrun\ncr3 = 0x1000\nrun\nmemslot delete 1\nrun\n'.repeat(CHECKPOINT_INTERVAL);
    const kept = analyze(text);
    const none = analyze(text, { checkpoints: false });
    const lines = text.split('\n').length;
    for (const line of [7, Math.floor(lines / 2), lines - 3]) assert.deepEqual(kept.stateAt(line), none.stateAt(line));
  });
});

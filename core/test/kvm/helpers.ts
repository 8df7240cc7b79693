/** Helpers for the model tests: a VM on a profile, ops built directly (no parser). */
import { kernelFor, makeKernel, findProfile, type BehaviourName } from '../../src/kernel/behaviours.js';
import { createKvm } from '../../src/kvm/kvm.js';
import { EFER_LMA, EFER_LME, EFER_NX, X86_CR0_PE, X86_CR0_PG, X86_CR0_WP, X86_CR4_PAE } from '../../src/kernel/regs.js';
import {
  DEFAULT_VM,
  type Action,
  type KvmModel,
  type ModelOp,
  type StepResult,
  type VmConfig,
} from '../../src/kernel/types.js';

export function vmOn(
  profile: string,
  vm: Partial<VmConfig> = {},
  add: BehaviourName[] = [],
  remove: BehaviourName[] = [],
): Harness {
  const p = findProfile(profile);
  if (!p) throw new Error(profile);
  const kernel = add.length || remove.length ? makeKernel(p, add, remove) : kernelFor(profile);
  return new Harness(createKvm(kernel, { ...DEFAULT_VM, ...vm }));
}

export const LONG_MODE = {
  cr0: X86_CR0_PE | X86_CR0_PG | X86_CR0_WP,
  cr4: X86_CR4_PAE,
  efer: EFER_LME | EFER_LMA | EFER_NX,
};

export class Harness {
  line = 0;
  vcpu = 0;
  last!: StepResult;
  constructor(public kvm: KvmModel) {}

  do(op: ModelOp, vcpu = this.vcpu): StepResult {
    this.line++;
    this.last = this.kvm.execute(vcpu, op, this.line);
    return this.last;
  }
  run(vcpu = this.vcpu): StepResult {
    return this.do({ op: 'run' }, vcpu);
  }
  smi(vcpu = this.vcpu): StepResult {
    return this.do({ op: 'smi' }, vcpu);
  }
  rsm(vcpu = this.vcpu): StepResult {
    return this.do({ op: 'rsm' }, vcpu);
  }
  sregs(regs: { cr0?: bigint; cr3?: bigint; cr4?: bigint; efer?: bigint }, vcpu = this.vcpu): StepResult {
    return this.do({ op: 'sregs', ...regs }, vcpu);
  }
  longMode(cr3 = 0x1000n, vcpu = this.vcpu): StepResult {
    return this.sregs({ ...LONG_MODE, cr3 }, vcpu);
  }
  cr0(mode: '=' | '|=' | '&=', value: bigint, emulate = false, vcpu = this.vcpu): StepResult {
    return this.do({ op: 'write_cr', reg: 'cr0', mode, value, emulate }, vcpu);
  }
  cr4(mode: '=' | '|=' | '&=', value: bigint, emulate = false, vcpu = this.vcpu): StepResult {
    return this.do({ op: 'write_cr', reg: 'cr4', mode, value, emulate }, vcpu);
  }
  efer(mode: '=' | '|=' | '&=', value: bigint, vcpu = this.vcpu): StepResult {
    return this.do({ op: 'write_cr', reg: 'efer', mode, value, emulate: false }, vcpu);
  }
  cr3(value: bigint, opts: { emulate?: boolean; noflush?: boolean } = {}, vcpu = this.vcpu): StepResult {
    return this.do({ op: 'write_cr3', value, noflush: opts.noflush ?? false, emulate: opts.emulate ?? false }, vcpu);
  }
  memslotDelete(slot = 1): StepResult {
    return this.do({ op: 'memslot', action: 'delete', slot });
  }
  get snap() {
    return this.kvm.snapshot();
  }
  root(id: number) {
    const r = this.snap.roots.find((x) => x.id === id);
    if (!r) throw new Error(`no root #${id}`);
    return r;
  }
  liveRoots() {
    return this.snap.roots.filter((r) => r.state !== 'freed');
  }
  vcpuRoot(vcpu = this.vcpu): number | null {
    return this.snap.vcpus[vcpu]!.root;
  }
}

export const ops = (r: StepResult, op: Action['op']): Action[] => r.actions.filter((a) => a.op === op);
export const refTrace = (r: StepResult, root: number): string[] =>
  r.actions
    .filter(
      (a) =>
        a.root === root && a.refcount && (a.op === 'put' || a.op === 'get' || a.op === 'alloc' || a.op === 'reuse'),
    )
    .map((a) => `${a.op} ${a.refcount![0]}→${a.refcount![1]}`);

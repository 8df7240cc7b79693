/**
 * Lowering a checked scenario to the driver's instructions (real/driver/driver.c), with a verdict for every
 * event line: runnable on the target, or not, and why. Pure.
 *
 * One meaning on both sides: a guest instruction (a register write, `rsm`, `vmenter`, `vmexit`, `invlpg`)
 * executes only while the guest runs, and `smi` takes effect at the next entry. The driver therefore queues
 * them and executes the queue in the vCPU's next KVM_RUN: a `run` line, or — when another kind of line comes
 * first — a KVM_RUN of its own before that line. The lines one KVM_RUN carries form one **group**; the model's
 * and the kernel's actions are compared group by group (docs/real-kvm.md, "What is compared").
 */
import type { Analysis, Step } from '../engine/analysis.js';
import type { ModelOp } from '../kernel/types.js';

/** Where the scenario runs: the vendor module of the real kernel, and whether the CPU is QEMU's TCG. */
export interface RealTarget {
  vendor: 'amd' | 'intel';
  tcg: boolean;
}

export interface RealConfig {
  /** kvm.tdp_mmu */
  tdp_mmu: boolean;
  /** kvm_amd.npt / kvm_intel.ept */
  tdp: boolean;
  vcpus: number;
  nested: boolean;
}

export type LineVerdict =
  | { line: number; vcpu: number; text: string; runnable: true; group: number }
  | { line: number; vcpu: number; text: string; runnable: false; reason: string };

export interface Lowered {
  config: RealConfig;
  /** Driver instructions, one per line; `mark line N` before each scenario line's work. */
  program: string[];
  /** Every event line (1-based), in order. */
  verdicts: LineVerdict[];
  /** Groups of 1-based lines executed by one KVM_RUN (or one ioctl), in order. */
  groups: number[][];
  /** Why the whole scenario cannot run here, when it cannot (every verdict says it too). */
  refused?: string;
}

/** Guest memory the driver uses for itself (real/driver/driver.c): a CR3 there would be overwritten. */
const RAM = 8n << 20n;
const RESERVED: [bigint, bigint, string][] = [
  [0xf000n, 0x10000n, 'the driver’s code stubs'],
  [0x30000n, 0x40000n, 'SMRAM (SMBASE 0x30000)'],
  [0x600000n, RAM, 'the driver’s page tables and VMCBs'],
];
const MAX_REAL_VCPUS = 8;
const MAX_SLOT = 30;
const SLOT_BASE = 0x4000_0000n;

const hex = (v: bigint): string => '0x' + v.toString(16);

function tableProblem(what: string, value: bigint): string | undefined {
  const page = value & 0x000f_ffff_ffff_f000n;
  if (page >= RAM) return `${what} ${hex(value)} is outside the driver's 8 MiB of guest memory`;
  for (const [lo, hi, name] of RESERVED) if (page >= lo && page < hi) return `${what} ${hex(value)} falls on ${name}`;
  return undefined;
}

const GUEST_INSTRUCTION = new Set<ModelOp['op']>(['write_cr', 'write_cr3', 'rsm', 'vmenter', 'vmexit', 'invlpg']);

/** Why a statement cannot run on the target, or undefined when it can. */
function unrunnable(op: ModelOp, target: RealTarget, vcpuRan: boolean): string | undefined {
  switch (op.op) {
    case 'write_cr':
      if (op.emulate) return '`emulate` forces KVM’s emulator; a real guest cannot choose that path';
      if (target.tcg && op.reg === 'cr4' && op.mode !== '&=' && (op.value & (1n << 17n)) !== 0n)
        return 'CR4.PCIDE: QEMU TCG does not emulate PCID';
      return undefined;
    case 'write_cr3':
      if (op.emulate) return '`emulate` forces KVM’s emulator; a real guest cannot choose that path';
      if (target.tcg && ((op.value & 0xfffn) !== 0n || op.noflush))
        return 'a PCID or `noflush` in CR3: QEMU TCG does not emulate PCID';
      return tableProblem('CR3', op.value);
    case 'sregs':
      return op.cr3 !== undefined ? tableProblem('CR3', op.cr3) : undefined;
    case 'vmenter':
      if (op.ept) return 'nested EPT is Intel-only';
      if (target.vendor !== 'amd') return 'the driver enters L2 with VMRUN (AMD); VMLAUNCH is not implemented';
      return (
        (op.cr3 !== undefined ? tableProblem('L2 CR3', op.cr3) : undefined) ??
        (op.npt ? tableProblem('nCR3', op.ncr3) : undefined)
      );
    case 'memslot':
      return op.gfn !== undefined
        ? 'memslot layouts (`gfn=`, `pages=`) are not implemented by the driver: its slots have fixed addresses'
        : undefined;
    case 'pdpt':
      return 'guest memory contents (`pdpt`) are not implemented by the driver: it builds its own page tables';
    case 'run':
    case 'smi':
    case 'rsm':
    case 'vmexit':
    case 'destroy_vm':
      return undefined;
    case 'invlpg':
      return undefined;
    case 'cpuid':
      return vcpuRan ? 'KVM refuses to change CPUID after the vCPU has run (KVM_SET_CPUID2, v5.16+)' : undefined;
    case 'init':
      return 'INIT/RESET is not implemented by the driver';
    case 'invpcid':
      return target.tcg ? 'QEMU TCG does not emulate INVPCID' : 'INVPCID is not implemented by the driver';
    case 'invept':
    case 'invvpid':
      return `\`${op.op}\` is a VMX instruction (Intel only)`;
    case 'notifier_unmap':
      return 'MMU-notifier unmaps are not implemented by the driver';
    case 'guest_write':
      // A guest store to a write-protected page table faults, and KVM then either emulates it or unprotects the
      // frame (zapping its shadow pages) and lets the guest retry: the guest cannot choose the emulated path.
      return '`emulate write` forces KVM’s emulator; a real guest’s store to a shadowed page table may be unprotected and retried instead';
    case 'destroy_vcpu':
      return 'KVM has no ioctl that destroys one vCPU; vCPUs go with the VM';
    case 'vmxon':
    case 'vmxoff':
    case 'vmclear':
    case 'vmptrld':
      return `\`${op.op}\` is a VMX instruction (Intel only)`;
    case 'stgi':
    case 'clgi':
      return `\`${op.op}\` as its own statement is not implemented by the driver (it runs STGI only after #VMEXIT)`;
    case 'set_nr_mmu_pages':
      // Checked in lowerScenario, which knows the VM: runnable only where no shadow page exists.
      return undefined;
    case 'nx_huge_pages':
      return target.tcg
        ? undefined
        : 'writing /sys/module/kvm/parameters/nx_huge_pages would zap every VM on this host: it runs only under --qemu';
    case 'mmio_gen_wrap':
      return 'wrapping the MMIO generation takes about 2^18 memslot updates; the driver does not force one';
  }
}

const PDPTR_CR4_BITS = (1n << 4n) | (1n << 5n) | (1n << 7n) | (1n << 20n); // PSE PAE PGE SMEP

/**
 * QEMU TCG sets the accessed bit in a PAE guest's PDPTEs when it walks them under nested paging, and that bit is
 * reserved in PDPTEs: a CR4 write that makes KVM reload the PDPTRs (kvm_set_cr4 → load_pdptrs) then fails with
 * #GP. Real AMD hardware leaves PDPTEs alone, so this is a limit of the TCG target only.
 */
function tcgPdptrProblem(a: Analysis, s: Step, target: RealTarget): string | undefined {
  const op = s.statement.op;
  if (!target.tcg || !a.vm.tdp || op.op !== 'write_cr' || op.reg !== 'cr4') return undefined;
  const regs = a.stateAt(s.line - 1).vcpus[s.vcpu]?.regs;
  if (!regs) return undefined;
  const cr0 = BigInt(regs.cr0);
  const cr4 = BigInt(regs.cr4);
  const efer = BigInt(regs.efer);
  const paePaging = (cr0 & (1n << 31n)) !== 0n && (cr4 & (1n << 5n)) !== 0n && (efer & (1n << 10n)) === 0n;
  if (!paePaging) return undefined;
  const next = op.mode === '=' ? op.value : op.mode === '|=' ? cr4 | op.value : cr4 & op.value;
  if (((next ^ cr4) & PDPTR_CR4_BITS) === 0n) return undefined;
  return 'a PAE guest’s PDPTR reload: QEMU TCG sets the (reserved) accessed bit in PDPTEs, so KVM would inject #GP';
}

/** The statement's source text (for reports). */
export function stepText(a: Analysis, s: Step): string {
  const lineText = a.lines.line(s.line) ?? '';
  return lineText.slice(s.statement.span.start, s.statement.span.end);
}

export function lowerScenario(a: Analysis, target: RealTarget): Lowered {
  const vm = a.vm;
  const config: RealConfig = { tdp_mmu: vm.tdp_mmu, tdp: vm.tdp, vcpus: vm.vcpus, nested: vm.nested };
  const verdicts: LineVerdict[] = [];
  const groups: number[][] = [];
  const program: string[] = [];
  const text = (s: Step): string => (a.lines.line(s.line) ?? '').slice(s.statement.span.start, s.statement.span.end);

  let refused: string | undefined;
  if (vm.vendor !== target.vendor)
    refused =
      vm.vendor === 'intel'
        ? target.tcg
          ? '`vm vendor=intel` needs VMX, which QEMU TCG does not emulate: run it on an Intel host with /dev/kvm'
          : '`vm vendor=intel` needs an Intel host (this kernel runs kvm_amd)'
        : '`vm vendor=amd` needs an AMD host (this kernel runs kvm_intel); `--qemu` runs AMD under QEMU TCG';
  else if (vm.vcpus > MAX_REAL_VCPUS) refused = `the driver runs at most ${MAX_REAL_VCPUS} vCPUs`;
  else if (vm.max_tdp_level === 5 && vm.tdp) refused = '`max_tdp_level=5` needs a host with 5-level paging (LA57)';
  else if (vm.memory === 'slots')
    refused = '`vm memory=slots`: the driver’s guest memory is its own fixed RAM slot, not a declared layout';
  if (refused !== undefined) {
    for (const s of a.steps)
      verdicts.push({ line: s.line + 1, vcpu: s.vcpu, text: text(s), runnable: false, reason: refused });
    return { config, program, verdicts, groups, refused };
  }

  // nx_huge_pages is a kvm.ko parameter: under QEMU the driver sets the value the VM starts with before creating it.
  if (target.tcg && a.steps.toArray().some((s) => s.statement.op.op === 'nx_huge_pages'))
    program.push(`nxhuge ${vm.nx_huge_pages ? 1 : 0}`);
  program.push(`vm ${vm.vcpus} ${vm.nested ? 1 : 0}`);
  // Memslots: the scenario's slot N is KVM slot N + 1 (slot 0 is the guest's RAM). A slot first deleted or
  // moved is created before the first line, as it would exist in a VM that has one.
  const present = new Set<number>();
  const seen = new Set<number>();
  const slotAt = new Map<number, bigint>();
  for (const s of a.steps) {
    const op = s.statement.op;
    if (op.op !== 'memslot' || op.slot + 1 > MAX_SLOT || seen.has(op.slot)) continue;
    seen.add(op.slot);
    if (op.action === 'create') continue;
    present.add(op.slot);
    const gpa = SLOT_BASE + BigInt(op.slot + 1) * 0x20_0000n;
    slotAt.set(op.slot, gpa);
    program.push(`slot ${op.slot + 1} ${hex(gpa)}`);
  }

  const pending = new Map<number, number[]>(); // vCPU → lines waiting for its next KVM_RUN
  const ran = new Set<number>();
  let stoppedBy: number | undefined;

  const flush = (v: number): void => {
    const ls = pending.get(v);
    if (!ls || ls.length === 0) return;
    program.push(`mark line ${ls[ls.length - 1]}`, `run ${v}`);
    groups.push(ls);
    pending.delete(v);
    ran.add(v);
  };
  const flushAll = (): void => {
    for (const v of [...pending.keys()].sort((x, y) => x - y)) flush(v);
  };
  const refuse = (s: Step, reason: string): void => {
    verdicts.push({ line: s.line + 1, vcpu: s.vcpu, text: text(s), runnable: false, reason });
  };

  for (const s of a.steps) {
    const op = s.statement.op;
    const line = s.line + 1;
    const v = s.vcpu;
    if (stoppedBy !== undefined) {
      refuse(s, `not run: line ${stoppedBy} could not run, and the state after it would differ`);
      continue;
    }
    const outcome = s.result.outcome;
    if (outcome === 'gp' || outcome === 'vmfail' || outcome === 'error') {
      // The model says the state does not change: skipping the line keeps both sides in step.
      refuse(
        s,
        outcome === 'gp'
          ? 'the model injects #GP here; the driver’s guest has no exception handlers, so the line is skipped'
          : outcome === 'vmfail'
            ? 'the model fails this VM-Enter; the driver does not run failing entries'
            : (s.result.message ?? 'the model refuses this line'),
      );
      continue;
    }
    let why = unrunnable(op, { vendor: vm.vendor, tcg: target.tcg }, ran.has(v)) ?? tcgPdptrProblem(a, s, target);
    if (op.op === 'set_nr_mmu_pages' && (!vm.tdp || !vm.tdp_mmu || vm.nested))
      why =
        'KVM_SET_NR_MMU_PAGES runs only with the TDP MMU and no nesting, where no shadow page exists: the model counts only root pages against the limit, while a real guest’s faults also allocate child shadow pages, so recycling would start at other lines';
    if (op.op === 'memslot') {
      const k = op.slot;
      if (k + 1 > MAX_SLOT) why = `the driver handles memslots 0–${MAX_SLOT - 1}`;
      else if (op.action === 'create' && present.has(k)) why = `memslot ${k} already exists`;
      else if (op.action !== 'create' && !present.has(k)) why = `memslot ${k} does not exist`;
    }
    if (why !== undefined) {
      refuse(s, why);
      stoppedBy = line;
      continue;
    }
    const group = (): number => groups.length;
    if (GUEST_INSTRUCTION.has(op.op) || op.op === 'smi') {
      // An SMI is taken before the guest executes anything: instructions queued before it run first.
      for (const u of [...pending.keys()]) if (u !== v || op.op === 'smi') flush(u);
      const ls = pending.get(v) ?? [];
      ls.push(line);
      pending.set(v, ls);
      program.push(`mark line ${line}`, ...queued(op, v));
      verdicts.push({ line, vcpu: v, text: text(s), runnable: true, group: -1 });
      continue;
    }
    if (op.op === 'run') {
      for (const u of [...pending.keys()]) if (u !== v) flush(u);
      const ls = pending.get(v) ?? [];
      ls.push(line);
      pending.delete(v);
      groups.push(ls);
      ran.add(v);
      program.push(`mark line ${line}`, `run ${v}`);
      verdicts.push({ line, vcpu: v, text: text(s), runnable: true, group: group() - 1 });
      continue;
    }
    flushAll();
    program.push(`mark line ${line}`);
    if (op.op === 'sregs')
      program.push(
        `sregs ${v} ${[op.cr0, op.cr3, op.cr4, op.efer].map((x) => (x === undefined ? '-' : hex(x))).join(' ')}`,
      );
    else if (op.op === 'memslot') {
      {
        const k = op.slot;
        if (op.action === 'create') {
          const gpa = SLOT_BASE + BigInt(k + 1) * 0x20_0000n;
          slotAt.set(k, gpa);
          present.add(k);
          program.push(`slot ${k + 1} ${hex(gpa)}`);
        } else if (op.action === 'delete') {
          present.delete(k);
          program.push(`delslot ${k + 1}`);
        } else {
          const gpa = (slotAt.get(k) ?? SLOT_BASE) ^ 0x10_0000n;
          slotAt.set(k, gpa);
          program.push(`moveslot ${k + 1} ${hex(gpa)}`);
        }
      }
    } else if (op.op === 'cpuid') program.push(`cpuid ${v} ${op.maxphyaddr}`);
    else if (op.op === 'set_nr_mmu_pages') program.push(`nrmmupages ${op.pages}`);
    else if (op.op === 'nx_huge_pages') program.push(`nxhuge ${op.on ? 1 : 0}`);
    else if (op.op === 'destroy_vm') program.push('destroyvm');
    groups.push([line]);
    verdicts.push({ line, vcpu: v, text: text(s), runnable: true, group: groups.length - 1 });
  }
  flushAll();
  program.push('end');
  // Deferred lines learn their group only when it closes.
  const groupOf = new Map<number, number>();
  groups.forEach((g, i) => g.forEach((l) => groupOf.set(l, i)));
  for (const verdict of verdicts) if (verdict.runnable) verdict.group = groupOf.get(verdict.line) ?? -1;
  return { config, program, verdicts, groups };
}

/** A guest instruction (or `smi`) as driver instructions. */
function queued(op: ModelOp, v: number): string[] {
  const opChar = (m: '=' | '|=' | '&='): string => (m === '=' ? '=' : m === '|=' ? '|' : '&');
  const r = (x: bigint | undefined): string => (x === undefined ? '-' : hex(x));
  if (op.op === 'write_cr')
    return [`q ${v} wcr ${op.reg === 'cr0' ? 0 : op.reg === 'cr4' ? 4 : 8} ${opChar(op.mode)} ${hex(op.value)}`];
  if (op.op === 'write_cr3') return [`q ${v} wcr 3 = ${hex(op.noflush ? op.value | (1n << 63n) : op.value)}`];
  if (op.op === 'rsm') return [`q ${v} rsm`];
  if (op.op === 'vmexit') return [`q ${v} vmexit`];
  if (op.op === 'invlpg') return [`q ${v} invlpg ${hex(op.addr)}`];
  if (op.op === 'vmenter')
    return [`q ${v} vmrun ${op.npt ? 1 : 0} ${hex(op.ncr3)} ${r(op.cr0)} ${r(op.cr3)} ${r(op.cr4)} ${r(op.efer)}`];
  if (op.op === 'smi') return [`smi ${v}`];
  return [];
}

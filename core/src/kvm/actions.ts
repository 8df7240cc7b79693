/**
 * The one choke point where the model records state changes. Model functions run inside
 * `rec.call('kernel_function', () => …)`, so every action carries the kernel call path that led to it,
 * outermost first. Views render these actions; nothing recomputes them.
 */
import { flat } from '../util/flat.js';
import { Interner } from '../util/intern.js';
import { FixedKeyTree } from '../util/key_tree.js';
import { SmallMap } from '../util/small_map.js';
import type { Action, ActionOp, StepOutcome, StepResult } from '../kernel/types.js';

export type ActionFields = Omit<Action, 'op' | 'path' | 'detail'>;

/**
 * One call-stack state: its path (frozen, shared by every action recorded in that state, so a scenario's
 * hundreds of thousands of actions hold a few dozen path arrays) and the states one call deeper.
 */
class Frame {
  private readonly children = new SmallMap<string, Frame>();
  /** The child last asked for: most frames call one function most of the time, so this skips the map. */
  private lastFn: string | undefined;
  private lastChild: Frame | undefined;
  constructor(readonly path: readonly string[]) {}

  child(fn: string): Frame {
    if (fn === this.lastFn) return this.lastChild as Frame;
    let f = this.children.get(fn);
    if (!f) {
      f = new Frame(Object.freeze([...this.path, fn]));
      this.children.set(fn, f);
    }
    this.lastFn = fn;
    this.lastChild = f;
    return f;
  }
}

/**
 * What one model run (a `createKvm` and its clones: one analysis) remembers to share recurring objects: the call
 * path tree, the shared actions and results, interned texts and computed roles. Owned by the run, never by a
 * module, so documents in one server share nothing; every structure in it is bounded.
 */
export class ModelCaches {
  /**
   * The call-path tree: the set of distinct kernel call paths is small and fixed by the model's code, so the tree
   * stays small however long the scenario is.
   */
  readonly root = new Frame(Object.freeze([]));
  /** Each SharedActions' objects, by its `id`. */
  readonly shared: FixedKeyTree<Action>[] = [];
  /** Detail sentences, one copy each (see Interner). */
  readonly details = new Interner(MAX_SENTENCES);
  /** Step summaries, one copy each (a long scenario has a few dozen distinct ones). */
  readonly summaries = new Interner(4096);
  /** Results of steps whose actions are all shared, by outcome, then number of actions (kvm.ts sharedResult). */
  readonly results = new SmallMap<StepOutcome, FixedKeyTree<StepResult>[]>();
  /** `LABEL: what` summaries (kvm.ts labelled). */
  readonly labelled = new FixedKeyTree<string>(1024);
  /** Frozen roles by their inputs (mmu.ts rolesOf); the value type is mmu.ts's. */
  readonly roles = new FixedKeyTree<object>(4096);
  /** `vCPU N (mmu.slot)` holder names (mmu.ts whoHolds). */
  readonly holders = new FixedKeyTree<string>(4096);
  /** Page roles as summarizePageRole words them (tdp_mmu.ts describeRole): the run has one kernel. */
  readonly roleTexts = new Map<number, string>();
}

/** What a shared action says, given its key (everything but the call path, which the recorder supplies). */
export interface ActionTemplate {
  op: ActionOp;
  detail: string;
  fields?: ActionFields;
}

type Key = string | number | bigint | object;

/**
 * Actions the model records over and over with the same content — a re-initialisation with the same role, a
 * request, a flush, a register write that does not exit, a root reuse or put with the same counts — are made once
 * per call path and key and shared after, frozen: a long scenario then holds a few thousand distinct objects, not
 * one per step, and the JSON writer encodes each once. `build` must depend only on the key, so the key holds
 * everything the action says (including the kernel when the wording depends on it); keys of one SharedActions
 * all have the same length: `build` takes the key's values as plain parameters (no defaults, no rest), and their
 * count is the key's length. Bounded (FixedKeyTree).
 */
export class SharedActions<K extends readonly Key[]> {
  private static count = 0;
  /** Where a run's ModelCaches keeps this set's objects. */
  private readonly id = SharedActions.count++;
  /** How many values a key has (all keys of one SharedActions have the same length): `build`'s parameters. */
  private readonly arity: number;

  constructor(private readonly build: (...key: K) => ActionTemplate) {
    if (build.length > MAX_KEY)
      throw new RangeError(`SharedActions: keys of ${build.length} values (at most ${MAX_KEY})`);
    this.arity = build.length;
  }

  /** @internal The recorder's lookup: the key's values one by one (see Recorder.emitShared). */
  lookup(
    caches: ModelCaches,
    frame: Frame,
    k0?: Key,
    k1?: Key,
    k2?: Key,
    k3?: Key,
    k4?: Key,
    k5?: Key,
    k6?: Key,
  ): Action {
    const made = (caches.shared[this.id] ??= new FixedKeyTree<Action>(MAX_SENTENCES));
    const known = made.getN(frame, this.arity, k0, k1, k2, k3, k4, k5, k6);
    if (known) return known;
    const key = [k0, k1, k2, k3, k4, k5, k6].slice(0, this.arity) as unknown as K;
    const t = this.build(...key);
    const action = new PlainAction(t.op, frame.path, caches.details.of(t.detail));
    if (t.fields) Object.assign(action, t.fields);
    deepFreeze(action);
    made.set(frame, key, action);
    return action;
  }
}

/** The most values a shared action's key may have (FixedKeyTree.getN). */
const MAX_KEY = 7;

function deepFreeze(o: object): void {
  for (const v of Object.values(o) as unknown[])
    if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) deepFreeze(v);
  Object.freeze(o);
}

const MAX_SENTENCES = 10_000;

/**
 * Builds an action as a plain object (its prototype is Object.prototype, so it compares and serialises exactly
 * like `{ op, path, detail, ...fields }`, keys in that order). Made by a constructor so that V8 reserves room for
 * the fields added after `detail` inside the object instead of a separate property array: ~16 bytes less per
 * action, and faster to build.
 */
const PlainAction = function (this: Action, op: ActionOp, path: readonly string[], detail: string) {
  this.op = op;
  this.path = path;
  this.detail = detail;
} as unknown as new (op: ActionOp, path: readonly string[], detail: string) => Action;
PlainAction.prototype = Object.prototype;

/**
 * Refcount changes are a few small pairs (0→1, 1→0, 1→2, …) recorded hundreds of thousands of times: one frozen
 * array per pair below REFCOUNT_PAIRS, a constant table, so an action keeps a reference instead of its own array.
 */
const REFCOUNT_PAIRS = 8;
const PAIRS: readonly (readonly [number, number])[][] = Array.from({ length: REFCOUNT_PAIRS }, (_, from) =>
  Array.from({ length: REFCOUNT_PAIRS }, (_, to) => Object.freeze([from, to] as [number, number])),
);
function refcountPair(pair: [number, number]): [number, number] {
  const [from, to] = pair;
  const shared = from < REFCOUNT_PAIRS && to < REFCOUNT_PAIRS && from >= 0 && to >= 0 ? PAIRS[from]?.[to] : undefined;
  return (shared as [number, number] | undefined) ?? pair;
}

export class Recorder {
  /** What the current step recorded so far (a new list each step: results copy it, never keep it). */
  actions: Action[] = [];
  private frame: Frame;
  /** How many of `actions` are not shared (see `allShared`). */
  private unshared = 0;

  /** `caches`: the run's (a model and its clones share one). */
  constructor(readonly caches: ModelCaches = new ModelCaches()) {
    this.frame = caches.root;
  }

  /** Forgets what was recorded (the model's next step starts afresh; results never hold this list). */
  reset(): void {
    if (this.actions.length !== 0) this.actions = [];
    this.frame = this.caches.root;
    this.unshared = 0;
  }

  /** Whether every action recorded since `reset` is a shared one (see SharedActions): frozen, made once. */
  allShared(): boolean {
    return this.unshared === 0;
  }

  /** Runs `body` as if called from the current path through kernel function `fn`. */
  call<T>(fn: string, body: () => T): T {
    const saved = this.enter(fn);
    // No try/finally: a throw abandons the whole step, and the next one starts from `reset`.
    const r = body();
    this.leave(saved);
    return r;
  }

  /**
   * `call` without the closure, for the paths every step takes: the current path goes through kernel function `fn`
   * until `leave` is given what this returns. As with `call`, a throw needs no `leave` (see `call`).
   */
  enter(fn: string): Frame {
    const saved = this.frame;
    this.frame = saved.child(fn);
    return saved;
  }

  /** Back to the path `enter` returned. */
  leave(saved: Frame): void {
    this.frame = saved;
  }

  /**
   * Runs `body` on a different thread of execution (e.g. the TDP MMU zap worker): its path starts at
   * `fn`, not at whatever the statement was doing.
   */
  detached<T>(fn: string, body: () => T): T {
    const saved = this.frame;
    this.frame = this.caches.root.child(fn);
    try {
      return body();
    } finally {
      this.frame = saved;
    }
  }

  /** Records an action. Its `path` is a frozen array shared with other actions recorded at the same call path. */
  emit(op: ActionOp, detail: string, fields?: ActionFields): Action {
    return this.emitUnique(op, this.caches.details.of(detail), fields);
  }

  /**
   * `emit` for an action whose detail is new nearly every time (it quotes register values): the text is not
   * interned, since interning a text that never recurs only costs a hash and a table entry.
   */
  emitUnique(op: ActionOp, detail: string, fields?: ActionFields): Action {
    const action = new PlainAction(op, this.frame.path, flat(detail));
    if (fields) {
      Object.assign(action, fields);
      if (fields.refcount) action.refcount = refcountPair(fields.refcount);
    }
    this.actions.push(action);
    this.unshared++;
    return action;
  }

  /**
   * Records an action from a shared set (see SharedActions): the same frozen object every time this call path
   * records it with this key.
   */
  emitShared<K extends readonly Key[]>(actions: SharedActions<K>, ...key: K): Action;
  // The key's values are taken one by one, not as a rest array: this runs hundreds of thousands of times.
  emitShared(
    actions: SharedActions<readonly Key[]>,
    k0?: Key,
    k1?: Key,
    k2?: Key,
    k3?: Key,
    k4?: Key,
    k5?: Key,
    k6?: Key,
  ): Action {
    const action = actions.lookup(this.caches, this.frame, k0, k1, k2, k3, k4, k5, k6);
    this.actions.push(action);
    return action;
  }

  /**
   * `emitShared`, recorded ahead of everything recorded since `mark`: a summary that heads the actions it
   * summarises (an unload before the puts it made), although what it lists is only known at the end.
   */
  emitSharedBefore<K extends readonly Key[]>(mark: number, actions: SharedActions<K>, ...key: K): Action {
    // Less hot than `emitShared` (an unload that dropped roots): the key may come as an array.
    const action = (actions as SharedActions<readonly Key[]>).lookup(this.caches, this.frame, ...key);
    this.actions.splice(mark, 0, action);
    return action;
  }

  /** A position in the action list, for `emitSharedBefore`. */
  mark(): number {
    return this.actions.length;
  }

  has(op: ActionOp): boolean {
    return this.actions.some((a) => a.op === op);
  }
}

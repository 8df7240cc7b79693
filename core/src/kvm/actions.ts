/**
 * The one choke point where the model records state changes. Model functions run inside
 * `rec.call('kernel_function', () => …)`, so every action carries the kernel call path that led to it,
 * outermost first. Views render these actions; nothing recomputes them.
 */
import type { Action, ActionOp } from './types.js';

export type ActionFields = Omit<Action, 'op' | 'path' | 'detail'>;

export class Recorder {
  readonly actions: Action[] = [];
  private stack: string[] = [];

  /** Runs `body` as if called from the current path through kernel function `fn`. */
  call<T>(fn: string, body: () => T): T {
    this.stack.push(fn);
    try {
      return body();
    } finally {
      this.stack.pop();
    }
  }

  /**
   * Runs `body` on a different thread of execution (e.g. the TDP MMU zap worker): its path starts at
   * `fn`, not at whatever the statement was doing.
   */
  detached<T>(fn: string, body: () => T): T {
    const saved = this.stack;
    this.stack = [fn];
    try {
      return body();
    } finally {
      this.stack = saved;
    }
  }

  emit(op: ActionOp, detail: string, fields: ActionFields = {}): Action {
    const action: Action = { op, path: this.stack.slice(), detail, ...fields };
    this.actions.push(action);
    return action;
  }

  has(op: ActionOp): boolean {
    return this.actions.some((a) => a.op === op);
  }
}

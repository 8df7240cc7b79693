/**
 * The CLI's work runs on the main thread; V8's helper threads (the optimizing compiler, the collector's helpers)
 * run beside it. On a machine with few cores they take turns with the main thread, which then waits, runnable,
 * for a core: on the 2-core benchmark machine `check --json` on 100k statements spent 50–100 ms of its ≈ 600 that
 * way (/proc/self/task/<tid>/schedstat). Giving the helpers a lower priority than the main thread makes them run
 * beside it, not instead of it. Linux only: there a thread's nice value is its own (setpriority on a thread id,
 * see setpriority(2)), and raising one's own is always allowed. Elsewhere, or when anything fails, nothing changes.
 */
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** How much lower the helpers' priority is made (nice values go up to 19). */
const HELPER_NICE = 10;

/** Lowers the priority of the process's threads other than the main one. Returns how many were lowered. */
export function lowerHelperThreads(): number {
  if (process.platform !== 'linux') return 0;
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return 0;
  }
  let lowered = 0;
  for (const task of tasks) {
    const tid = Number(task);
    if (!Number.isInteger(tid) || tid === process.pid) continue;
    try {
      setPriority(tid, Math.min(19, getPriority(tid) + HELPER_NICE));
      lowered++;
    } catch {
      // The thread ended meanwhile, or the system says no: leave it as it is.
    }
  }
  return lowered;
}

// Child processes for the e2e harness: bounded runs, and long-lived process groups that are always
// killed as a whole (code-server's extension hosts and language servers outlive their parent otherwise).
import { spawn } from 'node:child_process';

/** Runs a command to completion, inheriting output unless `quiet`; rejects on non-zero exit or timeout. */
export function run(cmd, args, { cwd, env, timeoutMs, quiet = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: env ?? process.env,
      stdio: quiet ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
      detached: true,
    });
    let output = '';
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      killGroup(child.pid, 'SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')}: timed out after ${timeoutMs} ms\n${output}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${cmd} ${args.join(' ')}: exit ${code ?? signal}\n${output}`));
    });
  });
}

/** Sends `signal` to the whole process group led by `pid`; true when the group still existed. */
export function killGroup(pid, signal) {
  if (!pid) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

export function groupAlive(pid) {
  return killGroup(pid, 0);
}

/** SIGTERM the group, wait up to `graceMs` for it to go, then SIGKILL whatever is left. */
export async function stopGroup(pid, graceMs = 5000) {
  if (!killGroup(pid, 'SIGTERM')) return;
  await waitFor(() => !groupAlive(pid), { timeoutMs: graceMs, what: 'process group exit' }).catch(() => {});
  killGroup(pid, 'SIGKILL');
}

/**
 * Polls `predicate` (sync or async) every `intervalMs` until it is truthy; rejects after `timeoutMs`.
 * Errors thrown by the predicate count as "not yet", except those marked with `fatal` (see `fatal()`).
 */
export async function waitFor(predicate, { timeoutMs, intervalMs = 100, what = 'condition' }) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value;
    } catch (e) {
      if (e?.fatal) throw e;
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** An error that stops `waitFor` at once instead of being retried. */
export function fatal(message) {
  return Object.assign(new Error(message), { fatal: true });
}

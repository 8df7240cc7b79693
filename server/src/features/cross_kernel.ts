/**
 * Work across kernels: `kvmmu/explain`, `kvmmu/matrix`, `kvmmu/expectations` and the CodeLens "differs on v5.15,
 * v6.3 · why?". None of it touches the document's own analysis (diagnostics, hints, hovers): the runs under other
 * kernels are kept per document version in their own cache (KernelRuns), and the searches run a step at a time
 * (one analysis), giving the event loop back in between, so typing, hovers and a newer version's requests are
 * answered meanwhile. A cancelled request, or one whose document changed, stops at the next step.
 */
import type { CancellationToken, CodeLens, CodeLensParams } from 'vscode-languageserver/node';
import { ErrorCodes, LSPErrorCodes, ResponseError } from 'vscode-languageserver/node';
import { explainSteps } from '../../../core/src/engine/explain.js';
import { KernelRuns } from '../../../core/src/engine/kernel_runs.js';
import { matrixSteps, type Matrix } from '../../../core/src/engine/matrix.js';
import type { ExpectationsResult, ExplainResult } from '../../../core/src/protocol.js';
import { ExpectationsRequest, ExplainRequest, MatrixRequest } from '../../../core/src/protocol.js';
import { kernelFromSpec } from '../../../core/src/syntax/check.js';
import type { ServerContext } from '../context.js';
import { MAX_DOCUMENT_CHARS } from '../documents.js';
import { onRequest } from '../protocol.js';

/** The client command a lens runs: (uri, 0-based line, kernel to compare with). */
export const WHY_DIFFERS_COMMAND = 'kvmmu.whyDiffers';
/** Above this many lines the lenses are not computed (a matrix of a huge file is minutes of work). */
const MAX_LENS_LINES = 20_000;

class Stale extends Error {}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A search in progress, shared by the requests waiting for it; abandoned when the last of them is cancelled. */
interface Job<T> {
  promise: Promise<T>;
  waiters: number;
  abandoned: boolean;
  /** Called when abandoned: forget the job, so a later request starts over. */
  forget(): void;
}

/** Per document: the runs of one version and the results computed from them. */
interface Entry {
  version: number;
  defaultKernel: string;
  runs: KernelRuns;
  matrix?: Job<Matrix>;
  explains: Map<string, Job<ExplainResult['diff']>>;
}

export class CrossKernel {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly ctx: ServerContext) {}

  forget(uri: string): void {
    this.entries.delete(uri);
  }

  clear(): void {
    this.entries.clear();
  }

  /** The entry for the document's current version (a new one when the text or the default kernel changed). */
  private entry(uri: string): Entry | undefined {
    const doc = this.ctx.store.get(uri);
    if (!doc) return undefined;
    if (doc.getText().length > MAX_DOCUMENT_CHARS) return undefined;
    const defaultKernel = this.ctx.settings.get(uri).kernelDefault;
    const e = this.entries.get(uri);
    if (e && e.version === doc.version && e.defaultKernel === defaultKernel) return e;
    const fresh: Entry = {
      version: doc.version,
      defaultKernel,
      runs: new KernelRuns(doc.getText(), defaultKernel),
      explains: new Map(),
    };
    this.entries.set(uri, fresh);
    return fresh;
  }

  /**
   * Drives a step generator: one analysis, then the event loop, until done. Stops (Stale) when the document moved
   * on; the caller's token is checked by `await`ers, since a result shared by several requests must not be
   * abandoned because one of them was cancelled.
   */
  private job<T>(uri: string, entry: Entry, steps: Generator<void, T>, forget: () => void): Job<T> {
    const job: Job<T> = { promise: Promise.resolve() as Promise<T>, waiters: 0, abandoned: false, forget };
    job.promise = this.drive(uri, entry, steps, job);
    job.promise.catch(() => forget());
    return job;
  }

  private async drive<T>(uri: string, entry: Entry, steps: Generator<void, T>, job: Job<T>): Promise<T> {
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
      await yieldToLoop();
      if (job.abandoned || this.entries.get(uri) !== entry || this.ctx.store.get(uri)?.version !== entry.version) {
        steps.return(undefined as never);
        throw new Stale();
      }
    }
  }

  matrixOf(uri: string): { entry: Entry; matrix: Job<Matrix> } | undefined {
    const entry = this.entry(uri);
    if (!entry) return undefined;
    // A stale or abandoned search is dropped so the next request starts over.
    entry.matrix ??= this.job(uri, entry, matrixSteps(entry.runs.text, { runs: entry.runs }), () => {
      delete entry.matrix;
    });
    return { entry, matrix: entry.matrix };
  }

  explainOf(uri: string, specA: string, specB: string): { entry: Entry; diff: Job<ExplainResult['diff']> } | undefined {
    const entry = this.entry(uri);
    if (!entry) return undefined;
    const key = JSON.stringify([specA, specB]);
    let job = entry.explains.get(key);
    if (!job) {
      const steps = explainSteps(entry.runs.text, specA, specB, { runs: entry.runs });
      const made: Job<ExplainResult['diff']> = this.job(uri, entry, steps, () => {
        if (entry.explains.get(key) === made) entry.explains.delete(key);
      });
      job = made;
      if (entry.explains.size >= 8) entry.explains.delete(entry.explains.keys().next().value as string);
      entry.explains.set(key, job);
    }
    return { entry, diff: job };
  }
}

/**
 * Waits for the job, or rejects as cancelled as soon as the token says so; the last waiter to go abandons the job
 * (it stops at its next step instead of running on for nobody).
 */
function untilCancelled<T>(job: Job<T>, token: CancellationToken | undefined): Promise<T> {
  job.waiters++;
  const leave = (): void => {
    if (--job.waiters === 0 && !job.abandoned) {
      job.abandoned = true;
      job.forget();
    }
  };
  return new Promise<T>((resolve, reject) => {
    if (token?.isCancellationRequested) {
      leave();
      return reject(cancelled());
    }
    let done = false;
    const sub = token?.onCancellationRequested(() => {
      if (done) return;
      done = true;
      leave();
      reject(cancelled());
    });
    job.promise.then(
      (v) => {
        done = true;
        job.waiters--;
        sub?.dispose();
        resolve(v);
      },
      (e: unknown) => {
        done = true;
        job.waiters--;
        sub?.dispose();
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

function cancelled(): ResponseError<void> {
  return new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
}

function answerError(e: unknown): ResponseError<void> {
  if (e instanceof ResponseError) return e as ResponseError<void>;
  if (e instanceof Stale) return new ResponseError(LSPErrorCodes.ContentModified, 'the document changed');
  return new ResponseError(ErrorCodes.InternalError, e instanceof Error ? e.message : String(e));
}

function badKernel(spec: unknown): ResponseError<void> | undefined {
  if (typeof spec !== 'string' || spec.length > 1000)
    return new ResponseError(ErrorCodes.InvalidParams, 'kernel must be a string like "v6.3 +tdp_mmu_root_ref"');
  const r = kernelFromSpec(spec);
  return r.kernel ? undefined : new ResponseError(ErrorCodes.InvalidParams, `kernel \`${spec}\`: ${r.error ?? ''}`);
}

const unknownDocument = (uri: unknown): ResponseError<void> =>
  new ResponseError(ErrorCodes.InvalidParams, `unknown or unanalysable document: ${String(uri)}`);

/** "v5.15, v5.17, v6.1, v6.3 +2" */
function kernelList(names: readonly string[]): string {
  return names.length <= 5 ? names.join(', ') : `${names.slice(0, 4).join(', ')} +${names.length - 4}`;
}

/** The kernel a lens compares with: the differing one nearest the file's own column (the likeliest question). */
function nearest(m: Matrix, differing: readonly string[]): string {
  const own = m.kernels.findIndex((k) => k.own);
  let best = differing[0]!;
  let dist = Infinity;
  for (const name of differing) {
    const i = m.kernels.findIndex((k) => k.name === name);
    const d = Math.abs(i - own) + (m.kernels[i]?.sameAs ? 0.5 : 0);
    if (d < dist) {
      dist = d;
      best = name;
    }
  }
  return best;
}

export function codeLensesOf(uri: string, m: Matrix): CodeLens[] {
  const lenses: CodeLens[] = [];
  for (const l of m.lines) {
    // `latest` is another name for v6.18: listed only when v6.18 is not.
    const differing = l.differsFromOwn.filter((k) => {
      const same = m.kernels.find((x) => x.name === k)?.sameAs;
      return k !== 'latest' || same === undefined || !l.differsFromOwn.includes(same);
    });
    if (differing.length === 0) continue;
    const kernel = nearest(m, differing);
    lenses.push({
      range: { start: { line: l.line, character: 0 }, end: { line: l.line, character: 0 } },
      command: {
        title: `differs on ${kernelList(differing)} · why?`,
        command: WHY_DIFFERS_COMMAND,
        arguments: [uri, l.line, kernel],
      },
    });
  }
  return lenses;
}

export function registerCrossKernel(ctx: ServerContext): CrossKernel {
  const { connection, store } = ctx;
  const cross = new CrossKernel(ctx);
  store.documents.onDidClose((e) => cross.forget(e.document.uri));

  onRequest(connection, ExplainRequest, async (p, token) => {
    try {
      const bad = (p?.kernelA !== undefined ? badKernel(p.kernelA) : undefined) ?? badKernel(p?.kernelB);
      if (bad) return bad;
      const job = cross.explainOf(p.uri, p.kernelA ?? KernelRuns.FILE, p.kernelB);
      if (!job) return unknownDocument(p?.uri);
      const diff = await untilCancelled(job.diff, token);
      return { uri: p.uri, version: job.entry.version, diff };
    } catch (e) {
      return answerError(e);
    }
  });

  onRequest(connection, MatrixRequest, async (p, token) => {
    try {
      const job = cross.matrixOf(p?.uri);
      if (!job) return unknownDocument(p?.uri);
      const matrix = await untilCancelled(job.matrix, token);
      return { uri: p.uri, version: job.entry.version, matrix };
    } catch (e) {
      return answerError(e);
    }
  });

  onRequest(connection, ExpectationsRequest, async (p, token) => {
    try {
      if (typeof p?.uri !== 'string' || !Array.isArray(p.kernels) || p.kernels.length > 64)
        return new ResponseError(ErrorCodes.InvalidParams, 'expected { uri, kernels: string[] }');
      for (const k of p.kernels) {
        const bad = k === KernelRuns.FILE ? undefined : badKernel(k);
        if (bad) return bad;
      }
      let runs: KernelRuns;
      if (typeof p.text === 'string') {
        if (p.text.length > MAX_DOCUMENT_CHARS) return new ResponseError(ErrorCodes.InvalidParams, 'text too large');
        runs = new KernelRuns(p.text, (await ctx.settings.resolve(p.uri)).kernelDefault);
      } else {
        const job = cross.matrixOf(p.uri);
        if (!job) return unknownDocument(p.uri);
        runs = job.entry.runs;
      }
      const out: ExpectationsResult['runs'] = [];
      for (const k of p.kernels) {
        if (token?.isCancellationRequested) return cancelled();
        const run = runs.run(k);
        out.push({
          kernel: k,
          label: run.kernel.label,
          errors: [...run.problems],
          results: run.expectations.map((e) => ({ line: e.line, ok: e.ok, actual: e.actual, message: e.message })),
        });
        await yieldToLoop();
      }
      return { uri: p.uri, runs: out };
    } catch (e) {
      return answerError(e);
    }
  });

  connection.onCodeLens(async (p: CodeLensParams, token: CancellationToken): Promise<CodeLens[]> => {
    try {
      const doc = store.get(p.textDocument.uri);
      if (!doc || doc.lineCount > MAX_LENS_LINES) return [];
      const job = cross.matrixOf(p.textDocument.uri);
      if (!job) return [];
      const m = await untilCancelled(job.matrix, token);
      return codeLensesOf(p.textDocument.uri, m);
    } catch {
      // Cancelled or stale (a newer version's lenses are on their way), or a failure: no lenses, never an error.
      return [];
    }
  });

  return cross;
}

/** The typed `kvmmu/…` requests of core/src/protocol.ts (documented in docs/protocol.md). */
import { ErrorCodes, ResponseError } from 'vscode-languageserver/node';
import { compareAnalyses, kernelOf, profiles, stateAt, timeline } from '../../../core/src/features/timeline.js';
import type { RequestType } from '../../../core/src/protocol.js';
import {
  CompareRequest,
  KernelRequest,
  ProfilesRequest,
  StateAtRequest,
  TimelineRequest,
} from '../../../core/src/protocol.js';
import { DEFAULT_SETTINGS } from '../../../core/src/settings.js';
import { kernelFromSpec } from '../../../core/src/syntax/check.js';
import type { ServerContext } from '../context.js';
import { guard } from '../context.js';
import { onRequest, type Answer } from '../protocol.js';

function unknownDocument(uri: unknown): ResponseError<void> {
  return new ResponseError(ErrorCodes.InvalidParams, `unknown or unanalysable document: ${String(uri)}`);
}

/**
 * A kernel spec is a profile name with optional `+name`/`-name`, checked exactly as a `kernel` line is: an
 * unknown profile or behaviour is the caller's error, never silently the file's own kernel.
 */
function badKernel(spec: unknown): ResponseError<void> | undefined {
  if (typeof spec !== 'string' || spec.length > 1000)
    return new ResponseError(ErrorCodes.InvalidParams, 'kernel must be a string like "v6.3 +tdp_mmu_root_ref"');
  const { error } = kernelFromSpec(spec);
  return error === undefined ? undefined : new ResponseError(ErrorCodes.InvalidParams, `kernel \`${spec}\`: ${error}`);
}

/** A synchronous request: refused before `initialize` or when cancelled, an exception answered InternalError. */
function serve<P, R>(ctx: ServerContext, request: RequestType<P, R>, handler: (params: P) => Answer<R>): void {
  const fail = new ResponseError<void>(ErrorCodes.InternalError, 'request failed');
  onRequest(ctx.connection, request, guard<P, Answer<R>>(ctx, request.method, fail, handler));
}

export function registerCustomRequests(ctx: ServerContext): void {
  const { store, settings } = ctx;

  serve(ctx, TimelineRequest, (p) => {
    if (p?.kernel !== undefined) {
      const bad = badKernel(p.kernel);
      if (bad) return bad;
    }
    const a = p?.kernel === undefined ? store.analysis(p?.uri) : store.analysisUnder(p.uri, p.kernel);
    const doc = store.get(p?.uri);
    return a && doc ? timeline(a, p.uri, doc.version) : unknownDocument(p?.uri);
  });

  serve(ctx, StateAtRequest, (p) => {
    const doc = store.get(p?.uri);
    if (!doc || typeof p.line !== 'number' || !Number.isInteger(p.line)) return unknownDocument(p?.uri);
    if (p.kernel !== undefined) {
      const bad = badKernel(p.kernel);
      if (bad) return bad;
    }
    const a = p.kernel === undefined ? store.analysis(p.uri) : store.analysisUnder(p.uri, p.kernel);
    return a ? stateAt(a, p.uri, doc.version, p.line) : unknownDocument(p.uri);
  });

  serve(ctx, KernelRequest, (p) => {
    const doc = store.get(p?.uri);
    const a = doc ? store.analysis(p.uri) : undefined;
    if (!doc || !a) return unknownDocument(p?.uri);
    const value = settings.get(p.uri).kernelDefault;
    return kernelOf(a, p.uri, doc.version, { value, isDefault: value === DEFAULT_SETTINGS.kernelDefault });
  });

  serve(ctx, CompareRequest, (p) => {
    const bad = badKernel(p?.kernelA) ?? badKernel(p?.kernelB);
    if (bad) return bad;
    const a = store.analysisUnder(p.uri, p.kernelA);
    const b = store.analysisUnder(p.uri, p.kernelB);
    if (!a || !b) return unknownDocument(p.uri);
    return { uri: p.uri, kernelA: a.kernel.label, kernelB: b.kernel.label, lines: compareAnalyses(a, b) };
  });

  serve(ctx, ProfilesRequest, () => profiles());
}

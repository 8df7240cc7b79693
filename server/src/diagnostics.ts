/**
 * Diagnostics, debounced per document: every change restarts the document's timer, so rapid typing
 * analyses only the version the user paused on. The delay adapts to what the analysis costs: half the last
 * analysis time, capped at `delayMs` — an incremental re-analysis of a few milliseconds publishes almost at
 * once, a slow full analysis waits for the pause. An isolated edit so pays at most 1.5× the analysis (a delay
 * of twice the cost tripled the latency of a full re-analysis of a 10,000-line document, ~200 ms instead of
 * ~70 ms), while edits that come faster than the analysis could keep up with are still coalesced.
 * Published with the version they describe.
 */
import { toLspDiagnostic } from './convert.js';
import type { ServerContext } from './context.js';

export class DiagnosticsPublisher {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Milliseconds the last analysis of each document took. */
  private readonly cost = new Map<string, number>();

  constructor(
    private readonly ctx: ServerContext,
    private readonly delayMs: number,
  ) {}

  schedule(uri: string): void {
    this.cancel(uri);
    this.timers.set(
      uri,
      setTimeout(
        () => {
          this.timers.delete(uri);
          this.publishNow(uri);
        },
        Math.min(this.delayMs, (this.cost.get(uri) ?? this.delayMs) / 2),
      ),
    );
  }

  scheduleAll(): void {
    for (const doc of this.ctx.store.documents.all()) this.schedule(doc.uri);
  }

  cancel(uri: string): void {
    const t = this.timers.get(uri);
    if (t !== undefined) clearTimeout(t);
    this.timers.delete(uri);
  }

  clear(uri: string): void {
    this.cancel(uri);
    this.cost.delete(uri);
    void this.ctx.connection.sendDiagnostics({ uri, diagnostics: [] });
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private publishNow(uri: string): void {
    try {
      const started = performance.now();
      const state = this.ctx.store.state(uri);
      if (!state) return;
      this.cost.set(uri, performance.now() - started);
      // An edit that arrived while analysing has its own timer; this result is still right for its version.
      const diagnostics = state.kind === 'too_large' ? [state.diagnostic] : state.analysis.diagnostics;
      void this.ctx.connection.sendDiagnostics({
        uri,
        version: state.document.version,
        diagnostics: diagnostics.map(toLspDiagnostic),
      });
    } catch (e) {
      this.ctx.connection.console.error(
        `diagnostics for ${uri} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
      );
    }
  }
}

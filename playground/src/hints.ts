/**
 * Per-line outcome hints in the editor: the server's `textDocument/inlayHint` answers drawn as widgets at
 * the end of each statement (lsp-client has no inlay hints). They are fetched for the visible lines after an
 * edit and whenever the server publishes an analysis (the kernel changed), and dropped if the text moved on
 * meanwhile. The editor
 * element carries `data-hints="fresh"` when the hints on screen belong to the text on screen.
 *
 * Edits reach the server within `SYNC_DELAY_MS` rather than lsp-client's own 500 ms, with a request for hints, so
 * hints follow typing.
 */
import { LSPPlugin } from '@codemirror/lsp-client';
import { StateEffect, StateField, type Extension, type Text } from '@codemirror/state';
import { Decoration, EditorView, ViewPlugin, WidgetType, type DecorationSet, type ViewUpdate } from '@codemirror/view';

const SYNC_DELAY_MS = 15;
const SCROLL_DELAY_MS = 80;
/** Lines above and below the viewport that get hints too, so scrolling a little shows them at once. */
const MARGIN_LINES = 60;

interface LspInlayHint {
  position: { line: number; character: number };
  label: string | { value: string }[];
  tooltip?: string | { value: string };
}

class HintWidget extends WidgetType {
  constructor(
    readonly label: string,
    readonly tooltip: string,
  ) {
    super();
  }
  override eq(other: HintWidget): boolean {
    return other.label === this.label && other.tooltip === this.tooltip;
  }
  override toDOM(): HTMLElement {
    const span = document.createElement('span');
    span.className = 'cm-kvmmu-hint';
    span.textContent = this.label;
    if (this.tooltip) span.title = this.tooltip;
    return span;
  }
  override ignoreEvent(): boolean {
    return false;
  }
}

const setHints = StateEffect.define<DecorationSet>();

const hintField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(hints, tr) {
    for (const e of tr.effects) if (e.is(setHints)) return e.value;
    return hints.map(tr.changes);
  },
  provide: (f) => EditorView.decorations.from(f),
});

class HintFetcher {
  private syncTimer: ReturnType<typeof setTimeout> | undefined;
  private scrollTimer: ReturnType<typeof setTimeout> | undefined;
  private generation = 0;
  private inFlight = false;

  constructor(private readonly view: EditorView) {
    view.dom.dataset['hints'] = 'stale';
  }

  update(update: ViewUpdate): void {
    if (update.docChanged) {
      this.generation++;
      this.view.dom.dataset['hints'] = 'stale';
      clearTimeout(this.syncTimer);
      // Sync and ask at once: the server analyses the new version for the request (incrementally), without
      // waiting for its diagnostics debounce. Their publication asks again, which the cache answers.
      this.syncTimer = setTimeout(() => void this.refresh(), SYNC_DELAY_MS);
    } else if (update.viewportChanged) {
      clearTimeout(this.scrollTimer);
      this.scrollTimer = setTimeout(() => void this.refresh(), SCROLL_DELAY_MS);
    }
  }

  destroy(): void {
    clearTimeout(this.syncTimer);
    clearTimeout(this.scrollTimer);
  }

  /** The server published an analysis: ask unless the hints on screen or a request in flight are current. */
  analysed(): void {
    if (this.view.dom.dataset['hints'] !== 'fresh' && !this.inFlight) void this.refresh();
  }

  /** What the server answers changed without an edit (the kernel): drop answers in flight, ask again. */
  invalidate(): void {
    this.generation++;
    this.view.dom.dataset['hints'] = 'stale';
    void this.refresh();
  }

  async refresh(): Promise<void> {
    const plugin = LSPPlugin.get(this.view);
    if (!plugin) return;
    plugin.client.sync();
    const generation = ++this.generation;
    this.inFlight = true;
    const doc: Text = this.view.state.doc;
    const { from, to } = this.view.viewport;
    const first = Math.max(0, doc.lineAt(from).number - 1 - MARGIN_LINES);
    const last = Math.min(doc.lines, doc.lineAt(to).number + MARGIN_LINES);
    let hints: LspInlayHint[] | null;
    try {
      hints = await plugin.client.request<unknown, LspInlayHint[] | null>('textDocument/inlayHint', {
        textDocument: { uri: plugin.uri },
        range: { start: { line: first, character: 0 }, end: { line: last, character: 0 } },
      });
    } catch {
      return; // the server restarted or timed out; the next analysis asks again
    } finally {
      if (generation === this.generation) this.inFlight = false;
    }
    if (generation !== this.generation || this.view.state.doc !== doc) return;
    const widgets = (hints ?? []).flatMap((h) => {
      const line = h.position.line;
      if (!Number.isInteger(line) || line < 0 || line >= doc.lines) return [];
      const pos = Math.min(plugin.fromPosition(h.position, doc), doc.line(line + 1).to);
      const label = typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join('');
      const tooltip = typeof h.tooltip === 'string' ? h.tooltip : (h.tooltip?.value ?? '');
      return [Decoration.widget({ widget: new HintWidget(label, tooltip), side: 1 }).range(pos)];
    });
    this.view.dispatch({ effects: setHints.of(Decoration.set(widgets, true)) });
    this.view.dom.dataset['hints'] = 'fresh';
  }
}

const hintFetcher = ViewPlugin.fromClass(HintFetcher);

/** The editor extension. */
export function outcomeHints(): Extension {
  return [hintField, hintFetcher];
}

/** The server published diagnostics: its analysis of some version is done. */
export function hintsAnalysed(view: EditorView): void {
  view.plugin(hintFetcher)?.analysed();
}

/** The kernel changed: the hints on screen and in flight are for the old one. */
export function invalidateHints(view: EditorView): void {
  view.plugin(hintFetcher)?.invalidate();
}

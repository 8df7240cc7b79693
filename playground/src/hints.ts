/**
 * Per-line outcome hints in the editor: the server's `textDocument/inlayHint` answers drawn as widgets at
 * the end of each statement (lsp-client has no inlay hints). They are fetched for the visible lines once
 * the server has analysed the version on screen, and dropped if the text moved on meanwhile. The editor
 * element carries `data-hints="fresh"` when the hints on screen belong to the text on screen.
 *
 * Edits reach the server within `SYNC_DELAY_MS` rather than lsp-client's own 500 ms, so hints follow typing.
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

  constructor(private readonly view: EditorView) {
    view.dom.dataset['hints'] = 'stale';
  }

  update(update: ViewUpdate): void {
    if (update.docChanged) {
      this.generation++;
      this.view.dom.dataset['hints'] = 'stale';
      clearTimeout(this.syncTimer);
      this.syncTimer = setTimeout(() => LSPPlugin.get(this.view)?.client.sync(), SYNC_DELAY_MS);
    } else if (update.viewportChanged) {
      clearTimeout(this.scrollTimer);
      this.scrollTimer = setTimeout(() => void this.refresh(), SCROLL_DELAY_MS);
    }
  }

  destroy(): void {
    clearTimeout(this.syncTimer);
    clearTimeout(this.scrollTimer);
  }

  async refresh(): Promise<void> {
    const plugin = LSPPlugin.get(this.view);
    if (!plugin) return;
    plugin.client.sync();
    const generation = ++this.generation;
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

/** Ask for hints again (the server analysed a new version, or the kernel changed). */
export function refreshHints(view: EditorView): void {
  void view.plugin(hintFetcher)?.refresh();
}

/**
 * The root panel's host in the page: the same panel as in VS Code (webview/src, its rendering and its
 * message protocol), fed from the language server in the worker the way client/src/panel feeds it from the
 * desktop server. It shows the state after the cursor's line and drops answers that are no longer current.
 */
import type { LSPClient } from '@codemirror/lsp-client';
import type { EditorView } from '@codemirror/view';
import {
  CompareRequest,
  ProfilesRequest,
  StateAtRequest,
  type CompareLine,
  type StateAtParams,
  type StateAtResult,
} from '../../core/src/protocol.js';
import { startPanel, type WebviewApi } from '../../webview/src/app.js';
import { coreDecoder } from '../../webview/src/core_decoder.js';
import {
  parseWebviewMessage,
  type CompareSide,
  type HostToWebview,
  type PersistedPanelState,
  type WebviewToHost,
} from '../../core/src/panel/messages.js';
import { DOCUMENT_URI, request, syncedVersion } from './lsp.js';

const SELECTION_DEBOUNCE_MS = 60;

export interface PanelHostEvents {
  /** The comparison kernel changed in the panel (the share link carries it). */
  onCompareChanged(kernel: string | null): void;
  /** A message for the page's status line. */
  notify(message: string, kind: 'info' | 'error'): void;
}

export class PlaygroundPanel {
  private ready = false;
  private line = 0;
  private generation = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private differing: { key: string; lines: CompareLine[] } | null = null;
  private saved: unknown;

  constructor(
    private readonly client: LSPClient,
    private readonly view: EditorView,
    private readonly root: HTMLElement,
    private compareKernel: string | null,
    private readonly events: PanelHostEvents,
  ) {
    const persisted: PersistedPanelState = {
      version: 1,
      uri: DOCUMENT_URI,
      line: 0,
      compareKernel,
      sort: { key: 'id', dir: 'asc' },
    };
    this.saved = persisted;
  }

  /** Starts the panel's script on its element (once, the first time the panel is shown). */
  start(): void {
    if (this.root.dataset['started']) return;
    this.root.dataset['started'] = 'true';
    const api: WebviewApi = {
      postMessage: (m: unknown) => {
        // Same checks as the extension's host: the panel script is trusted no more here than there.
        const message = parseWebviewMessage(m, { documentUri: DOCUMENT_URI });
        if (message) void this.onMessage(message);
      },
      getState: () => this.saved,
      setState: (state) => (this.saved = state),
    };
    startPanel(api, this.root, coreDecoder);
  }

  get compare(): string | null {
    return this.compareKernel;
  }

  /** The cursor moved to a 0-based line. */
  follow(line: number): void {
    if (line === this.line) return;
    this.line = line;
    this.schedule(SELECTION_DEBOUNCE_MS);
  }

  /** The server analysed a new version (or the kernel changed): what the panel shows may be stale. */
  refresh(): void {
    this.schedule(0);
  }

  private post(message: HostToWebview): void {
    // The panel listens on the window, as it listens to VS Code in a webview; the target is this window.
    if (this.ready) window.postMessage(message, '*');
  }

  private async onMessage(message: WebviewToHost): Promise<void> {
    switch (message.type) {
      case 'ready': {
        this.ready = true;
        this.compareKernel ??= message.compareKernel;
        const profiles = await request(this.client, ProfilesRequest, {})
          .then((r) => r.profiles.map((p) => ({ name: p.name, release: p.release })))
          .catch(() => []);
        this.post({ type: 'init', profiles, compareKernel: this.compareKernel });
        this.schedule(0);
        return;
      }
      case 'revealLine': {
        const doc = this.view.state.doc;
        const line = doc.line(Math.max(1, Math.min(message.line + 1, doc.lines)));
        this.view.dispatch({ selection: { anchor: line.from }, scrollIntoView: true });
        this.view.focus();
        return;
      }
      case 'setCompare':
        this.compareKernel = message.kernel;
        this.events.onCompareChanged(message.kernel);
        this.schedule(0);
        return;
      case 'copy':
        try {
          await navigator.clipboard.writeText(message.text);
          this.post({ type: 'copied', format: message.format });
        } catch {
          this.events.notify('The browser did not let the page write to the clipboard.', 'error');
        }
        return;
    }
  }

  private schedule(delay: number): void {
    clearTimeout(this.timer);
    this.generation++;
    this.timer = setTimeout(() => void this.update(), delay);
  }

  private async update(): Promise<void> {
    if (!this.ready) return;
    const generation = ++this.generation;
    const version = syncedVersion(this.client);
    const line = Math.max(0, Math.min(this.line, this.view.state.doc.lines - 1));
    const params: StateAtParams = { uri: DOCUMENT_URI, line };
    const compareKernel = this.compareKernel;
    try {
      const [primary, previous, compare] = await Promise.all([
        request(this.client, StateAtRequest, params),
        line > 0 ? request(this.client, StateAtRequest, { ...params, line: line - 1 }) : Promise.resolve(null),
        compareKernel ? this.compareSide(params, compareKernel) : Promise.resolve(null),
      ]);
      if (generation !== this.generation || primary.version !== version) return;
      const differingLines = compare?.kind === 'state' ? await this.differingLinesFor(primary, compare.kernel) : null;
      if (generation !== this.generation) return;
      this.post({
        type: 'view',
        view: {
          uri: DOCUMENT_URI,
          fileName: 'scenario.kvmmu',
          version: primary.version,
          line,
          primary,
          previousStats: previous && previous.version === primary.version ? previous.snapshot.stats : null,
          compare,
          differingLines,
        },
      });
    } catch (error) {
      if (generation !== this.generation) return;
      this.post({
        type: 'error',
        message: `Could not get the MMU state from the language server: ${messageOf(error)}`,
      });
    }
  }

  private async differingLinesFor(primary: StateAtResult, kernelB: string): Promise<CompareLine[] | null> {
    const key = JSON.stringify([primary.version, primary.kernel.label, kernelB]);
    if (this.differing?.key === key) return this.differing.lines;
    try {
      const result = await request(this.client, CompareRequest, {
        uri: DOCUMENT_URI,
        kernelA: primary.kernel.label,
        kernelB,
      });
      this.differing = { key, lines: result.lines };
      return result.lines;
    } catch {
      return null;
    }
  }

  private async compareSide(params: StateAtParams, kernel: string): Promise<CompareSide> {
    try {
      const result = await request(this.client, StateAtRequest, { ...params, kernel });
      return { kind: 'state', kernel, result };
    } catch (error) {
      return { kind: 'error', kernel, message: messageOf(error) };
    }
  }
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error) return String(error.message);
  return String(error);
}

/**
 * One root panel: a webview beside the editor that shows the MMU state after the cursor's line of
 * the `.kvmmu` document it follows. It asks the language server (`kvmmu/stateAt`, `kvmmu/profiles`)
 * so it shows exactly what hints and hovers say, and drops answers that are no longer current.
 */
import * as vscode from 'vscode';
import {
  CompareRequest,
  ExplainRequest,
  LANGUAGE_ID,
  ProfilesRequest,
  StateAtRequest,
  TimelineRequest,
  type CompareLine,
  type CompareParams,
  type ExplainParams,
  type ExplainResult,
  type StateAtParams,
  type StateAtResult,
  type TimelineParams,
} from '../../../core/src/protocol.js';
import { lifetimes } from '../../../core/src/panel/lifetimes.js';
import { panelHtml } from '../../../core/src/panel/html.js';
import {
  parseWebviewMessage,
  type CompareSide,
  type HostToWebview,
  type Lifetimes,
  type PanelView,
  type PersistedPanelState,
  type WebviewToHost,
} from '../../../core/src/panel/messages.js';
import type { PanelHost } from './index.js';

export const ROOT_PANEL_VIEW_TYPE = 'kvmmu.rootPanel';

/** Cursor moves come in bursts (held arrow keys): wait this long for the last one. */
const SELECTION_DEBOUNCE_MS = 60;
/** Typing: the server re-analyses per version anyway; ask once the burst settles. */
const EDIT_DEBOUNCE_MS = 150;

interface Target {
  uri: vscode.Uri;
  /** 0-based line of the cursor. */
  line: number;
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    // Exactly the bundle folder: the script, its stylesheet and nothing else.
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')],
  };
}

export class RootPanel implements vscode.Disposable {
  private ready = false;
  private target: Target | null = null;
  private compareKernel: string | null;
  /** Incremented per refresh; an answer for an older number is dropped. */
  private generation = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;
  /** `kvmmu/compare` answers per document version and kernel pair: they change only when the text does. */
  private differingLines: { key: string; lines: CompareLine[] } | null = null;
  /** Root lifetimes per document version and kernel (the lifetime picture): they change only when the text does. */
  private lifetimes = new Map<string, Lifetimes | null>();
  /** `kvmmu/explain` answers, likewise (the search runs several analyses: asked once per version and kernel). */
  private explained: { key: string; result: Promise<ExplainResult | null> } | null = null;

  constructor(
    private readonly host: PanelHost,
    readonly panel: vscode.WebviewPanel,
    restored: PersistedPanelState | null,
    private readonly onDispose: () => void,
  ) {
    this.compareKernel = restored?.compareKernel ?? null;
    if (restored?.uri) this.target = { uri: vscode.Uri.parse(restored.uri), line: restored.line ?? 0 };
    panel.webview.options = webviewOptions(host.context.extensionUri);
    panel.webview.html = this.html();
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => {
        // The webview is untrusted: only a well-formed message about this panel's own document is acted on.
        const message = parseWebviewMessage(m, { documentUri: this.target?.uri.toString() ?? null });
        if (message) this.onMessage(message).catch(() => undefined);
      }),
      panel.onDidDispose(() => this.dispose()),
    );
    this.updateTitle();
  }

  /** Follow this editor if it shows a `.kvmmu` document; otherwise keep what we follow (like Markdown's preview). */
  follow(editor: vscode.TextEditor | undefined): void {
    if (!editor || editor.document.languageId !== LANGUAGE_ID) return;
    this.target = { uri: editor.document.uri, line: editor.selection.active.line };
    this.updateTitle();
    this.schedule(0);
  }

  onSelectionChanged(e: vscode.TextEditorSelectionChangeEvent): void {
    if (e.textEditor.document.languageId !== LANGUAGE_ID) return;
    const line = e.selections[0]?.active.line ?? 0;
    const sameDoc = this.target?.uri.toString() === e.textEditor.document.uri.toString();
    if (sameDoc && this.target?.line === line) return;
    if (!sameDoc && e.textEditor !== vscode.window.activeTextEditor) return;
    this.target = { uri: e.textEditor.document.uri, line };
    this.updateTitle();
    this.schedule(SELECTION_DEBOUNCE_MS);
  }

  onDocumentChanged(document: vscode.TextDocument): void {
    if (this.target?.uri.toString() === document.uri.toString()) this.schedule(EDIT_DEBOUNCE_MS);
  }

  onDocumentClosed(document: vscode.TextDocument): void {
    if (this.target?.uri.toString() !== document.uri.toString()) return;
    // A restored panel's document can be closed under us before any editor shows it again.
    const editor = vscode.window.visibleTextEditors.find((e) => e.document.languageId === LANGUAGE_ID);
    if (editor) {
      this.follow(editor);
      return;
    }
    this.target = null;
    this.updateTitle();
    this.schedule(0);
  }

  /** The language server restarted: everything we showed may be stale. */
  onClientRestarted(): void {
    this.schedule(0);
  }

  /** Compare mode on `uri`'s 0-based `line` with `kernel` (Compare With Kernel…, the CodeLens "why?"). */
  compareAt(uri: vscode.Uri, line: number, kernel: string): Promise<void> {
    this.compareKernel = kernel;
    this.target = { uri, line };
    this.updateTitle();
    this.schedule(0);
    return Promise.resolve();
  }

  reveal(): void {
    this.panel.reveal(undefined, true);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
    this.onDispose();
  }

  private html(): string {
    const webview = this.panel.webview;
    const dir = vscode.Uri.joinPath(this.host.context.extensionUri, 'dist', 'webview');
    return panelHtml({
      cspSource: webview.cspSource,
      // Web Crypto: the same in the desktop and the web extension host (no node:crypto there).
      nonce: btoa(Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => String.fromCharCode(b)).join('')),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dir, 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(dir, 'panel.css')).toString(),
    });
  }

  private updateTitle(): void {
    const name = this.target ? this.target.uri.path.split('/').pop() : undefined;
    this.panel.title = name ? `Roots: ${name}` : 'KVM MMU Roots';
  }

  private post(message: HostToWebview): void {
    if (this.ready && !this.disposed) void this.panel.webview.postMessage(message);
  }

  private async onMessage(message: WebviewToHost): Promise<void> {
    switch (message.type) {
      case 'ready': {
        this.ready = true;
        this.compareKernel ??= message.compareKernel;
        const profiles = await this.host
          .request(ProfilesRequest, {})
          .then((r) => r.profiles.map((p) => ({ name: p.name, release: p.release })))
          .catch(() => []);
        this.post({ type: 'init', profiles, compareKernel: this.compareKernel });
        if (!this.target) this.follow(vscode.window.activeTextEditor);
        this.schedule(0);
        return;
      }
      case 'revealLine':
        // parseWebviewMessage let through only the document this panel shows.
        if (this.target && message.uri === this.target.uri.toString())
          await this.revealLine(this.target.uri, message.line);
        return;
      case 'setCompare':
        this.compareKernel = message.kernel;
        this.schedule(0);
        return;
      case 'copy':
        await vscode.env.clipboard.writeText(message.text);
        this.post({ type: 'copied', format: message.format });
        return;
    }
  }

  private async revealLine(uri: vscode.Uri, line: number): Promise<void> {
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
    const document = visible?.document ?? (await vscode.workspace.openTextDocument(uri));
    const editor = await vscode.window.showTextDocument(document, {
      viewColumn: visible?.viewColumn ?? vscode.ViewColumn.One,
      preserveFocus: false,
    });
    const at = Math.max(0, Math.min(line, editor.document.lineCount - 1));
    const position = new vscode.Position(at, 0);
    editor.selection = new vscode.Selection(position, position);
    editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  private schedule(delay: number): void {
    clearTimeout(this.timer);
    // Invalidate answers already in flight: they are for a cursor or text that is gone.
    this.generation++;
    this.timer = setTimeout(() => void this.refresh(), delay);
  }

  private async refresh(): Promise<void> {
    if (!this.ready || this.disposed) return;
    const generation = ++this.generation;
    const target = this.target;
    if (!target) {
      this.post({ type: 'noDocument' });
      return;
    }
    let document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === target.uri.toString());
    if (!document) {
      // A panel restored after a reload: open the document (without an editor) so the server has it.
      document = await Promise.resolve(vscode.workspace.openTextDocument(target.uri)).catch(() => undefined);
      if (generation !== this.generation) return;
      if (!document) {
        this.target = null;
        this.post({ type: 'noDocument' });
        return;
      }
    }
    const line = Math.max(0, Math.min(target.line, document.lineCount - 1));
    const params: StateAtParams = { uri: target.uri.toString(), line };
    const compareKernel = this.compareKernel;
    try {
      const [primary, previous, compare] = await Promise.all([
        this.host.request(StateAtRequest, params),
        line > 0 ? this.host.request(StateAtRequest, { ...params, line: line - 1 }) : Promise.resolve(null),
        compareKernel ? this.compareSide(params, compareKernel) : Promise.resolve(null),
      ]);
      // Stale: the cursor moved or the text changed while we waited (a newer refresh is scheduled).
      if (generation !== this.generation || primary.version !== document.version) return;
      const differingLines =
        compare?.kind === 'state' ? await this.differingLinesFor(params.uri, primary, compare.kernel) : null;
      if (generation !== this.generation) return;
      const lastLine = document.lineCount - 1;
      const [lifePrimary, lifeCompare] = await Promise.all([
        this.lifetimesFor(params.uri, primary.version, undefined, lastLine),
        compare?.kind === 'state' ? this.lifetimesFor(params.uri, primary.version, compare.kernel, lastLine) : null,
      ]);
      if (generation !== this.generation) return;
      const view: PanelView = {
        uri: params.uri,
        fileName: vscode.workspace.asRelativePath(target.uri),
        version: primary.version,
        line,
        primary,
        previousStats: previous && previous.version === primary.version ? previous.snapshot.stats : null,
        compare,
        differingLines,
        lifetimes: { primary: lifePrimary, compare: lifeCompare },
      };
      this.post({ type: 'view', view });
      // The explanation follows when the search is done (it may take a few analyses): the same view, completed.
      if (compare?.kind === 'state' && differingLines?.some((d) => d.line === line)) {
        const explained = await this.explanationFor(params.uri, primary, compare.kernel);
        if (generation !== this.generation || !explained || explained.version !== primary.version) return;
        const entry = explained.diff.lines.find((l) => l.line === line) ?? null;
        this.post({ type: 'view', view: { ...view, explanation: entry } });
      }
    } catch (error) {
      if (generation !== this.generation) return;
      this.post({
        type: 'error',
        message: `Could not get the MMU state from the language server: ${messageOf(error)}`,
      });
    }
  }

  /** Null when the server cannot say (the panel then simply shows no list). */
  private async differingLinesFor(uri: string, primary: StateAtResult, kernelB: string): Promise<CompareLine[] | null> {
    const key = JSON.stringify([uri, primary.version, primary.kernel.label, kernelB]);
    if (this.differingLines?.key === key) return this.differingLines.lines;
    const params: CompareParams = { uri, kernelA: primary.kernel.label, kernelB };
    try {
      const result = await this.host.request(CompareRequest, params);
      this.differingLines = { key, lines: result.lines };
      return result.lines;
    } catch {
      return null;
    }
  }

  /** Null when the server cannot say, or said it about another version of the text (the picture is then left out). */
  private async lifetimesFor(
    uri: string,
    version: number,
    kernel: string | undefined,
    lastLine: number,
  ): Promise<Lifetimes | null> {
    const key = JSON.stringify([uri, version, kernel ?? null]);
    const known = this.lifetimes.get(key);
    if (known !== undefined) return known;
    const timelineParams: TimelineParams = kernel === undefined ? { uri } : { uri, kernel };
    const stateParams: StateAtParams = kernel === undefined ? { uri, line: lastLine } : { uri, line: lastLine, kernel };
    try {
      const [timeline, final] = await Promise.all([
        this.host.request(TimelineRequest, timelineParams),
        this.host.request(StateAtRequest, stateParams),
      ]);
      if (timeline.version !== version || final.version !== version) return null;
      const result = lifetimes(final, timeline, lastLine + 1);
      // One document version and at most two kernels are current at a time.
      if (this.lifetimes.size >= 4) this.lifetimes.delete(this.lifetimes.keys().next().value as string);
      this.lifetimes.set(key, result);
      return result;
    } catch {
      return null;
    }
  }

  /** Null when the server cannot say (cancelled, the text changed, an error): the panel shows no explanation. */
  private explanationFor(uri: string, primary: StateAtResult, kernelB: string): Promise<ExplainResult | null> {
    const key = JSON.stringify([uri, primary.version, kernelB]);
    if (this.explained?.key === key) return this.explained.result;
    const params: ExplainParams = { uri, kernelB };
    const result = this.host.request(ExplainRequest, params).catch(() => null);
    this.explained = { key, result };
    return result;
  }

  private async compareSide(params: StateAtParams, kernel: string): Promise<CompareSide> {
    try {
      const result = await this.host.request(StateAtRequest, { ...params, kernel });
      return { kind: 'state', kernel, result };
    } catch (error) {
      return { kind: 'error', kernel, message: messageOf(error) };
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

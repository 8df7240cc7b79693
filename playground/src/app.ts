/**
 * The playground page: a CodeMirror editor speaking LSP to the kvmmu language server in a web worker, the
 * root panel beside it following the cursor, a kernel picker, the examples, and share links that hold the
 * whole view in the URL fragment. The page's HTML is a static shell (index.html); everything here builds
 * nodes with createElement/textContent, and no text from a link or the scenario is ever parsed as markup.
 */
import type { LSPClient } from '@codemirror/lsp-client';
import { EditorSelection } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { LANGUAGE_ID, ProfilesRequest, TimelineRequest } from '../../core/src/protocol.js';
import { emailText } from './email.js';
import { hintsAnalysed, invalidateHints, outcomeHints } from './hints.js';
import { editorTheme, kvmmu } from './language.js';
import { DOCUMENT_URI, pushSettings, request, startClient } from './lsp.js';
import { PlaygroundPanel } from './panel_host.js';
import { decodeFragment, encodeFragment, shareRefusal, type ViewState } from './permalink.js';
import { parseExamples, type Example } from './examples.js';

/** Opened when the page has no link: the seed-000 scenario. */
const DEFAULT_EXAMPLE = 'smm-root-thrash.kvmmu';
const DEFAULT_KERNEL = 'latest';

interface Elements {
  editor: HTMLElement;
  panel: HTMLElement;
  panelRoot: HTMLElement;
  examples: HTMLSelectElement;
  kernel: HTMLSelectElement;
  togglePanel: HTMLButtonElement;
  share: HTMLButtonElement;
  copyEmail: HTMLButtonElement;
  status: HTMLElement;
}

function elements(doc: Document): Elements {
  const get = <T extends HTMLElement>(id: string): T => {
    const e = doc.getElementById(id);
    if (!e) throw new Error(`playground: #${id} is missing from index.html`);
    return e as T;
  };
  return {
    editor: get('editor'),
    panel: get('panel'),
    panelRoot: get('app'),
    examples: get('examples'),
    kernel: get('kernel'),
    togglePanel: get('toggle-panel'),
    share: get('share'),
    copyEmail: get('copy-email'),
    status: get('status'),
  };
}

export async function startPlayground(doc: Document): Promise<void> {
  const ui = elements(doc);
  const status = (message: string, kind: 'info' | 'error' = 'info'): void => {
    ui.status.textContent = message;
    ui.status.dataset['kind'] = kind;
  };

  // The worker starts loading while the link is decoded and the examples are fetched.
  // Filled in once the link is read; the server's notifications may come before.
  const live: { view?: EditorView; panel?: PlaygroundPanel } = {};
  const client: LSPClient = startClient('server.js', {
    onAnalysed: () => {
      if (live.view) hintsAnalysed(live.view);
      live.panel?.refresh();
    },
    onWorkerError: (message) => status(`The language server stopped: ${message}. Reload the page.`, 'error'),
  });
  const examples = fetchExamples();
  const decoded = await decodeFragment(location.hash);
  let state: ViewState;
  switch (decoded.kind) {
    case 'ok':
      state = decoded.state;
      break;
    case 'error':
      status(`${decoded.message} The playground opened empty.`, 'error');
      state = emptyState('');
      break;
    case 'empty': {
      const example = (await examples).find((e) => e.name === DEFAULT_EXAMPLE);
      state = emptyState(example?.text ?? '');
      break;
    }
  }

  // Before the editor opens the document, so its first analysis already uses the kernel.
  pushSettings(client, state.kernel);
  setKernelOptions(ui.kernel, [state.kernel], state.kernel);

  // In a shadow root, CodeMirror styles itself with constructed stylesheets: the page's CSP needs no
  // 'unsafe-inline' for it (in a document it would add <style> elements).
  const shadow = ui.editor.attachShadow({ mode: 'open' });
  const editor = new EditorView({
    root: shadow,
    parent: shadow,
    doc: state.text,
    extensions: [
      basicSetup,
      kvmmu(),
      editorTheme,
      client.plugin(DOCUMENT_URI, LANGUAGE_ID),
      outcomeHints(),
      EditorView.contentAttributes.of({ 'aria-label': 'Scenario' }),
      EditorView.updateListener.of((u) => {
        if (u.selectionSet || u.docChanged)
          live.panel?.follow(u.state.doc.lineAt(u.state.selection.main.head).number - 1);
      }),
    ],
  });
  live.view = editor;
  placeCursor(editor, state.line);
  const panel = new PlaygroundPanel(client, editor, ui.panelRoot, state.compareKernel, {
    onCompareChanged: () => undefined,
    notify: status,
  });
  live.panel = panel;
  panel.follow(state.line);
  const showPanel = (open: boolean): void => {
    ui.panel.hidden = !open;
    ui.togglePanel.setAttribute('aria-pressed', String(open));
    if (open) panel.start();
  };
  showPanel(state.panelOpen);

  ui.togglePanel.addEventListener('click', () => showPanel(ui.panel.hidden));
  ui.kernel.addEventListener('change', () => {
    pushSettings(client, ui.kernel.value);
    invalidateHints(editor);
    panel.refresh();
    status(`Default kernel: ${ui.kernel.value} (a kernel line in the scenario wins over it).`);
  });
  void request(client, ProfilesRequest, {})
    .then((r) => {
      const names = r.profiles.map((p) => p.name);
      if (!names.includes(state.kernel)) {
        status(`The link's kernel "${state.kernel}" is not a profile here; using ${DEFAULT_KERNEL}.`, 'error');
        state.kernel = DEFAULT_KERNEL;
        pushSettings(client, DEFAULT_KERNEL);
      }
      setKernelOptions(ui.kernel, names, state.kernel);
    })
    .catch((e: unknown) => status(`The language server did not answer: ${String(e)}`, 'error'));

  void examples.then((list) => fillExamples(ui.examples, list));
  ui.examples.addEventListener('change', () => {
    void examples.then((list) => {
      const example = list.find((e) => e.name === ui.examples.value);
      ui.examples.value = '';
      if (!example) return;
      editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: example.text } });
      placeCursor(editor, 0);
      history.replaceState(null, '', location.pathname + location.search);
      status(`Opened ${example.name}.`);
    });
  });

  const currentState = (): ViewState => ({
    text: editor.state.doc.toString(),
    kernel: ui.kernel.value || DEFAULT_KERNEL,
    line: editor.state.doc.lineAt(editor.state.selection.main.head).number - 1,
    panelOpen: !ui.panel.hidden,
    compareKernel: panel.compare,
  });

  ui.share.addEventListener('click', () => {
    void (async () => {
      const now = currentState();
      const refusal = shareRefusal(now.text);
      if (refusal) return status(refusal, 'error');
      const fragment = await encodeFragment(now);
      history.replaceState(null, '', `#${fragment}`);
      const copied = await navigator.clipboard.writeText(location.href).then(
        () => true,
        () => false,
      );
      status(
        copied ? 'Link copied: it holds the scenario, the kernel and the view.' : 'The link is in the address bar.',
      );
    })();
  });

  ui.copyEmail.addEventListener('click', () => {
    void (async () => {
      try {
        client.sync();
        const timeline = await request(client, TimelineRequest, { uri: DOCUMENT_URI });
        const now = currentState();
        const link = shareRefusal(now.text) ? undefined : linkFor(await encodeFragment(now));
        const text = emailText(now.text, timeline, link);
        await navigator.clipboard.writeText(text);
        status('Copied as plain text: the scenario with each line’s outcome.');
      } catch (e) {
        status(`Could not copy: ${e instanceof Error ? e.message : String(e)}`, 'error');
      }
    })();
  });

  // Opening another link in the same tab changes only the fragment: load it as a fresh page would.
  window.addEventListener('hashchange', () => location.reload());
  editor.focus();
}

function linkFor(fragment: string): string {
  return `${location.origin}${location.pathname}#${fragment}`;
}

function emptyState(text: string): ViewState {
  return { text, kernel: DEFAULT_KERNEL, line: 0, panelOpen: false, compareKernel: null };
}

function placeCursor(view: EditorView, line: number): void {
  const doc = view.state.doc;
  const at = doc.line(Math.max(1, Math.min(line + 1, doc.lines))).from;
  view.dispatch({ selection: EditorSelection.cursor(at), scrollIntoView: true });
}

function setKernelOptions(select: HTMLSelectElement, names: readonly string[], selected: string): void {
  select.replaceChildren(
    ...names.map((name) => {
      const option = document.createElement('option');
      option.value = name;
      option.textContent = name;
      return option;
    }),
  );
  select.value = selected;
}

function fillExamples(select: HTMLSelectElement, examples: readonly Example[]): void {
  for (const e of examples) {
    const option = document.createElement('option');
    option.value = e.name;
    option.textContent = e.name.replace(/\.kvmmu$/, '');
    select.append(option);
  }
}

async function fetchExamples(): Promise<Example[]> {
  try {
    const response = await fetch('examples.json');
    return parseExamples(await response.json());
  } catch {
    return [];
  }
}

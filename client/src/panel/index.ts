/**
 * The root panel's entry points for the extension: the serializer that restores the panel after a
 * reload, the editor listeners it follows, and the `kvmmu.openRootPanel` command's body.
 * One panel at a time, beside the editor, like Markdown's preview to the side.
 */
import * as vscode from 'vscode';
import type { Requester } from '../../../core/src/protocol.js';
import { parsePersistedState } from '../../../core/src/panel/messages.js';
import { ROOT_PANEL_VIEW_TYPE, RootPanel, webviewOptions } from './root_panel.js';

export interface PanelHost {
  context: vscode.ExtensionContext;
  request: Requester['request'];
  onDidRestartClient: vscode.Event<void>;
}

let current: RootPanel | undefined;

function adopt(host: PanelHost, panel: vscode.WebviewPanel, state: unknown): RootPanel {
  current?.dispose();
  const created: RootPanel = new RootPanel(host, panel, parsePersistedState(state), () => {
    if (current === created) current = undefined;
  });
  current = created;
  return created;
}

/** Registers the serializer and the listeners; call once from `activate`. */
export function activateRootPanel(host: PanelHost): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.window.registerWebviewPanelSerializer(ROOT_PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: (panel, state: unknown) => {
        adopt(host, panel, state);
        return Promise.resolve();
      },
    }),
    vscode.window.onDidChangeActiveTextEditor((e) => current?.follow(e)),
    vscode.window.onDidChangeTextEditorSelection((e) => current?.onSelectionChanged(e)),
    vscode.workspace.onDidChangeTextDocument((e) => current?.onDocumentChanged(e.document)),
    vscode.workspace.onDidCloseTextDocument((d) => current?.onDocumentClosed(d)),
    host.onDidRestartClient(() => current?.onClientRestarted()),
    { dispose: () => current?.dispose() },
  );
}

/** KVM MMU: Open Root Panel to the Side. */
export function openRootPanel(host: PanelHost): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (current) {
    current.reveal();
    current.follow(editor);
    return Promise.resolve();
  }
  const panel = vscode.window.createWebviewPanel(
    ROOT_PANEL_VIEW_TYPE,
    'KVM MMU Roots',
    { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
    webviewOptions(host.context.extensionUri),
  );
  adopt(host, panel, null).follow(editor);
  return Promise.resolve();
}

/** Opens (or reveals) the panel on `uri`'s 0-based `line` in compare mode with `kernel`. */
export async function openRootPanelCompare(
  host: PanelHost,
  uri: vscode.Uri,
  line: number,
  kernel: string,
): Promise<void> {
  if (!current) {
    const panel = vscode.window.createWebviewPanel(
      ROOT_PANEL_VIEW_TYPE,
      'KVM MMU Roots',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      webviewOptions(host.context.extensionUri),
    );
    adopt(host, panel, null);
  } else current.reveal();
  await current?.compareAt(uri, line, kernel);
}

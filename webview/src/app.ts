/**
 * The panel's loop: messages and UI events go through `reduce`, the result is persisted with
 * `setState` (restored after a reload by the host's serializer) and drawn. The host hears `ready`
 * only once the listener is installed, so no message can be lost.
 */
import { isHostToWebview, parsePersistedState, type WebviewToHost } from '../../core/src/panel/messages.js';
import { PanelUi } from './render.js';
import type { RoleDecoder } from './roles.js';
import { initialState, persistedState, reduce, type PanelEvent, type PanelState } from './state.js';

/** The part of `acquireVsCodeApi()` the panel uses. */
export interface WebviewApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}

const NOTICE_MS = 2500;

export function startPanel(api: WebviewApi, root: HTMLElement, decoder: RoleDecoder): void {
  let state: PanelState = initialState(parsePersistedState(api.getState()));
  let noticeTimer: ReturnType<typeof setTimeout> | undefined;
  const dispatch = (event: PanelEvent): void => {
    state = reduce(state, event);
    api.setState(persistedState(state));
    ui.render(state);
    if (event.type === 'copied') {
      clearTimeout(noticeTimer);
      noticeTimer = setTimeout(() => dispatch({ type: 'ui.clearNotice' }), NOTICE_MS);
    }
  };
  const ui = new PanelUi(root, decoder, { send: (m) => api.postMessage(m), dispatch });
  ui.render(state);
  window.addEventListener('message', (e: MessageEvent<unknown>) => {
    if (isHostToWebview(e.data)) dispatch(e.data);
  });
  api.postMessage({ type: 'ready', compareKernel: state.compareKernel });
}

/** The webview side of the protocol: post to the host, receive validated state snapshots. */
import type { HostToWebview, ViewKind, WebviewToHost } from '../../src/shared/protocol/webview';
import { validateHostToWebview } from '../../src/shared/protocol/webview';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();

export function post(message: WebviewToHost): void {
  api.postMessage(message);
}

export function runCommand(command: Extract<WebviewToHost, { type: 'command/run' }>['command'], ...args: string[]): void {
  post({ type: 'command/run', command, args });
}

/**
 * Subscribes to host messages, then announces `ready` so the host answers with a full snapshot.
 * The last snapshot is kept in the webview state so a re-shown view paints at once.
 */
export function connect(view: ViewKind, onMessage: (message: HostToWebview) => void): void {
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    const parsed = validateHostToWebview(event.data);
    if (!parsed.ok) {
      console.warn(`Lesion Lab: ignored a message: ${parsed.error}`);
      return;
    }
    api.setState(parsed.value);
    onMessage(parsed.value);
  });
  const saved = validateHostToWebview(api.getState());
  if (saved.ok) onMessage(saved.value);
  // Charts take concrete colours: draw again when the theme (body class or colour variables) changes.
  let pending = false;
  new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      const last = validateHostToWebview(api.getState());
      if (last.ok) onMessage(last.value);
    });
  }).observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'], subtree: false });
  new MutationObserver(() => {
    const last = validateHostToWebview(api.getState());
    if (last.ok) onMessage(last.value);
  }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  post({ type: 'ready', view });
}

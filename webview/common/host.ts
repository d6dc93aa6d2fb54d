/**
 * The webview side of the protocol: commands to the host, requests answered by a response, and the
 * host's state snapshots, each checked against this view's protocol before use.
 */
import type { HostToWebview, IpcResponse, StateNotification, ViewKind, WebviewCommand, WebviewRequestType, WebviewRequests, WebviewToHost } from '../../src/shared/protocol/webview';
import { validateHostToWebview } from '../../src/shared/protocol/webview';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();
let currentView: ViewKind | undefined;

/** A request the host has not answered within this time has failed (the host logs its side). */
const REQUEST_TIMEOUT_MS = 30_000;
const pending = new Map<string, { resolve(result: unknown): void; reject(err: Error): void; timer: ReturnType<typeof setTimeout> }>();
let nextRequest = 0;

/** Sends a command (no answer expected). */
export function post(message: Exclude<WebviewToHost, { id: string }>): void {
  api.postMessage(message);
}

export function runCommand(command: WebviewCommand, ...args: string[]): void {
  post({ type: 'command/run', command, args });
}

/**
 * Sends a request and resolves with the host's result, or rejects with the error the host gave. A request
 * that runs a job the person watches (the learning-rate finder) passes a longer `timeoutMs`.
 */
export function request<K extends WebviewRequestType>(type: K, params: WebviewRequests[K]['params'], timeoutMs = REQUEST_TIMEOUT_MS): Promise<WebviewRequests[K]['result']> {
  const id = `${currentView ?? 'view'}-${++nextRequest}`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error('Lesion Lab did not answer; see the Lesion Lab output channel.'));
    }, timeoutMs);
    pending.set(id, { resolve: resolve as (r: unknown) => void, reject, timer });
    api.postMessage({ type, id, params });
  });
}

function settle(response: IpcResponse): void {
  const waiting = pending.get(response.id);
  if (!waiting) return;
  pending.delete(response.id);
  clearTimeout(waiting.timer);
  if (response.ok) waiting.resolve(response.result);
  else waiting.reject(new Error(response.error));
}

/**
 * What VS Code keeps for this webview while it is hidden and across reloads (getState/setState): the
 * host's last snapshot, so a re-shown view paints at once, and the view's own state (what a person typed
 * into a form), which only the view knows.
 */
interface SavedState {
  snapshot?: unknown;
  local?: unknown;
}

function saved(): SavedState {
  const s = api.getState() as SavedState | undefined;
  return typeof s === 'object' && s !== null ? s : {};
}

function stateOf(view: ViewKind, value: unknown): StateNotification | undefined {
  const parsed = validateHostToWebview(view, value);
  return parsed.ok && parsed.value.type !== 'response' ? parsed.value : undefined;
}

/** The view's own state as it last saved it (undefined the first time). Untrusted: check its shape before use. */
export function loadLocalState(): unknown {
  return saved().local;
}

/** Keeps the view's own state across hiding, switching views and reloads. */
export function saveLocalState(local: unknown): void {
  api.setState({ ...saved(), local } satisfies SavedState);
}

/**
 * Subscribes to host messages, then announces `ready` so the host answers with a full snapshot.
 * The last snapshot is kept in the webview state so a re-shown view paints at once.
 */
export function connect(view: ViewKind, onMessage: (message: StateNotification) => void): void {
  currentView = view;
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    const parsed = validateHostToWebview(view, event.data);
    if (!parsed.ok) {
      console.warn(`Lesion Lab: ignored a message: ${parsed.error}`);
      return;
    }
    const message: HostToWebview = parsed.value;
    if (message.type === 'response') {
      settle(message);
      return;
    }
    api.setState({ ...saved(), snapshot: message } satisfies SavedState);
    onMessage(message);
  });
  const last = stateOf(view, saved().snapshot);
  if (last) onMessage(last);
  // Charts take concrete colours: draw again when the theme (body class or colour variables) changes.
  let again = false;
  new MutationObserver(() => {
    if (again) return;
    again = true;
    requestAnimationFrame(() => {
      again = false;
      const last = stateOf(view, saved().snapshot);
      if (last) onMessage(last);
    });
  }).observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'], subtree: false });
  new MutationObserver(() => {
    const last = stateOf(view, saved().snapshot);
    if (last) onMessage(last);
  }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  post({ type: 'ready', view });
}

/**
 * The host's door for webview messages. A webview is untrusted input: every message is checked against
 * its own view's protocol; one that does not fit is dropped with the reason in the log, and if it was a
 * request, answered with that reason so the view does not wait for nothing. Requests that fit are run and
 * answered with their result, or with the error a person can read. No `vscode` here, so it is unit-tested.
 */
import type { HostToWebview, IpcResponse, ViewKind, WebviewToHost } from '../shared/protocol/webview';
import { requestId, validateWebviewToHost } from '../shared/protocol/webview';

/** A refusal whose message is meant for the person at the form (no stack, no "bug" wording). */
export class RequestRefused extends Error {
  override readonly name = 'RequestRefused';
}

export type Reply = (message: HostToWebview) => void;

/** The message if it fits the view's protocol; otherwise undefined, after logging why (and answering a request). */
export function receiveFromWebview(view: ViewKind, raw: unknown, log: (line: string) => void, reply: Reply): WebviewToHost | undefined {
  const parsed = validateWebviewToHost(view, raw);
  if (parsed.ok) return parsed.value;
  log(`Ignored a message from the ${view} view: ${parsed.error}`);
  const id = requestId(raw);
  if (id !== undefined) reply({ type: 'response', id, ok: false, error: `Lesion Lab could not read this request (${parsed.error}).` });
  return undefined;
}

/** Runs a request's handler and sends its one response. */
export async function answer(id: string, reply: Reply, log: (line: string) => void, handler: () => Promise<unknown>): Promise<void> {
  let response: IpcResponse;
  try {
    response = { type: 'response', id, ok: true, result: (await handler()) ?? null };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (!(err instanceof RequestRefused)) log(`A webview request failed: ${err instanceof Error ? (err.stack ?? message) : message}`);
    response = { type: 'response', id, ok: false, error: message };
  }
  reply(response);
}

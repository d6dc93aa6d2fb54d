import * as vscode from 'vscode';
import type { HostToWebview, StateNotification, ViewKind, WebviewToHost } from '../../shared/protocol/webview';
import type { Reply } from '../webviewInbox';
import { receiveFromWebview } from '../webviewInbox';
import { localRoots, webviewHtml } from '../webviewHtml';

export type PanelKind = Exclude<ViewKind, 'sidebar'>;

export interface PanelSpec {
  kind: PanelKind;
  viewType: string;
  title: string;
  /** The full state the panel shows now; sent on `ready` and on every change. */
  snapshot(): StateNotification;
}

/** Handles what a webview may ask of the host, already checked against its view's protocol (`ready` excepted). */
export type WebviewMessageHandler = (message: Exclude<WebviewToHost, { type: 'ready' }>, reply: Reply) => void;

/**
 * One panel per kind beside the editor. Panels come back after a window reload through their
 * serializers, and always render from a full snapshot (a hidden webview keeps only the last message).
 */
export class LabPanels implements vscode.Disposable {
  private readonly open = new Map<PanelKind, vscode.WebviewPanel>();
  private readonly specs = new Map<PanelKind, PanelSpec>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    specs: PanelSpec[],
    private readonly onMessage: WebviewMessageHandler,
    private readonly log: (line: string) => void,
  ) {
    for (const spec of specs) {
      this.specs.set(spec.kind, spec);
      this.disposables.push(
        vscode.window.registerWebviewPanelSerializer(spec.viewType, {
          deserializeWebviewPanel: async (panel) => this.attach(spec, panel),
        }),
      );
    }
  }

  show(kind: PanelKind, preserveFocus = false): void {
    const existing = this.open.get(kind);
    if (existing) {
      existing.reveal(undefined, preserveFocus);
      this.refresh(kind);
      return;
    }
    const spec = this.spec(kind);
    // Lesion Lab's panels share one editor group beside the editor, as tabs, instead of each taking a new column.
    const sibling = [...this.open.values()].find((p) => p.viewColumn !== undefined)?.viewColumn;
    const panel = vscode.window.createWebviewPanel(spec.viewType, spec.title, { viewColumn: sibling ?? vscode.ViewColumn.Beside, preserveFocus }, {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: localRoots(this.extensionUri),
    });
    this.attach(spec, panel);
  }

  isOpen(kind: PanelKind): boolean {
    return this.open.has(kind);
  }

  /** Sends the panel a fresh snapshot if it is open. */
  refresh(kind: PanelKind): void {
    const panel = this.open.get(kind);
    if (!panel) return;
    void panel.webview.postMessage(this.spec(kind).snapshot());
  }

  refreshAll(): void {
    for (const kind of this.open.keys()) this.refresh(kind);
  }

  private spec(kind: PanelKind): PanelSpec {
    const spec = this.specs.get(kind);
    if (!spec) throw new Error(`no panel registered for ${kind}`);
    return spec;
  }

  private attach(spec: PanelSpec, panel: vscode.WebviewPanel): void {
    this.open.set(spec.kind, panel);
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'lesion-lab.svg');
    panel.webview.options = { enableScripts: true, localResourceRoots: localRoots(this.extensionUri) };
    panel.webview.html = webviewHtml(panel.webview, this.extensionUri, spec.kind, spec.title);
    const reply: Reply = (m: HostToWebview) => void panel.webview.postMessage(m);
    const sub = panel.webview.onDidReceiveMessage((raw: unknown) => {
      const message = receiveFromWebview(spec.kind, raw, this.log, reply);
      if (!message) return;
      if (message.type === 'ready') void panel.webview.postMessage(spec.snapshot());
      else this.onMessage(message, reply);
    });
    panel.onDidDispose(() => {
      sub.dispose();
      if (this.open.get(spec.kind) === panel) this.open.delete(spec.kind);
    });
  }

  dispose(): void {
    for (const panel of this.open.values()) panel.dispose();
    this.open.clear();
    for (const d of this.disposables) d.dispose();
  }
}

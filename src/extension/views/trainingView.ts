import type * as vscode from 'vscode';
import type { HostToWebview } from '../../shared/protocol/webview';
import type { LabState } from '../state';
import type { WebviewMessageHandler } from '../panels/labPanels';
import type { Reply } from '../webviewInbox';
import { receiveFromWebview } from '../webviewInbox';
import { localRoots, webviewHtml } from '../webviewHtml';

/** The **Training** view in the Lesion Lab activity-bar container. */
export class TrainingViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = 'lesionLab.trainingView';
  private view: vscode.WebviewView | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly state: LabState,
    private readonly onMessage: WebviewMessageHandler,
    private readonly log: (line: string) => void,
  ) {
    this.subscription = state.onDidChange(() => this.post());
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = { enableScripts: true, localResourceRoots: localRoots(this.extensionUri) };
    view.webview.html = webviewHtml(view.webview, this.extensionUri, 'sidebar', 'Lesion Lab');
    const reply: Reply = (m: HostToWebview) => void view.webview.postMessage(m);
    view.webview.onDidReceiveMessage((raw: unknown) => {
      const message = receiveFromWebview('sidebar', raw, this.log, reply);
      if (!message) return;
      if (message.type === 'ready') this.post();
      else this.onMessage(message, reply);
    });
    view.onDidChangeVisibility(() => view.visible && this.post());
    view.onDidDispose(() => {
      if (this.view === view) this.view = undefined;
    });
  }

  private post(): void {
    void this.view?.webview.postMessage({ type: 'sidebar/state', state: this.state.sidebarSnapshot() });
  }

  dispose(): void {
    this.subscription.dispose();
  }
}

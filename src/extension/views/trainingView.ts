import type * as vscode from 'vscode';
import { validateWebviewToHost } from '../../shared/protocol/webview';
import type { LabState } from '../state';
import type { WebviewMessageHandler } from '../panels/labPanels';
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
  ) {
    this.subscription = state.onDidChange(() => this.post());
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = { enableScripts: true, localResourceRoots: localRoots(this.extensionUri) };
    view.webview.html = webviewHtml(view.webview, this.extensionUri, 'sidebar', 'Lesion Lab');
    view.webview.onDidReceiveMessage((raw: unknown) => {
      const parsed = validateWebviewToHost(raw);
      if (!parsed.ok) return;
      if (parsed.value.type === 'ready') this.post();
      else this.onMessage(parsed.value, (m) => void view.webview.postMessage(m));
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

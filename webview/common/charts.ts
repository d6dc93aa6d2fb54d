import { Chart, registerables } from 'chart.js';
import { themeColor } from './dom';

Chart.register(...registerables);

/** Series colours that read on both light and dark themes (VS Code chart tokens where present). */
export function seriesColors(): string[] {
  return [
    themeColor('--vscode-charts-blue', '#3794ff'),
    themeColor('--vscode-charts-orange', '#d18616'),
    themeColor('--vscode-charts-green', '#89d185'),
    themeColor('--vscode-charts-purple', '#b180d7'),
    themeColor('--vscode-charts-red', '#f14c4c'),
    themeColor('--vscode-charts-yellow', '#cca700'),
  ];
}

/** Chart.js defaults that follow the editor's font and colours. */
export function applyThemeDefaults(): void {
  // VS Code may inject its colour variables after the first paint; the body class is there from the start.
  const light = document.body.classList.contains('vscode-light') || document.body.classList.contains('vscode-high-contrast-light');
  Chart.defaults.color = themeColor('--vscode-foreground', light ? '#3b3b3b' : '#cccccc');
  Chart.defaults.borderColor = themeColor('--vscode-editorWidget-border', 'rgba(128,128,128,0.35)');
  Chart.defaults.font.family = themeColor('--vscode-font-family', 'sans-serif');
  Chart.defaults.font.size = 12;
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
}

export { Chart };

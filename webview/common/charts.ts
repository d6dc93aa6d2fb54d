import { Chart, registerables } from 'chart.js';
import { classColor } from '../../src/shared/classColors';
import { themeColor } from './dom';

Chart.register(...registerables);

export function isLightTheme(): boolean {
  return document.body.classList.contains('vscode-light') || document.body.classList.contains('vscode-high-contrast-light');
}

/** The colour of the class at `index` in the dataset's order (the same in every panel). */
export function classColorAt(index: number): string {
  return classColor(index, isLightTheme() ? 'light' : 'dark');
}

/**
 * Series colours with enough contrast on the theme's background. VS Code's chart tokens are made for
 * small badges; on a dark editor its orange reads as brown, so charts use their own two palettes.
 */
export function seriesColors(): string[] {
  const light = isLightTheme();
  return light
    ? ['#0066b8', '#c75300', '#2e7d32', '#8e3ca6', '#c62828', '#7a6000']
    : ['#4fc1ff', '#ffa64d', '#89d185', '#d7a0f0', '#ff6b6b', '#e5c07b'];
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

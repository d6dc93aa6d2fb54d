/**
 * What the curve panels (Training, Runs, Learning Rate Finder) add to chart.js: wheel/drag zoom and pan
 * (chartjs-plugin-zoom), an opaque background so a saved PNG reads outside VS Code, labels for vertical
 * marker lines drawn in a strip above the plot (so a label never covers a curve), and a chart's toolbar.
 */
import type { Chart as ChartType, ChartOptions, Plugin } from 'chart.js';
import zoomPlugin from 'chartjs-plugin-zoom';
import { Chart } from './charts';
import { h, themeColor } from './dom';

Chart.register(zoomPlugin);

/** Wheel (with Ctrl or ⌘, so the page still scrolls) or drag a box to zoom the x axis; Shift+drag pans. */
export function zoomOptions(): NonNullable<ChartOptions<'line'>['plugins']>['zoom'] {
  return {
    zoom: { wheel: { enabled: true, modifierKey: 'ctrl' }, drag: { enabled: true, threshold: 8 }, pinch: { enabled: true }, mode: 'x' },
    pan: { enabled: true, mode: 'x', modifierKey: 'shift' },
    limits: { x: { min: 'original', max: 'original' } },
  };
}

/** Fills the canvas with the editor's background first: a saved PNG is not transparent. */
export const opaqueBackground: Plugin = {
  id: 'opaqueBackground',
  beforeDraw(chart) {
    const { ctx, width, height } = chart;
    ctx.save();
    ctx.globalCompositeOperation = 'destination-over';
    ctx.fillStyle = themeColor('--vscode-editor-background', document.body.classList.contains('vscode-light') ? '#ffffff' : '#1e1e1e');
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
  },
};

export interface MarkerLine {
  x: number;
  label: string;
  color: string;
}

/** Room above the plot for the marker labels: one row each, so two labels never overlap either. */
export const markerStripHeight = (lines: readonly MarkerLine[]): number => (lines.length ? 4 + 14 * lines.length : 0);

/**
 * A chart's title with the marker strip below it (its bottom padding): the labels sit between the title
 * and the plot, clear of both.
 */
export function titleAboveMarkers(text: string, lines: readonly MarkerLine[]): { display: true; text: string; padding: { top: number; bottom: number } } {
  return { display: true, text, padding: { top: 10, bottom: 10 + markerStripHeight(lines) } };
}

/** A log axis labelled at whole powers of ten only (1e-7 … 1e1), unrotated: no crowd of long decimals. */
export function powersOfTenTicks(format: (x: number) => string): { autoSkip: false; maxRotation: 0; callback: (v: string | number) => string } {
  return {
    autoSkip: false,
    maxRotation: 0,
    callback: (v) => {
      const e = Math.log10(Number(v));
      return Math.abs(e - Math.round(e)) < 1e-6 ? format(10 ** Math.round(e)) : '';
    },
  };
}

/**
 * Dashed vertical lines at `lines[i].x` (an x-axis value), each labelled in its own row of the strip above
 * the plot area (see markerStripHeight): a label never lies over a curve.
 */
export function markerLines(lines: readonly MarkerLine[]): Plugin<'line'> {
  return {
    id: 'markerLines',
    afterDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      lines.forEach((line, row) => {
        const x = scales.x!.getPixelForValue(line.x);
        if (!Number.isFinite(x) || x < chartArea.left - 1 || x > chartArea.right + 1) return;
        ctx.save();
        ctx.strokeStyle = line.color;
        ctx.fillStyle = line.color;
        ctx.setLineDash([4, 4]);
        ctx.beginPath();
        ctx.moveTo(x, chartArea.top);
        ctx.lineTo(x, chartArea.bottom);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.font = '11px sans-serif';
        const width = ctx.measureText(line.label).width;
        // Left of the line when it would run past the plot's right edge.
        const textX = x + 4 + width > chartArea.right ? Math.max(chartArea.left, x - 4 - width) : x + 4;
        ctx.textBaseline = 'bottom';
        ctx.fillText(line.label, textX, chartArea.top - 4 - 14 * (lines.length - 1 - row));
        ctx.restore();
      });
    },
  };
}

/** A chart's frame: its canvas, and a small toolbar (reset zoom, and save as PNG where `onSave` is given). */
export function chartFrame(title: string, canvas: HTMLCanvasElement, chart: () => ChartType | undefined, onSave?: (dataUrl: string) => void): HTMLElement {
  const reset = h('a', { href: '#', class: 'small', title: 'Back to the whole curve', onclick: (ev: Event) => { ev.preventDefault(); chart()?.resetZoom(); } }, 'Reset zoom');
  const save = onSave
    ? h('a', { href: '#', class: 'small', title: `Save the ${title} chart as a PNG image`, onclick: (ev: Event) => { ev.preventDefault(); const c = chart(); if (c) onSave(c.toBase64Image('image/png')); } }, 'Save PNG…')
    : null;
  return h('figure', { class: 'chart-frame', 'data-chart': title },
    h('div', { class: 'chart-tools' }, reset, save),
    h('div', { class: 'chart' }, canvas));
}

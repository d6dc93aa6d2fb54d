/**
 * One colour per class, the same in every panel: a fixed qualitative palette of 20 for each kind of theme.
 * The first ten are Tableau 10's hues (the most distinct, for the common case of a handful of classes),
 * darkened for light editors and lightened for dark ones until each stands at least 3.6:1 (light, on
 * #ffffff) and 4.2:1 (dark, on #1f1f1f) against the editor background — WCAG's 3:1 for graphics, with a
 * margin for the other backgrounds themes use. The next ten were drawn greedily from an OKLCH grid at the
 * same contrast, each the farthest (CIELAB ΔE) from those before it; no two of the twenty are closer than
 * ΔE 18. test/unit/foundation/classColors.test.ts checks all of this. Past 20 classes the colours repeat.
 */
export const CLASS_COLORS = {
  light: [
    '#4e79a7', '#c47323', '#539649', '#e15759', '#ab769c', '#9c755f', '#ba737a', '#5c8f8b', '#9c8530', '#8c8481',
    '#86134d', '#782400', '#2b512c', '#5e4354', '#744a00', '#798151', '#2a555f', '#2e8c00', '#643a27', '#9a2737',
  ],
  dark: [
    '#5c84ae', '#f28e2b', '#59a14f', '#e15759', '#b07aa1', '#9f7964', '#ff9da7', '#76b7b2', '#edc948', '#bab0ac',
    '#38f700', '#9bd110', '#aba054', '#41ce40', '#e8a16a', '#bad05b', '#c19027', '#ed7547', '#f5ac00', '#84f131',
  ],
} as const;

export type PaletteTheme = keyof typeof CLASS_COLORS;

/** The colour of the class at `index` in the model's order. */
export function classColor(index: number, theme: PaletteTheme): string {
  const palette = CLASS_COLORS[theme];
  return palette[((index % palette.length) + palette.length) % palette.length]!;
}

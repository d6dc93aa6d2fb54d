import assert from 'node:assert/strict';
import { CLASS_COLORS, classColor } from '../../../src/shared/classColors';

const rgb = (hex: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
const linear = (c: number): number => {
  const s = c / 255;
  return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
};
/** WCAG 2 relative luminance and contrast ratio. */
const luminance = (hex: string): number => {
  const [r, g, b] = rgb(hex).map(linear) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const contrast = (a: string, b: string): number => {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
};
/** CIELAB (D65) and the CIE76 colour difference. */
const lab = (hex: string): [number, number, number] => {
  const [r, g, b] = rgb(hex).map(linear) as [number, number, number];
  const x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  const f = (t: number): number => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
};
const deltaE = (a: string, b: string): number => Math.hypot(...lab(a).map((v, i) => v - lab(b)[i]!));

// The editor backgrounds of VS Code's default themes (Light Modern / Light+, Dark Modern / Dark+) and their side bars.
const BACKGROUNDS = { light: ['#ffffff', '#f8f8f8', '#f3f3f3'], dark: ['#1f1f1f', '#1e1e1e', '#181818', '#252526'] } as const;

describe('class colours', () => {
  for (const theme of ['light', 'dark'] as const) {
    const palette = CLASS_COLORS[theme];

    it(`${theme}: 20 distinct colours, each at least 3:1 against every ${theme} editor background`, () => {
      assert.equal(palette.length, 20);
      assert.equal(new Set(palette).size, 20);
      for (const c of palette) {
        assert.match(c, /^#[0-9a-f]{6}$/);
        for (const bg of BACKGROUNDS[theme]) assert.ok(contrast(c, bg) >= 3, `${c} on ${bg}: ${contrast(c, bg).toFixed(2)}:1`);
      }
    });

    it(`${theme}: no two colours closer than ΔE 18 (CIE76), the first ten (the usual handful of classes) not closer than 18 either`, () => {
      let closest = { d: Infinity, pair: '' };
      for (let i = 0; i < palette.length; i++) {
        for (let j = i + 1; j < palette.length; j++) {
          const d = deltaE(palette[i]!, palette[j]!);
          if (d < closest.d) closest = { d, pair: `${palette[i]} / ${palette[j]}` };
        }
      }
      assert.ok(closest.d >= 18, `closest pair ${closest.pair}: ΔE ${closest.d.toFixed(1)}`);
    });
  }

  it('a class keeps its colour by index, and colours repeat past twenty', () => {
    assert.equal(classColor(0, 'light'), CLASS_COLORS.light[0]);
    assert.equal(classColor(3, 'dark'), CLASS_COLORS.dark[3]);
    assert.equal(classColor(20, 'dark'), classColor(0, 'dark'));
  });
});

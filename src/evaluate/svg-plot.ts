// A self-contained SVG (no dependency, no script) of a threshold sweep: precision, recall and F1
// against threshold, and score histograms of true and false pairs; opens in any browser.
import type { Histogram, SweepPoint } from './sweep.js';

const WIDTH = 840;
const HEIGHT = 660;
const LEFT = 70;
const RIGHT = 620;
const CURVES_TOP = 60;
const CURVES_BOTTOM = 300;
const BARS_TOP = 400;
const BARS_BOTTOM = 600;
const LEGEND_X = 640;

const COLOURS = {
  precision: '#1f77b4',
  recall: '#ff7f0e',
  f1: '#2ca02c',
  match: '#2ca02c',
  nonMatch: '#d62728',
  best: '#555555',
} as const;

export interface PlotOptions {
  /** Shown in the title, e.g. the pairs file name. */
  title?: string;
  best?: SweepPoint;
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function fixed(value: number): string {
  return value.toFixed(1);
}

// Tick spacing of 1, 2 or 5 times a power of ten giving about `target` ticks.
function niceStep(span: number, target: number): number {
  const raw = span / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

function ticks(min: number, max: number, target: number): number[] {
  const step = niceStep(max - min, target);
  const values: number[] = [];
  for (let k = Math.ceil(min / step - 1e-9); k * step <= max + 1e-9; k++) values.push(Number((k * step).toPrecision(12)));
  return values;
}

function tickLabel(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString('en-US') : String(Number(value.toFixed(3)));
}

interface Axes {
  x: (value: number) => number;
  y: (value: number) => number;
}

function axesSvg(axes: Axes, xs: number[], ys: number[], top: number, bottom: number, xLabel: string, yLabel: string): string[] {
  const parts = [`<rect x="${LEFT}" y="${top}" width="${RIGHT - LEFT}" height="${bottom - top}" fill="none" stroke="#000"/>`];
  for (const value of xs) {
    const x = fixed(axes.x(value));
    parts.push(`<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 5}" stroke="#000"/>`);
    parts.push(`<text x="${x}" y="${bottom + 18}" text-anchor="middle">${tickLabel(value)}</text>`);
  }
  for (const value of ys) {
    const y = fixed(axes.y(value));
    parts.push(`<line x1="${LEFT - 5}" y1="${y}" x2="${LEFT}" y2="${y}" stroke="#000"/>`);
    parts.push(`<line x1="${LEFT}" y1="${y}" x2="${RIGHT}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${LEFT - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${tickLabel(value)}</text>`);
  }
  parts.push(`<text x="${(LEFT + RIGHT) / 2}" y="${bottom + 36}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  const middle = (top + bottom) / 2;
  parts.push(`<text x="${LEFT - 50}" y="${middle}" text-anchor="middle" transform="rotate(-90 ${LEFT - 50} ${middle})">${escapeXml(yLabel)}</text>`);
  return parts;
}

// A curve breaks where its value is undefined (precision with no pairs kept).
function curveSvg(points: readonly SweepPoint[], pick: (point: SweepPoint) => number | null, axes: Axes, colour: string, dash: string): string[] {
  const runs: string[][] = [[]];
  for (const point of points) {
    const value = pick(point);
    if (value === null) {
      if (runs[runs.length - 1].length > 0) runs.push([]);
      continue;
    }
    runs[runs.length - 1].push(`${fixed(axes.x(point.threshold))},${fixed(axes.y(value))}`);
  }
  return runs
    .filter((run) => run.length > 0)
    .map((run) => `<polyline points="${run.join(' ')}" fill="none" stroke="${colour}" stroke-width="2"${dash === '' ? '' : ` stroke-dasharray="${dash}"`}/>`);
}

function legendSvg(top: number, entries: ReadonlyArray<readonly [label: string, colour: string, kind: 'line' | 'dash' | 'box']>): string[] {
  const parts = [`<g class="legend">`];
  entries.forEach(([label, colour, kind], i) => {
    const y = top + 10 + i * 22;
    if (kind === 'box') parts.push(`<rect x="${LEGEND_X}" y="${y - 6}" width="24" height="12" fill="${colour}" fill-opacity="0.6"/>`);
    else parts.push(`<line x1="${LEGEND_X}" y1="${y}" x2="${LEGEND_X + 24}" y2="${y}" stroke="${colour}" stroke-width="2"${kind === 'dash' ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${LEGEND_X + 32}" y="${y}" dominant-baseline="middle">${escapeXml(label)}</text>`);
  });
  parts.push('</g>');
  return parts;
}

/**
 * The whole SVG document as a string.
 *
 * @example await writeFile('sweep.svg', renderSweepPlot(points, scoreHistogram(scores, correct), { best }));
 */
export function renderSweepPlot(points: readonly SweepPoint[], histogram: Histogram, options: PlotOptions = {}): string {
  const xMin = Math.min(histogram.start, points[0]?.threshold ?? 1, 0.99);
  const scaleX = (value: number): number => LEFT + ((value - xMin) / (1 - xMin)) * (RIGHT - LEFT);
  const xTicks = ticks(xMin, 1, 8);
  const curves: Axes = { x: scaleX, y: (value) => CURVES_BOTTOM - value * (CURVES_BOTTOM - CURVES_TOP) };
  let tallest = 1;
  for (let i = 0; i < histogram.matches.length; i++) tallest = Math.max(tallest, histogram.matches[i], histogram.nonMatches[i]);
  const countTicks = ticks(0, tallest, 5);
  const yMax = Math.max(tallest, countTicks[countTicks.length - 1]);
  const bars: Axes = { x: scaleX, y: (value) => BARS_BOTTOM - (value / yMax) * (BARS_BOTTOM - BARS_TOP) };

  const parts = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(options.title ?? 'blindlink evaluate')}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${LEFT}" y="30" font-size="16" font-weight="bold">${escapeXml(options.title ?? 'Linkage quality by threshold')}</text>`,
    `<text x="${LEFT}" y="48" fill="#555">pairs with score &#8805; threshold kept (an approximation of re-matching at each threshold)</text>`,
    ...axesSvg(curves, xTicks, [0, 0.2, 0.4, 0.6, 0.8, 1], CURVES_TOP, CURVES_BOTTOM, 'threshold', 'precision, recall, F1'),
    ...curveSvg(points, (p) => p.precision, curves, COLOURS.precision, ''),
    ...curveSvg(points, (p) => p.recall, curves, COLOURS.recall, ''),
    ...curveSvg(points, (p) => p.f1, curves, COLOURS.f1, '6 4'),
  ];
  const legend: Array<readonly [string, string, 'line' | 'dash' | 'box']> = [
    ['precision', COLOURS.precision, 'line'],
    ['recall', COLOURS.recall, 'line'],
    ['F1', COLOURS.f1, 'dash'],
  ];
  if (options.best !== undefined && options.best.f1 !== null) {
    const x = fixed(scaleX(options.best.threshold));
    parts.push(`<line x1="${x}" y1="${CURVES_TOP}" x2="${x}" y2="${CURVES_BOTTOM}" stroke="${COLOURS.best}" stroke-dasharray="2 3"/>`);
    legend.push([`best F1 ${options.best.f1.toFixed(3)} at ${options.best.threshold.toFixed(2)}`, COLOURS.best, 'dash']);
  }
  parts.push(...legendSvg(CURVES_TOP, legend));

  parts.push(`<text x="${LEFT}" y="${BARS_TOP - 14}" font-size="14" font-weight="bold">Scores of the reported pairs</text>`);
  parts.push(...axesSvg(bars, xTicks, countTicks, BARS_TOP, BARS_BOTTOM, 'score', 'pairs'));
  const series: ReadonlyArray<readonly [Uint32Array, string]> = [
    [histogram.nonMatches, COLOURS.nonMatch],
    [histogram.matches, COLOURS.match],
  ];
  for (const [counts, colour] of series) {
    const rects: string[] = [];
    for (let i = 0; i < counts.length; i++) {
      if (counts[i] === 0) continue;
      const x0 = scaleX(histogram.start + i * histogram.binWidth);
      const x1 = scaleX(Math.min(1, histogram.start + (i + 1) * histogram.binWidth));
      const y = bars.y(counts[i]);
      rects.push(`<rect x="${fixed(x0)}" y="${fixed(y)}" width="${fixed(Math.max(0.5, x1 - x0))}" height="${fixed(BARS_BOTTOM - y)}"/>`);
    }
    parts.push(`<g fill="${colour}" fill-opacity="0.6">${rects.join('')}</g>`);
  }
  parts.push(
    ...legendSvg(BARS_TOP, [
      ['true matches', COLOURS.match, 'box'],
      ['non-matches', COLOURS.nonMatch, 'box'],
    ]),
  );
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

// The policy lab's page: one self-contained HTML file (inline CSS and SVG, no script, no network)
// with the table and two plots: count error against epsilon, and disclosure against accuracy.
import type { Alternative, LabReport } from './alternatives.js';

export interface ReportContext {
  registry: number;
  requests: number;
  overlap: number;
  seed: number;
  threshold: number;
  trials: number;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const WIDTH = 640;
const HEIGHT = 380;
const LEFT = 70;
const RIGHT = 610;
const TOP = 40;
const BOTTOM = 300;

// Tick spacing of 1, 2 or 5 times a power of ten giving about `target` ticks.
function niceTicks(max: number, target: number): number[] {
  const raw = Math.max(max, 1e-9) / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  const step = (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
  const ticks: number[] = [];
  // The last tick is at or above the maximum, so every point lies inside the frame.
  const last = Math.max(1, Math.ceil(max / step - 1e-9));
  for (let k = 0; k <= last; k++) ticks.push(Number((k * step).toPrecision(10)));
  return ticks;
}

function label(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString('en-US') : String(Number(value.toPrecision(3)));
}

function frame(title: string, xTitle: string, yTitle: string, body: string, xTicks: string, yTicks: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escape(title)}">` +
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>` +
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escape(title)}</text>` +
    `<line x1="${LEFT}" y1="${BOTTOM}" x2="${RIGHT}" y2="${BOTTOM}" stroke="#333"/><line x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${BOTTOM}" stroke="#333"/>` +
    xTicks +
    yTicks +
    `<text x="${(LEFT + RIGHT) / 2}" y="${BOTTOM + 42}" text-anchor="middle" font-size="13">${escape(xTitle)}</text>` +
    `<text x="18" y="${(TOP + BOTTOM) / 2}" text-anchor="middle" font-size="13" transform="rotate(-90 18 ${(TOP + BOTTOM) / 2})">${escape(yTitle)}</text>` +
    body +
    '</svg>'
  );
}

function yAxis(max: number): { y: (v: number) => number; ticks: string; top: number } {
  const ticks = niceTicks(max, 5);
  const top = ticks[ticks.length - 1] || 1;
  const y = (v: number): number => BOTTOM - (v / top) * (BOTTOM - TOP);
  const marks = ticks.map((t) => `<line x1="${LEFT - 4}" y1="${y(t).toFixed(1)}" x2="${RIGHT}" y2="${y(t).toFixed(1)}" stroke="#e5e5e5"/><text x="${LEFT - 8}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" font-size="11">${label(t)}</text>`).join('');
  return { y, ticks: marks, top };
}

/** Mean |error| of the noisy count against epsilon (log axis), with the exact count and PSI as lines. */
export function errorVersusEpsilonSvg(report: LabReport): string {
  const noisy = report.alternatives.filter((a) => a.epsilon !== undefined && a.meanAbsoluteError !== null);
  const count = report.alternatives.find((a) => a.name === 'count');
  const psi = report.alternatives.find((a) => a.name === 'psi-cardinality');
  const references = [count, psi].filter((a): a is Alternative => a !== undefined && a.meanAbsoluteError !== null);
  const eps = noisy.map((a) => a.epsilon as number);
  const low = Math.log10(Math.min(...eps)) - 0.1;
  const high = Math.log10(Math.max(...eps)) + 0.1;
  const x = (e: number): number => LEFT + ((Math.log10(e) - low) / Math.max(high - low, 1e-9)) * (RIGHT - LEFT);
  const maxError = Math.max(...noisy.map((a) => a.meanAbsoluteError as number), ...references.map((a) => a.meanAbsoluteError as number), 1);
  const axis = yAxis(maxError);
  const xTicks = eps.map((e) => `<text x="${x(e).toFixed(1)}" y="${BOTTOM + 18}" text-anchor="middle" font-size="11">${label(e)}</text><line x1="${x(e).toFixed(1)}" y1="${BOTTOM}" x2="${x(e).toFixed(1)}" y2="${BOTTOM + 4}" stroke="#333"/>`).join('');
  const path = noisy.map((a, i) => `${i === 0 ? 'M' : 'L'}${x(a.epsilon as number).toFixed(1)},${axis.y(a.meanAbsoluteError as number).toFixed(1)}`).join(' ');
  const dots = noisy.map((a) => `<circle cx="${x(a.epsilon as number).toFixed(1)}" cy="${axis.y(a.meanAbsoluteError as number).toFixed(1)}" r="4" fill="#1f77b4"><title>epsilon ${a.epsilon}: mean |error| ${(a.meanAbsoluteError as number).toFixed(1)}</title></circle>`).join('');
  const colours = ['#2ca02c', '#d62728'];
  const lines = references
    .map((a, i) => {
      const yy = axis.y(a.meanAbsoluteError as number).toFixed(1);
      return `<line x1="${LEFT}" y1="${yy}" x2="${RIGHT}" y2="${yy}" stroke="${colours[i]}" stroke-dasharray="6 4" stroke-width="2"/><text x="${RIGHT - 4}" y="${(Number(yy) - 6).toFixed(1)}" text-anchor="end" font-size="12" fill="${colours[i]}">${escape(a.name)}: |error| ${label(a.meanAbsoluteError as number)}</text>`;
    })
    .join('');
  const body = `<path d="${path}" fill="none" stroke="#1f77b4" stroke-width="2.5"/>${dots}${lines}<text x="${LEFT}" y="${BOTTOM + 64}" font-size="12" fill="#1f77b4">noisy count: mean |error| over the noise (dashed: exact alternatives)</text>`;
  return frame('Count error against epsilon', 'epsilon per query (log scale)', 'mean |count - truth|', body, xTicks, axis.ticks);
}

/** Each available alternative as a point: membership advantage (disclosure) against |error|. */
export function disclosureVersusAccuracySvg(report: LabReport): string {
  const points = report.alternatives.filter((a) => a.available && a.membershipAttack !== null && a.meanAbsoluteError !== null);
  const x = (advantage: number): number => LEFT + Math.max(0, Math.min(1, advantage)) * (RIGHT - LEFT);
  const axis = yAxis(Math.max(...points.map((a) => a.meanAbsoluteError as number), 1));
  const xTicks = [0, 0.2, 0.4, 0.6, 0.8, 1].map((t) => `<text x="${x(t).toFixed(1)}" y="${BOTTOM + 18}" text-anchor="middle" font-size="11">${t}</text><line x1="${x(t).toFixed(1)}" y1="${BOTTOM}" x2="${x(t).toFixed(1)}" y2="${BOTTOM + 4}" stroke="#333"/>`).join('');
  const body = points
    .map((a, i) => {
      const cx = x(a.membershipAttack?.advantage ?? 0);
      const cy = axis.y(a.meanAbsoluteError as number);
      const colour = a.recordsDisclosed > 0 ? '#d62728' : a.epsilon !== undefined ? '#1f77b4' : '#2ca02c';
      const anchor = cx > (LEFT + RIGHT) / 2 ? 'end' : 'start';
      const dx = anchor === 'end' ? -8 : 8;
      const name = a.epsilon !== undefined ? `\u03b5=${a.epsilon}` : a.name;
      return `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="5" fill="${colour}"><title>${escape(a.name)}</title></circle><text x="${(cx + dx).toFixed(1)}" y="${(cy - 6 - (i % 3) * 11).toFixed(1)}" text-anchor="${anchor}" font-size="11">${escape(name)}</text>`;
    })
    .join('');
  const legend = `<text x="${LEFT}" y="${BOTTOM + 64}" font-size="12"><tspan fill="#d62728">red: discloses records</tspan>  <tspan fill="#1f77b4">blue: noisy count</tspan>  <tspan fill="#2ca02c">green: one exact number</tspan></text>`;
  return frame('Disclosure against accuracy', 'membership advantage of a differencing requester (TPR - FPR)', 'mean |count - truth|', body + legend, xTicks, axis.ticks);
}

function cell(value: number | null, digits = 0): string {
  return value === null ? '&mdash;' : escape(value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
}

/** The whole page; it references nothing outside itself. */
export function renderReport(report: LabReport, context: ReportContext): string {
  const rows = report.alternatives
    .map(
      (a) =>
        `<tr${a.available ? '' : ' class="na"'}><td><b>${escape(a.name)}</b>${a.note ? `<div class="note">${escape(a.note)}</div>` : ''}</td><td>${escape(a.reveals)}</td><td>${escape(a.othersLearn)}</td>` +
        `<td class="n">${cell(a.recordsDisclosed)}</td><td class="n">${cell(a.count)}</td><td class="n">${a.countError !== null && a.countError > 0 ? '+' : ''}${cell(a.countError)}</td><td class="n">${cell(a.meanAbsoluteError, 1)}</td>` +
        `<td class="n">${a.membershipAttack === null ? '&mdash;' : cell(a.membershipAttack.advantage, 3)}</td><td class="n">${cell(a.seconds, 1)}</td><td class="n">${cell(a.bytes)}</td></tr>`,
    )
    .join('\n');
  const members = report.trueOverlap;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>blindlink policy lab</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#222;max-width:1400px}
table{border-collapse:collapse;font-size:13px;margin:12px 0}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top}
th{background:#f2f2f2}.n{text-align:right;white-space:nowrap}.note{color:#666;font-size:11px}.na{color:#888}
.plots{display:flex;flex-wrap:wrap;gap:16px}
</style></head><body>
<h1>blindlink policy lab</h1>
<p>Synthetic population: ${context.registry.toLocaleString('en-US')} registry records, ${context.requests.toLocaleString('en-US')} requests, ${members.toLocaleString('en-US')} of them true members (overlap ${context.overlap}), seed ${context.seed}; fuzzy matching at Dice threshold ${context.threshold}; ${context.trials.toLocaleString('en-US')} attack trials per class.</p>
<p>Membership advantage: a requester asks about a list L and about L plus one target, and guesses from the two answers whether the target is in the registry; TPR - FPR of its best rule over simulated trials (0: learns nothing; 1: always right).</p>
<table><thead><tr><th>alternative</th><th>the requester receives</th><th>the others learn</th><th>records disclosed</th><th>count</th><th>count error</th><th>mean |error|</th><th>membership advantage</th><th>seconds</th><th>bytes exchanged</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<div class="plots">
${errorVersusEpsilonSvg(report)}
${disclosureVersusAccuracySvg(report)}
</div>
</body></html>
`;
}

// `blindlink evaluate`: metrics on a hand-counted example, the threshold sweep, a well-formed SVG,
// and errors that name the file and line of a malformed input.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { evaluateCommand } from '../src/cli/evaluate-command.js';
import { evaluateFiles } from '../src/evaluate/evaluate-files.js';
import { UserError } from '../src/errors.js';
import { quality } from '../src/evaluate/metrics.js';
import { scoreHistogram, sweep } from '../src/evaluate/sweep.js';
import { renderSweepPlot } from '../src/evaluate/svg-plot.js';

const scratch = await mkdtemp(join(tmpdir(), 'blindlink-evaluate-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

async function file(name: string, text: string): Promise<string> {
  const path = join(scratch, name);
  await writeFile(path, text);
  return path;
}

// Five true links; five reported pairs of which three are right (rows 0, 1 and 3), one pairs
// request 2 with the wrong registry row and one pairs request 5, which has no link.
const TRUTH = 'request_row,registry_row\n0,10\n1,11\n2,12\n3,13\n4,14\n';
const PAIRS = 'index_a,index_b,score\n0,10,0.95\n1,11,0.9\n2,99,0.85\n3,13,0.7\n5,15,0.65\n';
const PAIRS_REVERSED = 'index_a,index_b,score\n10,0,0.95\n11,1,0.9\n99,2,0.85\n13,3,0.7\n15,5,0.65\n';

describe('evaluate metrics', () => {
  it('counts TP, FP and FN and derives every figure from them', async () => {
    const { evaluation } = await evaluateFiles(await file('truth.csv', TRUTH), await file('pairs.csv', PAIRS), 'requests');
    expect(evaluation).toMatchObject({ truthLinks: 5, pairs: 5, tp: 3, fp: 2, fn: 2, countError: 0, minScore: 0.65 });
    expect(evaluation.precision).toBeCloseTo(3 / 5, 12);
    expect(evaluation.recall).toBeCloseTo(3 / 5, 12);
    expect(evaluation.f1).toBeCloseTo(6 / 10, 12);
    expect(evaluation.fStar).toBeCloseTo(3 / 7, 12);
  });

  it('reads index_a as registry rows with --a registry', async () => {
    const { evaluation } = await evaluateFiles(join(scratch, 'truth.csv'), await file('reversed.csv', PAIRS_REVERSED), 'registry');
    expect(evaluation).toMatchObject({ tp: 3, fp: 2, fn: 2 });
    const wrongWay = await evaluateFiles(join(scratch, 'truth.csv'), join(scratch, 'reversed.csv'), 'requests');
    expect(wrongWay.evaluation.tp).toBe(0);
  });

  it('sweeps thresholds from the lowest score to 1 and picks the best F1', async () => {
    const { evaluation } = await evaluateFiles(join(scratch, 'truth.csv'), join(scratch, 'pairs.csv'), 'requests');
    const points = evaluation.sweep;
    expect(points.map((point) => point.threshold)).toEqual(Array.from({ length: 36 }, (_, i) => (65 + i) / 100));
    const at = (threshold: number) => points.find((point) => point.threshold === threshold);
    // 0.80: pairs scoring 0.95, 0.9, 0.85 kept; two right, one wrong, three links missed.
    expect(at(0.8)).toMatchObject({ pairs: 3, tp: 2, fp: 1, fn: 3 });
    expect(at(0.8)?.f1).toBeCloseTo(4 / 8, 12);
    // 0.70 keeps the pair scoring exactly 0.7: three right, one wrong: F1 6/9, the best.
    expect(at(0.7)).toMatchObject({ pairs: 4, tp: 3, fp: 1, fn: 2 });
    expect(evaluation.best?.threshold).toBe(0.7);
    expect(evaluation.best?.f1).toBeCloseTo(6 / 9, 12);
    expect(at(1)).toMatchObject({ pairs: 0, tp: 0, fp: 0, fn: 5, precision: null, recall: 0, f1: 0 });
  });

  it('leaves undefined ratios null rather than dividing by zero', () => {
    expect(quality({ tp: 0, fp: 0, fn: 0 })).toMatchObject({ precision: null, recall: null, f1: null, fStar: null, countError: 0 });
    expect(quality({ tp: 0, fp: 3, fn: 1 })).toMatchObject({ precision: 0, recall: 0, f1: 0, fStar: 0, countError: 2 });
  });

  it('accepts a pairs file with no pairs', async () => {
    const { evaluation } = await evaluateFiles(join(scratch, 'truth.csv'), await file('none.csv', 'index_a,index_b,score\n'), 'requests');
    expect(evaluation).toMatchObject({ pairs: 0, tp: 0, fp: 0, fn: 5, precision: null, recall: 0, best: null, minScore: null });
  });
});

// Minimal well-formedness check: balanced, properly nested tags, quoted attributes, no stray `<` or `&`.
function assertWellFormedXml(xml: string): string[] {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const tags: string[] = [];
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = token.exec(body)) !== null) {
    consumed = token.lastIndex;
    const [, closing, name, , selfClosing, text] = match;
    if (text !== undefined) {
      expect(text.replace(/&(#\d+|#x[\da-f]+|amp|lt|gt|quot|apos);/gi, '')).not.toMatch(/[&<]/);
      continue;
    }
    if (closing === '/') expect(stack.pop()).toBe(name);
    else if (selfClosing !== '/') stack.push(name);
    tags.push(name);
  }
  expect(consumed).toBe(body.length);
  expect(stack).toEqual([]);
  return tags;
}

describe('evaluate plot', () => {
  it('is a well-formed SVG with precision and recall curves, histograms and a legend', async () => {
    const { evaluation, histogram } = await evaluateFiles(join(scratch, 'truth.csv'), join(scratch, 'pairs.csv'), 'requests');
    const svg = renderSweepPlot(evaluation.sweep, histogram, { best: evaluation.best ?? undefined, title: 'a <test> & "title"' });
    const tags = assertWellFormedXml(svg);
    expect(tags[0]).toBe('svg');
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(tags.filter((tag) => tag === 'polyline').length).toBeGreaterThanOrEqual(3);
    expect(svg).toMatch(/<polyline [^>]*stroke="#1f77b4"/); // precision
    expect(svg).toMatch(/<polyline [^>]*stroke="#ff7f0e"/); // recall
    expect(svg).toContain('class="legend"');
    for (const label of ['precision', 'recall', 'F1', 'true matches', 'non-matches', 'best F1 0.667 at 0.70']) expect(svg).toContain(`>${label}<`);
    expect(svg).toContain('a &#60;test&#62; &#38; &#34;title&#34;');
  });

  it('bins scores of true and false pairs separately', () => {
    const histogram = scoreHistogram(Float64Array.of(0.95, 0.9, 0.85, 0.7, 0.65, 1), Uint8Array.of(1, 1, 0, 1, 0, 1));
    expect(histogram.start).toBe(0.65);
    expect(histogram.matches.length).toBe(35);
    expect(histogram.matches.reduce((sum, count) => sum + count, 0)).toBe(4);
    expect(histogram.nonMatches[0]).toBe(1); // 0.65
    expect(histogram.nonMatches[20]).toBe(1); // 0.85
    expect(histogram.matches[34]).toBe(1); // 1.0 joins the last bin
    expect(sweep(Float64Array.of(0.29), Uint8Array.of(1), 1)[0].threshold).toBe(0.29);
  });

  it('writes the plot and a JSON report from the command', async () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const plot = join(scratch, 'plot.svg');
    try {
      await evaluateCommand().parseAsync(['--truth', join(scratch, 'truth.csv'), '--pairs', join(scratch, 'pairs.csv'), '--plot', plot, '--json'], { from: 'user' });
    } finally {
      spy.mockRestore();
    }
    const report = JSON.parse(written.join('')) as { tp: number; best: { threshold: number }; sweep: unknown[] };
    expect(report.tp).toBe(3);
    expect(report.best.threshold).toBe(0.7);
    expect(report.sweep).toHaveLength(36);
    assertWellFormedXml(await readFile(plot, 'utf8'));
  });
});

describe('evaluate input errors', () => {
  const cases: ReadonlyArray<readonly [what: string, truth: string, pairs: string, message: RegExp]> = [
    ['empty truth', '', PAIRS, /bad-truth\.csv: empty file; expected a header line "request_row,registry_row"/],
    ['truth header', 'request,registry\n0,1\n', PAIRS, /bad-truth\.csv: line 1: header must name the columns request_row,registry_row/],
    ['truth value', 'request_row,registry_row\n0,1\n2,x\n', PAIRS, /bad-truth\.csv: line 3: registry_row must be a 0-based row index/],
    ['negative index', 'request_row,registry_row\n-1,1\n', PAIRS, /bad-truth\.csv: line 2: request_row must be/],
    ['truth repeat', 'request_row,registry_row\n0,1\n0,1\n', PAIRS, /bad-truth\.csv: line 3: repeats the link on line 2/],
    ['pairs field count', TRUTH, 'index_a,index_b,score\n0,10,0.9\n1,11\n', /bad-pairs\.csv: line 3: expected 3 fields like the header, found 2/],
    ['pairs score', TRUTH, 'index_a,index_b,score\n0,10,1.5\n', /bad-pairs\.csv: line 2: score must be a decimal number between 0 and 1/],
    ['pairs score text', TRUTH, 'index_a,index_b,score\n0,10,high\n', /bad-pairs\.csv: line 2: score must be/],
    ['pairs header', TRUTH, 'a,b,score\n0,10,0.9\n', /bad-pairs\.csv: line 1: header must name the columns index_a,index_b,score/],
    ['pairs repeat', TRUTH, 'index_a,index_b,score\n0,10,0.9\n1,11,0.9\n0,10,0.8\n', /bad-pairs\.csv: line 4: repeats the pair on line 2/],
    ['pairs quoting', TRUTH, 'index_a,index_b,score\n0,10,"0.9\n', /bad-pairs\.csv: line 2/],
  ];
  for (const [what, truth, pairs, message] of cases) {
    it(`names the file and line: ${what}`, async () => {
      const truthPath = await file('bad-truth.csv', truth);
      const pairsPath = await file('bad-pairs.csv', pairs);
      const failure = evaluateFiles(truthPath, pairsPath, 'requests');
      await expect(failure).rejects.toThrow(UserError);
      await expect(failure).rejects.toThrow(message);
    });
  }

  it('names a missing file', async () => {
    await expect(evaluateFiles(join(scratch, 'absent.csv'), join(scratch, 'pairs.csv'), 'requests')).rejects.toThrow(/absent\.csv: no such file/);
  });
});

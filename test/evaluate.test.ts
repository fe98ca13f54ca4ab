// `blindlink evaluate`: metrics on a hand-counted example, the threshold sweep, a well-formed SVG,
// and errors that name the file and line of a malformed input.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { popcounts } from '../src/bits.js';
import { SIGNATURE_RULE_IDS, SIGNATURE_SCHEME } from '../src/blocking/signature.js';
import { evaluateCommand } from '../src/cli/evaluate-command.js';
import { evaluateBlocking } from '../src/evaluate/blocking-quality.js';
import { evaluateFiles } from '../src/evaluate/evaluate-files.js';
import { UserError } from '../src/errors.js';
import { writeEncodedFile } from '../src/io/encoded-file.js';
import { randomFilters, seeded } from './helpers/clk-json.js';
import { runCli } from './helpers/run-cli.js';
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
    await expect(evaluateFiles(join(scratch, 'absent.csv'), join(scratch, 'pairs.csv'), 'requests')).rejects.toThrow(/absent\.csv: cannot read \(no such file, ENOENT\)/);
  });
});

describe('evaluate: blocking quality', () => {
  /** Writes an encoded file of `filterBits`-bit filters, with block keys when given. */
  async function encoded(name: string, clks: Uint8Array, filterBits: number, blockKeys: Uint8Array | null): Promise<string> {
    const path = join(scratch, name);
    const count = clks.length / (filterBits / 8);
    const metadata = {
      blindlinkVersion: 'test', schemaFingerprint: 'ab'.repeat(32), keyCheck: 'cd'.repeat(16), filterBits, recordCount: count, hardening: 'none',
      ...(blockKeys === null ? {} : { blocking: { scheme: SIGNATURE_SCHEME, rules: [...SIGNATURE_RULE_IDS] } }),
    };
    await writeEncodedFile(path, { clks, popcounts: popcounts(clks, filterBits / 8), blockKeys, ids: null, filterBits, metadata });
    return path;
  }
  /** Block-key rows: each row gives its two rule slots as small numbers, 0 for an empty slot. */
  const keys = (rows: Array<[number, number]>): Uint8Array => {
    const out = new Uint8Array(rows.length * 16);
    rows.forEach(([first, second], row) => {
      out[row * 16 + 7] = first;
      out[row * 16 + 15] = second;
    });
    return out;
  };
  // Requests 0, 1, 2 are registry rows 1, 2, 3. Request 0 shares block 1 (rule 1) with registry 0
  // and 1, and block 2 (rule 2) with registry 0 (again: counted once) and 2; request 1 shares
  // block 2 with registry 0 and 2; request 2 shares nothing with its registry row 3.
  // Pairs sharing a block: (0,0) (0,1) (0,2) (1,0) (1,2): 5 of 12; true links among them: 2 of 3.
  const SIGNATURE_TRUTH = 'request_row,registry_row\n0,1\n1,2\n2,3\n';
  const requestKeys = keys([[1, 2], [0, 2], [3, 4]]);
  const registryKeys = keys([[1, 2], [1, 0], [0, 2], [5, 6]]);

  it('signature: pairs completeness, reduction ratio and pairs quality on a hand-counted case', async () => {
    const random = seeded(3);
    const requests = await encoded('requests-keys.arrow', randomFilters(3, 64, 0.5, random).clks, 64, requestKeys);
    const registry = await encoded('registry-keys.arrow', randomFilters(4, 64, 0.5, random).clks, 64, registryKeys);
    const truth = await file('blocking-truth.csv', SIGNATURE_TRUTH);
    const quality = await evaluateBlocking({ truth, encoded: [requests, registry], sideA: 'requests', method: 'signature', threshold: 0.5, workers: 1, warn: () => {} });
    expect(quality).toMatchObject({ method: 'signature', truthLinks: 3, blockedLinks: 2, pairsTotal: 12, pairsCompared: 5 });
    expect(quality.pairsCompleteness).toBeCloseTo(2 / 3, 12);
    expect(quality.reductionRatio).toBeCloseTo(7 / 12, 12);
    expect(quality.pairsQuality).toBeCloseTo(2 / 5, 12);
    // The same files the other way round, with --a registry.
    const reversed = await evaluateBlocking({ truth, encoded: [registry, requests], sideA: 'registry', method: 'signature', threshold: 0.5, workers: 1, warn: () => {} });
    expect(reversed).toMatchObject({ blockedLinks: 2, pairsCompared: 5 });
  });

  it('lsh: a true pair with identical filters is blocked, one with complementary filters never is', async () => {
    const random = seeded(8);
    const registryClks = randomFilters(60, 256, 0.5, random).clks;
    const requestClks = randomFilters(40, 256, 0.5, random).clks;
    requestClks.set(registryClks.subarray(0, 64), 0); // requests 0, 1 = registry 0, 1
    for (let i = 0; i < 32; i++) requestClks[64 + i] = ~registryClks[64 + i] & 0xff; // request 2 = NOT registry 2
    const requests = await encoded('requests-lsh.arrow', requestClks, 256, null);
    const registry = await encoded('registry-lsh.arrow', registryClks, 256, null);
    const truth = await file('lsh-truth.csv', 'request_row,registry_row\n0,0\n1,1\n2,2\n');
    const quality = await evaluateBlocking({ truth, encoded: [requests, registry], sideA: 'requests', method: 'lsh', threshold: 0.8, workers: 0, warn: () => {} });
    expect(quality).toMatchObject({ method: 'lsh', truthLinks: 3, blockedLinks: 2, pairsTotal: 2400 });
    expect(quality.pairsCompleteness).toBeCloseTo(2 / 3, 12);
    expect(quality.plan?.tables).toBeGreaterThan(0);
    expect(quality.reductionRatio).toBeGreaterThan(0);
  });

  it('reports through the command, alone or beside the pairs evaluation', async () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const args = ['--truth', join(scratch, 'blocking-truth.csv'), '--encoded', join(scratch, 'requests-keys.arrow'), join(scratch, 'registry-keys.arrow'), '--blocking', 'signature', '--threshold', '0.5'];
    try {
      await evaluateCommand().parseAsync([...args, '--json'], { from: 'user' });
      await evaluateCommand().parseAsync(args, { from: 'user' });
    } finally {
      spy.mockRestore();
    }
    const report = JSON.parse(written[0]) as { truthLinks: number; blocking: { pairsCompleteness: number; pairsCompared: number } };
    expect(report.truthLinks).toBe(3);
    expect(report.blocking.pairsCompared).toBe(5);
    expect(written[1]).toMatch(/blocking: keyed signature at threshold 0\.5\npairs completeness 0\.6667 \(2 of 3 true links share a block key\)\ncomparisons: 5 of 12 pairs \(reduction ratio 0\.583333\)\npairs quality 0\.4000/);
  });

  it('names the truth file when a link lies outside the encoded files', async () => {
    const truth = await file('far-truth.csv', 'request_row,registry_row\n0,1\n7,2\n');
    const failure = evaluateBlocking({ truth, encoded: [join(scratch, 'requests-keys.arrow'), join(scratch, 'registry-keys.arrow')], sideA: 'requests', method: 'signature', threshold: 0.5, workers: 1, warn: () => {} });
    await expect(failure).rejects.toThrow(/far-truth\.csv: a true link names row 7, but .*requests-keys\.arrow holds 3 records/);
  });

  it('treats incomplete blocking flags as usage errors (exit 2)', async () => {
    const truth = join(scratch, 'blocking-truth.csv');
    for (const args of [
      ['--truth', truth],
      ['--truth', truth, '--encoded', join(scratch, 'requests-keys.arrow'), join(scratch, 'registry-keys.arrow'), '--blocking', 'signature'],
      ['--truth', truth, '--encoded', join(scratch, 'requests-keys.arrow'), '--blocking', 'signature', '--threshold', '0.5'],
      ['--truth', truth, '--pairs', join(scratch, 'pairs.csv'), '--blocking', 'bogus'],
    ]) {
      const result = await runCli(['evaluate', ...args]);
      expect(result.code, args.join(' ')).toBe(2);
    }
    const lshOnKeyless = await runCli(['evaluate', '--truth', truth, '--encoded', join(scratch, 'requests-lsh.arrow'), join(scratch, 'registry-keys.arrow'), '--blocking', 'signature', '--threshold', '0.5']);
    expect(lshOnKeyless.code).toBe(1);
    expect(lshOnKeyless.stderr).toMatch(/requests-lsh\.arrow: carries no signature block keys/);
  });
});

// `blindlink evaluate`: linkage quality of a pairs file against the truth from `synth` (or any
// request_row,registry_row file): precision, recall, F1, F*, count error, threshold sweep, SVG plot;
// and blocking quality of two encoded files: pairs completeness, reduction ratio, pairs quality.
import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import { UserError } from '../errors.js';
import { writeAtomically, writeChunk, assertWritable } from '../io/atomic-file.js';
import { BLOCKING_METHODS, evaluateBlocking, type BlockingMethod, type BlockingQuality } from '../evaluate/blocking-quality.js';
import { evaluateFiles, type Evaluation } from '../evaluate/evaluate-files.js';
import type { SideA } from '../evaluate/read.js';
import { renderSweepPlot } from '../evaluate/svg-plot.js';
import { action, numberIn, positiveInteger, warn } from './run.js';

interface EvaluateFlags {
  truth: string;
  pairs?: string;
  encoded?: string[];
  blocking?: BlockingMethod;
  threshold?: string;
  workers?: number;
  a: SideA;
  plot?: string;
  json?: boolean;
}

function figure(value: number | null): string {
  return value === null ? 'n/a' : value.toFixed(4);
}

function signed(value: number): string {
  return value > 0 ? `+${value}` : String(value);
}

function report(evaluation: Evaluation, flags: EvaluateFlags): string {
  const n = (value: number): string => value.toLocaleString('en-US');
  const lines = [
    `${n(evaluation.pairs)} reported pairs, ${n(evaluation.truthLinks)} true links (index_a counts ${flags.a === 'requests' ? 'request' : 'registry'} rows)`,
    `TP ${n(evaluation.tp)}  FP ${n(evaluation.fp)}  FN ${n(evaluation.fn)}`,
    `precision ${figure(evaluation.precision)}  recall ${figure(evaluation.recall)}  F1 ${figure(evaluation.f1)}  F* ${figure(evaluation.fStar)}`,
    `count error (FP - FN) ${signed(evaluation.countError)}: a count-only release would say ${n(evaluation.pairs)} for ${n(evaluation.truthLinks)}`,
  ];
  const best = evaluation.best;
  if (best !== null) {
    lines.push(
      `best threshold by F1: ${best.threshold.toFixed(2)} (precision ${figure(best.precision)}, recall ${figure(best.recall)}, F1 ${figure(best.f1)}, ${n(best.pairs)} pairs)`,
      '',
      'threshold sweep (pairs scoring >= t kept; every 0.05 shown, every 0.01 in --json):',
      '  threshold      pairs         TP         FP         FN  precision  recall      F1',
    );
    for (const point of evaluation.sweep) {
      const hundredths = Math.round(point.threshold * 100);
      if (hundredths % 5 !== 0 && point !== best) continue;
      lines.push(
        `  ${point.threshold.toFixed(2).padStart(9)}${n(point.pairs).padStart(11)}${n(point.tp).padStart(11)}${n(point.fp).padStart(11)}${n(point.fn).padStart(11)}` +
          `${figure(point.precision).padStart(11)}${figure(point.recall).padStart(8)}${figure(point.f1).padStart(8)}${point === best ? '  <- best F1' : ''}`,
      );
    }
  }
  if (flags.plot !== undefined) lines.push('', `wrote the plot to ${flags.plot}`);
  return `${lines.join('\n')}\n`;
}

function blockingReport(quality: BlockingQuality): string {
  const n = (value: number): string => value.toLocaleString('en-US');
  const name = quality.method === 'lsh' ? 'Hamming LSH' : 'keyed signature';
  const lines = [
    `blocking: ${name} at threshold ${quality.threshold}`,
    `pairs completeness ${figure(quality.pairsCompleteness)} (${n(quality.blockedLinks)} of ${n(quality.truthLinks)} true links ${quality.method === 'lsh' ? 'collide in some LSH table' : 'share a block key'})`,
    `comparisons: ${n(quality.pairsCompared)} of ${n(quality.pairsTotal)} pairs (reduction ratio ${quality.reductionRatio.toFixed(6)})`,
    `pairs quality ${figure(quality.pairsQuality)} (true links put together per pair compared)`,
  ];
  if (quality.plan !== undefined) {
    lines.push(`LSH plan: ${quality.plan.tables} tables of ${quality.plan.bitsPerTable} bits; the model predicts completeness ${figure(quality.plan.predictedCompleteness)} for pairs exactly at the threshold`);
  }
  return `${lines.join('\n')}\n`;
}

/** Checks the flag combinations; a wrong combination is a usage error (exit 2). */
function blockingRequest(flags: EvaluateFlags): { encoded: [string, string]; method: BlockingMethod; threshold: number } | null {
  const given = [flags.encoded !== undefined, flags.blocking !== undefined, flags.threshold !== undefined];
  if (given.every((g) => !g)) {
    if (flags.pairs === undefined) throw new UserError('give --pairs (linkage quality), or --encoded A B --blocking M --threshold T (blocking quality), or both', 2);
    return null;
  }
  if (!given.every((g) => g)) throw new UserError('blocking quality needs all of --encoded A B, --blocking and --threshold', 2);
  const encoded = flags.encoded ?? [];
  if (encoded.length !== 2) throw new UserError(`--encoded takes exactly two files (A then B, in match order), got ${encoded.length}`, 2);
  return {
    encoded: [encoded[0], encoded[1]],
    method: flags.blocking ?? 'lsh',
    threshold: numberIn('--threshold', flags.threshold ?? '', (t) => t > 0 && t <= 1, 'a number in (0, 1]'),
  };
}

export function evaluateCommand(): Command {
  return new Command('evaluate')
    .description('linkage quality of matched pairs against the truth (precision, recall, F1, F*, count error, threshold sweep), and blocking quality of encoded files (pairs completeness, reduction ratio, pairs quality)')
    .requiredOption('--truth <file>', 'true links: CSV with columns request_row,registry_row (0-based data rows), as `synth` writes truth.csv')
    .option('--pairs <file>', 'matched pairs: CSV with columns index_a,index_b,score, as `match --reveal pairs --out` writes')
    .option('--encoded <files...>', 'blocking quality: the two encoded files, in match order (A then B)')
    .addOption(new Option('--blocking <method>', 'blocking quality: the method to measure on --encoded').choices([...BLOCKING_METHODS]))
    .option('--threshold <t>', 'blocking quality: the Dice threshold the match would use, in (0, 1] (sets the LSH plan and the comparisons counted)')
    .option('--workers <n>', 'worker threads for the LSH candidate search (default: number of cores)', positiveInteger('--workers', 256))
    .addOption(
      new Option('--a <side>', 'which file was the first match input, so which rows index_a (and the first --encoded file) count')
        .choices(['requests', 'registry'])
        .default('requests'),
    )
    .option('--plot <file.svg>', 'also write an SVG: precision, recall and F1 against threshold, and score histograms (needs --pairs)')
    .option('--json', 'print one JSON object (every sweep step) instead of the report')
    .addHelpText(
      'after',
      `
Conventions: row indices are 0-based and count data rows (the header is not a row). With the
default --a requests, the pairs come from \`blindlink match requests.arrow registry.arrow\`, so
index_a is a request row and index_b a registry row; use --a registry if you matched the other way.

Figures: precision TP/(TP+FP), recall TP/(TP+FN), F1 2TP/(2TP+FP+FN), F* TP/(TP+FP+FN), and the
count error FP - FN, which a count-only release hides when errors cancel.

The sweep keeps, for each threshold from the lowest score (rounded down to 0.01) to 1.00 in steps
of 0.01, the pairs scoring at least that threshold. It approximates matching again at each
threshold: the greedy 1:1 assignment done at the lower threshold of the pairs file may have paired a
record differently than a run at the higher threshold would. For exact figures, match at the chosen
threshold and evaluate that pairs file.

Blocking quality (--encoded A B --blocking lsh|signature --threshold T): for the two encoded files a
match would read,
  pairs completeness  true links the method puts together / all true links: an upper bound on the
                      recall of a match run with that blocking. signature: the two records share a
                      nonzero block key under some rule. lsh: they collide in some table of the plan
                      \`match --blocking lsh\` would build (same options, seed 1).
  reduction ratio     1 - pairs compared / all pairs, from running the method's candidate search at
                      the threshold: the figure \`match\` reports.
  pairs quality       true links put together / pairs compared.
Only the linkage unit's files and the truth are read; for the signature method both files must carry
block keys (a schema with a "blocking" section).

Examples:
  blindlink match requests.arrow registry.arrow --threshold 0.7 --reveal pairs --out pairs.csv
  blindlink evaluate --truth truth.csv --pairs pairs.csv --plot quality.svg
  blindlink evaluate --truth truth.csv --encoded requests.arrow registry.arrow --blocking signature --threshold 0.8`,
    )
    .action(
      action(async (flags: EvaluateFlags) => {
        const blocking = blockingRequest(flags);
        if (flags.plot !== undefined && flags.pairs === undefined) throw new UserError('--plot draws the pairs\' threshold sweep: it needs --pairs', 2);
        if (flags.plot !== undefined) await assertWritable(flags.plot);
        const pairsPath = flags.pairs;
        const linkage = pairsPath === undefined ? null : await evaluateFiles(flags.truth, pairsPath, flags.a);
        const plot = flags.plot;
        if (plot !== undefined && linkage !== null) {
          const { evaluation, histogram } = linkage;
          const svg = renderSweepPlot(evaluation.sweep, histogram, { best: evaluation.best ?? undefined, title: `Linkage quality: ${pairsPath}` });
          await writeAtomically(plot, (out) => writeChunk(out, svg));
        }
        const quality =
          blocking === null
            ? null
            : await evaluateBlocking({
                truth: flags.truth,
                encoded: blocking.encoded,
                sideA: flags.a,
                method: blocking.method,
                threshold: blocking.threshold,
                workers: flags.workers ?? Math.max(1, availableParallelism()),
                warn,
              });
        if (flags.json) {
          const object = linkage === null ? { truthLinks: quality?.truthLinks } : { ...linkage.evaluation };
          process.stdout.write(`${JSON.stringify(quality === null ? object : { ...object, blocking: quality })}\n`);
          return;
        }
        const parts = [linkage === null ? '' : report(linkage.evaluation, flags), quality === null ? '' : blockingReport(quality)];
        process.stdout.write(parts.filter((part) => part !== '').join('\n'));
      }),
    );
}

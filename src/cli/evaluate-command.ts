// `blindlink evaluate`: linkage quality of a pairs file against the truth from `synth` (or any
// request_row,registry_row file): precision, recall, F1, F*, count error, threshold sweep, SVG plot.
import { Command, Option } from 'commander';
import { writeAtomically, writeChunk, assertWritable } from '../io/atomic-file.js';
import { evaluateFiles, type Evaluation } from '../evaluate/evaluate-files.js';
import type { SideA } from '../evaluate/read.js';
import { renderSweepPlot } from '../evaluate/svg-plot.js';
import { action } from './run.js';

interface EvaluateFlags {
  truth: string;
  pairs: string;
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

export function evaluateCommand(): Command {
  return new Command('evaluate')
    .description('linkage quality of matched pairs against the truth: precision, recall, F1, F*, count error, threshold sweep')
    .requiredOption('--truth <file>', 'true links: CSV with columns request_row,registry_row (0-based data rows), as `synth` writes truth.csv')
    .requiredOption('--pairs <file>', 'matched pairs: CSV with columns index_a,index_b,score, as `match --reveal pairs --out` writes')
    .addOption(
      new Option('--a <side>', 'which file was the first match input, so which rows index_a counts')
        .choices(['requests', 'registry'])
        .default('requests'),
    )
    .option('--plot <file.svg>', 'also write an SVG: precision, recall and F1 against threshold, and score histograms')
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

Examples:
  blindlink match requests.arrow registry.arrow --threshold 0.7 --reveal pairs --out pairs.csv
  blindlink evaluate --truth truth.csv --pairs pairs.csv --plot quality.svg`,
    )
    .action(
      action(async (flags: EvaluateFlags) => {
        if (flags.plot !== undefined) await assertWritable(flags.plot);
        const { evaluation, histogram } = await evaluateFiles(flags.truth, flags.pairs, flags.a);
        const plot = flags.plot;
        if (plot !== undefined) {
          const svg = renderSweepPlot(evaluation.sweep, histogram, { best: evaluation.best ?? undefined, title: `Linkage quality: ${flags.pairs}` });
          await writeAtomically(plot, (out) => writeChunk(out, svg));
        }
        process.stdout.write(flags.json ? `${JSON.stringify(evaluation)}\n` : report(evaluation, flags));
      }),
    );
}

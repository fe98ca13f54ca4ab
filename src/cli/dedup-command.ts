// `blindlink dedup`: the linkage unit finds duplicates inside one encoded file and, by default,
// releases only how many records are duplicates. A thin shell over match/dedup.ts.
import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import { UserError } from '../errors.js';
import { DEFAULT_MAX_CANDIDATES } from '../match/candidates.js';
import { DEDUP_BLOCKING_CHOICES, dedupFile, type DedupBlockingChoice } from '../match/dedup.js';
import { CLUSTER_METHODS, formatDedupReport, GROUPS_NO_NOISE, type ClusterMethod, type GroupRevealMode } from '../reveal/group-release.js';
import { REVEAL_MODES, type RevealMode } from '../reveal/release.js';
import { checkRevealFlags, printReport, stderrReporters } from './reveal-flags.js';
import { action, numberIn, positiveInteger } from './run.js';

interface DedupFlags {
  threshold: string;
  reveal: RevealMode;
  cluster: ClusterMethod;
  mergeFraction?: string;
  out?: string;
  workers?: number;
  blocking: DedupBlockingChoice;
  maxCandidates?: number;
  json?: boolean;
}

export function dedupCommand(): Command {
  return new Command('dedup')
    .description('find duplicates inside one encoded file and release the number of duplicate records (or what --reveal allows)')
    .argument('<file>', 'encoded file (.arrow, or clkhash {"clks": [...]} JSON)')
    .requiredOption('--threshold <t>', 'Dice similarity at or above which two records are candidate duplicates, in (0, 1], or "auto" to choose one from the score distribution (no truth needed) and report it')
    .addOption(new Option('--reveal <mode>', 'what to release (noisy-count is refused, see below)').choices([...REVEAL_MODES]).default('count'))
    .addOption(new Option('--cluster <method>', 'how candidate pairs become clusters').choices([...CLUSTER_METHODS]).default('greedy'))
    .option('--merge-fraction <f>', 'greedy only: share of the pairs across two clusters that must be candidates for them to merge, in (0, 1] (default 1: all)')
    .option('--out <file>', 'CSV of clusters (group,index or group,id), for --reveal pairs')
    .addOption(new Option('--blocking <method>', 'candidate search: all pairs i < j (none), Hamming LSH self-join (lsh), or auto: all pairs up to 2e9 pairs, LSH beyond').choices([...DEDUP_BLOCKING_CHOICES]).default('auto'))
    .option('--workers <n>', 'worker threads (default: number of cores)', positiveInteger('--workers', 256))
    .option('--max-candidates <n>', `stop if more candidate pairs than this are found (default ${DEFAULT_MAX_CANDIDATES})`, positiveInteger('--max-candidates', 2 ** 31 - 1))
    .option('--json', 'print one JSON object: count and countDefinition, threshold, reveal, cluster, input size, blocking')
    .addHelpText(
      'after',
      `
Every pair of records i < j is compared once; no record is compared with itself.

count = duplicate records: records minus clusters. A cluster of n records counts n - 1, what
  keeping one record per cluster would remove. Example: 10 records forming clusters {1, 4, 7}
  and {2, 9} give count 3 (2 + 1). --json carries the same definition as countDefinition.

Clustering:
  greedy      (default) anonlink's greedy rule: pairs from the highest score down; two clusters
              merge only when every pair of records across them is a candidate, so each cluster
              is a clique of candidate pairs and one weak pair cannot chain two people together
  components  every chain of candidate pairs is one cluster (connected components): finds
              duplicates that are similar only through a third record, and chains unrelated
              records through weak links
  --merge-fraction F  greedy clusters merge when a share F of the pairs across them are
              candidates (anonlink's probabilistic solver): on FEBRL3, 0.5 recovered most of the
              recall that 1 loses above the best threshold, at lower precision below it

Reveal modes:
  count        (default) the number of duplicate records defined above, nothing else
  histogram    each record's best score against any other record, binned: no identities
  pairs        explicit opt-in: the clusters, one line per record (group,index or group,id), to --out
  noisy-count  refused: one record added or removed can change the number of duplicates by more
               than one, so there is no sensitivity to calibrate noise to (docs/PRIVACY.md)

--threshold auto: the two-file rule of match, applied to the file's even rows against its odd
rows, so that no record is scored against itself.

Example:
  blindlink dedup people.arrow --threshold 0.8 --json`,
    )
    .action(
      action(async (file: string, flags: DedupFlags) => {
        const threshold = flags.threshold === 'auto' ? 'auto' : numberIn('--threshold', flags.threshold, (t) => t > 0 && t <= 1, 'a number in (0, 1] or "auto"');
        checkRevealFlags(flags, `for dedup: ${GROUPS_NO_NOISE}`, 'clusters', Number);
        if (flags.mergeFraction !== undefined && flags.cluster !== 'greedy') throw new UserError('--merge-fraction applies only to --cluster greedy', 2);
        const mergeFraction = flags.mergeFraction === undefined ? undefined : numberIn('--merge-fraction', flags.mergeFraction, (f) => f > 0 && f <= 1, 'a number in (0, 1]');
        const report = await dedupFile({
          file,
          threshold,
          reveal: flags.reveal as GroupRevealMode,
          cluster: flags.cluster,
          mergeFraction,
          out: flags.out,
          workers: flags.workers ?? Math.max(1, availableParallelism()),
          blocking: flags.blocking,
          maxCandidates: flags.maxCandidates,
          progress: stderrReporters().progress,
        });
        printReport(report, flags.json, formatDedupReport);
      }),
    );
}

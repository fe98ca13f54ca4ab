// `blindlink match`: the linkage unit compares two encoded files and, by default, releases only
// how many records they share. A thin shell over match/match-files.ts.
import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import { UserError } from '../errors.js';
import { DEFAULT_MAX_CANDIDATES } from '../match/candidates.js';
import { BLOCKING_CHOICES, matchFiles, type BlockingChoice, type MatchOptions } from '../match/match-files.js';
import { DEFAULT_QUEUE_PREFIX, DEFAULT_SHARD_RECORDS } from '../distributed/defaults.js';
import { parseByteSize } from '../match/memory-budget.js';
import { MAX_PARTIES, matchParties } from '../match/multi-party.js';
import { formatMultiPartyReport, GROUPS_NO_NOISE, type GroupRevealMode } from '../reveal/group-release.js';
import { MIN_EPSILON } from '../reveal/noise.js';
import { formatReport, MATCH_REVEAL_MODES, type RevealMode } from '../reveal/release.js';
import { checkRevealFlags, printReport, stderrReporters } from './reveal-flags.js';
import { action, numberIn, positiveInteger, warn } from './run.js';

interface MatchFlags {
  threshold: string;
  reveal: RevealMode;
  epsilon?: string;
  out?: string;
  workers?: number;
  blocking: BlockingChoice;
  maxCandidates?: number;
  partyPairCounts?: boolean;
  memoryBudget?: string;
  engine?: string;
  shared?: string;
  shardRecords?: number;
  queuePrefix: string;
  json?: boolean;
}

export function matchCommand(): Command {
  return new Command('match')
    .description('compare two encoded files (or link three or more) and release the number of matched records (or what --reveal allows)')
    .argument('<files...>', `encoded files, one per custodian (.arrow, or clkhash {"clks": [...]} JSON): two for a 1:1 match, 3 to ${MAX_PARTIES} for multi-party linkage`)
    .requiredOption('--threshold <t>', 'Dice similarity at or above which a pair is a candidate, in (0, 1], or "auto" to choose one from the score distribution (no truth needed) and report it')
    .addOption(new Option('--reveal <mode>', 'what to release').choices([...MATCH_REVEAL_MODES]).default('count'))
    .option('--epsilon <e>', `privacy budget for --reveal noisy-count (at least ${MIN_EPSILON}; smaller = noisier)`)
    .option('--out <file>', 'CSV of matched pairs, for --reveal pairs')
    .addOption(
      new Option(
        '--blocking <method>',
        'candidate search: all pairs (none), Hamming LSH on the encodings (lsh), the keyed block keys both files carry (signature), or auto: all pairs up to 2e9 pairs, LSH beyond',
      )
        .choices([...BLOCKING_CHOICES])
        .default('auto'),
    )
    .option('--workers <n>', 'worker threads for all-pairs and LSH matching (default: number of cores); the signature join runs on one', positiveInteger('--workers', 256))
    .option('--max-candidates <n>', `stop if more candidate pairs than this are found (default ${DEFAULT_MAX_CANDIDATES})`, positiveInteger('--max-candidates', 2 ** 31 - 1))
    .option('--memory-budget <size>', 'memory the match may use, e.g. 8GiB or 500MB (default: half of this machine\'s memory); a larger file that does not fit is searched in chunks, with the same result')
    .option('--engine <url>', 'search on `blindlink worker` processes through this job engine (BullMQ on Redis: redis://host:port); needs --shared')
    .option('--shared <dir>', 'with --engine: a folder every worker can read (NFS or similar), where the shards go for the run')
    .option('--shard-records <n>', `with --engine: records per shard of either file (default ${DEFAULT_SHARD_RECORDS})`, positiveInteger('--shard-records', 2 ** 31 - 1))
    .option('--queue-prefix <name>', 'with --engine: the BullMQ key prefix the workers use too', DEFAULT_QUEUE_PREFIX)
    .option('--party-pair-counts', 'three or more files only: also release, for every pair of files, how many groups hold a record of both')
    .option('--json', 'print one JSON object: count, threshold, reveal, epsilon, input sizes, blocking (method, pairs compared, reduction ratio, LSH plan)')
    .addHelpText(
      'after',
      `
Reveal modes:
  count        (default) the number of pairs in the greedy 1:1 matching, nothing else
  noisy-count  that count plus two-sided geometric noise; needs --epsilon
  histogram    each record's best score, binned: no identities, for choosing a threshold
  pairs        row indices (or ids, if both files carry them) and scores, written to --out
  estimate     the score model's estimate of how many true pairs the files share, with a 95%
               interval, instead of the matched count (two files; see --threshold auto)

--threshold auto scores every candidate pair from a low floor (about 40 chance pairs per record
of the smaller file), fits a model of the scores (true pairs against chance pairs, each record
with at most one partner: docs/QUALITY.md) and takes the threshold of highest expected F1. The
report states the method, the expected precision, recall and F1, and the overlap estimate with
its interval (the expected figures imply it, so it is released too); the interval takes in the
true pairs placed where chance pairs outnumber them ("unresolved"). It refuses, with the reason,
when the scores cannot support a choice: too few pairs, all at one score, no chance pairs (a file
against a copy of itself) or nothing clearly above chance. Above 2e9 pairs it blocks with LSH, planned
for the lowest threshold 400 tables serve, and weights each pair by the chance the tables found it.

Both files must carry the same schema fingerprint, key check value and filter length.
clkhash JSON files carry none of these, so the check is skipped with a warning.
Candidate pairs are held in memory (about 32 bytes each): --max-candidates bounds them.

Memory: when both files do not fit --memory-budget (default half of this machine's memory, so
the page cache and the rest of the machine keep the other half), the smaller file is read whole
and the larger one a chunk at a time; each chunk is indexed and searched on its own (the LSH plan
is made once, from samples of both whole files) and the 1:1 matching runs once on all candidates:
the count is exactly that of one pass. About (l/8 + 40) bytes per record of each side for LSH,
(2 l/8 + 16) for all pairs, l the filter length in bits. --threshold auto and --blocking
signature read both files whole; two files only.

Distributed (--engine redis://host:port --shared DIR; two files):
  the files are cut into shards of --shard-records records in DIR (encodings only: no ids, and
  workers never need the secret), one task per pair of shards goes on the queue, any number of
  \`blindlink worker --engine URL\` processes on any machines take them, and the candidates come
  back here, where the 1:1 matching runs once: the same result as a local match. A task whose
  worker dies is given to another once its lock expires (worker --stall-seconds).

Three or more files (multi-party linkage, as anonlink's greedy solver):
  candidate pairs are found for every pair of files; walking them from the highest score down,
  two groups merge only when every pair of records across them is a candidate, so a group holds
  at most one record per file.
  count                groups spanning two or more files
  --party-pair-counts  also, for every pair of files, the groups holding a record of both
  --reveal histogram   each record's best score against the other files, per file
  --reveal pairs       group,file,index (or id) lines to --out; file = position from 0
  --reveal noisy-count refused: one record can change the number of groups by more than one,
                       so there is no sensitivity to calibrate noise to (docs/PRIVACY.md)
  --threshold auto     the median of the two-file automatic thresholds of all file pairs
  At most ${MAX_PARTIES} files, each given once, all encoded alike with the first.

Blocking:
  none       every pair, pruned by the popcount bound only
  lsh        Hamming LSH on the encodings: no extra input, about 99% of the pairs at the threshold
  signature  only pairs sharing a block key under some rule (Soundex of the surname and birth
             year; first letter of the given name and ZIP), keys the custodians computed with the
             shared secret and carried in both files (a "blocking" section in the schema). A true
             pair whose keys all differ (a new surname and a move) is never compared.
  auto       none up to 2e9 pairs, lsh beyond; never signature, which must be asked for
The report gives the pairs compared and the reduction ratio (1 - compared / all pairs).

Example:
  blindlink match a.arrow b.arrow --threshold 0.8 --reveal noisy-count --epsilon 1 --json`,
    )
    .action(
      action(async (files: string[], flags: MatchFlags) => {
        if (files.length < 2) throw new UserError('match needs two or more encoded files (to find duplicates inside one file, use blindlink dedup)', 2);
        if (files.length > 2) return matchMany(files, flags);
        if (flags.partyPairCounts) throw new UserError('--party-pair-counts applies to three or more files; with two, the count is the pair count', 2);
        const [a, b] = files;
        const threshold = flags.threshold === 'auto' ? 'auto' : numberIn('--threshold', flags.threshold, (t) => t > 0 && t <= 1, 'a number in (0, 1] or "auto"');
        let epsilon: number | null = null;
        if (flags.reveal === 'noisy-count') {
          if (flags.epsilon === undefined) throw new UserError('--reveal noisy-count needs --epsilon', 2);
          epsilon = numberIn('--epsilon', flags.epsilon, (e) => e >= MIN_EPSILON, `a number of at least ${MIN_EPSILON} (smaller budgets give noise the sampler cannot draw exactly, and that swamps any count)`);
        } else if (flags.epsilon !== undefined) {
          throw new UserError(`--epsilon applies only to --reveal noisy-count (reveal is ${flags.reveal})`, 2);
        }
        if (flags.reveal === 'pairs' && flags.out === undefined) throw new UserError('--reveal pairs needs --out <file>', 2);
        if (flags.reveal !== 'pairs' && flags.out !== undefined) {
          throw new UserError(`--out applies only to --reveal pairs (reveal is ${flags.reveal}); pairs are never written by default`, 2);
        }
        let memoryBudget: number | undefined;
        if (flags.memoryBudget !== undefined) {
          memoryBudget = parseByteSize(flags.memoryBudget) ?? undefined;
          if (memoryBudget === undefined) throw new UserError(`--memory-budget: expected a size such as 8GiB, 500MB or 1073741824, got '${flags.memoryBudget}'`, 2);
        }
        if (flags.engine === undefined && [flags.shared, flags.shardRecords].some((v) => v !== undefined)) throw new UserError('--shared and --shard-records apply only with --engine', 2);
        if (flags.engine !== undefined && flags.shared === undefined) throw new UserError('--engine needs --shared <dir>: a folder every worker can read', 2);
        if (flags.engine !== undefined && memoryBudget !== undefined) throw new UserError('--memory-budget applies to local matching; with --engine the shards are sized by --shard-records', 2);
        const matchOptions: MatchOptions = {
          a,
          b,
          threshold,
          reveal: flags.reveal,
          epsilon,
          out: flags.out,
          workers: flags.workers ?? Math.max(1, availableParallelism()),
          blocking: flags.blocking,
          maxCandidates: flags.maxCandidates,
          memoryBudget,
          warn,
          progress: process.stderr.isTTY ? (message: string) => process.stderr.write(`\r${message}\u001b[K`) : undefined,
        };
        let report;
        if (flags.engine === undefined) {
          report = await matchFiles(matchOptions);
        } else {
          // Loaded only here: the job engine's client costs every other command's start-up time.
          const [{ matchDistributed }, { parseEngineUrl }, { openShardStore }] = await Promise.all([
            import('../distributed/coordinator.js'),
            import('../distributed/engine.js'),
            import('../distributed/shard-store.js'),
          ]);
          report = await matchDistributed(matchOptions, {
            engine: parseEngineUrl(flags.engine, flags.queuePrefix),
            store: openShardStore(flags.shared!),
            shardRecords: flags.shardRecords ?? DEFAULT_SHARD_RECORDS,
          });
        }
        if (process.stderr.isTTY) process.stderr.write('\r\u001b[K');
        process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n`);
      }),
    );
}

/** `match A B C ...`: linkage across three or more files. */
async function matchMany(files: string[], flags: MatchFlags): Promise<void> {
  if (flags.reveal === 'estimate') throw new UserError('--reveal estimate applies to two files: the score model and its estimate are of one pair of files', 2);
  if (flags.memoryBudget !== undefined) throw new UserError('--memory-budget applies to two files; three or more are read whole', 2);
  if (flags.engine !== undefined) throw new UserError('--engine matches two files; three or more run locally', 2);
  const threshold = flags.threshold === 'auto' ? 'auto' : numberIn('--threshold', flags.threshold, (t) => t > 0 && t <= 1, 'a number in (0, 1] or "auto"');
  checkRevealFlags(flags, `for three or more files: ${GROUPS_NO_NOISE}`, 'groups', Number);
  const report = await matchParties({
    files,
    threshold,
    reveal: flags.reveal as GroupRevealMode,
    partyPairCounts: flags.partyPairCounts === true,
    out: flags.out,
    workers: flags.workers ?? Math.max(1, availableParallelism()),
    blocking: flags.blocking,
    maxCandidates: flags.maxCandidates,
    ...stderrReporters(),
  });
  printReport(report, flags.json, formatMultiPartyReport);
}

// `blindlink link init|add|release|status`: incremental linkage at the linkage unit, a thin shell
// over link/linkage.ts. The state folder holds every party's encodings: keep it as private as the
// files themselves.
import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import { UserError } from '../errors.js';
import { addBatch, initState, releaseState, stateStatus, type LinkReport, type LinkStatus } from '../link/linkage.js';
import { MAX_PARTIES } from '../match/multi-party.js';
import { CLUSTER_METHODS, formatDedupReport, formatMultiPartyReport, GROUPS_NO_NOISE, type ClusterMethod, type DedupReport, type MultiPartyReport } from '../reveal/group-release.js';
import { formatReport, REVEAL_MODES, type MatchReport, type RevealMode } from '../reveal/release.js';
import { checkRevealFlags } from './reveal-flags.js';
import { action, numberIn, positiveInteger, warn } from './run.js';

function workers(flag: number | undefined): number {
  return flag ?? Math.max(1, availableParallelism());
}

function formatStatus(status: LinkStatus): string {
  const parties = status.parties.map((p) => `${p.name} (${p.records} records in ${p.batches} batch${p.batches === 1 ? '' : 'es'})`).join(', ');
  const noisy = status.releases.filter((r) => r.epsilon !== null).length;
  return [
    `state: ${status.state} (${status.mode}, generation ${status.generation}, threshold ${status.threshold}${status.cluster === null ? '' : `, ${status.cluster} clustering`})`,
    `parties: ${parties}`,
    `releases so far: ${status.releases.length}${noisy > 0 ? ` (${noisy} noisy, epsilon spent ${status.epsilonSpent})` : ''}`,
  ].join('\n');
}

function print(json: boolean | undefined, value: object, human: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${human}\n`);
}

function initCommand(): Command {
  return new Command('init')
    .description('create a linkage state from the first encoded file of each party and match them')
    .argument('<files...>', `one encoded .arrow file per party: 1 (deduplication), 2 (1:1 match) or 3 to ${MAX_PARTIES} (multi-party groups)`)
    .requiredOption('--state <dir>', 'new or empty folder for the state (created with mode 0700)')
    .requiredOption('--threshold <t>', 'Dice threshold in (0, 1], fixed for the life of the state')
    .option('--names <list>', 'comma-separated party names, one per file (default: the file names without extension)')
    .addOption(new Option('--cluster <method>', 'one party only: how duplicates become clusters, greedy (default) or components (see blindlink dedup --help)').choices([...CLUSTER_METHODS]))
    .option('--workers <n>', 'worker threads (default: number of cores)', positiveInteger('--workers', 256))
    .option('--json', 'print the state summary as one JSON object')
    .addHelpText(
      'after',
      `
The threshold cannot be "auto": a threshold that moved with each batch would make successive
releases incomparable. Choose one with match or dedup --threshold auto on the first files.

Example:
  blindlink link init --state lu-state --threshold 0.8 a.arrow b.arrow`,
    )
    .action(
      action(async (files: string[], flags: { state: string; threshold: string; names?: string; cluster?: ClusterMethod; workers?: number; json?: boolean }) => {
        if (flags.threshold === 'auto') throw new UserError('link init needs a fixed --threshold: choose one with match or dedup --threshold auto on the first files', 2);
        const threshold = numberIn('--threshold', flags.threshold, (t) => t > 0 && t <= 1, 'a number in (0, 1]');
        if (flags.cluster !== undefined && files.length > 1) throw new UserError('--cluster applies to a state of one party (deduplication)', 2);
        const status = await initState({
          dir: flags.state,
          files,
          names: flags.names?.split(','),
          threshold,
          cluster: flags.cluster,
          workers: workers(flags.workers),
          warn,
        });
        print(flags.json, status, formatStatus(status));
      }),
    );
}

function addCommand(): Command {
  return new Command('add')
    .description("match a party's new batch of encoded records against everything the state holds, and keep it")
    .argument('<batch>', 'encoded .arrow file of new records, made with the same secret and schema')
    .requiredOption('--state <dir>', 'the state folder')
    .requiredOption('--party <name>', 'the party the batch belongs to')
    .option('--workers <n>', 'worker threads (default: number of cores)', positiveInteger('--workers', 256))
    .option('--json', 'print the state summary as one JSON object')
    .addHelpText(
      'after',
      `
Adding releases nothing. The batch is compared with every record of the other parties (one
party: with its own records and within the batch), all pairs exactly, so a later release equals
what a full match of all files as they now stand would release with --blocking none.

Example:
  blindlink link add --state lu-state --party a a-week2.arrow`,
    )
    .action(
      action(async (batch: string, flags: { state: string; party: string; workers?: number; json?: boolean }) => {
        const status = await addBatch({ dir: flags.state, party: flags.party, file: batch, workers: workers(flags.workers) });
        print(flags.json, status, formatStatus(status));
      }),
    );
}

function formatLinkReport(report: LinkReport): string {
  const body =
    'mode' in report && report.mode === 'dedup'
      ? formatDedupReport(report as DedupReport)
      : 'mode' in report && report.mode === 'multi-party'
        ? formatMultiPartyReport(report as MultiPartyReport)
        : formatReport(report as MatchReport);
  return `${body}\nstate: generation ${report.link.generation}, release ${report.link.releases.length}${report.link.epsilonSpent > 0 ? `, epsilon spent ${report.link.epsilonSpent}` : ''}`;
}

function releaseCommand(): Command {
  return new Command('release')
    .description('release the figure for everything the state holds now, as match or dedup would')
    .requiredOption('--state <dir>', 'the state folder')
    .addOption(new Option('--reveal <mode>', 'what to release').choices([...REVEAL_MODES]).default('count'))
    .option('--epsilon <e>', 'privacy budget for --reveal noisy-count (two parties only)')
    .option('--out <file>', 'CSV of pairs (two parties) or groups, for --reveal pairs')
    .option('--party-pair-counts', 'three or more parties: also release per pair of parties the groups holding a record of both')
    .option('--json', 'print one JSON object: the report of match or dedup, plus link (generation, parties, releases so far, epsilon spent)')
    .addHelpText(
      'after',
      `
Every release is recorded in the state (generation, reveal mode, epsilon) before anything is
printed. Two releases around a batch differ by what the batch changed: with a batch of one
record, by whether that record matched. See "Repeated releases" in docs/PRIVACY.md.

Example:
  blindlink link release --state lu-state --json`,
    )
    .action(
      action(async (flags: { state: string; reveal: RevealMode; epsilon?: string; out?: string; partyPairCounts?: boolean; json?: boolean }) => {
        const mode = (await stateStatus(flags.state)).mode;
        const epsilon = checkRevealFlags(flags, mode === 'two-party' ? null : `for this state (${mode}): ${GROUPS_NO_NOISE}`, 'pairs and groups', (text) =>
          numberIn('--epsilon', text, (e) => e > 0, 'a positive number'),
        );
        if (flags.partyPairCounts && mode !== 'multi-party') throw new UserError('--party-pair-counts applies to states of three or more parties', 2);
        const report = await releaseState({ dir: flags.state, reveal: flags.reveal, epsilon, out: flags.out, partyPairCounts: flags.partyPairCounts === true });
        print(flags.json, report, formatLinkReport(report));
      }),
    );
}

function statusCommand(): Command {
  return new Command('status')
    .description('show what a state holds: parties, record and batch counts, releases so far (no linkage figures)')
    .requiredOption('--state <dir>', 'the state folder')
    .option('--json', 'print one JSON object')
    .action(
      action(async (flags: { state: string; json?: boolean }) => {
        const status = await stateStatus(flags.state);
        print(flags.json, status, formatStatus(status));
      }),
    );
}

export function linkCommand(): Command {
  const link = new Command('link')
    .description('incremental linkage: keep a state at the linkage unit, add batches, release figures')
    .addHelpText(
      'after',
      `
Typical run at the linkage unit:
  blindlink link init --state lu-state --threshold 0.8 a.arrow b.arrow
  blindlink link release --state lu-state                    (the count, as match would give)
  blindlink link add --state lu-state --party a a-week2.arrow
  blindlink link release --state lu-state                    (the count for a + a-week2 against b)

Changes are atomic: new files are written and flushed first, then the manifest is replaced; a
crash leaves the state as it was before the command.`,
    );
  for (const command of [initCommand(), addCommand(), releaseCommand(), statusCommand()]) link.addCommand(command);
  return link;
}

// `blindlink demo`: the whole story in one command, on synthetic data, cleaning up after itself.
import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { runDemo } from '../demo.js';
import { action, positiveInteger } from './run.js';

interface DemoFlags {
  registry: number;
  requests: number;
  seed: number;
  workers?: number;
  threshold: number | 'auto';
  keepIn?: string;
  json?: boolean;
  service?: boolean;
}

/** The service demo's sizes when --registry/--requests are not given: small, since it is about the service. */
const SERVICE_DEMO_SIZES = { registry: 20_000, requests: 2_000 };

function threshold(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const parsed = Number(value);
  if (!(parsed > 0 && parsed <= 1)) throw new InvalidArgumentError('--threshold must be in (0, 1] or "auto".');
  return parsed;
}

const format = (value: number | null) => (value === null ? 'n/a' : value.toFixed(4));

export function demoCommand(): Command {
  return new Command('demo')
    .description('run the whole pipeline on synthetic taxpayer data: synth, keygen, encode twice, match count-only')
    .option('--registry <n>', 'taxpayers in the registry', positiveInteger('--registry', 100_000_000), 200_000)
    .option('--requests <n>', 'people asked about', positiveInteger('--requests', 100_000_000), 20_000)
    .option('--seed <s>', 'seed for the synthetic data', positiveInteger('--seed', 2 ** 32 - 1), 1)
    .option('--workers <n>', 'worker threads (default: number of cores)', positiveInteger('--workers', 256))
    .option('--threshold <t>', 'Dice threshold for matching, or "auto"', threshold, 0.8)
    .option('--keep-in <folder>', 'write the files into this existing folder and keep them')
    .option('--json', 'print the report as JSON')
    .option('--service', `run the linkage unit as a real server process instead (blindlink serve on loopback): uploads, refusals, a release, a restart, the audit chain; ${SERVICE_DEMO_SIZES.registry.toLocaleString('en-US')} taxpayers and ${SERVICE_DEMO_SIZES.requests.toLocaleString('en-US')} requests unless given`)
    .addHelpText(
      'after',
      `
A tax agency (custodian A) holds a registry; another agency (custodian B) asks about a list of
people, 3.7% of whom are taxpayers, with typos, nicknames, moves and missing fields. Both encode
locally with a shared secret; the linkage unit matches the encodings and releases one number.
The demo keeps the pairs behind that number, only to score it against the truth.`,
    )
    .action(
      action(async (flags: DemoFlags, command: Command) => {
        const say = flags.json ? () => undefined : (line: string) => process.stdout.write(`${line}\n`);
        if (flags.service) {
          const given = (name: 'registry' | 'requests') => (command.getOptionValueSource(name) === 'default' ? SERVICE_DEMO_SIZES[name] : flags[name]);
          const { runServiceDemo } = await import('../service/demo.js');
          const report = await runServiceDemo(
            { registry: given('registry'), requests: given('requests'), seed: flags.seed, workers: flags.workers ?? Math.max(1, availableParallelism()), keepIn: flags.keepIn },
            say,
          );
          if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
          else say(`\nthe recipient learnt one noisy number; the linkage unit refused what the policy forbids and recorded everything in a verified hash chain.`);
          return;
        }
        const report = await runDemo(
          {
            registry: flags.registry,
            requests: flags.requests,
            seed: flags.seed,
            workers: flags.workers ?? Math.max(1, availableParallelism()),
            threshold: flags.threshold,
            keepIn: flags.keepIn,
          },
          say,
        );
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(report)}\n`);
          return;
        }
        const total = report.steps.reduce((sum, s) => sum + s.seconds, 0);
        say('');
        const how = report.thresholdChoice ? `, chosen automatically (${report.thresholdChoice.method})` : '';
        say(`released by the linkage unit: ${report.releasedCount.toLocaleString('en-US')} people in common (threshold ${report.threshold}${how})`);
        say(`true overlap:                 ${report.trueOverlap.toLocaleString('en-US')}`);
        say(`quality of the pairs behind that count: precision ${format(report.precision)}, recall ${format(report.recall)}, F1 ${format(report.f1)}`);
        say(`total ${total.toFixed(1)} s; the linkage unit never saw a name, a date or an address.`);
      }),
    );
}

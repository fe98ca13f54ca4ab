// `blindlink synth`: a synthetic taxpayer registry, a list of requests about people (some of them
// in the registry, corrupted as another agency's copy would be) and the truth linking the two.
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_CORRUPTION, scaleRates, type CorruptionRates } from '../synth/corrupt.js';
import { MAX_ROWS, synthesize } from '../synth/write.js';
import { ZIPF_EXPONENT } from '../synth/vocabulary.js';
import { action, positiveInteger } from './run.js';

interface SynthFlags {
  registry: number;
  requests: number;
  overlap: number;
  seed: number;
  outDir: string;
  typoRate: number;
  phoneticRate: number;
  ocrRate: number;
  nicknameRate: number;
  dateSwapRate: number;
  moveRate: number;
  missingRate: number;
  surnameChangeRate: number;
  corruptionScale: number;
  namesakeRate: number;
  relativeRate: number;
  json?: boolean;
}

/** Parses a probability option; a bad value is a usage error. */
export function probability(name: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0 || parsed > 1) {
      throw new InvalidArgumentError(`${name} must be a number between 0 and 1.`);
    }
    return parsed;
  };
}

function seedValue(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed > 0xffffffff) throw new InvalidArgumentError('--seed must be an integer between 0 and 4294967295.');
  return parsed;
}

function scaleValue(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0 || parsed > 100) {
    throw new InvalidArgumentError('--corruption-scale must be a number between 0 and 100.');
  }
  return parsed;
}

const RATE_OPTIONS: ReadonlyArray<readonly [flag: string, key: keyof CorruptionRates, what: string]> = [
  ['--typo-rate', 'typo', 'one keyboard typo (insert, delete, QWERTY-neighbour substitute, transpose) in a name or address'],
  ['--phonetic-rate', 'phonetic', 'one sound-alike spelling (ph/f, ck/k, ie/y, c/k, doubled or single letters...)'],
  ['--ocr-rate', 'ocr', 'one scanning confusion (0/O, 1/l, 5/S, 8/B, rn/m, cl/d...)'],
  ['--nickname-rate', 'nickname', 'given name swapped for a nickname or back (William/Bill), when it has one'],
  ['--date-swap-rate', 'dateSwap', 'day and month of birth swapped, when the result is a different valid date'],
  ['--move-rate', 'move', 'a different address (street, city, state, ZIP)'],
  ['--missing-rate', 'missing', 'one of middle name, date of birth, street, city, ZIP left blank'],
  ['--surname-change-rate', 'surnameChange', 'women only: a new surname after marriage, sometimes hyphenated'],
];

export function synthCommand(): Command {
  const command = new Command('synth')
    .description('write a synthetic taxpayer registry, requests about people, and the true links between them')
    .requiredOption('--registry <n>', 'registry rows', positiveInteger('--registry', MAX_ROWS))
    .requiredOption('--requests <m>', 'request rows', positiveInteger('--requests', MAX_ROWS))
    .requiredOption('--out-dir <dir>', 'folder for registry.csv, requests.csv and truth.csv (created if missing)')
    .option('--overlap <fraction>', 'fraction of requests that are registry members (the motivating case: 47,000 of 1.28 million)', probability('--overlap'), 0.037)
    .option('--seed <n>', 'random seed: the same seed and options give byte-identical files', seedValue, 1);
  for (const [flag, key, what] of RATE_OPTIONS) {
    command.option(`${flag} <p>`, `per-request probability: ${what}`, probability(flag), DEFAULT_CORRUPTION[key]);
  }
  return command
    .option('--corruption-scale <x>', 'multiply every corruption rate (0 = clean copies, 0.5 light, 2 heavy; each capped at 1)', scaleValue, 1)
    .option('--namesake-rate <p>', 'fraction of non-member requests sharing a surname and city with a registry person', probability('--namesake-rate'), 0.1)
    .option('--relative-rate <p>', 'fraction of non-member requests that are relatives at a registry address (same surname and address, other given name and birth date)', probability('--relative-rate'), 0.1)
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
Files (CSV with a header row; all three are written to temporary names and renamed at the end):
  registry.csv  record_id,given_name,middle_name,surname,date_of_birth,street_address,city,state,zip
  requests.csv  the same columns; rows in random order, record_id random-looking (Q...), so neither
                the order nor the id reveals which requests are registry members
  truth.csv     request_row,registry_row: 0-based data-row indices (header not counted), one line
                per request that is a registry member; exactly round(overlap * requests) lines

People: names and places from @faker-js/faker's English lists (plus common US surnames, given
names and large cities placed first), drawn with Zipf weights (exponent ${ZIPF_EXPONENT.surname} for surnames,
${ZIPF_EXPONENT.given} for given names, ${ZIPF_EXPONENT.city} for cities) so common names are common; birth dates 1930-2008;
each city has one state and a block of ZIP codes inside that state's range.
Corruption rates apply to every request, member or not, so data quality does not give members away.
Memory stays flat: rows are regenerated from the seed instead of being kept.

Examples:
  blindlink synth --registry 10000000 --requests 1280000 --overlap 0.037 --out-dir case   (about 47,000 members)
  blindlink synth --registry 200000 --requests 20000 --seed 7 --corruption-scale 2 --out-dir heavy`,
    )
    .action(
      action(async (flags: SynthFlags) => {
        const rates: CorruptionRates = { ...DEFAULT_CORRUPTION };
        for (const [, key] of RATE_OPTIONS) {
          const flagKey = `${key}Rate` as const;
          rates[key] = flags[flagKey];
        }
        const summary = await synthesize({
          registry: flags.registry,
          requests: flags.requests,
          overlap: flags.overlap,
          seed: flags.seed,
          outDir: flags.outDir,
          rates: scaleRates(rates, flags.corruptionScale),
          namesakeRate: flags.namesakeRate,
          relativeRate: flags.relativeRate,
        });
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(summary)}\n`);
          return;
        }
        const n = (value: number): string => value.toLocaleString('en-US');
        const others = summary.requestRows - summary.members - summary.namesakes - summary.relatives;
        const rate = n(Math.round((summary.registryRows + summary.requestRows) / Math.max(summary.seconds, 1e-3)));
        process.stdout.write(
          `wrote ${summary.registryPath} (${n(summary.registryRows)} rows)\n` +
            `      ${summary.requestsPath} (${n(summary.requestRows)} rows: ${n(summary.members)} registry members, ` +
            `${n(summary.namesakes)} namesakes, ${n(summary.relatives)} relatives, ${n(others)} others)\n` +
            `      ${summary.truthPath} (${n(summary.members)} links)\n` +
            `in ${summary.seconds.toFixed(1)} s (${rate} rows/s)\n`,
        );
      }),
    );
}

// `blindlink attack ENCODED --reference REF.csv --schema S --truth-column C`: a data steward's
// check, before release, of how many encoded records the published attacks re-identify.
import { Command, InvalidArgumentError } from 'commander';
import { attackFiles } from '../attack/suite.js';
import type { AttackScore } from '../attack/score.js';
import { action } from './run.js';

interface AttackFlags {
  reference: string;
  schema: string;
  truthColumn: string;
  seed: number;
  json?: boolean;
}

function seedValue(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 0xffffffff) throw new InvalidArgumentError('--seed must be an integer between 0 and 4294967295.');
  return Number(value);
}

const percent = (share: number | null): string => (share === null ? '-' : `${(share * 100).toFixed(1)}%`);

export function formatScores(scores: readonly AttackScore[]): string {
  const lines = ['attack           re-identified  precision  q-grams identified  assignments  in reference'];
  for (const s of scores) {
    lines.push(
      `${s.name.padEnd(16)} ${percent(s.reidentified).padStart(13)}  ${percent(s.precision).padStart(9)}  ${percent(s.qgramsIdentified).padStart(18)}  ${String(s.assignments).padStart(11)}  ${String(s.inReference).padStart(12)}`,
    );
  }
  lines.push(`(${scores[0]?.encodedRecords ?? 0} encoded records; re-identified = the attack named the right person or someone with identical values)`);
  return lines.join('\n');
}

export function attackCommand(): Command {
  return new Command('attack')
    .description('run the pattern-mining and graph-matching attacks on your own encodings and report how many records they re-identify')
    .argument('<encoded>', 'encoded file made with --id-column (the ids are used only to score the attacks)')
    .requiredOption('--reference <csv>', 'plaintext reference population the attacker is assumed to hold (the schema\'s columns and the truth column)')
    .requiredOption('--schema <json>', 'the linkage schema the file was encoded with (the attacker is assumed to know it, never the secret)')
    .requiredOption('--truth-column <column>', 'reference column holding the identities carried in the encoded file\'s id column')
    .option('--seed <n>', 'seed for the attacks\' sampling', seedValue, 1)
    .option('--json', 'print {"attacks": [...]}')
    .action(
      action(async (encoded: string, flags: AttackFlags) => {
        const scores = await attackFiles({
          encodedPath: encoded,
          referencePath: flags.reference,
          schemaPath: flags.schema,
          truthColumn: flags.truthColumn,
          seed: flags.seed,
        });
        process.stdout.write(flags.json ? `${JSON.stringify({ attacks: scores })}\n` : `${formatScores(scores)}\n`);
      }),
    );
}

// `blindlink encode`: a custodian turns its own records into CLKs with the shared secret.
import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import { encodeFile } from '../encode-file.js';
import { UserError } from '../errors.js';
import { looksGenerated, readSecret, SECRET_ENV } from '../secret.js';
import { action, positiveInteger, warn } from './run.js';

interface EncodeFlags {
  schema: string;
  secretFile?: string;
  in: string;
  out: string;
  workers?: number;
  idColumn?: string;
  delimiter: string;
  trim?: boolean;
  onError: 'fail' | 'skip';
  recordPresence?: boolean;
  json?: boolean;
}

export function encodeCommand(): Command {
  return new Command('encode')
    .description('encode records (CSV or Arrow) into keyed Bloom-filter encodings (CLKs)')
    .requiredOption('--schema <file>', 'linkage schema: blindlink JSON schema or clkhash v2/v3 schema')
    .option('--secret-file <file>', `file holding the shared secret (or set ${SECRET_ENV})`)
    .requiredOption('--in <file>', 'input records: CSV with a header row, or an Arrow IPC file; a FIFO or pipe, or - for standard input, is read as a stream')
    .requiredOption('--out <file>', 'output: .arrow (Arrow IPC) or .json (clkhash {"clks": [...]})')
    .option('--workers <n>', 'worker threads (default: number of cores)', positiveInteger('--workers', 256))
    .option('--id-column <column>', 'carry this input column as the id column (only if you mean to reveal ids later)')
    .option('--delimiter <char>', 'CSV field delimiter', ',')
    .option('--trim', 'strip spaces around unquoted CSV values (FEBRL files need it)')
    .addOption(new Option('--on-error <mode>', 'bad records: stop at the first, or skip and count them (a record with broken quoting costs only its first line)').choices(['fail', 'skip']).default('fail'))
    .option('--record-presence', 'also write which schema fields each record has (column "present"), so a linkage-unit service can check required identifiers; it reveals which fields each record lacks')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
The secret is read from --secret-file or ${SECRET_ENV}, never from the command line.
Output is written to a temporary name and renamed when complete: a failed run leaves no file.
The output holds no plaintext: only the encodings, their popcounts, metadata (schema
fingerprint, key check value) and, with --id-column, that column.

Example:
  blindlink encode --schema schema.json --secret-file secret.key --in people.csv --out people.arrow`,
    )
    .action(
      action(async (flags: EncodeFlags) => {
        if (flags.delimiter === '\\t') flags.delimiter = '\t';
        if (flags.secretFile !== undefined && process.env[SECRET_ENV] !== undefined) {
          warn(`both --secret-file and ${SECRET_ENV} are set; using --secret-file`);
        }
        const secret = await readSecret(flags.secretFile);
        if (!looksGenerated(secret)) {
          warn('the secret is not a keygen secret (64 hex digits); if it is a passphrase, anyone holding an encoded file can test guesses against its key check value');
        }
        const started = performance.now();
        let summary;
        try {
          summary = await encodeFile({
            schema: flags.schema,
            secret,
            input: flags.in,
            output: flags.out,
            workers: flags.workers ?? Math.max(1, availableParallelism()),
            idColumn: flags.idColumn,
            dialect: { delimiter: flags.delimiter, trim: flags.trim === true },
            onError: flags.onError,
            recordPresence: flags.recordPresence === true,
          });
        } finally {
          secret.fill(0);
        }
        const seconds = (performance.now() - started) / 1000;
        if (flags.json) {
          process.stdout.write(
            `${JSON.stringify({ output: flags.out, encoded: summary.encoded, skipped: summary.skipped, skippedLines: summary.skippedLines, seconds, ...summary.metadata })}\n`,
          );
          return;
        }
        const rate = Math.round(summary.encoded / seconds).toLocaleString('en-US');
        process.stdout.write(`encoded ${summary.encoded.toLocaleString('en-US')} records into ${flags.out} in ${seconds.toFixed(2)} s (${rate} records/s)\n`);
        if (summary.skipped > 0) {
          const unit = summary.examples[0]?.where.startsWith('row') ? 'rows' : 'lines';
          process.stdout.write(`skipped ${summary.skipped} bad record${summary.skipped === 1 ? '' : 's'} (${summary.skippedLines} input ${summary.skippedLines === 1 ? unit.slice(0, -1) : unit}), e.g.:\n`);
          for (const example of summary.examples) process.stdout.write(`  ${example.where}: ${example.message}\n`);
        }
        process.stdout.write(`schema fingerprint ${summary.metadata.schemaFingerprint}\nkey check value    ${summary.metadata.keyCheck}\n`);
      }),
    );
}

export function assertNoSecretArgument(argv: readonly string[]): void {
  if (argv.some((arg) => arg === '--secret' || arg.startsWith('--secret='))) {
    throw new UserError(`secrets are never accepted on the command line (other users can see process arguments); use --secret-file or ${SECRET_ENV}`, 2);
  }
}

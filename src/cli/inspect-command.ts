// `blindlink inspect FILE`: what an encoded file says about itself. Never plaintext: only
// metadata, the record count and popcount statistics.
import { Command } from 'commander';
import { encodingRisks } from '../attack/risk.js';
import { readEncodedFile, type EncodedFile } from '../io/encoded-file.js';
import { action } from './run.js';

export interface FileStatistics {
  records: number;
  filterBits: number;
  popcount: { min: number; median: number; max: number; mean: number };
  /** Mean share of bits set. */
  fillRate: number;
}

export function fileStatistics(file: EncodedFile): FileStatistics {
  const sorted = Uint16Array.from(file.popcounts).sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return {
    records: file.count,
    filterBits: file.filterBits,
    popcount: { min: sorted[0], median, max: sorted[sorted.length - 1], mean: sum / sorted.length },
    fillRate: sum / sorted.length / file.filterBits,
  };
}

/** Why a file has no blindlink metadata: clkhash JSON has no place for it; an Arrow file just lacks it. */
function noMetadataKind(file: EncodedFile): string {
  return file.format === 'clkhash-json' ? 'clkhash JSON' : 'an Arrow file without blindlink metadata';
}

/** What a steward should know before releasing the file; empty when nothing looks risky. */
export function fileWarnings(file: EncodedFile): string[] {
  if (file.metadata === null) return [`no metadata (${noMetadataKind(file)}): hardening and secret cannot be checked`];
  const warnings = encodingRisks({ hardening: file.metadata.hardening, popcounts: file.popcounts, filterBits: file.filterBits });
  if (file.metadata.blocking) {
    warnings.push('carries keyed block keys: the linkage unit cannot read the values behind them, but learns which records share a block and how large each block is');
  }
  if (file.metadata.secretSource === 'other') {
    warnings.push('the secret was not made by keygen: a guessable passphrase can be tested offline against the key check value');
  }
  return warnings;
}

export function inspectCommand(): Command {
  return new Command('inspect')
    .description('show an encoded file\'s metadata and fill statistics (never plaintext)')
    .argument('<file>', 'encoded file (.arrow, or clkhash .json)')
    .option('--json', 'print one JSON object')
    .action(
      action(async (path: string, flags: { json?: boolean }) => {
        const file = await readEncodedFile(path);
        const stats = fileStatistics(file);
        const warnings = fileWarnings(file);
        if (flags.json) {
          // metadata.blocking names the scheme and rules only; key values are never printed.
          process.stdout.write(`${JSON.stringify({ file: path, format: file.format, hasIds: file.ids !== null, hasBlockKeys: file.blockKeys !== null, metadata: file.metadata, ...stats, warnings })}\n`);
          return;
        }
        const lines = [
          `file              ${path} (${file.format === 'arrow' ? 'Arrow IPC' : 'clkhash JSON'})`,
          `records           ${stats.records.toLocaleString('en-US')}`,
          `filter length     ${stats.filterBits} bits`,
          `popcount          min ${stats.popcount.min}, median ${stats.popcount.median}, max ${stats.popcount.max}`,
          `fill rate         ${(stats.fillRate * 100).toFixed(1)}%`,
          `ids carried       ${file.ids === null ? 'no' : 'yes'}`,
        ];
        if (file.metadata) {
          lines.push(
            `blindlink version ${file.metadata.blindlinkVersion}`,
            `schema            ${file.metadata.schemaFingerprint}`,
            `key check value   ${file.metadata.keyCheck}`,
            `hardening         ${file.metadata.hardening}`,
            `block keys        ${file.metadata.blocking ? `${file.metadata.blocking.scheme} (rules: ${file.metadata.blocking.rules.join(', ')})` : 'none'}`,
            `field presence    ${file.metadata.presenceFields ? file.metadata.presenceFields.join(', ') : 'not recorded'}`,
          );
        } else {
          lines.push(`metadata          none (${noMetadataKind(file)}): schema and secret cannot be checked`);
        }
        for (const warning of warnings) lines.push(`warning: ${warning}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );
}

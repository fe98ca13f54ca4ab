// Refuses to compare files that cannot match: different filter lengths, linkage schemas or
// secrets would otherwise give a silent near-zero count. clkhash JSON carries no metadata, so
// for it the check is impossible and the caller gets a warning instead.
import { UserError } from '../errors.js';
import type { EncodedFile } from '../io/encoded-file.js';

/**
 * Throws a UserError naming what differs; returns warnings (one per file without metadata).
 *
 * @example for (const w of checkCompatible(a, b)) process.stderr.write(`blindlink: warning: ${w}\n`);
 */
export function checkCompatible(a: EncodedFile, b: EncodedFile): string[] {
  if (a.filterBits !== b.filterBits) {
    throw new UserError(`${b.path}: has ${b.filterBits}-bit filters but ${a.path} has ${a.filterBits}-bit filters; both sides must encode with the same schema`);
  }
  const warnings: string[] = [];
  for (const file of [a, b]) {
    if (file.metadata === null) {
      warnings.push(`${file.path} has no blindlink metadata (${file.format === 'clkhash-json' ? 'clkhash JSON' : 'Arrow without metadata'}): cannot check that both sides used the same secret and schema`);
    }
  }
  if (a.metadata === null || b.metadata === null) return warnings;
  const schemaDiffers = a.metadata.schemaFingerprint !== b.metadata.schemaFingerprint;
  const keyDiffers = a.metadata.keyCheck !== b.metadata.keyCheck;
  if (schemaDiffers || keyDiffers) {
    const what = [
      schemaDiffers ? `schema fingerprints differ (${short(a.metadata.schemaFingerprint)} vs ${short(b.metadata.schemaFingerprint)}: different linkage schemas)` : '',
      keyDiffers ? `key check values differ (${short(a.metadata.keyCheck)} vs ${short(b.metadata.keyCheck)}: different secrets, or different schemas)` : '',
    ].filter((s) => s !== '');
    throw new UserError(`${a.path} and ${b.path} were not encoded alike: ${what.join('; ')}`);
  }
  return warnings;
}

function short(hex: string): string {
  return hex.length > 12 ? `${hex.slice(0, 12)}…` : hex;
}

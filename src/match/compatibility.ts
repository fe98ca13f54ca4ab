// Refuses to compare files that cannot match: different filter lengths, linkage schemas or
// secrets would otherwise give a silent near-zero count. clkhash JSON carries no metadata, so
// for it the check is impossible and the caller gets a warning instead.
import { SIGNATURE_ROW_BYTES, SIGNATURE_RULE_IDS, SIGNATURE_SCHEME } from '../blocking/signature.js';
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
  // The same file twice (or a copy) matches every record with itself: almost surely a mistake.
  if (a.count === b.count && Buffer.compare(a.clks, b.clks) === 0) {
    warnings.push(`${a.path} and ${b.path} hold the same encodings: every record will match itself`);
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

/**
 * The two files' block keys for `--blocking signature`, after checking that both carry keys of
 * the scheme and rules this version joins, and the same ones: keys made under different rules
 * never agree, so the join would find nothing and report a silent zero.
 *
 * @example const { keysA, keysB } = signatureKeys(a, b);
 */
export function signatureKeys(a: EncodedFile, b: EncodedFile): { keysA: Uint8Array; keysB: Uint8Array } {
  const keys: Uint8Array[] = [];
  for (const file of [a, b]) {
    const blocking = file.metadata?.blocking;
    if (file.blockKeys === null || blocking === undefined) {
      throw new UserError(
        `${file.path}: carries no signature block keys, so --blocking signature cannot use it (encode both files with a schema that has a "blocking" section, or use --blocking auto, lsh or none)`,
      );
    }
    keys.push(file.blockKeys);
  }
  const describe = (file: EncodedFile): string => `${file.metadata?.blocking?.scheme} with rules ${file.metadata?.blocking?.rules.join(', ')}`;
  if (describe(a) !== describe(b)) {
    throw new UserError(`${a.path} and ${b.path} carry different block keys (${describe(a)} vs ${describe(b)}): both sides must encode with the same schema and blindlink version`);
  }
  const blocking = a.metadata?.blocking;
  if (blocking?.scheme !== SIGNATURE_SCHEME || blocking.rules.join(',') !== SIGNATURE_RULE_IDS.join(',')) {
    throw new UserError(`${a.path}: block keys follow ${describe(a)}; this blindlink joins ${SIGNATURE_SCHEME} with rules ${SIGNATURE_RULE_IDS.join(', ')}`);
  }
  if (keys[0].length !== a.count * SIGNATURE_ROW_BYTES || keys[1].length !== b.count * SIGNATURE_ROW_BYTES) throw new RangeError('block keys do not match the record counts');
  return { keysA: keys[0], keysB: keys[1] };
}

function short(hex: string): string {
  return hex.length > 12 ? `${hex.slice(0, 12)}…` : hex;
}

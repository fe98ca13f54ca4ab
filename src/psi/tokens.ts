// Exact tokens for PSI: one string per record, the canonical join of the schema's fields after the
// same missing-value rules and normalisers the encoder applies (src/prepare.ts). Equal tokens mean
// equal prepared records, so exact-token PSI misses every pair with a typo, a nickname or a move:
// that is the accuracy cost the policy lab sets beside blindlink's fuzzy count.
import { readCsvRecords, type CsvDialect } from '../csv/index.js';
import { inFile, UserError } from '../errors.js';
import { InvalidValue, makePreparer } from '../prepare.js';
import type { EncodingPlan } from '../types.js';

/** A party's token set, deduplicated, with what was left out and why. */
export interface TokenSet {
  tokens: string[];
  records: number;
  /** Records whose token equals an earlier record's (a set has each element once). */
  duplicates: number;
  /** Records with every field missing: their tokens would all be equal and match each other. */
  empty: number;
}

/** Record values (in schema field order) -> token, or null when every field is missing. */
export type TokenMaker = (values: readonly string[]) => string | null | InvalidValue;

export function tokenMaker(plan: EncodingPlan): TokenMaker {
  const preparers = plan.fields.map(makePreparer);
  return (values) => {
    const prepared: string[] = new Array(preparers.length);
    let present = false;
    for (let i = 0; i < preparers.length; i++) {
      const value = preparers[i](values[i] ?? '');
      if (value instanceof InvalidValue) return new InvalidValue(`field ${plan.fields[i].name}: ${value.reason}`);
      prepared[i] = value;
      if (value.length > 0) present = true;
    }
    // JSON quoting makes the join unambiguous: no field value can imitate a separator.
    return present ? JSON.stringify(prepared) : null;
  };
}

/** Collects tokens into a set, counting duplicates and empty records. */
export class TokenCollector {
  private readonly seen = new Set<string>();
  records = 0;
  duplicates = 0;
  empty = 0;

  add(token: string | null): void {
    this.records++;
    if (token === null) this.empty++;
    else if (this.seen.has(token)) this.duplicates++;
    else this.seen.add(token);
  }

  result(): TokenSet {
    return { tokens: [...this.seen], records: this.records, duplicates: this.duplicates, empty: this.empty };
  }
}

/**
 * Reads a CSV file (header row naming the schema's columns) into its token set. A value the schema
 * rejects stops the run with the line and field, never the value.
 */
export async function readTokenFile(path: string, plan: EncodingPlan, dialect: CsvDialect): Promise<TokenSet> {
  const make = tokenMaker(plan);
  const collector = new TokenCollector();
  let columns: number[] | null = null;
  for await (const record of readCsvRecords(path, dialect)) {
    if (columns === null) {
      const header = record.fields;
      const missing = plan.fields.filter((field) => !header.includes(field.column)).map((field) => field.column);
      if (missing.length > 0) throw inFile(path, `missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (the input has: ${header.join(', ')})`);
      columns = plan.fields.map((field) => header.indexOf(field.column));
      continue;
    }
    const values = columns.map((column) => record.fields[column] ?? '');
    const token = make(values);
    if (token instanceof InvalidValue) throw inFile(path, `line ${record.line}: ${token.reason}`);
    collector.add(token);
  }
  if (columns === null) throw inFile(path, 'no header and no records');
  const set = collector.result();
  if (set.tokens.length === 0) throw new UserError(`${path}: no record with any field present, so there is nothing to intersect`);
  return set;
}

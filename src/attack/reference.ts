// Reads the attacker's plaintext reference (REF.csv) and splits it at the boundary: the schema's
// field values go to the attacks, the truth column goes only to the scorer.
import { readCsvRecords } from '../csv/index.js';
import { UserError } from '../errors.js';
import type { EncodingPlan } from '../types.js';

export interface ReferenceFile {
  /** Values in plan field order: all an attack ever sees. */
  rows: string[][];
  /** The truth column, row by row: for scoring only. */
  identities: string[];
}

export async function readReference(path: string, plan: EncodingPlan, truthColumn: string): Promise<ReferenceFile> {
  let header: string[] | null = null;
  let columns: number[] = [];
  let truth = -1;
  const rows: string[][] = [];
  const identities: string[] = [];
  for await (const record of readCsvRecords(path, { delimiter: ',', trim: false })) {
    if (header === null) {
      header = record.fields;
      const missing = plan.fields.map((field) => field.column).filter((column) => !header!.includes(column));
      if (!header.includes(truthColumn)) missing.push(truthColumn);
      if (missing.length > 0) {
        // Never the header as read: without a header row it would be a person's values.
        throw new UserError(`${path}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (the reference has ${header.length} columns)`);
      }
      columns = plan.fields.map((field) => header!.indexOf(field.column));
      truth = header.indexOf(truthColumn);
      continue;
    }
    if (record.fields.length !== header.length) {
      throw new UserError(`${path}: line ${record.line}: ${record.fields.length} fields, the header has ${header.length}`);
    }
    rows.push(columns.map((c) => record.fields[c]));
    identities.push(record.fields[truth]);
  }
  if (header === null) throw new UserError(`${path}: no header and no records`);
  if (rows.length < 2) throw new UserError(`${path}: needs at least two reference records`);
  return { rows, identities };
}

// Messages between the encoding pipeline (main thread) and its piscina workers.
import type { CsvDialect } from './csv/parse.js';
import type { EncodingPlan, FieldKeys } from './types.js';

/** Handed to every worker once, through piscina's workerData (never via process arguments). */
export interface EncodeWorkerSetup {
  plan: EncodingPlan;
  /** Derived per-slot keys; workers never see the secret itself. */
  keys: FieldKeys[];
  /** Key for keyed hardening steps (permutation, diffusion, BLIP), derived from the secret. */
  hardeningKey: Uint8Array;
  /** Key for signature block keys (deriveBlockingKey), when the plan has blocking; else null. */
  blockingKey: Uint8Array | null;
  /** Write each record's field-presence bitmask (src/presence.ts). */
  recordPresence: boolean;
  dialect: CsvDialect;
  /** For each plan field, the input column index it reads (CSV input). */
  fieldColumns: number[];
  /** Column index of the carried id, or -1. */
  idColumn: number;
  /** Number of columns in the header: every CSV record must have exactly this many. */
  columnCount: number;
}

export type EncodeTask =
  /** Whole CSV records as cut by CsvChunker; `skipFirst` drops the header record. */
  | { kind: 'csv'; bytes: Uint8Array; firstLine: number; skipFirst: boolean }
  /** Values already split into columns (Arrow input): one array per plan field, plus ids. */
  | { kind: 'columns'; fields: string[][]; ids: string[] | null; firstRow: number };

/** A record the encoder could not use; `where` is "line N" (CSV) or "row N" (Arrow). */
export interface RecordFailure {
  where: string;
  /** The line or row number in `where`, for putting failures in input order. */
  at: number;
  /** Input lines the record spans (a quoted field can hold line breaks); 1 for an Arrow row. */
  lines: number;
  message: string;
}

export interface EncodeResult {
  clks: Uint8Array;
  popcounts: Uint16Array;
  /** SIGNATURE_ROW_BYTES per record when the plan has blocking; else null. */
  blockKeys: Uint8Array | null;
  /** presenceBytes(fields) per record when the setup asks for presence; else null. */
  presence: Uint8Array | null;
  ids: string[] | null;
  failures: RecordFailure[];
}

// The custodian's encoding run: CSV (or Arrow) in, Arrow IPC (or clkhash JSON) out. The main
// thread only cuts the input into batches and keeps order; piscina workers parse and encode.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { RecordBatchReader } from 'apache-arrow';
import { Piscina } from 'piscina';
import { deriveBlockingKey, SIGNATURE_RULE_IDS, SIGNATURE_SCHEME } from './blocking/signature.js';
import { CsvChunker } from './csv/chunker.js';
import { checkDialect, parseCsvBatch, type CsvDialect } from './csv/parse.js';
import type { EncodeResult, EncodeTask, EncodeWorkerSetup, RecordFailure } from './encode-messages.js';
import { UserError } from './errors.js';
import { assertWritable } from './io/atomic-file.js';
import { writeEncodedStream, type EncodedSink, type EncodingMetadata } from './io/encoded-file.js';
import { deriveHardeningKey, hardeningLabel } from './harden.js';
import { deriveFieldKeys, keyCheckValue } from './keys.js';
import { startProgress } from './progress.js';
import { looksGenerated } from './secret.js';
import { loadSchema } from './schema/load.js';
import type { EncodingPlan } from './types.js';
import { BLINDLINK_VERSION } from './version.js';
import { workerFile } from './worker-path.js';

export interface EncodeOptions {
  schema: string;
  secret: Uint8Array;
  input: string;
  output: string;
  workers: number;
  idColumn?: string;
  dialect: CsvDialect;
  onError: 'fail' | 'skip';
  /** Also write each record's field-presence bitmask (column `present`, src/presence.ts). */
  recordPresence?: boolean;
  /** Records per batch handed to a worker. */
  batchRecords?: number;
}

export interface EncodeSummary {
  encoded: number;
  skipped: number;
  /** The first few skipped records, for the report. */
  examples: RecordFailure[];
  metadata: EncodingMetadata;
}

const ARROW_MAGIC = 'ARROW1';

async function isArrowFile(path: string): Promise<boolean> {
  if (['.arrow', '.feather', '.ipc', '.arrows'].includes(extname(path).toLowerCase())) return true;
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(6);
    await handle.read(head, 0, 6, 0);
    return head.toString('latin1') === ARROW_MAGIC;
  } finally {
    await handle.close();
  }
}

/** Encodes `options.input` into `options.output`; nothing is written unless every step succeeds. */
export async function encodeFile(options: EncodeOptions): Promise<EncodeSummary> {
  checkDialect(options.dialect);
  const plan = await loadSchema(options.schema);
  if (options.output.toLowerCase().endsWith('.json') && options.idColumn !== undefined) {
    throw new UserError(`${options.output}: clkhash JSON has no place for ids; write .arrow to carry --id-column`);
  }
  if (options.output.toLowerCase().endsWith('.json') && plan.blocking !== null) {
    throw new UserError(`${options.output}: clkhash JSON has no place for block keys, and the schema has a "blocking" section; write .arrow`);
  }
  if (options.output.toLowerCase().endsWith('.json') && options.recordPresence === true) {
    throw new UserError(`${options.output}: clkhash JSON has no place for field presence; write .arrow to use --record-presence`);
  }
  await assertWritable(options.output);
  let size: number;
  try {
    size = (await stat(options.input)).size;
  } catch {
    throw new UserError(`${options.input}: cannot read input (no such file?)`);
  }
  if (size === 0) throw new UserError(`${options.input}: input is empty`);

  const keys = deriveFieldKeys(options.secret, plan.kdf);
  const collector = new FailureCollector(options);
  const source = (await isArrowFile(options.input))
    ? arrowTasks(options, plan)
    : csvTasks(options, plan, size);
  const first = await source.next();
  if (first.done) throw new UserError(`${options.input}: no records`);
  const hardeningKey = deriveHardeningKey(options.secret, plan.kdf);
  const blockingKey = plan.blocking === null ? null : deriveBlockingKey(options.secret, plan.fingerprint);
  const setup: EncodeWorkerSetup = { plan, keys, hardeningKey, blockingKey, recordPresence: options.recordPresence === true, dialect: options.dialect, ...first.value.layout };
  const pool = new Piscina<EncodeTask, EncodeResult>({
    filename: workerFile('encode-worker'),
    workerData: setup,
    minThreads: options.workers,
    maxThreads: options.workers,
    idleTimeout: 1000,
  });
  // Everything but the record count is known before the first record: the count goes into the
  // Arrow footer, written last, so batches go to disk as they come and memory stays flat.
  const opening: Omit<EncodingMetadata, 'recordCount'> = {
    blindlinkVersion: BLINDLINK_VERSION,
    schemaFingerprint: plan.fingerprint,
    keyCheck: keyCheckValue(options.secret),
    filterBits: plan.filterBits,
    hardening: hardeningLabel(plan.hardening),
    secretSource: looksGenerated(options.secret) ? 'keygen' : 'other',
  };
  if (plan.blocking !== null) opening.blocking = { scheme: SIGNATURE_SCHEME, rules: [...SIGNATURE_RULE_IDS] };
  if (options.recordPresence === true) opening.presenceFields = plan.fields.map((field) => field.name);
  const progress = startProgress('encoding', 'records');
  const inFlight: Promise<EncodeResult>[] = [];
  let encoded = 0;
  let metadata: EncodingMetadata;
  try {
    metadata = await writeEncodedStream(options.output, plan.filterBits, opening, options.idColumn !== undefined, async (sink: EncodedSink) => {
      const settle = async (): Promise<void> => {
        const result = await inFlight.shift()!;
        collector.add(result.failures);
        encoded += result.popcounts.length;
        await sink.write({ clks: result.clks, popcounts: result.popcounts, blockKeys: result.blockKeys, presence: result.presence, ids: result.ids });
        progress.update(encoded, source.fraction());
      };
      inFlight.push(pool.run(first.value.task));
      for await (const step of source) {
        inFlight.push(pool.run(step.task));
        // Bounded read-ahead: a fast reader must not pile the whole file up in the task queue.
        if (inFlight.length >= options.workers * 3) await settle();
      }
      while (inFlight.length > 0) await settle();
      if (encoded === 0) {
        throw new UserError(`${options.input}: ${collector.skipped === 0 ? 'no records' : `no record could be encoded (${collector.skipped} skipped)`}`);
      }
    });
  } catch (error) {
    // Let running tasks finish before the pool goes, so no rejection is left unhandled.
    await Promise.allSettled(inFlight);
    throw error;
  } finally {
    progress.finish();
    keys.forEach((pair) => {
      pair.a.fill(0);
      pair.b.fill(0);
    });
    hardeningKey.fill(0);
    blockingKey?.fill(0);
    await pool.destroy();
  }
  return { encoded, skipped: collector.skipped, examples: collector.examples, metadata };
}

/** Stops the run at the first bad record, or counts bad records when the user asked to skip them. */
class FailureCollector {
  skipped = 0;
  readonly examples: RecordFailure[] = [];

  constructor(private readonly options: EncodeOptions) {}

  add(failures: readonly RecordFailure[]): void {
    if (failures.length === 0) return;
    if (this.options.onError === 'fail') {
      const first = failures[0];
      throw new UserError(`${this.options.input}: ${first.where}: ${first.message} (use --on-error skip to skip bad records)`);
    }
    this.skipped += failures.length;
    for (const failure of failures) if (this.examples.length < 5) this.examples.push(failure);
  }
}

type Layout = Pick<EncodeWorkerSetup, 'fieldColumns' | 'idColumn' | 'columnCount'>;

interface TaskSource extends AsyncGenerator<{ task: EncodeTask; layout: Layout }, void> {
  /** Fraction of the input consumed so far, for the ETA. */
  fraction(): number;
}

/** Maps the schema's columns (and the id column) onto a header, failing before any work starts. */
function layoutFor(header: readonly string[], plan: EncodingPlan, options: EncodeOptions): Layout {
  const missing = plan.fields.filter((field) => !header.includes(field.column)).map((field) => field.column);
  if (options.idColumn !== undefined && !header.includes(options.idColumn)) missing.push(options.idColumn);
  if (missing.length > 0) {
    const trimmedHeader = header.map((name) => name.trim());
    const hint = !options.dialect.trim && missing.every((name) => trimmedHeader.includes(name)) ? '; values look space-padded, try --trim' : '';
    throw new UserError(
      `${options.input}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (the input has: ${header.join(', ')}${hint})`,
    );
  }
  return {
    fieldColumns: plan.fields.map((field) => header.indexOf(field.column)),
    idColumn: options.idColumn === undefined ? -1 : header.indexOf(options.idColumn),
    columnCount: header.length,
  };
}

function csvTasks(options: EncodeOptions, plan: EncodingPlan, size: number): TaskSource {
  let consumed = 0;
  async function* generate(): AsyncGenerator<{ task: EncodeTask; layout: Layout }, void> {
    const chunker = new CsvChunker({ maxRecords: options.batchRecords ?? 4096 });
    let layout: Layout | null = null;
    const stream = createReadStream(options.input, { highWaterMark: 1 << 20 });
    const batchesOf = async function* () {
      try {
        for await (const chunk of stream) {
          consumed += (chunk as Buffer).length;
          yield* chunker.push(chunk as Buffer);
        }
      } catch (error) {
        if (error instanceof UserError) throw new UserError(`${options.input}: ${error.message}`);
        throw new UserError(`${options.input}: cannot read input (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      yield* chunker.end();
    };
    for await (const batch of batchesOf()) {
      let skipFirst = false;
      if (layout === null) {
        const header = readHeader(batch.bytes, options);
        if (header === null) continue;
        layout = layoutFor(header, plan, options);
        skipFirst = true;
      }
      yield { task: { kind: 'csv', bytes: batch.bytes, firstLine: batch.firstLine, skipFirst }, layout };
    }
    if (layout === null) throw new UserError(`${options.input}: no header and no records`);
  }
  return Object.assign(generate(), { fraction: () => consumed / size });
}

function readHeader(bytes: Uint8Array, options: EncodeOptions): string[] | null {
  let header: string[] | null = null;
  let problem: string | null = null;
  parseCsvBatch(
    bytes,
    1,
    options.dialect,
    (fields) => {
      header ??= fields.slice();
    },
    (line, message) => {
      if (header === null) problem ??= `line ${line}: ${message}`;
    },
  );
  if (problem !== null) throw new UserError(`${options.input}: header ${problem}`);
  return header;
}

function arrowTasks(options: EncodeOptions, plan: EncodingPlan): TaskSource {
  let fraction = 0;
  async function* generate(): AsyncGenerator<{ task: EncodeTask; layout: Layout }, void> {
    const stream = createReadStream(options.input);
    let reader: RecordBatchReader;
    try {
      reader = await RecordBatchReader.from(stream);
      await reader.open();
    } catch {
      throw new UserError(`${options.input}: not a readable Arrow IPC file`);
    }
    const header = reader.schema.fields.map((field) => field.name);
    const layout = layoutFor(header, plan, options);
    const chunk = options.batchRecords ?? 4096;
    let firstRow = 1;
    try {
      for await (const batch of reader) {
        const columns = layout.fieldColumns.map((c) => batch.getChildAt(c));
        const ids = layout.idColumn >= 0 ? batch.getChildAt(layout.idColumn) : null;
        for (let start = 0; start < batch.numRows; start += chunk) {
          const end = Math.min(batch.numRows, start + chunk);
          const text = (index: number, column: ReturnType<typeof batch.getChildAt>): string => {
            const value: unknown = column?.get(index);
            return value === null || value === undefined ? '' : String(value);
          };
          const fields = columns.map((column) => Array.from({ length: end - start }, (_, r) => text(start + r, column)));
          const idValues = ids ? Array.from({ length: end - start }, (_, r) => text(start + r, ids)) : null;
          yield { task: { kind: 'columns', fields, ids: idValues, firstRow }, layout };
          firstRow += end - start;
        }
      }
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new UserError(`${options.input}: Arrow input is truncated or corrupt`);
    }
    fraction = 1;
  }
  return Object.assign(generate(), { fraction: () => fraction });
}

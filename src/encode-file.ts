// The custodian's encoding run: CSV (or Arrow) in, Arrow IPC (or clkhash JSON) out. The main
// thread only cuts the input into batches and keeps order; piscina workers parse and encode.
import { extname } from 'node:path';
import { RecordBatchReader } from 'apache-arrow';
import { deriveBlockingKey, SIGNATURE_RULE_IDS, SIGNATURE_SCHEME } from './blocking/signature.js';
import { CsvChunker, type CsvBadRecord } from './csv/chunker.js';
import { checkDialect, parseCsvBatch, type CsvDialect } from './csv/parse.js';
import type { EncodeResult, EncodeTask, EncodeWorkerSetup, RecordFailure } from './encode-messages.js';
import { UserError } from './errors.js';
import { assertWritable } from './io/atomic-file.js';
import { openInput, type InputSource } from './io/input-source.js';
import { arrowFailure } from './io/arrow-guard.js';
import { writeEncodedStream, type EncodedSink, type EncodingMetadata } from './io/encoded-file.js';
import { deriveHardeningKey, hardeningLabel } from './harden.js';
import { deriveFieldKeys, keyCheckValue } from './keys.js';
import { startProgress } from './progress.js';
import { createPool, destroyPool } from './pool.js';
import { looksGenerated } from './secret.js';
import { loadSchema } from './schema/load.js';
import type { EncodingPlan } from './types.js';
import { BLINDLINK_VERSION } from './version.js';
import { workerFile } from './worker-path.js';

export interface EncodeOptions {
  schema: string;
  secret: Uint8Array;
  /** A file, FIFO or pipe path, or "-" for standard input: read once, as a stream. */
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
  /** Bad records skipped (--on-error skip), and the input lines (or Arrow rows) they spanned. */
  skipped: number;
  skippedLines: number;
  /** The first few skipped records, for the report. */
  examples: RecordFailure[];
  metadata: EncodingMetadata;
}

const ARROW_MAGIC = 'ARROW1';
const ARROW_STREAM_CONTINUATION = 0xffffffff;

/** Arrow by extension, else by its first bytes: the file format's magic, or a stream's continuation marker. */
function isArrowInput(path: string, head: Uint8Array): boolean {
  if (['.arrow', '.feather', '.ipc', '.arrows'].includes(extname(path).toLowerCase())) return true;
  if (Buffer.from(head.subarray(0, 6)).toString('latin1') === ARROW_MAGIC) return true;
  return head.length >= 8 && Buffer.from(head).readUInt32LE(0) === ARROW_STREAM_CONTINUATION;
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
  const input = await openInput(options.input);
  try {
    return await encodeInput({ ...options, input: input.label }, plan, input);
  } finally {
    await input.close();
  }
}

/** The encoding run over an opened input; `options.input` is the input's label for messages. */
async function encodeInput(options: EncodeOptions, plan: EncodingPlan, input: InputSource): Promise<EncodeSummary> {
  const keys = deriveFieldKeys(options.secret, plan.kdf);
  const collector = new FailureCollector(options);
  const source = isArrowInput(input.label, input.head) ? arrowTasks(options, plan, input) : csvTasks(options, plan, input);
  const first = await source.next();
  if (first.done) throw new UserError(`${options.input}: no records`);
  const hardeningKey = deriveHardeningKey(options.secret, plan.kdf);
  const blockingKey = plan.blocking === null ? null : deriveBlockingKey(options.secret, plan.fingerprint);
  const setup: EncodeWorkerSetup = { plan, keys, hardeningKey, blockingKey, recordPresence: options.recordPresence === true, dialect: options.dialect, ...first.value.layout };
  const pool = createPool<EncodeTask, EncodeResult>(workerFile('encode-worker'), { threads: options.workers, workerData: setup, idleTimeout: 1000 });
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
    // Lines the chunker dropped for broken quoting join the worker's failures, in line order.
    const run = (step: TaskStep): Promise<EncodeResult> =>
      step.bad.length === 0 ? pool.run(step.task) : pool.run(step.task).then((result) => ({ ...result, failures: withDroppedLines(step.bad, result.failures) }));
    metadata = await writeEncodedStream(options.output, plan.filterBits, opening, options.idColumn !== undefined, async (sink: EncodedSink) => {
      const settle = async (): Promise<void> => {
        const result = await inFlight.shift()!;
        collector.add(result.failures);
        encoded += result.popcounts.length;
        await sink.write({ clks: result.clks, popcounts: result.popcounts, blockKeys: result.blockKeys, presence: result.presence, ids: result.ids });
        progress.update(encoded, source.fraction());
      };
      inFlight.push(run(first.value));
      for await (const step of source) {
        inFlight.push(run(step));
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
    await destroyPool(pool);
  }
  return { encoded, skipped: collector.skipped, skippedLines: collector.skippedLines, examples: collector.examples, metadata };
}

function withDroppedLines(bad: readonly CsvBadRecord[], failures: readonly RecordFailure[]): RecordFailure[] {
  const dropped = bad.map((record): RecordFailure => ({ where: `line ${record.line}`, at: record.line, lines: 1, message: record.message }));
  return [...dropped, ...failures].sort((x, y) => x.at - y.at);
}

/** Stops the run at the first bad record, or counts bad records when the user asked to skip them. */
class FailureCollector {
  skipped = 0;
  skippedLines = 0;
  readonly examples: RecordFailure[] = [];

  constructor(private readonly options: EncodeOptions) {}

  add(failures: readonly RecordFailure[]): void {
    if (failures.length === 0) return;
    if (this.options.onError === 'fail') {
      const first = failures[0];
      throw new UserError(`${this.options.input}: ${first.where}: ${first.message} (use --on-error skip to skip bad records)`);
    }
    this.skipped += failures.length;
    for (const failure of failures) {
      this.skippedLines += failure.lines;
      if (this.examples.length < 5) this.examples.push(failure);
    }
  }
}

type Layout = Pick<EncodeWorkerSetup, 'fieldColumns' | 'idColumn' | 'columnCount'>;

interface TaskStep {
  task: EncodeTask;
  layout: Layout;
  /** Lines of this task's span the chunker dropped for broken quoting. */
  bad: CsvBadRecord[];
}

interface TaskSource extends AsyncGenerator<TaskStep, void> {
  /** Fraction of the input consumed so far, for the ETA; undefined when the size is unknown (a pipe). */
  fraction(): number | undefined;
}

/**
 * Maps the schema's columns (and the id column) onto a header, failing before any work starts.
 * Messages name schema columns only, never the header as read: without a header row it is the
 * first record, and with CR-only line endings the whole file.
 */
function layoutFor(header: readonly string[], plan: EncodingPlan, options: EncodeOptions): Layout {
  const wanted = [...new Set([...plan.fields.map((field) => field.column), ...(options.idColumn === undefined ? [] : [options.idColumn])])];
  const missing = wanted.filter((column) => !header.includes(column));
  if (missing.length > 0) {
    const trimmedHeader = header.map((name) => name.trim());
    const hint = !options.dialect.trim && missing.every((name) => trimmedHeader.includes(name)) ? '; values look space-padded, try --trim' : '; is the first line a header?';
    throw new UserError(
      `${options.input}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (the header has ${header.length} column${header.length === 1 ? '' : 's'}${hint})`,
    );
  }
  const repeated = wanted.filter((column) => header.indexOf(column) !== header.lastIndexOf(column));
  if (repeated.length > 0) {
    throw new UserError(`${options.input}: the header names column${repeated.length > 1 ? 's' : ''} ${repeated.join(', ')} more than once: which one to read is ambiguous`);
  }
  return {
    fieldColumns: plan.fields.map((field) => header.indexOf(field.column)),
    idColumn: options.idColumn === undefined ? -1 : header.indexOf(options.idColumn),
    columnCount: header.length,
  };
}

function csvTasks(options: EncodeOptions, plan: EncodingPlan, input: InputSource): TaskSource {
  let consumed = 0;
  async function* generate(): AsyncGenerator<TaskStep, void> {
    const chunker = new CsvChunker({ maxRecords: options.batchRecords ?? 4096, dialect: options.dialect });
    let layout: Layout | null = null;
    const batchesOf = async function* () {
      for await (const chunk of input.chunks) {
        consumed += chunk.length;
        yield* chunker.push(chunk);
      }
      yield* chunker.end();
    };
    for await (const batch of batchesOf()) {
      let skipFirst = false;
      let bad = batch.bad;
      if (layout === null) {
        const header = readHeader(batch.bytes, batch.firstLine, options);
        // A line dropped before the header was found was the header (or meant to be).
        const early = bad.find((record) => header === null || record.line < header.line);
        if (early !== undefined) throw new UserError(`${options.input}: header line ${early.line}: ${early.message}`);
        if (header === null) continue;
        layout = layoutFor(header.fields, plan, options);
        skipFirst = true;
        bad = bad.filter((record) => record.line > header.line);
      }
      yield { task: { kind: 'csv', bytes: batch.bytes, firstLine: batch.firstLine, skipFirst }, layout, bad };
    }
    if (layout === null) throw new UserError(`${options.input}: no header and no records`);
  }
  return Object.assign(generate(), { fraction: () => (input.size === null || input.size === 0 ? undefined : consumed / input.size) });
}

/** The batch's first record, which is the header, and its line; null for a batch of blank lines. */
function readHeader(bytes: Uint8Array, firstLine: number, options: EncodeOptions): { fields: string[]; line: number } | null {
  let header: { fields: string[]; line: number } | null = null;
  let problem: string | null = null;
  parseCsvBatch(
    bytes,
    firstLine,
    options.dialect,
    (fields, line) => {
      header ??= { fields: fields.slice(), line };
    },
    (line, message) => {
      if (header === null) problem ??= `line ${line}: ${message}`;
    },
  );
  if (problem !== null) throw new UserError(`${options.input}: header ${problem}`);
  return header;
}

function arrowTasks(options: EncodeOptions, plan: EncodingPlan, input: InputSource): TaskSource {
  let fraction = 0;
  async function* generate(): AsyncGenerator<TaskStep, void> {
    let reader: RecordBatchReader;
    try {
      reader = await RecordBatchReader.from(input.chunks);
      await reader.open();
      if (!reader.schema) throw new Error('no schema');
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new UserError(`${options.input}: ${arrowFailure(error)}`);
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
          yield { task: { kind: 'columns', fields, ids: idValues, firstRow }, layout, bad: [] };
          firstRow += end - start;
        }
      }
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new UserError(`${options.input}: ${arrowFailure(error)}`);
    }
    fraction = 1;
  }
  return Object.assign(generate(), { fraction: () => fraction });
}

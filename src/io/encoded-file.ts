// Reads and writes encoded files: Arrow IPC (`clk` FixedSizeBinary(l/8), `popcount` Uint16,
// optional `block_keys` FixedSizeBinary(8 per rule) and `id` Utf8, blindlink metadata) per
// DESIGN.md, and clkhash's `{"clks": [base64, ...]}` JSON.
import type { WriteStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import {
  Field,
  FixedSizeBinary,
  makeData,
  RecordBatch,
  RecordBatchReader,
  Schema,
  Struct,
  Type,
  Uint16,
  Utf8,
  vectorFromArray,
  type Data,
  type Vector,
} from 'apache-arrow';
import { popcounts as computePopcounts } from '../bits.js';
import { SIGNATURE_BYTES } from '../blocking/signature.js';
import { UserError } from '../errors.js';
import { arrowFailure, guardedArrowSource, MAX_FILTER_BYTES } from './arrow-guard.js';
import { fsReason } from './fs-errors.js';
import { writeAtomically, writeChunk } from './atomic-file.js';
import { PRESENCE_COLUMN, PRESENCE_FIELDS_KEY, presenceData, presenceField, presenceFieldsOf } from './presence-column.js';
import { presenceBytes } from '../presence.js';
import { ArrowFileStreamWriter } from './stream-writer.js';

/** What the linkage unit may learn about how a file was encoded: never the secret or the schema itself. */
export interface EncodingMetadata {
  blindlinkVersion: string;
  /** SHA-256 (hex) of the canonical linkage schema. */
  schemaFingerprint: string;
  /** Keyed hash of a fixed label (hex): equal for equal secrets, useless for recovering one. */
  keyCheck: string;
  filterBits: number;
  recordCount: number;
  /** Hardening steps applied, as a short description ("none" when plain). */
  hardening: string;
  /**
   * 'keygen' when the secret had keygen's form (64 hex digits), else 'other': lets `inspect` warn
   * that a passphrase could be guessed offline against the key check value.
   */
  secretSource?: 'keygen' | 'other';
  /**
   * Present when the file carries keyed block keys (column `block_keys`, one 8-byte slot per
   * rule): the scheme they follow and the rule ids in slot order. Never any key value.
   */
  blocking?: BlockingMetadata;
  /** Present when the file carries per-record field presence (column `present`): the schema's field names in bit order. */
  presenceFields?: string[];
}

export interface BlockingMetadata {
  /** e.g. 'signature-v1' (SIGNATURE_SCHEME). */
  scheme: string;
  rules: string[];
}

export interface EncodedFile {
  path: string;
  filterBits: number;
  count: number;
  /** `count * filterBits / 8` contiguous bytes, one filter after another. */
  clks: Uint8Array;
  popcounts: Uint16Array;
  /** Keyed block keys, `count * blockKeyBytes` bytes (in the same kind of buffer as `clks`), or null. */
  blockKeys: Uint8Array | null;
  ids: string[] | null;
  /** Presence bitmasks, `count * ceil(fields / 8)` bytes (src/presence.ts), or null. */
  presence: Uint8Array | null;
  /** null for clkhash JSON, which carries no metadata. */
  metadata: EncodingMetadata | null;
  format: 'arrow' | 'clkhash-json';
}

export interface EncodedBatch {
  clks: Uint8Array;
  popcounts: Uint16Array;
  /** Required (8 bytes per rule and record) exactly when the metadata has `blocking`. */
  blockKeys?: Uint8Array | null;
  /** Required exactly when the metadata has `presenceFields`. */
  presence?: Uint8Array | null;
  ids: string[] | null;
}

const METADATA_KEYS = {
  blindlinkVersion: 'blindlink.version',
  schemaFingerprint: 'blindlink.schema_fingerprint',
  keyCheck: 'blindlink.key_check',
  filterBits: 'blindlink.filter_bits',
  recordCount: 'blindlink.record_count',
  hardening: 'blindlink.hardening',
  secretSource: 'blindlink.secret_source',
} as const;
/** The block-key scheme, and its rule ids joined by commas. */
const BLOCKING_KEY = 'blindlink.blocking';
const BLOCKING_RULES_KEY = 'blindlink.blocking_rules';

/** Bytes per record of the `block_keys` column for these rules. */
export function blockKeyBytes(blocking: BlockingMetadata): number {
  return blocking.rules.length * SIGNATURE_BYTES;
}

function arrowSchema(filterBits: number, withIds: boolean, metadata: EncodingMetadata): Schema {
  const fields: Field[] = [
    new Field('clk', new FixedSizeBinary(filterBits / 8), false),
    new Field('popcount', new Uint16(), false),
  ];
  if (metadata.blocking) fields.push(new Field('block_keys', new FixedSizeBinary(blockKeyBytes(metadata.blocking)), false));
  if (metadata.presenceFields) fields.push(presenceField(metadata.presenceFields));
  if (withIds) fields.push(new Field('id', new Utf8(), false));
  const entries = new Map<string, string>();
  for (const [key, name] of Object.entries(METADATA_KEYS)) {
    const value = metadata[key as keyof typeof METADATA_KEYS];
    if (value !== undefined) entries.set(name, String(value));
  }
  if (metadata.blocking) {
    entries.set(BLOCKING_KEY, metadata.blocking.scheme);
    entries.set(BLOCKING_RULES_KEY, metadata.blocking.rules.join(','));
  }
  if (metadata.presenceFields) entries.set(PRESENCE_FIELDS_KEY, JSON.stringify(metadata.presenceFields));
  return new Schema(fields, entries);
}

function toRecordBatch(schema: Schema, batch: EncodedBatch, width: number, keyWidth: number, presenceFields: readonly string[] | undefined): RecordBatch {
  const length = batch.popcounts.length;
  const children: Data[] = [
    makeData({ type: new FixedSizeBinary(width), length, nullCount: 0, data: batch.clks }),
    makeData({ type: new Uint16(), length, nullCount: 0, data: batch.popcounts }),
  ];
  if (keyWidth > 0) {
    if (!batch.blockKeys || batch.blockKeys.length !== length * keyWidth) throw new RangeError(`a batch of ${length} records needs ${length * keyWidth} bytes of block keys`);
    children.push(makeData({ type: new FixedSizeBinary(keyWidth), length, nullCount: 0, data: batch.blockKeys }));
  }
  if (presenceFields) children.push(presenceData(batch.presence, length, presenceFields));
  if (batch.ids) children.push(vectorFromArray(batch.ids, new Utf8()).data[0]);
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children }));
}

/** Writes one in-memory set of encodings; see {@link writeEncodedBatches}. */
export async function writeEncodedFile(
  path: string,
  file: EncodedBatch & { filterBits: number; metadata: EncodingMetadata },
): Promise<void> {
  await writeEncodedBatches(path, [file], file.filterBits, file.metadata);
}

/**
 * Writes encoded batches as an Arrow IPC file, atomically, with `metadata` as given. A `.json`
 * path writes clkhash's `{"clks": [...]}` instead (no ids, no metadata: clkhash's format has no
 * place for them).
 */
export async function writeEncodedBatches(
  path: string,
  batches: readonly EncodedBatch[],
  filterBits: number,
  metadata: EncodingMetadata,
): Promise<void> {
  const withIds = batches.length > 0 && batches[0].ids !== null;
  await writeEncodedStream(path, filterBits, metadata, withIds, async (sink) => {
    for (const batch of batches) await sink.write(batch);
  });
}

/** Takes encoded batches in order while an encoded file is being written. */
export interface EncodedSink {
  /** Resolves once the output stream took the batch, so a fast producer waits for the disk. */
  write(batch: EncodedBatch): Promise<void>;
  /** Records written so far. */
  readonly records: number;
}

/**
 * Writes an encoded file atomically from batches `produce` hands to the sink as they are made:
 * memory holds one batch at a time, whatever the record count. The metadata's record count,
 * when left out, is the number of records written (it goes into the Arrow footer, written last).
 * Returns the metadata written.
 */
export async function writeEncodedStream(
  path: string,
  filterBits: number,
  metadata: Omit<EncodingMetadata, 'recordCount'> & { recordCount?: number },
  withIds: boolean,
  produce: (sink: EncodedSink) => Promise<void>,
): Promise<EncodingMetadata> {
  const json = path.toLowerCase().endsWith('.json');
  // Dropping the keys silently would leave a file that `match --blocking signature` cannot use.
  if (json && metadata.blocking) throw new UserError(`${path}: clkhash JSON has no place for block keys; write .arrow`);
  if (json && metadata.presenceFields) throw new UserError(`${path}: clkhash JSON has no place for field presence; write .arrow`);
  let written: EncodingMetadata | null = null;
  await writeAtomically(path, async (out) => {
    const sink = json ? new ClkJsonSink(out, filterBits) : new ArrowSink(out, filterBits, withIds, metadata);
    await produce(sink);
    // In the field order of EncodingMetadata, as before the count moved to the end of the run.
    const { blindlinkVersion, schemaFingerprint, keyCheck, filterBits: bits, recordCount, hardening, ...rest } = metadata;
    written = { blindlinkVersion, schemaFingerprint, keyCheck, filterBits: bits, recordCount: recordCount ?? sink.records, hardening, ...rest };
    await sink.finish(written);
  });
  return written!;
}

class ArrowSink implements EncodedSink {
  records = 0;
  private readonly schema: Schema;
  private readonly writer: ArrowFileStreamWriter;
  private readonly keyWidth: number;
  private readonly presenceFields: readonly string[] | undefined;

  constructor(
    out: WriteStream,
    private readonly filterBits: number,
    private readonly withIds: boolean,
    metadata: Omit<EncodingMetadata, 'recordCount'>,
  ) {
    // The batches' schema needs a count only to keep the field order of the footer's.
    this.schema = arrowSchema(filterBits, withIds, { ...metadata, recordCount: 0 });
    this.keyWidth = metadata.blocking ? blockKeyBytes(metadata.blocking) : 0;
    this.presenceFields = metadata.presenceFields;
    this.writer = new ArrowFileStreamWriter(out, this.schema);
  }

  async write(batch: EncodedBatch): Promise<void> {
    if (batch.popcounts.length === 0) return;
    if ((batch.ids !== null) !== this.withIds) throw new RangeError('every batch must carry ids, or none');
    await this.writer.write(toRecordBatch(this.schema, batch, this.filterBits / 8, this.keyWidth, this.presenceFields));
    this.records += batch.popcounts.length;
  }

  async finish(metadata: EncodingMetadata): Promise<void> {
    await this.writer.finish(arrowSchema(this.filterBits, this.withIds, metadata));
  }
}

class ClkJsonSink implements EncodedSink {
  records = 0;
  private opened = false;

  constructor(
    private readonly out: WriteStream,
    private readonly filterBits: number,
  ) {}

  async write(batch: EncodedBatch): Promise<void> {
    const width = this.filterBits / 8;
    const lines: string[] = [];
    if (!this.opened) lines.push('{"clks": [');
    this.opened = true;
    for (let r = 0; r < batch.popcounts.length; r++) {
      const clk = Buffer.from(batch.clks.buffer, batch.clks.byteOffset + r * width, width).toString('base64');
      lines.push(`${this.records + r === 0 ? '' : ','}\n"${clk}"`);
    }
    this.records += batch.popcounts.length;
    await writeChunk(this.out, lines.join(''));
  }

  async finish(): Promise<void> {
    await writeChunk(this.out, `${this.opened ? '' : '{"clks": ['}\n]}\n`);
  }
}

/**
 * Reads an encoded file (Arrow IPC, or clkhash JSON when the content starts with `{`), checking
 * its structure. With `shared`, the filters live in a SharedArrayBuffer that worker threads read
 * without copies.
 */
export async function readEncodedFile(path: string, options: { shared?: boolean } = {}): Promise<EncodedFile> {
  for await (const chunk of readEncodedChunks(path, Number.POSITIVE_INFINITY, options)) return chunk;
  throw new Error(`${path}: no chunk read`);
}

/** Records [start, start + count) of an encoded file, in buffers of their own. */
export interface EncodedChunk extends EncodedFile {
  /** Row number, in the whole file, of the chunk's first record. */
  start: number;
}

export interface ChunkReadOptions {
  /** Filters in SharedArrayBuffers, for worker threads. */
  shared?: boolean;
  /**
   * Every chunk in the same buffers, overwritten by the next: for a consumer that is done with a
   * chunk before it asks for the next, so memory holds one chunk even if the collector is slow
   * to free the last one.
   */
  reuseBuffers?: boolean;
}

/**
 * Reads an encoded file `chunkRecords` records at a time (the last chunk may be shorter), each
 * chunk in fresh buffers, so memory holds one chunk whatever the file's size. Every chunk's
 * structure and popcounts are checked as it is read; the file's record count is checked before
 * the last chunk is yielded, so a consumer must read to the end to know the file is whole.
 * clkhash JSON is parsed whole and then cut.
 */
export async function* readEncodedChunks(path: string, chunkRecords: number, options: ChunkReadOptions = {}): AsyncGenerator<EncodedChunk> {
  let handle: FileHandle;
  let size: number;
  try {
    handle = await open(path, 'r');
    const info = await handle.stat();
    if (info.isDirectory()) {
      await handle.close();
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    }
    size = info.size;
  } catch (error) {
    throw new UserError(`${path}: cannot read encoded file (${fsReason(error)})`);
  }
  const shared = options.shared ?? false;
  try {
    if (size === 0) throw new UserError(`${path}: file is empty`);
    const head = Buffer.alloc(Math.min(64, size));
    await handle.read(head, 0, head.length, 0);
    const first = head.toString('latin1').replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart()[0];
    if (first === '[') throw new UserError(`${path}: a JSON array; an encoded file is Arrow IPC or a clkhash object {"clks": [...]}`);
    if (first === '{') {
      yield* cutChunks(readClkJson(path, await readWhole(path, handle), shared), chunkRecords, shared);
    } else {
      yield* readArrow(path, handle, size, shared, chunkRecords, options.reuseBuffers ?? false);
    }
  } finally {
    await handle.close();
  }
}

/** A clkhash JSON file's bytes; Node reads at most 2 GiB at once, and a directory fails here too. */
async function readWhole(path: string, handle: FileHandle): Promise<Buffer> {
  try {
    return await handle.readFile();
  } catch (error) {
    throw new UserError(`${path}: cannot read encoded file (${fsReason(error)})`);
  }
}

function* cutChunks(file: EncodedFile, chunkRecords: number, shared: boolean): Generator<EncodedChunk> {
  if (chunkRecords >= file.count) {
    yield { ...file, start: 0 };
    return;
  }
  const width = file.filterBits / 8;
  for (let start = 0; start < file.count; start += chunkRecords) {
    const end = Math.min(file.count, start + chunkRecords);
    const clks = allocate((end - start) * width, shared);
    clks.set(file.clks.subarray(start * width, end * width));
    yield { ...file, start, count: end - start, clks, popcounts: file.popcounts.slice(start, end), ids: file.ids?.slice(start, end) ?? null };
  }
}

function allocate(bytes: number, shared: boolean): Uint8Array {
  return new Uint8Array(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
}

function readClkJson(path: string, content: Buffer, shared: boolean): EncodedFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content.toString('utf8'));
  } catch {
    throw new UserError(`${path}: not valid JSON (truncated?)`);
  }
  const clkList = (parsed as { clks?: unknown }).clks;
  if (!Array.isArray(clkList)) throw new UserError(`${path}: expected a clkhash file {"clks": [...]}`);
  if (clkList.length === 0) throw new UserError(`${path}: contains no encodings`);
  let width = -1;
  let clks = allocate(0, shared);
  clkList.forEach((entry: unknown, index: number) => {
    if (typeof entry !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(entry)) {
      throw new UserError(`${path}: clks[${index}] is not a base64 string`);
    }
    const bytes = Buffer.from(entry, 'base64');
    if (width < 0) {
      width = bytes.length;
      if (width === 0) throw new UserError(`${path}: clks[0] is empty`);
      clks = allocate(width * clkList.length, shared);
    } else if (bytes.length !== width) {
      throw new UserError(`${path}: clks[${index}] has ${bytes.length * 8} bits, clks[0] has ${width * 8}`);
    }
    clks.set(bytes, index * width);
  });
  return {
    path,
    filterBits: width * 8,
    count: clkList.length,
    clks,
    popcounts: computePopcounts(clks, width),
    blockKeys: null,
    ids: null,
    presence: null,
    metadata: null,
    format: 'clkhash-json',
  };
}

/** What the schema says about the columns, checked before any batch is read. */
interface ArrowLayout {
  width: number;
  keyWidth: number;
  withIds: boolean;
  blocking: BlockingMetadata | null;
  presenceFields: string[] | null;
  presenceWidth: number;
  /** The record count in the metadata, when the file could hold it (corrupt metadata must not size a huge buffer). */
  plausibleCount: number | null;
  /** Most records the file's size allows. */
  fileCanHold: number;
}

function arrowLayout(path: string, schema: Schema, fileBytes: number): ArrowLayout {
  const clkField = schema.fields.find((field) => field.name === 'clk');
  if (!clkField) throw new UserError(`${path}: no 'clk' column`);
  if (clkField.type.typeId !== Type.FixedSizeBinary) {
    throw new UserError(`${path}: column 'clk' must be FixedSizeBinary, found ${String(clkField.type)}`);
  }
  const popcountField = schema.fields.find((field) => field.name === 'popcount');
  if (!popcountField) throw new UserError(`${path}: no 'popcount' column`);
  const popcountType = popcountField.type as { typeId: Type; bitWidth?: number; isSigned?: boolean };
  if (popcountType.typeId !== Type.Int || popcountType.bitWidth !== 16 || popcountType.isSigned !== false) {
    throw new UserError(`${path}: column 'popcount' must be Uint16, found ${String(popcountField.type)}`);
  }
  const idField = schema.fields.find((field) => field.name === 'id');
  if (idField && idField.type.typeId !== Type.Utf8) {
    throw new UserError(`${path}: column 'id' must be Utf8, found ${String(idField.type)}`);
  }
  const width = (clkField.type as FixedSizeBinary).byteWidth;
  // A corrupt width must not size the buffers below (65536 rows of a 2 GiB width).
  if (!(width >= 1 && width <= MAX_FILTER_BYTES)) throw new UserError(`${path}: column 'clk' is ${width} bytes wide; filters are 1 to ${MAX_FILTER_BYTES} bytes (corrupt file?)`);
  // Every record takes `width` bytes of the file, so no count beyond this is possible.
  const fileCanHold = Math.floor(fileBytes / width);
  const blocking = blockingMetadata(path, schema);
  const declared = Number(schema.metadata.get(METADATA_KEYS.recordCount) ?? '0');
  const plausible = Number.isSafeInteger(declared) && declared > 0 && declared <= fileCanHold;
  const presenceFields = presenceFieldsOf(path, schema);
  return {
    width,
    keyWidth: blocking === null ? 0 : blockKeyBytes(blocking),
    withIds: idField !== undefined,
    blocking,
    presenceFields,
    presenceWidth: presenceFields === null ? 0 : presenceBytes(presenceFields.length),
    plausibleCount: plausible ? declared : null,
    fileCanHold,
  };
}

/** Copies rows [from, to) of a fixed-width column (`width` values a row) into `target` at row `at`. */
function copyRows<T extends Uint8Array | Uint16Array>(path: string, name: string, column: Vector, width: number, from: number, to: number, target: T, at: number): void {
  let first = 0;
  for (const data of column.data) {
    const lo = Math.max(from, first);
    const hi = Math.min(to, first + data.length);
    if (lo < hi) {
      if (data.nullCount > 0) throw new UserError(`${path}: column '${name}' has null values`);
      const values = data.values as T;
      target.set(values.subarray((data.offset + lo - first) * width, (data.offset + hi - first) * width), (at + lo - from) * width);
    }
    first += data.length;
  }
}

/**
 * Streams the Arrow file a record batch at a time into chunk buffers sized from the record count
 * in the metadata (doubling when it is absent or larger than the file could hold), so a file
 * larger than Node's 2 GiB readFile limit costs its filters once in memory.
 */
async function* readArrow(path: string, handle: FileHandle, fileBytes: number, shared: boolean, chunkRecords: number, reuse: boolean): AsyncGenerator<EncodedChunk> {
  let reader: RecordBatchReader;
  try {
    // The guard has the file handle's shape (fd, stat, read), which is what from() looks for.
    reader = await RecordBatchReader.from(guardedArrowSource(handle) as unknown as FileHandle);
    await reader.open();
    if (!reader.schema) throw new Error('no schema');
  } catch (error) {
    throw new UserError(`${path}: ${arrowFailure(error)}`);
  }
  const schema = reader.schema;
  const { width, keyWidth, withIds, blocking, presenceFields, presenceWidth, plausibleCount, fileCanHold } = arrowLayout(path, schema, fileBytes);
  let start = 0;
  let capacity = 0;
  let count = 0;
  let clks = allocate(0, shared);
  let blockKeys = allocate(0, shared);
  let presence = new Uint8Array(0);
  let stored = new Uint16Array(0);
  let ids: string[] | null = null;
  const fresh = (): void => {
    ids = withIds ? [] : null;
    count = 0;
    if (reuse && capacity > 0) return;
    const remaining = plausibleCount === null ? Math.max(1, Math.min(1 << 16, fileCanHold)) : Math.max(1, plausibleCount - start);
    capacity = Math.min(chunkRecords, remaining);
    clks = allocate(capacity * width, shared);
    blockKeys = allocate(capacity * keyWidth, shared);
    presence = new Uint8Array(capacity * presenceWidth);
    stored = new Uint16Array(capacity);
  };
  const grow = (needed: number): void => {
    capacity = Math.max(2 * capacity, needed);
    const grown = allocate(capacity * width, shared);
    grown.set(clks.subarray(0, count * width));
    clks = grown;
    const grownKeys = allocate(capacity * keyWidth, shared);
    grownKeys.set(blockKeys.subarray(0, count * keyWidth));
    blockKeys = grownKeys;
    const grownPresence = new Uint8Array(capacity * presenceWidth);
    grownPresence.set(presence.subarray(0, count * presenceWidth));
    presence = grownPresence;
    const grownStored = new Uint16Array(capacity);
    grownStored.set(stored.subarray(0, count));
    stored = grownStored;
  };
  const chunk = (): EncodedChunk => {
    const filters = clks.subarray(0, count * width);
    const popcounts = computePopcounts(filters, width);
    // The stored popcounts must agree with the filters: a mismatch means corruption, and matching
    // on wrong popcounts would prune true pairs silently.
    for (let row = 0; row < count; row++) {
      if (stored[row] !== popcounts[row]) throw new UserError(`${path}: popcount of row ${start + row} does not match its filter (corrupt file)`);
    }
    return {
      path,
      filterBits: width * 8,
      count,
      start,
      clks: filters,
      popcounts,
      blockKeys: blocking === null ? null : blockKeys.subarray(0, count * keyWidth),
      ids,
      presence: presenceFields === null ? null : presence.subarray(0, count * presenceWidth),
      metadata: parseMetadata(path, schema.metadata, width * 8, blocking, presenceFields),
      format: 'arrow',
    };
  };
  fresh();
  let pending: EncodedChunk | null = null;
  try {
    for await (const batch of reader) {
      if (start + count + batch.numRows > fileCanHold) throw new UserError(`${path}: a record batch claims more records than the file can hold (corrupt file)`);
      const column = batch.getChild('clk');
      const popcountColumn = batch.getChild('popcount');
      if (!column || !popcountColumn) throw new UserError(`${path}: a record batch lacks the 'clk' or 'popcount' column`);
      const keyColumn = keyWidth > 0 ? batch.getChild('block_keys') : null;
      if (keyWidth > 0 && !keyColumn) throw new UserError(`${path}: a record batch lacks the 'block_keys' column`);
      if (keyColumn !== null && keyColumn.length !== column.length) throw new UserError(`${path}: columns 'block_keys' and 'clk' differ in length`);
      const idColumn = withIds ? batch.getChild('id') : null;
      const presenceColumn = presenceWidth > 0 ? batch.getChild(PRESENCE_COLUMN) : null;
      if (presenceWidth > 0 && !presenceColumn) throw new UserError(`${path}: a record batch lacks the '${PRESENCE_COLUMN}' column`);
      if (presenceColumn !== null && presenceColumn.length !== column.length) throw new UserError(`${path}: columns '${PRESENCE_COLUMN}' and 'clk' differ in length`);
      for (let from = 0; from < batch.numRows; ) {
        if (pending !== null) {
          yield pending;
          pending = null;
        }
        const to = Math.min(batch.numRows, from + (chunkRecords - count));
        if (count + to - from > capacity) grow(count + to - from);
        copyRows(path, 'clk', column, width, from, to, clks, count);
        if (keyColumn !== null) copyRows(path, 'block_keys', keyColumn, keyWidth, from, to, blockKeys, count);
        if (presenceColumn !== null) copyRows(path, PRESENCE_COLUMN, presenceColumn, presenceWidth, from, to, presence, count);
        copyRows(path, 'popcount', popcountColumn, 1, from, to, stored, count);
        if (ids !== null) for (let row = from; row < to; row++) (ids as string[]).push(String(idColumn?.get(row)));
        count += to - from;
        from = to;
        if (count === chunkRecords) {
          // Held back one step: the last chunk is yielded only after the whole-file checks.
          pending = chunk();
          start += count;
          fresh();
        }
      }
    }
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`${path}: ${arrowFailure(error)}`);
  }
  const last: EncodedChunk | null = count > 0 ? chunk() : pending;
  const total = start + count;
  if (total === 0) throw new UserError(`${path}: contains no encodings`);
  const metadata = last?.metadata ?? null;
  if (metadata !== null && metadata.recordCount !== total) {
    throw new UserError(`${path}: metadata says ${metadata.recordCount} records, file holds ${total} (truncated?)`);
  }
  if (pending !== null && last !== pending) yield pending;
  if (last !== null) yield last;
}

/**
 * The block-key column's scheme and rules, checked against the column: a column without the
 * metadata (or the reverse), or of the wrong type or width, is an error rather than keys read wrong.
 */
function blockingMetadata(path: string, schema: Schema): BlockingMetadata | null {
  const field = schema.fields.find((f) => f.name === 'block_keys');
  const scheme = schema.metadata.get(BLOCKING_KEY);
  if (field === undefined && scheme === undefined) return null;
  if (field === undefined) throw new UserError(`${path}: metadata ${BLOCKING_KEY} says ${scheme} block keys, but there is no 'block_keys' column`);
  if (scheme === undefined) throw new UserError(`${path}: column 'block_keys' without ${BLOCKING_KEY} metadata`);
  const rules = schema.metadata.get(BLOCKING_RULES_KEY);
  if (rules === undefined || rules === '') throw new UserError(`${path}: metadata field ${BLOCKING_RULES_KEY} is missing`);
  const blocking = { scheme, rules: rules.split(',') };
  const expected = blockKeyBytes(blocking);
  if (field.type.typeId !== Type.FixedSizeBinary || (field.type as FixedSizeBinary).byteWidth !== expected) {
    throw new UserError(`${path}: column 'block_keys' must be FixedSizeBinary(${expected}) for ${blocking.rules.length} rules, found ${String(field.type)}`);
  }
  return blocking;
}

function parseMetadata(path: string, raw: Map<string, string>, filterBits: number, blocking: BlockingMetadata | null, presenceFields: string[] | null): EncodingMetadata | null {
  const version = raw.get(METADATA_KEYS.blindlinkVersion);
  if (version === undefined && blocking !== null) throw new UserError(`${path}: block keys without blindlink metadata (${METADATA_KEYS.blindlinkVersion} is missing)`);
  if (version === undefined && presenceFields !== null) throw new UserError(`${path}: field presence without blindlink metadata (${METADATA_KEYS.blindlinkVersion} is missing)`);
  if (version === undefined) return null;
  const get = (name: string): string => {
    const value = raw.get(name);
    if (value === undefined) throw new UserError(`${path}: metadata field ${name} is missing`);
    return value;
  };
  const metadata: EncodingMetadata = {
    blindlinkVersion: version,
    schemaFingerprint: get(METADATA_KEYS.schemaFingerprint),
    keyCheck: get(METADATA_KEYS.keyCheck),
    filterBits: Number(get(METADATA_KEYS.filterBits)),
    recordCount: Number(get(METADATA_KEYS.recordCount)),
    hardening: get(METADATA_KEYS.hardening),
  };
  const source = raw.get(METADATA_KEYS.secretSource);
  if (source === 'keygen' || source === 'other') metadata.secretSource = source;
  if (blocking !== null) metadata.blocking = blocking;
  if (presenceFields !== null) metadata.presenceFields = presenceFields;
  if (metadata.filterBits !== filterBits) {
    throw new UserError(`${path}: metadata says ${metadata.filterBits}-bit filters, column holds ${filterBits}-bit`);
  }
  return metadata;
}

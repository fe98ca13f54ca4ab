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
} from 'apache-arrow';
import { popcounts as computePopcounts } from '../bits.js';
import { SIGNATURE_BYTES } from '../blocking/signature.js';
import { UserError } from '../errors.js';
import { writeAtomically, writeChunk } from './atomic-file.js';
import { copyPresence, PRESENCE_FIELDS_KEY, presenceData, presenceField, presenceFieldsOf } from './presence-column.js';
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
    written = { ...metadata, recordCount: metadata.recordCount ?? sink.records };
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
  let handle: FileHandle;
  let size: number;
  try {
    handle = await open(path, 'r');
    size = (await handle.stat()).size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(`${path}: cannot read encoded file (${code === 'ENOENT' ? 'no such file' : code})`);
  }
  try {
    if (size === 0) throw new UserError(`${path}: file is empty`);
    const head = Buffer.alloc(Math.min(64, size));
    await handle.read(head, 0, head.length, 0);
    if (head.toString('latin1').trimStart()[0] === '{') return readClkJson(path, await handle.readFile(), options.shared ?? false);
    return await readArrow(path, handle, size, options.shared ?? false);
  } finally {
    await handle.close();
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

/**
 * Streams the Arrow file a record batch at a time into one buffer sized from the record count in
 * the metadata (doubling when it is absent or larger than the file could hold), so a file larger than Node's 2 GiB readFile limit
 * costs its filters once in memory.
 */
async function readArrow(path: string, handle: FileHandle, fileBytes: number, shared: boolean): Promise<EncodedFile> {
  let reader: RecordBatchReader;
  try {
    reader = await RecordBatchReader.from(handle);
    await reader.open();
    if (!reader.schema) throw new Error('no schema');
  } catch {
    throw new UserError(`${path}: not a readable Arrow IPC file (truncated or corrupt)`);
  }
  const schema = reader.schema;
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
  const blocking = blockingMetadata(path, schema);
  const keyWidth = blocking === null ? 0 : blockKeyBytes(blocking);
  const presenceFields = presenceFieldsOf(path, schema);
  const presenceWidth = presenceFields === null ? 0 : presenceBytes(presenceFields.length);
  const declared = Number(schema.metadata.get(METADATA_KEYS.recordCount) ?? '0');
  // A count the file cannot hold (corrupt metadata) must not size a huge buffer: fall back to growing.
  const plausible = Number.isSafeInteger(declared) && declared > 0 && declared * width <= fileBytes;
  let capacity = plausible ? declared : 1 << 16;
  let clks = allocate(capacity * width, shared);
  let blockKeys = allocate(capacity * keyWidth, shared);
  let presence = new Uint8Array(capacity * presenceWidth);
  const stored: number[] = [];
  const ids: string[] | null = idField ? [] : null;
  let count = 0;
  try {
    for await (const batch of reader) {
      if (count + batch.numRows > capacity) {
        capacity = Math.max(2 * capacity, count + batch.numRows);
        const grown = allocate(capacity * width, shared);
        grown.set(clks.subarray(0, count * width));
        clks = grown;
        const grownKeys = allocate(capacity * keyWidth, shared);
        grownKeys.set(blockKeys.subarray(0, count * keyWidth));
        blockKeys = grownKeys;
        const grownPresence = new Uint8Array(capacity * presenceWidth);
        grownPresence.set(presence.subarray(0, count * presenceWidth));
        presence = grownPresence;
      }
      const column = batch.getChild('clk');
      const popcountColumn = batch.getChild('popcount');
      if (!column || !popcountColumn) throw new UserError(`${path}: a record batch lacks the 'clk' or 'popcount' column`);
      let row = count;
      for (const data of column.data) {
        if (data.nullCount > 0) throw new UserError(`${path}: column 'clk' has null values`);
        clks.set(data.values.subarray(data.offset * width, (data.offset + data.length) * width), row * width);
        row += data.length;
      }
      if (keyWidth > 0) {
        const keyColumn = batch.getChild('block_keys');
        if (!keyColumn) throw new UserError(`${path}: a record batch lacks the 'block_keys' column`);
        let keyRow = count;
        for (const data of keyColumn.data) {
          if (data.nullCount > 0) throw new UserError(`${path}: column 'block_keys' has null values`);
          blockKeys.set(data.values.subarray(data.offset * keyWidth, (data.offset + data.length) * keyWidth), keyRow * keyWidth);
          keyRow += data.length;
        }
        if (keyRow !== row) throw new UserError(`${path}: columns 'block_keys' and 'clk' differ in length`);
      }
      if (presenceWidth > 0 && copyPresence(path, batch, presenceWidth, presence, count) !== row) {
        throw new UserError(`${path}: columns 'present' and 'clk' differ in length`);
      }
      for (const value of popcountColumn) stored.push(Number(value));
      if (ids) for (const id of batch.getChild('id') ?? []) ids.push(String(id));
      count = row;
    }
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`${path}: not a readable Arrow IPC file (truncated or corrupt)`);
  }
  if (count === 0) throw new UserError(`${path}: contains no encodings`);
  clks = clks.subarray(0, count * width);
  const popcounts = computePopcounts(clks, width);
  // The stored popcounts must agree with the filters: a mismatch means corruption, and matching
  // on wrong popcounts would prune true pairs silently.
  for (let row = 0; row < count; row++) {
    if (stored[row] !== popcounts[row]) throw new UserError(`${path}: popcount of row ${row} does not match its filter (corrupt file)`);
  }
  return {
    path,
    filterBits: width * 8,
    count,
    clks,
    popcounts,
    blockKeys: blocking === null ? null : blockKeys.subarray(0, count * keyWidth),
    ids,
    presence: presenceFields === null ? null : presence.subarray(0, count * presenceWidth),
    metadata: parseMetadata(path, schema.metadata, width * 8, count, blocking, presenceFields),
    format: 'arrow',
  };
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

function parseMetadata(
  path: string,
  raw: Map<string, string>,
  filterBits: number,
  count: number,
  blocking: BlockingMetadata | null,
  presenceFields: string[] | null,
): EncodingMetadata | null {
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
  if (metadata.recordCount !== count) {
    throw new UserError(`${path}: metadata says ${metadata.recordCount} records, file holds ${count} (truncated?)`);
  }
  return metadata;
}

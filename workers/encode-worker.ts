// Piscina worker: parses a batch of CSV records (or takes pre-split columns) and encodes each
// record into a CLK, plus its block keys when the schema asks for them. Its default export is the
// task handler; setup arrives as workerData.
import { Piscina } from 'piscina';
import { SIGNATURE_ROW_BYTES, signatureRecordKeyer } from '../src/blocking/signature.js';
import { parseCsvBatch } from '../src/csv/parse.js';
import type { EncodeResult, EncodeTask, EncodeWorkerSetup, RecordFailure } from '../src/encode-messages.js';
import { recordEncoder } from '../src/encoder.js';
import { presenceBytes, presenceRecorder } from '../src/presence.js';

const setup = Piscina.workerData as EncodeWorkerSetup;
const encoder = recordEncoder(setup.plan, setup.keys, setup.hardeningKey);
const blockKeyer = setup.blockingKey === null ? null : signatureRecordKeyer(setup.plan, setup.blockingKey);
// The keyer holds its own keyed HMAC state; this thread's copy of the key is no longer needed.
setup.blockingKey?.fill(0);
const keyBytes = blockKeyer === null ? 0 : SIGNATURE_ROW_BYTES;
const fieldCount = setup.plan.fields.length;
const recordPresence = setup.recordPresence ? presenceRecorder(setup.plan) : null;
const presenceWidth = recordPresence === null ? 0 : presenceBytes(fieldCount);

/** Grows the output as records arrive, since blank lines and failures make counts uncertain. */
class ResultBuilder {
  private clks: Uint8Array;
  private popcounts: Uint16Array;
  private blockKeys: Uint8Array;
  private presence: Uint8Array;
  private count = 0;
  readonly ids: string[] | null;
  readonly failures: RecordFailure[] = [];

  constructor(capacity: number, withIds: boolean) {
    this.clks = new Uint8Array(capacity * encoder.width);
    this.popcounts = new Uint16Array(capacity);
    this.blockKeys = new Uint8Array(capacity * keyBytes);
    this.presence = new Uint8Array(capacity * presenceWidth);
    this.ids = withIds ? [] : null;
  }

  /** `at` is the record's line (CSV) or row (Arrow); its text is built only for a failure. */
  add(values: readonly string[], id: string | undefined, unit: 'line' | 'row', at: number, lines: number): void {
    if (this.count === this.popcounts.length) this.grow();
    const result = encoder.encode(values, this.clks, this.count * encoder.width);
    if (typeof result !== 'number') {
      this.failures.push({ where: `${unit} ${at}`, at, lines, message: `field ${result.field}: ${result.reason}` });
      return;
    }
    blockKeyer?.(values, this.blockKeys, this.count * keyBytes);
    recordPresence?.(values, this.presence, this.count * presenceWidth);
    this.popcounts[this.count++] = result;
    if (this.ids && id !== undefined) this.ids.push(id);
  }

  private grow(): void {
    const clks = new Uint8Array(Math.max(16, this.popcounts.length * 2) * encoder.width);
    clks.set(this.clks);
    const popcounts = new Uint16Array(clks.length / encoder.width);
    popcounts.set(this.popcounts);
    const blockKeys = new Uint8Array(popcounts.length * keyBytes);
    blockKeys.set(this.blockKeys);
    const presence = new Uint8Array(popcounts.length * presenceWidth);
    presence.set(this.presence);
    this.presence = presence;
    this.clks = clks;
    this.popcounts = popcounts;
    this.blockKeys = blockKeys;
  }

  finish(): EncodeResult {
    return {
      clks: this.clks.slice(0, this.count * encoder.width),
      popcounts: this.popcounts.slice(0, this.count),
      blockKeys: blockKeyer === null ? null : this.blockKeys.slice(0, this.count * keyBytes),
      presence: recordPresence === null ? null : this.presence.slice(0, this.count * presenceWidth),
      ids: this.ids,
      failures: this.failures,
    };
  }
}

function encodeCsv(task: Extract<EncodeTask, { kind: 'csv' }>): EncodeResult {
  const builder = new ResultBuilder(4096, setup.idColumn >= 0);
  const values = new Array<string>(fieldCount);
  let skip = task.skipFirst;
  parseCsvBatch(
    task.bytes,
    task.firstLine,
    setup.dialect,
    (fields, line, lines) => {
      if (skip) {
        skip = false;
        return;
      }
      if (fields.length !== setup.columnCount) {
        builder.failures.push({ where: `line ${line}`, at: line, lines, message: `expected ${setup.columnCount} fields, found ${fields.length}` });
        return;
      }
      for (let f = 0; f < fieldCount; f++) values[f] = fields[setup.fieldColumns[f]];
      builder.add(values, setup.idColumn >= 0 ? fields[setup.idColumn] : undefined, 'line', line, lines);
    },
    (line, message, lines) => builder.failures.push({ where: `line ${line}`, at: line, lines, message }),
  );
  return builder.finish();
}

function encodeColumns(task: Extract<EncodeTask, { kind: 'columns' }>): EncodeResult {
  const rows = task.fields[0]?.length ?? 0;
  const builder = new ResultBuilder(rows, task.ids !== null);
  const values = new Array<string>(fieldCount);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < fieldCount; f++) values[f] = task.fields[f][r];
    builder.add(values, task.ids?.[r], 'row', task.firstRow + r, 1);
  }
  return builder.finish();
}

// The result is structured-cloned back: about 0.5 MiB per 4096-record batch, a copy that costs
// far less than encoding the batch did.
export default function encodeBatch(task: EncodeTask): EncodeResult {
  return task.kind === 'csv' ? encodeCsv(task) : encodeColumns(task);
}

// An Arrow IPC *file* written one record batch at a time, with backpressure, so memory does not
// grow with the number of records. apache-arrow's file writer puts the magic first, then the
// batches, and the schema only once, in the footer it writes last (readers of the file format,
// pyarrow's and arrow JS's, take the schema from there): so metadata known only at the end, such
// as blindlink's record count, can go into the footer's schema. The bytes are the same as those
// of a file written from batches all held in memory, so old and new files read alike.
import type { WriteStream } from 'node:fs';
import { RecordBatchFileWriter, type RecordBatch, type Schema } from 'apache-arrow';
import { writeChunk } from './atomic-file.js';

/**
 * apache-arrow 21's file writer, with two protected steps replaced: bytes go to a list this
 * module writes out (awaiting the stream's drain) instead of an unbounded internal queue, and the
 * footer takes the schema given at the end instead of the one the batches were built with.
 */
class FooterSchemaFileWriter extends RecordBatchFileWriter {
  pending: Uint8Array[] = [];
  footerSchema: Schema | null = null;

  protected override _write(chunk: unknown): this {
    // The writer hands only typed arrays here (messages, bodies, padding, magic); anything else
    // would mean another apache-arrow version, and a file silently missing bytes.
    if (!ArrayBuffer.isView(chunk)) throw new Error('apache-arrow wrote a chunk that is not a typed array');
    if (this._started && chunk.byteLength > 0) {
      this.pending.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this._position += chunk.byteLength;
    }
    return this;
  }

  protected override _writeFooter(schema: Schema): this {
    return super._writeFooter(this.footerSchema ?? schema);
  }
}

/**
 * Streams record batches of one schema into `out` as an Arrow IPC file.
 *
 * @example
 * const writer = new ArrowFileStreamWriter(out, schema);
 * for (const batch of batches) await writer.write(batch);
 * await writer.finish(schemaWithFinalMetadata);
 */
export class ArrowFileStreamWriter {
  private readonly writer = new FooterSchemaFileWriter();
  private finished = false;

  constructor(
    private readonly out: WriteStream,
    schema: Schema,
  ) {
    this.writer.reset(undefined, schema);
  }

  /** Writes one batch (built with the schema given at construction); resolves once `out` took the bytes. */
  async write(batch: RecordBatch): Promise<void> {
    if (this.finished) throw new Error('ArrowFileStreamWriter: write after finish');
    this.writer.write(batch);
    await this.flush();
  }

  /**
   * Writes the footer with `footerSchema` (same fields as the batches', final metadata; default
   * the construction schema) and the closing magic.
   */
  async finish(footerSchema?: Schema): Promise<void> {
    if (this.finished) throw new Error('ArrowFileStreamWriter: finished twice');
    this.finished = true;
    this.writer.footerSchema = footerSchema ?? null;
    this.writer.finish();
    await this.flush();
  }

  private async flush(): Promise<void> {
    const chunks = this.writer.pending;
    this.writer.pending = [];
    for (const chunk of chunks) await writeChunk(this.out, chunk);
  }
}

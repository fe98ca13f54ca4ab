// Guards apache-arrow's IPC reader against corrupt input. A corrupt message length can move its
// read position backwards (a negative metadata length), so it re-reads the same 4 bytes forever:
// one flipped bit at byte 8, 9 or 16 of a valid file made inspect, match and evaluate hang. The
// reader gets a file handle that refuses to serve any position more than a few times, which turns
// every such loop into an error within a bounded number of reads.
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
// Bounds flatbuffers' vector lengths for every Arrow read in this process (see the module).
import './flatbuffer-guard.js';

/**
 * Reads of one position a valid file needs: the reader reads the magic, the footer and each
 * message once or twice (a length, then the bytes behind it); 8 leaves a margin and still stops a
 * loop after 8 turns.
 */
const MAX_READS_PER_POSITION = 8;

/** The widest filter a schema can make: 65536 bits, doubled by balancing. Wider is corruption. */
export const MAX_FILTER_BYTES = 16384;

/** What RecordBatchReader.from() takes as a file handle: it checks for `fd` and `stat`. */
export interface ArrowFileSource {
  fd: number;
  stat: () => Promise<Stats>;
  read: (buffer: Uint8Array, offset: number, length: number, position: number) => Promise<{ bytesRead: number; buffer: Uint8Array }>;
  close: () => Promise<void>;
}

/** Thrown by a guarded handle when the reader stops making progress. */
export class ReaderLoopError extends Error {
  override readonly name = 'ReaderLoopError';
}

/**
 * `handle` for apache-arrow, failing with ReaderLoopError when one position is read more than
 * MAX_READS_PER_POSITION times. Closing is left to the caller, which owns the handle.
 */
export function guardedArrowSource(handle: FileHandle): ArrowFileSource {
  const reads = new Map<number, number>();
  return {
    fd: handle.fd,
    stat: () => handle.stat(),
    read: async (buffer, offset, length, position) => {
      const seen = (reads.get(position) ?? 0) + 1;
      if (seen > MAX_READS_PER_POSITION) throw new ReaderLoopError(`position ${position} read ${seen} times`);
      reads.set(position, seen);
      if (!(position >= 0) || !(length >= 0)) throw new ReaderLoopError(`read of ${length} bytes at ${position}`);
      return handle.read(buffer, offset, length, position);
    },
    close: async () => undefined,
  };
}

/** The one-line reason an Arrow file could not be read, from what apache-arrow threw. */
export function arrowFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  if (/is compressed but codec not found/.test(message)) {
    return 'its record batches say they are compressed (LZ4 or ZSTD), which blindlink does not read (write it uncompressed), or the file is corrupt';
  }
  return 'not a readable Arrow IPC file (truncated or corrupt)';
}

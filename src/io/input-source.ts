// Opens encode's input as one stream of bytes read once, front to back: a regular file, a FIFO or
// pipe (`<(zcat people.csv.gz)`), or standard input for `--in -`. Nothing needs the size or a second
// pass: the format is told from the first bytes, which are kept and replayed.
import { open, type FileHandle } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { fsReason } from './fs-errors.js';

/** Bytes read ahead to tell the format: Arrow's file magic "ARROW1" and its stream's 8-byte prefix. */
const HEAD_BYTES = 8;
const READ_CHUNK_BYTES = 1 << 20;

export interface InputSource {
  /** How messages name the input: the path, or "standard input". */
  label: string;
  /** Bytes in the input when it is a regular file (for progress), else null. */
  size: number | null;
  /** Its first bytes (fewer only when the input is shorter). */
  head: Uint8Array;
  /** Every byte of the input, `head` first; read once. */
  chunks: AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

/** `--in -`: standard input. */
export const STDIN_PATH = '-';

async function* chunksOf(stream: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* stream;
}

/** Reads from `iterator` until `HEAD_BYTES` have arrived or it ends; returns what it read. */
async function readHead(iterator: AsyncIterator<Uint8Array>): Promise<Uint8Array[]> {
  const read: Uint8Array[] = [];
  let bytes = 0;
  while (bytes < HEAD_BYTES) {
    const next = await iterator.next();
    if (next.done) break;
    if (next.value.length === 0) continue;
    read.push(next.value);
    bytes += next.value.length;
  }
  return read;
}

/**
 * Opens `path` (or standard input for "-") for one pass. Throws a UserError naming the input when
 * it cannot be read, is a directory, or is empty.
 *
 * @example const input = await openInput('people.csv'); for await (const chunk of input.chunks) ...
 */
export async function openInput(path: string): Promise<InputSource> {
  const label = path === STDIN_PATH ? 'standard input' : path;
  let handle: FileHandle | null = null;
  let size: number | null = null;
  let stream: AsyncIterable<Uint8Array>;
  try {
    if (path === STDIN_PATH) {
      stream = process.stdin;
    } else {
      handle = await open(path, 'r');
      const info = await handle.stat();
      if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      // A regular file's size drives the progress estimate; a FIFO, pipe or device has none.
      if (info.isFile()) size = info.size;
      stream = handle.createReadStream({ highWaterMark: READ_CHUNK_BYTES, autoClose: false });
    }
  } catch (error) {
    await handle?.close();
    if (error instanceof UserError) throw error;
    throw new UserError(`${label}: cannot read input (${fsReason(error)})`);
  }
  const iterator = chunksOf(stream);
  let headChunks: Uint8Array[];
  try {
    headChunks = await readHead(iterator);
  } catch (error) {
    await handle?.close();
    throw new UserError(`${label}: cannot read input (${fsReason(error)})`);
  }
  const headBytes = Buffer.concat(headChunks);
  if (headBytes.length === 0) {
    await handle?.close();
    throw new UserError(`${label}: input is empty`);
  }
  async function* all(): AsyncGenerator<Uint8Array> {
    yield* headChunks;
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    } catch (error) {
      throw new UserError(`${label}: cannot read input (${fsReason(error)})`);
    }
  }
  return {
    label,
    size,
    head: headBytes.subarray(0, HEAD_BYTES),
    chunks: all(),
    close: async () => {
      await iterator.return?.(undefined);
      await handle?.close();
    },
  };
}

// Reads small inputs (a secret, a schema) with a size cap, so that a wrong path such as /dev/zero
// or a multi-gigabyte data file costs one bounded read instead of filling memory.
import { open } from 'node:fs/promises';

/**
 * The first `limit` bytes of `path` (fewer if it is shorter). A result of exactly `limit` bytes
 * means the file may be longer: callers pass their cap plus one to tell.
 *
 * @example const bytes = await readCapped('schema.json', MAX_SCHEMA_BYTES + 1);
 */
export async function readCapped(path: string, limit: number): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buffer = new Uint8Array(limit);
    let length = 0;
    while (length < limit) {
      const { bytesRead } = await handle.read(buffer, length, limit - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

// Output files appear whole or not at all: content goes to a hidden temporary name beside the
// target and is renamed into place only after it was fully written and flushed.
import { randomBytes } from 'node:crypto';
import { createWriteStream, unlinkSync, type WriteStream } from 'node:fs';
import { access, constants, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';

const pendingTemporaries = new Set<string>();
let signalHandlersInstalled = false;

// A Ctrl-C or `kill` must not leave a temporary file behind either.
function installSignalCleanup(): void {
  if (signalHandlersInstalled) return;
  signalHandlersInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      removePendingTemporaries();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
  process.once('exit', removePendingTemporaries);
}

function removePendingTemporaries(): void {
  for (const path of pendingTemporaries) {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }
  pendingTemporaries.clear();
}

/** Fails early, before any work, when `path` cannot be created (missing folder, no permission, a directory). */
export async function assertWritable(path: string): Promise<void> {
  const folder = dirname(path);
  try {
    const info = await stat(folder);
    if (!info.isDirectory()) throw new UserError(`${path}: cannot write output: ${folder} is not a directory`);
    await access(folder, constants.W_OK);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`${path}: cannot write output: folder ${folder} does not exist or is not writable`);
  }
  try {
    if ((await stat(path)).isDirectory()) throw new UserError(`${path}: cannot write output: it is a directory`);
  } catch (error) {
    if (error instanceof UserError) throw error;
  }
}

/**
 * Writes `path` through `produce`, which receives a stream on a temporary file. The target is
 * replaced only when `produce` resolves and the stream is flushed; on any failure the temporary
 * file is removed and the error rethrown.
 *
 * @example await writeAtomically('out.csv', async (out) => { out.write('a,b\n'); });
 */
export async function writeAtomically(path: string, produce: (out: WriteStream) => Promise<void>): Promise<void> {
  installSignalCleanup();
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.partial`);
  pendingTemporaries.add(temporary);
  const out = createWriteStream(temporary, { flags: 'wx', mode: 0o644 });
  const finished = new Promise<void>((resolve, reject) => {
    out.once('finish', resolve);
    out.once('error', reject);
  });
  try {
    await produce(out);
    out.end();
    await finished;
    await rename(temporary, path);
  } catch (error) {
    out.destroy();
    await unlink(temporary).catch(() => undefined);
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== undefined) throw new UserError(`${path}: cannot write output (${code})`);
    throw error;
  } finally {
    pendingTemporaries.delete(temporary);
  }
}

/** Writes a stream chunk, waiting for the stream to drain when its buffer is full. */
export async function writeChunk(out: WriteStream, chunk: Uint8Array | string): Promise<void> {
  if (!out.write(chunk)) {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      out.once('error', onError);
      out.once('drain', () => {
        out.off('error', onError);
        resolve();
      });
    });
  }
}

// Output files appear whole or not at all: content goes to a hidden temporary name beside the
// target and is renamed into place only after it was fully written and flushed.
import { createWriteStream, unlinkSync, type WriteStream } from 'node:fs';
import { access, constants, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UserError } from '../errors.js';
import { fsReason, hasCode } from './fs-errors.js';
import { assertOutputTarget } from './output-path.js';
import { partialPath, removeStalePartials } from './partial-files.js';

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

/**
 * Fails early, before any work, when `path` cannot be created (missing folder, no permission) or
 * exists and is not a regular file (see output-path.ts).
 */
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
  await assertOutputTarget(path);
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
  await assertOutputTarget(path);
  await removeStalePartials(path);
  const temporary = partialPath(path);
  pendingTemporaries.add(temporary);
  const out = createWriteStream(temporary, { flags: 'wx', mode: 0o644 });
  const finished = new Promise<void>((resolve, reject) => {
    out.once('finish', resolve);
    out.once('error', reject);
  });
  // A write error (ENOSPC) can come while `produce` still runs, and `produce` may then fail on its
  // own first: the rejection must not go unhandled (it ended the process with a stack trace).
  finished.catch(() => undefined);
  try {
    await new Promise<void>((resolve, reject) => {
      out.once('ready', resolve);
      out.once('error', reject);
    });
    await produce(out);
    out.end();
    await finished;
    await rename(temporary, path);
  } catch (error) {
    // Only once the stream has closed is the file there to remove (a failure before it opened
    // would otherwise leave it behind).
    out.destroy();
    if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
    await unlink(temporary).catch(() => undefined);
    if (error instanceof UserError) throw error;
    if (hasCode(error)) throw new UserError(`${path}: cannot write output (${fsReason(error)})`);
    throw error;
  } finally {
    pendingTemporaries.delete(temporary);
  }
}

/**
 * Writes a stream chunk, waiting for the stream to drain when its buffer is full. Rejects when the
 * stream fails (ENOSPC) or closes instead of draining, rather than waiting for a drain that never comes.
 */
export async function writeChunk(out: WriteStream, chunk: Uint8Array | string): Promise<void> {
  if (out.errored) throw out.errored;
  if (out.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const settle = (error?: Error | null): void => {
      out.off('drain', onDrain);
      out.off('error', onError);
      out.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = (): void => settle();
    const onError = (error: Error): void => settle(error);
    const onClose = (): void => settle(out.errored ?? new Error('the output stream closed before it drained'));
    out.on('drain', onDrain);
    out.on('error', onError);
    out.on('close', onClose);
  });
}

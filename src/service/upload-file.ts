// An upload arrives as a stream: it goes to a temporary file under --data within a size limit,
// hashed on the way, and is then checked with the same reader `match` uses before it is kept.
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { UserError } from '../errors.js';
import { readEncodedFile, type EncodedFile } from '../io/encoded-file.js';
import type { ProjectRecord, UploadRecord } from './store/records.js';

export class UploadTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the upload is larger than the service's limit of ${limit} bytes`);
  }
}

export interface Received {
  temporary: string;
  bytes: number;
  sha256: string;
}

/** Streams `body` to `temporary`, failing (and removing the file) past `limit` bytes or on a broken stream. */
export async function receiveUpload(body: Readable, temporary: string, limit: number): Promise<Received> {
  const hash = sha256.create();
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > limit) return done(new UploadTooLarge(limit));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(body, meter, createWriteStream(temporary, { flags: 'wx', mode: 0o600 }));
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  return { temporary, bytes, sha256: bytesToHex(hash.digest()) };
}

/** A reader message without the service's own path: the uploader sees "the file: ..." (or `name`). */
export function withoutPath(message: string, path: string, name = 'the file'): string {
  return message.split(path).join(name);
}

export interface UploadCheck {
  file: EncodedFile | null;
  reasons: string[];
}

/**
 * Every reason to refuse the file: unreadable or inconsistent (the reader's checks: structure,
 * popcounts, record count), no blindlink metadata, another schema than the project declared, or
 * another secret or filter length than the project's accepted uploads.
 */
export async function checkUpload(path: string, project: ProjectRecord, accepted: readonly UploadRecord[]): Promise<UploadCheck> {
  let file: EncodedFile;
  try {
    file = await readEncodedFile(path);
  } catch (error) {
    if (error instanceof UserError) return { file: null, reasons: [withoutPath(error.message, path)] };
    throw error;
  }
  const reasons: string[] = [];
  const metadata = file.metadata;
  if (metadata === null) return { file, reasons: ['the file carries no blindlink metadata (clkhash JSON or a foreign Arrow file): its schema and secret cannot be checked'] };
  if (metadata.schemaFingerprint !== project.schemaFingerprint) {
    reasons.push(`the file was encoded with another schema (fingerprint ${metadata.schemaFingerprint.slice(0, 16)}..., the project declares ${project.schemaFingerprint.slice(0, 16)}...)`);
  }
  const earlier = accepted.find((upload) => upload.keyCheck !== null);
  if (earlier !== undefined && earlier.keyCheck !== metadata.keyCheck) {
    reasons.push(`the file was encoded with another secret than upload ${earlier.id} (key check values differ)`);
  }
  if (earlier !== undefined && earlier.filterBits !== file.filterBits) {
    reasons.push(`the file has ${file.filterBits}-bit filters, upload ${earlier.id} has ${earlier.filterBits}-bit`);
  }
  if (metadata.presenceFields !== undefined && project.schemaFields !== null && metadata.presenceFields.join('\u0000') !== project.schemaFields.join('\u0000')) {
    reasons.push(`the field-presence column names fields (${metadata.presenceFields.join(', ')}) other than the project's schema (${project.schemaFields.join(', ')})`);
  }
  return { file, reasons };
}

/** Moves an accepted upload to its final name. */
export async function keepUpload(temporary: string, path: string): Promise<void> {
  await rename(temporary, path);
}

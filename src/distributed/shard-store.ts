// Where shards live so that every worker can read them. Production would put them in an object
// store through the S3 API (one bucket prefix per run, workers download a shard to local disk
// before reading it); this build has the shared-folder store (NFS, SMB or a local folder on one
// machine), behind the interface an S3 store would implement. Shards hold encodings only: no ids,
// no plaintext, never the secret.
import { mkdir, rm } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../errors.js';

export interface ShardStore {
  /** What a task records so workers find the store (a folder path; for S3, s3://bucket/prefix). */
  readonly location: string;
  /** Creates a shard: `write` gets a local path to write (an object store would upload it afterwards). */
  put(key: string, write: (localPath: string) => Promise<void>): Promise<void>;
  /** A local path with the shard's bytes (an object store would download to a temporary file first). */
  get(key: string): Promise<string>;
  /** Removes every shard of a run. */
  removeRun(run: string): Promise<void>;
}

/** Keys are `<run>/<name>`: hex run ids and fixed shard names, never user text. */
const KEY = /^[0-9a-f]{8,64}\/[a-z0-9-]+\.arrow$/;

/** Shards as files under one folder every worker mounts. */
export class FolderShardStore implements ShardStore {
  readonly location: string;

  constructor(folder: string) {
    this.location = resolve(folder);
  }

  private pathOf(key: string): string {
    if (!KEY.test(key)) throw new Error(`not a shard key: ${key}`);
    return join(this.location, key);
  }

  async put(key: string, write: (localPath: string) => Promise<void>): Promise<void> {
    const path = this.pathOf(key);
    try {
      await mkdir(join(path, '..'), { recursive: true });
    } catch (error) {
      throw new UserError(`${this.location}: cannot create shard folders there (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    await write(path);
  }

  async get(key: string): Promise<string> {
    return this.pathOf(key);
  }

  async removeRun(run: string): Promise<void> {
    if (!/^[0-9a-f]{8,64}$/.test(run)) throw new Error(`not a run id: ${run}`);
    await rm(join(this.location, run), { recursive: true, force: true });
  }
}

/** The store a --shared value names: a folder (absolute, or relative to the working folder). */
export function openShardStore(location: string): ShardStore {
  if (location.startsWith('s3://')) throw new UserError(`--shared ${location}: S3 stores are not built into this version; mount a shared folder and give its path`, 2);
  return new FolderShardStore(isAbsolute(location) ? location : resolve(location));
}

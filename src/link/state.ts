// The linkage unit's persistent state for incremental linkage: a folder holding every party's
// encoded batches (copies of the files as received), the candidate pairs each batch brought, and
// manifest.json naming them. A change writes new files under new names, then replaces the
// manifest durably: the manifest is the commit point, so a crash leaves the old state or the new
// one, and files no manifest names are leftovers that the next change removes.
import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { UserError } from '../errors.js';
import type { RevealMode } from '../reveal/release.js';
import type { ClusterMethod } from '../reveal/group-release.js';
import { writeDurably } from './durable.js';

export const STATE_FORMAT = 'blindlink-link-state';
export const STATE_VERSION = 1;
export const MANIFEST = 'manifest.json';
const LOCK = 'lock';

export type LinkMode = 'dedup' | 'two-party' | 'multi-party';

export interface SegmentEntry {
  /** File in the state folder: the batch exactly as received. */
  file: string;
  records: number;
  bytes: number;
  /** SHA-256 of the batch's filters, to refuse the same batch twice. */
  clkSha256: string;
  generation: number;
}

export interface PartyEntry {
  name: string;
  segments: SegmentEntry[];
}

export interface CandidateEntry {
  file: string;
  pairs: number;
  /** SHA-256 of the file, checked on every read. */
  sha256: string;
  generation: number;
}

/** One release, kept so that whoever releases next can see what was already released (and what it cost). */
export interface ReleaseEntry {
  generation: number;
  reveal: RevealMode;
  epsilon: number | null;
  at: string;
}

export interface Manifest {
  format: typeof STATE_FORMAT;
  version: typeof STATE_VERSION;
  /** 1 after init; one more for every batch added. */
  generation: number;
  mode: LinkMode;
  threshold: number;
  /** Dedup only. */
  cluster: ClusterMethod | null;
  /** What every batch must carry (from the first file): a batch that differs is refused. */
  encoding: { filterBits: number; schemaFingerprint: string; keyCheck: string };
  parties: PartyEntry[];
  candidates: CandidateEntry[];
  releases: ReleaseEntry[];
}

export function hexDigest(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}

/** The mode a state of `parties` parties runs in. */
export function modeFor(parties: number): LinkMode {
  return parties === 1 ? 'dedup' : parties === 2 ? 'two-party' : 'multi-party';
}

/** A name for a new state file; generation first so a listing reads in order. */
export function stateFileName(generation: number, what: string): string {
  return `g${String(generation).padStart(6, '0')}-${what}`;
}

function damaged(dir: string, what: string): UserError {
  return new UserError(`${join(dir, MANIFEST)}: ${what} (damaged linkage state)`);
}

/** Reads and checks the manifest: shape, and that every file it names is there with its size. */
export async function readManifest(dir: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST), 'utf8');
  } catch {
    throw new UserError(`${dir}: holds no linkage state (no ${MANIFEST}); create one with blindlink link init`);
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch {
    throw damaged(dir, 'not valid JSON');
  }
  if (manifest.format !== STATE_FORMAT) throw damaged(dir, `format is ${JSON.stringify(manifest.format)}, not ${STATE_FORMAT}`);
  if (manifest.version !== STATE_VERSION) throw new UserError(`${join(dir, MANIFEST)}: state version ${manifest.version}; this blindlink reads version ${STATE_VERSION}`);
  if (!Array.isArray(manifest.parties) || manifest.parties.length === 0 || !Array.isArray(manifest.candidates) || !Array.isArray(manifest.releases)) throw damaged(dir, 'parties, candidates or releases missing');
  for (const party of manifest.parties) {
    for (const segment of party.segments) {
      const size = await stat(join(dir, segment.file)).then((s) => s.size, () => -1);
      if (size !== segment.bytes) throw damaged(dir, `${segment.file} of party ${party.name} is ${size < 0 ? 'missing' : `${size} bytes, not ${segment.bytes}`}`);
    }
  }
  return manifest;
}

/** Reads a candidates file the manifest names, checking its hash. */
export async function readCandidateFile(dir: string, entry: CandidateEntry): Promise<Uint8Array> {
  const bytes = await readFile(join(dir, entry.file)).catch(() => null);
  if (bytes === null || hexDigest(bytes) !== entry.sha256) throw damaged(dir, `${entry.file} is ${bytes === null ? 'missing' : 'not what the manifest recorded'}`);
  return bytes;
}

/** Replaces the manifest durably: the commit point of every change. */
export async function commitManifest(dir: string, manifest: Manifest): Promise<void> {
  await writeDurably(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Removes files a crash left: state-named files (g*-*, .*.partial) that the manifest does not name. */
export async function removeLeftovers(dir: string, manifest: Manifest | null): Promise<void> {
  const named = new Set<string>([MANIFEST, LOCK]);
  for (const party of manifest?.parties ?? []) for (const s of party.segments) named.add(s.file);
  for (const c of manifest?.candidates ?? []) named.add(c.file);
  for (const entry of await readdir(dir)) {
    if (named.has(entry)) continue;
    if (/^g\d{6}-/.test(entry) || /^\..*\.partial$/.test(entry)) await unlink(join(dir, entry)).catch(() => undefined);
  }
}

/** Creates the state folder (0700: it holds every party's encodings) or checks that it is empty. */
export async function createStateFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`${dir}: cannot create the state folder (${error.code})`);
  });
  const entries = await readdir(dir);
  if (entries.includes(MANIFEST)) throw new UserError(`${dir}: already holds a linkage state; add batches with blindlink link add`);
  // Files an interrupted init left (state-named, no manifest) do not count: init removes them.
  if (entries.some((e) => e !== LOCK && !/^\..*\.partial$/.test(e) && !/^g\d{6}-/.test(e))) throw new UserError(`${dir}: is not empty; give a new or empty folder for the state`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `work` holding the state's lock (a file created exclusively, holding the owner's pid), so
 * two commands never change one state at once. A lock whose owner is gone (a crash) is taken over.
 */
export async function withStateLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const path = join(dir, LOCK);
  const token = `${process.pid} ${randomBytes(8).toString('hex')}\n`;
  // The lock appears whole or not at all: written under a temporary name, then hard-linked into
  // place (atomic, and refused when a lock exists), so a crash never leaves an empty lock.
  const temporary = join(dir, `.${LOCK}.${randomBytes(6).toString('hex')}.partial`);
  await writeFile(temporary, token, { mode: 0o600 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new UserError(`${dir}: holds no linkage state (no such folder); create one with blindlink link init`);
    throw new UserError(`${dir}: cannot lock the linkage state (${error.code})`);
  });
  for (let attempt = 0; ; attempt++) {
    try {
      await link(temporary, path);
      await unlink(temporary);
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        await unlink(temporary).catch(() => undefined);
        throw new UserError(`${dir}: cannot lock the linkage state (${code})`);
      }
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).split(' ')[0]);
      if (attempt === 0 && Number.isInteger(owner) && owner > 0 && !processAlive(owner)) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      await unlink(temporary).catch(() => undefined);
      throw new UserError(`${dir}: another blindlink command${owner > 0 ? ` (pid ${owner})` : ''} is changing this linkage state; try again when it has finished`);
    }
  }
  try {
    return await work();
  } finally {
    if ((await readFile(path, 'utf8').catch(() => '')) === token) await unlink(path).catch(() => undefined);
  }
}

// Incremental linkage at the linkage unit: `link init` takes the first files of one, two or up to
// 16 parties, `link add` matches a party's new batch against what the state holds (never
// re-matching what was matched before), `link release` solves over every candidate pair kept and
// releases as `dedup` or `match` would.
//
// Consistency: a batch is compared with every held record of the other parties (and, for one
// party, with the party's own records and itself) by the exact all-pairs search, so the kept
// candidates are exactly those a full re-match of the concatenated files with --blocking none
// would find, and the solvers order pairs by score and row alone. Every release therefore equals
// `match`/`dedup --blocking none` on the files as they stand (test/link-state.test.ts).
import { readFile, unlink } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { UserError } from '../errors.js';
import { readEncodedFile, type EncodedFile } from '../io/encoded-file.js';
import { assertWritable } from '../io/atomic-file.js';
import { findCandidates, findSelfCandidates } from '../match/candidates.js';
import { checkCompatible } from '../match/compatibility.js';
import { clusterDuplicates } from '../match/dedup.js';
import { groupParties, MAX_PARTIES, type PartyPairCandidates } from '../match/multi-party.js';
import type { FilterSet } from '../match/shared-filters.js';
import type { Candidates } from '../match/tile.js';
import {
  bestScorePerNode,
  DEDUP_COUNT_DEFINITION,
  duplicateRecords,
  groupHistogram,
  PARTIES_COUNT_DEFINITION,
  partyPairCounts,
  type ClusterMethod,
  type DedupReport,
  type MultiPartyReport,
} from '../reveal/group-release.js';
import { writeGroupsCsv } from '../reveal/groups-csv.js';
import { writePairsCsv } from '../reveal/pairs-csv.js';
import { release, type MatchReport, type RevealMode } from '../reveal/release.js';
import { greedySolve } from '../solve/greedy.js';
import { MAX_FILTER_BITS } from '../similarity/dice-kernel.js';
import { concatStored, decodeCandidates, encodeCandidates, type StoredCandidates } from './candidates-file.js';
import { writeDurably } from './durable.js';
import {
  commitManifest,
  createStateFolder,
  hexDigest,
  modeFor,
  readCandidateFile,
  readManifest,
  removeLeftovers,
  stateFileName,
  STATE_FORMAT,
  STATE_VERSION,
  withStateLock,
  type LinkMode,
  type Manifest,
  type ReleaseEntry,
} from './state.js';

export interface LinkStatus {
  state: string;
  mode: LinkMode;
  generation: number;
  threshold: number;
  cluster: ClusterMethod | null;
  parties: Array<{ name: string; records: number; batches: number }>;
  releases: ReleaseEntry[];
  /** Sum of the epsilons of every noisy release so far (sequential composition). */
  epsilonSpent: number;
}

export type LinkReport = (MatchReport | DedupReport | MultiPartyReport) & { link: LinkStatus };

function statusOf(dir: string, m: Manifest): LinkStatus {
  return {
    state: dir,
    mode: m.mode,
    generation: m.generation,
    threshold: m.threshold,
    cluster: m.cluster,
    parties: m.parties.map((p) => ({ name: p.name, records: p.segments.reduce((n, s) => n + s.records, 0), batches: p.segments.length })),
    releases: m.releases,
    epsilonSpent: m.releases.reduce((n, r) => n + (r.epsilon ?? 0), 0),
  };
}

/** One party's held records as one filter set (segments in the order they were added), with ids when every segment has them. */
function held(segments: readonly EncodedFile[], filterBits: number): FilterSet & { ids: string[] | null } {
  const count = segments.reduce((n, s) => n + s.count, 0);
  const clks = new Uint8Array((count * filterBits) / 8);
  let at = 0;
  for (const s of segments) {
    clks.set(s.clks, at);
    at += s.clks.length;
  }
  const ids = segments.every((s) => s.ids !== null) ? segments.flatMap((s) => s.ids as string[]) : null;
  return { filterBits, count, clks, ids };
}

/** Every party's batches as the state keeps them, each checked against the digest recorded when it was added. */
async function readSegments(dir: string, m: Manifest): Promise<EncodedFile[][]> {
  return Promise.all(
    m.parties.map((p) =>
      Promise.all(
        p.segments.map(async (s) => {
          const file = await readEncodedFile(join(dir, s.file));
          if (file.count !== s.records || hexDigest(file.clks) !== s.clkSha256) {
            throw new UserError(`${join(dir, s.file)}: not the batch the manifest recorded for party ${p.name} (damaged linkage state)`);
          }
          return file;
        }),
      ),
    ),
  );
}

/** The encoding every batch must share, as an EncodedFile checkCompatible can compare with. */
function stateReference(dir: string, m: Manifest): EncodedFile {
  const { filterBits, schemaFingerprint, keyCheck } = m.encoding;
  return {
    path: `${dir} (linkage state)`,
    filterBits,
    count: 0,
    clks: new Uint8Array(0),
    popcounts: new Uint16Array(0),
    blockKeys: null,
    presence: null,
    ids: null,
    metadata: { blindlinkVersion: '', schemaFingerprint, keyCheck, filterBits, recordCount: 0, hardening: '' },
    format: 'arrow',
  };
}

/**
 * Copies a batch into the state folder under `staged` (flushed, but named by no manifest yet) and
 * reads it from there, so that what is matched is exactly what the state keeps. Refuses a batch
 * the state cannot take: no metadata, another encoding, empty, or already added. Errors name `source`.
 */
async function stageBatchFile(source: string, dir: string, staged: string, m: Manifest | null): Promise<{ batch: EncodedFile; bytes: number }> {
  const bytes = await readFile(source).catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`${source}: cannot read encoded file (${error.code === 'ENOENT' ? 'no such file' : error.code})`);
  });
  const copy = join(dir, staged);
  await writeDurably(copy, bytes);
  try {
    const batch = await readEncodedFile(copy).catch((error: unknown) => {
      if (error instanceof UserError && error.message.startsWith(copy)) throw new UserError(source + error.message.slice(copy.length));
      throw error;
    });
    batch.path = source;
    if (batch.format !== 'arrow' || batch.metadata === null) {
      throw new UserError(`${source}: incremental linkage needs Arrow files with blindlink metadata, so that every later batch can be checked against the same secret and schema`);
    }
    if (batch.count === 0) throw new UserError(`${source}: holds no records`);
    if (batch.filterBits > MAX_FILTER_BITS) throw new UserError(`${source}: ${batch.filterBits}-bit filters are longer than the ${MAX_FILTER_BITS} bits the matcher supports`);
    if (m !== null) {
      checkCompatible(stateReference(dir, m), batch);
      const digest = hexDigest(batch.clks);
      for (const party of m.parties) {
        for (const s of party.segments) {
          if (s.clkSha256 === digest) throw new UserError(`${source}: holds the same encodings as a batch already added to party ${party.name} (${s.file}): the same batch given twice?`);
        }
      }
    }
    return { batch, bytes: bytes.length };
  } catch (error) {
    await unlink(copy).catch(() => undefined);
    throw error;
  }
}

/**
 * The pairs a batch for party `p` brings: against every other party's held records, or, for one
 * party, against its own held records and within the batch. Batch rows are numbered after the
 * party's held rows, as they would be in the concatenated file.
 */
async function batchCandidates(m: Manifest, parties: readonly FilterSet[], p: number, batch: FilterSet, workers: number): Promise<StoredCandidates> {
  const partyA: number[] = [];
  const rowA: number[] = [];
  const partyB: number[] = [];
  const rowB: number[] = [];
  const score: number[] = [];
  const base = parties[p].count;
  const push = (pa: number, ra: number, pb: number, rb: number, s: number): void => {
    partyA.push(pa);
    rowA.push(ra);
    partyB.push(pb);
    rowB.push(rb);
    score.push(s);
  };
  const search = { threshold: m.threshold, workers };
  const each = (c: Candidates, visit: (batchRow: number, other: number, s: number) => void): void => {
    for (let k = 0; k < c.length; k++) visit(c.a[k], c.b[k], c.score[k]);
  };
  if (m.mode === 'dedup') {
    if (base > 0) each(await findCandidates(batch, parties[0], search), (r, h, s) => push(0, h, 0, base + r, s));
    each(await findSelfCandidates(batch, search), (r, t, s) => push(0, base + r, 0, base + t, s));
  } else {
    for (let q = 0; q < parties.length; q++) {
      if (q === p || parties[q].count === 0) continue;
      const c = await findCandidates(batch, parties[q], search);
      if (q < p) each(c, (r, h, s) => push(q, h, p, base + r, s));
      else each(c, (r, h, s) => push(p, base + r, q, h, s));
    }
  }
  return { length: score.length, partyA: Int32Array.from(partyA), rowA: Int32Array.from(rowA), partyB: Int32Array.from(partyB), rowB: Int32Array.from(rowB), score: Float64Array.from(score) };
}

/** Rows of b after rows of a, as one filter set. */
function appendRows(a: FilterSet, b: FilterSet): FilterSet {
  const clks = new Uint8Array(a.clks.length + b.clks.length);
  clks.set(a.clks, 0);
  clks.set(b.clks, a.clks.length);
  return { filterBits: b.filterBits, count: a.count + b.count, clks };
}

/**
 * Adds a staged batch to party `p` of `m` in memory: its candidates against what `parties` holds
 * are written to their own file, and `parties[p]` grows by the batch. The caller commits `m`.
 */
async function addToManifest(dir: string, m: Manifest, parties: FilterSet[], p: number, staged: string, batch: EncodedFile, bytes: number, workers: number): Promise<void> {
  const set: FilterSet = { filterBits: batch.filterBits, count: batch.count, clks: batch.clks };
  const pairs = await batchCandidates(m, parties, p, set, workers);
  m.parties[p].segments.push({ file: staged, records: batch.count, bytes, clkSha256: hexDigest(batch.clks), generation: m.generation });
  const encoded = encodeCandidates(pairs);
  const candidateFile = stateFileName(m.generation, `party${p}-candidates.bin`);
  await writeDurably(join(dir, candidateFile), encoded);
  m.candidates.push({ file: candidateFile, pairs: pairs.length, sha256: hexDigest(encoded), generation: m.generation });
  parties[p] = appendRows(parties[p], set);
}

export interface LinkInitOptions {
  dir: string;
  files: string[];
  /** Party names, one per file; default: the file names without extension. */
  names?: string[];
  threshold: number;
  cluster?: ClusterMethod;
  workers: number;
  warn: (message: string) => void;
}

/** Default party names: file names without their extension, which must differ. */
function partyNames(files: string[], names: string[] | undefined): string[] {
  const out = names ?? files.map((f) => basename(f, extname(f)));
  if (out.length !== files.length) throw new UserError(`--names gives ${out.length} names for ${files.length} files`, 2);
  const seen = new Set<string>();
  for (const name of out) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new UserError(`party name ${JSON.stringify(name)}: use 1 to 64 letters, digits, '.', '_' or '-' (give --names)`, 2);
    if (seen.has(name)) throw new UserError(`two parties would be named ${name}: give --names a,b,...`, 2);
    seen.add(name);
  }
  return out;
}

/**
 * Creates a state from the first file of each party (one party: deduplication; two: 1:1
 * matching; three to 16: multi-party groups) and matches them, all committed at once.
 *
 * @example await initState({ dir: 'lu-state', files: ['a.arrow', 'b.arrow'], threshold: 0.8, workers: 2, warn: console.error });
 */
export async function initState(options: LinkInitOptions): Promise<LinkStatus> {
  const { dir, files } = options;
  if (files.length < 1 || files.length > MAX_PARTIES) throw new UserError(`link init takes 1 to ${MAX_PARTIES} files (one per party), got ${files.length}`, 2);
  const names = partyNames(files, options.names);
  await createStateFolder(dir);
  return withStateLock(dir, async () => {
    await removeLeftovers(dir, null);
    try {
      return await initLocked(dir, files, names, options);
    } catch (error) {
      // Nothing was committed: leave the folder as empty as it was found.
      await removeLeftovers(dir, null);
      throw error;
    }
  });
}

async function initLocked(dir: string, files: string[], names: string[], options: LinkInitOptions): Promise<LinkStatus> {
  const batches: Array<{ batch: EncodedFile; bytes: number; staged: string }> = [];
  for (let p = 0; p < files.length; p++) {
    const staged = stateFileName(1, `party${p}.arrow`);
    const { batch, bytes } = await stageBatchFile(files[p], dir, staged, null);
    for (const earlier of batches) {
      if (hexDigest(earlier.batch.clks) === hexDigest(batch.clks)) throw new UserError(`${files[p]} and ${earlier.batch.path} hold identical encodings: the same file given twice?`);
      checkCompatible(earlier.batch, batch);
    }
    batches.push({ batch, bytes, staged });
  }
  const first = batches[0].batch.metadata;
  if (first === null) throw new RangeError('readBatch checked the metadata');
  const manifest: Manifest = {
    format: STATE_FORMAT,
    version: STATE_VERSION,
    generation: 1,
    mode: modeFor(files.length),
    threshold: options.threshold,
    cluster: files.length === 1 ? (options.cluster ?? 'greedy') : null,
    encoding: { filterBits: first.filterBits, schemaFingerprint: first.schemaFingerprint, keyCheck: first.keyCheck },
    parties: names.map((name) => ({ name, segments: [] })),
    candidates: [],
    releases: [],
  };
  const parties: FilterSet[] = names.map(() => ({ filterBits: first.filterBits, count: 0, clks: new Uint8Array(0) }));
  for (let p = 0; p < files.length; p++) await addToManifest(dir, manifest, parties, p, batches[p].staged, batches[p].batch, batches[p].bytes, options.workers);
  await commitManifest(dir, manifest);
  return statusOf(dir, manifest);
}

export interface LinkAddOptions {
  dir: string;
  /** Party name (or 0-based index). */
  party: string;
  file: string;
  workers: number;
}

function partyIndex(m: Manifest, party: string): number {
  const byName = m.parties.findIndex((p) => p.name === party);
  if (byName >= 0) return byName;
  throw new UserError(`--party ${party}: the state's parties are ${m.parties.map((p) => p.name).join(', ')}`, 2);
}

/**
 * Matches a new batch of party `party` against everything the state holds and commits it.
 *
 * @example await addBatch({ dir: 'lu-state', party: 'a', file: 'a-week2.arrow', workers: 2 });
 */
export async function addBatch(options: LinkAddOptions): Promise<LinkStatus> {
  const { dir } = options;
  return withStateLock(dir, async () => {
    const manifest = await readManifest(dir);
    await removeLeftovers(dir, manifest);
    const p = partyIndex(manifest, options.party);
    const generation = manifest.generation + 1;
    const staged = stateFileName(generation, `party${p}.arrow`);
    const { batch, bytes } = await stageBatchFile(options.file, dir, staged, manifest);
    const parties = (await readSegments(dir, manifest)).map((segments): FilterSet => held(segments, manifest.encoding.filterBits));
    const next: Manifest = { ...manifest, generation, parties: manifest.parties.map((q) => ({ ...q, segments: [...q.segments] })), candidates: [...manifest.candidates] };
    await addToManifest(dir, next, parties, p, staged, batch, bytes, options.workers);
    await commitManifest(dir, next);
    return statusOf(dir, next);
  });
}

export async function stateStatus(dir: string): Promise<LinkStatus> {
  return statusOf(dir, await readManifest(dir));
}

/** The kept pairs of several parties as one candidate list per pair of parties (rows within each party). */
function splitByPartyPair(all: StoredCandidates, k: number): PartyPairCandidates[] {
  const sizes = new Int32Array(k * k);
  for (let i = 0; i < all.length; i++) sizes[all.partyA[i] * k + all.partyB[i]]++;
  const parts = new Map<number, PartyPairCandidates>();
  for (let key = 0; key < k * k; key++) {
    if (sizes[key] === 0) continue;
    const n = sizes[key];
    parts.set(key, { p: Math.floor(key / k), q: key % k, candidates: { length: 0, a: new Int32Array(n), b: new Int32Array(n), score: new Float64Array(n) } });
  }
  for (let i = 0; i < all.length; i++) {
    const c = (parts.get(all.partyA[i] * k + all.partyB[i]) as PartyPairCandidates).candidates;
    c.a[c.length] = all.rowA[i];
    c.b[c.length] = all.rowB[i];
    c.score[c.length] = all.score[i];
    c.length++;
  }
  return [...parts.values()];
}

export interface LinkReleaseOptions {
  dir: string;
  reveal: RevealMode;
  epsilon: number | null;
  out?: string;
  partyPairCounts: boolean;
}

/**
 * Solves over every candidate pair the state keeps and releases as the state's mode does
 * (`match` for two parties, `dedup` for one, `match` with three or more files), recording the
 * release in the state first: a release that was computed is always on record.
 *
 * @example const report = await releaseState({ dir: 'lu-state', reveal: 'count', epsilon: null, partyPairCounts: false });
 */
export async function releaseState(options: LinkReleaseOptions): Promise<LinkReport> {
  const { dir } = options;
  if (options.out !== undefined) await assertWritable(options.out);
  return withStateLock(dir, async () => {
    const manifest = await readManifest(dir);
    await removeLeftovers(dir, manifest);
    const parts = await Promise.all(manifest.candidates.map(async (entry) => decodeCandidates(await readCandidateFile(dir, entry), entry.file)));
    const all = concatStored(parts);
    const counts = statusOf(dir, manifest).parties.map((p) => p.records);
    const inputs = manifest.parties.map((p, i) => ({ path: `${dir}#${p.name}`, records: counts[i], format: 'arrow' as const }));
    const ids = async (): Promise<Array<string[] | null>> => (await readSegments(dir, manifest)).map((segments) => held(segments, manifest.encoding.filterBits).ids);
    const entry: ReleaseEntry = { generation: manifest.generation, reveal: options.reveal, epsilon: options.epsilon, at: new Date().toISOString() };
    const recorded: Manifest = { ...manifest, releases: [...manifest.releases, entry] };
    const asCandidates: Candidates = { length: all.length, a: all.rowA, b: all.rowB, score: all.score };
    let report: MatchReport | DedupReport | MultiPartyReport;
    const threshold = manifest.threshold;
    let write: (() => Promise<void>) | null = null;
    if (manifest.mode === 'two-party') {
      const matching = greedySolve(asCandidates, counts[0], counts[1]);
      report = release({ reveal: options.reveal, threshold, epsilon: options.epsilon, inputs: { a: inputs[0], b: inputs[1] }, candidates: asCandidates, matching, out: options.out });
      if (options.reveal === 'pairs' && options.out !== undefined) {
        const out = options.out;
        write = async () => {
          const [a, b] = await ids();
          await writePairsCsv(out, matching, a, b);
        };
      }
    } else if (manifest.mode === 'dedup') {
      const cluster = manifest.cluster ?? 'greedy';
      const clusters = clusterDuplicates(asCandidates, counts[0], cluster);
      const dedup: DedupReport = { mode: 'dedup', reveal: options.reveal as DedupReport['reveal'], threshold, cluster, count: duplicateRecords(clusters), countDefinition: DEDUP_COUNT_DEFINITION, input: inputs[0] };
      if (options.reveal === 'histogram') dedup.histogram = groupHistogram(bestScorePerNode(counts[0], asCandidates), [0, counts[0]], threshold);
      if (options.reveal === 'pairs' && options.out !== undefined) {
        const out = options.out;
        dedup.out = out;
        write = async () => writeGroupsCsv(out, clusters, { offsets: [0, counts[0]], ids: await ids() });
      }
      report = dedup;
    } else {
      const k = counts.length;
      const groups = groupParties(counts, splitByPartyPair(all, k));
      const multi: MultiPartyReport = {
        mode: 'multi-party',
        reveal: options.reveal as MultiPartyReport['reveal'],
        threshold,
        count: groups.grouping.count,
        countDefinition: PARTIES_COUNT_DEFINITION,
        inputs,
      };
      if (options.partyPairCounts) multi.partyPairCounts = partyPairCounts(groups.grouping, groups.partyOf, k);
      if (options.reveal === 'histogram') multi.histogram = groupHistogram(bestScorePerNode(groups.offsets[k], groups.nodes), groups.offsets, threshold);
      if (options.reveal === 'pairs' && options.out !== undefined) {
        const out = options.out;
        multi.out = out;
        write = async () => writeGroupsCsv(out, groups.grouping, { offsets: groups.offsets, ids: await ids() });
      }
      report = multi;
    }
    // On record before anything leaves: a failure after this over-states what was released, never under-states it.
    await commitManifest(dir, recorded);
    if (write !== null) await write();
    return { ...report, link: statusOf(dir, recorded) };
  });
}

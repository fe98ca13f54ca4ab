// Runs every disclosure alternative's real machinery once on one synthetic population, in a
// temporary folder: synth, both custodians' encodings, the linkage unit's 1:1 match (whose pairs
// are what flags, pairs and addresses disclose, and whose size is the count), the plaintext
// address disclosure the case describes, and the two-party exact-token PSI. Times and bytes are
// the real ones; the attack and noise figures are computed from these outcomes (differencing.ts).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCsvRecords } from '../csv/index.js';
import { encodeFile } from '../encode-file.js';
import { matchFiles } from '../match/match-files.js';
import { loadGroup } from '../psi/group.js';
import { makeHeader, readMessage, writeMessage } from '../psi/message.js';
import { blindOwnSet, intersectionSize, reblindOther } from '../psi/protocol.js';
import { readTokenFile, tokenMaker } from '../psi/tokens.js';
import { loadSchema } from '../schema/load.js';
import { DEFAULT_CORRUPTION } from '../synth/corrupt.js';
import { synthesize } from '../synth/write.js';
import { packagePath } from '../worker-path.js';
import type { LabOptions } from './options.js';
import { overlapEstimate, type OverlapEstimateResult } from './overlap-estimate.js';

const DIALECT = { delimiter: ',', trim: false };
/** Registry columns the case disclosed: the last-known address. */
export const ADDRESS_COLUMNS = ['street_address', 'city', 'state', 'zip'] as const;

export interface Timed {
  seconds: number;
  bytes: number;
}

export interface LabMeasurements {
  registry: number;
  requests: number;
  trueOverlap: number;
  /** Per request row: registry row of the true link, or -1. */
  truth: Int32Array;
  /** Per request row: registry row it was matched to (1:1, at the threshold), or -1. */
  matched: Int32Array;
  /** Matched pairs that are true links. */
  correctPairs: number;
  threshold: number;
  synthSeconds: number;
  /** Both custodians' encodings sent to the linkage unit, and the time to make and match them. */
  linkage: Timed & { encodeSeconds: number; matchSeconds: number; requestsArrowBytes: number; registryArrowBytes: number; pairsCsvBytes: number };
  /** The plaintext route: the request list sent in the clear, and the matched addresses sent back. */
  plaintext: Timed & { requestListBytes: number; disclosureBytes: number };
  /** Exact-token PSI-cardinality between the two custodians. */
  psi: Timed & { count: number; requesterTokens: number; registryTokens: number; tokenSeconds: number; protocolSeconds: number; coreSeconds: number };
  /** Per request row: id of its exact token if the registry holds that token, else -1. */
  exactHits: Int32Array;
  estimate: OverlapEstimateResult & { seconds: number };
  warnings: string[];
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = performance.now();
  const value = await work();
  return { value, seconds: (performance.now() - started) / 1000 };
}

async function size(path: string): Promise<number> {
  return (await stat(path)).size;
}

/**
 * Per request row, the registry row a two-column CSV links it to (truth.csv's request_row,
 * registry_row; pairs.csv's index_a, index_b with the requests as A), or -1.
 */
async function readRowLinks(path: string, requests: number): Promise<Int32Array> {
  const links = new Int32Array(requests).fill(-1);
  let header = true;
  for await (const record of readCsvRecords(path, DIALECT)) {
    if (!header) links[Number(record.fields[0])] = Number(record.fields[1]);
    header = false;
  }
  return links;
}

/**
 * What the case's route costs in bytes: the registry answers each matched request with the
 * request's id and the registry person's address. Built from the files, as the registry would.
 */
async function plaintextDisclosure(requestsPath: string, registryPath: string, matched: Int32Array): Promise<number> {
  const wanted = new Map<number, number>();
  matched.forEach((registryRow, requestRow) => {
    if (registryRow >= 0) wanted.set(registryRow, requestRow);
  });
  const requestIds = new Map<number, string>();
  let row = -1;
  for await (const record of readCsvRecords(requestsPath, DIALECT)) {
    if (row >= 0 && matched[row] >= 0) requestIds.set(row, record.fields[0]);
    row++;
  }
  const encoder = new TextEncoder();
  let bytes = 0;
  let columns: number[] = [];
  row = -1;
  for await (const record of readCsvRecords(registryPath, DIALECT)) {
    if (row < 0) columns = ADDRESS_COLUMNS.map((name) => record.fields.indexOf(name));
    else {
      const requestRow = wanted.get(row);
      if (requestRow !== undefined) bytes += encoder.encode(`${requestIds.get(requestRow)},${columns.map((c) => record.fields[c]).join(',')}\n`).length;
    }
    row++;
  }
  return bytes;
}

/** Per request row, the id of its exact token when the registry's token set holds it. */
async function exactTokenHits(requestsPath: string, schemaPath: string, registryTokens: ReadonlySet<string>): Promise<Int32Array> {
  const plan = await loadSchema(schemaPath);
  const make = tokenMaker(plan);
  const ids = new Map<string, number>();
  const hits: number[] = [];
  let columns: number[] | null = null;
  for await (const record of readCsvRecords(requestsPath, DIALECT)) {
    if (columns === null) {
      columns = plan.fields.map((field) => record.fields.indexOf(field.column));
      continue;
    }
    const token = make(columns.map((c) => record.fields[c] ?? ''));
    if (typeof token !== 'string' || !registryTokens.has(token)) {
      hits.push(-1);
      continue;
    }
    let id = ids.get(token);
    if (id === undefined) ids.set(token, (id = ids.size));
    hits.push(id);
  }
  return Int32Array.from(hits);
}

async function runPsi(folder: string, schemaPath: string, requestsPath: string, registryPath: string, workers: number): Promise<{ figures: LabMeasurements['psi']; registrySet: Set<string> }> {
  const cpu = process.cpuUsage();
  const plan = await loadSchema(schemaPath);
  const tokens = await timed(async () => ({ requester: await readTokenFile(requestsPath, plan, DIALECT), registry: await readTokenFile(registryPath, plan, DIALECT) }));
  await loadGroup();
  // Each party's own key, as `blindlink keygen` would write it; the session binds the messages.
  const session = 'policy-lab';
  const requester = { keyFileBytes: new TextEncoder().encode(randomBytes(32).toString('hex')), session, workers };
  const registry = { keyFileBytes: new TextEncoder().encode(randomBytes(32).toString('hex')), session, workers };
  const file = (name: string): string => join(folder, name);
  const protocol = await timed(async () => {
    const a1 = await blindOwnSet(requester, plan.fingerprint, tokens.value.requester.tokens);
    await writeMessage(file('requester.psi'), makeHeader('blinded', 'requester', session, plan.fingerprint, a1.length / 32), a1);
    const b1 = await blindOwnSet(registry, plan.fingerprint, tokens.value.registry.tokens);
    await writeMessage(file('registry.psi'), makeHeader('blinded', 'registry', session, plan.fingerprint, b1.length / 32), b1);
    const received = await readMessage(file('requester.psi'));
    const a2 = await reblindOther(registry, plan.fingerprint, received.elements, 'requester.psi');
    await writeMessage(file('requester-reblinded.psi'), makeHeader('reblinded', 'requester', session, plan.fingerprint, a2.length / 32), a2);
    const own = await readMessage(file('requester-reblinded.psi'));
    const other = await readMessage(file('registry.psi'));
    return intersectionSize(own.elements, await reblindOther(requester, plan.fingerprint, other.elements, 'registry.psi'));
  });
  const used = process.cpuUsage(cpu);
  const bytes = (await size(file('requester.psi'))) + (await size(file('registry.psi'))) + (await size(file('requester-reblinded.psi')));
  const figures = {
    count: protocol.value,
    requesterTokens: tokens.value.requester.tokens.length,
    registryTokens: tokens.value.registry.tokens.length,
    tokenSeconds: tokens.seconds,
    protocolSeconds: protocol.seconds,
    seconds: tokens.seconds + protocol.seconds,
    coreSeconds: (used.user + used.system) / 1e6,
    bytes,
  };
  return { figures, registrySet: new Set(tokens.value.registry.tokens) };
}

/** Runs everything once; `say` gets one line per finished step (stderr progress in the CLI). */
export async function measureAlternatives(options: LabOptions, say: (line: string) => void): Promise<LabMeasurements> {
  const folder = await mkdtemp(join(tmpdir(), 'blindlink-policy-lab-'));
  const file = (name: string): string => join(folder, name);
  const schemaPath = packagePath('docs/examples/taxpayer-schema.json');
  const warnings: string[] = [];
  try {
    const synth = await timed(() =>
      synthesize({ registry: options.registry, requests: options.requests, overlap: options.overlap, seed: options.seed, outDir: folder, rates: DEFAULT_CORRUPTION, namesakeRate: 0.1, relativeRate: 0.1 }),
    );
    say(`synthesised ${options.registry} taxpayers and ${options.requests} requests (${synth.value.members} members) in ${synth.seconds.toFixed(1)} s`);
    const truth = await readRowLinks(synth.value.truthPath, options.requests);
    const secret = new TextEncoder().encode(randomBytes(32).toString('hex'));
    const encode = (input: string, output: string) => encodeFile({ schema: schemaPath, secret, input, output, workers: options.workers, dialect: DIALECT, onError: 'fail' });
    const encoded = await timed(async () => {
      await encode(synth.value.requestsPath, file('requests.arrow'));
      await encode(synth.value.registryPath, file('registry.arrow'));
    });
    secret.fill(0);
    say(`custodians encoded both files in ${encoded.seconds.toFixed(1)} s`);
    const match = await timed(() =>
      matchFiles({
        a: file('requests.arrow'),
        b: file('registry.arrow'),
        threshold: options.threshold,
        reveal: 'pairs',
        epsilon: null,
        out: file('pairs.csv'),
        workers: options.workers,
        warn: (message) => warnings.push(message),
      }),
    );
    say(`linkage unit matched the encodings in ${match.seconds.toFixed(1)} s (${match.value.count} pairs)`);
    const matched = await readRowLinks(file('pairs.csv'), options.requests);
    let correctPairs = 0;
    matched.forEach((registryRow, requestRow) => {
      if (registryRow >= 0 && truth[requestRow] === registryRow) correctPairs++;
    });
    const disclosure = await timed(() => plaintextDisclosure(synth.value.requestsPath, synth.value.registryPath, matched));
    const { figures: psi, registrySet } = await runPsi(folder, schemaPath, synth.value.requestsPath, synth.value.registryPath, options.workers);
    say(`two-party exact-token PSI in ${psi.seconds.toFixed(1)} s (${psi.coreSeconds.toFixed(1)} core-seconds): ${psi.count} common tokens`);
    const exactHits = await exactTokenHits(synth.value.requestsPath, schemaPath, registrySet);
    // The protocol's count must equal the plaintext intersection of the same tokens: the lab checks
    // the cryptography against the truth it can see, on every run.
    const plainIntersection = new Set(exactHits.filter((id) => id >= 0)).size;
    if (plainIntersection !== psi.count) throw new Error(`PSI counted ${psi.count} common tokens but the plaintext intersection has ${plainIntersection}`);
    const estimate = await timed(() => overlapEstimate({ requestsPath: file('requests.arrow'), registryPath: file('registry.arrow'), workers: options.workers }));
    const requestsArrowBytes = await size(file('requests.arrow'));
    const registryArrowBytes = await size(file('registry.arrow'));
    const requestListBytes = await size(synth.value.requestsPath);
    return {
      registry: options.registry,
      requests: options.requests,
      trueOverlap: synth.value.members,
      truth,
      matched,
      correctPairs,
      threshold: match.value.threshold,
      synthSeconds: synth.seconds,
      linkage: {
        seconds: encoded.seconds + match.seconds,
        encodeSeconds: encoded.seconds,
        matchSeconds: match.seconds,
        bytes: requestsArrowBytes + registryArrowBytes,
        requestsArrowBytes,
        registryArrowBytes,
        pairsCsvBytes: await size(file('pairs.csv')),
      },
      plaintext: { seconds: match.seconds + disclosure.seconds, bytes: requestListBytes + disclosure.value, requestListBytes, disclosureBytes: disclosure.value },
      psi,
      exactHits,
      estimate: { ...estimate.value, seconds: estimate.seconds },
      warnings,
    };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

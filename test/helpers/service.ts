// A real `blindlink serve` child process on loopback for the service tests, plus encoded files
// made from seeded random filters (content the matcher can count, no encoding run needed) and a
// project set up through the API.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { popcounts as popcountsOf } from '../../src/bits.js';
import { writeEncodedFile, type EncodingMetadata } from '../../src/io/encoded-file.js';
import { seededRandom } from '../../src/random.js';
import type { Json } from '../../src/schema/json-checks.js';
import { ServiceClient } from '../../src/service/client.js';
import type { Role } from '../../src/service/policy.js';
import { startServer, type ServerProcess } from '../../src/service/server-process.js';
import { scratchDir } from './run-cli.js';

export const FIELDS = ['given_name', 'surname', 'street_address'];
export const FINGERPRINT = 'ab'.repeat(32);
export const KEY_CHECK = 'cd'.repeat(16);
const BYTES = 128;

/** `count` random 1024-bit filters (fill 0.3); equal seeds give equal filters. */
export function filterPool(count: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  const pool = new Uint8Array(count * BYTES);
  for (let i = 0; i < pool.length; i++) {
    let byte = 0;
    for (let bit = 0; bit < 8; bit++) if (random() < 0.3) byte |= 1 << bit;
    pool[i] = byte;
  }
  return pool;
}

export interface ListOptions {
  fingerprint?: string;
  keyCheck?: string;
  /** Per-record presence of the fields (default all present); null writes no presence column. */
  presence?: ((row: number) => boolean[]) | null;
  /** Field names of the presence column (default FIELDS, at most 8). */
  fields?: string[];
}

/** Writes the pool's `rows` as an encoded Arrow file. */
export async function writeList(path: string, pool: Uint8Array, rows: readonly number[], options: ListOptions = {}): Promise<string> {
  const clks = new Uint8Array(rows.length * BYTES);
  rows.forEach((row, i) => clks.set(pool.subarray(row * BYTES, (row + 1) * BYTES), i * BYTES));
  const metadata: EncodingMetadata = {
    blindlinkVersion: '0.1.0',
    schemaFingerprint: options.fingerprint ?? FINGERPRINT,
    keyCheck: options.keyCheck ?? KEY_CHECK,
    filterBits: BYTES * 8,
    recordCount: rows.length,
    hardening: 'none',
  };
  let presence: Uint8Array | null = null;
  if (options.presence !== null) {
    const fields = options.fields ?? FIELDS;
    metadata.presenceFields = fields;
    presence = new Uint8Array(rows.length);
    const of = options.presence ?? (() => fields.map(() => true));
    rows.forEach((_, i) => {
      of(i).forEach((present, f) => {
        if (present) presence![i] |= 0x80 >>> f;
      });
    });
  }
  await writeEncodedFile(path, { clks, popcounts: popcountsOf(clks, BYTES), presence, ids: null, filterBits: BYTES * 8, metadata });
  return path;
}

export const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

export interface TestServer extends ServerProcess {
  data: string;
  admin: ServiceClient;
  adminToken: string;
}

/** Starts a server on `data` (a fresh folder unless given) with extra serve flags. */
export async function startTestServer(flags: readonly string[] = [], data = scratchDir('blindlink-service-')): Promise<TestServer> {
  const hasData = flags.includes('--data');
  const server = await startServer([...(hasData ? [] : ['--data', data]), '--workers', '2', ...flags]);
  const folder = hasData ? flags[flags.indexOf('--data') + 1] : data;
  const adminToken = readFileSync(join(folder, 'admin.token'), 'utf8').trim();
  return { ...server, data: folder, adminToken, admin: new ServiceClient(server.url, adminToken) };
}

export const PARTY_NAMES: Record<Role, string> = { 'custodian-a': 'tax agency', 'custodian-b': 'requesting agency', recipient: 'requesting agency', auditor: 'inspector' };

export async function createProject(server: TestServer, policy: Json, overrides: { registry?: string; parties?: Partial<Record<Role, string>> } = {}) {
  const created = await server.admin.createProject({
    name: 'test project',
    registry: overrides.registry ?? 'registry',
    schemaFingerprint: FINGERPRINT,
    schemaFields: FIELDS,
    policy,
    parties: { ...PARTY_NAMES, ...overrides.parties },
  });
  const as = (role: Role) => new ServiceClient(server.url, created.tokens[role]);
  return { id: created.id, tokens: created.tokens, as };
}

/** A policy that allows every mode to the recipient (exact ones under an overlap limit). */
export function openPolicy(overrides: { [key: string]: Json } = {}): Json {
  return {
    blindlinkPolicy: 1,
    match: { threshold: 0.9, blocking: 'none' },
    request: { requiredFields: ['given_name', 'surname'], requiredMetadata: ['purpose', 'statutoryBasis', 'requestingOfficial'], minRecords: 10 },
    release: { modes: { recipient: ['count', 'noisy-count', 'histogram', 'pairs'], auditor: ['count'] }, maxOverlapWithEarlierLists: 0.5 },
    privacy: { epsilonPerRelease: 0.5, lifetimeBudget: 1 },
    ...overrides,
  };
}

export const FULL_METADATA = { purpose: 'test', statutoryBasis: 'section 1', requestingOfficial: 'an official' };

/** Raw HTTP for the cases the client would not send (bad JSON, odd headers). */
export async function http(url: string, init: RequestInit & { token?: string } = {}): Promise<{ status: number; body: unknown; text: string }> {
  const headers = new Headers(init.headers);
  if (init.token !== undefined) headers.set('authorization', `Bearer ${init.token}`);
  const response = await fetch(url, { ...init, headers });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body, text };
}

// The files the two PSI parties exchange: one line of JSON header, then `count` 32-byte group
// elements. The header names the protocol and version, the group, the step, whose set it is, the
// session both parties agreed on and the schema fingerprint, so a message from another session,
// schema or protocol version is refused instead of producing a wrong count.
import { readFile } from 'node:fs/promises';
import { inFile, UserError } from '../errors.js';
import { writeAtomically, writeChunk } from '../io/atomic-file.js';
import { ELEMENT_BYTES, firstNonCanonical, GROUP_NAME } from './group.js';

export const PSI_PROTOCOL = 'blindlink-psi-cardinality';
export const PSI_VERSION = 1;
export const TOKEN_HASH = 'sha512/ed25519-elligator2';
export const PSI_ROLES = ['requester', 'registry'] as const;
export type PsiRole = (typeof PSI_ROLES)[number];
/** `blinded`: one party's own set under its key; `reblinded`: that set under both keys, shuffled. */
export type PsiStep = 'blinded' | 'reblinded';

export interface PsiHeader {
  protocol: typeof PSI_PROTOCOL;
  version: typeof PSI_VERSION;
  group: typeof GROUP_NAME;
  hash: typeof TOKEN_HASH;
  step: PsiStep;
  /** Whose tokens the elements are. */
  set: PsiRole;
  session: string;
  /** Schema fingerprint: both parties must make tokens with the same schema. */
  schema: string;
  count: number;
}

export interface PsiMessage {
  path: string;
  header: PsiHeader;
  elements: Uint8Array;
}

const MAX_HEADER_BYTES = 4096;
export const MAX_SESSION_CHARS = 200;
const HEADER_KEYS = ['protocol', 'version', 'group', 'hash', 'step', 'set', 'session', 'schema', 'count'];

/** Throws a usage error unless the label is one both parties can type and compare. */
export function checkSession(session: string): void {
  if (session.length === 0 || session.length > MAX_SESSION_CHARS || /[\u0000-\u001f\u007f]/.test(session)) {
    throw new UserError(`--session must be 1 to ${MAX_SESSION_CHARS} printable characters`, 2);
  }
}

export function makeHeader(step: PsiStep, set: PsiRole, session: string, schema: string, count: number): PsiHeader {
  return { protocol: PSI_PROTOCOL, version: PSI_VERSION, group: GROUP_NAME, hash: TOKEN_HASH, step, set, session, schema, count };
}

/** Writes header and elements atomically (a temporary name renamed at the end). */
export async function writeMessage(path: string, header: PsiHeader, elements: Uint8Array): Promise<void> {
  if (elements.length !== header.count * ELEMENT_BYTES) throw new Error('header count does not match the elements');
  await writeAtomically(path, async (out) => {
    await writeChunk(out, `${JSON.stringify(header)}\n`);
    await writeChunk(out, elements);
  });
}

function parseHeader(path: string, bytes: Uint8Array): { header: PsiHeader; bodyStart: number } {
  const newline = bytes.subarray(0, MAX_HEADER_BYTES).indexOf(0x0a);
  const notMessage = (why: string): UserError => inFile(path, `not a blindlink PSI message (${why})`);
  if (newline < 0) throw notMessage(bytes.length === 0 ? 'the file is empty' : `no header line in the first ${MAX_HEADER_BYTES} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, newline)));
  } catch {
    throw notMessage('the header line is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw notMessage('the header is not a JSON object');
  const h = parsed as Record<string, unknown>;
  if (h.protocol !== PSI_PROTOCOL) throw notMessage(`protocol ${JSON.stringify(h.protocol)}, expected "${PSI_PROTOCOL}"`);
  if (h.version !== PSI_VERSION) throw inFile(path, `PSI message version ${JSON.stringify(h.version)} is not supported (this blindlink reads version ${PSI_VERSION})`);
  const unknown = Object.keys(h).filter((key) => !HEADER_KEYS.includes(key));
  if (unknown.length > 0) throw inFile(path, `header: unknown field ${unknown[0]}`);
  if (h.group !== GROUP_NAME) throw inFile(path, `header: group ${JSON.stringify(h.group)} is not "${GROUP_NAME}"`);
  if (h.hash !== TOKEN_HASH) throw inFile(path, `header: token hash ${JSON.stringify(h.hash)} is not "${TOKEN_HASH}"`);
  if (h.step !== 'blinded' && h.step !== 'reblinded') throw inFile(path, `header: step must be "blinded" or "reblinded", got ${JSON.stringify(h.step)}`);
  if (h.set !== 'requester' && h.set !== 'registry') throw inFile(path, `header: set must be "requester" or "registry", got ${JSON.stringify(h.set)}`);
  if (typeof h.session !== 'string' || h.session.length === 0 || h.session.length > MAX_SESSION_CHARS) throw inFile(path, 'header: session must be a non-empty string');
  if (typeof h.schema !== 'string' || !/^[0-9a-f]{64}$/.test(h.schema)) throw inFile(path, 'header: schema must be a SHA-256 fingerprint (64 hex digits)');
  if (typeof h.count !== 'number' || !Number.isSafeInteger(h.count) || h.count < 0) throw inFile(path, 'header: count must be a non-negative integer');
  return { header: h as unknown as PsiHeader, bodyStart: newline + 1 };
}

/**
 * Reads and checks a message: header fields, a body of exactly count x 32 bytes, every element a
 * canonical group encoding, no element twice (a blinded set never repeats one).
 */
export async function readMessage(path: string): Promise<PsiMessage> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw inFile(path, `cannot read PSI message (${code === 'ENOENT' ? 'no such file' : (code ?? 'error')})`);
  }
  const { header, bodyStart } = parseHeader(path, bytes);
  const body = bytes.subarray(bodyStart);
  if (body.length !== header.count * ELEMENT_BYTES) {
    const held = body.length / ELEMENT_BYTES;
    throw inFile(path, `header says ${header.count} elements but the file holds ${Number.isInteger(held) ? held : held.toFixed(2)} (truncated or corrupt)`);
  }
  const bad = firstNonCanonical(body);
  if (bad >= 0) throw inFile(path, `element ${bad} is not a canonical group element`);
  const seen = new Map<string, number>();
  const text = Buffer.from(body.buffer, body.byteOffset, body.length);
  for (let i = 0; i < header.count; i++) {
    const key = text.toString('latin1', i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES);
    const earlier = seen.get(key);
    if (earlier !== undefined) throw inFile(path, `element ${i} repeats element ${earlier} (a blinded set holds each element once)`);
    seen.set(key, i);
  }
  return { path, header, elements: body };
}

/** Number of elements two sets share; elements are compared as bytes (encodings are canonical). */
export function sharedElements(a: Uint8Array, b: Uint8Array): number {
  const smaller = a.length <= b.length ? a : b;
  const larger = smaller === a ? b : a;
  const keys = new Set<string>();
  const small = Buffer.from(smaller.buffer, smaller.byteOffset, smaller.length);
  for (let offset = 0; offset < small.length; offset += ELEMENT_BYTES) keys.add(small.toString('latin1', offset, offset + ELEMENT_BYTES));
  const large = Buffer.from(larger.buffer, larger.byteOffset, larger.length);
  let shared = 0;
  for (let offset = 0; offset < large.length; offset += ELEMENT_BYTES) if (keys.has(large.toString('latin1', offset, offset + ELEMENT_BYTES))) shared++;
  return shared;
}

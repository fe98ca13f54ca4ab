// The audit log as a hash chain: each entry's hash is SHA-256 over the previous entry's hash and
// a canonical JSON of the entry, so changing, removing or reordering any entry breaks every hash
// after it. One chain per project, so a project's auditor can verify its whole chain alone.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalJson, type Json } from '../schema/json-checks.js';

/** The previous hash of a project's first entry: its genesis, bound to the project id. */
export function genesisHash(projectId: string): string {
  return bytesToHex(sha256(utf8ToBytes(`blindlink audit chain v1\n${projectId}`)));
}

/** What is recorded; the store adds seq, time and the hashes. */
export interface AuditDraft {
  kind: string;
  /** Who caused it: a role ("custodian-b"), "admin" or "service". */
  actor: string;
  data: Json;
}

export interface AuditEntry extends AuditDraft {
  projectId: string;
  /** 1, 2, 3... within the project. */
  seq: number;
  /** ISO 8601 time of recording. */
  at: string;
  prevHash: string;
  hash: string;
}

/**
 * The entry's hash: SHA-256 of the previous hash, a newline and the canonical JSON of everything
 * else the entry says.
 *
 * @example entryHash(genesisHash('prj_1'), { projectId: 'prj_1', seq: 1, at, kind, actor, data })
 */
export function entryHash(prevHash: string, entry: Omit<AuditEntry, 'prevHash' | 'hash'>): string {
  const body: Json = { projectId: entry.projectId, seq: entry.seq, at: entry.at, kind: entry.kind, actor: entry.actor, data: entry.data };
  return bytesToHex(sha256(utf8ToBytes(`${prevHash}\n${canonicalJson(body)}`)));
}

export type ChainVerdict = { ok: true; entries: number; head: string } | { ok: false; seq: number; kind: string; reason: string };

/** Checks one project's entries in order; names the first entry that breaks the chain. */
export function verifyChain(projectId: string, entries: readonly AuditEntry[]): ChainVerdict {
  let prev = genesisHash(projectId);
  for (const [index, entry] of entries.entries()) {
    const broken = (reason: string): ChainVerdict => ({ ok: false, seq: entry.seq, kind: entry.kind, reason });
    if (entry.projectId !== projectId) return broken(`belongs to project ${entry.projectId}`);
    if (entry.seq !== index + 1) return broken(`out of sequence (expected entry ${index + 1}: an entry was removed or inserted)`);
    if (entry.prevHash !== prev) return broken('does not link to the entry before it (previous hash differs)');
    if (entryHash(prev, entry) !== entry.hash) return broken('its content does not match its hash (the entry was changed)');
    prev = entry.hash;
  }
  return { ok: true, entries: entries.length, head: prev };
}

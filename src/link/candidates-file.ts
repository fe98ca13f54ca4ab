// Candidate pairs kept in the linkage state, one file per batch: every pair at or above the
// state's threshold that the batch brought, between records named by (party, row). A fixed
// little-endian layout: the magic, the pair count, then five columns.
import { UserError } from '../errors.js';

/** Pairs with party and row on each side; for two or more parties partyA < partyB, for one party rowA < rowB. */
export interface StoredCandidates {
  length: number;
  partyA: Int32Array;
  rowA: Int32Array;
  partyB: Int32Array;
  rowB: Int32Array;
  score: Float64Array;
}

const MAGIC = 'BLCAND01';
const HEADER_BYTES = 16;

/** The bytes of a candidates file: magic, count (uint32, then 4 zero bytes), partyA, rowA, partyB, rowB (int32), score (float64). */
export function encodeCandidates(c: StoredCandidates): Uint8Array {
  const n = c.length;
  const bytes = new Uint8Array(HEADER_BYTES + n * 24);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < MAGIC.length; i++) bytes[i] = MAGIC.charCodeAt(i);
  view.setUint32(8, n, true);
  const columns = [c.partyA, c.rowA, c.partyB, c.rowB];
  columns.forEach((column, k) => {
    for (let i = 0; i < n; i++) view.setInt32(HEADER_BYTES + (k * n + i) * 4, column[i], true);
  });
  for (let i = 0; i < n; i++) view.setFloat64(HEADER_BYTES + 16 * n + i * 8, c.score[i], true);
  return bytes;
}

/** Parses a candidates file; `name` is used in the error for a damaged file. */
export function decodeCandidates(bytes: Uint8Array, name: string): StoredCandidates {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(0, Math.min(8, bytes.length)));
  if (bytes.length < HEADER_BYTES || magic !== MAGIC) throw new UserError(`${name}: not a blindlink candidates file (damaged linkage state)`);
  const n = view.getUint32(8, true);
  if (bytes.length !== HEADER_BYTES + n * 24) throw new UserError(`${name}: holds ${bytes.length} bytes, ${n} pairs need ${HEADER_BYTES + n * 24} (damaged linkage state)`);
  const column = (k: number): Int32Array => Int32Array.from({ length: n }, (_, i) => view.getInt32(HEADER_BYTES + (k * n + i) * 4, true));
  return {
    length: n,
    partyA: column(0),
    rowA: column(1),
    partyB: column(2),
    rowB: column(3),
    score: Float64Array.from({ length: n }, (_, i) => view.getFloat64(HEADER_BYTES + 16 * n + i * 8, true)),
  };
}

/** All pairs of several batches, in one set of columns. */
export function concatStored(parts: readonly StoredCandidates[]): StoredCandidates {
  const n = parts.reduce((sum, p) => sum + p.length, 0);
  const out: StoredCandidates = { length: n, partyA: new Int32Array(n), rowA: new Int32Array(n), partyB: new Int32Array(n), rowB: new Int32Array(n), score: new Float64Array(n) };
  let at = 0;
  for (const p of parts) {
    out.partyA.set(p.partyA.subarray(0, p.length), at);
    out.rowA.set(p.rowA.subarray(0, p.length), at);
    out.partyB.set(p.partyB.subarray(0, p.length), at);
    out.rowB.set(p.rowB.subarray(0, p.length), at);
    out.score.set(p.score.subarray(0, p.length), at);
    at += p.length;
  }
  return out;
}

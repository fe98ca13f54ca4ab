// apache-arrow decodes an IPC file's footer and message headers with flatbuffers, which reads
// vector lengths and offsets without bounds checks: one flipped bit in a footer made a vector claim
// hundreds of millions of entries, and decoding the schema filled the heap until Node aborted (found
// by the fuzz suite). Importing this module installs two checks on flatbuffers' ByteBuffer, the
// class apache-arrow resolves to (flatbuffers is pinned beside it at the version it uses):
//   - no vector may be longer than the buffer holding it (every element takes at least one byte);
//   - one buffer may hand out at most ELEMENT_BUDGET_PER_BYTE vector elements per byte in all, each
//     distinct vector charged once, so offsets that loop back on a table (a field that is its own
//     child) cannot make decoding exponential. A valid header asks for a few elements per 4 bytes;
//   - one buffer may be asked for vector lengths at most CALL_BUDGET_PER_BYTE times per byte.
// Charging a vector once matters: apache-arrow asks a footer for its record-batch vector's length
// once per batch, so charging every ask made a file of thousands of batches (10 M records) look
// corrupt (test/encoded-file-batches.test.ts).
import { ByteBuffer } from 'flatbuffers';

const ELEMENT_BUDGET_PER_BYTE = 64;
const ELEMENT_BUDGET_BASE = 4096;
const CALL_BUDGET_PER_BYTE = 64;

/** Thrown when a flatbuffer's lengths cannot be right; readers report the file as corrupt. */
export class CorruptFlatbufferError extends Error {
  override readonly name = 'CorruptFlatbufferError';
}

interface Spending {
  elements: number;
  calls: number;
  charged: Set<number>;
}

const spent = new WeakMap<ByteBuffer, Spending>();
const prototype = ByteBuffer.prototype as ByteBuffer & { __blindlinkGuarded?: true };

if (prototype.__blindlinkGuarded !== true) {
  const vectorLength = prototype.__vector_len;
  prototype.__vector_len = function guardedVectorLength(this: ByteBuffer, offset: number): number {
    const length = vectorLength.call(this, offset);
    const capacity = this.capacity();
    if (!(length >= 0 && length <= capacity)) throw new CorruptFlatbufferError(`a vector of ${length} entries in ${capacity} bytes`);
    let spending = spent.get(this);
    if (spending === undefined) {
      spending = { elements: 0, calls: 0, charged: new Set() };
      spent.set(this, spending);
    }
    if (++spending.calls > ELEMENT_BUDGET_BASE + CALL_BUDGET_PER_BYTE * capacity) throw new CorruptFlatbufferError(`more than ${spending.calls} vector reads from ${capacity} bytes`);
    if (!spending.charged.has(offset)) {
      spending.charged.add(offset);
      spending.elements += length;
      if (spending.elements > ELEMENT_BUDGET_BASE + ELEMENT_BUDGET_PER_BYTE * capacity) throw new CorruptFlatbufferError(`more than ${spending.elements} vector entries read from ${capacity} bytes`);
    }
    return length;
  };
  prototype.__blindlinkGuarded = true;
}

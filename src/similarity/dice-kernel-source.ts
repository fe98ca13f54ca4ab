// The Dice kernel's source: a WebAssembly instruction listing generated for one filter length and
// set of early-exit checkpoints, register-blocked so each A word is loaded once and ANDed with
// BLOCK B filters. Encoded to bytes by wasm-binary.ts at load time.
import { encodeModule, I32, I64, op, V128, type Instruction, type ValueType } from './wasm-binary.js';

/**
 * `i64`: scalar `i64.popcnt` per 8-byte word (V8 emits one POPCNT), with early exits.
 * `simd`: `i8x16.popcnt` per 16 bytes with byte-lane accumulators, no early exits (needs
 * filters a multiple of 128 bits). bench/match.ts compares them.
 */
export type KernelVariant = 'i64' | 'simd';

/** B filters compared per pass over the A filter's words. Four keeps every accumulator in a register. */
export const BLOCK = 4;

/**
 * Bytes of per-filter metadata the kernel reads: u16 popcount, then u16 popcounts of the words
 * after each checkpoint (see defaultCheckpoints), padded to 8 bytes.
 */
export const META_BYTES = 8;
export const MAX_CHECKPOINTS = 3;

/**
 * Word indices after which the i64 kernel stops a block early when no pair in it can still
 * reach the threshold: |A∧B| <= (count so far) + min(|A rest|, |B rest|), an upper bound, so the
 * exit is exact. This default suits random pairs at 50-70% fill and threshold 0.8; the matcher
 * tunes them on a sample of its inputs (checkpoints.ts).
 */
export function defaultCheckpoints(filterBits: number): number[] {
  const words = filterBits / 64;
  const points = [Math.floor(words / 2), Math.floor((3 * words) / 4)].filter((w) => w > 0 && w < words);
  return [...new Set(points)];
}

/** Checks that checkpoints are ascending word indices strictly inside the filter, at most MAX_CHECKPOINTS. */
export function validCheckpoints(filterBits: number, checkpoints: readonly number[]): boolean {
  const words = filterBits / 64;
  return (
    checkpoints.length <= MAX_CHECKPOINTS &&
    checkpoints.every((w, i) => Number.isInteger(w) && w > 0 && w < words && (i === 0 || w > checkpoints[i - 1]))
  );
}

// Parameters of `scan`.
const A_PTR = 0;
const A_META = 1;
const B_PTR = 2;
const B_META = 3;
const COUNT = 4;
const ROW_TABLE = 5;
const OUT_PTR = 6;
// i32 locals.
const J = 7;
const N = 8;
const C = 9;
const NEED = 10;
const ANY = 11;
const REST_A = 12; // MAX_CHECKPOINTS of them
const LEAST = REST_A + MAX_CHECKPOINTS; // BLOCK of them: least qualifying count per pair
const WORD_OFFSET = LEAST + BLOCK; // byte offset of the current word in a word loop
const A_WORD = WORD_OFFSET + 1;
const B_WORD = WORD_OFFSET + 2;
const I32_LOCALS = B_WORD + 1 - J;
const VARIANT_LOCAL = B_WORD + 1;

/**
 * Words per word-loop iteration. With fully unrolled straight-line code TurboFan hoisted every
 * load to the top of the block and spilled accumulators (seen with node --print-wasm-code); a
 * one-word loop keeps them in registers and measured faster (about 165 -> 200 M pairs per
 * CPU-second at 50% fill; 2 words per iteration spilled again).
 */
export const WORDS_PER_ITERATION = 1;

interface Emitted {
  code: Instruction[];
  locals: ValueType[];
}

/** LEAST[k] = rowTable[|B_k|], the least AND-popcount that reaches the threshold for this pair. */
function emitLeast(block: number): Instruction[] {
  const code: Instruction[] = [];
  for (let k = 0; k < block; k++) {
    code.push(
      op.localGet(ROW_TABLE),
      op.localGet(B_META), op.i32Load16U(META_BYTES * k), op.i32Const(2), op.i32Shl(),
      op.i32Add(), op.i32Load(), op.localSet(LEAST + k),
    );
  }
  return code;
}

/** Records (j + k, c) when c >= LEAST[k]; c is on the stack. */
function emitRecord(k: number): Instruction[] {
  const outAddress = [op.localGet(OUT_PTR), op.localGet(N), op.i32Const(3), op.i32Shl(), op.i32Add()];
  return [
    op.localSet(C),
    op.localGet(C), op.localGet(LEAST + k), op.i32GeU(),
    op.if(),
    ...outAddress, op.localGet(J), op.i32Const(k), op.i32Add(), op.i32Store(0),
    ...outAddress, op.localGet(C), op.i32Store(4),
    op.localGet(N), op.i32Const(1), op.i32Add(), op.localSet(N),
    op.end(),
  ];
}

/**
 * Leaves the enclosing block (depth 0) when no pair can reach its LEAST any more. With
 * d = count - LEAST, pair k can still qualify iff d + |A rest| >= 0 and d + |B rest| >= 0, i.e.
 * iff u_k = (d + |A rest|) | (d + |B rest|) has a clear sign bit; the block goes on iff the AND of
 * all u_k does. Sign-bit arithmetic keeps this to a few instructions per pair.
 */
function emitCheckpoint(index: number, block: number, count: (k: number) => Instruction[]): Instruction[] {
  const code: Instruction[] = [];
  for (let k = 0; k < block; k++) {
    code.push(
      ...count(k), op.localGet(LEAST + k), op.i32Sub(), op.localTee(NEED),
      op.localGet(REST_A + index), op.i32Add(),
      op.localGet(NEED), op.localGet(B_META), op.i32Load16U(META_BYTES * k + 2 + 2 * index), op.i32Add(),
      op.i32Or(),
    );
    if (k > 0) code.push(op.localGet(ANY), op.i32And());
    code.push(op.localSet(ANY));
  }
  code.push(op.localGet(ANY), op.i32Const(0), op.i32LtS(), op.brIf(0));
  return code;
}

/** AND-popcounts of the A filter with `block` consecutive B filters, scalar i64 words. */
function emitI64Block(words: number, stride: number, block: number, checkpoints: readonly number[]): Emitted {
  const a = VARIANT_LOCAL;
  const acc = (k: number): number => VARIANT_LOCAL + 1 + k;
  const count = (k: number): Instruction[] => [op.localGet(acc(k)), op.i32WrapI64()];
  // One word of A against word `offset` of each B filter, from base pointers in locals.
  const word = (aBase: number, bBase: number, offset: number): Instruction[] => {
    const code: Instruction[] = [op.localGet(aBase), op.i64Load(offset), op.localSet(a)];
    for (let k = 0; k < block; k++) {
      code.push(
        op.localGet(acc(k)),
        op.localGet(bBase), op.i64Load(offset + k * stride), op.localGet(a), op.i64And(), op.i64Popcnt(),
        op.i64Add(), op.localSet(acc(k)),
      );
    }
    return code;
  };
  const segment = (start: number, end: number): Instruction[] => {
    const loops = Math.floor((end - start) / WORDS_PER_ITERATION);
    const code: Instruction[] = [];
    if (loops > 1) {
      const loopEnd = start + loops * WORDS_PER_ITERATION;
      code.push(op.i32Const(8 * start), op.localSet(WORD_OFFSET), op.loop());
      code.push(op.localGet(A_PTR), op.localGet(WORD_OFFSET), op.i32Add(), op.localSet(A_WORD));
      code.push(op.localGet(B_PTR), op.localGet(WORD_OFFSET), op.i32Add(), op.localSet(B_WORD));
      for (let u = 0; u < WORDS_PER_ITERATION; u++) code.push(...word(A_WORD, B_WORD, 8 * u));
      code.push(
        op.localGet(WORD_OFFSET), op.i32Const(8 * WORDS_PER_ITERATION), op.i32Add(), op.localTee(WORD_OFFSET),
        op.i32Const(8 * loopEnd), op.i32LtU(), op.brIf(0), op.end(),
      );
      start = loopEnd;
    }
    for (let w = start; w < end; w++) code.push(...word(A_PTR, B_PTR, 8 * w));
    return code;
  };
  const code: Instruction[] = [op.block(), ...emitLeast(block)];
  for (let k = 0; k < block; k++) code.push(op.i64Const0(), op.localSet(acc(k)));
  const bounds = [0, ...checkpoints, words];
  for (let i = 0; i + 1 < bounds.length; i++) {
    if (i > 0) code.push(...emitCheckpoint(i - 1, block, count));
    code.push(...segment(bounds[i], bounds[i + 1]));
  }
  for (let k = 0; k < block; k++) code.push(...count(k), ...emitRecord(k));
  code.push(op.end());
  return { code, locals: [I64, ...new Array<ValueType>(block).fill(I64)] };
}

// A byte lane gains at most 8 per 16-byte chunk, so 31 chunks fit in a u8 before widening.
const CHUNKS_PER_FLUSH = 31;

/** Same with `i8x16.popcnt` on 16-byte chunks, widened to i32 lanes every 31 chunks. */
function emitSimdBlock(chunks: number, stride: number, block: number): Emitted {
  const a = VARIANT_LOCAL;
  const acc = (k: number): number => VARIANT_LOCAL + 1 + k;
  const wide = (k: number): number => VARIANT_LOCAL + 1 + block + k;
  const widen = (k: number, first: boolean): Instruction[] => [
    ...(first ? [] : [op.localGet(wide(k))]),
    op.localGet(acc(k)),
    op.i16x8ExtaddPairwiseI8x16U(),
    op.i32x4ExtaddPairwiseI16x8U(),
    ...(first ? [] : [op.i32x4Add()]),
    op.localSet(wide(k)),
  ];
  const code: Instruction[] = [op.block(), ...emitLeast(block)];
  for (let q = 0; q < chunks; q++) {
    const startsRun = q % CHUNKS_PER_FLUSH === 0;
    code.push(op.localGet(A_PTR), op.v128Load(16 * q), op.localSet(a));
    for (let k = 0; k < block; k++) {
      if (!startsRun) code.push(op.localGet(acc(k)));
      code.push(op.localGet(a), op.localGet(B_PTR), op.v128Load(16 * q + k * stride), op.v128And(), op.i8x16Popcnt());
      if (!startsRun) code.push(op.i8x16Add());
      code.push(op.localSet(acc(k)));
    }
    const endsRun = (q + 1) % CHUNKS_PER_FLUSH === 0 || q + 1 === chunks;
    if (endsRun) for (let k = 0; k < block; k++) code.push(...widen(k, q < CHUNKS_PER_FLUSH));
  }
  for (let k = 0; k < block; k++) {
    code.push(
      op.localGet(wide(k)), op.i32x4ExtractLane(0),
      op.localGet(wide(k)), op.i32x4ExtractLane(1), op.i32Add(),
      op.localGet(wide(k)), op.i32x4ExtractLane(2), op.i32Add(),
      op.localGet(wide(k)), op.i32x4ExtractLane(3), op.i32Add(),
      ...emitRecord(k),
    );
  }
  code.push(op.end());
  return { code, locals: [V128, ...new Array<ValueType>(2 * block).fill(V128)] };
}

/** Moves j and the B filter and metadata pointers past `block` filters. */
function advance(filterBytes: number, block: number): Instruction[] {
  return [
    op.localGet(J), op.i32Const(block), op.i32Add(), op.localSet(J),
    op.localGet(B_PTR), op.i32Const(block * filterBytes), op.i32Add(), op.localSet(B_PTR),
    op.localGet(B_META), op.i32Const(block * META_BYTES), op.i32Add(), op.localSet(B_META),
  ];
}

/**
 * The module for `filterBits`-bit filters. Its one export,
 * `scan(aPtr, aMetaPtr, bPtr, bMetaPtr, count, rowTablePtr, outPtr) -> n`, compares the A filter
 * at aPtr with `count` consecutive B filters at bPtr and writes the n qualifying pairs as i32
 * pairs (offset in the run, AND-popcount) at outPtr. Metadata records are META_BYTES each;
 * rowTablePtr points at threshold-table entry |A|, so rowTable[|B|] = table[|A| + |B|]. The
 * metadata must have been written for the same checkpoints (writeFilterMeta).
 */
export function diceKernelModule(
  filterBits: number,
  variant: KernelVariant,
  checkpoints: readonly number[] = defaultCheckpoints(filterBits),
): Uint8Array {
  if (!validCheckpoints(filterBits, checkpoints)) throw new RangeError(`bad checkpoints ${checkpoints.join(',')} for ${filterBits} bits`);
  const filterBytes = filterBits / 8;
  const emit = (block: number): Emitted =>
    variant === 'i64'
      ? emitI64Block(filterBytes / 8, filterBytes, block, checkpoints)
      : emitSimdBlock(filterBytes / 16, filterBytes, block);
  const main = emit(BLOCK);
  const tail = emit(1);
  const prologue: Instruction[] = [];
  for (let i = 0; i < MAX_CHECKPOINTS; i++) {
    prologue.push(op.localGet(A_META), op.i32Load16U(2 + 2 * i), op.localSet(REST_A + i));
  }
  const body: Instruction[] = [
    ...prologue,
    op.block(),
    op.loop(),
    op.localGet(J), op.i32Const(BLOCK), op.i32Add(), op.localGet(COUNT), op.i32GtU(), op.brIf(1),
    ...main.code,
    ...advance(filterBytes, BLOCK),
    op.br(0),
    op.end(),
    op.end(),
    op.block(),
    op.loop(),
    op.localGet(J), op.localGet(COUNT), op.i32GeU(), op.brIf(1),
    ...tail.code,
    ...advance(filterBytes, 1),
    op.br(0),
    op.end(),
    op.end(),
    op.localGet(N),
  ];
  return encodeModule({
    // Any shared memory up to the wasm32 limit fits the import, so one compiled module serves all inputs.
    memory: { minPages: 1, maxPages: 65536, shared: true },
    functions: [
      {
        name: 'scan',
        params: [I32, I32, I32, I32, I32, I32, I32],
        results: [I32],
        locals: [...new Array<ValueType>(I32_LOCALS).fill(I32), ...main.locals],
        body,
      },
    ],
  });
}

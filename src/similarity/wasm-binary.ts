// A minimal WebAssembly binary writer: just enough of the spec (core 2.0 binary format, §5) to
// emit the Dice kernel from a readable instruction listing at load time, so the repository holds
// the kernel's source and no opaque .wasm blob or build-time toolchain.

/** Numeric value types (spec §5.3.1). */
export const I32 = 0x7f;
export const I64 = 0x7e;
export const V128 = 0x7b;
export type ValueType = typeof I32 | typeof I64 | typeof V128;

/** One instruction: its opcode bytes followed by immediates, already encoded. */
export type Instruction = readonly number[];

/** Unsigned LEB128 (spec §5.2.2). */
export function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 for 32-bit constants. */
export function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

// Memory access immediates: alignment exponent, then a constant byte offset folded into the
// address, which lets an unrolled loop address every word from one base pointer.
const memarg = (alignLog2: number, offset: number): number[] => [...uleb(alignLog2), ...uleb(offset)];
const simd = (code: number, ...immediates: number[]): Instruction => [0xfd, ...uleb(code), ...immediates];

/** The instructions the kernel needs, named as in the spec's text format. */
export const op = {
  block: (): Instruction => [0x02, 0x40],
  loop: (): Instruction => [0x03, 0x40],
  if: (): Instruction => [0x04, 0x40],
  end: (): Instruction => [0x0b],
  br: (depth: number): Instruction => [0x0c, ...uleb(depth)],
  brIf: (depth: number): Instruction => [0x0d, ...uleb(depth)],
  localGet: (index: number): Instruction => [0x20, ...uleb(index)],
  localSet: (index: number): Instruction => [0x21, ...uleb(index)],
  localTee: (index: number): Instruction => [0x22, ...uleb(index)],
  i32Load: (offset = 0): Instruction => [0x28, ...memarg(2, offset)],
  i64Load: (offset = 0): Instruction => [0x29, ...memarg(3, offset)],
  i32Load16U: (offset = 0): Instruction => [0x2f, ...memarg(1, offset)],
  i32Store: (offset = 0): Instruction => [0x36, ...memarg(2, offset)],
  i32Const: (value: number): Instruction => [0x41, ...sleb(value)],
  i64Const0: (): Instruction => [0x42, 0x00],
  i32Eqz: (): Instruction => [0x45],
  i32LtS: (): Instruction => [0x48],
  i32GtU: (): Instruction => [0x4b],
  i32GeU: (): Instruction => [0x4f],
  i32LtU: (): Instruction => [0x49],
  i32Add: (): Instruction => [0x6a],
  i32Sub: (): Instruction => [0x6b],
  i32And: (): Instruction => [0x71],
  i32Or: (): Instruction => [0x72],
  i32Shl: (): Instruction => [0x74],
  i64Popcnt: (): Instruction => [0x7b],
  i64Add: (): Instruction => [0x7c],
  i64And: (): Instruction => [0x83],
  i32WrapI64: (): Instruction => [0xa7],
  v128Load: (offset = 0): Instruction => simd(0x00, ...memarg(4, offset)),
  v128Const0: (): Instruction => simd(0x0c, ...new Array<number>(16).fill(0)),
  i32x4ExtractLane: (lane: number): Instruction => simd(0x1b, lane),
  v128And: (): Instruction => simd(0x4e),
  i8x16Popcnt: (): Instruction => simd(0x62),
  i8x16Add: (): Instruction => simd(0x6e),
  i16x8ExtaddPairwiseI8x16U: (): Instruction => simd(0x7d),
  i32x4ExtaddPairwiseI16x8U: (): Instruction => simd(0x7f),
  i32x4Add: (): Instruction => simd(0xae),
} as const;

export interface FunctionSpec {
  name: string;
  params: ValueType[];
  results: ValueType[];
  /** Extra locals after the parameters, in order. */
  locals: ValueType[];
  body: Instruction[];
}

export interface ModuleSpec {
  /** Imported as env.memory; `shared` memories need a maximum (threads proposal). */
  memory: { minPages: number; maxPages: number; shared: boolean };
  functions: FunctionSpec[];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...uleb(bytes.length), ...bytes];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function localDecls(locals: ValueType[]): number[] {
  // Runs of equal types collapse into one (count, type) entry.
  const runs: number[][] = [];
  for (const type of locals) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[1] === type) last[0]++;
    else runs.push([1, type]);
  }
  return vec(runs.map(([count, type]) => [...uleb(count), type]));
}

/** Encodes a module that imports one memory and exports the given functions. */
export function encodeModule(spec: ModuleSpec): Uint8Array {
  const { minPages, maxPages, shared } = spec.memory;
  const types = spec.functions.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))]);
  const limits = [shared ? 0x03 : 0x01, ...uleb(minPages), ...uleb(maxPages)];
  const imports = vec([[...name('env'), ...name('memory'), 0x02, ...limits]]);
  const funcs = vec(spec.functions.map((_, i) => uleb(i)));
  const exports = vec(spec.functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]));
  const codes = vec(
    spec.functions.map((f) => {
      const body = [...localDecls(f.locals), ...f.body.flat(), 0x0b];
      return [...uleb(body.length), ...body];
    }),
  );
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, codes),
  ]);
}

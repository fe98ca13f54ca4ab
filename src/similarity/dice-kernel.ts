// Compiles the WebAssembly Dice kernel (dice-kernel-source.ts) once per filter length and variant
// and binds it to a shared WebAssembly.Memory, so every worker thread scans the same filters.
import { defaultCheckpoints, diceKernelModule, type KernelVariant } from './dice-kernel-source.js';
import { wasm, type WasmMemory, type WasmModule } from './wasm-api.js';

/** Compares one A filter with a run of B filters; see diceKernelModule for the arguments. */
export type ScanFunction = (
  aPtr: number,
  aMetaPtr: number,
  bPtr: number,
  bMetaPtr: number,
  count: number,
  rowTablePtr: number,
  outPtr: number,
) => number;

const modules = new Map<string, WasmModule>();

/** Longest filter the kernel takes: popcounts travel as u16 in the per-filter metadata. */
export const MAX_FILTER_BITS = 32768;

/** Whether the kernel handles this filter length: whole 64-bit words (128-bit chunks for simd). */
export function kernelSupports(filterBits: number, variant: KernelVariant): boolean {
  const unit = variant === 'i64' ? 64 : 128;
  return Number.isInteger(filterBits) && filterBits > 0 && filterBits % unit === 0 && filterBits <= MAX_FILTER_BITS;
}

/**
 * The compiled module for `filterBits`-bit filters and these early-exit checkpoints, cached per
 * process. `i64` is the default: bench/match.ts measured it fastest, as V8 maps `i64.popcnt` to one
 * POPCNT while `i8x16.popcnt` becomes a shuffle sequence on x64 without AVX-512.
 */
export function compileDiceKernel(
  filterBits: number,
  variant: KernelVariant = 'i64',
  checkpoints: readonly number[] = defaultCheckpoints(filterBits),
): WasmModule {
  if (!kernelSupports(filterBits, variant)) throw new RangeError(`no ${variant} Dice kernel for ${filterBits}-bit filters`);
  const key = `${variant}:${filterBits}:${checkpoints.join(',')}`;
  let module = modules.get(key);
  if (module === undefined) {
    module = new wasm.Module(diceKernelModule(filterBits, variant, checkpoints));
    modules.set(key, module);
  }
  return module;
}

/**
 * A scan function over `memory` (which must be shared, as the module imports it so).
 *
 * @example
 * const memory = new wasm.Memory({ initial: 1, maximum: 1, shared: true });
 * const scan = instantiateDiceKernel(compileDiceKernel(1024), memory);
 */
export function instantiateDiceKernel(module: WasmModule, memory: WasmMemory): ScanFunction {
  const instance = new wasm.Instance(module, { env: { memory } });
  return instance.exports.scan as ScanFunction;
}

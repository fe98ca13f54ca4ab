// Typed access to the WebAssembly JS API. The project compiles against lib ES2022 + @types/node 20,
// neither of which declares the WebAssembly global, so the few members used here are typed locally.

/** A (shared) linear memory; `buffer` is a SharedArrayBuffer when created with `shared: true`. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

/** A compiled module: opaque, cloneable to worker threads. */
export type WasmModule = object;

interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}

export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Bytes per WebAssembly page. */
export const PAGE_BYTES = 65536;

// Our wasm SIMD modules that work in the wasm backend's own memory (packages/engine/assembly/,
// built with importMemory): each is instantiated once per backend memory (each data-parallel
// worker has its own) and its functions take tensors' heap offsets, so they read and write
// tensors where they lie. Where a module cannot be instantiated (no wasm SIMD, or a backend build
// whose memory is not reachable) the caller's plain JavaScript path serves.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo } from '@tensorflow/tfjs-core';

// The few WebAssembly globals used here (the project's TypeScript libs declare no WebAssembly).
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
};

interface WasmInternals {
  wasm: { asm?: { memory?: object } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

/** One module's compiled form and its instances, keyed by backend memory. */
export class BackendMemoryModule<T> {
  private compiled: object | null | undefined;
  private readonly instances = new WeakMap<object, T | null>();

  constructor(private readonly base64: string) {}

  /** The module bound to this backend's memory; null where it cannot run. */
  on(backend: BackendWasm): T | null {
    const memory = (backend as unknown as WasmInternals).wasm?.asm?.memory;
    if (!memory) return null;
    let inst = this.instances.get(memory);
    if (inst !== undefined) return inst;
    try {
      if (this.compiled === undefined) this.compiled = new WebAssembly.Module(Uint8Array.from(atob(this.base64), (c) => c.charCodeAt(0)));
      inst = this.compiled ? (new WebAssembly.Instance(this.compiled, { env: { memory } }).exports as T) : null;
    } catch {
      this.compiled ??= null;
      inst = null;
    }
    this.instances.set(memory, inst);
    return inst;
  }
}

/** A tensor's byte offset in the wasm backend's memory. */
export function heapOffset(backend: BackendWasm, info: TensorInfo): number {
  const d = (backend as unknown as WasmInternals).dataIdMap.get(info.dataId);
  if (!d) throw new Error('@qtdog/engine: tensor data not found on the wasm backend');
  return d.memoryOffset;
}

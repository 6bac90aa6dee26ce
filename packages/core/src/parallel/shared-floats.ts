/**
 * Named float32 arrays laid out one after another in a SharedArrayBuffer. Data-parallel threads
 * exchange weights, gradients and BatchNorm statistics this way: posting a SharedArrayBuffer shares
 * it instead of copying or detaching it, so each side writes once and the other reads in place.
 * A block is plain data (it crosses postMessage as is); who may write it when is the protocol's
 * business (see data-parallel.ts: the main thread writes weights only while every worker is idle,
 * a worker writes its gradients only while it answers a request).
 */
export interface SharedEntry {
  name: string;
  /** In float32 elements from the start of the buffer. */
  offset: number;
  length: number;
  shape: number[];
}

export interface SharedFloats {
  buffer: SharedArrayBuffer;
  entries: SharedEntry[];
}

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Lays the arrays out in order; reuses `reuse` when it is large enough, else allocates. */
export function layoutShared(items: ReadonlyArray<{ name: string; shape: readonly number[] }>, reuse?: SharedArrayBuffer): SharedFloats {
  let offset = 0;
  const entries = items.map(({ name, shape }) => {
    const e = { name, offset, length: sizeOf(shape), shape: [...shape] };
    offset += e.length;
    return e;
  });
  const bytes = offset * Float32Array.BYTES_PER_ELEMENT;
  const buffer = reuse && reuse.byteLength >= bytes ? reuse : new SharedArrayBuffer(Math.max(bytes, 4));
  return { buffer, entries };
}

/** The entry's elements, a view into the shared buffer (no copy). */
export function sharedView(block: SharedFloats, entry: SharedEntry): Float32Array {
  return new Float32Array(block.buffer, entry.offset * Float32Array.BYTES_PER_ELEMENT, entry.length);
}

/** Views by name. */
export function sharedViews(block: SharedFloats): Map<string, Float32Array> {
  return new Map(block.entries.map((e) => [e.name, sharedView(block, e)]));
}

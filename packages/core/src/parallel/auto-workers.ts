// How many data-parallel workers `workers: auto` starts.
//
// Pure wasm is single-threaded, so one worker per core is the only way to use them all. The
// native oneDNN kernels run multithreaded inside one thread; measured side by side (docs/benchmarks.md,
// "workers: auto with oneDNN"), PLACEHOLDER.
export function autoWorkers(cores: number, nativeKernels: boolean): number {
  if (nativeKernels) return cores;
  return cores;
}

// How many data-parallel workers `workers: auto` starts: one per core, on pure wasm and with the
// native oneDNN kernels alike.
//
// Pure wasm is single-threaded, so one worker per core is the only way to use them all. With
// oneDNN, one worker could instead run 2 oneDNN threads; measured side by side on 2 cores
// (docs/benchmarks.md, "The native engine"), 2 workers x 1 oneDNN thread trained MNIST_CNN
// 1.1-1.5x faster than 1 worker x 2 threads (ResNet-18: 0.92x), because everything around the
// convolutions (GroupNorm, elementwise ops, Adam, the tape) runs on one thread per worker. An algorithm without
// data-parallel support keeps one worker, and its oneDNN kernels then get all the cores.
export function autoWorkers(cores: number, _nativeKernels: boolean): number {
  return cores;
}

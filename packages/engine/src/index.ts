export { registerWasmTrainingKernels } from './wasm-conv-kernels';

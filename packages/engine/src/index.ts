// @qtdog/engine: TensorFlow.js backend selection, wasm training kernels, custom ops.
export {
  selectBackend,
  currentBackend,
  engineDescription,
  resolvedPreference,
  type BackendName,
  type BackendPreference,
  type BackendOptions,
} from './backend';
export { nativeKernels, type NativeKernels } from './native-kernels';
export { registerGradients } from './gradients';
export { registerWasmTrainingKernels } from './wasm-conv-kernels';
export { groupNorm, groupNormWithStats } from './group-norm';
export { conv2dBiasRelu } from './conv-bias-relu';
export { adamUpdate, adamUpdateOps, type AdamStep } from './adam-update';
export { readFloats } from './read-floats';
export { weightedSum } from './weighted-sum';
export { setFilterGradKernel, filterGradKernel, type FilterGradKernel } from './simd-filter-grad';
export { setGroupNormKernel } from './simd-group-norm';
export { setDirectConvMode, directConvMode, type DirectConvMode } from './direct-conv';

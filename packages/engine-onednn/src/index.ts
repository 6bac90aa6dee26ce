// @qtdog/engine-onednn: oneDNN kernels for TensorFlow.js's wasm backend (native, multithreaded).
export { registerOneDnnKernels, unregisterOneDnnKernels, oneDnnAvailable, type OneDnnStatus, type OneDnnOptions } from './register-onednn-kernels';
export { fallbackCounts } from './kernel-slot';
export { loadAddon, ENABLE_HINT, type OneDnnAddon } from './native-addon';
export { convGeometry, conv2DInfo } from './conv-geometry';

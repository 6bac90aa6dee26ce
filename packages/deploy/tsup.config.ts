import { defineConfig } from 'tsup';

export default defineConfig({
  // runtime: the Node runtime alone (onnxruntime-node, sharp, protobufjs), for apps that only run a model.
  entry: { index: 'src/index.ts', runtime: 'src/runtime/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  shims: true,
});

import { defineConfig } from 'tsup';

export default defineConfig({
  // The worker thread entry is its own file: worker_threads load it by path.
  entry: { index: 'src/index.ts', 'gradient-worker': 'src/parallel/gradient-worker.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});

import { defineConfig } from 'tsup';

export default defineConfig({
  // tfjs-layers: the GroupNorm layer alone (tfjs-core and tfjs-layers only), for browser apps that
  // load a `qtdog export --format tfjs` model.
  entry: { index: 'src/index.ts', 'tfjs-layers': 'src/tfjs/group-norm-layer.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});

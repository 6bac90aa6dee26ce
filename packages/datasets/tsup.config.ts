import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  esbuildOptions(options) {
    // package-dir.ts reads import.meta.url only when it exists and uses __filename in the CJS build
    // (tested in package-dir.test.ts), so esbuild's empty-import-meta warning is expected there.
    options.logOverride = { ...options.logOverride, 'empty-import-meta': 'silent' };
  },
});

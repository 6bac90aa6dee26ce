import { defineConfig } from 'vitest/config';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';

// Tests import workspace packages from their sources, so `vitest` needs no prior build.
const packages = readdirSync(resolve(__dirname, 'packages'));
const alias = Object.fromEntries(
  packages.map((p) => [`@qtdog/${p}`, resolve(__dirname, `packages/${p}/src/index.ts`)]),
);

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // A TMPDIR per test file, removed when it ends (tests/setup/temp-dirs.ts).
    setupFiles: ['tests/setup/temp-dirs.ts'],
    reporters: ['default'],
  },
});

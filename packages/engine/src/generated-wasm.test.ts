import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build tool without type declarations
import { compileKernel, generatedModule } from '../../../tools/kernels/build-wasm.mjs';

const ROOT = resolve(__dirname, '../../..');
const sources = readdirSync(join(ROOT, 'packages/engine/assembly')).filter((f) => f.endsWith('.ts'));

// The wasm binaries are committed (users need no compiler); this keeps them honest: each one must be
// exactly what its AssemblyScript source compiles to.
describe('generated wasm kernels', () => {
  it('there is at least one kernel source', () => {
    expect(sources.length).toBeGreaterThan(0);
  });

  it.each(sources)('%s: the committed binary is what the source compiles to', async (file) => {
    const name = file.replace(/\.ts$/, '');
    const binary = await compileKernel(join(ROOT, 'packages/engine/assembly', file));
    expect(WebAssembly.validate(binary)).toBe(true);
    const committed = readFileSync(join(ROOT, `packages/engine/src/generated/${name}-wasm.ts`), 'utf8');
    expect(committed).toBe(generatedModule(name, binary));
  }, 60_000);
});

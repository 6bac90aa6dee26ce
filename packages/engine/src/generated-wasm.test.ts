import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build tool without type declarations
import { compileKernel, generatedModule, IMPORTS_BACKEND_MEMORY } from '../../../tools/kernels/build-wasm.mjs';

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
    if ((IMPORTS_BACKEND_MEMORY as Set<string>).has(name)) {
      // It runs in the backend's memory: it must import it, and a data segment would be written
      // over the backend's tensors at instantiation.
      expect(WebAssembly.Module.imports(new WebAssembly.Module(binary))).toContainEqual({ module: 'env', name: 'memory', kind: 'memory' });
      expect(sectionIds(binary)).not.toContain(11);
    }
  }, 60_000);
});

/** The ids of a wasm binary's sections (11 is the data section). */
function sectionIds(binary: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8; // magic and version
  while (at < binary.length) {
    ids.push(binary[at++]!);
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = binary[at++]!;
      size |= (byte & 0x7f) << shift;
      if (byte < 0x80) break;
    }
    at += size;
  }
  return ids;
}

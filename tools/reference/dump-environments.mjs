// Writes a dataset's environments and qtdog's in/out splits to a folder of raw arrays, so the
// PyTorch reference (domainbed_erm.py) trains on exactly the same images and splits.
// Usage: node tools/reference/dump-environments.mjs <config.yaml> <out-dir>
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPluginContainer, loadConfigFile, bindRunComponents, DatasetToken, splitEnvironment } from '@qtdog/core';
import { builtinModules } from '@qtdog/cli';

const [configPath, outDir] = process.argv.slice(2);
const loaded = loadConfigFile(configPath);
const { container, registry } = createPluginContainer(builtinModules());
const config = bindRunComponents(container, registry, loaded, outDir, () => {});
const dataset = await container.getAsync(DatasetToken);
const envs = await dataset.load();
mkdirSync(outDir, { recursive: true });
const meta = { name: dataset.name, inputShape: dataset.inputShape, numClasses: dataset.numClasses, testEnvs: config.dataset.testEnvs, environments: [] };
for (const [i, env] of envs.entries()) {
  const all = Int32Array.from({ length: env.size }, (_, k) => k);
  const b = await env.read(all, 'eval');
  const split = splitEnvironment(env.size, config.dataset.holdoutFraction, config.trialSeed, i);
  writeFileSync(join(outDir, `env${i}_x.f32`), Buffer.from(b.x.buffer, b.x.byteOffset, b.x.byteLength));
  writeFileSync(join(outDir, `env${i}_y.i32`), Buffer.from(b.y.buffer, b.y.byteOffset, b.y.byteLength));
  writeFileSync(join(outDir, `env${i}_in.i32`), Buffer.from(split.in.buffer));
  writeFileSync(join(outDir, `env${i}_out.i32`), Buffer.from(split.out.buffer));
  meta.environments.push({ name: env.name, size: env.size });
}
writeFileSync(join(outDir, 'meta.json'), JSON.stringify(meta, null, 2));
console.log(`wrote ${envs.length} environments to ${outDir}`);

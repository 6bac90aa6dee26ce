/** Names a plugin package's files and identifiers are made from: `my-plugin` -> `MyPlugin`, `myPlugin`. */
export interface PluginNames {
  /** The package (and folder) name, e.g. `my-plugin`. */
  pkg: string;
  /** The plugin's type name in configs, e.g. `MyPlugin`. */
  type: string;
  /** The identifier prefix in code, e.g. `myPlugin`. */
  ident: string;
}

export function pluginNames(pkg: string): PluginNames {
  const words = pkg.replace(/^@[^/]+\//, '').split(/[-_.]+/).filter(Boolean);
  const type = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return { pkg, type, ident: type[0]!.toLowerCase() + type.slice(1) };
}

/**
 * The files of a new algorithm plugin package, by path. `coreSpec` is how package.json names
 * `@qtdog/core` for development: a `file:` link to a checkout, or a version range once published.
 */
export function pluginFiles(n: PluginNames, coreSpec: string, coreVersion: string): Record<string, string> {
  const file = n.pkg.replace(/^@[^/]+\//, '');
  return {
    'package.json': `${JSON.stringify(
      {
        name: n.pkg,
        version: '0.1.0',
        private: true,
        description: `A qtdog plugin: the ${n.type} algorithm`,
        type: 'module',
        main: './index.mjs',
        exports: { '.': './index.mjs', './package.json': './package.json' },
        files: ['index.mjs', `${file}.mjs`, 'config.yaml', 'README.md'],
        scripts: { test: `node --test test/${file}.test.mjs` },
        peerDependencies: { '@qtdog/core': `^${coreVersion}` },
        devDependencies: { '@qtdog/core': coreSpec },
      },
      null,
      2,
    )}\n`,
    [`${file}.mjs`]: `// ${n.type}: a qtdog algorithm plugin. It starts as ERM (Gulrajani & Lopez-Paz, arXiv 2007.01434):
// cross-entropy over the pooled minibatches of the training domains, one Adam step per update.
// Change update() into your method; what it returns (numbers) is logged at every checkpoint.
// Everything comes from @qtdog/core, zod's z and TensorFlow.js's tf included, so it is the one
// dependency: the schemas are the zod qtdog validates with, the tensors live in the run's engine.
import { Adam, BaseAlgorithmOptions, definePlugin, disposeAll, gradientsOf, NetworkToken, tf, z } from '@qtdog/core';

// lr, batchSize and weightDecay (every algorithm's) plus an option of our own. Each key has a
// default, so a config may name only \`type: ${n.type}\`; the range check turns \`lossWeight: -1\` into
// a one-line config error naming \`algorithm.lossWeight\`.
export const ${n.type}Options = BaseAlgorithmOptions.extend({
  /** Scales the loss (1 = plain ERM): an example of an option of your own. */
  lossWeight: z.number().positive().default(1),
});

/** Mean cross-entropy of logits against integer labels, times \`weight\` (functional tf ops only). */
export function weightedCrossEntropy(logits, labels, weight) {
  return tf.mul(tf.losses.softmaxCrossEntropy(tf.oneHot(labels, logits.shape[1]), logits), weight);
}

export class ${n.type} {
  name = '${n.type}';

  constructor(network, options) {
    this.network = network;
    this.options = options;
    this.optimizer = new Adam({ lr: options.lr, weightDecay: options.weightDecay });
  }

  /** One step on a minibatch of every training domain; every tensor made here is disposed here. */
  async update(minibatches) {
    const x = tf.concat(minibatches.map((m) => m.x));
    const y = tf.concat(minibatches.map((m) => m.y));
    const params = this.network.params.trainable();
    const { value, grads } = gradientsOf(() => weightedCrossEntropy(this.network.predict(x, true), y, this.options.lossWeight), params);
    this.optimizer.apply(params, grads);
    const loss = value.dataSync()[0];
    disposeAll(grads);
    tf.dispose([value, x, y]);
    return { loss };
  }

  predict(x) {
    return this.network.predict(x, false);
  }

  dispose() {
    this.optimizer.dispose();
  }
}

export const ${n.ident}Plugin = definePlugin({
  kind: 'algorithm',
  name: '${n.type}',
  description: 'ERM with a weighted loss (a template: change it into your method)',
  options: ${n.type}Options,
  async create(options, ctx) {
    return new ${n.type}(await ctx.container.getAsync(NetworkToken), options);
  },
});
`,
    'index.mjs': `// The package's entry: a config loads it with \`plugins: [./index.mjs]\` (or the package name once
// installed). qtdog uses every export that is an inversify ContainerModule, so there is exactly one.
import { pluginModule } from '@qtdog/core';
import { ${n.ident}Plugin } from './${file}.mjs';

export { ${n.ident}Plugin, ${n.type}, ${n.type}Options, weightedCrossEntropy } from './${file}.mjs';

// The first argument names this package in \`qtdog list\` and in duplicate-name errors.
export const ${n.ident}Module = pluginModule('${n.pkg}', [${n.ident}Plugin]);
`,
    'config.yaml': `# ${n.type} for 20 steps on synthetic domains (a few seconds): qtdog run config.yaml
plugins: [./index.mjs]
dataset: { type: SyntheticDomains, examplesPerDomain: 64, testEnvs: [0] }
network: { type: MNIST_CNN }
algorithm: { type: ${n.type}, batchSize: 16 }
train: { steps: 20, checkpointFreq: 10, backend: wasm, workers: 1 }
`,
    [`test/${file}.test.mjs`]: `// node --test (npm test): the plugin registers, its options validate, its loss is what it says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPluginContainer, resolveSection, selectBackend, tf } from '@qtdog/core';
import { ${n.ident}Module, weightedCrossEntropy } from '../index.mjs';

test('${n.type} is registered with its options and their defaults', () => {
  const { registry } = createPluginContainer([${n.ident}Module]);
  const section = resolveSection(registry, 'algorithm', { type: '${n.type}' }, ['algorithm'], 'config.yaml');
  assert.deepEqual(section.options, { lr: 0.001, batchSize: 64, weightDecay: 0, lossWeight: 1 });
  assert.throws(() => resolveSection(registry, 'algorithm', { type: '${n.type}', lossWeight: -1 }, ['algorithm'], 'config.yaml'), /algorithm\\.lossWeight/);
});

test('the loss is the cross-entropy times lossWeight (by hand: two equal logits give ln 2)', async () => {
  await selectBackend('cpu');
  const loss = tf.tidy(() => weightedCrossEntropy(tf.tensor2d([[0, 0]]), tf.tensor1d([1], 'int32'), 3).dataSync()[0]);
  assert.ok(Math.abs(loss - 3 * Math.LN2) < 1e-6, \`loss \${loss}\`);
});
`,
    'README.md': `# ${n.pkg}

A qtdog plugin package: the \`${n.type}\` algorithm (\`${file}.mjs\`), made by \`qtdog new plugin ${n.pkg}\`.

\`\`\`sh
npm install                              # @qtdog/core, the one dependency (see package.json)
npm test                                 # node --test test/
qtdog run config.yaml --out runs/try     # trains it for 20 steps on synthetic domains
qtdog list --plugins ./index.mjs         # its options, from its schema
\`\`\`

Use it from any config with \`plugins: [<path to this folder>/index.mjs]\` and \`algorithm: { type: ${n.type} }\`.
`,
  };
}

import { datasetOfConfig, evaluateOnnxModel, QtdogModel } from '@qtdog/deploy';
import { plainTable } from '../plain-table.js';
import { builtinModules } from '../builtin-modules.js';
import { asDataError } from './predict.js';

/**
 * `qtdog evaluate <model.onnx> <config>`: the exported model's accuracy on every environment of the
 * config's dataset, in and out splits as the trainer draws them, to compare with the trained run.
 */
export async function evaluateCommand(modelFile: string, configFile: string, opts: { json?: boolean }): Promise<void> {
  await asDataError(async () => {
    const model = await QtdogModel.load(modelFile);
    try {
      const { dataset, config } = await datasetOfConfig(configFile, builtinModules());
      const acc = await evaluateOnnxModel(model, dataset, config);
      if (opts.json) {
        process.stdout.write(JSON.stringify(acc, null, 2) + '\n');
        return;
      }
      const table = plainTable(['env', 'in acc', 'out acc', 'examples']);
      for (const a of acc) table.push([`env${a.env} ${a.name}${a.test ? ' (TEST)' : ''}`, (100 * a.inAcc).toFixed(2), (100 * a.outAcc).toFixed(2), String(a.n)]);
      const test = acc.filter((a) => a.test);
      const mean = test.reduce((s, a) => s + a.inAcc, 0) / Math.max(1, test.length);
      process.stdout.write(`${modelFile} (${model.metadata.quantization.weights}) on ${dataset.name}\n${table.toString()}\nTest-domain accuracy (in splits): ${(100 * mean).toFixed(2)}%\n`);
    } finally {
      await model.release();
    }
  });
}

import { DataError } from '@qtdog/core';
import { ModelInputError, QtdogModel } from '@qtdog/deploy';

/** Runtime input errors become data errors: the CLI prints them as one line. */
export async function asDataError<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof ModelInputError) throw new DataError(e.message);
    throw e;
  }
}

/** `qtdog predict <model.onnx> <images...>`: class and probability per image, with the model's own preprocessing. */
export async function predictCommand(modelFile: string, images: string[], opts: { json?: boolean; threads?: string }): Promise<void> {
  await asDataError(async () => {
    const model = await QtdogModel.load(modelFile, { threads: opts.threads ? Number(opts.threads) : undefined });
    try {
      const predictions = await model.predict(images);
      if (opts.json) {
        process.stdout.write(JSON.stringify(images.map((file, i) => ({ file, ...predictions[i]! })), null, 2) + '\n');
        return;
      }
      const width = Math.max(...images.map((f) => f.length));
      for (const [i, p] of predictions.entries()) {
        process.stdout.write(`${images[i]!.padEnd(width)}  ${p.className}  ${(100 * p.probability).toFixed(1)}%\n`);
      }
    } finally {
      await model.release();
    }
  });
}

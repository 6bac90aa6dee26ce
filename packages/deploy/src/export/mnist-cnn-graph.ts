import type { LayerWriter } from './layer-writer.js';

/**
 * MNIST_CNN (SPEC.md) as ONNX: four 3x3 convs (pad 1; the second stride 2), each ReLU then
 * GroupNorm, global average pooling, the dense classifier. Activation points: `input`, each
 * `featurizer.relu<i>` (the network's own activation sites) and `featurizer.gn<i>`, the next conv's input.
 */
export function writeMnistCnn(w: LayerWriter, input: string, options: Record<string, unknown>): string {
  const groups = (options.groups as number | undefined) ?? 8;
  let h = w.activation('input', input);
  for (let i = 1; i <= 4; i++) {
    const conv = `featurizer.conv${i}`;
    h = w.conv(h, conv, `${conv}.weight`, { stride: i === 2 ? 2 : 1, pad: 1, bias: w.floats(`${conv}.bias`) });
    h = w.activation(`featurizer.relu${i}`, w.relu(h, `featurizer.relu${i}`));
    const gn = `featurizer.gn${i}`;
    h = w.groupNorm(h, gn, groups, w.floats(`${gn}.gamma`), w.floats(`${gn}.beta`));
    // The last GroupNorm feeds the float pooling and classifier, not a conv: no quantization point.
    if (i < 4) h = w.activation(gn, h);
  }
  return w.dense(w.globalAveragePool(h, 'featurizer.pool'), 'classifier', 'classifier.weight', 'classifier.bias');
}

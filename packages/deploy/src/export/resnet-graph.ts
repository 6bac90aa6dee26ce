import type { LayerWriter } from './layer-writer.js';

const ARCH: Record<number, { blocks: number[]; bottleneck: boolean }> = {
  18: { blocks: [2, 2, 2, 2], bottleneck: false },
  50: { blocks: [3, 4, 6, 3], bottleneck: true },
};

/**
 * ResNet-18/50 (torchvision's layout, as @qtdog/networks builds it) as ONNX, every BatchNorm folded
 * into the conv before it (evaluation uses the running statistics). Activation points: `input`,
 * every ReLU output, every block's last conv and downsample output (the two sides of the residual Add).
 */
export function writeResNet(depth: 18 | 50): (w: LayerWriter, input: string) => string {
  const arch = ARCH[depth]!;
  return (w, input) => {
    let h = w.activation('input', input);
    h = w.convBatchNorm(h, 'featurizer.conv1', 'featurizer.bn1', { stride: 2, pad: 3 });
    h = w.activation('featurizer.relu', w.relu(h, 'featurizer.relu'));
    h = w.activation('featurizer.maxpool', w.maxPool(h, 'featurizer.maxpool', 3, 2, 1));
    let cin = 64;
    arch.blocks.forEach((count, s) => {
      const planes = 64 * 2 ** s;
      const cout = arch.bottleneck ? planes * 4 : planes;
      for (let b = 0; b < count; b++) {
        const stride = b === 0 && s > 0 ? 2 : 1;
        const p = `featurizer.layer${s + 1}.${b}`;
        const convs = arch.bottleneck ? [{ k: 1, stride: 1 }, { k: 3, stride }, { k: 1, stride: 1 }] : [{ k: 3, stride }, { k: 3, stride: 1 }];
        let out = h;
        convs.forEach((c, i) => {
          out = w.convBatchNorm(out, `${p}.conv${i + 1}`, `${p}.bn${i + 1}`, { stride: c.stride, pad: (c.k - 1) / 2 });
          out = i < convs.length - 1 ? w.activation(`${p}.relu${i + 1}`, w.relu(out, `${p}.relu${i + 1}`)) : w.activation(`${p}.conv${i + 1}.out`, out);
        });
        const identity =
          stride !== 1 || cin !== cout ? w.activation(`${p}.downsample.out`, w.convBatchNorm(h, `${p}.downsample.0`, `${p}.downsample.1`, { stride, pad: 0 })) : h;
        h = w.activation(`${p}.relu`, w.relu(w.add(out, identity, `${p}.add`), `${p}.relu`));
        cin = cout;
      }
    });
    return w.dense(w.globalAveragePool(h, 'featurizer.pool'), 'classifier', 'classifier.weight', 'classifier.bias');
  };
}

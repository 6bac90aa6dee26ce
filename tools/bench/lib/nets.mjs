// The networks the step tools (step-profile, data-parallel-phases, direct-conv-ab) train: input
// shape, classes, and the bench's default minibatch (MNIST_CNN at DomainBed's RotatedMNIST step,
// ResNet-18 as the bench's resnet18 lines).
import { arg } from './args.mjs';

export const STEP_NETS = {
  mnist: { network: { type: 'MNIST_CNN' }, input: [28, 28, 1], classes: 10, batch: 32, domains: 5 },
  resnet18: { network: { type: 'ResNet18' }, input: [64, 64, 3], classes: 7, batch: 16, domains: 3 },
};

/** The network named by `--net` (default `fallback`); throws on an unknown name. */
export function netFromArgs(fallback) {
  const net = STEP_NETS[arg('net', fallback)];
  if (!net) throw new Error(`--net: one of ${Object.keys(STEP_NETS).join(', ')}`);
  return net;
}

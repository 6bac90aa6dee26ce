// Convolution shapes of the benchmarked networks and their forward FLOPs (2 x multiply-adds).

/** Output size of a convolution along one axis. */
export function outSize(h, k, stride, pad) {
  return Math.floor((h + 2 * pad - k) / stride) + 1;
}

/** FLOPs of one image through one convolution: 2 * oh * ow * k * k * cin * cout. */
export function convFlops(s) {
  const oh = outSize(s.h, s.k, s.stride, s.pad);
  const ow = outSize(s.w, s.k, s.stride, s.pad);
  return 2 * oh * ow * s.k * s.k * s.cin * s.cout;
}

/** DomainBed's MNIST_CNN on 28x28xC: four 3x3 convolutions, padding 1 (as qtdog's MnistCnn). */
export function mnistCnnConvs(channels = 1) {
  return [
    { name: 'conv1', h: 28, w: 28, cin: channels, cout: 64, k: 3, stride: 1, pad: 1 },
    { name: 'conv2', h: 28, w: 28, cin: 64, cout: 128, k: 3, stride: 2, pad: 1 },
    { name: 'conv3', h: 14, w: 14, cin: 128, cout: 128, k: 3, stride: 1, pad: 1 },
    { name: 'conv4', h: 14, w: 14, cin: 128, cout: 128, k: 3, stride: 1, pad: 1 },
  ];
}

/** torchvision's ResNet-18 on size x size x C: stem 7x7/2, max-pool 3x3/2, 4 stages of 2 basic blocks. */
export function resnet18Convs(size = 64, channels = 3) {
  const convs = [{ name: 'conv1', h: size, w: size, cin: channels, cout: 64, k: 7, stride: 2, pad: 3 }];
  let h = outSize(size, 7, 2, 3);
  h = outSize(h, 3, 2, 1); // max-pool
  let cin = 64;
  [64, 128, 256, 512].forEach((planes, s) => {
    for (let b = 0; b < 2; b++) {
      const stride = b === 0 && s > 0 ? 2 : 1;
      const p = `layer${s + 1}.${b}`;
      const oh = outSize(h, 3, stride, 1);
      convs.push({ name: `${p}.conv1`, h, w: h, cin, cout: planes, k: 3, stride, pad: 1 });
      convs.push({ name: `${p}.conv2`, h: oh, w: oh, cin: planes, cout: planes, k: 3, stride: 1, pad: 1 });
      if (stride !== 1 || cin !== planes) convs.push({ name: `${p}.downsample.0`, h, w: h, cin, cout: planes, k: 1, stride, pad: 0 });
      h = oh;
      cin = planes;
    }
  });
  return convs;
}

/** Forward convolution FLOPs of one image. */
export function forwardFlops(convs) {
  return convs.reduce((a, s) => a + convFlops(s), 0);
}

/** Identical shapes merged, with how many times each occurs (to time each distinct shape once). */
export function distinctShapes(convs) {
  const map = new Map();
  for (const s of convs) {
    const key = [s.h, s.w, s.cin, s.cout, s.k, s.stride, s.pad].join(',');
    const e = map.get(key);
    if (e) e.count++;
    else map.set(key, { ...s, count: 1 });
  }
  return [...map.values()];
}

/**
 * Conv FLOPs of one training step, as multiples of the forward pass: forward + input gradient +
 * filter gradient = 3x (the first layer's input gradient is not needed, a rounding error here);
 * SAM takes two full forward and backward passes = 6x. Other work (norms, LSQ, Adam) is not counted.
 */
export const TRAIN_MULTIPLIER = { ERM: 3, 'ERM+LSQ': 3, CORAL: 3, SAM: 6 };

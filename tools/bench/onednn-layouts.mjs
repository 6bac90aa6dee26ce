#!/usr/bin/env node
// Which activation layout each oneDNN convolution primitive should use on this CPU: NHWC in place,
// or oneDNN's blocked layout reached through reorders (native/conv.cc, layoutFor). For every
// MNIST_CNN and ResNet-18 convolution shape at the bench's batch sizes, times forward, backward data
// and backward weights under each QTDOG_ONEDNN_LAYOUT letter, on one oneDNN thread, calling the
// addon directly on a plain buffer. CPU time (process.cpuUsage) is reported beside wall time: on a
// busy machine it moves far less than the wall clock.
//
//   node tools/bench/onednn-layouts.mjs [--reps 5]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { arg } from './lib/args.mjs';
import { mnistCnnConvs, resnet18Convs } from './lib/shapes.mjs';

const reps = Number(arg('reps', 5));

if (process.env.QTDOG_LAYOUT_CHILD) {
  const { loadAddon, convGeometry, conv2DInfo } = await import('@qtdog/engine-onednn');
  const s = loadAddon();
  if (!s.loaded) throw new Error(s.reason);
  const addon = s.addon;
  addon.setThreads(1);
  const out = [];
  for (const sh of JSON.parse(process.env.QTDOG_LAYOUT_CHILD)) {
    const info = conv2DInfo([sh.n, sh.h, sh.w, sh.cin], [sh.k, sh.k, sh.cin, sh.cout], { strides: sh.stride, pad: sh.pad, dataFormat: 'NHWC' });
    const g = convGeometry(info);
    const sizes = [info.inShape, info.filterShape, info.outShape].map((d) => d.reduce((a, b) => a * b, 1) * 4);
    const heap = new Uint8Array(sizes[0] + sizes[1] + sizes[2] + sizes[0]);
    const [x, w, y, dx] = [0, sizes[0], sizes[0] + sizes[1], sizes[0] + sizes[1] + sizes[2]];
    const calls = {
      forward: () => addon.conv2d(heap, g, x, w, -1, y, false),
      backwardData: () => addon.conv2dBackwardData(heap, g, y, w, dx),
      backwardWeights: () => addon.conv2dBackwardWeights(heap, g, x, y, w, -1),
    };
    const row = { shape: sh, impl: addon.describeConv(g) };
    for (const [name, fn] of Object.entries(calls)) {
      fn();
      fn();
      let cpu = Infinity;
      let wall = Infinity;
      for (let r = 0; r < reps; r++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        fn();
        wall = Math.min(wall, performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu = Math.min(cpu, (c.user + c.system) / 1000);
      }
      row[name] = { cpu, wall };
    }
    out.push(row);
  }
  console.log(JSON.stringify(out));
  process.exit(0);
}

const shapes = [
  ...mnistCnnConvs(1).map((s) => ({ ...s, n: 160, net: 'MNIST_CNN x160' })),
  ...resnet18Convs(64, 3).map((s) => ({ ...s, n: 48, net: 'ResNet-18 x48' })),
];
const distinct = shapes; // one row per convolution of the network, so the totals are a whole pass
const results = {};
for (const layout of ['nnn', 'bbb']) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--reps', String(reps)], {
    env: { ...process.env, QTDOG_LAYOUT_CHILD: JSON.stringify(distinct), QTDOG_ONEDNN_LAYOUT: layout, OMP_NUM_THREADS: '1' },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(r.stderr);
  results[layout] = JSON.parse(r.stdout.trim().split('\n').at(-1));
}
const f = (v) => v.toFixed(1).padStart(7);
console.log('per call, ms (min over reps), CPU time / wall time; n = NHWC in place, b = blocked with reorders');
console.log(`${'shape'.padEnd(44)} ${'primitive'.padEnd(16)} ${'n cpu'.padStart(7)} ${'b cpu'.padStart(7)} ${'n wall'.padStart(7)} ${'b wall'.padStart(7)}  implementations (n | b)`);
const totals = { n: [0, 0, 0], b: [0, 0, 0] };
distinct.forEach((sh, i) => {
  const label = `${sh.net} ${sh.name} ${sh.h}x${sh.w}x${sh.cin}->${sh.cout} ${sh.k}x${sh.k}/${sh.stride}`;
  ['forward', 'backwardData', 'backwardWeights'].forEach((p, j) => {
    const n = results.nnn[i][p];
    const b = results.bbb[i][p];
    totals.n[j] += n.cpu;
    totals.b[j] += b.cpu;
    console.log(`${label.padEnd(44)} ${p.padEnd(16)} ${f(n.cpu)} ${f(b.cpu)} ${f(n.wall)} ${f(b.wall)}  ${results.nnn[i].impl[p]} | ${results.bbb[i].impl[p]}`);
  });
});
console.log(`totals (CPU ms, all rows): forward n ${totals.n[0].toFixed(0)} b ${totals.b[0].toFixed(0)}; backward data n ${totals.n[1].toFixed(0)} b ${totals.b[1].toFixed(0)}; backward weights n ${totals.n[2].toFixed(0)} b ${totals.b[2].toFixed(0)}`);

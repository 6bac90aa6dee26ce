/**
 * Entry point of a data-parallel worker thread. It builds the run's network, algorithm and quantizer
 * from the same config as the main thread (its own TensorFlow.js and wasm instance), then answers
 * requests: gradients of a part of a step's batch, or logits of a part of an evaluation batch. The
 * main thread owns the optimizer and sends the current weights whenever they changed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { ContainerModule } from 'inversify';
import { readFloats, selectBackend, type BackendPreference } from '@qtdog/engine';
import type { Algorithm } from '../api/algorithm.js';
import type { Network } from '../api/network.js';
import type { Quantizer } from '../api/quantizer.js';
import { isContainerModule, loadPluginModules } from '../plugins/load-plugins.js';
import { bindRunComponents, createPluginContainer } from '../run/run-container.js';
import { AlgorithmToken, NetworkToken, QuantizerToken } from '../tokens.js';
import { partMinibatches, type WorkerInit, type WorkerReply, type WorkerRequest } from './protocol.js';
import { layoutShared, sharedView, type SharedFloats } from './shared-floats.js';
import { abortReduce, sharedAllReduce } from './all-reduce.js';

const port = parentPort!;
const init = workerData as WorkerInit;

async function setup(): Promise<{ network: Network; algorithm: Algorithm; quantizer?: Quantizer }> {
  const modules: ContainerModule[] = [];
  for (const spec of init.moduleSpecifiers) {
    const mod = (await import(spec)) as Record<string, unknown>;
    modules.push(...Object.values(mod).filter(isContainerModule));
  }
  const extra = await loadPluginModules(init.loaded.config.plugins, init.loaded.baseDir, init.loaded.file);
  const { container, registry } = createPluginContainer([...modules, ...extra]);
  bindRunComponents(container, registry, init.loaded, init.outDir, () => {});
  await selectBackend(init.backend as BackendPreference, undefined, { nativeThreads: init.nativeThreads });
  return {
    network: await container.getAsync<Network>(NetworkToken),
    algorithm: await container.getAsync<Algorithm>(AlgorithmToken),
    quantizer: container.isBound(QuantizerToken) ? await container.getAsync<Quantizer>(QuantizerToken) : undefined,
  };
}

function setParams(network: Network, params: SharedFloats | undefined): void {
  if (!params) return;
  // The wasm backend copies a new tensor's values into its own heap; the cpu and node backends keep
  // the array itself, which here is a view the main thread rewrites, so they get a copy.
  const copies = tf.getBackend() !== 'wasm';
  for (const e of params.entries) {
    const v = network.params.get(e.name).variable;
    const values = sharedView(params, e);
    tf.tidy(() => v.assign(tf.tensor(copies ? values.slice() : values, v.shape)));
  }
}

/** Writes the tensors into this worker's shared buffer, grown when they no longer fit. */
function packShared(tensors: Array<{ name: string; t: tf.Tensor }>, reuse: SharedArrayBuffer | undefined): SharedFloats {
  const block = layoutShared(tensors.map(({ name, t }) => ({ name, shape: t.shape })), reuse);
  // Read in place (no copy out of the wasm heap first); nothing allocates between read and write.
  block.entries.forEach((e, i) => sharedView(block, e).set(readFloats(tensors[i]!.t)));
  return block;
}

async function main(): Promise<void> {
  const parts = await setup();
  const { network, algorithm, quantizer } = parts;
  let gradBuffer: SharedArrayBuffer | undefined;
  let bufferBuffer: SharedArrayBuffer | undefined;
  port.postMessage({ id: 0, kind: 'ready' } satisfies WorkerReply);
  port.on('message', (req: WorkerRequest) => {
    try {
      if (req.kind === 'grads') {
        const t0 = performance.now();
        // The quantizer switches on the same step as the main thread's, before the weights arrive.
        quantizer?.onStep(req.step, network);
        setParams(network, req.params);
        if (req.algorithmState) algorithm.setWorkerState?.(req.algorithmState);
        const t1 = performance.now();
        const minibatches = partMinibatches(req.parts, req.shape);
        const { losses, grads } = req.reduce
          ? algorithm.gradientShares!(minibatches, req.step, sharedAllReduce(req.reduce, req.part))
          : algorithm.computeGradients!(minibatches, req.step);
        for (const m of minibatches) tf.dispose([m.x, m.y]);
        const t2 = performance.now();
        // The main thread reads both blocks before it sends this worker anything else.
        const g = packShared(Object.entries(grads).map(([name, t]) => ({ name, t })), gradBuffer);
        gradBuffer = g.buffer;
        for (const t of Object.values(grads)) t.dispose();
        const nonTrainable = network.params.all().filter((p) => !p.trainable);
        const b = packShared(nonTrainable.map((p) => ({ name: p.name, t: p.variable })), bufferBuffer);
        bufferBuffer = b.buffer;
        const t3 = performance.now();
        const origin = performance.timeOrigin;
        const ms = { params: t1 - t0, grads: t2 - t1, pack: t3 - t2, start: origin + t0, end: origin + t3 };
        port.postMessage({ id: req.id, kind: 'grads', losses, grads: g, buffers: b, numTensors: tf.memory().numTensors, ms } satisfies WorkerReply);
      } else {
        setParams(network, req.params);
        const [h, w, c] = req.shape;
        const logits = tf.tidy(() => algorithm.predict(tf.tensor4d(req.x, [req.n, h, w, c])));
        const data = (logits.dataSync() as Float32Array).slice();
        const classes = logits.shape[1];
        logits.dispose();
        port.postMessage({ id: req.id, kind: 'predict', logits: data, classes, numTensors: tf.memory().numTensors } satisfies WorkerReply, [data.buffer as ArrayBuffer]);
      }
    } catch (e) {
      // The other parts may be waiting for this one at the exchange: let them fail now.
      if (req.kind === 'grads' && req.reduce) abortReduce(req.reduce, req.part);
      port.postMessage({ id: req.id, kind: 'error', message: (e as Error).message } satisfies WorkerReply);
    }
  });
}

main().catch((e) => {
  port.postMessage({ id: 0, kind: 'error', message: `worker setup failed: ${(e as Error).message}` } satisfies WorkerReply);
});

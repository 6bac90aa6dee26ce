/**
 * Entry point of a data-parallel worker thread. It builds the run's network, algorithm and quantizer
 * from the same config as the main thread (its own TensorFlow.js and wasm instance), then answers
 * requests: gradients of a part of a step's batch, or logits of a part of an evaluation batch. The
 * main thread owns the optimizer and sends the current weights whenever they changed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { ContainerModule } from 'inversify';
import { selectBackend, type BackendPreference } from '@qtdog/engine';
import type { Algorithm, Minibatch } from '../api/algorithm.js';
import type { Network } from '../api/network.js';
import type { Quantizer } from '../api/quantizer.js';
import { isContainerModule, loadPluginModules } from '../plugins/load-plugins.js';
import { bindRunComponents, createPluginContainer } from '../run/run-container.js';
import { AlgorithmToken, NetworkToken, QuantizerToken } from '../tokens.js';
import type { ParamValues, WorkerInit, WorkerReply, WorkerRequest } from './protocol.js';

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
  await selectBackend(init.backend as BackendPreference);
  return {
    network: await container.getAsync<Network>(NetworkToken),
    algorithm: await container.getAsync<Algorithm>(AlgorithmToken),
    quantizer: container.isBound(QuantizerToken) ? await container.getAsync<Quantizer>(QuantizerToken) : undefined,
  };
}

function setParams(network: Network, params: ParamValues | undefined): void {
  if (!params) return;
  for (const [name, values] of Object.entries(params)) {
    const v = network.params.get(name).variable;
    tf.tidy(() => v.assign(tf.tensor(values, v.shape)));
  }
}

async function main(): Promise<void> {
  const parts = await setup();
  const { network, algorithm, quantizer } = parts;
  port.postMessage({ id: 0, kind: 'ready' } satisfies WorkerReply);
  port.on('message', (req: WorkerRequest) => {
    try {
      if (req.kind === 'grads') {
        // The quantizer switches on the same step as the main thread's, before the weights arrive.
        quantizer?.onStep(req.step, network);
        setParams(network, req.params);
        const [h, w, c] = req.shape;
        const minibatches: Minibatch[] = req.parts.map((p) => ({
          x: tf.tensor4d(p.x, [p.n, h, w, c]),
          y: tf.tensor1d(p.y, 'int32'),
          env: p.env,
        }));
        const { losses, grads } = algorithm.computeGradients!(minibatches, req.step);
        for (const m of minibatches) tf.dispose([m.x, m.y]);
        const out: Record<string, { data: Float32Array; shape: number[] }> = {};
        const transfer: ArrayBuffer[] = [];
        for (const [name, g] of Object.entries(grads)) {
          const data = (g.dataSync() as Float32Array).slice();
          out[name] = { data, shape: g.shape };
          transfer.push(data.buffer as ArrayBuffer);
          g.dispose();
        }
        const buffers: Record<string, Float32Array> = {};
        for (const p of network.params.all()) {
          if (p.trainable) continue;
          const data = (p.variable.dataSync() as Float32Array).slice();
          buffers[p.name] = data;
          transfer.push(data.buffer as ArrayBuffer);
        }
        port.postMessage({ id: req.id, kind: 'grads', losses, grads: out, buffers, numTensors: tf.memory().numTensors } satisfies WorkerReply, transfer);
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
      port.postMessage({ id: req.id, kind: 'error', message: (e as Error).message } satisfies WorkerReply);
    }
  });
}

main().catch((e) => {
  port.postMessage({ id: 0, kind: 'error', message: `worker setup failed: ${(e as Error).message}` } satisfies WorkerReply);
});

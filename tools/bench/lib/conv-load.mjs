// Busy threads for the "both threads busy" ceiling: each worker thread selects the wasm backend and
// runs the network's convolutions in a loop until the main thread clears a shared flag. While they
// run, the main thread times its own convolutions (convCeiling): one thread's conv speed when every
// core does the same work, which is what a data-parallel step's threads can reach at best.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { convInputs, disposeConvInputs, runConv } from './conv-inputs.mjs';

if (!isMainThread && workerData?.convLoad) {
  const { selectBackend } = await import('@qtdog/engine');
  await selectBackend('wasm', () => {});
  const flag = new Int32Array(workerData.flag);
  parentPort.on('message', ({ convs, batch }) => {
    const inputs = convInputs(convs, batch);
    parentPort.postMessage('running');
    while (Atomics.load(flag, 0) === 1) {
      for (const input of inputs) runConv(input).dispose();
    }
    disposeConvInputs(inputs);
    parentPort.postMessage('stopped');
  });
  parentPort.postMessage('ready');
}

/** A pool of `n` loader threads, started once; `run(convs, batch, fn)` calls fn while they are busy. */
export class ConvLoad {
  constructor(n) {
    this.flag = new Int32Array(new SharedArrayBuffer(8));
    this.workers = Array.from({ length: n }, () => new Worker(new URL(import.meta.url), { workerData: { convLoad: true, flag: this.flag.buffer } }));
    this.ready = Promise.all(this.workers.map((w) => once(w, 'ready')));
  }

  async run(convs, batch, fn) {
    await this.ready;
    Atomics.store(this.flag, 0, 1);
    const running = this.workers.map((w) => once(w, 'running'));
    for (const w of this.workers) w.postMessage({ convs, batch });
    await Promise.all(running);
    try {
      return fn();
    } finally {
      const stopped = this.workers.map((w) => once(w, 'stopped'));
      Atomics.store(this.flag, 0, 0);
      await Promise.all(stopped);
    }
  }

  close() {
    for (const w of this.workers) void w.terminate();
  }
}

function once(worker, what) {
  return new Promise((resolve, reject) => {
    const onMessage = (m) => {
      if (m !== what) return;
      worker.off('message', onMessage);
      worker.off('error', reject);
      resolve();
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
}

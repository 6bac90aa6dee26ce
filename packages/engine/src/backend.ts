// Choosing the TensorFlow.js backend: native TensorFlow when it loads, else wasm, else cpu.
//
// @tensorflow/tfjs-node is an optional peer dependency: its install script downloads
// libtensorflow, which fails without internet access, and even an installed copy can fail
// to load at run time. So it is only ever tried through a dynamic import whose failure
// is caught. wasm (XNNPACK) is always installed; it is made able to train by
// registerWasmTrainingKernels. cpu is the plain-JavaScript last resort.
import * as tf from '@tensorflow/tfjs-core';
import { registerGradients } from './gradients';
import { registerWasmTrainingKernels } from './wasm-conv-kernels';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendPreference = BackendName | 'auto';

const BACKENDS: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

// A variable, not a literal: bundlers must not try to resolve an optional dependency.
const TFJS_NODE = '@tensorflow/tfjs-node';

const FIXES: Record<BackendName, string> = {
  tensorflow:
    'install it with `npm install @tensorflow/tfjs-node` on a machine that can download libtensorflow ' +
    '(its install script fetches it), or choose the backend `wasm`',
  wasm: 'reinstall @tensorflow/tfjs-backend-wasm (its .wasm files ship inside the package), or choose the backend `cpu`',
  cpu: 'reinstall @tensorflow/tfjs-backend-cpu',
};

async function load(name: BackendName): Promise<void> {
  if (name === 'tensorflow') {
    await import(/* @vite-ignore */ TFJS_NODE); // registers the 'tensorflow' backend
  } else if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels(); // before setBackend, so the engine sets the kernels up
  } else {
    await import('@tensorflow/tfjs-backend-cpu');
  }
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
  await tf.ready();
}

function reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0];
}

/**
 * Selects and initialises a backend. With 'auto' (the default) the environment variable
 * QTDOG_BACKEND, when set, decides; otherwise tensorflow, then wasm, then cpu are tried in
 * turn. A backend asked for by name that cannot load is an error saying why and how to fix it.
 * Calling it again is harmless.
 */
export async function selectBackend(pref: BackendPreference = 'auto', log?: (msg: string) => void): Promise<BackendName> {
  let wanted: BackendPreference = pref;
  const fromEnv = process.env.QTDOG_BACKEND?.trim();
  if (pref === 'auto' && fromEnv) {
    if (![...BACKENDS, 'auto'].includes(fromEnv)) {
      throw new Error(`QTDOG_BACKEND='${fromEnv}' is not a backend; use one of ${[...BACKENDS, 'auto'].join(', ')}.`);
    }
    wanted = fromEnv as BackendPreference;
  }

  let chosen: BackendName | undefined;
  if (wanted === 'auto') {
    const failures: string[] = [];
    for (const name of BACKENDS) {
      try {
        await load(name);
        chosen = name;
        break;
      } catch (err) {
        failures.push(`${name}: ${reason(err)}`);
      }
    }
    if (chosen == null) throw new Error(`No TensorFlow.js backend could be loaded (${failures.join('; ')}).`);
    if (failures.length > 0) log?.(`backend: skipped ${failures.join('; ')}`);
  } else {
    try {
      await load(wanted);
      chosen = wanted;
    } catch (err) {
      throw new Error(`The TensorFlow.js backend '${wanted}' could not be loaded: ${reason(err)}. To fix it, ${FIXES[wanted]}.`);
    }
  }

  const withGradients = await registerGradients();
  log?.(`backend: ${chosen}${withGradients ? '' : ' (no gradients registered: install @tensorflow/tfjs to train)'}`);
  return chosen;
}

/** The name of the active TensorFlow.js backend ('' before one is set). */
export function currentBackend(): string {
  return tf.getBackend() ?? '';
}

// Choosing the TensorFlow.js backend: native TensorFlow when it loads, else wasm with the oneDNN
// kernels (@qtdog/engine-onednn) when they load, else plain wasm, else cpu.
//
// @tensorflow/tfjs-node is an optional peer dependency: its install script downloads
// libtensorflow, which fails without internet access, and even an installed copy can fail
// to load at run time. So it is only ever tried through a dynamic import whose failure
// is caught. wasm (XNNPACK) is always installed; it is made able to train by
// registerWasmTrainingKernels. cpu is the plain-JavaScript last resort.
import * as tf from '@tensorflow/tfjs-core';
import { registerGradients } from './gradients';
import { registerWasmTrainingKernels } from './wasm-conv-kernels';
import { disableNativeKernels, enableNativeKernels, nativeKernels } from './native-kernels';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
/** 'onednn': wasm with the native oneDNN kernels, required; 'wasm': pure wasm, forced. */
export type BackendPreference = BackendName | 'onednn' | 'auto';
const PREFERENCES: readonly BackendPreference[] = ['auto', 'onednn', 'tensorflow', 'wasm', 'cpu'];

export interface BackendOptions {
  /** oneDNN threads for this JavaScript thread (default: all cores). */
  nativeThreads?: number;
}

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
const ONEDNN_FIX = 'install oneDNN and rebuild @qtdog/engine-onednn as said, or choose the backend `wasm`';

// The reason the oneDNN kernels are off, said once per thread.
let nativeOffSaid = false;

async function load(name: BackendName, native: 'prefer' | 'require' | 'off' = 'off', opts: BackendOptions = {}, log?: (msg: string) => void): Promise<void> {
  if (name === 'tensorflow') {
    await import(/* @vite-ignore */ TFJS_NODE); // registers the 'tensorflow' backend
  } else if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels(); // before setBackend, so the engine sets the kernels up
    if (native === 'off') await disableNativeKernels();
    else {
      const got = await enableNativeKernels(opts.nativeThreads);
      if (typeof got === 'string') {
        if (native === 'require') throw new Error(`the oneDNN kernels are off: ${got}`);
        if (!nativeOffSaid) log?.(`engine: oneDNN kernels off: ${got}`);
        nativeOffSaid = true;
      }
    }
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
 * QTDOG_BACKEND, when set, decides; otherwise tensorflow, then wasm (with the oneDNN kernels when
 * they load: one line says why when they do not), then cpu are tried in turn. 'wasm' forces pure
 * wasm; 'onednn' requires the native kernels. A backend asked for by name that cannot load is an
 * error saying why and how to fix it. Calling it again is harmless.
 */
export async function selectBackend(pref: BackendPreference = 'auto', log?: (msg: string) => void, opts: BackendOptions = {}): Promise<BackendName> {
  let wanted: BackendPreference = pref;
  const fromEnv = process.env.QTDOG_BACKEND?.trim();
  if (pref === 'auto' && fromEnv) {
    if (!PREFERENCES.includes(fromEnv as BackendPreference)) {
      throw new Error(`QTDOG_BACKEND='${fromEnv}' is not a backend; use one of ${PREFERENCES.join(', ')}.`);
    }
    wanted = fromEnv as BackendPreference;
  }

  let chosen: BackendName | undefined;
  if (wanted === 'auto') {
    const failures: string[] = [];
    for (const name of BACKENDS) {
      try {
        await load(name, 'prefer', opts, log);
        chosen = name;
        break;
      } catch (err) {
        failures.push(`${name}: ${reason(err)}`);
      }
    }
    if (chosen == null) throw new Error(`No TensorFlow.js backend could be loaded (${failures.join('; ')}).`);
    if (failures.length > 0) log?.(`backend: skipped ${failures.join('; ')}`);
  } else {
    const name: BackendName = wanted === 'onednn' ? 'wasm' : wanted;
    try {
      await load(name, wanted === 'onednn' ? 'require' : 'off', opts, log);
      chosen = name;
    } catch (err) {
      throw new Error(`The TensorFlow.js backend '${wanted}' could not be loaded: ${reason(err)}. To fix it, ${wanted === 'onednn' ? ONEDNN_FIX : FIXES[name]}.`);
    }
  }

  const withGradients = await registerGradients();
  log?.(`backend: ${engineDescription()}${withGradients ? '' : ' (no gradients registered: install @tensorflow/tfjs to train)'}`);
  return chosen;
}

/** What computes here, in words: e.g. 'wasm + oneDNN 2.6.3 (2 threads)', 'wasm', 'cpu'. */
export function engineDescription(): string {
  const backend = tf.getBackend() ?? '';
  const native = backend === 'wasm' ? nativeKernels() : undefined;
  return native ? `${backend} + ${native.library} ${native.version} (${native.threads} thread${native.threads === 1 ? '' : 's'})` : backend;
}

/**
 * The preference that reproduces this thread's choice in another thread (data-parallel workers):
 * 'onednn' where the native kernels are on, else the backend's name.
 */
export function resolvedPreference(): BackendPreference {
  const backend = (tf.getBackend() ?? 'cpu') as BackendName;
  return backend === 'wasm' && nativeKernels() ? 'onednn' : backend;
}

/** The name of the active TensorFlow.js backend ('' before one is set). */
export function currentBackend(): string {
  return tf.getBackend() ?? '';
}

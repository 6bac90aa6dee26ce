// The optional native kernels: @qtdog/engine-onednn, oneDNN convolutions and matrix products put
// in place of the wasm backend's. Like tfjs-node it is only ever reached through a dynamic import
// whose failure is caught: a machine without it (or without oneDNN) trains on wasm.

/** What @qtdog/engine-onednn exports that the engine uses. */
interface OneDnnModule {
  registerOneDnnKernels(opts: { threads?: number }): { enabled: true; version: string; threads: number } | { enabled: false; reason: string };
  unregisterOneDnnKernels(): void;
}

// A variable, not a literal: bundlers must not try to resolve an optional dependency.
const ENGINE_ONEDNN = '@qtdog/engine-onednn';

export interface NativeKernels {
  library: 'oneDNN';
  version: string;
  threads: number;
}

let mod: OneDnnModule | null | undefined;
let importFailure = '';
let active: NativeKernels | undefined;

async function loadModule(): Promise<OneDnnModule | null> {
  if (mod !== undefined) return mod;
  try {
    mod = (await import(/* @vite-ignore */ ENGINE_ONEDNN)) as OneDnnModule;
  } catch (err) {
    importFailure = `${ENGINE_ONEDNN} is not installed (${(err instanceof Error ? err.message : String(err)).split('\n')[0]})`;
    mod = null;
  }
  return mod;
}

/**
 * Puts the oneDNN kernels on the wasm backend of this thread. Returns them, or the reason (one
 * line, with how to enable them) they are off.
 */
export async function enableNativeKernels(threads?: number): Promise<NativeKernels | string> {
  const m = await loadModule();
  if (m == null) return `${importFailure}; to enable: npm install @qtdog/engine-onednn`;
  const s = m.registerOneDnnKernels({ threads });
  if (!s.enabled) return s.reason;
  active = { library: 'oneDNN', version: s.version, threads: s.threads };
  return active;
}

/** Puts the wasm kernels back, where oneDNN's were on. */
export async function disableNativeKernels(): Promise<void> {
  if (active == null) return;
  (await loadModule())?.unregisterOneDnnKernels();
  active = undefined;
}

/** The native kernels in use in this thread, if any. */
export function nativeKernels(): NativeKernels | undefined {
  return active;
}

// Loads the native addon built at install (scripts/build-addon.mjs), or says why it is not there.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The addon's functions (native/addon.cc). Offsets are byte offsets into `heap`. */
export interface OneDnnAddon {
  version(): string;
  setThreads(n: number): void;
  threads(): number;
  conv2d(heap: Uint8Array, geometry: Int32Array, x: number, w: number, bias: number, y: number, relu: boolean): void;
  conv2dBackwardData(heap: Uint8Array, geometry: Int32Array, dy: number, w: number, dx: number): void;
  conv2dBackwardWeights(heap: Uint8Array, geometry: Int32Array, x: number, dy: number, dw: number, dbias: number): void;
  matMul(heap: Uint8Array, geometry: Int32Array, a: number, b: number, bias: number, c: number, relu: boolean): void;
  describeConv(geometry: Int32Array): { forward: string; backwardData: string; backwardWeights: string };
}

// What a user does to get the native kernels, said with every reason they are off.
export const ENABLE_HINT =
  'to enable: `apt-get install libdnnl-dev g++` (Debian/Ubuntu) or `brew install onednn` (macOS), then `npm rebuild @qtdog/engine-onednn`';

export type AddonStatus = { loaded: true; addon: OneDnnAddon; version: string } | { loaded: false; reason: string };

let status: AddonStatus | undefined;

// dist/ (built code) and build/ (the addon) sit side by side in the package folder.
function packageDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..');
}

/** Loads the addon once per thread; never throws. */
export function loadAddon(): AddonStatus {
  if (status) return status;
  if (process.env.QTDOG_ONEDNN === '0') {
    status = { loaded: false, reason: 'QTDOG_ONEDNN=0 is set' };
    return status;
  }
  const dir = packageDir();
  const file = join(dir, 'build', 'Release', 'qtdog_onednn.node');
  if (!existsSync(file)) {
    const reasonFile = join(dir, 'build', 'skip-reason.txt');
    const reason = existsSync(reasonFile) ? readFileSync(reasonFile, 'utf8').trim() : 'the addon was not built at install';
    status = { loaded: false, reason };
    return status;
  }
  try {
    const addon = createRequire(import.meta.url)(file) as OneDnnAddon;
    status = { loaded: true, addon, version: addon.version() };
  } catch (err) {
    const text = err instanceof Error ? err.message.split('\n')[0] : String(err);
    status = { loaded: false, reason: `the addon did not load: ${text}` };
  }
  return status;
}

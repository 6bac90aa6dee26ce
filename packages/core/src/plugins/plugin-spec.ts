import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { createRequire } from 'node:module';

/** Why a `plugins:` entry could not be found, for the one-line error. */
export class PluginSpecNotFound extends Error {}

/**
 * The file a `plugins:` entry names: a path (starting with `.` or absolute) resolves against
 * `baseDir`; anything else is a package name, resolved like `require` from there. A bare name that is
 * really a file next to the config (`x/y.mjs`) fails with a hint to write `./x/y.mjs`, since Node
 * reads it as a package name.
 */
export function resolvePluginSpec(spec: string, baseDir: string): string {
  if (spec.startsWith('.') || isAbsolute(spec)) return resolve(baseDir, spec);
  try {
    return createRequire(resolve(baseDir, 'noop.js')).resolve(spec);
  } catch (e) {
    const reason = (e as Error).message.split('\n')[0];
    if (existsSync(resolve(baseDir, spec))) {
      throw new PluginSpecNotFound(`cannot find plugin package '${spec}' from ${baseDir}; a file there has that name: relative files need ./ (write './${spec}')`);
    }
    throw new PluginSpecNotFound(`cannot find plugin package '${spec}' from ${baseDir} (${reason})`);
  }
}

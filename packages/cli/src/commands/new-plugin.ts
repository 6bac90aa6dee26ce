import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { RunError } from '@qtdog/core';
import { pluginFiles, pluginNames } from '../scaffold/plugin-template.js';

/** The folder of the `@qtdog/core` this CLI runs with (its real path, links followed). */
function coreDir(): string {
  const bases = [(import.meta as { url?: string }).url, typeof __filename !== 'undefined' ? __filename : undefined].filter(
    (b): b is string => typeof b === 'string' && b.length > 0,
  );
  for (const base of bases) {
    try {
      return realpathSync(dirname(createRequire(base).resolve('@qtdog/core/package.json')));
    } catch {
      // try the next base
    }
  }
  throw new RunError('cannot find the @qtdog/core package this CLI runs with');
}

/**
 * How the new package names `@qtdog/core` for development: a `file:` link to this checkout's
 * packages/core while the packages are not on the registry (relative, so the two folders can move
 * together), or the installed version's range when qtdog itself came from a registry.
 */
export function coreDependency(pluginDir: string, core = coreDir()): { spec: string; version: string } {
  const version = (JSON.parse(readFileSync(join(core, 'package.json'), 'utf8')) as { version: string }).version;
  if (core.split(sep).includes('node_modules')) return { spec: `^${version}`, version };
  const rel = relative(pluginDir, core).split(sep).join('/');
  return { spec: `file:${rel.startsWith('.') ? rel : `./${rel}`}`, version };
}

const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9-]*\/)?[a-z][a-z0-9-]*$/;

/** `qtdog new plugin <name>`: a plugin package that passes its own test once `npm install` has run. */
export function newPluginCommand(name: string, opts: { dir?: string }): void {
  if (!PACKAGE_NAME.test(name)) {
    throw new RunError(`new plugin: '${name}' is not a package name qtdog can scaffold (lower-case letters, digits and dashes, starting with a letter, e.g. my-plugin)`);
  }
  const dir = resolve(opts.dir ?? name.replace(/^@[^/]+\//, ''));
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new RunError(`new plugin: ${dir} already exists and is not empty; choose another name or --dir`);
  const { spec, version } = coreDependency(dir);
  const names = pluginNames(name);
  const files = pluginFiles(names, spec, version);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const rel = relative(process.cwd(), dir) || '.';
  process.stdout.write(
    [
      `created ${rel}: ${Object.keys(files).join(', ')} (algorithm ${names.type}; @qtdog/core from ${spec})`,
      'next:',
      `  cd ${rel}`,
      '  npm install                            # links @qtdog/core, its one dependency',
      '  npm test                               # the plugin registers, its options validate, its loss is right',
      '  qtdog run config.yaml --out runs/try   # trains it for 20 steps on synthetic domains',
      '',
    ].join('\n'),
  );
}

/** Adds `qtdog new plugin` to the program. */
export function registerNewCommand(program: Command): void {
  const scaffold = program.command('new').description('create a new project from a template');
  scaffold
    .command('plugin')
    .description('a plugin package (package.json, an algorithm plugin, a config and a test) that passes its own test after npm install')
    .argument('<name>', 'package name, e.g. my-plugin (the plugin type is its PascalCase, MyPlugin)')
    .option('--dir <folder>', 'where to create it (default: ./<name>)')
    .action((name: string, opts: { dir?: string }) => newPluginCommand(name, opts));
}

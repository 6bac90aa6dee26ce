// Install step of @qtdog/engine-onednn: builds the native addon with node-gyp against the
// system's oneDNN when its headers and a C++ compiler are there. It never fails the install:
// without them it writes why to build/skip-reason.txt, which the engine reports once, in one
// line, with how to enable it. Nothing is downloaded: Node's headers come from the local Node
// install (--nodedir), and node-gyp is the copy that ships with npm.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(pkg, 'build');
const reasonFile = join(buildDir, 'skip-reason.txt');

function skip(reason) {
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(reasonFile, reason + '\n');
  console.log(`@qtdog/engine-onednn: native kernels not built (${reason}); qtdog runs on wasm.`);
  process.exit(0);
}

if (process.env.QTDOG_ONEDNN === '0') skip('QTDOG_ONEDNN=0 was set at install');

// oneDNN's headers: the usual prefixes, Homebrew's, and what CPATH / DNNLROOT name.
const includeDirs = [
  ...(process.env.CPATH ?? '').split(delimiter).filter(Boolean),
  ...(process.env.DNNLROOT ? [join(process.env.DNNLROOT, 'include')] : []),
  '/usr/include',
  '/usr/local/include',
  '/opt/homebrew/include',
];
if (!includeDirs.some((d) => existsSync(join(d, 'oneapi', 'dnnl', 'dnnl.hpp')))) {
  skip('oneDNN headers (oneapi/dnnl/dnnl.hpp) not found');
}

const cxx = process.env.CXX ?? 'c++';
if (spawnSync(cxx, ['--version'], { stdio: 'ignore' }).status !== 0) skip(`no C++ compiler (${cxx})`);

// npm's own node-gyp: npm names it to install scripts, else it sits beside npm-cli.js.
const candidates = [
  process.env.npm_config_node_gyp,
  process.env.npm_execpath && join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
].filter(Boolean);
const nodeGyp = candidates.find((p) => existsSync(p));
if (nodeGyp == null) skip('node-gyp not found (it ships with npm)');

const args = [nodeGyp, 'rebuild'];
// Node's headers from the installed Node itself, so node-gyp downloads nothing.
const prefix = resolve(dirname(process.execPath), '..');
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
else if (process.env.npm_config_nodedir) args.push(`--nodedir=${process.env.npm_config_nodedir}`);

rmSync(reasonFile, { force: true });
const r = spawnSync(process.execPath, args, { cwd: pkg, encoding: 'utf8', env: { ...process.env, JOBS: '2' } });
mkdirSync(buildDir, { recursive: true });
writeFileSync(join(buildDir, 'build.log'), `${r.stdout ?? ''}\n${r.stderr ?? ''}`);
if (r.status !== 0) skip(`node-gyp failed (see ${join(buildDir, 'build.log')})`);
console.log('@qtdog/engine-onednn: native oneDNN kernels built.');

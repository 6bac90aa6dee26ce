// Packs every workspace package (npm pack) and checks the tarball the way a user would get it:
// publint (package.json fields, exports, files) in strict mode, and Are The Types Wrong (types
// resolving for require and import under node10/node16/bundler). Exits 1 on any problem.
// Usage: node tools/packaging/check-packages.mjs [--out <dir>]   (after npm run build)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const root = resolve(import.meta.dirname, '../..');
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? resolve(process.argv[outArg + 1]) : mkdtempSync(join(tmpdir(), 'qtdog-pack-'));
const attw = join(root, 'node_modules/.bin/attw');

/** Packs one package directory into `out`; returns the tarball's path. */
function pack(dir) {
  const r = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  return join(out, r[0].filename);
}

let problems = 0;
for (const name of readdirSync(join(root, 'packages')).sort()) {
  const dir = join(root, 'packages', name);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const tarball = pack(dir);
  const buf = readFileSync(tarball);
  const lint = await publint({ pkgDir: 'package', pack: { tarball: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) }, strict: true, level: 'warning' });
  const types = spawnSync(attw, [tarball, '--format', 'ascii', '--profile', 'node16'], { encoding: 'utf8' });
  const lines = lint.messages.map((m) => `  publint ${m.type}: ${formatMessage(m, lint.pkg) ?? m.code}`);
  if (types.status !== 0) lines.push(`  attw:\n${types.stdout}${types.stderr}`);
  problems += lines.length;
  console.log(`${lines.length ? 'FAIL' : 'ok  '} ${pkg.name}@${pkg.version} (${tarball.split('/').pop()}, ${(buf.length / 1024).toFixed(0)} KiB)${lines.length ? `\n${lines.join('\n')}` : ''}`);
}
console.log(problems ? `${problems} problem(s)` : 'every package passes publint (strict) and attw (node16 profile)');
process.exit(problems ? 1 : 0);

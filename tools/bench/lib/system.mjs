// Machine and version facts for the bench's header, and small formatting helpers.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../../../', import.meta.url).pathname;

export function cpuInfo() {
  let model = cpus()[0]?.model ?? 'unknown';
  let physical;
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    model = /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? model;
    const cores = /^cpu cores\s*:\s*(\d+)$/m.exec(text)?.[1];
    if (cores) physical = Number(cores);
  } catch {
    /* not Linux */
  }
  return { model, logical: cpus().length, physical };
}

export function packageVersion(name) {
  try {
    const req = createRequire(join(ROOT, 'package.json'));
    return JSON.parse(readFileSync(req.resolve(`${name}/package.json`), 'utf8')).version;
  } catch {
    try {
      return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch {
      return 'unknown';
    }
  }
}

export function gitRevision() {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${rev} (with uncommitted changes)` : rev;
  } catch {
    return 'unknown';
  }
}

/** Packages whose dist is older than a source file in their src (tests aside): the bench imports the built packages. */
export function staleBuilds() {
  const stale = [];
  const dir = join(ROOT, 'packages');
  for (const p of readdirSync(dir)) {
    const dist = join(dir, p, 'dist', 'index.js');
    if (!existsSync(join(dir, p, 'src'))) continue;
    if (!existsSync(dist)) {
      stale.push(`${p} (not built)`);
      continue;
    }
    const built = statSync(dist).mtimeMs;
    const newer = (d) =>
      readdirSync(d, { withFileTypes: true }).some((e) => {
        const f = join(d, e.name);
        if (e.isDirectory()) return e.name !== '__tests__' && newer(f);
        return !/\.test\.[cm]?ts$/.test(e.name) && statSync(f).mtimeMs > built;
      });
    if (newer(join(dir, p, 'src'))) stale.push(p);
  }
  return stale;
}

export function load() {
  return loadavg().map((v) => v.toFixed(2)).join(' ');
}

/** Peak RSS of this process (all its threads) in MB, and the current RSS. */
export function rssMB() {
  return { peak: process.resourceUsage().maxRSS / 1024, now: process.memoryUsage().rss / 2 ** 20 };
}

export const f0 = (v) => (v == null || !Number.isFinite(v) ? '-' : v.toFixed(0));
export const f1 = (v) => (v == null || !Number.isFinite(v) ? '-' : v.toFixed(1));
export const f2 = (v) => (v == null || !Number.isFinite(v) ? '-' : v.toFixed(2));

/** A plain text table: rows of cells, the first row the header; numbers right-aligned. */
export function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '').length)));
  const isNum = (s) => /^[-+]?[\d.]+(x|%)?$/.test(s);
  return rows
    .map((r, j) =>
      r
        .map((c, i) => {
          const s = String(c ?? '');
          return j > 0 && isNum(s) ? s.padStart(widths[i]) : s.padEnd(widths[i]);
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

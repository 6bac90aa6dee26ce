import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export const ROOT = resolve(__dirname, '..');
export const fixtureConfig = (name: string) => join(ROOT, 'tests/fixtures/configs', name);
export const tempDir = (prefix = 'qtdog-test-') => mkdtempSync(join(tmpdir(), prefix));
/** The built command line (npm test builds the packages first). */
export const CLI = join(ROOT, 'packages/cli/dist/bin.js');

/** Runs the built `qtdog` command (npm test builds the packages first). */
export function qtdog(args: string[], cwd = ROOT): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs a command without blocking the test worker's event loop (vitest's worker RPC times out when a
 * synchronous child runs for about a minute). Never rejects: the exit code says how it ended.
 */
export function runAsync(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; onSpawn?: (child: ChildProcess) => void } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    opts.onSpawn?.(child); // for tests that signal the process while it runs
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolvePromise({ code: -1, stdout, stderr: `${stderr}${e.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** The built `qtdog` command, asynchronously (for commands that run for a while). */
export const qtdogAsync = (args: string[], cwd = ROOT) => runAsync(process.execPath, [CLI, ...args], { cwd });

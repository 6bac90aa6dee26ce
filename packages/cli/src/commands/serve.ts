import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@qtdog/core';
import { serveFolder } from '@qtdog/deploy';

/** `qtdog serve <dir>`: a web export over HTTP with COOP/COEP (wasm threads), until interrupted. */
export async function serveCommand(dir: string, opts: { port?: string; host?: string }): Promise<void> {
  if (!existsSync(join(dir, 'index.html'))) throw new ConfigError(`${dir} has no index.html (make one with qtdog export <run-dir> --format web)`);
  const port = opts.port === undefined ? 8080 : Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port must be a port number, got '${opts.port}'`);
  const s = await serveFolder(dir, port, opts.host ?? '127.0.0.1');
  process.stdout.write(`Serving ${dir} at ${s.url} (cross-origin isolated); Ctrl-C stops\n`);
  await new Promise<void>((done) => process.once('SIGINT', () => void s.close().then(done)));
}

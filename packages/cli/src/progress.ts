import { SingleBar } from 'cli-progress';
import type { Progress } from '@qtdog/core';

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const s = Math.max(0, Math.round(sec));
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/**
 * Shows training progress: a live bar on a terminal (cli-progress), one plain line every few seconds
 * otherwise (logs, CI), so redirected output stays readable.
 */
export function createProgressReporter(stream: NodeJS.WriteStream = process.stderr): { update(p: Progress): void; stop(): void } {
  if (stream.isTTY) {
    const bar = new SingleBar({
      stream,
      format: 'step {value}/{total} |{bar}| loss {loss} | {ips} img/s | {phase} | left {left}',
      barsize: 24,
      hideCursor: true,
    });
    let started = false;
    return {
      update(p) {
        const payload = { loss: p.loss.toFixed(4), ips: p.imagesPerSec.toFixed(0), phase: p.phase, left: formatDuration(p.etaSec) };
        if (!started) {
          bar.start(p.steps, p.step + 1, payload);
          started = true;
        } else bar.update(p.step + 1, payload);
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let last = 0;
  return {
    update(p) {
      const now = Date.now();
      if (p.phase === 'eval' || now - last > 5000 || p.step === p.steps - 1) {
        last = now;
        const what = p.phase === 'eval' ? 'evaluating' : `loss ${p.loss.toFixed(4)}, ${p.imagesPerSec.toFixed(0)} img/s`;
        stream.write(`step ${p.step + 1}/${p.steps}: ${what}, time left ${formatDuration(p.etaSec)}\n`);
      }
    },
    stop() {},
  };
}

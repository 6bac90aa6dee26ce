import { MultiBar, type SingleBar } from 'cli-progress';
import type { JobOutcome, LaunchJob } from '@qtdog/evaluation';
import { formatDuration } from '../progress.js';

export interface SweepProgress {
  start(job: LaunchJob): void;
  finish(outcome: JobOutcome): void;
  stop(): void;
}

/**
 * Counts and the time left of a running sweep (from the mean duration of the jobs finished so far).
 * A job stopped by a signal is neither done nor failed: it resumes on re-launch, so it is counted
 * apart and its cut-short duration stays out of the estimate.
 */
export class SweepTally {
  done = 0;
  failed = 0;
  stopped = 0;
  private readonly running = new Map<string, number>();
  private readonly durations: number[] = [];

  constructor(
    readonly total: number,
    readonly parallelism: number,
  ) {}

  start(id: string, now = Date.now()): void {
    this.running.set(id, now);
  }

  finish(o: JobOutcome): void {
    this.running.delete(o.job.id);
    if (o.interrupted) {
      this.stopped++;
      return;
    }
    this.durations.push(o.seconds);
    if (o.ok) this.done++;
    else this.failed++;
  }

  /** Jobs that will not run again in this launch: done, failed or stopped. */
  get finished(): number {
    return this.done + this.failed + this.stopped;
  }

  /** ", N stopped" for the live line and bar; empty while none is. */
  get stoppedText(): string {
    return this.stopped > 0 ? `, ${this.stopped} stopped` : '';
  }

  get numRunning(): number {
    return this.running.size;
  }

  /** Seconds left: pending jobs at the mean duration, plus what running ones still need, spread over the slots. */
  etaSec(now = Date.now()): number {
    if (this.durations.length === 0) return NaN;
    const mean = this.durations.reduce((a, b) => a + b, 0) / this.durations.length;
    const pending = this.total - this.finished - this.running.size;
    let work = pending * mean;
    for (const t0 of this.running.values()) work += Math.max(0, mean - (now - t0) / 1000);
    const slots = Math.max(1, Math.min(this.parallelism, pending + this.running.size));
    return work / slots;
  }

  line(now = Date.now()): string {
    return `jobs ${this.finished}/${this.total}: ${this.done} done, ${this.numRunning} running, ${this.failed} failed${this.stoppedText}, time left ${formatDuration(this.etaSec(now))}`;
  }
}

/**
 * The live view of `qtdog sweep`: a bar on a terminal; on a pipe or file, one plain line every
 * `intervalMs` and one per finished job. A failed job's log path is printed when it fails.
 */
export function createSweepProgress(total: number, parallelism: number, stream: NodeJS.WriteStream = process.stderr, intervalMs = 5000): SweepProgress {
  const tally = new SweepTally(total, parallelism);
  const failure = (o: JobOutcome) =>
    o.interrupted
      ? `job ${o.job.id} (${o.job.label}) stopped by ${o.signal} after ${formatDuration(o.seconds)}; it resumes from its last checkpoint; log: ${o.job.logFile}`
      : `job ${o.job.id} (${o.job.label}) FAILED (${o.signal ? `signal ${o.signal}` : `exit code ${o.exitCode}`}) after ${formatDuration(o.seconds)}; log: ${o.job.logFile}`;
  if (stream.isTTY) {
    const multi = new MultiBar({
      stream,
      format: 'jobs {value}/{total} |{bar}| {done} done, {running} running, {failed} failed{stopped} | left {left}',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
    });
    const payload = () => ({ done: tally.done, running: tally.numRunning, failed: tally.failed, stopped: tally.stoppedText, left: formatDuration(tally.etaSec()) });
    const bar: SingleBar = multi.create(total, 0, payload());
    const timer = setInterval(() => bar.update(tally.finished, payload()), 1000);
    timer.unref();
    return {
      start(job) {
        tally.start(job.id);
        bar.update(tally.finished, payload());
      },
      finish(o) {
        tally.finish(o);
        if (!o.ok) multi.log(`${failure(o)}\n`);
        bar.update(tally.finished, payload());
      },
      stop() {
        clearInterval(timer);
        multi.stop();
      },
    };
  }
  const timer = setInterval(() => stream.write(`${tally.line()}\n`), intervalMs);
  timer.unref();
  return {
    start(job) {
      tally.start(job.id);
    },
    finish(o) {
      tally.finish(o);
      stream.write(o.ok ? `job ${o.job.id} (${o.job.label}) done in ${formatDuration(o.seconds)}; ${tally.line()}\n` : `${failure(o)}; ${tally.line()}\n`);
    },
    stop() {
      clearInterval(timer);
    },
  };
}

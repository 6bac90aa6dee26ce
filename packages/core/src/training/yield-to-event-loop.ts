/**
 * Lets the event loop run once. A single-threaded step or evaluation batch only awaits promises
 * that are already settled, which never reach the event loop: without this, a signal (Ctrl-C,
 * `kill`) sent during training would not be handled until the run ended, and timers (progress
 * lines) would stall. Costs microseconds against a step's milliseconds.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// The few summary statistics the evaluators and the report share, so each is defined once.

/** Arithmetic mean (NaN for no values). */
export const mean = (a: readonly number[]): number => a.reduce((x, y) => x + y, 0) / a.length;

/** Sample standard deviation (n - 1); 0 for one value. */
export function sampleStd(a: readonly number[]): number {
  if (a.length < 2) return 0;
  const m = mean(a);
  return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / (a.length - 1));
}

/** DomainBed's standard error over trials: population standard deviation / sqrt(n). */
export function standardError(a: readonly number[]): number {
  const m = mean(a);
  return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length) / Math.sqrt(a.length);
}

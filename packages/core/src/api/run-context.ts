/** Facts about the run that plugins may need when they are built (resolve RunContextToken). */
export interface RunContext {
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  readonly environments: readonly string[];
  readonly testEnvs: readonly number[];
  /** Number of training environments (minibatches per step). */
  readonly numTrainEnvs: number;
  readonly trialSeed: number;
  readonly outDir: string;
}

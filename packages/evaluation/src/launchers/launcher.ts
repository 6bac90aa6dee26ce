/** One job of a sweep, as a launcher sees it: a command whose output goes to a log file. */
export interface LaunchJob {
  id: string;
  /** Short description for progress lines (e.g. "ERM+QT-DoG RotatedMNIST test [0] draw 0 trial 1"). */
  label: string;
  command: string;
  args: string[];
  cwd?: string;
  /** stdout and stderr of the job. */
  logFile: string;
  /** Present once the job finished successfully (a run folder's `done`). */
  doneFile: string;
}

export interface JobOutcome {
  job: LaunchJob;
  ok: boolean;
  exitCode: number | null;
  signal: string | null;
  seconds: number;
  /** The launcher stopped the job because the sweep itself was told to stop (its `signal`). */
  interrupted?: boolean;
}

/** What a launcher tells while it works (the sweep command draws its progress view from these). */
export interface LaunchListener {
  onStart?(job: LaunchJob): void;
  onFinish?(outcome: JobOutcome): void;
}

/** Where a launch belongs: the sweep folder and name (for scripts and records a launcher keeps). */
export interface LaunchContext {
  sweepDir: string;
  name: string;
  log?: (m: string) => void;
}

/**
 * Runs a sweep's jobs somewhere (this machine's processes now; a cluster later). A failed job never
 * stops the others: its outcome says so and the launch goes on.
 */
export interface Launcher {
  readonly name: string;
  /** How many jobs run at the same time (Infinity: the scheduler decides). */
  readonly parallelism: number;
  /** Data-parallel threads each job may use; unset: 1 when jobs share this machine, else the config's. */
  readonly workersPerJob?: number;
  /**
   * Runs the jobs. A launcher that only submits them (a cluster queue without `wait`) returns no
   * outcomes; `qtdog sweep status` follows them then.
   */
  launch(jobs: readonly LaunchJob[], listener?: LaunchListener, context?: LaunchContext): Promise<JobOutcome[]>;
}

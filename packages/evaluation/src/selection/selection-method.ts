/**
 * Model selection as DomainBed does it (Gulrajani & Lopez-Paz, arXiv 2007.01434,
 * `domainbed/model_selection.py`): a method scores every run of one (dataset, algorithm, test
 * environment, trial) group, the runs are grouped by hyperparameter draw, and the draw with the best
 * validation accuracy gives the reported test accuracy.
 */

/** One results.jsonl line: a checkpoint of a run, with the run's resolved config. */
export interface ResultRecord {
  step: number;
  config: {
    /** The hyperparameter draw (DomainBed's `hparams_seed`). */
    seed: number;
    trialSeed: number;
    dataset: { type: string; testEnvs: number[] };
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** What a selection method picks inside one run (or one draw's runs): a checkpoint and its scores. */
export interface Choice {
  /** The score the method maximises. */
  valAcc: number;
  /** The reported number: the test environment's `in` accuracy at the chosen checkpoint. */
  testAcc: number;
  step: number;
  /** The chosen checkpoint (of the run trained with only the test environment held out). */
  record: ResultRecord;
}

export interface SelectionMethod {
  /** Plugin name. */
  readonly name: string;
  /** DomainBed's wording, used as the table title. */
  readonly title: string;
  /**
   * Scores the records of one hyperparameter draw (all runs of the group sharing `config.seed`,
   * every checkpoint); null when this method cannot score them (for example a run is missing).
   */
  runAcc(records: readonly ResultRecord[], testEnv: number): Choice | null;
}

/** Records of runs trained with exactly one test environment (DomainBed's `get_test_records`). */
export function singleTestEnvRecords(records: readonly ResultRecord[]): ResultRecord[] {
  return records.filter((r) => r.config.dataset.testEnvs.length === 1);
}

/** Number of environments a record reports (`env0_out_acc`, `env1_out_acc`, ... without gaps). */
export function countEnvironments(record: ResultRecord): number {
  let n = 0;
  while (typeof record[`env${n}_out_acc`] === 'number') n++;
  return n;
}

export function accOf(record: ResultRecord, env: number, split: 'in' | 'out'): number {
  const v = record[`env${env}_${split}_acc`];
  if (typeof v !== 'number') throw new Error(`record of step ${record.step} has no env${env}_${split}_acc`);
  return v;
}

/**
 * The first choice with the largest `valAcc` (Python's `max`, which DomainBed's `argmax` uses, keeps
 * the first of equal maxima).
 */
export function argmaxVal<T extends { valAcc: number }>(items: readonly T[]): T | null {
  let best: T | null = null;
  for (const it of items) if (best === null || it.valAcc > best.valAcc) best = it;
  return best;
}

export interface DrawScore {
  /** The hyperparameter draw. */
  seed: number;
  choice: Choice;
  records: ResultRecord[];
}

/**
 * Every hyperparameter draw of a group with its score, best first (DomainBed's `hparams_accs`). Draws
 * the method cannot score are left out. Ties keep DomainBed's order: its ascending stable sort, then
 * reversed, puts the later of two equal draws first.
 */
export function hparamsAccs(method: SelectionMethod, records: readonly ResultRecord[], testEnv: number): DrawScore[] {
  const bySeed = new Map<number, ResultRecord[]>();
  for (const r of records) {
    const list = bySeed.get(r.config.seed);
    if (list) list.push(r);
    else bySeed.set(r.config.seed, [r]);
  }
  const scored: DrawScore[] = [];
  for (const [seed, recs] of bySeed) {
    const choice = method.runAcc(recs, testEnv);
    if (choice) scored.push({ seed, choice, records: recs });
  }
  const ascending = scored
    .map((s, i) => ({ s, i }))
    .sort((a, b) => a.s.choice.valAcc - b.s.choice.valAcc || a.i - b.i)
    .map((x) => x.s);
  return ascending.reverse();
}

/** The group's selected result (DomainBed's `sweep_acc`): the best draw's choice, or null. */
export function sweepAcc(method: SelectionMethod, records: readonly ResultRecord[], testEnv: number): (Choice & { seed: number }) | null {
  const best = hparamsAccs(method, records, testEnv)[0];
  return best ? { ...best.choice, seed: best.seed } : null;
}

export interface RecordGroup<K> {
  key: K;
  testEnv: number;
  trialSeed: number;
  records: ResultRecord[];
}

/**
 * Groups records by (key, test environment, trial), as DomainBed's `get_grouped_records` groups by
 * (trial, dataset, algorithm, test env). A run with two test environments belongs to the groups of
 * both (leave-one-domain-out needs it there).
 */
export function groupRecords<K>(records: readonly ResultRecord[], keyOf: (r: ResultRecord) => K, keyId: (k: K) => string): RecordGroup<K>[] {
  const groups = new Map<string, RecordGroup<K>>();
  for (const r of records) {
    const key = keyOf(r);
    for (const testEnv of r.config.dataset.testEnvs) {
      const id = JSON.stringify([keyId(key), testEnv, r.config.trialSeed]);
      let g = groups.get(id);
      if (!g) {
        g = { key, testEnv, trialSeed: r.config.trialSeed, records: [] };
        groups.set(id, g);
      }
      g.records.push(r);
    }
  }
  return [...groups.values()];
}

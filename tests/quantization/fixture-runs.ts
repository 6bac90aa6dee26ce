// Helpers of the quantization tests: tiny runs on the fixture plugin's FixtureStripes dataset.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runExperiment, type RunResult } from '@qtdog/core';
import { builtinModules } from '@qtdog/cli';
import { ROOT, tempDir } from '../helpers';

/** Absolute, so the configs written to temporary folders (and restoring their runs) need no base folder. */
export const FIXTURE_PLUGIN = join(ROOT, 'tests/fixtures/external-plugin/index.mjs');

export interface FixtureRunSpec {
  quantizer?: Record<string, unknown>;
  algorithm?: Record<string, unknown>;
  hooks?: Array<Record<string, unknown>>;
  steps?: number;
  checkpointFreq?: number;
  workers?: number | 'auto';
  trialSeed?: number;
}

/** Writes a config for a tiny FixtureStripes + MNIST_CNN run and returns its path. */
export function fixtureRunConfig(spec: FixtureRunSpec = {}): string {
  const config = {
    trialSeed: spec.trialSeed ?? 0,
    plugins: [FIXTURE_PLUGIN],
    dataset: { type: 'FixtureStripes', testEnvs: [2], size: 60 },
    network: { type: 'MNIST_CNN' },
    algorithm: spec.algorithm ?? { type: 'ERM', lr: 0.003, batchSize: 8 },
    ...(spec.quantizer ? { quantizer: spec.quantizer } : {}),
    hooks: spec.hooks ?? [],
    train: { steps: spec.steps ?? 8, checkpointFreq: spec.checkpointFreq ?? 4, backend: 'wasm', evalBatchSize: 32, workers: spec.workers ?? 1 },
  };
  const file = join(tempDir('qtdog-qconfig-'), 'run.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** Trains a tiny run into a fresh folder. */
export async function fixtureRun(spec: FixtureRunSpec = {}, extraModules: ReturnType<typeof builtinModules> = []): Promise<RunResult> {
  return runExperiment(fixtureRunConfig(spec), {
    modules: [...builtinModules(), ...extraModules],
    moduleSpecifiers: spec.workers === 1 || spec.workers === undefined ? undefined : ['@qtdog/datasets', '@qtdog/networks', '@qtdog/algorithms', '@qtdog/quantizers'],
    outDir: tempDir('qtdog-qrun-'),
  });
}

import { pluginModule } from '@qtdog/core';
import { compressionPlugin } from './evaluators/compression.js';
import { flatnessPlugin } from './evaluators/flatness.js';
import { localLauncherPlugin } from './launchers/local.js';
import { slurmLauncherPlugin } from './launchers/slurm.js';
import { leaveOneOutPlugin } from './selection/leave-one-out.js';
import { oraclePlugin } from './selection/oracle.js';
import { trainingDomainPlugin } from './selection/training-domain.js';

/** The ContainerModule contributing this package's selection, evaluator and launcher plugins. */
export const evaluationModule = pluginModule('@qtdog/evaluation', [
  trainingDomainPlugin,
  leaveOneOutPlugin,
  oraclePlugin,
  flatnessPlugin,
  compressionPlugin,
  localLauncherPlugin,
  slurmLauncherPlugin,
]);

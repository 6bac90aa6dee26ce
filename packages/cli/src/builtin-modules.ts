import type { ContainerModule } from 'inversify';
import { algorithmsModule } from '@qtdog/algorithms';
import { datasetsModule } from '@qtdog/datasets';
import { deployModule } from '@qtdog/deploy';
import { evaluationModule } from '@qtdog/evaluation';
import { networksModule } from '@qtdog/networks';
import { quantizersModule } from '@qtdog/quantizers';

/** The qtdog packages the CLI ships with; data-parallel worker threads load them by these names. */
export const BUILTIN_MODULE_PACKAGES = ['@qtdog/datasets', '@qtdog/networks', '@qtdog/algorithms', '@qtdog/quantizers', '@qtdog/evaluation', '@qtdog/deploy'];

/** Their ContainerModules, loaded explicitly (never through import side effects). */
export function builtinModules(): ContainerModule[] {
  return [datasetsModule, networksModule, algorithmsModule, quantizersModule, evaluationModule, deployModule];
}

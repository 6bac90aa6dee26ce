import type { ContainerModule } from 'inversify';
import { algorithmsModule } from '@qtdog/algorithms';
import { datasetsModule } from '@qtdog/datasets';
import { networksModule } from '@qtdog/networks';
import { quantizersModule } from '@qtdog/quantizers';

/** The ContainerModules of the qtdog packages the CLI ships with, loaded explicitly. */
export function builtinModules(): ContainerModule[] {
  return [datasetsModule, networksModule, algorithmsModule, quantizersModule];
}

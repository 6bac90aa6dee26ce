import { pluginModule } from '@qtdog/core';
import { coralPlugin } from './coral.js';
import { dannPlugin } from './dann.js';
import { ermPlugin } from './erm.js';
import { fishPlugin } from './fish.js';
import { groupDroPlugin } from './group-dro.js';
import { irmPlugin } from './irm.js';
import { mixupPlugin } from './mixup.js';
import { mmdPlugin } from './mmd.js';
import { samPlugin } from './sam.js';
import { swadPlugin } from './swad.js';
import { vrexPlugin } from './vrex.js';

/** Every plugin of this package: the algorithms, and SWAD (a training hook). */
export const algorithmPlugins = [
  ermPlugin,
  coralPlugin,
  mmdPlugin,
  irmPlugin,
  vrexPlugin,
  groupDroPlugin,
  mixupPlugin,
  dannPlugin,
  fishPlugin,
  samPlugin,
  swadPlugin,
];

/** The ContainerModule contributing this package's plugins. */
export const algorithmsModule = pluginModule('@qtdog/algorithms', algorithmPlugins);

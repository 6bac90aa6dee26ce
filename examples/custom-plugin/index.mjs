// qtdog-example-custom-plugin: a third-party plugin package in plain ESM JavaScript (no build step).
// A config loads it with `plugins: [./index.mjs]` (a path, relative to the config) or, once
// installed, `plugins: [qtdog-example-custom-plugin]` (a package name). qtdog imports the module and
// uses every export that is an inversify ContainerModule, so export exactly one: the plugins it
// lists join the built-in ones and configs name them by `type:`.
import { pluginModule } from '@qtdog/core';
import { labelSmoothingErmPlugin } from './label-smoothing-erm.mjs';
import { sevenSegmentDigitsPlugin } from './seven-segment-digits.mjs';

// The plugin definitions stay importable on their own (for tests, or to wrap them in another module).
export { labelSmoothingErmPlugin, LabelSmoothingERM, labelSmoothedCrossEntropy } from './label-smoothing-erm.mjs';
export { sevenSegmentDigitsPlugin, generateDomain } from './seven-segment-digits.mjs';

// The first argument names this package in `qtdog list` and in duplicate-name errors.
export const customPluginModule = pluginModule('qtdog-example-custom-plugin', [labelSmoothingErmPlugin, sevenSegmentDigitsPlugin]);

/**
 * DI tokens. Each token shares its name with the interface it stands for (a Theia habit), so
 * `@inject(Algorithm) algorithm: Algorithm` reads naturally.
 */
export const PluginContribution = Symbol.for('qtdog.PluginContribution');
export const PluginRegistryToken = Symbol.for('qtdog.PluginRegistry');
export const RunConfigToken = Symbol.for('qtdog.RunConfig');
export const DatasetToken = Symbol.for('qtdog.Dataset');
export const NetworkToken = Symbol.for('qtdog.Network');
export const AlgorithmToken = Symbol.for('qtdog.Algorithm');
export const QuantizerToken = Symbol.for('qtdog.Quantizer');
export const HooksToken = Symbol.for('qtdog.Hooks');
export const EvaluatorsToken = Symbol.for('qtdog.Evaluators');
export const RunContextToken = Symbol.for('qtdog.RunContext');

// @qtdog/deploy/runtime: run an exported model from Node without the trainer.
export * from './qtdog-model.js';
export * from './image-input.js';
export * from './model-input-error.js';
export * from './tensor-layout.js';
export { parseMetadataProps, type ModelMetadata } from '../export/model-metadata.js';
export { decodeOnnxModel, type OnnxModelSummary } from '../onnx/decode-model.js';

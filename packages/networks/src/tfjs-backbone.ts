import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError, DataError, ParamSet, Rng, seedHash, type Network, type ParamRole, type WeightLayer, type WeightTransform } from '@qtdog/core';
import { fileSystemIOHandler, modelJsonPath } from './file-io-handler.js';
import { uniformFanIn, uniqueModelId } from './init.js';
import { DropoutStream, linearClassifier } from './linear-head.js';

export interface TfjsBackboneOptions {
  /** `model.json` of a TensorFlow.js layers model, or the folder holding it. */
  model: string;
  /** Layer whose output becomes the features (default: the model's output). */
  cutLayer?: string;
  /** BatchNormalization layers use their moving statistics in training too and do not update them. */
  freezeBN: boolean;
  /** Dropout on the features while training. */
  dropout: number;
}

/** Minimal view of tfjs-layers internals we rely on: a layer's weights as LayerVariables. */
interface LayerVariableLike {
  readonly name: string;
  readonly originalName: string;
  readonly trainable: boolean;
  read(): tf.Variable;
  dispose(): void;
}

/** The weight short name ("kernel", "moving_mean") of a layer variable ("block1_conv1/kernel"). */
const shortName = (v: LayerVariableLike) => v.originalName.split('/').pop()!;

function roleOf(layer: tfl.layers.Layer, weight: string): ParamRole {
  const cls = layer.getClassName();
  if (weight === 'bias') return 'bias';
  if (cls === 'BatchNormalization') return 'norm';
  if (weight === 'kernel' && cls === 'Conv2D') return 'conv';
  if (weight === 'kernel' && cls === 'Dense') return 'dense';
  return 'other';
}

/**
 * A featurizer from a TensorFlow.js layers model (for example ImageNet weights converted from Keras
 * with tensorflowjs_converter), cut at a named layer; 4-D outputs are average-pooled to features.
 * Then a linear classifier of ours.
 *
 * The layers' variables are the network's ParamSet entries (`featurizer.<layer>.<weight>`), so
 * every algorithm trains them and the optimizer updates them in place. Conv2D and Dense kernels
 * before the cut are in `layers`: their `read()` is routed through `weightTransform` during our
 * forward pass, which is how a quantizer reaches them (depthwise kernels are not listed).
 * Input: NHWC, as the dataset gives it (ImageFolderDomains normalises with ImageNet mean/std); a
 * model trained with other preprocessing needs it built in.
 */
export class TfjsBackbone implements Network {
  readonly name = 'TfjsBackbone';
  readonly params = new ParamSet();
  readonly layers: WeightLayer[] = [];
  readonly featureDim: number;
  weightTransform: WeightTransform | null = null;
  private readonly featurizer: tfl.LayersModel;

  /** The featurizer's layers up to the cut, by name and TF.js class (exporters check what they can translate). */
  get featurizerLayers(): Array<{ name: string; className: string }> {
    return this.featurizer.layers.map((l) => ({ name: l.name, className: l.getClassName() }));
  }
  private readonly pool: boolean;
  private readonly dropoutStream?: DropoutStream;
  /** Set during our forward pass: the training flag kernels are read with, or null outside it. */
  private forwardTraining: boolean | null = null;

  private constructor(
    private readonly loaded: tfl.LayersModel,
    inputShape: readonly [number, number, number],
    readonly numClasses: number,
    seed: number,
    private readonly o: TfjsBackboneOptions,
    where: string,
  ) {
    const names = loaded.layers.map((l) => l.name);
    let output = loaded.outputs[0]!;
    if (o.cutLayer !== undefined) {
      if (!names.includes(o.cutLayer)) {
        throw new ConfigError(`${where}: cutLayer '${o.cutLayer}' is not a layer of the model; its layers are: ${names.join(', ')}`);
      }
      const out = loaded.getLayer(o.cutLayer).output;
      if (Array.isArray(out)) throw new ConfigError(`${where}: layer '${o.cutLayer}' has ${out.length} outputs; cut at a layer with one`);
      output = out;
    } else if (loaded.outputs.length !== 1) {
      throw new ConfigError(`${where}: the model has ${loaded.outputs.length} outputs; name a cutLayer`);
    }
    const modelIn = loaded.inputs[0]!.shape;
    const fits = modelIn.length === 4 && modelIn.slice(1).every((d, i) => d === null || d === inputShape[i]);
    if (!fits) {
      throw new ConfigError(`${where}: the model takes inputs of shape [${modelIn.map((d) => d ?? 'any').join(', ')}], the dataset gives [batch, ${inputShape.join(', ')}]`);
    }
    this.featurizer = tfl.model({ inputs: loaded.inputs, outputs: output });
    const outShape = output.shape;
    if (outShape.slice(1).some((d) => d === null)) throw new ConfigError(`${where}: the cut layer's output shape [${outShape}] is not fully known`);
    if (outShape.length !== 2 && outShape.length !== 4) throw new ConfigError(`${where}: the cut layer's output has rank ${outShape.length}; features need rank 2, or 4 (average-pooled)`);
    this.pool = outShape.length === 4;
    this.featureDim = outShape[outShape.length - 1] as number;

    for (const layer of this.featurizer.layers) {
      for (const v of layer.weights as unknown as LayerVariableLike[]) {
        const weight = shortName(v);
        const name = `featurizer.${layer.name}.${weight}`;
        const role = roleOf(layer, weight);
        this.params.add({ name, layer: `featurizer.${layer.name}`, role, variable: v.read(), trainable: v.trainable });
        if (role === 'conv' || role === 'dense') this.routeThroughTransform(v, { name: `featurizer.${layer.name}`, type: role, weight: name });
      }
      if (o.freezeBN && layer.getClassName() === 'BatchNormalization') {
        const call = layer.call.bind(layer);
        layer.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
      }
    }
    const id = uniqueModelId(this.name);
    if (this.o.dropout > 0) this.dropoutStream = new DropoutStream(this.params, seed, `${id}/dropout.draws`);
    const rng = new Rng(seed);
    tf.tidy(() => {
      const f = this.featureDim;
      const add = (name: string, role: ParamRole, value: tf.Tensor) => this.params.add({ name, layer: 'classifier', role, variable: tf.variable(value, true, `${id}/${name}`) });
      add('classifier.weight', 'dense', uniformFanIn(rng, [f, numClasses], f));
      add('classifier.bias', 'bias', uniformFanIn(rng, [numClasses], f));
    });
    this.layers.push({ name: 'classifier', type: 'dense', weight: 'classifier.weight' });
  }

  /** Loads `model.json` (file or folder) from disk; `where` names the config section in errors. */
  static async load(inputShape: readonly [number, number, number], numClasses: number, seed: number, o: TfjsBackboneOptions, where = 'network'): Promise<TfjsBackbone> {
    let loaded: tfl.LayersModel;
    try {
      loaded = await tfl.loadLayersModel(fileSystemIOHandler(o.model));
    } catch (e) {
      if (e instanceof DataError) throw e;
      throw new DataError(`${modelJsonPath(o.model)}: cannot build the layers model (${(e as Error).message})`, { cause: e });
    }
    try {
      return new TfjsBackbone(loaded, inputShape, numClasses, seed, o, where);
    } catch (e) {
      loaded.dispose();
      throw e;
    }
  }

  /** Makes the layer's own `read()` return the transformed kernel while our forward pass runs. */
  private routeThroughTransform(v: LayerVariableLike, layer: WeightLayer): void {
    const raw = v.read();
    this.layers.push(layer);
    (v as { read: () => tf.Tensor }).read = () => {
      if (this.forwardTraining === null || !this.weightTransform) return raw;
      return this.weightTransform(layer, raw, this.forwardTraining);
    };
  }

  featurize(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    return tf.tidy(() => {
      this.forwardTraining = training;
      let h: tf.Tensor;
      try {
        h = this.featurizer.apply(x, { training }) as tf.Tensor;
      } finally {
        this.forwardTraining = null;
      }
      let f = (this.pool ? tf.mean(h, [1, 2]) : h) as tf.Tensor2D;
      if (training && this.dropoutStream) f = this.dropoutStream.apply(f, this.o.dropout);
      return f;
    });
  }

  classify(features: tf.Tensor2D, training: boolean): tf.Tensor2D {
    return linearClassifier(this, features, training);
  }

  predict(x: tf.Tensor4D, training = false): tf.Tensor2D {
    return tf.tidy(() => this.classify(this.featurize(x, training), training));
  }

  dispose(): void {
    // The cut model's variables are in the ParamSet (disposed with it); the layers past the cut
    // are disposed here, each variable once.
    const ours = new Set(this.params.all().map((p) => p.variable));
    for (const v of this.loaded.weights as unknown as LayerVariableLike[]) {
      if (!ours.has(v.read()) && !v.read().isDisposed) v.dispose();
    }
    this.params.dispose();
  }
}
